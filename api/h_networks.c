/* /networks/…: kiln's networks (`kiln network` as workers: the default
 * network is created on first look, which a read-only store cannot do) and
 * the built-in host and none, in Docker's shapes and status codes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_private.h"

static bool builtin(const char *name)
{
	return !strcmp(name, "host") || !strcmp(name, "none");
}

static json_t *builtin_json(const char *name)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:{}, s:[]}, s:b, s:b, s:b, "
			 "s:{}, s:{}, s:{}}",
			 "Name", name, "Id", name, "Created", "0001-01-01T00:00:00Z", "Scope",
			 "local", "Driver", name, "EnableIPv6", 0, "IPAM", "Driver", "default",
			 "Options", "Config", "Internal", 0, "Attachable", 0, "Ingress", 0,
			 "Containers", "Options", "Labels");
}

/* Docker's "bridge" is kiln's default network. */
static const char *kiln_name(const char *name)
{
	return !strcmp(name, "bridge") ? RUN_NET_DEFAULT : name;
}

/* `kiln network inspect names…` as a JSON array; *res set on failure. */
static json_t *inspect(struct api_req *r, char *const *names, enum MHD_Result *res)
{
	_cleanup_strv_ char **args = NULL;
	_cleanup_free_ char *out = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };
	json_t *j;
	api_arg(&args, "network");
	api_arg(&args, "inspect");
	for (char *const *n = names; *n; n++)
		api_arg(&args, kiln_name(*n));
	if (api_worker_simple(r, args, &out, res) < 0)
		return NULL;
	if (json_parse(out, strlen(out), &j, &e) < 0 || !json_is_array(j)) {
		*res = api_reply_error(r, 500, "reading kiln network inspect: %s",
				       e.msg ? e.msg : "not an array");
		return NULL;
	}
	return j;
}

/* Filters kiln network ls knows become its flags; type= is applied here
 * (*custom / *builtin: which kinds are wanted). */
static int ls_filters(struct api_req *r, char ***args, bool *custom, bool *builtins,
		      json_t **plain, struct kerror *e)
{
	_cleanup_json_ json_t *f = NULL;
	const char *key;
	json_t *vals;
	*custom = *builtins = true;
	if (api_filters(r, &f, e) < 0)
		return -EINVAL;
	*plain = json_object();
	json_object_foreach(f, key, vals) {
		_cleanup_strv_ char **v = api_filter_values(vals);
		if (!strcmp(key, "type")) {
			bool c = false, b = false;
			for (char **x = v; x && *x; x++) {
				c |= !strcmp(*x, "custom");
				b |= !strcmp(*x, "builtin");
				if (strcmp(*x, "custom") && strcmp(*x, "builtin"))
					return kerror_set(e, EINVAL, "invalid filter: 'type'='%s'", *x);
			}
			if (v && *v) {
				*custom = c;
				*builtins = b;
			}
			continue;
		}
		if (strcmp(key, "name") && strcmp(key, "id") && strcmp(key, "driver") &&
		    strcmp(key, "label"))
			continue; /* dangling, scope: nothing to narrow here */
		for (char **x = v; x && *x; x++) {
			api_argf(args, "--filter=%s=%s", key, *x);
			json_t *arr = json_object_get(*plain, key);
			if (!arr)
				json_object_set_new(*plain, key, arr = json_array());
			json_array_append_new(arr, json_string(*x));
		}
	}
	return 0;
}

/* host and none against the name/id/driver filters (labels: they have
 * none). */
static bool builtin_match(const char *name, const json_t *plain)
{
	const char *key;
	json_t *vals;
	json_object_foreach((json_t *)plain, key, vals) {
		bool any = false;
		size_t i;
		json_t *v;
		json_array_foreach(vals, i, v) {
			const char *s = json_string_value(v);
			any |= !strcmp(key, "name") ? strstr(name, s) != NULL
			     : !strcmp(key, "label") ? false
						     : str_has_prefix(name, s);
		}
		if (!any)
			return false;
	}
	return true;
}

/* `kiln network VERB FLAG` with the query's filters, its output lines in
 * *lines; *custom and *builtins: which kinds type= keeps.  Not run when
 * only_custom and type= leaves the custom networks out.  *res set on
 * failure. */
