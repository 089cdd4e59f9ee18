/* cgroups v2 (unified) and v1 (hybrid hosts such as this one): a
 * container gets its own cgroup under the caller's, only when it has
 * limits (keeps `run --rm IMAGE true` free of cgroup work). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "run/run.h"

#define CG_ROOT "/sys/fs/cgroup"
#define CPU_PERIOD 100000

bool cg_limits_any(const struct cg_limits *l)
{
	return l->memory || l->pids_limit || l->cpu_shares || l->cpu_quota;
}

uint64_t cg_shares_to_weight(uint64_t shares)
{
	if (shares == 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

static int write_file(const char *dir, const char *file, const char *value, struct kerror *e)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || fs_write_all(fd, value, strlen(value)) < 0)
		return kerror_sys(e, errno, "writing \"%s\" to \"%s\"", value, path);
	return 0;
}

static char *int_str(int64_t v)
{
	return v < 0 ? xstrdup("max") : xasprintf("%" PRId64, v);
}

int cg_v2_create(const char *root, const char *parent, const char *name,
		 const struct cg_limits *l, char **path, struct kerror *e)
{
	struct buf ctl = { 0 };
	_cleanup_free_ char *rel = xstrdup(parent ? parent : "");
	_cleanup_free_ char *dir = NULL;
	int r = 0;

	if (strchr(name, '/') || !strcmp(name, "..") || !strcmp(name, ".") || strstr(rel, ".."))
		return kerror_set(e, EINVAL, "invalid cgroup name \"%s\"", name);
	if (l->memory)
		buf_printf(&ctl, "+memory ");
	if (l->pids_limit)
		buf_printf(&ctl, "+pids ");
	if (l->cpu_shares || l->cpu_quota)
		buf_printf(&ctl, "+cpu ");
	if (ctl.len)
		ctl.data[--ctl.len] = '\0';
	/* Every level from the root down to the parent must hand the
	 * controllers on to its children.  Best effort: a level that already
	 * does, or that holds processes (EBUSY), is left as it is; a limit
	 * whose controller is missing fails below, naming its file. */
	{
		struct buf lvl = { 0 };
		char *save = NULL;
		buf_printf(&lvl, "%s", root);
		if (ctl.len)
			write_file(lvl.data, "cgroup.subtree_control", ctl.data, NULL);
		for (char *seg = strtok_r(rel, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
			buf_printf(&lvl, "/%s", seg);
			if (ctl.len)
				write_file(lvl.data, "cgroup.subtree_control", ctl.data, NULL);
		}
		dir = xasprintf("%s/%s", lvl.data, name);
		buf_release(&lvl);
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		r = kerror_sys(e, errno, "creating the cgroup \"%s\"", dir);
		goto out;
	}
	if (l->memory) {
		_cleanup_free_ char *v = int_str(l->memory);
		if ((r = write_file(dir, "memory.max", v, e)) < 0)
			goto out;
		/* --memory alone: no swap beyond it; --memory-swap is
		 * memory plus swap (Docker's meaning), -1 unlimited. */
		if (l->memory_swap == -1)
			r = write_file(dir, "memory.swap.max", "max", e);
		else if (l->memory_swap > l->memory) {
			_cleanup_free_ char *sw = int_str(l->memory_swap - l->memory);
			r = write_file(dir, "memory.swap.max", sw, e);
		} else
			write_file(dir, "memory.swap.max", "0", NULL);
		if (r < 0)
			goto out;
	}
	if (l->pids_limit) {
		_cleanup_free_ char *v = int_str(l->pids_limit);
		if ((r = write_file(dir, "pids.max", v, e)) < 0)
			goto out;
	}
	if (l->cpu_quota) {
		_cleanup_free_ char *v = xasprintf("%" PRId64 " %d", l->cpu_quota, CPU_PERIOD);
		if ((r = write_file(dir, "cpu.max", v, e)) < 0)
			goto out;
	}
	if (l->cpu_shares) {
		_cleanup_free_ char *v =
			xasprintf("%" PRIu64, cg_shares_to_weight((uint64_t)l->cpu_shares));
		if ((r = write_file(dir, "cpu.weight", v, e)) < 0)
			goto out;
	}
	*path = steal_pointer(&dir);
out:
	if (r < 0 && dir)
		rmdir(dir);
	buf_release(&ctl);
	return r;
}

/* The caller's cgroup path for a v1 controller ("memory") or v2 (""). */
static char *own_cgroup(const char *controller)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	if (fs_read_file("/proc/self/cgroup", 64 * 1024, &data, &len, NULL) < 0)
		return xstrdup("/");
	for (char *line = data; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2) {
			*c2 = '\0';
			const char *list = c1 + 1;
			bool match = false;
			if (!*controller)
				match = strcmp(line, "0") == 0 && !*list;
			else {
				_cleanup_free_ char *copy = xstrdup(list);
				char *save = NULL;
				for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
					if (!strcmp(t, controller))
						match = true;
			}
			if (match)
				return xstrdup(c2 + 1);
		}
		line = nl ? nl + 1 : NULL;
	}
	return xstrdup("/");
}

