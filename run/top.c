/* kiln top's process table: Podman's descriptors (pid, ppid, user, group,
 * comm, args, etime, time, tty, vsz, rss, pcpu, nice, state, hpid, huser,
 * uid, gid) over a running container's processes, as cells of text, for
 * kiln top, kiln pod top and the API's /containers/{id}/top. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/run.h"

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

int run_top_descriptor(const char *d)
{
	return descriptor(d);
}

/* Descriptor indexes from "pid,user" words; NULL or empty: the default. */
static int columns(char *const *descs, int *idx, size_t max, size_t *nd, struct kerror *e)
{
	static const char *const dflt[] = { "user", "pid", "ppid", "pcpu", "etime", "tty", "time",
					    "args", NULL };
	char *const *want = descs && descs[0] ? descs : (char *const *)dflt;
	*nd = 0;
	for (size_t i = 0; want[i]; i++) {
		_cleanup_free_ char *copy = xstrdup(want[i]);
		char *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			int d = descriptor(t);
			if (d < 0)
				return kerror_set(e, EINVAL, "unknown descriptor: %s", t);
			if (*nd < max)
				idx[(*nd)++] = d;
		}
	}
	return 0;
}

int run_top(pid_t init, char *const *descs, struct run_top *t, struct kerror *e)
{
	int idx[64];
	size_t nd = 0, n = 0;
	long tick = sysconf(_SC_CLK_TCK);
	struct run_procinfo *procs = NULL;
	char path[64];
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	size_t len;
	int r;

	*t = (struct run_top){ 0 };
	if ((r = columns(descs, idx, ARRAY_SIZE(idx), &nd, e)) < 0)
		return r;
	if (tick <= 0)
		tick = 100;
	if ((r = run_container_procs(init, &procs, &n, e)) < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/%d/root/etc/passwd", (int)init);
	fs_read_file(path, 1 << 20, &passwd, &len, NULL);
	snprintf(path, sizeof(path), "/proc/%d/root/etc/group", (int)init);
	fs_read_file(path, 1 << 20, &group, &len, NULL);
	uint64_t up = uptime_ticks(tick);
	t->cols = nd;
	t->rows = n;
	t->titles = xcalloc(nd + 1, sizeof(char *));
	for (size_t j = 0; j < nd; j++)
		t->titles[j] = xstrdup(descriptors[idx[j]].header);
	t->cells = xcalloc(n * nd + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < nd; j++) {
			struct buf b = { 0 };
			cell(&b, idx[j], &procs[i], passwd, group, up, tick);
			buf_append(&b, "", 1);
			t->cells[i * nd + j] = buf_steal(&b);
		}
	run_procs_free(procs, n);
	return 0;
}

void run_top_release(struct run_top *t)
{
	strv_free(t->titles);
	for (size_t i = 0; t->cells && i < t->rows * t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
	*t = (struct run_top){ 0 };
}
