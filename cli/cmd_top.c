/* kiln top CONTAINER [descriptors]: the container's processes with
 * Podman's descriptors (pid, ppid, user, group, comm, args, etime, time,
 * tty, vsz, rss, pcpu, nice, state, hpid, huser, uid, gid), also for
 * kiln pod top. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/container.h"

/* Go's time.Duration String() at centisecond precision (clock ticks). */
static void go_duration(uint64_t ns, struct buf *b)
{
	uint64_t h = ns / 3600000000000ULL, m = ns / 60000000000ULL % 60;
	double sec = (double)(ns % 60000000000ULL) / 1e9;
	if (h)
		buf_printf(b, "%lluh", (unsigned long long)h);
	if (h || m)
		buf_printf(b, "%llum", (unsigned long long)m);
	char t[32];
	snprintf(t, sizeof(t), "%.9f", sec);
	/* trim trailing zeros and a trailing dot */
	char *end = t + strlen(t) - 1;
	while (end > t && *end == '0')
		*end-- = '\0';
	if (*end == '.')
		*end = '\0';
	buf_printf(b, "%ss", t);
}

/* A name for id from the container's passwd/group text (field 2 = id). */
static char *id_name(const char *text, unsigned id)
{
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *c1 = memchr(line, ':', len);
		const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
		if (c2 && (unsigned)strtoul(c2 + 1, NULL, 10) == id &&
		    (c2[1] >= '0' && c2[1] <= '9'))
			return xstrndup(line, (size_t)(c1 - line));
		line = nl ? nl + 1 : NULL;
	}
	return xasprintf("%u", id);
}

static const struct {
	const char *name, *header;
} descriptors[] = {
	{ "pid", "PID" },     { "ppid", "PPID" },    { "user", "USER" },   { "group", "GROUP" },
	{ "comm", "COMMAND" }, { "args", "COMMAND" }, { "etime", "ELAPSED" }, { "time", "TIME" },
	{ "tty", "TTY" },     { "vsz", "VSZ" },      { "rss", "RSS" },     { "pcpu", "%CPU" },
	{ "nice", "NI" },     { "state", "STATE" },  { "hpid", "HPID" },   { "huser", "HUSER" },
	{ "uid", "UID" },     { "gid", "GID" },
};
/* ps's AIX codes and aliases, as Podman accepts them. */
static const struct {
	const char *alias, *name;
} aliases[] = {
	{ "%p", "pid" },  { "%P", "ppid" }, { "%U", "user" }, { "%G", "group" }, { "%c", "comm" },
	{ "%a", "args" }, { "%t", "etime" }, { "%x", "time" }, { "%y", "tty" }, { "%z", "vsz" },
	{ "%C", "pcpu" }, { "%n", "nice" }, { "cmd", "args" }, { "command", "args" },
	{ "%cpu", "pcpu" }, { "ucomm", "comm" },
};

static int descriptor(const char *d)
{
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (!strcmp(d, aliases[i].alias))
			d = aliases[i].name;
	for (size_t i = 0; i < ARRAY_SIZE(descriptors); i++)
		if (!strcmp(d, descriptors[i].name))
			return (int)i;
	return -1;
}

static void cell(struct buf *b, int d, const struct run_procinfo *p, const char *passwd,
		 const char *group, uint64_t uptime_ticks, long tick)
{
	uint64_t tns = 1000000000ULL / (uint64_t)tick;
	uint64_t age = uptime_ticks > p->start_ticks ? uptime_ticks - p->start_ticks : 0;
	const char *name = descriptors[d].name;
	if (!strcmp(name, "pid"))
		buf_printf(b, "%d", (int)p->pid);
	else if (!strcmp(name, "ppid"))
		buf_printf(b, "%d", (int)p->ppid);
	else if (!strcmp(name, "hpid"))
		buf_printf(b, "%d", (int)p->host_pid);
	else if (!strcmp(name, "user") || !strcmp(name, "group")) {
		_cleanup_free_ char *n = name[0] == 'u' ? id_name(passwd, p->uid)
						      : id_name(group, p->gid);
		buf_printf(b, "%s", n);
	} else if (!strcmp(name, "huser") || !strcmp(name, "uid"))
		buf_printf(b, "%u", (unsigned)p->uid);
	else if (!strcmp(name, "gid"))
		buf_printf(b, "%u", (unsigned)p->gid);
	else if (!strcmp(name, "comm"))
		buf_printf(b, "%s", p->comm);
	else if (!strcmp(name, "args"))
		buf_printf(b, "%s", p->args ? p->args : p->comm);
	else if (!strcmp(name, "etime"))
		go_duration(age * tns, b);
	else if (!strcmp(name, "time"))
		go_duration((p->utime + p->stime) / (uint64_t)tick * 1000000000ULL, b);
	else if (!strcmp(name, "tty")) {
		if (p->tty_nr == 0)
			buf_printf(b, "?");
		else
			buf_printf(b, "pts/%d", (p->tty_nr & 0xff) | ((p->tty_nr >> 12) & 0xfff00));
	} else if (!strcmp(name, "vsz"))
		buf_printf(b, "%llu", (unsigned long long)(p->vsz / 1024));
	else if (!strcmp(name, "rss"))
		buf_printf(b, "%llu", (unsigned long long)(p->rss_pages *
							   (uint64_t)sysconf(_SC_PAGESIZE) / 1024));
	else if (!strcmp(name, "pcpu"))
		buf_printf(b, "%.3f", age ? 100.0 * (double)(p->utime + p->stime) / (double)age : 0.0);
	else if (!strcmp(name, "nice"))
		buf_printf(b, "%d", p->nice);
	else if (!strcmp(name, "state"))
		buf_printf(b, "%c", p->state);
}