static bool is_v2(void)
{
	struct statfs fs;
	return statfs(CG_ROOT, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

static int v1_one(struct cgroup *out, const char *ctrl, const char *name,
		  const char *const *files, const char *const *values, size_t n,
		  struct kerror *e)
{
	_cleanup_free_ char *own = own_cgroup(ctrl);
	_cleanup_free_ char *dir = xasprintf(CG_ROOT "/%s%s%s/%s", ctrl,
					     own[0] == '/' ? "" : "/",
					     strcmp(own, "/") ? own : "", name);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return kerror_sys(e, errno, "creating the cgroup \"%s\"", dir);
	out->paths[out->n++] = xstrdup(dir);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, files[i]);
		_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || fs_write_all(fd, values[i], strlen(values[i])) < 0)
			return kerror_sys(e, errno, "writing \"%s\" to \"%s\"", values[i], path);
	}
	return 0;
}

int cgroup_create(const char *id, const struct cg_limits *l, struct cgroup *out,
		  struct kerror *e)
{
	_cleanup_free_ char *name = xasprintf("kiln-%s", id);
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!cg_limits_any(l))
		return 0;
	if (is_v2()) {
		_cleanup_free_ char *own = own_cgroup("");
		char *path = NULL;
		r = cg_v2_create(CG_ROOT, own, name, l, &path, e);
		if (r == 0)
			out->paths[out->n++] = path;
		/* Rootless, the limits apply where our cgroup was delegated to
		 * us (systemd's user@.service); elsewhere Podman's warning. */
		if (r < 0 && run_rootless() && (r == -EACCES || r == -EPERM || r == -EROFS)) {
			log_warn("the cgroup of this session is not delegated to the user "
				 "(%s): resource limits are ignored", e->msg);
			kerror_release(e);
			return 0;
		}
		return r;
	}
	if (run_rootless()) {
		log_warn("Resource limits are not supported and ignored on cgroups V1 rootless "
			 "systems");
		return 0;
	}
	if (l->memory) {
		_cleanup_free_ char *v = int_str(l->memory);
		_cleanup_free_ char *sw = int_str(l->memory_swap ? l->memory_swap : l->memory);
		const char *f[] = { "memory.limit_in_bytes", "memory.memsw.limit_in_bytes" };
		const char *vals[] = { v, sw };
		_cleanup_free_ char *memsw = xasprintf(CG_ROOT "/memory/memory.memsw.limit_in_bytes");
		/* memsw exists only with swap accounting on; without it
		 * --memory-swap cannot be honoured. */
		bool has_memsw = access(memsw, F_OK) == 0;
		if (l->memory_swap && !has_memsw)
			return kerror_set(e, ENOTSUP, "--memory-swap: this kernel has no swap "
						      "accounting (memory.memsw.limit_in_bytes)");
		r = v1_one(out, "memory", name, f, vals, has_memsw && l->memory_swap ? 2 : 1, e);
	}
	if (r == 0 && l->pids_limit) {
		_cleanup_free_ char *v = int_str(l->pids_limit);
		const char *f[] = { "pids.max" }, *vals[] = { v };
		r = v1_one(out, "pids", name, f, vals, 1, e);
	}
	if (r == 0 && (l->cpu_shares || l->cpu_quota)) {
		_cleanup_free_ char *sh = xasprintf("%" PRId64, l->cpu_shares ? l->cpu_shares : 1024);
		_cleanup_free_ char *q = xasprintf("%" PRId64, l->cpu_quota ? l->cpu_quota : -1);
		const char *f[] = { "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.shares" };
		const char *vals[] = { "100000", q, sh };
		r = v1_one(out, "cpu", name, f, vals, 3, e);
	}
	if (r < 0)
		cgroup_remove(out);
	return r;
}

int cgroup_add_pid(const struct cgroup *cg, pid_t pid, struct kerror *e)
{
	char v[32];
	snprintf(v, sizeof(v), "%d", (int)pid);
	for (size_t i = 0; i < cg->n; i++) {
		int r = write_file(cg->paths[i], "cgroup.procs", v, e);
		if (r < 0)
			return r;
	}
	return 0;
}

void cgroup_remove(struct cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++) {
		if (rmdir(cg->paths[i]) < 0 && errno != ENOENT)
			log_warn("removing the cgroup \"%s\": %s", cg->paths[i], strerror(errno));
		free(cg->paths[i]);
	}
	cg->n = 0;
}
