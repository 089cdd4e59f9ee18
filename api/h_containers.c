/* /containers/… : lists and waits read the store in the request's thread;
 * create, start, stop, logs, attach, cp… run the CLI command as a worker. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "api/api_private.h"

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static json_t *plan_json(const struct container_info *c)
{
	json_t *j = NULL;
	if (c->plan && json_parse(c->plan, strlen(c->plan), &j, NULL) == 0)
		return j;
	return json_object();
}

static char *quote_argv(const json_t *argv)
{
	struct buf b = { 0 };
	size_t i;
	json_t *a;
	json_array_foreach(argv, i, a)
		buf_printf(&b, "%s%s", i ? " " : "", json_is_string(a) ? json_string_value(a) : "");
	return b.data ? buf_steal(&b) : xstrdup("");
}

static const char *state_of(struct store *s, const struct container_info *c)
{
	if (c->state == CTR_RUNNING && run_is_paused(s, c->id))
		return "paused";
	return ctr_state_name(c->state);
}

static json_t *container_summary(struct store *s, const struct container_info *c)
{
	_cleanup_json_ json_t *plan = plan_json(c);
	_cleanup_free_ char *cmd = quote_argv(json_object_get(plan, "argv"));
	char status[96], age[64];
	int64_t now = now_ns() / 1000000000LL;
	const char *st = state_of(s, c);
	if (c->state == CTR_RUNNING) {
		format_age(c->started / 1000000000LL, now, age, sizeof(age));
		/* "2 minutes ago" → "Up 2 minutes" */
		char *ago = strstr(age, " ago");
		if (ago)
			*ago = '\0';
		snprintf(status, sizeof(status), "Up %s%s", age,
			 strcmp(st, "paused") ? "" : " (Paused)");
	} else if (c->state == CTR_EXITED) {
		format_age(c->finished / 1000000000LL, now, age, sizeof(age));
		snprintf(status, sizeof(status), "Exited (%d) %s", c->exit_code, age);
	} else {
		snprintf(status, sizeof(status), "Created");
	}
	_cleanup_free_ char *name = xasprintf("/%s", c->name);
	json_t *mounts = json_array();
	_cleanup_strv_ char **vols = run_plan_volumes(c->plan);
	for (char **v = vols; v && *v; v++)
		json_array_append_new(mounts, json_pack("{s:s, s:s}", "Type", "volume", "Name", *v));
	_cleanup_free_ char *image = NULL;
	{
		_cleanup_ref_ struct image_ref *ref = NULL;
		image = ref_parse(c->image_name, &ref, NULL) == 0 ? ref_familiar(ref)
								  : xstrdup(c->image_name);
	}
	/* the networks by name (their addresses: inspect) */
	json_t *nets = json_object();
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(plan, "networks"), i, v)
		if (json_is_string(v))
			json_object_set_new(nets, json_string_value(v), json_object());
	return json_pack("{s:s, s:[s], s:s, s:s, s:s, s:I, s:[], s:{}, s:s, s:s, s:{s:s},"
			 " s:{s:o}, s:o}",
			 "Id", c->id, "Names", name, "Image", image, "ImageID",
			 (char[DIGEST_STR_LEN + 1]){ 0 }, "Command", cmd, "Created",
			 (json_int_t)(c->created / 1000000000LL), "Ports", "Labels", "State", st,
			 "Status", status, "HostConfig", "NetworkMode", run_host_network_mode(plan),
			 "NetworkSettings", "Networks", nets, "Mounts", mounts);
}

int api_containers_summary(struct store *s, bool all, bool size, json_t **out, struct kerror *e)
{
	struct container_info **list = NULL;
	size_t n = 0;
	(void)size;
	int r = store_container_list(s, &list, &n, e);
	if (r < 0)
		return r;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!all && list[i]->state != CTR_RUNNING)
			continue;
		json_t *j = container_summary(s, list[i]);
		char id[DIGEST_STR_LEN + 1];
		snprintf(id, sizeof(id), "sha256:%s", list[i]->image_id);
		json_object_set_new(j, "ImageID", json_string(id));
		json_array_append_new(a, j);
	}
	container_list_free(list, n);
	*out = a;
	return 0;
}

static bool filter_match(const json_t *filters, const json_t *c)
{
	const char *k;
	json_t *vals;
	json_object_foreach((json_t *)filters, k, vals) {
		_cleanup_strv_ char **v = api_filter_values(vals);
		bool any = false;
		for (char **x = v; *x; x++) {
			if (!strcmp(k, "id"))
				any |= str_has_prefix(json_str(c, "Id"), *x);
			else if (!strcmp(k, "name")) {
				const char *n = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
				any |= n && strstr(n, *x);
			} else if (!strcmp(k, "status"))
				any |= !strcmp(json_str(c, "State"), *x);
			else
				any = true; /* unknown filters do not narrow */
		}
		if (!any && *v)
			return false;
	}
	return true;
}

