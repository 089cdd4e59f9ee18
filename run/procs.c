/* A running container's processes (for top, stats, pod top): every
 * process of the host whose pid namespace is the container init's, read
 * from /proc; and its resource figures, from its own cgroups when it has
 * them, else summed over those processes. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/run.h"

#define PROC_FILE_MAX (64 * 1024)

static char *read_proc(pid_t pid, const char *what, size_t *len)
{
	char path[64];
	char *data = NULL;
	size_t l = 0;
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	if (fs_read_file(path, PROC_FILE_MAX, &data, &l, NULL) < 0)
		return NULL;
	if (len)
		*len = l;
	return data;
}

static bool same_ns(pid_t pid, const struct stat *ns)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	return stat(path, &st) == 0 && st.st_ino == ns->st_ino && st.st_dev == ns->st_dev;
}

/* /proc/PID/stat after the ")" of comm: fields 3… */
static bool parse_stat(const char *text, struct run_procinfo *p)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')');
	unsigned long long f[50] = { 0 };
	size_t n = 0;
	if (!open || !close || close < open)
		return false;
	snprintf(p->comm, sizeof(p->comm), "%.*s", (int)(close - open - 1), open + 1);
	const char *s = close + 2;
	if (s > text + strlen(text))
		return false;
	p->state = *s;
	s++;
	while (*s && n < ARRAY_SIZE(f)) {
		char *end;
		while (*s == ' ')
			s++;
		long long v = strtoll(s, &end, 10);
		if (end == s)
			break;
		f[n++] = (unsigned long long)v;
		s = end;
	}
	/* f[0] = field 4 (ppid) … */
	if (n < 21)
		return false;
	p->host_ppid = (pid_t)f[0];
	p->tty_nr = (int)f[3];
	p->utime = f[10];
	p->stime = f[11];
	p->cutime = f[12];
	p->cstime = f[13];
	p->nice = (int)(long long)f[15];
	p->start_ticks = f[18];
	p->vsz = f[19];
	p->rss_pages = f[20];
	return true;
}

static void parse_status(const char *text, struct run_procinfo *p)
{
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		if (str_has_prefix(line, "Uid:"))
			p->uid = (uid_t)strtoul(line + 4, NULL, 10);
		else if (str_has_prefix(line, "Gid:"))
			p->gid = (gid_t)strtoul(line + 4, NULL, 10);
		else if (str_has_prefix(line, "NSpid:")) {
			/* the last number is the pid in the innermost namespace */
			const char *q = line + 6, *end = nl ? nl : line + strlen(line);
			while (q < end) {
				char *e2;
				long v = strtol(q, &e2, 10);
				if (e2 == q)
					break;
				p->pid = (pid_t)v;
				q = e2;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
}

static char *cmdline_text(pid_t pid)
{
	size_t len = 0;
	char *raw = read_proc(pid, "cmdline", &len);
	if (!raw || !len) {
		free(raw);
		return NULL;
	}
	for (size_t i = 0; i + 1 < len; i++)
		if (raw[i] == '\0')
			raw[i] = ' ';
	return raw;
}

void run_procs_free(struct run_procinfo *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++)
		free(p[i].args);
	free(p);
}

int run_container_procs(pid_t init, struct run_procinfo **out, size_t *n, struct kerror *e)
{
	char path[64];
	struct stat ns;
	struct run_procinfo *v = NULL;
	size_t cnt = 0;
	DIR *d;
	struct dirent *de;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)init);
	if (init <= 0 || stat(path, &ns) < 0)
		return kerror_sys(e, init > 0 ? errno : ESRCH, "the container's init %d", (int)init);
	d = opendir("/proc");
	if (!d)
		return kerror_sys(e, errno, "reading /proc");
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid_t pid = (pid_t)atoi(de->d_name);
		if (!same_ns(pid, &ns))
			continue;
		_cleanup_free_ char *st = read_proc(pid, "stat", NULL);
		_cleanup_free_ char *status = read_proc(pid, "status", NULL);
		struct run_procinfo p = { .host_pid = pid };
		if (!st || !status || !parse_stat(st, &p))
			continue; /* gone meanwhile */
		parse_status(status, &p);
		p.args = cmdline_text(pid);
		if (cnt % 16 == 0)
			v = xrealloc(v, (cnt + 16) * sizeof(*v));
		v[cnt++] = p;
		if (cnt >= 100000)
			break;
	}
	closedir(d);
	/* the parent as the container sees it (0 outside) */
	for (size_t i = 0; i < cnt; i++) {
		v[i].ppid = 0;
		for (size_t j = 0; j < cnt; j++)
			if (v[j].host_pid == v[i].host_ppid)
				v[i].ppid = v[j].pid;
	}
	/* by pid, as ps sorts */
	for (size_t i = 1; i < cnt; i++)
		for (size_t j = i; j > 0 && v[j - 1].pid > v[j].pid; j--) {
			struct run_procinfo t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	*out = v;
	*n = cnt;
	return 0;
}

/* ---- stats --------------------------------------------------------------- */

static bool read_u64(const char *path, uint64_t *out)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	char *end;
	if (fs_read_file(path, 4096, &data, &len, NULL) < 0)
		return false;
	if (!strncmp(data, "max", 3)) {
		*out = UINT64_MAX;
		return true;
	}
	*out = strtoull(data, &end, 10);
	return end != data;
}

