/* kiln build: stages in order, one step at a time.  Each RUN/COPY/ADD (and
 * a WORKDIR that has to create its directory) runs in an overlay snapshot
 * over the parent's layers whose upper dir becomes the step's layer;
 * metadata steps only change the image config.  Every step has a cache
 * key (build/cache.c); a hit reuses the layer and the time recorded for
 * it, so a fully cached rebuild gives the same image ID. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "build/cache.h"
#include "build/engine_state.h"
#include "registry/registry.h"
#include "run/run.h"

#define CONTAINERFILE_MAX (16 * 1024 * 1024)
#define CONFIG_MAX (4 * 1024 * 1024)

static void say(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct build *b, const char *fmt, ...)
{
	va_list ap;
	if (b->o->quiet || b->o->no_step_lines)
		return;
	va_start(ap, fmt);
	vfprintf(b->o->out, fmt, ap);
	va_end(ap);
}

static struct blayer *layer_new(struct build *b)
{
	struct blayer *l = xcalloc(1, sizeof(*l));
	b->all = xrealloc(b->all, (b->nall + 1) * sizeof(*b->all));
	b->all[b->nall++] = l;
	return l;
}

static void state_push(struct bstate *s, struct blayer *l)
{
	s->layers = xrealloc(s->layers, (s->n + 1) * sizeof(*s->layers));
	s->layers[s->n++] = l;
}

/* Diff dirs, top first (overlay's lowerdir order). */
static char **lowers_of(const struct bstate *s)
{
	char **v = xcalloc(s->n + 1, sizeof(*v));
	for (size_t i = 0; i < s->n; i++)
		v[i] = xstrdup(s->layers[s->n - 1 - i]->diff);
	return v;
}