static enum MHD_Result containers_json(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_api_store_ struct store *s = NULL;
	_cleanup_json_ json_t *filters = NULL;
	json_t *all = NULL;
	if (api_filters(r, &filters, &e) < 0 || api_store(r, &s, &e) < 0 ||
	    api_containers_summary(s, api_query_bool(r, "all"), false, &all, &e) < 0)
		return api_reply_kerror(r, &e);
	if (!json_object_size(filters))
		return api_reply_json(r, 200, all);
	json_t *out = json_array(), *c;
	size_t i;
	json_array_foreach(all, i, c)
		if (filter_match(filters, c))
			json_array_append(out, c);
	json_decref(all);
	return api_reply_json(r, 200, out);
}

/* ---- create ---------------------------------------------------------------- */

static void strv_flags(char ***args, const json_t *arr, const char *flag)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		if (json_is_string(v))
			api_argf(args, "%s=%s", flag, json_string_value(v));
}

/* Healthcheck: {"Test": ["CMD", …] | ["CMD-SHELL", "…"] | ["NONE"],
 * "Interval", "Timeout", "StartPeriod" (ns), "Retries"}. */
static void health_flags(char ***args, const json_t *h)
{
	static const struct {
		const char *key, *flag;
	} times[] = { { "Interval", "--health-interval" },
		      { "Timeout", "--health-timeout" },
		      { "StartPeriod", "--health-start-period" } };
	json_t *test = json_object_get(h, "Test");
	const char *first = json_string_value(json_array_get(test, 0));
	if (first && !strcmp(first, "NONE")) {
		api_arg(args, "--no-healthcheck");
		return;
	}
	if (first) {
		_cleanup_free_ char *t = json_dump_compact(test);
		api_argf(args, "--health-cmd=%s", t);
	}
	for (size_t i = 0; i < ARRAY_SIZE(times); i++) {
		int64_t ns = json_int(h, times[i].key, 0);
		if (ns > 0)
			api_argf(args, "%s=%lldns", times[i].flag, (long long)ns);
	}
	if (json_int(h, "Retries", 0) > 0)
		api_argf(args, "--health-retries=%lld", (long long)json_int(h, "Retries", 0));
}

