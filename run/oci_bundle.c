/* The OCI runtime-spec config.json of a plan, for --runtime runc|crun|PATH:
 * the same container kiln's own runtime would set up (namespaces, mounts,
 * capability set, rlimits, masked and read-only paths), described for an
 * external runtime.  Podman's shapes where there is a choice. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "run/run_private.h"

static json_t *strings(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *mount_json(const char *dst, const char *type, const char *src,
			  const char *const *opts, size_t n)
{
	return json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type, "source", src,
			 "options", strings(opts, n));
}

/* The kernel file systems and /dev, as Podman lists them. */
static void base_mounts(json_t *a, const struct run_plan *p)
{
	static const char *const proc[] = { "nosuid", "noexec", "nodev" };
	static const char *const dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k" };
	static const char *const pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666",
					   "mode=0620", "gid=5" };
	static const char *const mq[] = { "nosuid", "noexec", "nodev" };
	static const char *const sys[] = { "nosuid", "noexec", "nodev", "ro" };
	static const char *const cg[] = { "nosuid", "noexec", "nodev", "relatime", "ro" };
	char size[64];
	snprintf(size, sizeof(size), "size=%lldk",
		 p->shm_size > 0 ? (long long)((p->shm_size + 1023) / 1024) : 65536LL);
	const char *shm[] = { "nosuid", "noexec", "nodev", "mode=1777", size };

	json_array_append_new(a, mount_json("/proc", "proc", "proc", proc, ARRAY_SIZE(proc)));
	json_array_append_new(a, mount_json("/dev", "tmpfs", "tmpfs", dev, ARRAY_SIZE(dev)));
	json_array_append_new(a, mount_json("/dev/pts", "devpts", "devpts", pts,
					    ARRAY_SIZE(pts)));
	json_array_append_new(a, mount_json("/dev/shm", "tmpfs", "shm", shm, ARRAY_SIZE(shm)));
	json_array_append_new(a, mount_json("/dev/mqueue", "mqueue", "mqueue", mq,
					    ARRAY_SIZE(mq)));
	json_array_append_new(a, mount_json("/sys", "sysfs", "sysfs", sys, ARRAY_SIZE(sys)));
	json_array_append_new(a, mount_json("/sys/fs/cgroup", "cgroup", "cgroup", cg,
					    ARRAY_SIZE(cg)));
}

/* The plan's binds, volumes and tmpfs mounts. */
static int user_mounts(json_t *a, const struct run_plan *p, struct kerror *e)
{
	for (size_t i = 0; p->mounts && p->mounts[i]; i++) {
		struct run_mount m = { 0 };
		int r = run_mount_parse(p->mounts[i], &m, e);
		if (r < 0)
			return r;
		json_t *opts = json_array();
		const char *type = "bind", *src = m.source;
		if (!strcmp(m.type, "tmpfs")) {
			type = "tmpfs";
			src = "tmpfs";
			json_array_append_new(opts, json_string("nosuid"));
			json_array_append_new(opts, json_string("nodev"));
			_cleanup_free_ char *data = xstrdup(m.data ? m.data : "");
			char *save = NULL;
			for (char *o = strtok_r(data, ",", &save); o; o = strtok_r(NULL, ",", &save))
				json_array_append_new(opts, json_string(o));
		} else {
			json_array_append_new(opts, json_string("rbind"));
			json_array_append_new(opts, json_string("rprivate"));
		}
		json_array_append_new(opts, json_string(m.readonly ? "ro" : "rw"));
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o}", "destination", m.target,
						   "type", type, "source", src ? src : "",
						   "options", opts));
		run_mount_release(&m);
	}
	return 0;
}

static void etc_mounts(json_t *a, const char *userdata)
{
	static const char *const gen[] = { "hosts", "hostname", "resolv.conf" };
	static const char *const opts[] = { "rbind", "rprivate" };
	for (size_t i = 0; userdata && i < ARRAY_SIZE(gen); i++) {
		_cleanup_free_ char *src = xasprintf("%s/%s", userdata, gen[i]);
		_cleanup_free_ char *dst = xasprintf("/etc/%s", gen[i]);
		json_array_append_new(a, mount_json(dst, "bind", src, opts, ARRAY_SIZE(opts)));
	}
}

static json_t *caps_json(uint64_t caps)
{
	json_t *a = json_array();
	for (int c = 0; c < 64; c++) {
		const char *n = run_cap_name(c);
		if (n && (caps & (1ULL << c)))
			json_array_append_new(a, json_sprintf("CAP_%s", n));
	}
	return a;
}

/* "nofile=1024:2048" → {"type":"RLIMIT_NOFILE","soft":1024,"hard":2048}.
 * An unlimited (-1) value has no JSON integer jansson can write (it is
 * 2^64-1 in the spec): such a limit is left out, inherited from kiln. */
