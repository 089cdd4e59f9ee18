/* /images/… and /build.  Lists are read in the request's thread; what
 * changes the store runs the CLI command as a worker. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_private.h"

static char *familiar(const char *name)
{
	_cleanup_ref_ struct image_ref *ref = NULL;
	if (ref_parse(name, &ref, NULL) < 0)
		return xstrdup(name);
	return ref_familiar(ref);
}

static json_t *image_summary(struct store *s, const struct image_info *i)
{
	char digest[DIGEST_STR_LEN + 1];
	json_t *tags = json_array(), *digests = json_array();
	for (char **n = i->names; n && *n; n++) {
		char *f = familiar(*n);
		json_array_append_new(tags, json_string(f));
		free(f);
	}
	for (char **d = i->digests; d && *d; d++) {
		char *f = familiar(*d);
		json_array_append_new(digests, json_string(f));
		free(f);
	}
	snprintf(digest, sizeof(digest), "sha256:%s", i->id);
	json_t *labels = api_image_labels(s, i->id);
	return json_pack("{s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:I}", "Id", digest,
			 "ParentId", "", "RepoTags", tags, "RepoDigests", digests, "Created",
			 (json_int_t)i->created, "Size", (json_int_t)i->size, "SharedSize",
			 (json_int_t)-1, "VirtualSize", (json_int_t)i->size, "Labels",
			 labels, "Containers", (json_int_t)-1);
}

int api_images_summary(struct store *s, bool all, json_t **out, struct kerror *e)
{
	struct image_info **list = NULL;
	size_t n = 0;
	(void)all;
	int r = store_image_list(s, &list, &n, e);
	if (r < 0)
		return r;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, image_summary(s, list[i]));
	image_list_free(list, n);
	*out = a;
	return 0;
}

/* filters={"reference":{"x":true},"dangling":{"true":true}} — the two
 * filters `docker images` sends. */
static bool filter_has(const json_t *filters, const char *key, const char *val)
{
	json_t *f = json_object_get(filters, key);
	if (json_is_object(f))
		return json_is_true(json_object_get(f, val));
	if (json_is_array(f)) {
		size_t i;
		json_t *v;
		json_array_foreach(f, i, v)
			if (json_is_string(v) && !strcmp(json_string_value(v), val))
				return true;
	}
	return false;
}

/* The values of one filter key, as strings. */
static char **filter_values(const json_t *filters, const char *key)
{
	json_t *f = json_object_get(filters, key), *v;
	char **out = NULL;
	const char *k;
	size_t i;
	if (json_is_object(f))
		json_object_foreach(f, k, v)
			strv_push(&out, xstrdup(k));
	else if (json_is_array(f))
		json_array_foreach(f, i, v)
			if (json_is_string(v))
				strv_push(&out, xstrdup(json_string_value(v)));
	return out;
}

int api_filters(struct api_req *r, json_t **out, struct kerror *e)
{
	const char *f = api_query(r, "filters");
	if (!f || !*f) {
		*out = json_object();
		return 0;
	}
	int rc = json_parse(f, strlen(f), out, e);
	if (rc < 0)
		return kerror_wrap(e, "invalid filters");
	if (!json_is_object(*out)) {
		json_decref(*out);
		return kerror_set(e, EINVAL, "invalid filters: not an object");
	}
	return 0;
}

static bool glob_match(const char *pat, const char *s)
{
	return fnmatch(pat, s, 0) == 0;
}

static enum MHD_Result images_json(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_api_store_ struct store *s = NULL;
	_cleanup_json_ json_t *filters = NULL;
	json_t *all = NULL;
	if (api_filters(r, &filters, &e) < 0 || api_store(r, &s, &e) < 0 ||
	    api_images_summary(s, api_query_bool(r, "all"), &all, &e) < 0)
		return api_reply_kerror(r, &e);
	_cleanup_strv_ char **refs = filter_values(filters, "reference");
	bool dangling = filter_has(filters, "dangling", "true");
	bool not_dangling = filter_has(filters, "dangling", "false");
	json_t *out = json_array(), *img;
	size_t i;
	json_array_foreach(all, i, img) {
		json_t *tags = json_object_get(img, "RepoTags");
		size_t nt = json_array_size(tags);
		if ((dangling && nt) || (not_dangling && !nt))
			continue;
		if (refs) {
			bool ok = false;
			size_t k;
			json_t *t;
			json_array_foreach(tags, k, t)
				for (char **p = refs; *p && !ok; p++) {
					const char *tag = json_string_value(t);
					_cleanup_free_ char *repo = xstrndup(tag, strrchr(tag, ':') - tag);
					ok = glob_match(*p, tag) || glob_match(*p, repo);
				}
			if (!ok)
				continue;
		}
		json_array_append(out, img);
	}
	json_decref(all);
	return api_reply_json(r, 200, out);
}

