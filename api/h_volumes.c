/* /volumes/…: `kiln volume` as workers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_private.h"

int api_volumes_list(struct api_req *r, json_t **out, struct kerror *e)
{
	char *args[] = { "volume", "ls", "--format", "json", NULL };
	_cleanup_free_ char *o = NULL, *err = NULL;
	int st = api_worker_run(r->srv, args, NULL, 0, &o, &err, e);
	if (st < 0)
		return st;
	if (st != 0)
		return kerror_set(e, EIO, "listing volumes: %s", err);
	json_t *j = NULL, *a = json_array();
	/* an array, or one object per line */
	if (json_parse(o, strlen(o), &j, NULL) == 0 && json_is_array(j)) {
		json_decref(a);
		a = j;
	} else {
		json_decref(j);
		for (char *line = o; line && *line;) {
			char *nl = strchr(line, '\n');
			size_t n = nl ? (size_t)(nl - line) : strlen(line);
			if (n && json_parse(line, n, &j, NULL) == 0)
				json_array_append_new(a, j);
			line = nl ? nl + 1 : NULL;
		}
	}
	*out = a;
	return 0;
}

static enum MHD_Result volumes_json(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	json_t *a;
	if (api_volumes_list(r, &a, &e) < 0)
		return api_reply_kerror(r, &e);
	return api_reply_json(r, 200, json_pack("{s:o, s:[]}", "Volumes", a, "Warnings"));
}

static enum MHD_Result volume_inspect_name(struct api_req *r, const char *name, unsigned st)
{
	char *args[] = { "volume", "inspect", (char *)name, NULL };
	_cleanup_free_ char *out = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };
	enum MHD_Result res;
	json_t *j;
	if (api_worker_simple(r, args, &out, &res) < 0)
		return res;
	if (json_parse(out, strlen(out), &j, &e) < 0)
		return api_reply_kerror(r, &e);
	json_t *one = json_incref(json_array_get(j, 0));
	json_decref(j);
	return one ? api_reply_json(r, st, one) : api_reply_error(r, 404, "no such volume");
}

static enum MHD_Result volume_inspect(struct api_req *r)
{
	return volume_inspect_name(r, r->params[0], 200);
}

static enum MHD_Result volume_create(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_json_ json_t *body = NULL;
	_cleanup_strv_ char **args = NULL;
	_cleanup_free_ char *out = NULL;
	enum MHD_Result res;
	const char *k;
	json_t *v;
	if (api_body_json(r, &body, &e) < 0)
		return api_reply_kerror(r, &e);
	api_arg(&args, "volume");
	api_arg(&args, "create");
	json_object_foreach(json_object_get(body, "Labels"), k, v)
		if (json_is_string(v))
			api_argf(&args, "--label=%s=%s", k, json_string_value(v));
	const char *name = json_str(body, "Name");
	if (name && *name)
		api_arg(&args, name);
	if (api_worker_simple(r, args, &out, &res) < 0)
		return res;
	out[strcspn(out, "\n")] = '\0';
	return volume_inspect_name(r, out, 201);
}

static enum MHD_Result volume_delete(struct api_req *r)
{
	_cleanup_strv_ char **args = NULL;
	enum MHD_Result res;
	api_arg(&args, "volume");
	api_arg(&args, "rm");
	if (api_query_bool(r, "force"))
		api_arg(&args, "--force");
	api_arg(&args, r->params[0]);
	if (api_worker_simple(r, args, NULL, &res) < 0)
		return res;
	return api_reply_empty(r, 204);
}

static enum MHD_Result volume_prune(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_json_ json_t *filters = NULL;
	_cleanup_free_ char *out = NULL;
	enum MHD_Result res;
	if (api_filters(r, &filters, &e) < 0)
		return api_reply_kerror(r, &e);
	/* docker volume prune -a sends filters={"all":["true"]} */
	json_t *all = json_object_get(filters, "all");
	bool every = json_is_object(all) ? json_object_get(all, "true") || json_object_get(all, "1")
		     : json_is_array(all) && json_array_size(all);
	char *args[] = { "volume", "prune", "--force", every ? "--all" : NULL, NULL };
	if (api_worker_simple(r, args, &out, &res) < 0)
		return res;
	json_t *del = json_array();
	for (char *line = out; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (*line && !strchr(line, ' ') && !strchr(line, ':'))
			json_array_append_new(del, json_string(line));
		line = nl ? nl + 1 : NULL;
	}
	return api_reply_json(r, 200, json_pack("{s:o, s:I}", "VolumesDeleted", del,
						"SpaceReclaimed", (json_int_t)0));
}

const struct api_route api_volume_routes[] = {
	{ "GET", "/volumes", volumes_json, false },
	{ "POST", "/volumes/create", volume_create, false },
	{ "POST", "/volumes/prune", volume_prune, false },
	{ "GET", "/volumes/{}", volume_inspect, false },
	{ "DELETE", "/volumes/{}", volume_delete, false },
	{ NULL, NULL, NULL, false },
};