static uint64_t uptime_ticks(long tick)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	if (fs_read_file("/proc/uptime", 256, &data, &len, NULL) < 0)
		return 0;
	return (uint64_t)(strtod(data, NULL) * (double)tick);
}

int top_print(struct cli *c, char *const *ctrs, size_t n_ctrs, char *const *descs, bool with_name,
	      struct kerror *e)
{
	static const char *const dflt[] = { "user", "pid", "ppid", "pcpu", "etime", "tty", "time",
					    "args", NULL };
	char *const *want = descs && descs[0] ? descs : (char *const *)dflt;
	int idx[64];
	size_t nd = 0;
	long tick = sysconf(_SC_CLK_TCK);
	struct buf out = { 0 };
	int r = 0;

	for (size_t i = 0; want[i]; i++) {
		/* "pid,user" or separate arguments */
		_cleanup_free_ char *copy = xstrdup(want[i]);
		char *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			int d = descriptor(t);
			if (d < 0)
				return kerror_set(e, EINVAL, "unknown descriptor: %s", t);
			if (nd < ARRAY_SIZE(idx))
				idx[nd++] = d;
		}
	}
	if (tick <= 0)
		tick = 100;
	for (size_t i = 0; i < nd; i++)
		buf_printf(&out, "%s%s", descriptors[idx[i]].header, i + 1 < nd ? "\t" : "");
	if (with_name)
		buf_printf(&out, "\tNAME");
	buf_printf(&out, "\n");
	for (size_t k = 0; k < n_ctrs && r == 0; k++) {
		_cleanup_container_info_ struct container_info *ctr = NULL;
		struct run_procinfo *procs = NULL;
		size_t n = 0;
		r = container_get(c, ctrs[k], &ctr, e);
		if (r < 0)
			break;
		if (ctr->state != CTR_RUNNING || ctr->pid <= 0) {
			r = kerror_set(e, EINVAL, "top can only be used on running containers");
			break;
		}
		r = run_container_procs(ctr->pid, &procs, &n, e);
		if (r < 0)
			break;
		char path[64];
		_cleanup_free_ char *passwd = NULL, *group = NULL;
		size_t len;
		snprintf(path, sizeof(path), "/proc/%d/root/etc/passwd", ctr->pid);
		fs_read_file(path, 1 << 20, &passwd, &len, NULL);
		snprintf(path, sizeof(path), "/proc/%d/root/etc/group", ctr->pid);
		fs_read_file(path, 1 << 20, &group, &len, NULL);
		uint64_t up = uptime_ticks(tick);
		for (size_t i = 0; i < n; i++) {
			for (size_t j = 0; j < nd; j++) {
				cell(&out, idx[j], &procs[i], passwd, group, up, tick);
				if (j + 1 < nd)
					buf_printf(&out, "\t");
			}
			if (with_name)
				buf_printf(&out, "\t%s", ctr->name);
			buf_printf(&out, "\n");
		}
		run_procs_free(procs, n);
	}
	if (r == 0)
		table_print(stdout, out.data ? out.data : "");
	buf_release(&out);
	return r;
}

static int top_ps_in_container(struct cli *c, const char *what, char *const *args,
			      struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	_cleanup_strv_ char **argv = xcalloc(1, sizeof(char *));
	struct store *s;
	int status, r = container_get(c, what, &ctr, e);
	if (r == 0)
		r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	if (ctr->state != CTR_RUNNING)
		return kerror_set(e, EINVAL, "top can only be used on running containers");
	strv_push(&argv, xstrdup("ps"));
	for (size_t i = 0; args[i]; i++)
		strv_push(&argv, xstrdup(args[i]));
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return kerror_sys(e, errno, "forking");
	if (pid == 0) {
		/* the exec joins the container's namespaces: in a child */
		struct run_exec_opts xo = { .argv = argv };
		struct kerror ce = { 0 };
		int code = 125;
		if (run_exec(s, ctr, &xo, &code, &ce) < 0)
			fprintf(stderr, "Error: unknown descriptors and ps failed in the container: "
					"%s\n", ce.msg ? ce.msg : "");
		_exit(code);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return kerror_sys(e, errno, "waiting for ps");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return kerror_set(e, EINVAL, "unknown descriptor: %s (and ps in the container failed)",
			  args[0]);
}

int cmd_top(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "latest", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	while ((opt = cli_getopt(argc, argv, "+lh", opts, e)) != -1) {
		switch (opt) {
		case 'l': break;
		case 'h':
			return cli_usage("kiln top [options] CONTAINER [FORMAT-DESCRIPTORS]",
					 "Descriptors: pid ppid user group comm args etime time tty "
					 "vsz rss pcpu nice state hpid huser uid gid\n");
		default: return -EINVAL;
		}
	}
	if (optind >= argc)
		return kerror_set(e, EINVAL, "\"kiln top\" requires at least 1 argument");
	for (int i = optind + 1; i < argc; i++) {
		_cleanup_free_ char *copy = xstrdup(argv[i]);
		char *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (descriptor(t) < 0)
				/* ps options ("-ef", "aux"): the container's own ps, as
				 * Podman falls back to */
				return top_ps_in_container(c, argv[optind], argv + optind + 1, e);
	}
	return top_print(c, argv + optind, 1, argv + optind + 1, false, e);
}
