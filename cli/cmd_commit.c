/* kiln commit: a container's upper dir becomes a layer on top of its
 * image's, in a new image (the container keeps running). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "build/build.h"
#include "cli/container.h"

static const char commit_opts[] =
	"  -a, --author string    Set the author for the image committed\n"
	"  -c, --change list      Apply Containerfile instructions to the created image\n"
	"  -m, --message string   Commit message\n"
	"  -p, --pause            Pause container during commit (default true)\n"
	"  -q, --quiet            Suppress output\n"
	"      --squash           Squash newly built layers into a single new layer (not "
	"supported yet)\n";

static bool env_has(json_t *env, const char *key, size_t klen)
{
	size_t i;
	json_t *v;
	json_array_foreach(env, i, v) {
		const char *kv = json_string_value(v);
		if (kv && !strncmp(kv, key, klen) && (kv[klen] == '=' || !kv[klen]))
			return true;
	}
	return false;
}

/* As docker commit: the container's Env (the image's plus -e) and -u go
 * into the image; the variables the engine adds at run time
 * (HOSTNAME, container, TERM, HOME, PATH) only if the image had them. */
static void carry_run_config(json_t *cfg, const struct run_plan *p)
{
	static const char *const engine[] = { "HOSTNAME", "container", "TERM", "HOME", "PATH" };
	json_t *c = json_object_get(cfg, "config");
	if (!json_is_object(c)) {
		c = json_object();
		json_object_set_new(cfg, "config", c);
	}
	json_t *old = json_object_get(c, "Env"), *env = json_array();
	for (size_t i = 0; p->env && p->env[i]; i++) {
		const char *eq = strchr(p->env[i], '=');
		size_t kl = eq ? (size_t)(eq - p->env[i]) : strlen(p->env[i]);
		bool skip = false;
		for (size_t k = 0; k < ARRAY_SIZE(engine); k++)
			if (strlen(engine[k]) == kl && !strncmp(engine[k], p->env[i], kl))
				skip = !json_is_array(old) || !env_has(old, p->env[i], kl);
		if (!skip)
			json_array_append_new(env, json_string(p->env[i]));
	}
	json_object_set_new(c, "Env", env);
	if (p->user && *p->user)
		json_object_set_new(c, "User", json_string(p->user));
}

/* The new config: the image's, the new layer's DiffID, a history entry as
 * docker commit writes it, author, changes. */
static int commit_config(const struct container_info *ctr, const char *raw_cfg,
			 const char *diff_id, const char *author, const char *message,
			 char *const *changes, char **out, struct kerror *e)
{
	_cleanup_json_ json_t *cfg = json_loads(raw_cfg, 0, NULL);
	struct run_plan p = { 0 };
	struct timespec ts;
	char created[64];
	struct buf by = { 0 };
	json_t *rootfs, *ids, *hist, *ent;
	int r;
	if (!json_is_object(cfg))
		return kerror_set(e, EINVAL, "the image's config is not a JSON object");
	clock_gettime(CLOCK_REALTIME, &ts);
	format_rfc3339(ts.tv_sec, ts.tv_nsec, created, sizeof(created));
	rootfs = json_object_get(cfg, "rootfs");
	if (!json_is_object(rootfs)) {
		rootfs = json_pack("{s:s, s:[]}", "type", "layers", "diff_ids");
		json_object_set_new(cfg, "rootfs", rootfs);
	}
	ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(ids)) {
		ids = json_array();
		json_object_set_new(rootfs, "diff_ids", ids);
	}
	json_array_append_new(ids, json_string(diff_id));
	if (run_plan_from_json(ctr->plan, &p, NULL) == 0) {
		for (size_t i = 0; p.argv && p.argv[i]; i++)
			buf_printf(&by, "%s%s", i ? " " : "", p.argv[i]);
		carry_run_config(cfg, &p);
	}
	run_plan_release(&p);
	_cleanup_free_ char *created_by = buf_steal(&by);
	ent = json_pack("{s:s, s:s}", "created", created, "created_by", created_by);
	if (author)
		json_object_set_new(ent, "author", json_string(author));
	if (message)
		json_object_set_new(ent, "comment", json_string(message));
	hist = json_object_get(cfg, "history");
	if (!json_is_array(hist)) {
		hist = json_array();
		json_object_set_new(cfg, "history", hist);
	}
	json_array_append_new(hist, ent);
	json_object_set_new(cfg, "created", json_string(created));
	if (author)
		json_object_set_new(cfg, "author", json_string(author));
	else
		json_object_del(cfg, "author");
	r = build_apply_changes(cfg, changes, CHANGE_ALLOWED_IMPORT, e);
	if (r == 0)
		*out = json_dump_compact(cfg);
	return r;
}