/* Runs `kiln ARGS…` whose stdout is a JSON array; replies with its first
 * element (inspect) or the whole array. */
static enum MHD_Result worker_json(struct api_req *r, char *const *args, bool first)
{
	_cleanup_free_ char *out = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };
	enum MHD_Result res;
	json_t *j;
	if (api_worker_simple(r, args, &out, &res) < 0)
		return res;
	if (json_parse(out, strlen(out), &j, &e) < 0)
		return api_reply_kerror(r, &e);
	if (first && json_is_array(j)) {
		json_t *one = json_incref(json_array_get(j, 0));
		json_decref(j);
		if (!one)
			return api_reply_error(r, 404, "no such object");
		j = one;
	}
	return api_reply_json(r, 200, j);
}

static enum MHD_Result image_inspect(struct api_req *r)
{
	char *args[] = { "image", "inspect", r->params[0], NULL };
	return worker_json(r, args, true);
}

/* Docker's history: newest first, the image's ID on the newest entry and
 * "<missing>" on the others, each layer's size on the entry that made it. */
static enum MHD_Result image_history(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_api_store_ struct store *s = NULL;
	_cleanup_image_info_ struct image_info *img = NULL;
	_cleanup_free_ char *raw = NULL;
	_cleanup_json_ json_t *cfg = NULL;
	char digest[DIGEST_STR_LEN + 1];
	size_t len, i;
	json_t *h;
	if (api_store(r, &s, &e) < 0 || store_image_lookup(s, r->params[0], &img, &e) < 0)
		return api_reply_kerror(r, &e);
	snprintf(digest, sizeof(digest), "sha256:%s", img->id);
	if (store_blob_get(s, digest, 4 << 20, &raw, &len, &e) < 0 ||
	    json_parse(raw, len, &cfg, &e) < 0)
		return api_reply_kerror(r, &e);
	json_t *out = json_array();
	size_t layer = 0;
	json_array_foreach(json_object_get(cfg, "history"), i, h) {
		int64_t size = 0, created = 0;
		long ns;
		const char *c = json_str(h, "created");
		if (c)
			parse_rfc3339(c, &created, &ns);
		if (!json_is_true(json_object_get(h, "empty_layer")) && img->layers &&
		    layer < strv_len(img->layers)) {
			struct layer_info li = { 0 };
			if (store_layer_get(s, img->layers[layer], &li, NULL) == 0)
				size = li.size;
			layer_info_release(&li);
			layer++;
		}
		json_array_insert_new(
			out, 0,
			json_pack("{s:s, s:I, s:s, s:n, s:I, s:s}", "Id", "<missing>", "Created",
				  (json_int_t)created, "CreatedBy", json_str(h, "created_by") ?: "",
				  "Tags", "Size", (json_int_t)size, "Comment",
				  json_str(h, "comment") ?: ""));
	}
	if (json_array_size(out)) {
		json_t *top = json_array_get(out, 0);
		json_object_set_new(top, "Id", json_string(digest));
		json_t *tags = json_array();
		for (char **n = img->names; n && *n; n++) {
			char *f = familiar(*n);
			json_array_append_new(tags, json_string(f));
			free(f);
		}
		json_object_set_new(top, "Tags", tags);
	}
	return api_reply_json(r, 200, out);
}

static enum MHD_Result image_tag(struct api_req *r)
{
	const char *repo = api_query(r, "repo"), *tag = api_query(r, "tag");
	if (!repo || !*repo)
		return api_reply_error(r, 400, "repository name must have at least one component");
	_cleanup_free_ char *target = xasprintf("%s:%s", repo, tag && *tag ? tag : "latest");
	char *args[] = { "tag", r->params[0], target, NULL };
	enum MHD_Result res;
	if (api_worker_simple(r, args, NULL, &res) < 0)
		return res;
	return api_reply_empty(r, 201);
}