static enum MHD_Result container_create(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_json_ json_t *body = NULL;
	_cleanup_strv_ char **args = NULL;
	_cleanup_free_ char *out = NULL, *err = NULL;
	if (api_body_json(r, &body, &e) < 0)
		return api_reply_kerror(r, &e);
	const char *image = json_str(body, "Image");
	if (!image || !*image)
		return api_reply_error(r, 400, "config cannot be empty in order to create a container");
	json_t *hc = json_object_get(body, "HostConfig"), *v;
	api_arg(&args, "create");
	const char *name = api_query(r, "name");
	if (name && *name)
		api_argf(&args, "--name=%s", name[0] == '/' ? name + 1 : name);
	if (json_is_true(json_object_get(body, "Tty")))
		api_arg(&args, "--tty");
	if (json_is_true(json_object_get(body, "OpenStdin")))
		api_arg(&args, "--interactive");
	strv_flags(&args, json_object_get(body, "Env"), "--env");
	if ((v = json_object_get(body, "WorkingDir")) && json_string_length(v))
		api_argf(&args, "--workdir=%s", json_string_value(v));
	if ((v = json_object_get(body, "User")) && json_string_length(v))
		api_argf(&args, "--user=%s", json_string_value(v));
	if ((v = json_object_get(body, "Hostname")) && json_string_length(v))
		api_argf(&args, "--hostname=%s", json_string_value(v));
	if ((v = json_object_get(body, "StopSignal")) && json_string_length(v))
		api_argf(&args, "--stop-signal=%s", json_string_value(v));
	if ((v = json_object_get(body, "StopTimeout")) && json_is_integer(v))
		api_argf(&args, "--stop-timeout=%lld", (long long)json_integer_value(v));
	v = json_object_get(body, "Entrypoint");
	if (json_is_array(v) && json_array_size(v) > 1)
		return api_reply_error(r, 400, "an entrypoint of more than one word is not "
					       "supported; put the rest in Cmd");
	if (json_is_array(v))
		api_argf(&args, "--entrypoint=%s",
			 json_array_size(v) ? json_string_value(json_array_get(v, 0)) ?: "" : "");
	else if (json_is_string(v))
		api_argf(&args, "--entrypoint=%s", json_string_value(v));
	if (json_is_object(hc)) {
		if (json_is_true(json_object_get(hc, "AutoRemove")))
			api_arg(&args, "--rm");
		if (json_is_true(json_object_get(hc, "Privileged")))
			api_arg(&args, "--privileged");
		if (json_is_true(json_object_get(hc, "ReadonlyRootfs")))
			api_arg(&args, "--read-only");
		strv_flags(&args, json_object_get(hc, "Binds"), "--volume");
		strv_flags(&args, json_object_get(hc, "CapAdd"), "--cap-add");
		strv_flags(&args, json_object_get(hc, "CapDrop"), "--cap-drop");
		strv_flags(&args, json_object_get(hc, "SecurityOpt"), "--security-opt");
		const char *k;
		json_object_foreach(json_object_get(hc, "Tmpfs"), k, v)
			api_argf(&args, "--tmpfs=%s%s%s", k, json_string_length(v) ? ":" : "",
				 json_string_length(v) ? json_string_value(v) : "");
		size_t i;
		json_array_foreach(json_object_get(hc, "Mounts"), i, v) {
			const char *t = json_str(v, "Type"), *src = json_str(v, "Source"),
				   *dst = json_str(v, "Target");
			if (t && dst)
				api_argf(&args, "--mount=type=%s%s%s,target=%s%s", t,
					 src && *src ? ",source=" : "", src && *src ? src : "", dst,
					 json_is_true(json_object_get(v, "ReadOnly")) ? ",ro" : "");
		}
		json_t *rp = json_object_get(hc, "RestartPolicy");
		const char *rname = json_str(rp, "Name");
		if (rname && *rname && strcmp(rname, "no")) {
			int64_t max = json_int(rp, "MaximumRetryCount", 0);
			if (!strcmp(rname, "on-failure") && max > 0)
				api_argf(&args, "--restart=on-failure:%lld", (long long)max);
			else
				api_argf(&args, "--restart=%s", rname);
		}
		const char *net = json_str(hc, "NetworkMode");
		if (net && *net)
			api_argf(&args, "--network=%s", net);
		int64_t n;
		if ((n = json_int(hc, "Memory", 0)) > 0)
			api_argf(&args, "--memory=%lld", (long long)n);
		if ((n = json_int(hc, "PidsLimit", 0)) != 0)
			api_argf(&args, "--pids-limit=%lld", (long long)n);
		if ((n = json_int(hc, "CpuShares", 0)) > 0)
			api_argf(&args, "--cpu-shares=%lld", (long long)n);
		if ((n = json_int(hc, "NanoCpus", 0)) > 0)
			api_argf(&args, "--cpus=%.3f", (double)n / 1e9);
	}
	health_flags(&args, json_object_get(body, "Healthcheck"));
	api_arg(&args, image);
	size_t i;
	json_array_foreach(json_object_get(body, "Cmd"), i, v)
		if (json_is_string(v))
			api_arg(&args, json_string_value(v));
	int st = api_worker_run(r->srv, args, NULL, 0, &out, &err, &e);
	if (st < 0)
		return api_reply_kerror(r, &e);
	if (st != 0) {
		if (strstr(err, "image not known"))
			return api_reply_error(r, 404, "No such image: %s", image);
		return api_reply_worker_error(r, err);
	}
	out[strcspn(out, "\n")] = '\0';
	return api_reply_json(r, 201, json_pack("{s:s, s:[]}", "Id", out, "Warnings"));
}

/* ---- simple verbs ---------------------------------------------------------- */

static enum MHD_Result verb(struct api_req *r, char *const *args, unsigned ok)
{
	enum MHD_Result res;
	if (api_worker_simple(r, args, NULL, &res) < 0)
		return res;
	return api_reply_empty(r, ok);
}

static int get_container(struct api_req *r, struct container_info **out, enum MHD_Result *res)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_api_store_ struct store *s = NULL;
	if (api_store(r, &s, &e) < 0 || store_container_get(s, r->params[0], out, &e) < 0) {
		*res = api_reply_kerror(r, &e);
		return -1;
	}
	return 0;
}

static enum MHD_Result container_start(struct api_req *r)
{
	_cleanup_container_info_ struct container_info *c = NULL;
	enum MHD_Result res;
	if (get_container(r, &c, &res) < 0)
		return res;
	if (c->state == CTR_RUNNING)
		return api_reply_empty(r, 304);
	char *args[] = { "start", c->id, NULL };
	return verb(r, args, 204);
}