static bool in_strv(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* Looks an image up, pulling it first as --pull says (once per build). */
static int find_image(struct build *b, const char *name, struct image_info **info,
		      struct kerror *e)
{
	struct pull_opts po = { .reg = REGISTRY_OPTS_INIT };
	char id[DIGEST_HEX_LEN + 1];
	bool pulled = in_strv(b->pulled, name);
	int r;

	if (b->o->pull != BUILD_PULL_ALWAYS || pulled) {
		r = store_image_lookup(b->s, name, info, e);
		if (r != -ENOENT || pulled)
			return r;
		if (b->o->pull == BUILD_PULL_NEVER)
			return kerror_set(e, ENOENT, "image \"%s\" is not in local storage and "
						     "--pull=never", name);
		kerror_release(e);
	}
	if (b->o->pull_opts)
		po = *b->o->pull_opts;
	if (b->o->quiet || b->o->no_step_lines)
		po.progress = NULL;
	fflush(b->o->out);
	r = registry_pull(b->s, name, &po, id, e);
	if (r < 0)
		return r;
	strv_push(&b->pulled, xstrdup(name));
	return store_image_lookup(b->s, id, info, e);
}

static int load_image(struct build *b, const char *name, struct image_info **info, json_t **cfg,
		      struct kerror *e)
{
	_cleanup_free_ char *raw = NULL;
	char digest[DIGEST_STR_LEN + 1];
	size_t len;
	int r = find_image(b, name, info, e);
	if (r < 0)
		return r;
	snprintf(digest, sizeof(digest), "sha256:%s", (*info)->id);
	r = store_blob_get(b->s, digest, CONFIG_MAX, &raw, &len, e);
	if (r == 0)
		r = json_parse(raw, len, cfg, e);
	if (r < 0) {
		kerror_wrap(e, "image %.12s", (*info)->id);
		image_info_free(*info);
		*info = NULL;
		return r;
	}
	return 0;
}

static int base_info(void *ctx, const char *image, const char *platform,
		     struct build_base_info *out, struct kerror *e)
{
	struct build *b = ctx;
	_cleanup_image_info_ struct image_info *info = NULL;
	_cleanup_json_ json_t *cfg = NULL;
	(void)platform;
	memset(out, 0, sizeof(*out));
	if (!strcmp(image, "scratch"))
		return 0;
	int r = load_image(b, image, &info, &cfg, e);
	if (r < 0)
		return r;
	json_t *c = json_object_get(cfg, "config");
	out->env = json_strv(json_object_get(c, "Env"));
	out->onbuild = json_strv(json_object_get(c, "OnBuild"));
	return 0;
}

static json_t *scratch_config(void)
{
	struct platform host = { 0 };
	json_t *cfg;
	platform_host(&host);
	cfg = json_pack("{s:s, s:s, s:{}, s:{s:s, s:[]}, s:[]}", "architecture",
			host.architecture, "os", host.os, "config", "rootfs", "type", "layers",
			"diff_ids", "history");
	if (host.variant)
		json_object_set_new(cfg, "variant", json_string(host.variant));
	platform_release(&host);
	return cfg;
}

static int stage_begin(struct build *b, size_t idx, struct kerror *e)
{
	const struct build_stage *st = &b->plan->stages[idx];
	struct bstate *s = &b->st[idx];

	if (st->scratch) {
		s->cfg = scratch_config();
		cache_key_base("scratch", "", st->platform, s->key);
	} else if (st->base_stage >= 0) {
		struct bstate *from = &b->st[st->base_stage];
		s->cfg = json_deep_copy(from->cfg);
		for (size_t i = 0; i < from->n; i++)
			state_push(s, from->layers[i]);
		s->base_n = from->base_n;
		cache_key_base("stage", from->key, st->platform, s->key);
	} else {
		_cleanup_image_info_ struct image_info *info = NULL;
		int r = load_image(b, st->base, &info, &s->cfg, e);
		/* Held until the build ends, so that rmi or prune cannot take
		 * the base's layers away mid-build (once more if the image
		 * went between the look-up and the hold). */
		for (int tries = 0; r == 0 && info->top_layer && tries < 2; tries++) {
			r = store_layer_hold(b->s, &b->tmp, info->top_layer, e);
			if (r != -ENOENT || tries)
				break;
			kerror_release(e);
			image_info_free(info);
			info = NULL;
			json_decref(s->cfg);
			s->cfg = NULL;
			r = load_image(b, st->base, &info, &s->cfg, e);
		}
		if (r < 0)
			return r;
		for (size_t i = 0; info->layers && info->layers[i]; i++) {
			struct blayer *l = layer_new(b);
			struct layer_info li = { 0 };
			l->diff = store_layer_diff_path(b->s, info->layers[i]);
			snprintf(l->chain_id, sizeof(l->chain_id), "sha256:%s", info->layers[i]);
			snprintf(l->diff_id, sizeof(l->diff_id), "%s", info->diff_ids[i]);
			if (store_layer_get(b->s, info->layers[i], &li, e) < 0)
				return kerror_wrap(e, "image %.12s", info->id);
			l->size = li.size;
			layer_info_release(&li);
			state_push(s, l);
		}
		s->base_n = s->n;
		cache_key_base("image", info->id, st->platform, s->key);
	}
	/* Triggers ran (the plan inserted them); they are not inherited. */
	json_t *c = json_object_get(s->cfg, "config");
	if (!json_is_object(c)) {
		c = json_object();
		json_object_set_new(s->cfg, "config", c);
	}
	json_object_del(c, "OnBuild");
	/* Like BuildKit and buildah: an image without PATH gets the default. */
	json_t *env = json_object_get(c, "Env");
	bool has_path = false;
	size_t i;
	json_t *v;
	json_array_foreach(env, i, v) has_path |= str_has_prefix(json_string_value(v) ?: "", "PATH=");
	if (!has_path) {
		if (!json_is_array(env)) {
			env = json_array();
			json_object_set_new(c, "Env", env);
		}
		json_array_insert_new(env, 0, json_string("PATH=/usr/local/sbin:/usr/local/bin:"
							  "/usr/sbin:/usr/bin:/sbin:/bin"));
	}
	return 0;
}

static char **config_strv(json_t *cfg, const char *key)
{
	return json_strv(json_object_get(json_object_get(cfg, "config"), key));
}

static const char *config_str(json_t *cfg, const char *key)
{
	return json_str(json_object_get(cfg, "config"), key);
}

/* RUN's environment: ENV, then build args not overridden, then PATH. */
static char **run_env(const struct plan_step *st)
{
	char **env = NULL;
	bool has_path = false;
	for (size_t i = 0; st->env && st->env[i]; i++) {
		strv_push(&env, xstrdup(st->env[i]));
		has_path |= str_has_prefix(st->env[i], "PATH=");
	}
	for (size_t i = 0; st->args && st->args[i]; i++) {
		const char *eq = strchr(st->args[i], '=');
		size_t kl = eq ? (size_t)(eq - st->args[i]) : strlen(st->args[i]);
		bool dup = false;
		for (size_t j = 0; st->env && st->env[j]; j++)
			if (!strncmp(st->env[j], st->args[i], kl) && st->env[j][kl] == '=')
				dup = true;
		if (!dup)
			strv_push(&env, xstrdup(st->args[i]));
		has_path |= !dup && str_has_prefix(st->args[i], "PATH=");
	}
	if (!has_path)
		strv_push(&env, xstrdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
					"/sbin:/bin"));
	return env;
}

static bool heredoc_only(const struct plan_step *st);
static char *heredoc_body(const struct cf_heredoc *h);
static char *heredoc_script(const struct plan_step *st);

