/* kiln inspect / kiln image inspect: Docker-shaped JSON, or --format. */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/container.h"

#define CONFIG_MAX (4 * 1024 * 1024)

static json_t *copy_or(json_t *v, json_t *dflt)
{
	if (v && !json_is_null(v)) {
		json_decref(dflt);
		return json_deep_copy(v);
	}
	return dflt;
}

/* The image's execution defaults in Docker's container.Config shape. */
static json_t *docker_config(json_t *cfg)
{
	json_t *c = json_object();
	const char *user = json_str(cfg, "User");
	json_object_set_new(c, "Hostname", json_string(""));
	json_object_set_new(c, "Domainname", json_string(""));
	json_object_set_new(c, "User", json_string(user ? user : ""));
	json_object_set_new(c, "AttachStdin", json_false());
	json_object_set_new(c, "AttachStdout", json_false());
	json_object_set_new(c, "AttachStderr", json_false());
	if (json_object_get(cfg, "ExposedPorts"))
		json_object_set_new(c, "ExposedPorts", copy_or(json_object_get(cfg, "ExposedPorts"), json_object()));
	json_object_set_new(c, "Tty", json_false());
	json_object_set_new(c, "OpenStdin", json_false());
	json_object_set_new(c, "StdinOnce", json_false());
	json_object_set_new(c, "Env", copy_or(json_object_get(cfg, "Env"), json_null()));
	json_object_set_new(c, "Cmd", copy_or(json_object_get(cfg, "Cmd"), json_null()));
	if (json_object_get(cfg, "Healthcheck"))
		json_object_set_new(c, "Healthcheck", copy_or(json_object_get(cfg, "Healthcheck"), json_null()));
	json_object_set_new(c, "Image", json_string(""));
	json_object_set_new(c, "Volumes", copy_or(json_object_get(cfg, "Volumes"), json_null()));
	const char *wd = json_str(cfg, "WorkingDir");
	json_object_set_new(c, "WorkingDir", json_string(wd ? wd : ""));
	json_object_set_new(c, "Entrypoint", copy_or(json_object_get(cfg, "Entrypoint"), json_null()));
	json_object_set_new(c, "OnBuild", copy_or(json_object_get(cfg, "OnBuild"), json_null()));
	json_object_set_new(c, "Labels", copy_or(json_object_get(cfg, "Labels"), json_null()));
	if (json_str(cfg, "StopSignal"))
		json_object_set_new(c, "StopSignal", json_string(json_str(cfg, "StopSignal")));
	if (json_object_get(cfg, "Shell"))
		json_object_set_new(c, "Shell", copy_or(json_object_get(cfg, "Shell"), json_null()));
	return c;
}

static const char *image_comment(json_t *cfg)
{
	json_t *hist = json_object_get(cfg, "history");
	const char *c = json_str(cfg, "comment");
	if (c)
		return c;
	if (json_is_array(hist) && json_array_size(hist) > 0)
		c = json_str(json_array_get(hist, json_array_size(hist) - 1), "comment");
	return c ? c : "";
}

