/* kiln logs: the container's k8s-file log. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/container.h"

struct logs_opts {
	bool follow, timestamps;
	long tail; /* -1 all */
	bool has_since, has_until;
	int64_t since, until; /* ns */
};

int cli_time_parse(const char *v, int64_t *out, struct kerror *e)
{
	int64_t sec;
	long ns;
	char *end;
	double d = strtod(v, &end);
	if (end != v && (*end == 's' || *end == 'm' || *end == 'h') && !end[1]) {
		/* a duration before now: 10s, 5m, 1h */
		double mult = *end == 's' ? 1 : *end == 'm' ? 60 : 3600;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		*out = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec -
		       (int64_t)(d * mult * 1e9);
		return 0;
	}
	if (end != v && !*end) {
		*out = (int64_t)(d * 1e9);
		return 0;
	}
	if (parse_rfc3339(v, &sec, &ns) == 0) {
		*out = sec * 1000000000LL + ns;
		return 0;
	}
	return kerror_set(e, EINVAL, "invalid time \"%s\"", v);
}

static void print_line(const struct logs_opts *o, const struct log_line *l, const char *raw,
		       size_t stamp_len)
{
	FILE *out = l->is_stderr ? stderr : stdout;
	int64_t t = l->sec * 1000000000LL + l->nsec;
	if ((o->has_since && t < o->since) || (o->has_until && t > o->until))
		return;
	if (o->timestamps)
		fprintf(out, "%.*s ", (int)stamp_len, raw);
	fwrite(l->text, 1, l->len, out);
	if (!l->partial)
		fputc('\n', out);
	fflush(out);
}

/* Prints complete lines of data[0..len); returns bytes consumed. */
static size_t print_lines(const struct logs_opts *o, const char *data, size_t len, long skip)
{
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		struct log_line l;
		if (!nl)
			break;
		size_t n = (size_t)(nl - (data + pos));
		if (skip > 0)
			skip--;
		else if (run_log_parse(data + pos, n, &l)) {
			const char *sp = memchr(data + pos, ' ', n);
			print_line(o, &l, data + pos, sp ? (size_t)(sp - (data + pos)) : 0);
		}
		pos += n + 1;
	}
	return pos;
}

static long count_lines(const char *data, size_t len)
{
	long n = 0;
	for (size_t i = 0; i < len; i++)
		n += data[i] == '\n';
	return n;
}

static int logs_one(struct cli *c, const char *what, const struct logs_opts *o,
		    struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	_cleanup_free_ char *path = NULL, *data = NULL;
	struct store *s;
	size_t len = 0, done;
	long skip = 0;
	int r = container_get(c, what, &ctr, e);
	if (r == 0)
		r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	{
		struct run_plan plan = { 0 };
		bool none = run_plan_from_json(ctr->plan, &plan, NULL) == 0 && plan.log_driver &&
			    !strcmp(plan.log_driver, "none");
		run_plan_release(&plan);
		if (none)
			return kerror_set(e, ENOTSUP, "this container is using the 'none' log "
						      "driver, cannot read logs");
	}
	path = run_log_path(s, ctr->id);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		return kerror_sys(e, errno, "opening \"%s\"", path);
	if (fd >= 0) {
		r = fs_read_fd(fd, (size_t)1 << 30, path, &data, &len, e);
		if (r < 0)
			return r;
	}
	if (o->tail >= 0) {
		long total = count_lines(data ? data : "", len);
		skip = total > o->tail ? total - o->tail : 0;
	}
	done = print_lines(o, data ? data : "", len, skip);
	if (!o->follow || fd < 0)
		return 0;
	/* Follow until the monitor is gone and the file has no more. */
	struct buf pending = { 0 };
	buf_append(&pending, data + done, len - done);
	for (;;) {
		char buf[65536];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			buf_append(&pending, buf, (size_t)n);
			size_t used = print_lines(o, pending.data, pending.len, 0);
			memmove(pending.data, pending.data + used, pending.len - used);
			pending.len -= used;
			continue;
		}
		int lfd;
		if (run_lock(s, ctr->id, false, &lfd, NULL) == 0) {
			close(lfd);
			/* one last read: the monitor wrote before it released */
			while ((n = read(fd, buf, sizeof(buf))) > 0)
				buf_append(&pending, buf, (size_t)n);
			print_lines(o, pending.data ? pending.data : "", pending.len, 0);
			break;
		}
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	buf_release(&pending);
	return 0;
}

int cmd_logs(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },	   { "timestamps", no_argument, NULL, 't' },
		{ "tail", required_argument, NULL, 'T' },  { "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct logs_opts o = { .tail = -1 };
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "fth", opts, e)) != -1) {
		switch (opt) {
		case 'f': o.follow = true; break;
		case 't': o.timestamps = true; break;
		case 'T': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (!strcmp(optarg, "all"))
				v = -1;
			else if (!*optarg || *end)
				return kerror_set(e, EINVAL, "invalid --tail \"%s\"", optarg);
			o.tail = v < 0 ? -1 : v;
			break;
		}
		case 'S':
			if ((r = cli_time_parse(optarg, &o.since, e)) < 0)
				return r;
			o.has_since = true;
			break;
		case 'U':
			if ((r = cli_time_parse(optarg, &o.until, e)) < 0)
				return r;
			o.has_until = true;
			break;
		case 'h':
			return cli_usage("kiln logs [options] CONTAINER [CONTAINER...]",
					 "  -f, --follow         Follow log output\n"
					 "      --since string   Show logs since TIMESTAMP\n"
					 "      --tail int       Output the specified number of lines "
					 "at the end of logs\n"
					 "  -t, --timestamps     Output the timestamps in the log\n"
					 "      --until string   Show logs until TIMESTAMP\n");
		default: return -EINVAL;
		}
	}
	if (optind >= argc)
		return kerror_set(e, EINVAL, "\"kiln logs\" requires at least 1 argument");
	for (int i = optind; i < argc; i++)
		if ((r = logs_one(c, argv[i], &o, e)) < 0)
			return r;
	return 0;
}