#define HEREDOC_EXEC_PATH "/.kiln-run-heredoc"

static char **run_argv(const struct build *b, const struct bstate *s,
		       const struct plan_step *st)
{
	char **argv = NULL;
	(void)b;
	if (st->json) {
		for (size_t i = 0; i < st->argc; i++)
			strv_push(&argv, xstrdup(st->argv[i]));
		return argv;
	}
	if (heredoc_only(st) && str_has_prefix(st->heredocs[0].content, "#!")) {
		strv_push(&argv, xstrdup(HEREDOC_EXEC_PATH));
		return argv;
	}
	_cleanup_strv_ char **shell = config_strv(s->cfg, "Shell");
	if (shell && shell[0])
		for (size_t i = 0; shell[i]; i++)
			strv_push(&argv, xstrdup(shell[i]));
	else {
		strv_push(&argv, xstrdup("/bin/sh"));
		strv_push(&argv, xstrdup("-c"));
	}
	if (heredoc_only(st))
		strv_push(&argv, heredoc_body(&st->heredocs[0]));
	else if (st->nheredocs)
		strv_push(&argv, heredoc_script(st));
	else
		strv_push(&argv, xstrdup(st->argc ? st->argv[0] : ""));
	return argv;
}

static char *created_by(const struct build *b, const struct bstate *s,
			const struct plan_step *st, const char *key)
{
	struct buf out = { 0 };
	if (st->kind == CF_RUN) {
		_cleanup_strv_ char **argv = run_argv(b, s, st);
		for (size_t i = 0; argv[i]; i++)
			buf_printf(&out, "%s%s", i ? " " : "", argv[i]);
		return buf_steal(&out);
	}
	if (st->kind == CF_COPY || st->kind == CF_ADD)
		return xasprintf("/bin/sh -c #(nop) %s %s:%.64s in %s ",
				 st->kind == CF_COPY ? "COPY" : "ADD",
				 st->argc == 1 && !st->ninlines ? "file" : "multi", key,
				 st->dest ? st->dest : "");
	return xasprintf("/bin/sh -c #(nop) %s", st->node ? st->node->original : "");
}

int build_from_root(struct build *b, const char *from, int from_stage, struct digester *d,
		    const char **root, struct kerror *e)
{
	if (!from) {
		*root = b->ctx.dir;
		return 0;
	}
	_cleanup_strv_ char **lowers = NULL;
	char **mount_slot;
	if (from_stage >= 0) {
		struct bstate *fs = &b->st[from_stage];
		if (!fs->done)
			return kerror_set(e, EINVAL, "--from=%s: stage not built", from);
		if (d)
			digester_update(d, fs->key, strlen(fs->key) + 1);
		if (fs->from_mount) {
			*root = fs->from_mount;
			return 0;
		}
		lowers = lowers_of(fs);
		mount_slot = &fs->from_mount;
	} else {
		_cleanup_image_info_ struct image_info *info = NULL;
		int r = find_image(b, from, &info, e);
		if (r < 0)
			return kerror_wrap(e, "--from=%s", from);
		if (d)
			digester_update(d, info->id, strlen(info->id) + 1);
		for (size_t i = strv_len(info->layers); i-- > 0;)
			strv_push(&lowers, store_layer_diff_path(b->s, info->layers[i]));
		size_t n = strv_len(b->mounts);
		b->mounts = xrealloc(b->mounts, (n + 2) * sizeof(char *));
		b->mounts[n] = NULL;
		b->mounts[n + 1] = NULL;
		mount_slot = &b->mounts[n];
	}
	int r = rootfs_mount_ro(store_root(b->s), b->tmp.path, lowers, mount_slot, e);
	if (r < 0)
		return r;
	*root = *mount_slot;
	return 0;
}

/* The source of a COPY/ADD: the context, a stage or an image. */
static int copy_source_of(struct build *b, const struct plan_step *st, struct copy_source *src,
			  struct digester *d, struct kerror *e)
{
	memset(src, 0, sizeof(*src));
	if (!st->from) {
		src->root = b->ctx.dir;
		src->ign = b->ctx.ign;
		src->hash_content = true;
		src->memo = b->memo;
		return 0;
	}
	return build_from_root(b, st->from, st->from_stage, d, &src->root, e);
}

/* RUN --mount=type=bind sources are part of the key: a stage's key, an
 * image's ID, or the content of the context path. */
