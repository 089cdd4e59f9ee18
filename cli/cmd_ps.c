/* kiln ps: containers, Docker's columns. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/container.h"

struct ps_filter {
	char **status, **name, **id, **ancestor, **pod;
};

static void ps_filter_release(struct ps_filter *f)
{
	strv_free(f->status);
	strv_free(f->name);
	strv_free(f->id);
	strv_free(f->ancestor);
	strv_free(f->pod);
}

static int ps_filter_add(struct ps_filter *f, const char *spec, struct kerror *e)
{
	const char *eq = strchr(spec, '=');
	if (!eq)
		return kerror_set(e, EINVAL, "bad format of filter (expected name=value)");
	if (str_has_prefix(spec, "status="))
		strv_push(&f->status, xstrdup(eq + 1));
	else if (str_has_prefix(spec, "name="))
		strv_push(&f->name, xstrdup(eq + 1));
	else if (str_has_prefix(spec, "id="))
		strv_push(&f->id, xstrdup(eq + 1));
	else if (str_has_prefix(spec, "pod="))
		strv_push(&f->pod, xstrdup(eq + 1));
	else if (str_has_prefix(spec, "ancestor="))
		strv_push(&f->ancestor, xstrdup(eq + 1));
	else
		return kerror_set(e, EINVAL, "invalid filter \"%.*s\"", (int)(eq - spec), spec);
	return 0;
}

static bool any_match(char **pats, const char *v, bool prefix)
{
	if (!pats)
		return true;
	for (size_t i = 0; pats[i]; i++)
		if (prefix ? str_has_prefix(v, pats[i]) : strstr(v, pats[i]) != NULL)
			return true;
	return false;
}

static bool ps_match(const struct ps_filter *f, const struct container_info *c, bool paused)
{
	if (f->status) {
		bool ok = false;
		for (size_t i = 0; f->status[i]; i++)
			ok |= !strcmp(f->status[i], paused ? "paused" : ctr_state_name(c->state));
		if (!ok)
			return false;
	}
	if (f->ancestor) {
		bool ok = false;
		for (size_t i = 0; f->ancestor[i]; i++)
			ok |= str_has_prefix(c->image_id, f->ancestor[i]) ||
			      image_name_matches(c->image_name, f->ancestor[i]);
		if (!ok)
			return false;
	}
	return any_match(f->name, c->name, false) && any_match(f->id, c->id, true);
}

static char *status_text(struct store *s, const struct container_info *c, int64_t now)
{
	char age[64];
	switch (c->state) {
	case CTR_RUNNING:
		format_age(c->started / 1000000000LL, now, age, sizeof(age));
		if (str_has_suffix(age, " ago"))
			age[strlen(age) - 4] = '\0';
		if (strstr(c->plan, "\"health\"")) {
			/* Docker's "(healthy)", "(unhealthy)", "(health: starting)" */
			_cleanup_json_ json_t *h = run_health_read(s, c->id);
			const char *st = h ? json_str(h, "Status") : NULL;
			if (!st || !strcmp(st, "starting"))
				return xasprintf("Up %s (health: starting)", age);
			return xasprintf("Up %s (%s)", age, st);
		}
		return xasprintf("Up %s", age);
	case CTR_EXITED:
		format_age(c->finished / 1000000000LL, now, age, sizeof(age));
		return xasprintf("Exited (%d) %s", c->exit_code, age);
	case CTR_CREATED:
		break;
	}
	return xstrdup("Created");
}

static char *command_text(const struct container_info *c, bool trunc)
{
	_cleanup_json_ json_t *j = NULL;
	struct buf b = { 0 };
	char **argv;
	if (json_parse(c->plan, strlen(c->plan), &j, NULL) < 0)
		return xstrdup("");
	argv = json_strv(json_object_get(j, "argv"));
	for (size_t i = 0; argv && argv[i]; i++)
		buf_printf(&b, "%s%s", i ? " " : "", argv[i]);
	strv_free(argv);
	char *s = buf_steal(&b);
	if (trunc && strlen(s) > 20) {
		/* Docker's ellipsis keeps 19 characters. */
		char *t = xasprintf("%.19s…", s);
		free(s);
		s = t;
	}
	return s;
}

static json_t *ps_item(struct store *s, const struct container_info *c, bool trunc, int64_t now,
		       bool paused)
{
	char created[64];
	_cleanup_free_ char *status = status_text(s, c, now);
	if (paused) {
		char *t = xasprintf("%s (Paused)", status);
		free(status);
		status = t;
	}
	_cleanup_free_ char *cmd = command_text(c, trunc);
	_cleanup_free_ char *quoted = xasprintf("\"%s\"", cmd);
	_cleanup_free_ char *img = image_familiar(c->image_name);
	format_age(c->created / 1000000000LL, now, created, sizeof(created));
	_cleanup_json_ json_t *plan = json_loads(c->plan, 0, NULL);
	_cleanup_free_ char *ports = run_ports_text(plan);
	return json_pack("{s:s%, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "ID", c->id,
			 (size_t)(trunc ? 12 : DIGEST_HEX_LEN), "Image", img, "ImageID", c->image_id,
			 "Command", quoted, "CreatedAt", created, "RunningFor", created, "Status",
			 status, "State", paused ? "paused" : ctr_state_name(c->state), "Pid", (json_int_t)c->pid,
			 "Names", c->name, "Ports", ports, "Networks", run_network_mode(plan));
}