static enum MHD_Result image_delete(struct api_req *r)
{
	_cleanup_strv_ char **args = NULL;
	_cleanup_free_ char *out = NULL;
	enum MHD_Result res;
	api_arg(&args, "rmi");
	if (api_query_bool(r, "force"))
		api_arg(&args, "--force");
	api_arg(&args, r->params[0]);
	if (api_worker_simple(r, args, &out, &res) < 0)
		return res;
	json_t *a = json_array();
	for (char *line = out; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (str_has_prefix(line, "Untagged: "))
			json_array_append_new(a, json_pack("{s:s}", "Untagged", line + 10));
		else if (str_has_prefix(line, "Deleted: "))
			json_array_append_new(a, json_pack("{s:s}", "Deleted", line + 9));
		line = nl ? nl + 1 : NULL;
	}
	return api_reply_json(r, 200, a);
}

/* A registry on this host is reached over plain HTTP, as Docker does. */
static bool local_registry(const char *ref)
{
	return str_has_prefix(ref, "localhost:") || str_has_prefix(ref, "localhost/") ||
	       str_has_prefix(ref, "127.");
}

/* Each line a worker prints becomes {"status": line}; its failure an
 * errorDetail object (what docker pull/push print). */
static void status_line(struct buf *out, const char *line, size_t len, void *ctx)
{
	(void)ctx;
	_cleanup_free_ char *t = xstrndup(line, len);
	json_t *j = json_pack("{s:s}", "status", t);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s)
		buf_printf(out, "%s\r\n", s);
	free(s);
}

static void error_end(struct buf *out, int status, const char *err, void *ctx)
{
	(void)ctx;
	if (status == 0)
		return;
	const char *m = strstr(err, "Error: ");
	_cleanup_free_ char *msg = xstrndup(m ? m + 7 : err, strcspn(m ? m + 7 : err, "\n"));
	json_t *j = json_pack("{s:{s:s}, s:s}", "errorDetail", "message", msg, "error", msg);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s)
		buf_printf(out, "%s\r\n", s);
	free(s);
}

static void unlink_ctx(void *ctx)
{
	if (ctx)
		unlink(ctx);
}

static enum MHD_Result stream_worker(struct api_req *r, char *const *args, api_line_fn line,
				     api_end_fn end, void *ctx)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	struct api_worker w;
	if (api_worker_start(r->srv, args, 0, &w, &e) < 0) {
		unlink_ctx(ctx);
		free(ctx);
		return api_reply_kerror(r, &e);
	}
	struct api_stream_opts o = { "application/json", false, line, end, unlink_ctx, ctx };
	return api_reply_worker_stream(r, &w, &o);
}

/* Returns the temporary auth file (the stream's ctx, removed after it). */
static char *add_auth(struct api_req *r, char ***args, const char *ref)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	char *path = api_authfile_from_header(r, ref, &e);
	if (path)
		api_argf(args, "--authfile=%s", path);
	return path;
}

static enum MHD_Result image_create(struct api_req *r)
{
	const char *from = api_query(r, "fromImage"), *tag = api_query(r, "tag");
	if (!from || !*from)
		return api_reply_error(r, 400, "fromImage is required (importing with fromSrc is not "
					       "supported)");
	_cleanup_free_ char *ref = tag && *tag ? xasprintf("%s%s%s", from,
							  str_has_prefix(tag, "sha256:") ? "@" : ":", tag)
					       : xstrdup(from);
	_cleanup_strv_ char **args = NULL;
	api_arg(&args, "pull");
	if (local_registry(ref))
		api_arg(&args, "--tls-verify=false");
	char *auth = add_auth(r, &args, ref);
	api_arg(&args, ref);
	return stream_worker(r, args, status_line, error_end, auth);
}

static enum MHD_Result image_push(struct api_req *r)
{
	const char *tag = api_query(r, "tag");
	_cleanup_free_ char *ref = tag && *tag ? xasprintf("%s:%s", r->params[0], tag)
					       : xstrdup(r->params[0]);
	_cleanup_strv_ char **args = NULL;
	api_arg(&args, "push");
	if (local_registry(ref))
		api_arg(&args, "--tls-verify=false");
	char *auth = add_auth(r, &args, ref);
	api_arg(&args, ref);
	return stream_worker(r, args, status_line, error_end, auth);
}