static int run_mounts_key(struct build *b, const struct plan_step *st, struct digester *d,
			  struct kerror *e)
{
	for (size_t i = 0; i < st->nmounts; i++) {
		const struct plan_mount *pm = &st->mounts[i];
		const char *root;
		int r;
		if (pm->type != MOUNT_BIND)
			continue;
		r = build_from_root(b, pm->from, pm->from_stage, d, &root, e);
		if (r < 0)
			return r;
		if (pm->from)
			continue;
		{
			_cleanup_free_ char *rel = xstrdup(pm->source ? pm->source : "");
			char *p = rel;
			while (*p == '/')
				p++;
			char *paths[] = { p, NULL };
			struct copy_list cl = { .paths = paths, .n = 1 };
			/* what the mount shows: the context without its
			 * ignored files (build_ctx_view) */
			struct copy_source src = { .root = b->ctx.dir, .ign = b->ctx.ign,
						   .hash_content = true, .memo = b->memo };
			r = copy_list_hash(&cl, &src, d, e);
			if (r < 0)
				return kerror_wrap(e, "bind mount source \"%s\"",
						   pm->source ? pm->source : "/");
		}
	}
	return 0;
}

/* A RUN whose command is only a heredoc ("<<EOF") runs its body: with the
 * shell, or directly when it starts with "#!".  Any other RUN with heredocs
 * gives the shell the command line followed by the bodies and delimiters,
 * and the shell reads them as here-documents. */
static bool heredoc_only(const struct plan_step *st)
{
	if (st->json || st->nheredocs != 1 || !st->argc)
		return false;
	const char *s = st->argv[0];
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, "<<", 2))
		return false;
	for (s += 2; *s; s++)
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '>' || *s == '|' || *s == ';' ||
		    *s == '&')
			return false;
	return true;
}

static char *heredoc_body(const struct cf_heredoc *h)
{
	struct buf out = { 0 };
	const char *p = h->content;
	buf_append(&out, "", 1);
	out.len = 0;
	while (*p) {
		if (h->chomp)
			while (*p == '\t')
				p++;
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
		buf_append(&out, p, n);
		p += n;
	}
	return buf_steal(&out);
}

static char *heredoc_script(const struct plan_step *st)
{
	struct buf out = { 0 };
	buf_printf(&out, "%s\n", st->argc ? st->argv[0] : "");
	for (size_t i = 0; i < st->nheredocs; i++)
		buf_printf(&out, "%s%s\n", st->heredocs[i].content, st->heredocs[i].name);
	return buf_steal(&out);
}

/* The network namespace of a RUN step: its RUN --network, else the
 * build's; made on the first step that needs it.  *out NULL: the host's. */
static int step_net(struct build *b, const struct plan_step *st,
		    const struct run_build_net **out, struct kerror *e)
{
	enum run_build_net_mode m;
	struct run_build_net **slot;
	int r;

	*out = NULL;
	/* Resolved on the first RUN step: a build without one warns of nothing. */
	if (!b->net_resolved) {
		b->net_mode = (int)run_build_net_resolve((enum run_build_net_mode)b->net_mode);
		b->net_resolved = true;
	}
	m = (enum run_build_net_mode)b->net_mode;
	/* RUN --network=default: the build's */
	if (st->network && strcmp(st->network, "default") != 0) {
		r = run_build_net_parse(st->network, &m, e);
		if (r < 0)
			return r;
		m = run_build_net_resolve(m);
	}
	if (m == RUN_BUILD_NET_HOST)
		return 0;
	slot = &b->nets[m == RUN_BUILD_NET_NONE];
	if (!*slot) {
		r = run_build_net_open(b->s, m, b->tmp.path, slot, e);
		if (r < 0)
			return kerror_wrap(e, "setting up the network of RUN steps");
	}
	*out = *slot;
	return 0;
}

void build_nets_release(struct build *b)
{
	for (size_t i = 0; i < ARRAY_SIZE(b->nets); i++) {
		run_build_net_free(b->nets[i]);
		b->nets[i] = NULL;
	}
}

/* RUN --device=NAME[,required] (BuildKit's CDI devices): kiln has no CDI
 * registry, so no device is there to give; an optional one is left out
 * with a warning, a required one fails the step. */
static int run_devices(const struct plan_step *st, struct kerror *e)
{
	for (size_t i = 0; i < st->ndevices; i++) {
		_cleanup_free_ char *copy = xstrdup(st->devices[i]);
		char *save = NULL, *name = strtok_r(copy, ",", &save);
		bool required = false;
		for (char *t = strtok_r(NULL, ",", &save); t; t = strtok_r(NULL, ",", &save))
			required |= !strcmp(t, "required") || !strcmp(t, "required=true");
		if (required)
			return kerror_set(e, ENODEV, "RUN --device %s: no CDI devices are available "
						     "to kiln's RUN steps", name ? name : "");
		log_warn("RUN --device %s: no CDI devices are available to kiln's RUN steps; "
			 "running without it", name ? name : "");
	}
	return 0;
}