static int run_filtered(struct api_req *r, const char *verb, const char *flag, bool only_custom,
			char ***lines, bool *custom, bool *builtins, json_t **plain,
			enum MHD_Result *res)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_strv_ char **args = NULL;
	_cleanup_free_ char *out = NULL;
	api_arg(&args, "network");
	api_arg(&args, verb);
	api_arg(&args, flag);
	*lines = xcalloc(1, sizeof(char *));
	if (ls_filters(r, &args, custom, builtins, plain, &e) < 0) {
		e.code = EINVAL;
		*res = api_reply_kerror(r, &e);
		return -1;
	}
	if (only_custom && !*custom)
		return 0;
	if (api_worker_simple(r, args, &out, res) < 0)
		return -1;
	for (char *line = out, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (*line)
			api_arg(lines, line);
	}
	return 0;
}

static enum MHD_Result networks_json(struct api_req *r)
{
	_cleanup_strv_ char **lines = NULL, **names = NULL;
	_cleanup_json_ json_t *plain = NULL;
	enum MHD_Result res;
	bool custom, builtins;
	if (run_filtered(r, "ls", "--format={{.Name}}", false, &lines, &custom, &builtins, &plain,
			 &res) < 0)
		return res;
	/* the default network is Docker's built-in bridge */
	for (char **l = lines; *l; l++)
		if (strcmp(*l, RUN_NET_DEFAULT) ? custom : builtins)
			api_arg(&names, *l);
	json_t *list = names ? inspect(r, names, &res) : json_array();
	if (!list)
		return res;
	static const char *const fixed[] = { "host", "none" };
	for (size_t i = 0; builtins && i < ARRAY_SIZE(fixed); i++)
		if (builtin_match(fixed[i], plain))
			json_array_append_new(list, builtin_json(fixed[i]));
	return api_reply_json(r, 200, list);
}

static enum MHD_Result network_inspect(struct api_req *r)
{
	enum MHD_Result res;
	if (builtin(r->params[0]))
		return api_reply_json(r, 200, builtin_json(r->params[0]));
	char *one[] = { r->params[0], NULL };
	json_t *list = inspect(r, one, &res);
	if (!list)
		return res;
	json_t *n = json_incref(json_array_get(list, 0));
	json_decref(list);
	if (!n)
		return api_reply_error(r, 404, "network %s not found", r->params[0]);
	return api_reply_json(r, 200, n);
}

static enum MHD_Result network_create(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_json_ json_t *body = NULL;
	_cleanup_strv_ char **args = NULL;
	enum MHD_Result res;
	const char *k;
	json_t *v;
	size_t i;
	if (api_body_json(r, &body, &e) < 0)
		return api_reply_kerror(r, &e);
	const char *name = json_str(body, "Name"), *driver = json_str(body, "Driver");
	if (!name || !*name)
		return api_reply_error(r, 400, "network name is required");
	if (builtin(name) || !strcmp(name, "bridge"))
		return api_reply_error(r, 403, "%s is a pre-defined network and cannot be created",
				       name);
	if (json_is_true(json_object_get(body, "EnableIPv6")))
		return api_reply_error(r, 400, "IPv6 networks are not supported");
	api_arg(&args, "network");
	api_arg(&args, "create");
	if (driver && *driver)
		api_argf(&args, "--driver=%s", driver);
	if (json_is_true(json_object_get(body, "Internal")))
		api_arg(&args, "--internal");
	json_object_foreach(json_object_get(body, "Labels"), k, v)
		if (json_is_string(v))
			api_argf(&args, "--label=%s=%s", k, json_string_value(v));
	json_t *cfg = json_object_get(json_object_get(body, "IPAM"), "Config");
	if (json_array_size(cfg) > 1)
		return api_reply_error(r, 400, "only one IPAM configuration is supported");
	json_array_foreach(cfg, i, v) {
		const char *sub = json_str(v, "Subnet"), *gw = json_str(v, "Gateway");
		if (sub && *sub)
			api_argf(&args, "--subnet=%s", sub);
		if (gw && *gw)
			api_argf(&args, "--gateway=%s", gw);
	}
	api_arg(&args, name);
	if (api_worker_simple(r, args, NULL, &res) < 0)
		return res;
	char *one[] = { (char *)name, NULL };
	json_t *list = inspect(r, one, &res);
	if (!list)
		return res;
	json_t *out = json_pack("{s:s, s:s}", "Id", json_str(json_array_get(list, 0), "Id") ?: "",
				"Warning", "");
	json_decref(list);
	return api_reply_json(r, 201, out);
}

