/* Exec sessions: /containers/{id}/exec records the session in
 * <runroot>/exec/<id>.json (Docker's two-step create/start needs it to
 * outlive the request); /exec/{id}/start runs `kiln exec` on the hijacked
 * connection and records the exit code there for /exec/{id}/json. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>

#include "api/api_private.h"

static char *exec_path(struct api_server *srv, const char *id)
{
	return xasprintf("%s/exec/%s.json", srv->o->store.runroot, id);
}

static bool valid_id(const char *id)
{
	if (strlen(id) != 64)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static int exec_load(struct api_server *srv, const char *id, json_t **out, struct kerror *e)
{
	if (!valid_id(id))
		return kerror_set(e, ENOENT, "No such exec instance: %s", id);
	_cleanup_free_ char *p = exec_path(srv, id), *data = NULL;
	size_t len;
	if (fs_read_file(p, 1 << 20, &data, &len, NULL) < 0)
		return kerror_set(e, ENOENT, "No such exec instance: %s", id);
	return json_parse(data, len, out, e);
}

static int exec_save(struct api_server *srv, const char *id, json_t *j, struct kerror *e)
{
	_cleanup_free_ char *dir = xasprintf("%s/exec", srv->o->store.runroot);
	_cleanup_free_ char *p = exec_path(srv, id), *text = json_dump_compact(j);
	int r = fs_mkdir_p(dir, 0700, e);
	if (r == 0)
		r = fs_write_atomic(p, text, strlen(text), 0600, e);
	return r;
}

static enum MHD_Result exec_create(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_json_ json_t *body = NULL;
	_cleanup_api_store_ struct store *s = NULL;
	_cleanup_container_info_ struct container_info *c = NULL;
	unsigned char b[32];
	char id[65];
	if (api_body_json(r, &body, &e) < 0)
		return api_reply_kerror(r, &e);
	if (!json_is_array(json_object_get(body, "Cmd")) || !json_array_size(json_object_get(body, "Cmd")))
		return api_reply_error(r, 400, "no exec command specified");
	if (api_store(r, &s, &e) < 0 || store_container_get(s, r->params[0], &c, &e) < 0)
		return api_reply_kerror(r, &e);
	if (c->state != CTR_RUNNING)
		return api_reply_error(r, 409, "container %s is not running", c->id);
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return api_reply_error(r, 500, "no randomness");
	for (int i = 0; i < 32; i++)
		snprintf(id + 2 * i, 3, "%02x", b[i]);
	json_object_set_new(body, "ContainerID", json_string(c->id));
	json_object_set_new(body, "Running", json_false());
	json_object_set_new(body, "ExitCode", json_null());
	if (exec_save(r->srv, id, body, &e) < 0)
		return api_reply_kerror(r, &e);
	return api_reply_json(r, 201, json_pack("{s:s}", "Id", id));
}

struct exec_ctx {
	char id[65];
};

static void exec_done(struct api_server *srv, void *ctx, int code)
{
	struct exec_ctx *x = ctx;
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_json_ json_t *j = NULL;
	if (exec_load(srv, x->id, &j, &e) < 0)
		return;
	json_object_set_new(j, "Running", json_false());
	json_object_set_new(j, "ExitCode", json_integer(code));
	exec_save(srv, x->id, j, &e);
}

static void exec_tty_done(struct api_server *srv, void *ctx, int code)
{
	struct exec_ctx *x = ctx;
	api_tty_remove(srv, x->id);
	exec_done(srv, ctx, code);
}

static int exec_begin(struct api_server *srv, void *ctx, int sock)
{
	struct exec_ctx *x = ctx;
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_json_ json_t *j = NULL;
	(void)sock;
	if (exec_load(srv, x->id, &j, &e) == 0) {
		json_object_set_new(j, "Running", json_true());
		exec_save(srv, x->id, j, &e);
	}
	return 0;
}

static enum MHD_Result exec_start(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_json_ json_t *cfg = NULL, *body = NULL;
	if (exec_load(r->srv, r->params[0], &cfg, &e) < 0 || api_body_json(r, &body, &e) < 0)
		return api_reply_kerror(r, &e);
	bool tty = json_is_true(json_object_get(body, "Tty")) ||
		   json_is_true(json_object_get(cfg, "Tty"));
	bool detach = json_is_true(json_object_get(body, "Detach"));
	bool in = json_is_true(json_object_get(cfg, "AttachStdin"));
	char **args = NULL;
	size_t i;
	json_t *v;
	api_arg(&args, "exec");
	if (tty)
		api_arg(&args, "--tty");
	if (in)
		api_arg(&args, "--interactive");
	if (detach)
		api_arg(&args, "--detach");
	json_array_foreach(json_object_get(cfg, "Env"), i, v)
		if (json_is_string(v))
			api_argf(&args, "--env=%s", json_string_value(v));
	if (json_str(cfg, "User") && *json_str(cfg, "User"))
		api_argf(&args, "--user=%s", json_str(cfg, "User"));
	if (json_str(cfg, "WorkingDir") && *json_str(cfg, "WorkingDir"))
		api_argf(&args, "--workdir=%s", json_str(cfg, "WorkingDir"));
	api_arg(&args, json_str(cfg, "ContainerID"));
	json_array_foreach(json_object_get(cfg, "Cmd"), i, v)
		if (json_is_string(v))
			api_arg(&args, json_string_value(v));
	struct exec_ctx *x = xcalloc(1, sizeof(*x));
	snprintf(x->id, sizeof(x->id), "%s", r->params[0]);
	if (detach) {
		_cleanup_free_ char *out = NULL;
		enum MHD_Result res;
		int rc = api_worker_simple(r, args, &out, &res);
		strv_free(args);
		free(x);
		return rc < 0 ? res : api_reply_empty(r, 200);
	}
	if (!tty)
		return api_reply_hijack(r, args, in ? WORKER_STDIN : 0, false, exec_begin, x,
					exec_done);
	/* kiln exec -t runs on a pty of ours, so that /exec/{id}/resize can
	 * reach it; ConsoleSize ([rows, cols], API 1.42) is its first size */
	int master;
	if (api_pty_open(&master, &e) < 0) {
		strv_free(args);
		free(x);
		return api_reply_kerror(r, &e);
	}
	json_t *cs = json_object_get(body, "ConsoleSize");
	if (!json_is_array(cs))
		cs = json_object_get(cfg, "ConsoleSize");
	if (json_is_array(cs) && json_array_size(cs) == 2) {
		json_int_t h = json_integer_value(json_array_get(cs, 0)),
			   w = json_integer_value(json_array_get(cs, 1));
		struct winsize ws = { .ws_row = (unsigned short)h, .ws_col = (unsigned short)w };
		if (h > 0 && w > 0 && h <= 65535 && w <= 65535)
			ioctl(master, TIOCSWINSZ, &ws);
	}
	/* listed now, not when the connection is upgraded: the docker client
	 * resizes as soon as it has the 101 (a client that leaves before it
	 * gets one leaves this entry behind) */
	api_tty_add(r->srv, x->id, master);
	return api_reply_hijack_pty(r, args, master, in, exec_begin, x, exec_tty_done);
}