static void show_held_output(int fd)
{
	char buf[8192];
	ssize_t n;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fs_write_all(STDERR_FILENO, buf, (size_t)n) < 0)
			return;
}

/* Runs a layer step in a snapshot; fills the new layer. */
static int layer_step(struct build *b, struct bstate *s, const struct plan_step *st,
		      const struct copy_list *cl, const struct copy_source *src,
		      struct blayer *l, struct kerror *e)
{
	_cleanup_strv_ char **lowers = lowers_of(s);
	struct snapshot snap = { 0 };
	const char *wd = config_str(s->cfg, "WorkingDir");
	int r;

	r = snapshot_mount(store_root(b->s), b->tmp.path, lowers, &snap, e);
	if (r < 0)
		return r;
	if (st->kind == CF_RUN) {
		_cleanup_strv_ char **argv = run_argv(b, s, st);
		_cleanup_strv_ char **env = run_env(st);
		struct run_build_exec x = {
			.rootfs = snap.merged, .argv = argv, .env = env,
			.cwd = wd && *wd ? wd : "/", .user = config_str(s->cfg, "User"),
			.out_fd = -1, .err_fd = -1,
			.confine = !(st->security && !strcmp(st->security, "insecure")),
			.seccomp_cache_dir = store_runroot(b->s),
		};
		struct run_mounts rm = { 0 };
		int code = 0;
		r = run_devices(st, e);
		if (r == 0)
			r = step_net(b, st, &x.net, e);
		if (r == 0)
			r = run_secret_env(b, st, &env, e);
		x.env = env; /* the list may have moved */
		if (r == 0)
			r = run_mounts_setup(b, st, snap.merged, &rm, e);
		if (r == 0 && argv[0] && !strcmp(argv[0], HEREDOC_EXEC_PATH)) {
			_cleanup_free_ char *body = heredoc_body(&st->heredocs[0]);
			r = run_mounts_add_file(b, &rm, HEREDOC_EXEC_PATH, body, 0755, e);
		}
		fflush(b->o->out);
		/* -q: the step's output is kept aside and shown only if it
		 * fails, as Docker's (its stdout holds only the image ID). */
		_cleanup_close_ int held = b->o->quiet ? open(b->tmp.path, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600) : -1;
		x.out_fd = x.err_fd = held;
		if (r == 0)
			r = run_build_exec(&x, &code, e);
		run_mounts_teardown(&rm);
		if (held >= 0 && (r < 0 || code != 0))
			show_held_output(held);
		if (r == 0 && code != 0) {
			b->exit_code = code;
			r = kerror_set(e, EIO, "while running runtime: exit status %d", code);
		} else if (r < 0) {
			b->exit_code = code;
		}
	} else if (st->kind == CF_WORKDIR) {
		bool created;
		r = copy_mkdir_workdir(snap.merged, wd && *wd ? wd : "/", &created, e);
	} else {
		_cleanup_free_ char *upper = xasprintf("%s/diff", snap.dir);
		/* --link: the files go into the bare layer, independent of the
		 * layers below (no symlink of theirs followed, parents made
		 * afresh), as BuildKit's linked copies; names still resolve in
		 * the image's /etc. */
		if (st->link)
			r = copy_apply(st, cl, src, upper, NULL, snap.merged, wd, e);
		else
			r = copy_apply(st, cl, src, snap.merged, upper, snap.merged, wd, e);
	}
	if (r == 0)
		r = snapshot_unmount(&snap, e);
	if (r == 0 && b->o->timestamp >= 0) {
		_cleanup_free_ char *diff = xasprintf("%s/diff", snap.dir);
		r = tar_diff_clamp_mtimes(diff, b->o->timestamp, e);
	}
	if (r == 0)
		r = store_stage_layer_dir(b->s, snap.dir, lowers,
					  s->n ? s->layers[s->n - 1]->chain_id : NULL, &l->staged, e);
	if (r < 0) {
		snapshot_release(&snap);
		return r;
	}
	memcpy(l->diff_id, l->staged.diff_id, sizeof(l->diff_id));
	memcpy(l->chain_id, l->staged.chain_id, sizeof(l->chain_id));
	l->size = l->staged.size;
	l->diff = xasprintf("%s/diff", snap.dir);
	free(snap.dir);
	free(snap.merged);
	return 0;
}

/* Does WORKDIR need to create its directory?  A look at the lower dirs,
 * top first (a whiteout or a non-directory hides what is below). */
