/* /events: `kiln events --format json` in a worker, its lines streamed as
 * they come (Docker's newline-separated JSON messages, with Docker's
 * familiar image names).  since/until are
 * passed on; ?filters= ({"key":{"value":true}} or {"key":["value"]}) become
 * --filter flags, checked here so a bad one is a 400, not a broken stream. */
#include <errno.h>
#include <string.h>

#include "api/api_private.h"

static int add_filter(char ***args, const char *key, const char *v, struct kerror *e)
{
	_cleanup_free_ char *one = xasprintf("%s=%s", key, v);
	int r = store_event_filter_check(one, e);
	if (r < 0)
		return r;
	api_arg(args, "--filter");
	api_arg(args, one);
	return 0;
}

static int filter_args(const json_t *filters, char ***args, struct kerror *e)
{
	const char *key;
	json_t *vals;
	int r;
	json_object_foreach((json_t *)filters, key, vals) {
		if (!json_is_object(vals) && !json_is_array(vals))
			return kerror_set(e, EINVAL, "invalid filter \"%s\"", key);
		_cleanup_strv_ char **v = api_filter_values(vals);
		for (char **x = v; *x; x++)
			if ((r = add_filter(args, key, *x, e)) < 0)
				return r;
	}
	return 0;
}

/* A full reference in Docker's familiar form ("docker.io/library/bb:1" →
 * "bb:1"; without_tag: "bb"); NULL when it is none (an ID, a transport). */
static char *familiar(const char *s, bool without_tag)
{
	_cleanup_ref_ struct image_ref *ref = NULL;
	if (!s || !*s || str_has_prefix(s, "sha256:") || ref_parse(s, &ref, NULL) < 0)
		return NULL;
	if (without_tag) {
		free(ref->tag);
		free(ref->digest);
		ref->tag = ref->digest = NULL;
	}
	return ref_familiar(ref);
}

static void set_familiar(json_t *obj, const char *key, bool without_tag)
{
	char *f = familiar(json_string_value(json_object_get(obj, key)), without_tag);
	if (f)
		json_object_set_new(obj, key, json_string(f));
	free(f);
}

/* The journal names images in full, as Podman's events do; Docker's
 * clients get its familiar names: a container's image, an image event's
 * reference (pull and push: the reference as ID, its repository as
 * name). */
static void docker_line(struct buf *out, const char *line, size_t len, void *ctx)
{
	(void)ctx;
	json_auto_t *ev = json_loadb(line, len, 0, NULL);
	if (!json_is_object(ev))
		return;
	const char *type = json_str(ev, "Type"), *action = json_str(ev, "Action");
	json_t *actor = json_object_get(ev, "Actor");
	json_t *attrs = json_object_get(actor, "Attributes");
	if (type && !strcmp(type, "container")) {
		set_familiar(attrs, "image", false);
		set_familiar(ev, "from", false);
	} else if (type && !strcmp(type, "image")) {
		bool repo = action && (!strcmp(action, "pull") || !strcmp(action, "push"));
		set_familiar(actor, "ID", false);
		set_familiar(ev, "id", false);
		set_familiar(attrs, "name", repo);
	}
	_cleanup_free_ char *text = json_dumps(ev, JSON_COMPACT);
	if (text) {
		buf_append(out, text, strlen(text));
		buf_append(out, "\n", 1);
	}
}

enum MHD_Result api_events(struct api_req *r)
{
	_cleanup_strv_ char **args = NULL;
	_cleanup_json_ json_t *filters = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };
	api_arg(&args, "events");
	api_arg(&args, "--format=json");
	static const char *const times[] = { "since", "until" };
	for (size_t i = 0; i < ARRAY_SIZE(times); i++) {
		const char *v = api_query(r, times[i]);
		if (!v || !*v)
			continue;
		/* the API's times are unix seconds, "1700000000.000000000" */
		if (strspn(v, "0123456789.") != strlen(v) || *v == '.')
			return api_reply_error(r, 400, "invalid %s \"%s\"", times[i], v);
		api_argf(&args, "--%s=%s", times[i], v);
	}
	if (api_filters(r, &filters, &e) < 0 || filter_args(filters, &args, &e) < 0) {
		e.code = EINVAL;
		return api_reply_kerror(r, &e);
	}
	struct api_worker w;
	if (api_worker_start(r->srv, args, 0, &w, &e) < 0)
		return api_reply_kerror(r, &e);
	struct api_stream_opts o = { "application/json", false, docker_line, NULL, NULL, NULL };
	return api_reply_worker_stream(r, &w, &o);
}
