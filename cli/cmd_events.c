/* kiln events (also `kiln system events`): the store's event journal,
 * past (--since/--until) and as it happens (followed until --until or a
 * signal), in Docker's line format, a Go template or JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

struct events_out {
	const char *format; /* NULL: Docker's line; "json"; else a template */
	struct buf out;
	struct kerror *e;
	int rc;
};

/* Go's RFC3339NanoFixed in local time, as docker events prints it. */
static void put_time(struct buf *b, int64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000LL);
	struct tm tm;
	char when[64], zone[48];
	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	long off = tm.tm_gmtoff;
	if (off == 0)
		snprintf(zone, sizeof(zone), "Z");
	else
		snprintf(zone, sizeof(zone), "%c%02ld:%02ld", off < 0 ? '-' : '+',
			 labs(off) / 3600, labs(off) % 3600 / 60);
	buf_printf(b, "%s.%09lld%s", when, (long long)(ns % 1000000000LL), zone);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void put_line(struct buf *b, json_t *ev)
{
	json_t *actor = json_object_get(ev, "Actor");
	json_t *attrs = json_object_get(actor, "Attributes");
	put_time(b, json_integer_value(json_object_get(ev, "timeNano")));
	buf_printf(b, " %s %s %s", json_string_value(json_object_get(ev, "Type")) ?: "",
		   json_string_value(json_object_get(ev, "Action")) ?: "",
		   json_string_value(json_object_get(actor, "ID")) ?: "");
	size_t n = json_object_size(attrs), i = 0;
	if (n) {
		const char **keys = xcalloc(n, sizeof(*keys));
		const char *k;
		json_t *v;
		json_object_foreach(attrs, k, v)
			keys[i++] = k;
		qsort(keys, n, sizeof(*keys), cmp_str);
		buf_printf(b, " (");
		for (i = 0; i < n; i++)
			buf_printf(b, "%s%s=%s", i ? ", " : "", keys[i],
				   json_string_value(json_object_get(attrs, keys[i])) ?: "");
		buf_printf(b, ")");
		free(keys);
	}
	buf_printf(b, "\n");
}

/* The dot of --format: Docker's events.Message with its Go field names. */
static json_t *go_message(json_t *ev)
{
	json_t *actor = json_object_get(ev, "Actor");
	json_t *attrs = json_object_get(actor, "Attributes");
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:O}, s:s, s:I, s:I}", "Status",
			 json_string_value(json_object_get(ev, "status")) ?: "", "ID",
			 json_string_value(json_object_get(ev, "id")) ?: "", "From",
			 json_string_value(json_object_get(ev, "from")) ?: "", "Type",
			 json_string_value(json_object_get(ev, "Type")) ?: "", "Action",
			 json_string_value(json_object_get(ev, "Action")) ?: "", "Actor", "ID",
			 json_string_value(json_object_get(actor, "ID")) ?: "", "Attributes",
			 attrs ? attrs : json_object(), "scope", "local", "Time",
			 (json_int_t)json_integer_value(json_object_get(ev, "time")), "TimeNano",
			 (json_int_t)json_integer_value(json_object_get(ev, "timeNano")));
}

static int print_event(json_t *ev, void *ctx)
{
	struct events_out *o = ctx;
	o->out.len = 0;
	if (!o->format) {
		put_line(&o->out, ev);
	} else if (!strcmp(o->format, "json")) {
		_cleanup_free_ char *s = json_dumps(ev, JSON_COMPACT);
		buf_printf(&o->out, "%s\n", s ? s : "{}");
	} else {
		json_t *dot = go_message(ev);
		/* Go's scope field is "Scope" */
		json_object_set(dot, "Scope", json_object_get(dot, "scope"));
		json_object_del(dot, "scope");
		int r = template_render(o->format, dot, &o->out, o->e);
		json_decref(dot);
		if (r < 0) {
			o->rc = r;
			return 1;
		}
		buf_printf(&o->out, "\n");
	}
	/* a reader that went away ends us (SIGPIPE, or EPIPE when ignored) */
	if (fwrite(o->out.data, 1, o->out.len, stdout) != o->out.len || fflush(stdout) != 0) {
		o->rc = -EPIPE;
		return 1;
	}
	return 0;
}

int cmd_events(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 'S' },  { "until", required_argument, NULL, 'U' },
		{ "filter", required_argument, NULL, 'f' }, { "format", required_argument, NULL, 'F' },
		{ "stream", optional_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct event_query q = { 0 };
	struct events_out o = { .e = e };
	bool stream = true, has_since = false;
	char **filters = NULL;
	size_t nf = 0;
	int opt, r = 0;
	while ((opt = cli_getopt(argc, argv, "f:h", opts, e)) != -1) {
		switch (opt) {
		case 'S':
			if ((r = cli_time_parse(optarg, &q.since, e)) < 0)
				goto out;
			has_since = true;
			break;
		case 'U':
			if ((r = cli_time_parse(optarg, &q.until, e)) < 0)
				goto out;
			break;
		case 'f':
			if ((r = store_event_filter_check(optarg, e)) < 0)
				goto out;
			filters = xrealloc(filters, (nf + 2) * sizeof(*filters));
			filters[nf++] = xstrdup(optarg);
			filters[nf] = NULL;
			break;
		case 'F': o.format = *optarg ? optarg : NULL; break;
		case 's':
			if (optarg && (r = cli_parse_bool("--stream", optarg, &stream, e)) < 0)
				goto out;
			break;
		case 'h':
			r = cli_usage("kiln events [OPTIONS]",
				      "  -f, --filter filter   Filter output based on conditions provided\n"
				      "      --format string   Format the output using the given Go "
				      "template, or json\n"
				      "      --since string    Show all events created since timestamp\n"
				      "      --stream          Stream new events; false prints the "
				      "past ones and exits (default true)\n"
				      "      --until string    Stream events until this timestamp\n");
			goto out;
		default: r = -EINVAL; goto out;
		}
	}
	if (optind < argc) {
		r = kerror_set(e, EINVAL, "\"kiln events\" accepts no arguments");
		goto out;
	}
	if (o.format && strcmp(o.format, "json")) {
		/* a bad template fails before anything is read */
		struct gotmpl *t = NULL;
		if ((r = gotmpl_parse(o.format, &t, e)) < 0)
			goto out;
		gotmpl_free(t);
	}
	/* As docker: no --until means follow; no --since then means only what
	 * happens from now on.  Podman's --stream=false prints and exits. */
	q.filters = filters;
	q.follow = stream && !q.until;
	q.only_new = q.follow && !has_since;
	struct store *s;
	if ((r = cli_store(c, &s, e)) < 0)
		goto out;
	r = store_events_read(store_root(s), &q, print_event, &o, e);
	if (r == 0 && o.rc < 0 && o.rc != -EPIPE)
		r = o.rc;
out:
	for (size_t i = 0; i < nf; i++)
		free(filters[i]);
	free(filters);
	buf_release(&o.out);
	return r;
}