static enum MHD_Result image_get(struct api_req *r)
{
	_cleanup_strv_ char **args = NULL;
	api_arg(&args, "save");
	if (r->params[0]) {
		api_arg(&args, r->params[0]);
	} else {
		/* names=a&names=b: MHD keeps the first; docker sends one per image
		 * and `docker save a b` is rare enough.  TODO: all values. */
		const char *n = api_query(r, "names");
		if (!n)
			return api_reply_error(r, 400, "names is required");
		api_arg(&args, n);
	}
	_cleanup_kerror_ struct kerror e = { 0 };
	struct api_worker w;
	if (api_worker_start(r->srv, args, 0, &w, &e) < 0)
		return api_reply_kerror(r, &e);
	struct api_stream_opts o = { "application/x-tar", false, NULL, NULL, NULL, NULL };
	return api_reply_worker_stream(r, &w, &o);
}

static void stream_line(struct buf *out, const char *line, size_t len, void *ctx)
{
	(void)ctx;
	_cleanup_free_ char *t = xasprintf("%.*s\n", (int)len, line);
	json_t *j = json_pack("{s:s}", "stream", t);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s)
		buf_printf(out, "%s\r\n", s);
	free(s);
}

static enum MHD_Result image_load(struct api_req *r)
{
	if (!r->body_path)
		return api_reply_error(r, 400, "an image archive is required");
	char *args[] = { "load", "-i", r->body_path, NULL };
	_cleanup_free_ char *out = NULL;
	enum MHD_Result res;
	if (api_worker_simple(r, args, &out, &res) < 0)
		return res;
	struct buf b = { 0 };
	for (char *line = out; line && *line;) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		if (n)
			stream_line(&b, line, n, NULL);
		line = nl ? nl + 1 : NULL;
	}
	return api_reply_buf(r, 200, "application/json", buf_steal(&b), b.len);
}

static enum MHD_Result image_prune(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_json_ json_t *filters = NULL;
	_cleanup_free_ char *out = NULL;
	_cleanup_strv_ char **args = NULL;
	enum MHD_Result res;
	if (api_filters(r, &filters, &e) < 0)
		return api_reply_kerror(r, &e);
	api_arg(&args, "image");
	api_arg(&args, "prune");
	api_arg(&args, "--force");
	if (filter_has(filters, "dangling", "false") || filter_has(filters, "dangling", "0"))
		api_arg(&args, "--all");
	if (api_worker_simple(r, args, &out, &res) < 0)
		return res;
	json_t *del = json_array();
	int64_t reclaimed = 0;
	for (char *line = out; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strlen(line) == 64 || str_has_prefix(line, "sha256:"))
			json_array_append_new(del, json_pack("{s:s}", "Deleted", line));
		line = nl ? nl + 1 : NULL;
	}
	return api_reply_json(r, 200, json_pack("{s:o, s:I}", "ImagesDeleted", del,
						"SpaceReclaimed", (json_int_t)reclaimed));
}

/* /build: the body is a tar of the context, extracted (safely: tar_apply
 * refuses every path leaving the directory) into a private directory. */
struct build_ctx {
	char *dir;
	char *iid;
};

static void build_line(struct buf *out, const char *line, size_t len, void *ctx)
{
	stream_line(out, line, len, ctx);
}

static void build_end(struct buf *out, int status, const char *err, void *ctx)
{
	struct build_ctx *b = ctx;
	if (status != 0) {
		error_end(out, status, err, NULL);
	} else {
		_cleanup_free_ char *id = NULL;
		size_t len;
		if (fs_read_file(b->iid, 4096, &id, &len, NULL) == 0) {
			id[strcspn(id, "\n")] = '\0';
			json_t *j = json_pack("{s:{s:s}}", "aux", "ID", id);
			char *s = json_dumps(j, JSON_COMPACT);
			json_decref(j);
			buf_printf(out, "%s\r\n", s);
			free(s);
			_cleanup_free_ char *l = xasprintf("Successfully built %.12s",
							   str_has_prefix(id, "sha256:") ? id + 7 : id);
			stream_line(out, l, strlen(l), NULL);
		}
	}
}

static void build_cleanup(void *ctx)
{
	struct build_ctx *b = ctx;
	fs_rm_rf(b->dir, NULL);
	free(b->dir);
	free(b->iid);
}