static enum MHD_Result container_stop(struct api_req *r)
{
	_cleanup_container_info_ struct container_info *c = NULL;
	enum MHD_Result res;
	if (get_container(r, &c, &res) < 0)
		return res;
	if (c->state != CTR_RUNNING)
		return api_reply_empty(r, 304);
	const char *t = api_query(r, "t");
	_cleanup_free_ char *tf = xasprintf("--time=%d", t && *t ? atoi(t) : 10);
	char *args[] = { "stop", tf, c->id, NULL };
	return verb(r, args, 204);
}

static enum MHD_Result container_restart(struct api_req *r)
{
	const char *t = api_query(r, "t");
	_cleanup_free_ char *tf = xasprintf("--time=%d", t && *t ? atoi(t) : 10);
	char *args[] = { "restart", tf, r->params[0], NULL };
	return verb(r, args, 204);
}

static enum MHD_Result container_kill(struct api_req *r)
{
	const char *sig = api_query(r, "signal");
	_cleanup_free_ char *sf = xasprintf("--signal=%s", sig && *sig ? sig : "KILL");
	char *args[] = { "kill", sf, r->params[0], NULL };
	return verb(r, args, 204);
}

static enum MHD_Result container_pause(struct api_req *r)
{
	char *args[] = { "pause", r->params[0], NULL };
	return verb(r, args, 204);
}

static enum MHD_Result container_unpause(struct api_req *r)
{
	char *args[] = { "unpause", r->params[0], NULL };
	return verb(r, args, 204);
}

static enum MHD_Result container_rename(struct api_req *r)
{
	const char *name = api_query(r, "name");
	if (!name || !*name)
		return api_reply_error(r, 400, "name is required");
	char *args[] = { "rename", r->params[0], (char *)name, NULL };
	return verb(r, args, 204);
}

static enum MHD_Result container_delete(struct api_req *r)
{
	_cleanup_strv_ char **args = NULL;
	api_arg(&args, "rm");
	if (api_query_bool(r, "force"))
		api_arg(&args, "--force");
	if (api_query_bool(r, "v"))
		api_arg(&args, "--volumes");
	api_arg(&args, r->params[0]);
	return verb(r, args, 204);
}

static enum MHD_Result container_prune(struct api_req *r)
{
	char *args[] = { "container", "prune", "--force", NULL };
	_cleanup_free_ char *out = NULL;
	enum MHD_Result res;
	if (api_worker_simple(r, args, &out, &res) < 0)
		return res;
	json_t *del = json_array();
	for (char *line = out; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strlen(line) == 64)
			json_array_append_new(del, json_string(line));
		line = nl ? nl + 1 : NULL;
	}
	return api_reply_json(r, 200, json_pack("{s:o, s:I}", "ContainersDeleted", del,
						"SpaceReclaimed", (json_int_t)0));
}

static enum MHD_Result container_inspect(struct api_req *r)
{
	char *args[] = { "container", "inspect", r->params[0], NULL };
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
	if (!one)
		return api_reply_error(r, 404, "no such container");
	/* Clients read the log driver to know whether /logs works (docker-py
	 * only reads logs for json-file, journald and local): kiln's k8s-file
	 * log serves /logs the same way, so it says json-file. */
	json_t *hc = json_object_get(one, "HostConfig");
	if (!json_is_object(hc)) {
		hc = json_object();
		json_object_set_new(one, "HostConfig", hc);
	}
	json_object_set_new(hc, "LogConfig", json_pack("{s:s, s:{}}", "Type", "json-file", "Config"));
	return api_reply_json(r, 200, one);
}

static enum MHD_Result container_changes(struct api_req *r)
{
	char *args[] = { "diff", r->params[0], NULL };
	_cleanup_free_ char *out = NULL;
	enum MHD_Result res;
	if (api_worker_simple(r, args, &out, &res) < 0)
		return res;
	json_t *a = json_array();
	for (char *line = out; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strlen(line) > 2 && line[1] == ' ')
			json_array_append_new(a, json_pack("{s:s, s:i}", "Path", line + 2, "Kind",
							   line[0] == 'C' ? 0 : line[0] == 'A' ? 1 : 2));
		line = nl ? nl + 1 : NULL;
	}
	if (!json_array_size(a)) {
		json_decref(a);
		return api_reply_json(r, 200, json_null());
	}
	return api_reply_json(r, 200, a);
}

/* ---- wait ------------------------------------------------------------------ */

