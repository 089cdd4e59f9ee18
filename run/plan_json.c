/* The plan as JSON: what the containers table keeps, so that `start`
 * runs the same thing `create` planned. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "run/run.h"

#define PLAN_MAX (1024 * 1024)

json_t *run_plan_to_json(const struct run_plan *p)
{
	json_t *gids = json_array();
	for (size_t i = 0; i < p->n_gids; i++)
		json_array_append_new(gids, json_integer(p->gids[i]));
	json_t *j = json_pack("{s:o, s:o, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:I, s:b, s:b, s:b, s:b, "
			 "s:b, s:b, s:I, s:I, s:I, s:I, s:i, s:i}",
			 "argv", json_from_strv(p->argv), "env", json_from_strv(p->env), "cwd",
			 p->cwd, "hostname", p->hostname, "user", p->user ? p->user : "", "uid",
			 (json_int_t)p->uid, "gid", (json_int_t)p->gid, "gids", gids, "layers",
			 json_from_strv(p->layers), "caps", (json_int_t)p->caps, "tty", p->tty,
			 "interactive", p->interactive, "read_only", p->read_only, "network_host",
			 p->network_host, "no_new_privs", p->no_new_privs, "seccomp", p->seccomp,
			 "memory", (json_int_t)p->memory, "pids_limit", (json_int_t)p->pids_limit,
			 "cpu_shares", (json_int_t)p->cpu_shares, "cpu_quota",
			 (json_int_t)p->cpu_quota, "stop_signal", p->stop_signal, "stop_timeout",
			 p->stop_timeout);
	if (j && p->mounts)
		json_object_set_new(j, "mounts", json_from_strv(p->mounts));
	return j;
}

static bool get_bool(json_t *j, const char *k)
{
	return json_is_true(json_object_get(j, k));
}

int run_plan_from_json(const char *text, struct run_plan *out, struct kerror *e)
{
	_cleanup_json_ json_t *j = NULL;
	struct run_plan p = { 0 };
	json_t *gids;
	int r = json_parse(text, strnlen(text, PLAN_MAX), &j, e);
	if (r < 0)
		return kerror_wrap(e, "reading the container's plan");
	p.argv = json_strv(json_object_get(j, "argv"));
	p.env = json_strv(json_object_get(j, "env"));
	p.layers = json_strv(json_object_get(j, "layers"));
	if (json_is_array(json_object_get(j, "mounts")))
		p.mounts = json_strv(json_object_get(j, "mounts"));
	p.cwd = xstrdup(json_str(j, "cwd") ? json_str(j, "cwd") : "/");
	p.hostname = xstrdup(json_str(j, "hostname") ? json_str(j, "hostname") : "");
	p.user = xstrdup(json_str(j, "user") ? json_str(j, "user") : "");
	if (!p.argv || !p.argv[0] || !p.env || !p.layers || p.cwd[0] != '/') {
		run_plan_release(&p);
		return kerror_set(e, EINVAL, "reading the container's plan: missing fields");
	}
	p.uid = (uid_t)json_int(j, "uid", 0);
	p.gid = (gid_t)json_int(j, "gid", 0);
	gids = json_object_get(j, "gids");
	if (json_is_array(gids) && json_array_size(gids) <= 64) {
		p.n_gids = json_array_size(gids);
		p.gids = xcalloc(p.n_gids ? p.n_gids : 1, sizeof(gid_t));
		for (size_t i = 0; i < p.n_gids; i++)
			p.gids[i] = (gid_t)json_integer_value(json_array_get(gids, i));
	}
	p.caps = (uint64_t)json_int(j, "caps", 0);
	p.tty = get_bool(j, "tty");
	p.interactive = get_bool(j, "interactive");
	p.read_only = get_bool(j, "read_only");
	p.network_host = get_bool(j, "network_host");
	p.no_new_privs = get_bool(j, "no_new_privs");
	p.seccomp = get_bool(j, "seccomp");
	p.memory = json_int(j, "memory", 0);
	p.pids_limit = json_int(j, "pids_limit", 0);
	p.cpu_shares = json_int(j, "cpu_shares", 0);
	p.cpu_quota = json_int(j, "cpu_quota", 0);
	p.stop_signal = (int)json_int(j, "stop_signal", 15);
	p.stop_timeout = (int)json_int(j, "stop_timeout", 10);
	*out = p;
	return 0;
}