static enum MHD_Result network_delete(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_free_ char *out = NULL, *err = NULL;
	if (builtin(r->params[0]) || !strcmp(r->params[0], "bridge") ||
	    !strcmp(r->params[0], RUN_NET_DEFAULT))
		return api_reply_error(r, 403, "%s is a pre-defined network and cannot be removed",
				       r->params[0]);
	char *args[] = { "network", "rm", r->params[0], NULL };
	int st = api_worker_run(r->srv, args, NULL, 0, &out, &err, &e);
	if (st < 0)
		return api_reply_kerror(r, &e);
	if (st != 0) {
		/* Docker: a network with endpoints is Forbidden */
		if (strstr(err, "being used"))
			return api_reply_error(r, 403, "error while removing network: network %s "
						       "has active endpoints", r->params[0]);
		return api_reply_worker_error(r, err);
	}
	return api_reply_empty(r, 204);
}

static enum MHD_Result network_prune(struct api_req *r)
{
	_cleanup_strv_ char **lines = NULL;
	_cleanup_json_ json_t *plain = NULL;
	enum MHD_Result res;
	bool custom, builtins;
	if (run_filtered(r, "prune", "--force", true, &lines, &custom, &builtins, &plain, &res) < 0)
		return res;
	json_t *del = json_array();
	for (char **l = lines; *l; l++)
		if (strcmp(*l, "Deleted Networks:"))
			json_array_append_new(del, json_string(*l));
	return api_reply_json(r, 200, json_pack("{s:o}", "NetworksDeleted", del));
}

/* connect and disconnect: {"Container": …, "EndpointConfig": {"Aliases"}}
 * or {"Container": …, "Force": …}. */
static enum MHD_Result network_change(struct api_req *r, bool connect)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_json_ json_t *body = NULL;
	_cleanup_strv_ char **args = NULL;
	enum MHD_Result res;
	json_t *v;
	size_t i;
	if (api_body_json(r, &body, &e) < 0)
		return api_reply_kerror(r, &e);
	const char *ctr = json_str(body, "Container");
	if (!ctr || !*ctr)
		return api_reply_error(r, 400, "container is required");
	if (builtin(r->params[0]))
		return api_reply_error(r, 403, "container cannot be %s network %s",
				       connect ? "connected to" : "disconnected from", r->params[0]);
	api_arg(&args, "network");
	api_arg(&args, connect ? "connect" : "disconnect");
	json_array_foreach(json_object_get(json_object_get(body, "EndpointConfig"), "Aliases"), i, v)
		if (connect && json_is_string(v))
			api_argf(&args, "--alias=%s", json_string_value(v));
	if (!connect && json_is_true(json_object_get(body, "Force")))
		api_arg(&args, "--force");
	api_arg(&args, kiln_name(r->params[0]));
	api_arg(&args, ctr);
	if (api_worker_simple(r, args, NULL, &res) < 0)
		return res;
	return api_reply_empty(r, 200);
}

static enum MHD_Result network_connect(struct api_req *r)
{
	return network_change(r, true);
}

static enum MHD_Result network_disconnect(struct api_req *r)
{
	return network_change(r, false);
}

const struct api_route api_network_routes[] = {
	{ "GET", "/networks", networks_json, false },
	{ "POST", "/networks/create", network_create, false },
	{ "POST", "/networks/prune", network_prune, false },
	{ "GET", "/networks/{}", network_inspect, false },
	{ "DELETE", "/networks/{}", network_delete, false },
	{ "POST", "/networks/{}/connect", network_connect, false },
	{ "POST", "/networks/{}/disconnect", network_disconnect, false },
	{ NULL, NULL, NULL, false },
};