static bool workdir_exists(const struct bstate *s, const char *path)
{
	for (size_t i = s->n; i-- > 0;) {
		_cleanup_free_ char *p = xasprintf("%s/%s", s->layers[i]->diff, path);
		struct stat st;
		if (lstat(p, &st) == 0)
			return S_ISDIR(st.st_mode);
	}
	return false;
}

static bool cache_on(const struct build *b)
{
	return b->o->layers && !b->o->no_cache;
}

static int run_step(struct build *b, size_t si, struct bstate *s, const struct plan_step *st,
		    bool last, struct kerror *e)
{
	struct digester *d = cache_key_begin(s->key, st, b->o->timestamp);
	struct copy_source src = { 0 };
	struct copy_list cl = { 0 };
	struct build_cache_entry hit = { 0 };
	const struct plan_step *cst = st; /* what COPY/ADD copies */
	struct plan_step url_step;
	_cleanup_free_ char *url_dir = NULL;
	_cleanup_strv_ char **url_names = NULL;
	char key[DIGEST_HEX_LEN + 1];
	bool layer = false, is_hit = false, remote_hit = false;
	int64_t created;
	int r = 0;

	(void)si;
	if (st->kind == CF_COPY || st->kind == CF_ADD) {
		layer = true;
		if (st->kind == CF_ADD)
			r = add_url_fetch(b, st, &url_dir, &url_names, e);
		if (r == 0 && url_dir) {
			/* the downloads stand in for the URLs, never extracted */
			url_step = *st;
			url_step.argv = url_names;
			url_step.argc = strv_len(url_names);
			url_step.unpack = 0;
			cst = &url_step;
			src = (struct copy_source){ .root = url_dir, .hash_content = true };
		} else if (r == 0) {
			r = copy_source_of(b, st, &src, d, e);
		}
		if (r == 0)
			r = copy_list_make(cst, &src, &cl, e);
		if (r == 0)
			r = copy_list_hash(&cl, &src, d, e);
	} else if (st->kind == CF_RUN) {
		layer = true;
		for (size_t i = 0; i < st->nheredocs; i++) {
			digester_update(d, st->heredocs[i].name, strlen(st->heredocs[i].name) + 1);
			digester_update(d, st->heredocs[i].content,
					strlen(st->heredocs[i].content) + 1);
		}
		if (st->nmounts)
			r = run_mounts_key(b, st, d, e);
	}
	cache_key_end(d, key);
	if (r < 0)
		goto out;
	if (st->kind == CF_WORKDIR) {
		json_t *probe = json_deep_copy(s->cfg);
		bool cs = s->cmd_set;
		r = build_apply_config_step(probe, st, NULL, &cs, e);
		const char *wd = config_str(probe, "WorkingDir");
		layer = r == 0 && wd && strcmp(wd, "/") && !workdir_exists(s, wd + 1);
		json_decref(probe);
		if (r < 0)
			goto out;
	}
	if (cache_on(b) && store_build_cache_get(b->s, key, &hit, NULL) == 0 &&
	    (!layer || hit.layer[0])) {
		if (!layer || !hit.layer[0]) {
			is_hit = !hit.layer[0];
		} else {
			char want[DIGEST_STR_LEN + 1];
			_cleanup_free_ char *diff_id = xstrdup(hit.diff_id);
			digest_chain(s->n ? s->layers[s->n - 1]->chain_id : NULL, diff_id, want);
			is_hit = !strcmp(digest_hex(want), hit.layer);
			/* A cached layer is held like the base; one removed
			 * since the look-up is a miss. */
			if (is_hit && store_layer_hold(b->s, &b->tmp, hit.layer, NULL) < 0)
				is_hit = false;
		}
	}
	if (!is_hit && layer && cache_on(b) && b->o->cache_from &&
	    cache_remote_get(b, s, key, &hit) == 0)
		is_hit = remote_hit = true;
	if (layer && st->kind == CF_WORKDIR) {
		/* the config change comes first: the snapshot creates the new dir */
	}
	if (st->kind != CF_RUN && st->kind != CF_COPY && st->kind != CF_ADD &&
	    st->kind != CF_ARG) {
		_cleanup_strv_ char **shell = config_strv(s->cfg, "Shell");
		r = build_apply_config_step(s->cfg, st, shell && shell[0] ? shell : NULL,
					    &s->cmd_set, e);
		if (r < 0)
			goto out;
	}
	created = is_hit ? hit.created : build_now_ns(b);
	if (is_hit)
		say(b, "--> Using cache %s\n", key);
	if (layer) {
		struct blayer *l = layer_new(b);
		if (is_hit) {
			l->diff = store_layer_diff_path(b->s, hit.layer);
			snprintf(l->chain_id, sizeof(l->chain_id), "sha256:%s", hit.layer);
			memcpy(l->diff_id, hit.diff_id, sizeof(l->diff_id));
			l->size = hit.size;
		} else {
			r = layer_step(b, s, cst, &cl, &src, l, e);
			if (r < 0)
				goto out;
			s->made_layers = true;
		}
		state_push(s, l);
		cache_key_after_layer(key, l->diff_id, s->key);
	} else {
		memcpy(s->key, key, sizeof(s->key));
	}
	if (st->kind != CF_ARG) {
		_cleanup_free_ char *by = created_by(b, s, st, key);
		build_history_add(b, s, st, created, !layer, by);
	}
	s->created = created;
	if ((!is_hit || remote_hit) && cache_on(b)) {
		struct build_cache_entry *row;
		b->rows = xrealloc(b->rows, (b->nrows + 1) * sizeof(*b->rows));
		row = &b->rows[b->nrows++];
		memset(row, 0, sizeof(*row));
		memcpy(row->key, key, sizeof(row->key));
		if (layer)
			snprintf(row->layer, sizeof(row->layer), "%s",
				 digest_hex(s->layers[s->n - 1]->chain_id));
		row->created = created;
	}
	if (!last)
		say(b, "--> %.12s\n", s->key);
out:
	copy_list_release(&cl);
	return r;
}