static void build_args(struct api_req *r, char ***args, const char *key, const char *flag)
{
	const char *v = api_query(r, key);
	_cleanup_kerror_ struct kerror e = { 0 };
	json_t *j = NULL, *x;
	const char *k;
	if (!v || !*v || json_parse(v, strlen(v), &j, &e) < 0)
		return;
	if (json_is_object(j))
		json_object_foreach(j, k, x)
			if (json_is_string(x))
				api_argf(args, "%s=%s=%s", flag, k, json_string_value(x));
	json_decref(j);
}

static enum MHD_Result build(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_strv_ char **args = NULL;
	_cleanup_free_ char *dir = xasprintf("%s/build-XXXXXX", r->srv->tmpdir);
	if (!r->body_path)
		return api_reply_error(r, 400, "a build context (tar) is required");
	if (!mkdtemp(dir))
		return api_reply_error(r, 500, "creating a context directory: %s", strerror(errno));
	_cleanup_free_ char *ctxdir = xasprintf("%s/ctx", dir);
	_cleanup_close_ int rootfd = -1;
	struct tar_apply_opts to = { .whiteouts = TAR_WHITEOUT_DELETE, .ignore_chown_errors = true };
	if (mkdir(ctxdir, 0700) < 0 ||
	    (rootfd = open(ctxdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    tar_apply_fd(r->body_fd, rootfd, &to, NULL, &e) < 0) {
		fs_rm_rf(dir, NULL);
		if (!e.msg)
			kerror_sys(&e, errno, "creating a context directory");
		e.code = EINVAL;
		kerror_wrap(&e, "build context");
		return api_reply_kerror(r, &e);
	}
	struct build_ctx *b = xcalloc(1, sizeof(*b));
	b->dir = xstrdup(dir);
	b->iid = xasprintf("%s/iid", dir);
	api_arg(&args, "build");
	const char *df = api_query(r, "dockerfile");
	if (df && *df) {
		if (df[0] == '/' || strstr(df, "..")) {
			fs_rm_rf(dir, NULL);
			free(b->dir); free(b->iid); free(b);
			return api_reply_error(r, 400, "dockerfile \"%s\" is outside the context", df);
		}
		api_argf(&args, "--file=%s/%s", ctxdir, df);
	}
	/* t may be given more than once; MHD gives the first. */
	const char *t = api_query(r, "t");
	if (t && *t)
		api_argf(&args, "--tag=%s", t);
	const char *target = api_query(r, "target");
	if (target && *target)
		api_argf(&args, "--target=%s", target);
	/* Docker's networkmode: default, bridge, host, none (checked by the build) */
	const char *netmode = api_query(r, "networkmode");
	if (netmode && *netmode)
		api_argf(&args, "--network=%s", netmode);
	if (api_query_bool(r, "nocache"))
		api_arg(&args, "--no-cache");
	if (api_query_bool(r, "q"))
		api_arg(&args, "--quiet");
	build_args(r, &args, "buildargs", "--build-arg");
	build_args(r, &args, "labels", "--label");
	api_argf(&args, "--iidfile=%s", b->iid);
	api_arg(&args, ctxdir);
	_cleanup_kerror_ struct kerror e2 = { 0 };
	struct api_worker w;
	if (api_worker_start(r->srv, args, WORKER_MERGE, &w, &e2) < 0) {
		build_cleanup(b);
		free(b);
		return api_reply_kerror(r, &e2);
	}
	struct api_stream_opts o = { "application/json", false, build_line, build_end,
				     build_cleanup, b };
	return api_reply_worker_stream(r, &w, &o);
}

const struct api_route api_image_routes[] = {
	{ "GET", "/images/json", images_json, false },
	{ "POST", "/images/create", image_create, false },
	{ "POST", "/images/load", image_load, true },
	{ "POST", "/images/prune", image_prune, false },
	{ "GET", "/images/get", image_get, false },
	{ "GET", "/images/{*}/json", image_inspect, false },
	{ "GET", "/images/{*}/history", image_history, false },
	{ "GET", "/images/{*}/get", image_get, false },
	{ "POST", "/images/{*}/tag", image_tag, false },
	{ "POST", "/images/{*}/push", image_push, false },
	{ "DELETE", "/images/{*}", image_delete, false },
	{ "POST", "/build", build, true },
	{ NULL, NULL, NULL, false },
};
