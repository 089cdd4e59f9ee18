/* The plan as JSON: what the containers table keeps, so that `start`
 * runs the same thing `create` planned. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "run/run.h"

#define PLAN_MAX (1024 * 1024)

static void set_strv(json_t *j, const char *k, char *const *v)
{
	if (v && v[0])
		json_object_set_new(j, k, json_from_strv(v));
}

static void set_int(json_t *j, const char *k, int64_t v)
{
	if (v)
		json_object_set_new(j, k, json_integer(v));
}

static void set_str(json_t *j, const char *k, const char *v)
{
	if (v)
		json_object_set_new(j, k, json_string(v));
}

static char **get_strv(json_t *j, const char *k)
{
	json_t *a = json_object_get(j, k);
	return json_is_array(a) && json_array_size(a) <= 4096 ? json_strv(a) : NULL;
}

static char *get_str(json_t *j, const char *k)
{
	const char *v = json_str(j, k);
	return v ? xstrdup(v) : NULL;
}

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
	if (!j)
		return NULL;
	if (p->mounts)
		json_object_set_new(j, "mounts", json_from_strv(p->mounts));
	/* Optional fields: absent when unset, so older plans read the same. */
	set_strv(j, "dns", p->dns);
	set_strv(j, "dns_search", p->dns_search);
	set_strv(j, "dns_options", p->dns_options);
	set_strv(j, "add_hosts", p->add_hosts);
	set_strv(j, "ulimits", p->ulimits);
	set_int(j, "shm_size", p->shm_size);
	set_int(j, "memory_swap", p->memory_swap);
	set_int(j, "log_max_size", p->log_max_size);
	if (p->init)
		json_object_set_new(j, "init", json_true());
	set_str(j, "log_driver", p->log_driver);
	set_str(j, "rootfs", p->rootfs);
	set_str(j, "restart", p->restart);
	set_int(j, "restart_max", p->restart_max);
	set_str(j, "pod", p->pod);
	set_str(j, "userns", p->userns);
	set_strv(j, "uid_map", p->uid_map);
	set_strv(j, "gid_map", p->gid_map);
	if (p->rootfs_copy)
		json_object_set_new(j, "rootfs_copy", json_true());
	set_str(j, "infra_id", p->infra_id);
	set_str(j, "runtime", p->runtime);
	set_int(j, "pod_ns", p->pod_ns);
	if (p->infra)
		json_object_set_new(j, "infra", json_true());
	if (p->health.test) {
		json_object_set_new(j, "health",
				    json_pack("{s:o, s:I, s:I, s:I, s:i}", "test",
					      json_from_strv(p->health.test), "interval",
					      (json_int_t)p->health.interval, "timeout",
					      (json_int_t)p->health.timeout, "start_period",
					      (json_int_t)p->health.start_period, "retries",
					      p->health.retries));
	}
	if (p->network)
		json_object_set_new(j, "network", json_string(p->network));
	if (p->ports)
		json_object_set_new(j, "ports", json_from_strv(p->ports));
	if (j && p->networks)
		json_object_set_new(j, "networks", json_from_strv(p->networks));
	if (j && p->net_aliases)
		json_object_set_new(j, "net_aliases", json_from_strv(p->net_aliases));
	if (j && p->expose)
		json_object_set_new(j, "expose", json_from_strv(p->expose));
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
	if (json_is_array(json_object_get(j, "networks")))
		p.networks = json_strv(json_object_get(j, "networks"));
	if (json_is_array(json_object_get(j, "net_aliases")))
		p.net_aliases = json_strv(json_object_get(j, "net_aliases"));
	if (json_is_array(json_object_get(j, "expose")))
		p.expose = json_strv(json_object_get(j, "expose"));
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
	p.network = xstrdup(json_str(j, "network") ? json_str(j, "network")
						   : p.network_host ? "host" : "private");
	if (json_is_array(json_object_get(j, "ports")))
		p.ports = json_strv(json_object_get(j, "ports"));
	p.no_new_privs = get_bool(j, "no_new_privs");
	p.seccomp = get_bool(j, "seccomp");
	p.memory = json_int(j, "memory", 0);
	p.pids_limit = json_int(j, "pids_limit", 0);
	p.cpu_shares = json_int(j, "cpu_shares", 0);
	p.cpu_quota = json_int(j, "cpu_quota", 0);
	p.stop_signal = (int)json_int(j, "stop_signal", 15);
	p.stop_timeout = (int)json_int(j, "stop_timeout", 10);
	p.dns = get_strv(j, "dns");
	p.dns_search = get_strv(j, "dns_search");
	p.dns_options = get_strv(j, "dns_options");
	p.add_hosts = get_strv(j, "add_hosts");
	p.ulimits = get_strv(j, "ulimits");
	p.shm_size = json_int(j, "shm_size", 0);
	p.memory_swap = json_int(j, "memory_swap", 0);
	p.log_max_size = json_int(j, "log_max_size", 0);
	p.init = get_bool(j, "init");
	p.log_driver = get_str(j, "log_driver");
	if (!p.log_driver)
		p.log_driver = xstrdup("k8s-file");
	p.rootfs = get_str(j, "rootfs");
	p.restart = get_str(j, "restart");
	if (!p.restart)
		p.restart = xstrdup("no");
	p.restart_max = (int)json_int(j, "restart_max", 0);
	p.pod = get_str(j, "pod");
	p.userns = get_str(j, "userns");
	p.uid_map = get_strv(j, "uid_map");
	p.gid_map = get_strv(j, "gid_map");
	p.rootfs_copy = get_bool(j, "rootfs_copy");
	p.infra_id = get_str(j, "infra_id");
	p.runtime = get_str(j, "runtime");
	p.pod_ns = json_int(j, "pod_ns", 0) & (CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS);
	p.infra = get_bool(j, "infra");
	{
		json_t *h = json_object_get(j, "health");
		p.health.test = get_strv(h, "test");
		if (p.health.test && !p.health.test[0]) {
			strv_free(p.health.test);
			p.health.test = NULL;
		}
		p.health.interval = json_int(h, "interval", 30000000000LL);
		p.health.timeout = json_int(h, "timeout", 30000000000LL);
		p.health.start_period = json_int(h, "start_period", 0);
		p.health.retries = (int)json_int(h, "retries", 3);
		if (p.health.interval < 1000000)
			p.health.interval = 1000000;
	}
	*out = p;
	return 0;
}