/* Podman's step lines: "[2/3] STEP 5/9: COPY . /src" ("[i/n] " only when
 * several stages are built). */
static void say_step(struct build *b, size_t idx, const char *text)
{
	size_t n = 0, k = 0;
	for (size_t i = 0; i < b->plan->nstages; i++)
		if (b->plan->stages[i].needed) {
			n++;
			if (i <= idx)
				k++;
		}
	if (n > 1)
		say(b, "[%zu/%zu] ", k, n);
	say(b, "STEP %zu/%zu: %s\n", b->step_no, b->step_total, text);
}

int build_stage(struct build *b, size_t idx, struct kerror *e)
{
	const struct build_stage *st = &b->plan->stages[idx];
	struct bstate *s = &b->st[idx];
	bool target = idx == b->plan->target;
	int r;

	b->step_no++;
	say_step(b, idx, st->steps[0].node ? st->steps[0].node->original : "FROM");
	r = stage_begin(b, idx, e);
	if (r < 0)
		return kerror_wrap(e, "building at STEP \"%s\" (%s:%d)",
				   st->steps[0].node ? st->steps[0].node->original : "FROM",
				   b->cf->filename, st->line);
	for (size_t i = 1; i < st->nsteps; i++) {
		const struct plan_step *p = &st->steps[i];
		const char *text = p->node ? p->node->original : "";
		b->step_no++;
		say_step(b, idx, text);
		r = run_step(b, idx, s, p, target && i + 1 == st->nsteps, e);
		if (r < 0)
			return kerror_wrap(e, "building at STEP \"%s\" (%s:%d)", text,
					   b->cf->filename, p->line);
	}
	s->done = true;
	return 0;
}

static int read_containerfile(struct build *b, struct kerror *e)
{
	_cleanup_free_ char *data = NULL, *path = NULL;
	const char *f = b->o->file;
	size_t len;
	int r;

	if (f && !strcmp(f, "-")) {
		r = fs_read_fd(STDIN_FILENO, CONTAINERFILE_MAX, "stdin", &data, &len, e);
		path = xstrdup("stdin");
	} else {
		if (f && b->ctx.extracted && f[0] != '/')
			/* A tar context: -f names a file in it, as Docker's. */
			path = xasprintf("%s/%s", b->ctx.dir, f);
		else if (f)
			path = xstrdup(f);
		else {
			path = xasprintf("%s/Containerfile", b->ctx.dir);
			if (access(path, F_OK) < 0) {
				free(path);
				path = xasprintf("%s/Dockerfile", b->ctx.dir);
			}
		}
		r = fs_read_file(path, CONTAINERFILE_MAX, &data, &len, e);
	}
	if (r < 0)
		return r;
	{
		const char *name = strrchr(path, '/');
		r = containerfile_parse(data, len, name ? name + 1 : path, &b->cf, e);
	}
	return r;
}