int image_inspect_json(struct cli *c, const struct image_info *i, json_t **out, struct kerror *e)
{
	_cleanup_config_ struct image_config *cfg = NULL;
	_cleanup_free_ char *raw = NULL;
	char digest[DIGEST_STR_LEN + 1], created[64];
	struct store *s;
	size_t len;
	json_t *o, *tags, *layers, *gd;
	int r;

	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	snprintf(digest, sizeof(digest), "sha256:%s", i->id);
	r = store_blob_get(s, digest, CONFIG_MAX, &raw, &len, e);
	if (r == 0)
		r = config_parse(raw, len, &cfg, e);
	if (r < 0)
		return kerror_wrap(e, "image %.12s", i->id);

	tags = json_array();
	for (size_t k = 0; i->names[k]; k++) {
		_cleanup_ref_ struct image_ref *ref = NULL;
		if (ref_parse(i->names[k], &ref, NULL) == 0) {
			_cleanup_free_ char *fam = ref_familiar(ref);
			json_array_append_new(tags, json_string(fam));
		}
	}
	layers = json_from_strv(i->diff_ids);
	format_rfc3339(i->created, (long)i->created_nsec, created, sizeof(created));

	gd = json_object();
	if (i->top_layer) {
		size_t n = strv_len(i->layers);
		struct buf lower = { 0 };
		for (size_t k = n - 1; k-- > 0;) {
			_cleanup_free_ char *p = store_layer_diff_path(s, i->layers[k]);
			buf_printf(&lower, "%s%s", lower.len ? ":" : "", p);
		}
		_cleanup_free_ char *upper = store_layer_diff_path(s, i->top_layer);
		_cleanup_free_ char *merged = xasprintf("%s/layers/%s/merged", store_root(s), i->top_layer);
		_cleanup_free_ char *work = xasprintf("%s/layers/%s/work", store_root(s), i->top_layer);
		if (lower.len)
			json_object_set_new(gd, "LowerDir", json_string(lower.data));
		json_object_set_new(gd, "MergedDir", json_string(merged));
		json_object_set_new(gd, "UpperDir", json_string(upper));
		json_object_set_new(gd, "WorkDir", json_string(work));
		buf_release(&lower);
	}

	const char *author = json_str(cfg->json, "author");
	o = json_object();
	json_object_set_new(o, "Id", json_string(digest));
	json_object_set_new(o, "RepoTags", tags);
	json_t *digests = json_array();
	for (size_t k = 0; i->digests && i->digests[k]; k++) {
		_cleanup_free_ char *fam = image_familiar(i->digests[k]);
		json_array_append_new(digests, json_string(fam));
	}
	json_object_set_new(o, "RepoDigests", digests);
	json_object_set_new(o, "Parent", json_string(""));
	json_object_set_new(o, "Comment", json_string(image_comment(cfg->json)));
	json_object_set_new(o, "Created", json_string(created));
	json_object_set_new(o, "DockerVersion", json_string(json_str(cfg->json, "docker_version") ?: ""));
	json_object_set_new(o, "Author", json_string(author ? author : ""));
	json_object_set_new(o, "Config", docker_config(config_exec(cfg)));
	json_object_set_new(o, "Architecture", json_string(config_architecture(cfg) ?: ""));
	if (json_str(cfg->json, "variant"))
		json_object_set_new(o, "Variant", json_string(json_str(cfg->json, "variant")));
	json_object_set_new(o, "Os", json_string(config_os(cfg) ?: ""));
	json_object_set_new(o, "Size", json_integer(i->size));
	json_object_set_new(o, "GraphDriver", json_pack("{s:o, s:s}", "Data", gd, "Name", store_driver(s)));
	json_object_set_new(o, "RootFS", json_pack("{s:s, s:o}", "Type", "layers", "Layers", layers));
	char stored[64];
	format_rfc3339(i->stored, 0, stored, sizeof(stored));
	json_object_set_new(o, "Metadata", json_pack("{s:s}", "LastTagTime", stored));
	*out = o;
	return 0;
}

static int inspect_common(struct cli *c, int argc, char **argv, const char *what_missing,
			  struct kerror *e)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "type", required_argument, NULL, 't' },
		{ "size", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	_cleanup_json_ json_t *all = json_array();
	struct store *s;
	int opt, r, failed = 0;
	struct buf errs = { 0 };

	while ((opt = cli_getopt(argc, argv, "f:sh", opts, e)) != -1) {
		switch (opt) {
		case 'f': format = optarg; break;
		case 's': break;
		case 't':
			if (!strcmp(optarg, "container"))
				what_missing = "container";
			else if (strcmp(optarg, "image") != 0)
				return kerror_set(e, EINVAL, "\"%s\" is not a valid value for --type",
						  optarg);
			break;
		case 'h':
			return cli_usage("kiln inspect [OPTIONS] NAME|ID [NAME|ID...]",
					 "  -f, --format string   Format output using a Go template, or "
					 "\"json\"\n      --type string     Only inspect objects of "
					 "this type (image)\n");
		default: return -EINVAL;
		}
	}
	if (argc - optind < 1)
		return kerror_set(e, EINVAL, "\"kiln inspect\" requires at least 1 argument");
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	for (int i = optind; i < argc; i++) {
		_cleanup_image_info_ struct image_info *img = NULL;
		struct kerror one = { 0 };
		json_t *j;
		int lr = store_image_lookup(s, argv[i], &img, &one);
		/* Not an image: maybe a container (as `docker inspect`). */
		if (lr == -ENOENT && strcmp(what_missing, "image") != 0) {
			kerror_release(&one);
			lr = container_inspect_json(c, argv[i], &j, &one);
			if (lr == 0) {
				json_array_append_new(all, j);
				continue;
			}
			if (lr == -ENOENT)
				kerror_set(&one, ENOENT, "No such image");
		}
		if (lr < 0 || image_inspect_json(c, img, &j, &one) < 0) {
			if (one.code == ENOENT && strstr(one.msg, "No such image"))
				buf_printf(&errs, "Error: No such %s: %s\n", what_missing, argv[i]);
			else
				buf_printf(&errs, "Error: %s\n", one.msg);
			kerror_release(&one);
			failed = 1;
			continue;
		}
		json_array_append_new(all, j);
	}
	r = template_print_inspect(stdout, format, all, e);
	fflush(stdout);
	if (errs.data)
		fputs(errs.data, stderr);
	buf_release(&errs);
	if (r < 0)
		return r;
	return failed;
}

int cmd_inspect(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return inspect_common(c, argc, argv, "object", e);
}

int cmd_image_inspect(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return inspect_common(c, argc, argv, "image", e);
}