static json_t *rlimits_json(char *const *ulimits)
{
	json_t *a = json_array();
	for (size_t i = 0; ulimits && ulimits[i]; i++) {
		const char *u = ulimits[i], *eq = strchr(u, '=');
		long long soft, hard;
		if (!eq || sscanf(eq + 1, "%lld:%lld", &soft, &hard) != 2 || soft < 0 || hard < 0)
			continue;
		_cleanup_free_ char *type = xasprintf("RLIMIT_%.*s", (int)(eq - u), u);
		for (char *c = type; *c; c++)
			if (*c >= 'a' && *c <= 'z')
				*c = (char)(*c - 'a' + 'A');
		json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "type", type, "soft",
						   (json_int_t)soft, "hard", (json_int_t)hard));
	}
	return a;
}

static json_t *resources_json(const struct run_plan *p)
{
	json_t *r = json_object();
	if (p->memory) {
		json_t *m = json_pack("{s:I}", "limit", (json_int_t)p->memory);
		if (p->memory_swap)
			json_object_set_new(m, "swap", json_integer(p->memory_swap));
		json_object_set_new(r, "memory", m);
	}
	if (p->pids_limit)
		json_object_set_new(r, "pids", json_pack("{s:I}", "limit",
							 (json_int_t)p->pids_limit));
	if (p->cpu_shares || p->cpu_quota) {
		json_t *c = json_object();
		if (p->cpu_shares)
			json_object_set_new(c, "shares", json_integer(p->cpu_shares));
		if (p->cpu_quota) {
			json_object_set_new(c, "quota", json_integer(p->cpu_quota));
			json_object_set_new(c, "period", json_integer(100000));
		}
		json_object_set_new(r, "cpu", c);
	}
	return r;
}

static json_t *namespaces_json(const struct run_plan *p)
{
	static const char *const ns[] = { "pid", "mount", "ipc", "uts" };
	json_t *a = json_array();
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
		json_array_append_new(a, json_pack("{s:s}", "type", ns[i]));
	/* --network host: the host's; every other mode a new one (none: lo
	 * only; bridge and pasta are joined once it exists). */
	if (!p->network_host)
		json_array_append_new(a, json_pack("{s:s}", "type", "network"));
	return a;
}

int run_oci_config(const struct run_plan *p, const char *rootfs, const char *userdata,
		   json_t **out, struct kerror *e)
{
	json_t *gids = json_array(), *mounts = json_array();
	size_t n_masked, n_ro;
	const char *const *masked = rootfs_masked_paths(&n_masked);
	const char *const *ro = rootfs_readonly_paths(&n_ro);
	int r;

	for (size_t i = 0; i < p->n_gids; i++)
		json_array_append_new(gids, json_integer(p->gids[i]));
	base_mounts(mounts, p);
	etc_mounts(mounts, userdata);
	if (p->read_only) {
		/* Podman's --read-only-tmpfs */
		static const char *const tmp[] = { "/tmp", "/var/tmp", "/run" };
		static const char *const o[] = { "nosuid", "nodev", "mode=1777" };
		for (size_t i = 0; i < ARRAY_SIZE(tmp); i++)
			json_array_append_new(mounts, mount_json(tmp[i], "tmpfs", "tmpfs", o,
								 ARRAY_SIZE(o)));
	}
	if ((r = user_mounts(mounts, p, e)) < 0) {
		json_decref(gids);
		json_decref(mounts);
		return r;
	}
	json_t *caps = caps_json(p->caps);
	json_t *process = json_pack(
		"{s:b, s:{s:I, s:I, s:o}, s:o, s:o, s:s, s:{s:O, s:O, s:O}, s:o, s:b}", "terminal",
		p->tty, "user", "uid", (json_int_t)p->uid, "gid", (json_int_t)p->gid,
		"additionalGids", gids, "args", json_from_strv(p->argv), "env",
		json_from_strv(p->env), "cwd", p->cwd ? p->cwd : "/", "capabilities", "bounding",
		caps, "effective", caps, "permitted", caps, "rlimits", rlimits_json(p->ulimits),
		"noNewPrivileges", p->no_new_privs);
	json_decref(caps);
	*out = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:{s:o, s:o, s:o, s:o}}",
			 "ociVersion", "1.0.2", "process", process, "root", "path", rootfs,
			 "readonly", p->read_only, "hostname", p->hostname ? p->hostname : "",
			 "mounts", mounts, "linux", "namespaces", namespaces_json(p), "resources",
			 resources_json(p), "maskedPaths", strings(masked, n_masked),
			 "readonlyPaths", strings(ro, n_ro));
	if (!*out)
		return kerror_set(e, ENOMEM, "building the OCI runtime config");
	/* The same default profile as the built-in runtime's (no filter
	 * with seccomp=unconfined or --privileged). */
	if (p->seccomp)
		json_object_set_new(json_object_get(*out, "linux"), "seccomp", run_seccomp_oci());
	return 0;
}