static void build_release(struct build *b)
{
	struct kerror ie = { 0 };
	for (size_t i = 0; b->plan && i < b->plan->nstages; i++) {
		struct bstate *s = &b->st[i];
		if (s->from_mount) {
			umount2(s->from_mount, MNT_DETACH);
			free(s->from_mount);
		}
		json_decref(s->cfg);
		free(s->layers);
	}
	build_nets_release(b);
	for (size_t i = 0; b->mounts && b->mounts[i]; i++)
		umount2(b->mounts[i], MNT_DETACH);
	strv_free(b->mounts);
	strv_free(b->pulled);
	free(b->st);
	for (size_t i = 0; i < b->nall; i++) {
		staged_layer_release(&b->all[i]->staged);
		free(b->all[i]->diff);
		free(b->all[i]);
	}
	free(b->all);
	free(b->rows);
	if (b->memo && digest_memo_save(b->memo, &ie) < 0)
		log_warn("saving the build's file digests: %s", ie.msg);
	digest_memo_free(b->memo);
	build_context_release(&b->ctx);
	build_plan_free(b->plan);
	containerfile_free(b->cf);
	store_tmp_release(&b->tmp);
	kerror_release(&ie);
}

static int build_all(struct build *b, char id[DIGEST_HEX_LEN + 1], struct kerror *e)
{
	struct build_plan_opts po = { .build_args = b->o->build_args, .target = b->o->target,
				      .base_info = base_info, .base_ctx = b };
	int r;

	enum run_build_net_mode nm;
	r = run_build_net_parse(b->o->network, &nm, e);
	if (r < 0)
		return r;
	b->net_mode = (int)nm;
	r = store_tmp_create(b->s, &b->tmp, e);
	if (r == 0)
		r = build_context_open(b->o->context, b->tmp.path, &b->ctx, e);
	if (r == 0 && !b->ctx.extracted && cache_on(b))
		b->memo = digest_memo_open(store_root(b->s), b->ctx.dir);
	if (r == 0)
		r = read_containerfile(b, e);
	if (r == 0)
		r = build_plan_make(b->cf, &po, &b->plan, e);
	if (r < 0)
		return r;
	for (size_t i = 0; b->plan->unused_args && b->plan->unused_args[i]; i++)
		log_warn("one or more build args were not consumed: [%s]", b->plan->unused_args[i]);
	b->st = xcalloc(b->plan->nstages, sizeof(*b->st));
	for (size_t i = 0; i < b->plan->nstages; i++)
		if (b->plan->stages[i].needed)
			b->step_total += b->plan->stages[i].nsteps;
	build_prebuild_stages(b);
	r = build_enter_mount_ns(e);
	for (size_t i = 0; r == 0 && i <= b->plan->target; i++)
		if (b->plan->stages[i].needed)
			r = build_stage(b, i, e);
	if (r < 0)
		return r;
	/* Stages other than the target keep their layers as untagged images,
	 * for the cache. */
	for (size_t i = 0; cache_on(b) && i < b->plan->target; i++) {
		char sid[DIGEST_HEX_LEN + 1];
		if (b->st[i].done && b->st[i].made_layers) {
			r = build_commit_state(b, &b->st[i], NULL, sid, e);
			if (r < 0)
				return r;
		}
	}
	{
		struct bstate *t = &b->st[b->plan->target];
		if (b->o->squash != BUILD_SQUASH_NONE) {
			r = build_squash(b, t, b->o->squash == BUILD_SQUASH_ALL, e);
			if (r < 0)
				return r;
		}
		if (b->o->tags && b->o->tags[0])
			say(b, "COMMIT %s\n", b->o->tags[0]);
		else
			say(b, "COMMIT\n");
		r = build_commit_state(b, t, b->o->tags, id, e);
		if (r < 0)
			return r;
	}
	if (cache_on(b)) {
		struct kerror ce = { 0 };
		/* The image is in; a lost cache row only costs a rebuild. */
		if (store_build_cache_put(b->s, b->rows, b->nrows, &ce) < 0)
			log_warn("recording the build cache: %s", ce.msg);
		kerror_release(&ce);
		cache_remote_put(b);
	}
	if (b->o->output != BUILD_OUTPUT_NONE) {
		r = build_output(b, &b->st[b->plan->target], e);
		if (r < 0)
			return r;
	}
	say(b, "--> %.12s\n", id);
	for (size_t i = 0; b->o->tags && b->o->tags[i]; i++)
		say(b, "Successfully tagged %s\n", b->o->tags[i]);
	if (b->o->iidfile) {
		_cleanup_free_ char *v = xasprintf("sha256:%s", id);
		r = fs_write_atomic(b->o->iidfile, v, strlen(v), 0644, e);
		if (r < 0)
			return kerror_wrap(e, "writing the image ID file");
	}
	return 0;
}

int build_run(struct store *s, const struct build_opts *o, char id[DIGEST_HEX_LEN + 1],
	      int *exit_code, struct kerror *e)
{
	struct build b = { .s = s, .o = o, .exit_code = 125 };
	int r = build_all(&b, id, e);
	*exit_code = r < 0 ? b.exit_code : 0;
	build_release(&b);
	if (r == 0)
		build_gc_auto(s);
	return r;
}
