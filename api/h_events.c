/* /events: `kiln events --format json` in a worker, its lines streamed as
 * they come (Docker's newline-separated JSON messages).  since/until are
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
	struct api_stream_opts o = { "application/json", false, NULL, NULL, NULL, NULL };
	return api_reply_worker_stream(r, &w, &o);
}