/* Sum of "KEY value" lines' values for the keys given (blkio, io.stat). */
static uint64_t sum_keyed(const char *path, const char *key)
{
	_cleanup_free_ char *data = NULL;
	size_t len, kl = strlen(key);
	uint64_t total = 0;
	if (fs_read_file(path, 1 << 20, &data, &len, NULL) < 0)
		return 0;
	for (char *p = data; (p = strstr(p, key)); p += kl) {
		if (p != data && p[-1] != ' ' && p[-1] != '\n')
			continue;
		if (p[kl] == ' ' || p[kl] == '=')
			total += strtoull(p + kl + 1, NULL, 10);
	}
	return total;
}

/* The container's own cgroup directory for a controller ("" on v2), from
 * its init's /proc/PID/cgroup; NULL when it has none (no limits: it runs
 * in its monitor's cgroup, which holds other processes). */
static char *own_cgroup_dir(pid_t init, const char *id, const char *ctrl)
{
	_cleanup_free_ char *text = read_proc(init, "cgroup", NULL);
	_cleanup_free_ char *want = xasprintf("kiln-%s", id);
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2) {
			*c2 = '\0';
			const char *ctrls = c1 + 1, *path = c2 + 1;
			bool match = false;
			if (!*ctrl)
				match = !strcmp(line, "0") && !*ctrls;
			else {
				_cleanup_free_ char *copy = xstrdup(ctrls);
				char *save = NULL;
				for (char *t = strtok_r(copy, ",", &save); t;
				     t = strtok_r(NULL, ",", &save))
					match |= !strcmp(t, ctrl);
			}
			if (match && str_has_suffix(path, want))
				return *ctrl ? xasprintf("/sys/fs/cgroup/%s%s", ctrl, path)
					     : xasprintf("/sys/fs/cgroup%s", path);
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static uint64_t host_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

static void net_io(pid_t init, uint64_t *rx, uint64_t *tx)
{
	_cleanup_free_ char *text = read_proc(init, "net/dev", NULL);
	*rx = *tx = 0;
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *colon = strchr(line, ':');
		if (colon) {
			char *name = line;
			while (*name == ' ')
				name++;
			unsigned long long v[16] = { 0 };
			if (strncmp(name, "lo:", 3) != 0 &&
			    sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
				   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 9) {
				*rx += v[0];
				*tx += v[8];
			}
		}
		line = nl ? nl + 1 : NULL;
	}
}

int run_container_stats(const char *id, pid_t init, struct run_stats *out, struct kerror *e)
{
	struct run_procinfo *procs = NULL;
	size_t n = 0;
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	int r = run_container_procs(init, &procs, &n, e);
	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	out->pids = n;
	uint64_t ticks = 0, rss = 0;
	for (size_t i = 0; i < n; i++) {
		ticks += procs[i].utime + procs[i].stime;
		if (procs[i].host_pid == init)
			ticks += procs[i].cutime + procs[i].cstime;
		rss += procs[i].rss_pages * (uint64_t)page;
		_cleanup_free_ char *io = read_proc(procs[i].host_pid, "io", NULL);
		if (io) {
			char *rb = strstr(io, "read_bytes:"), *wb = strstr(io, "\nwrite_bytes:");
			if (rb)
				out->blk_read += strtoull(rb + 11, NULL, 10);
			if (wb)
				out->blk_write += strtoull(wb + 13, NULL, 10);
		}
	}
	run_procs_free(procs, n);
	out->cpu_ns = ticks * (1000000000ULL / (uint64_t)(tick > 0 ? tick : 100));
	out->mem_usage = rss;
	out->mem_limit = host_memory();
	net_io(init, &out->net_rx, &out->net_tx);

	/* Its own cgroups, when it has them, are exact. */
	_cleanup_free_ char *v2 = own_cgroup_dir(init, id, "");
	_cleanup_free_ char *mem = v2 ? NULL : own_cgroup_dir(init, id, "memory");
	_cleanup_free_ char *cpu = v2 ? NULL : own_cgroup_dir(init, id, "cpuacct");
	uint64_t v;
	if (v2) {
		_cleanup_free_ char *p1 = xasprintf("%s/memory.current", v2);
		_cleanup_free_ char *p2 = xasprintf("%s/memory.max", v2);
		_cleanup_free_ char *p3 = xasprintf("%s/cpu.stat", v2);
		_cleanup_free_ char *p4 = xasprintf("%s/io.stat", v2);
		if (read_u64(p1, &v))
			out->mem_usage = v;
		if (read_u64(p2, &v) && v != UINT64_MAX && v < out->mem_limit)
			out->mem_limit = v;
		if ((v = sum_keyed(p3, "usage_usec")))
			out->cpu_ns = v * 1000;
		if (access(p4, F_OK) == 0) {
			out->blk_read = sum_keyed(p4, "rbytes");
			out->blk_write = sum_keyed(p4, "wbytes");
		}
	}
	if (mem) {
		_cleanup_free_ char *p1 = xasprintf("%s/memory.usage_in_bytes", mem);
		_cleanup_free_ char *p2 = xasprintf("%s/memory.limit_in_bytes", mem);
		if (read_u64(p1, &v))
			out->mem_usage = v;
		if (read_u64(p2, &v) && v < out->mem_limit)
			out->mem_limit = v;
	}
	if (cpu) {
		_cleanup_free_ char *p1 = xasprintf("%s/cpuacct.usage", cpu);
		if (read_u64(p1, &v))
			out->cpu_ns = v;
	}
	return 0;
}