/* The container's pod, from its plan's "pod" (a cheap text search first:
 * most containers have none). */
static const struct pod_info *pod_of(const struct container_info *c, struct pod_info **pods,
				     size_t n)
{
	if (!strstr(c->plan, "\"pod\""))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *key = xasprintf("\"pod\":\"%s\"", pods[i]->id);
		if (strstr(c->plan, key))
			return pods[i];
	}
	return NULL;
}

static bool pod_matches(const struct pod_info *pod, char **pats)
{
	for (size_t i = 0; pats[i]; i++)
		if (!strcmp(pod->name, pats[i]) || str_has_prefix(pod->id, pats[i]))
			return true;
	return false;
}

int cmd_ps(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },	     { "quiet", no_argument, NULL, 'q' },
		{ "latest", no_argument, NULL, 'l' },	     { "no-trunc", no_argument, NULL, 'T' },
		{ "format", required_argument, NULL, 'f' }, { "filter", required_argument, NULL, 'F' },
		{ "pod", no_argument, NULL, 'P' },	     { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ps_filter flt = { 0 };
	bool all = false, quiet = false, latest = false, trunc = true, show_pod = false;
	struct pod_info **pods = NULL;
	size_t n_pods = 0;
	const char *format = NULL;
	struct container_info **list = NULL;
	_cleanup_json_ json_t *items = json_array();
	struct store *s;
	size_t n = 0;
	int opt, r;
	int64_t now = (int64_t)time(NULL);

	while ((opt = cli_getopt(argc, argv, "aqlf:h", opts, e)) != -1) {
		switch (opt) {
		case 'a': all = true; break;
		case 'q': quiet = true; break;
		case 'l': latest = true; break;
		case 'T': trunc = false; break;
		case 'f': format = optarg; break;
		case 'P': show_pod = true; break;
		case 'F':
			if ((r = ps_filter_add(&flt, optarg, e)) < 0) {
				ps_filter_release(&flt);
				return r;
			}
			break;
		case 'h':
			ps_filter_release(&flt);
			return cli_usage("kiln ps [options]",
					 "  -a, --all             Show all the containers\n"
					 "      --filter strings  Filter output (status=, name=, id=, "
					 "ancestor=)\n"
					 "      --format string   Pretty-print containers using a Go "
					 "template\n"
					 "  -l, --latest          Show the latest container created\n"
					 "      --pod             Print the pod of each container\n"
					 "      --no-trunc        Do not truncate the output\n"
					 "  -q, --quiet           Print the numeric IDs of the "
					 "containers only\n");
		default: ps_filter_release(&flt); return -EINVAL;
		}
	}
	r = cli_store(c, &s, e);
	if (r == 0)
		r = store_container_list(s, &list, &n, e);
	if (r == 0 && (show_pod || flt.pod || (format && strstr(format, "Pod"))))
		r = store_pod_list(s, &pods, &n_pods, e);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct container_info *ci = list[i];
		r = run_state_refresh(s, ci, e);
		if (r < 0)
			break;
		if (latest && json_array_size(items) > 0)
			break;
		bool paused = ci->state == CTR_RUNNING && run_is_paused(s, ci->id);
		if ((!all && !latest && !flt.status && ci->state != CTR_RUNNING) ||
		    !ps_match(&flt, ci, paused))
			continue;
		const struct pod_info *pod = pods ? pod_of(ci, pods, n_pods) : NULL;
		if (flt.pod && (!pod || !pod_matches(pod, flt.pod)))
			continue;
		json_t *it = ps_item(s, ci, trunc, now, paused);
		json_object_set_new(it, "Pod", json_stringn(pod ? pod->id : "",
							     pod ? (trunc ? 12 : DIGEST_HEX_LEN) : 0));
		json_object_set_new(it, "PodName", json_string(pod ? pod->name : ""));
		json_array_append_new(items, it);
	}
	container_list_free(list, n);
	pod_list_free(pods, n_pods);
	ps_filter_release(&flt);
	if (r < 0)
		return r;
	if (quiet) {
		for (size_t i = 0; i < json_array_size(items); i++)
			printf("%s\n", json_str(json_array_get(items, i), "ID"));
		return 0;
	}
	if (format)
		return template_print_list(stdout, format, items, e);
	struct buf b = { 0 };
	buf_printf(&b, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES%s\n",
		   show_pod ? "\tPOD ID\tPODNAME" : "");
	for (size_t i = 0; i < json_array_size(items); i++) {
		json_t *it = json_array_get(items, i);
		buf_printf(&b, "%s\t%s\t%s\t%s\t%s\t%s\t%s", json_str(it, "ID"),
			   json_str(it, "Image"), json_str(it, "Command"),
			   json_str(it, "CreatedAt"), json_str(it, "Status"),
			   json_str(it, "Ports"), json_str(it, "Names"));
		if (show_pod)
			buf_printf(&b, "\t%s\t%s", json_str(it, "Pod"), json_str(it, "PodName"));
		buf_printf(&b, "\n");
	}
	table_print(stdout, b.data);
	buf_release(&b);
	return 0;
}
