/* kiln stats [--no-stream] [--format] [CONTAINER...]: Docker's columns
 * (CPU %, MEM USAGE / LIMIT, MEM %, NET I/O, BLOCK I/O, PIDS) from the
 * container's cgroups where it has them, else from its processes.  CPU %
 * is the average since the container started on the first sample (as
 * Podman's --no-stream), then over each interval. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/container.h"

/* Docker's units.BytesSize: 4 significant digits, powers of 1024. */
static void bytes_size(uint64_t v, char *out, size_t len)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double d = (double)v;
	size_t i = 0;
	while (d >= 1024 && i + 1 < ARRAY_SIZE(u))
		d /= 1024, i++;
	snprintf(out, len, "%.4g%s", d, u[i]);
}

struct sample {
	char id[DIGEST_HEX_LEN + 1];
	uint64_t cpu_ns;
	int64_t at_ns;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static json_t *stats_item(const struct container_info *ci, const struct run_stats *st,
			  struct sample *prev)
{
	char mu[32], ml[32], rx[32], tx[32], br[32], bw[32], cpu[32], memp[32];
	int64_t now = now_ns();
	uint64_t dcpu = st->cpu_ns;
	int64_t dt = now - ci->started;
	if (prev->at_ns) {
		dcpu = st->cpu_ns >= prev->cpu_ns ? st->cpu_ns - prev->cpu_ns : 0;
		dt = now - prev->at_ns;
	}
	prev->cpu_ns = st->cpu_ns;
	prev->at_ns = now;
	snprintf(cpu, sizeof(cpu), "%.2f%%", dt > 0 ? 100.0 * (double)dcpu / (double)dt : 0.0);
	snprintf(memp, sizeof(memp), "%.2f%%",
		 st->mem_limit ? 100.0 * (double)st->mem_usage / (double)st->mem_limit : 0.0);
	bytes_size(st->mem_usage, mu, sizeof(mu));
	bytes_size(st->mem_limit, ml, sizeof(ml));
	format_size_precision(st->net_rx, 4, rx, sizeof(rx));
	format_size_precision(st->net_tx, 4, tx, sizeof(tx));
	format_size_precision(st->blk_read, 4, br, sizeof(br));
	format_size_precision(st->blk_write, 4, bw, sizeof(bw));
	_cleanup_free_ char *mem = xasprintf("%s / %s", mu, ml);
	_cleanup_free_ char *net = xasprintf("%s / %s", rx, tx);
	_cleanup_free_ char *blk = xasprintf("%s / %s", br, bw);
	_cleanup_free_ char *pids = xasprintf("%zu", st->pids);
	return json_pack("{s:s%, s:s%, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "ID",
			 ci->id, (size_t)12, "Container", ci->id, (size_t)12, "Name", ci->name,
			 "CPUPerc", cpu, "MemUsage", mem, "MemPerc", memp, "NetIO", net, "BlockIO",
			 blk, "PIDs", pids, "MemUsageBytes", (json_int_t)st->mem_usage, "MemLimit",
			 (json_int_t)st->mem_limit, "CPUNano", (json_int_t)st->cpu_ns);
}

static const char default_format[] =
	"table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t"
	"{{.BlockIO}}\t{{.PIDs}}";
static const char *const headers[] = {
	"ID", "CONTAINER ID", "Container", "CONTAINER", "Name", "NAME", "CPUPerc", "CPU %",
	"MemUsage", "MEM USAGE / LIMIT", "MemPerc", "MEM %", "NetIO", "NET I/O", "BlockIO",
	"BLOCK I/O", "PIDs", "PIDS", NULL,
};

/* One round over the containers; samples keeps the previous CPU times. */
static int stats_round(struct cli *c, char *const *names, size_t n_names, bool all,
		       const char *format, struct sample **samples, size_t *n_samples,
		       struct kerror *e)
{
	_cleanup_json_ json_t *items = json_array();
	struct container_info **list = NULL;
	struct store *s;
	size_t n = 0;
	int r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	if (n_names) {
		list = xcalloc(n_names, sizeof(*list));
		for (size_t i = 0; i < n_names && r == 0; i++, n++)
			r = container_get(c, names[i], &list[i], e);
	} else {
		r = store_container_list(s, &list, &n, e);
		for (size_t i = 0; r == 0 && i < n; i++)
			r = run_state_refresh(s, list[i], e);
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct container_info *ci = list[i];
		struct run_stats st = { 0 };
		struct sample *prev = NULL;
		if (ci->state != CTR_RUNNING || ci->pid <= 0) {
			if (!all && !n_names)
				continue;
		} else if (run_container_stats(ci->id, ci->pid, &st, NULL) < 0) {
			continue; /* it ended meanwhile */
		}
		for (size_t k = 0; k < *n_samples; k++)
			if (!strcmp((*samples)[k].id, ci->id))
				prev = &(*samples)[k];
		if (!prev) {
			*samples = xrealloc(*samples, (*n_samples + 1) * sizeof(**samples));
			prev = &(*samples)[(*n_samples)++];
			memset(prev, 0, sizeof(*prev));
			snprintf(prev->id, sizeof(prev->id), "%s", ci->id);
		}
		json_array_append_new(items, stats_item(ci, &st, prev));
	}
	container_list_free(list, n);
	if (r < 0)
		return r;
	if (format && !strcmp(format, "json")) {
		_cleanup_free_ char *t = json_dumps(items, JSON_INDENT(4));
		printf("%s\n", t);
		return 0;
	}
	return template_print_table(stdout, format ? format : default_format, items, headers, e);
}

int cmd_stats(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "no-stream", no_argument, NULL, 'N' },
		{ "no-reset", no_argument, NULL, 'R' },
		{ "format", required_argument, NULL, 'f' },
		{ "interval", required_argument, NULL, 'i' },
		{ "latest", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false, stream = true, reset = true;
	const char *format = NULL;
	struct sample *samples = NULL;
	size_t n_samples = 0;
	long interval = 1;
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "ai:lh", opts, e)) != -1) {
		switch (opt) {
		case 'a': all = true; break;
		case 'N': stream = false; break;
		case 'R': reset = false; break;
		case 'f': format = optarg; break;
		case 'i':
			interval = strtol(optarg, NULL, 10);
			if (interval < 1)
				return kerror_set(e, EINVAL, "invalid interval \"%s\"", optarg);
			break;
		case 'l': break;
		case 'h':
			return cli_usage("kiln stats [options] [CONTAINER...]",
					 "  -a, --all             Show all containers (default "
					 "shows just running)\n"
					 "      --format string   Pretty-print using a Go template\n"
					 "  -i, --interval int    Seconds between updates (default 1)\n"
					 "      --no-stream       Disable streaming stats and only pull "
					 "the first result\n");
		default: return -EINVAL;
		}
	}
	for (;;) {
		if (stream && reset)
			printf("\033[2J\033[H");
		r = stats_round(c, argv + optind, (size_t)(argc - optind), all, format, &samples,
				&n_samples, e);
		fflush(stdout);
		if (r < 0 || !stream)
			break;
		sleep((unsigned)interval);
	}
	free(samples);
	return r;
}