/* Docker sends the headers at once and the body when the condition is
 * met: the client starts the container only after its wait request was
 * answered, so the wait is a streamed reply whose reader blocks. */
struct waiter {
	struct store *s;
	char id[DIGEST_HEX_LEN + 1];
	bool removed, next;
	int64_t since;
	int conn_fd;
	bool done;
};

static ssize_t wait_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct waiter *w = cls;
	int code = 0;
	(void)pos;
	if (w->done)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* Polled: the monitor records the exit in the DB, and with --rm
	 * removes the row right after. */
	for (;;) {
		_cleanup_container_info_ struct container_info *c = NULL;
		_cleanup_kerror_ struct kerror e = { 0 };
		int rc = store_container_get(w->s, w->id, &c, &e);
		if (rc == -ENOENT) {
			int taken = run_removed_exit_take(w->s, w->id);
			if (taken >= 0)
				code = taken;
			break;
		}
		if (rc == 0) {
			if (c->state == CTR_EXITED)
				code = c->exit_code < 0 ? 0 : c->exit_code;
			bool done = w->removed ? false
				    : w->next  ? c->state == CTR_EXITED && c->finished >= w->since
					       : c->state != CTR_RUNNING;
			if (done)
				break;
		}
		struct pollfd p = { w->conn_fd, POLLRDHUP, 0 };
		if (poll(&p, 1, 10) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return MHD_CONTENT_READER_END_WITH_ERROR; /* the client left */
	}
	w->done = true;
	int n = snprintf(buf, max, "{\"Error\":null,\"StatusCode\":%d}\n", code);
	return n < 0 || (size_t)n >= max ? MHD_CONTENT_READER_END_WITH_ERROR : n;
}

static void wait_free(void *cls)
{
	struct waiter *w = cls;
	api_store_put(w->s);
	free(w);
}

static enum MHD_Result container_wait(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	const char *cond = api_query(r, "condition");
	struct waiter *w = xcalloc(1, sizeof(*w));
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	w->removed = cond && !strcmp(cond, "removed");
	w->next = cond && !strcmp(cond, "next-exit");
	w->since = now_ns();
	w->conn_fd = ci ? ci->connect_fd : -1;
	_cleanup_container_info_ struct container_info *c = NULL;
	if (api_store(r, &w->s, &e) < 0 || store_container_get(w->s, r->params[0], &c, &e) < 0) {
		wait_free(w);
		return api_reply_kerror(r, &e);
	}
	snprintf(w->id, sizeof(w->id), "%s", c->id);
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, wait_reader, w, wait_free);
	if (!resp) {
		wait_free(w);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Api-Version", API_VERSION);
	enum MHD_Result res = MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	return res;
}

/* ---- files --------------------------------------------------------------------- */

static enum MHD_Result container_export(struct api_req *r)
{
	char *args[] = { "export", r->params[0], NULL };
	_cleanup_kerror_ struct kerror e = { 0 };
	struct api_worker w;
	if (api_worker_start(r->srv, args, 0, &w, &e) < 0)
		return api_reply_kerror(r, &e);
	struct api_stream_opts o = { "application/x-tar", false, NULL, NULL, NULL, NULL };
	return api_reply_worker_stream(r, &w, &o);
}

const struct api_route api_container_routes[] = {
	{ "GET", "/containers/json", containers_json, false },
	{ "POST", "/containers/create", container_create, false },
	{ "POST", "/containers/prune", container_prune, false },
	{ "GET", "/containers/{}/json", container_inspect, false },
	{ "POST", "/containers/{}/start", container_start, false },
	{ "POST", "/containers/{}/stop", container_stop, false },
	{ "POST", "/containers/{}/restart", container_restart, false },
	{ "POST", "/containers/{}/kill", container_kill, false },
	{ "POST", "/containers/{}/pause", container_pause, false },
	{ "POST", "/containers/{}/unpause", container_unpause, false },
	{ "POST", "/containers/{}/rename", container_rename, false },
	{ "POST", "/containers/{}/wait", container_wait, false },
	{ "POST", "/containers/{}/resize", api_container_resize, false },
	{ "POST", "/containers/{}/attach", api_container_attach, false },
	{ "GET", "/containers/{}/logs", api_container_logs, false },
	{ "GET", "/containers/{}/changes", container_changes, false },
	{ "GET", "/containers/{}/top", api_container_top, false },
	{ "GET", "/containers/{}/export", container_export, false },
	{ "DELETE", "/containers/{}", container_delete, false },
	{ NULL, NULL, NULL, false },
};