static enum MHD_Result exec_inspect(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	json_t *cfg = NULL;
	if (exec_load(r->srv, r->params[0], &cfg, &e) < 0)
		return api_reply_kerror(r, &e);
	json_t *out = json_pack(
		"{s:s, s:O, s:O, s:s, s:b, s:b, s:b, s:{s:s, s:O, s:b, s:O}, s:i}", "ID",
		r->params[0], "Running", json_object_get(cfg, "Running"), "ExitCode",
		json_object_get(cfg, "ExitCode"), "ContainerID", json_str(cfg, "ContainerID"),
		"OpenStdin", json_is_true(json_object_get(cfg, "AttachStdin")), "OpenStdout", 1,
		"OpenStderr", 1, "ProcessConfig", "user", json_str(cfg, "User") ?: "", "tty",
		json_object_get(cfg, "Tty") ?: json_false(), "privileged", 0, "arguments",
		json_object_get(cfg, "Cmd"), "Pid", 0);
	json_decref(cfg);
	return out ? api_reply_json(r, 200, out) : api_reply_error(r, 500, "bad exec record");
}

static enum MHD_Result exec_resize(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_json_ json_t *cfg = NULL;
	const char *hs = api_query(r, "h"), *ws = api_query(r, "w");
	char *end1 = NULL, *end2 = NULL;
	long h = hs ? strtol(hs, &end1, 10) : -1, w = ws ? strtol(ws, &end2, 10) : -1;
	if (!hs || !ws || *end1 || *end2 || h < 0 || w < 0 || h > 65535 || w > 65535)
		return api_reply_error(r, 400, "invalid window size");
	if (exec_load(r->srv, r->params[0], &cfg, &e) < 0)
		return api_reply_kerror(r, &e);
	/* no tty, or a session that ended (the docker client resizes right
	 * after the start, which may be after a short command's end): nothing
	 * to size */
	int rc = api_tty_resize(r->srv, r->params[0], (unsigned)h, (unsigned)w);
	if (rc < 0 && rc != -ENOENT)
		return api_reply_error(r, 500, "resizing exec %s: %s", r->params[0], strerror(-rc));
	return api_reply_empty(r, 201);
}

const struct api_route api_exec_routes[] = {
	{ "POST", "/containers/{}/exec", exec_create, false },
	{ "POST", "/exec/{}/start", exec_start, false },
	{ "GET", "/exec/{}/json", exec_inspect, false },
	{ "POST", "/exec/{}/resize", exec_resize, false },
	{ NULL, NULL, NULL, false },
};