static int do_commit(struct cli *c, const char *what, const char *name, const char *author,
		     const char *message, char *const *changes, char id[DIGEST_HEX_LEN + 1],
		     struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	_cleanup_image_info_ struct image_info *img = NULL;
	_cleanup_free_ char *fullname = NULL, *raw = NULL, *config = NULL, *cfg_digest = NULL;
	_cleanup_free_ struct staged_layer *layers = NULL;
	_cleanup_strv_ char **lowers = NULL;
	struct store_tmp t = { 0 };
	struct staged_layer top = { 0 };
	struct store *s;
	size_t len, n;
	int r;

	if (name) {
		_cleanup_ref_ struct image_ref *ref = NULL;
		r = ref_parse_local(name, &ref, e);
		if (r < 0)
			return r;
		if (ref->digest)
			return kerror_set(e, EINVAL, "%s: a committed image cannot be named by digest",
					  name);
		fullname = ref_string(ref);
	}
	r = container_get(c, what, &ctr, e);
	if (r == 0)
		r = cli_store(c, &s, e);
	if (r == 0)
		r = store_image_lookup(s, ctr->image_id, &img, e);
	if (r < 0)
		return r;
	cfg_digest = xasprintf("sha256:%s", img->id);
	r = store_blob_get(s, cfg_digest, 4 * 1024 * 1024, &raw, &len, e);
	if (r < 0)
		return kerror_wrap(e, "image %.12s", img->id);
	n = strv_len(img->layers);
	layers = xcalloc(n + 1, sizeof(*layers));
	for (size_t i = 0; i < n; i++) {
		struct layer_info li = { 0 };
		strv_push(&lowers, store_layer_diff_path(s, img->layers[i]));
		r = store_layer_get(s, img->layers[i], &li, e);
		if (r < 0)
			return r;
		snprintf(layers[i].diff_id, sizeof(layers[i].diff_id), "%s", li.diff_id);
		snprintf(layers[i].chain_id, sizeof(layers[i].chain_id), "sha256:%s",
			 img->layers[i]);
		layers[i].size = li.size;
		layer_info_release(&li);
	}
	r = store_tmp_create(s, &t, e);
	if (r < 0)
		return r;
	{
		_cleanup_free_ char *ldir = xasprintf("%s/layer", t.path);
		_cleanup_free_ char *diff = xasprintf("%s/diff", ldir);
		if (mkdir(ldir, 0700) < 0)
			r = kerror_sys(e, errno, "creating \"%s\"", ldir);
		if (r == 0)
			r = run_upper_copy(s, ctr->id, diff, e);
		if (r == 0)
			r = store_stage_layer_dir(s, ldir, lowers, n ? layers[n - 1].chain_id : NULL,
						  &top, e);
	}
	if (r == 0)
		r = commit_config(ctr, raw, top.diff_id, author, message, changes, &config, e);
	if (r == 0) {
		char *names[] = { fullname, NULL };
		layers[n] = top;
		struct image_commit ic = {
			.config = config,
			.config_len = strlen(config),
			.layers = layers,
			.n_layers = n + 1,
			.names = fullname ? names : NULL,
		};
		r = store_image_commit(s, &ic, id, e);
		if (r < 0)
			kerror_wrap(e, "committing container %s", ctr->name);
	}
	staged_layer_release(&top);
	store_tmp_release(&t);
	return r;
}

int cmd_commit(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "author", required_argument, NULL, 'a' }, { "change", required_argument, NULL, 'c' },
		{ "message", required_argument, NULL, 'm' }, { "pause", optional_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },	     { "squash", no_argument, NULL, 'S' },
		{ "format", required_argument, NULL, 'f' },  { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_strv_ char **changes = NULL;
	const char *author = NULL, *message = NULL;
	char id[DIGEST_HEX_LEN + 1];
	bool quiet = false;
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "a:c:m:pqf:h", opts, e)) != -1) {
		switch (opt) {
		case 'a': author = optarg; break;
		case 'c': strv_push(&changes, xstrdup(optarg)); break;
		case 'm': message = optarg; break;
		case 'p': break; /* the upper dir is copied; nothing to pause for */
		case 'q': quiet = true; break;
		case 'S': return kerror_set(e, ENOTSUP, "commit --squash is not supported yet");
		case 'f':
			if (strcmp(optarg, "oci") && strcmp(optarg, "docker"))
				return kerror_set(e, EINVAL, "unrecognized image type \"%s\"", optarg);
			break;
		case 'h': return cli_usage("kiln commit [options] CONTAINER [IMAGE]", commit_opts);
		default: return -EINVAL;
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return kerror_set(e, EINVAL, "\"kiln commit\" requires 1 or 2 arguments");
	{
		/* Check the changes before copying anything. */
		_cleanup_free_ char *probe = NULL;
		struct container_info fake = { .plan = (char *)"{}" };
		r = commit_config(&fake, "{}", "sha256:0", NULL, NULL, changes, &probe, e);
		if (r < 0)
			return r;
	}
	r = do_commit(c, argv[optind], argc - optind == 2 ? argv[optind + 1] : NULL, author,
		      message, changes, id, e);
	if (r < 0)
		return r;
	{
		struct store *s;
		_cleanup_kerror_ struct kerror e2 = { 0 };
		_cleanup_container_info_ struct container_info *ctr = NULL;
		if (cli_store(c, &s, &e2) == 0 && container_get(c, argv[optind], &ctr, &e2) == 0) {
			_cleanup_free_ char *img = xasprintf("sha256:%s", id);
			store_container_event(s, ctr, "commit", "imageID", img);
		}
	}
	if (!quiet)
		printf("sha256:%s\n", id);
	return 0;
}
