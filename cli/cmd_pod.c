/* kiln pod: groups of containers sharing network, IPC and UTS namespaces,
 * held by an infra container (kiln's own process paused in them, no
 * image).  kiln run --pod NAME puts a container into one. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/container.h"

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* "net,ipc,uts" → CLONE_NEW* flags. */
static int share_flags(json_t *share, int64_t *out, struct kerror *e)
{
	size_t i;
	json_t *v;
	*out = 0;
	json_array_foreach(share, i, v) {
		const char *n = json_string_value(v);
		if (!n)
			continue;
		if (!strcmp(n, "net"))
			*out |= CLONE_NEWNET;
		else if (!strcmp(n, "ipc"))
			*out |= CLONE_NEWIPC;
		else if (!strcmp(n, "uts"))
			*out |= CLONE_NEWUTS;
		else if (strcmp(n, "none") && strcmp(n, "cgroup") && strcmp(n, "pid"))
			return kerror_set(e, EINVAL, "invalid kernel namespace to share: %s", n);
	}
	return 0;
}

/* The pod's members (not the infra), oldest first. */
static int pod_members(struct store *s, const struct pod_info *pod,
		       struct container_info ***out, size_t *n, struct kerror *e)
{
	struct container_info **all = NULL;
	size_t na = 0, k = 0;
	int r = store_container_list(s, &all, &na, e);
	if (r < 0)
		return r;
	*out = xcalloc(na + 1, sizeof(**out));
	for (size_t i = na; i-- > 0;) {
		_cleanup_json_ json_t *plan = NULL;
		if (!strcmp(all[i]->id, pod->infra_id) || !strstr(all[i]->plan, pod->id) ||
		    json_parse(all[i]->plan, strlen(all[i]->plan), &plan, NULL) < 0 ||
		    strcmp(json_str(plan, "pod") ?: "", pod->id) != 0)
			continue;
		(*out)[k++] = steal_pointer(&all[i]);
	}
	container_list_free(all, na);
	*n = k;
	for (size_t i = 0; i < k; i++)
		run_state_refresh(s, (*out)[i], NULL);
	return 0;
}

int pod_ensure_infra(struct cli *c, const char *infra_id, struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ic = NULL;
	struct run_plan p = { 0 };
	int code, r = container_get(c, infra_id, &ic, e);
	if (r < 0 || ic->state == CTR_RUNNING)
		return r;
	r = run_plan_from_json(ic->plan, &p, e);
	if (r == 0)
		r = container_detach(c, ic, &p, false, 0, &code, e);
	run_plan_release(&p);
	return r < 0 ? kerror_wrap(e, "starting the pod's infra container") : 0;
}

/* ---- pod create --------------------------------------------------------- */

struct pod_create_opts {
	char *name, *hostname, *network;
	char **publish, **share, **labels, **add_hosts, **dns;
	bool infra;
};

static void pod_create_opts_release(struct pod_create_opts *o)
{
	free(o->name);
	free(o->hostname);
	free(o->network);
	strv_free(o->publish);
	strv_free(o->share);
	strv_free(o->labels);
	strv_free(o->add_hosts);
	strv_free(o->dns);
}

/* The infra container: kiln's paused process on an empty root of its own,
 * with the pod's network, hostname and ports. */
static int create_infra(struct cli *c, struct store *s, const struct pod_info *pod,
			const struct pod_create_opts *o, char id[DIGEST_HEX_LEN + 1],
			struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ci = xcalloc(1, sizeof(*ci));
	_cleanup_json_ json_t *pj = NULL;
	struct run_flags f = { 0 };
	struct run_plan p = { 0 };
	int r;

	(void)c;
	cli_new_id(ci->id);
	_cleanup_free_ char *dir = store_container_dir(s, ci->id);
	f.cmd = xcalloc(1, sizeof(char *));
	strv_push(&f.cmd, xstrdup("/kiln-pause"));
	f.rootfs = xasprintf("%s/rootfs", dir);
	f.hostname = xstrdup(o->hostname ? o->hostname : pod->name);
	f.network = o->network ? xstrdup(o->network) : NULL;
	f.network_host = o->network && !strcmp(o->network, "host");
	for (size_t i = 0; o->publish && o->publish[i]; i++)
		strv_push(&f.publish, xstrdup(o->publish[i]));
	for (size_t i = 0; o->add_hosts && o->add_hosts[i]; i++)
		strv_push(&f.add_hosts, xstrdup(o->add_hosts[i]));
	for (size_t i = 0; o->dns && o->dns[i]; i++)
		strv_push(&f.dns, xstrdup(o->dns[i]));
	f.stop_timeout = 1;
	f.no_healthcheck = true;
	/* (f.pod stays unset: a member's plan leaves the network to the
	 * infra, the infra's plan has it) */
	r = run_plan_build(s, NULL, NULL, &f, ci->id, &p, e);
	run_flags_release(&f);
	if (r < 0)
		return r;
	p.infra = true;
	p.pod = xstrdup(pod->id);
	pj = run_plan_to_json(&p);
	ci->plan = json_dump_compact(pj);
	ci->name = xasprintf("%.12s-infra", pod->id);
	ci->image_name = xstrdup("kiln-infra");
	ci->created = now_ns();
	ci->state = CTR_CREATED;
	r = store_container_create(s, ci, e);
	if (r == 0)
		r = run_prepare_dirs(s, ci->id, &p, e);
	if (r == 0 && mkdir(p.rootfs, 0755) < 0)
		r = kerror_sys(e, errno, "creating \"%s\"", p.rootfs);
	run_plan_release(&p);
	if (r < 0) {
		_cleanup_kerror_ struct kerror e2 = { 0 };
		store_container_remove(s, ci->id, &e2);
		return r;
	}
	snprintf(id, DIGEST_HEX_LEN + 1, "%s", ci->id);
	return 0;
}

static int pod_create(struct cli *c, struct pod_create_opts *o, char **id_out,
		      struct kerror *e)
{
	struct pod_info pod = { 0 };
	_cleanup_json_ json_t *cfg = json_object();
	_cleanup_free_ char *name = o->name ? xstrdup(o->name) : cli_random_name();
	char infra[DIGEST_HEX_LEN + 1] = "";
	json_t *share = json_array(), *labels = json_object();
	struct store *s;
	int64_t ns;
	int r;

	if (!*name || strchr(name, '/') || strlen(name) > 128)
		return kerror_set(e, EINVAL, "invalid pod name \"%s\"", name);
	if (o->share) {
		for (size_t i = 0; o->share[i]; i++)
			json_array_append_new(share, json_string(o->share[i]));
	} else if (o->infra) {
		json_array_append_new(share, json_string("ipc"));
		json_array_append_new(share, json_string("net"));
		json_array_append_new(share, json_string("uts"));
	}
	r = share_flags(share, &ns, e);
	for (size_t i = 0; r == 0 && o->labels && o->labels[i]; i++) {
		const char *eq = strchr(o->labels[i], '=');
		_cleanup_free_ char *k = eq ? xstrndup(o->labels[i], (size_t)(eq - o->labels[i]))
					    : xstrdup(o->labels[i]);
		json_object_set_new(labels, k, json_string(eq ? eq + 1 : ""));
	}
	json_object_set_new(cfg, "share", share);
	json_object_set_new(cfg, "labels", labels);
	json_object_set_new(cfg, "hostname", json_string(o->hostname ? o->hostname : name));
	json_object_set_new(cfg, "infra", json_boolean(o->infra));
	if (r == 0 && !o->infra && (ns || o->publish))
		r = kerror_set(e, EINVAL, "you must have an infra container to share namespaces "
					  "or publish ports");
	if (r == 0)
		r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	cli_new_id(pod.id);
	pod.name = name;
	pod.created = now_ns();
	pod.infra_id = infra;
	if (o->infra) {
		r = create_infra(c, s, &pod, o, infra, e);
		if (r < 0)
			return r;
	}
	pod.config = json_dump_compact(cfg);
	r = store_pod_create(s, &pod, e);
	free(pod.config);
	if (r < 0 && *infra) {
		_cleanup_kerror_ struct kerror e2 = { 0 };
		store_container_remove(s, infra, &e2);
	}
	if (r == 0)
		*id_out = xstrdup(pod.id);
	return r;
}

static int cmd_pod_create(struct cli *c, int argc, char **argv, struct kerror *e)
{
	enum { OPT_NAME = 256, OPT_NETWORK, OPT_HOSTNAME, OPT_SHARE, OPT_INFRA, OPT_ADD_HOST,
	       OPT_DNS };
	static const struct option opts[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "publish", required_argument, NULL, 'p' },
		{ "network", required_argument, NULL, OPT_NETWORK },
		{ "net", required_argument, NULL, OPT_NETWORK },
		{ "hostname", required_argument, NULL, OPT_HOSTNAME },
		{ "share", required_argument, NULL, OPT_SHARE },
		{ "infra", optional_argument, NULL, OPT_INFRA },
		{ "label", required_argument, NULL, 'l' },
		{ "add-host", required_argument, NULL, OPT_ADD_HOST },
		{ "dns", required_argument, NULL, OPT_DNS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pod_create_opts o = { .infra = true };
	_cleanup_free_ char *id = NULL;
	int opt, r = 0;
	char *m;
	while (r == 0 && (opt = cli_getopt(argc, argv, "p:l:h", opts, e)) != -1) {
		switch (opt) {
		case OPT_NAME: free(o.name); o.name = xstrdup(optarg); break;
		case 'p': strv_push(&o.publish, xstrdup(optarg)); break;
		case OPT_NETWORK: free(o.network); o.network = xstrdup(optarg); break;
		case OPT_HOSTNAME: free(o.hostname); o.hostname = xstrdup(optarg); break;
		case OPT_SHARE: {
			_cleanup_free_ char *copy = xstrdup(optarg);
			char *save = NULL;
			strv_free(o.share);
			o.share = xcalloc(1, sizeof(char *));
			for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
				strv_push(&o.share, xstrdup(t));
			break;
		}
		case OPT_INFRA: r = cli_parse_bool("--infra", optarg, &o.infra, e); break;
		case 'l': strv_push(&o.labels, xstrdup(optarg)); break;
		case OPT_ADD_HOST:
			if ((r = run_add_host_parse(optarg, &m, e)) == 0)
				strv_push(&o.add_hosts, m);
			break;
		case OPT_DNS:
			if ((r = run_dns_server_check(optarg, e)) == 0)
				strv_push(&o.dns, xstrdup(optarg));
			break;
		case 'h':
			pod_create_opts_release(&o);
			return cli_usage("kiln pod create [options]",
					 "      --add-host host:ip   Add a custom host-to-IP mapping\n"
					 "      --dns ip             Set custom DNS servers\n"
					 "      --hostname string    Set the pod's hostname\n"
					 "      --infra              Create an infra container (default "
					 "true)\n"
					 "  -l, --label strings      Set metadata on the pod\n"
					 "      --name string        Assign a name to the pod\n"
					 "      --network string     Network mode of the pod\n"
					 "  -p, --publish strings    Publish a port of the pod\n"
					 "      --share string       Namespaces to share (net,ipc,uts; "
					 "none)\n");
		default: r = -EINVAL;
		}
	}
	if (r == 0 && optind < argc)
		r = kerror_set(e, EINVAL, "\"kiln pod create\" takes no arguments");
	if (r == 0)
		r = pod_create(c, &o, &id, e);
	pod_create_opts_release(&o);
	if (r == 0)
		printf("%s\n", id);
	return r;
}

int pod_resolve_for_run(struct cli *c, struct run_cli *o, struct kerror *e)
{
	_cleanup_pod_info_ struct pod_info *pod = NULL;
	_cleanup_json_ json_t *cfg = NULL;
	struct store *s;
	int r;
	if (str_has_prefix(o->pod, "new:")) {
		struct pod_create_opts po = { .infra = true, .name = xstrdup(o->pod + 4) };
		_cleanup_free_ char *id = NULL;
		r = pod_create(c, &po, &id, e);
		pod_create_opts_release(&po);
		if (r < 0)
			return r;
		free(o->pod);
		o->pod = steal_pointer(&id);
	}
	r = cli_store(c, &s, e);
	if (r == 0)
		r = store_pod_get(s, o->pod, &pod, e);
	if (r == 0)
		r = json_parse(pod->config, strlen(pod->config), &cfg, e);
	if (r < 0)
		return r;
	o->f.pod = xstrdup(pod->id);
	if (!*pod->infra_id)
		return 0;
	r = share_flags(json_object_get(cfg, "share"), &o->f.pod_ns, e);
	if (r < 0)
		return r;
	if ((o->f.pod_ns & CLONE_NEWNET) && (o->f.publish || o->f.network))
		return kerror_set(e, EINVAL, "invalid config provided: published ports and the "
					     "network must be set on the pod when its network "
					     "namespace is shared");
	if (o->f.pod_ns & CLONE_NEWUTS) {
		free(o->f.hostname);
		o->f.hostname = xstrdup(json_str(cfg, "hostname") ?: pod->name);
	}
	o->f.infra_id = xstrdup(pod->infra_id);
	return pod_ensure_infra(c, pod->infra_id, e);
}

/* ---- pod ps / inspect ----------------------------------------------------- */

static const char *pod_status(struct container_info **m, size_t n, const struct container_info *infra)
{
	size_t running = 0, exited = 0;
	for (size_t i = 0; i < n; i++) {
		running += m[i]->state == CTR_RUNNING;
		exited += m[i]->state == CTR_EXITED;
	}
	if (n == 0)
		return infra && infra->state == CTR_RUNNING ? "Running" : "Created";
	if (running == n)
		return "Running";
	if (running > 0)
		return "Degraded";
	return exited ? "Exited" : "Created";
}

/* A copy of obj's key, else dflt (a new reference either way). */
static json_t *copy_or(json_t *obj, const char *key, json_t *dflt)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return dflt;
	json_decref(dflt);
	return json_deep_copy(v);
}

static json_t *pod_json(struct cli *c, struct store *s, const struct pod_info *pod, bool full,
			struct kerror *e)
{
	struct container_info **m = NULL;
	_cleanup_container_info_ struct container_info *infra = NULL;
	_cleanup_json_ json_t *cfg = NULL;
	size_t n = 0;
	char created[64];
	int r = pod_members(s, pod, &m, &n, e);
	if (r < 0)
		return NULL;
	if (*pod->infra_id)
		container_get(c, pod->infra_id, &infra, NULL);
	if (json_parse(pod->config, strlen(pod->config), &cfg, NULL) < 0)
		cfg = json_object();
	json_t *ctrs = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(ctrs, json_pack("{s:s, s:s, s:s}", "Id", m[i]->id, "Name",
						      m[i]->name, "State",
						      ctr_state_name(m[i]->state)));
	const char *status = pod_status(m, n, infra);
	json_t *j;
	if (full) {
		format_rfc3339(pod->created / 1000000000LL, (long)(pod->created % 1000000000LL),
			       created, sizeof(created));
		j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "Id", pod->id, "Name",
			      pod->name, "Created", created, "State", status, "Hostname",
			      json_str(cfg, "hostname") ?: "", "CreateInfra", *pod->infra_id != 0,
			      "InfraContainerID", pod->infra_id);
		json_object_set_new(j, "Labels", copy_or(cfg, "labels", json_object()));
		json_object_set_new(j, "SharedNamespaces", copy_or(cfg, "share", json_array()));
		json_object_set_new(j, "NumContainers", json_integer((json_int_t)n));
		json_object_set_new(j, "Containers", ctrs);
	} else {
		format_age(pod->created / 1000000000LL, (int64_t)time(NULL), created,
			   sizeof(created));
		j = json_pack("{s:s%, s:s, s:s, s:s, s:s%, s:I, s:o, s:o}", "ID", pod->id,
			      (size_t)12, "Name", pod->name, "Status", status, "Created", created,
			      "InfraID", pod->infra_id, (size_t)12, "NumberOfContainers",
			      (json_int_t)n, "Containers", ctrs, "Labels",
			      copy_or(cfg, "labels", json_object()));
	}
	container_list_free(m, n);
	return j;
}

static bool pod_filter_match(json_t *item, char **filters)
{
	for (size_t i = 0; filters && filters[i]; i++) {
		const char *f = filters[i], *eq = strchr(f, '=');
		if (!eq)
			return false;
		const char *v = eq + 1;
		size_t kl = (size_t)(eq - f);
		if (!strncmp(f, "name", kl) && kl == 4) {
			if (!strstr(json_str(item, "Name"), v))
				return false;
		} else if (!strncmp(f, "id", kl) && kl == 2) {
			if (!str_has_prefix(json_str(item, "ID"), v))
				return false;
		} else if (!strncmp(f, "status", kl) && kl == 6) {
			if (strcasecmp(json_str(item, "Status"), v))
				return false;
		} else if (!strncmp(f, "label", kl) && kl == 5) {
			const char *leq = strchr(v, '=');
			_cleanup_free_ char *k = leq ? xstrndup(v, (size_t)(leq - v)) : xstrdup(v);
			json_t *lv = json_object_get(json_object_get(item, "Labels"), k);
			if (!lv || (leq && strcmp(json_string_value(lv) ?: "", leq + 1)))
				return false;
		} else {
			return false;
		}
	}
	return true;
}

static int cmd_pod_ps(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },	     { "format", required_argument, NULL, 'f' },
		{ "filter", required_argument, NULL, 'F' }, { "no-trunc", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },	     { NULL, 0, NULL, 0 },
	};
	static const char *const headers[] = { "ID", "POD ID", "NumberOfContainers",
					       "# OF CONTAINERS", "InfraID", "INFRA ID", NULL };
	_cleanup_strv_ char **filters = NULL;
	_cleanup_json_ json_t *items = json_array();
	const char *format = NULL;
	bool quiet = false;
	struct pod_info **pods = NULL;
	struct store *s;
	size_t n = 0;
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "qf:h", opts, e)) != -1) {
		switch (opt) {
		case 'q': quiet = true; break;
		case 'f': format = optarg; break;
		case 'F': strv_push(&filters, xstrdup(optarg)); break;
		case 'T': break;
		case 'h':
			return cli_usage("kiln pod ps [options]",
					 "      --filter strings   Filter output (name=, id=, status=, "
					 "label=)\n"
					 "      --format string    Pretty-print pods using a Go template\n"
					 "  -q, --quiet            Print the numeric IDs of the pods "
					 "only\n");
		default: return -EINVAL;
		}
	}
	r = cli_store(c, &s, e);
	if (r == 0)
		r = store_pod_list(s, &pods, &n, e);
	for (size_t i = 0; r == 0 && i < n; i++) {
		json_t *j = pod_json(c, s, pods[i], false, e);
		if (!j) {
			r = -EIO;
			break;
		}
		if (pod_filter_match(j, filters))
			json_array_append_new(items, j);
		else
			json_decref(j);
	}
	pod_list_free(pods, n);
	if (r < 0)
		return r;
	if (quiet) {
		for (size_t i = 0; i < json_array_size(items); i++)
			printf("%s\n", json_str(json_array_get(items, i), "ID"));
		return 0;
	}
	if (format && !strcmp(format, "json")) {
		_cleanup_free_ char *t = json_dump_pretty(items);
		printf("%s\n", t);
		return 0;
	}
	return template_print_table(stdout,
				    format ? format
					   : "table {{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t"
					     "{{.InfraID}}\t{{.NumberOfContainers}}",
				    items, headers, e);
}

static int cmd_pod_inspect(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	_cleanup_json_ json_t *all = json_array();
	const char *format = NULL;
	struct store *s;
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "f:h", opts, e)) != -1) {
		if (opt == 'f')
			format = optarg;
		else if (opt == 'h')
			return cli_usage("kiln pod inspect [options] POD [POD...]",
					 "  -f, --format string   Format the output using a Go "
					 "template\n");
		else
			return -EINVAL;
	}
	if (optind >= argc)
		return kerror_set(e, EINVAL, "\"kiln pod inspect\" requires at least 1 argument");
	r = cli_store(c, &s, e);
	for (int i = optind; r == 0 && i < argc; i++) {
		_cleanup_pod_info_ struct pod_info *pod = NULL;
		r = store_pod_get(s, argv[i], &pod, e);
		if (r < 0)
			break;
		json_t *j = pod_json(c, s, pod, true, e);
		if (!j)
			return -EIO;
		json_array_append_new(all, j);
	}
	if (r < 0)
		return r;
	if (format && strcmp(format, "json"))
		return template_print_list(stdout, format, all, e);
	_cleanup_free_ char *t = json_dump_pretty(json_array_size(all) == 1
							  ? json_array_get(all, 0)
							  : all);
	printf("%s\n", t);
	return 0;
}

/* ---- pod start / stop / kill / restart / rm / top ------------------------- */

enum pod_verb { POD_START, POD_STOP, POD_KILL, POD_RESTART, POD_RM };

struct pod_verb_opts {
	enum pod_verb verb;
	int timeout, sig;
	bool force;
};

static int pod_act(struct cli *c, const char *what, const struct pod_verb_opts *o,
		   struct kerror *e)
{
	_cleanup_pod_info_ struct pod_info *pod = NULL;
	struct container_info **m = NULL;
	struct store *s;
	size_t n = 0;
	int r = cli_store(c, &s, e);
	if (r == 0)
		r = store_pod_get(s, what, &pod, e);
	if (r == 0)
		r = pod_members(s, pod, &m, &n, e);
	if (r < 0)
		return r;
	if (o->verb == POD_RM && !o->force)
		for (size_t i = 0; i < n && r == 0; i++)
			if (m[i]->state == CTR_RUNNING)
				r = kerror_set(e, EBUSY, "pod %s has running containers: remove "
							 "them or use -f",
					       pod->name);
	if (o->verb == POD_STOP || o->verb == POD_RESTART || o->verb == POD_RM) {
		for (size_t i = 0; i < n && r == 0; i++)
			r = o->verb == POD_RM ? container_remove(c, m[i], true, false, e)
					      : container_stop(c, m[i], o->timeout, e);
		if (r == 0 && *pod->infra_id) {
			_cleanup_container_info_ struct container_info *ic = NULL;
			if (container_get(c, pod->infra_id, &ic, NULL) == 0)
				r = o->verb == POD_RM ? container_remove(c, ic, true, false, e)
						      : container_stop(c, ic, 1, e);
		}
		if (r == 0 && o->verb == POD_RM && (r = cli_store(c, &s, e)) == 0)
			r = store_pod_remove(s, pod->id, e);
	}
	if (r == 0 && o->verb == POD_KILL) {
		_cleanup_container_info_ struct container_info *ic = NULL;
		for (size_t i = 0; i < n; i++)
			if (m[i]->state == CTR_RUNNING && m[i]->pid > 0)
				kill(m[i]->pid, o->sig);
		/* the infra too, as Podman */
		if (*pod->infra_id && container_get(c, pod->infra_id, &ic, NULL) == 0 &&
		    ic->state == CTR_RUNNING && ic->pid > 0)
			kill(ic->pid, o->sig);
	}
	if (r == 0 && (o->verb == POD_START || o->verb == POD_RESTART)) {
		if (*pod->infra_id)
			r = pod_ensure_infra(c, pod->infra_id, e);
		for (size_t i = 0; i < n && r == 0; i++) {
			_cleanup_container_info_ struct container_info *cur = NULL;
			struct run_plan p = { 0 };
			int code;
			r = container_get(c, m[i]->id, &cur, e);
			if (r < 0 || cur->state == CTR_RUNNING)
				continue;
			r = run_plan_from_json(cur->plan, &p, e);
			if (r == 0)
				r = container_detach(c, cur, &p, false, 0, &code, e);
			run_plan_release(&p);
		}
	}
	container_list_free(m, n);
	if (r == 0 && o->verb != POD_RM) {
		/* (remove is the store's own event) */
		static const char *const actions[] = { [POD_START] = "start", [POD_STOP] = "stop",
						       [POD_KILL] = "kill",
						       [POD_RESTART] = "restart" };
		struct kerror ign = { 0 };
		/* Starting members may have reopened the CLI's store. */
		if (cli_store(c, &s, &ign) == 0)
			store_event(s, "pod", actions[o->verb], pod->id, "name", pod->name, NULL);
		kerror_release(&ign);
	}
	if (r == 0)
		printf("%s\n", pod->id);
	return r;
}

static int cmd_pod_verb(struct cli *c, int argc, char **argv, enum pod_verb verb,
			struct kerror *e)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },	 { "time", required_argument, NULL, 't' },
		{ "signal", required_argument, NULL, 's' }, { "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },	 { NULL, 0, NULL, 0 },
	};
	struct pod_verb_opts o = { .verb = verb, .timeout = -1, .sig = SIGKILL };
	bool all = false;
	int opt, r = 0, failed = 0;
	while ((opt = cli_getopt(argc, argv, "ft:s:ah", opts, e)) != -1) {
		switch (opt) {
		case 'f': o.force = true; break;
		case 't': o.timeout = atoi(optarg); break;
		case 's':
			if ((o.sig = run_signal_parse(optarg)) < 0)
				return kerror_set(e, EINVAL, "invalid signal: %s", optarg);
			break;
		case 'a': all = true; break;
		case 'h':
			return cli_usage("kiln pod start|stop|kill|restart|rm [options] POD [POD...]",
					 "  -a, --all            All pods\n"
					 "  -f, --force          rm: stop and remove running "
					 "containers\n"
					 "  -s, --signal string  kill: the signal (default KILL)\n"
					 "  -t, --time int       stop: seconds before SIGKILL\n");
		default: return -EINVAL;
		}
	}
	_cleanup_strv_ char **names = NULL;
	if (all) {
		struct pod_info **pods = NULL;
		struct store *s;
		size_t n = 0;
		r = cli_store(c, &s, e);
		if (r == 0)
			r = store_pod_list(s, &pods, &n, e);
		for (size_t i = 0; i < n; i++)
			strv_push(&names, xstrdup(pods[i]->id));
		pod_list_free(pods, n);
		if (r < 0)
			return r;
	} else {
		if (optind >= argc)
			return kerror_set(e, EINVAL, "you must provide at least one pod name or id");
		for (int i = optind; i < argc; i++)
			strv_push(&names, xstrdup(argv[i]));
	}
	for (size_t i = 0; names && names[i]; i++) {
		struct kerror one = { 0 };
		if (pod_act(c, names[i], &o, &one) < 0) {
			if (!names[i + 1] && !failed) {
				*e = one;
				return -(one.code ? one.code : EINVAL);
			}
			fprintf(stderr, "Error: %s\n", one.msg);
			failed = 1;
		}
		kerror_release(&one);
	}
	return failed ? kerror_set(e, EIO, "some pods failed") : 0;
}

static int cmd_pod_top(struct cli *c, int argc, char **argv, struct kerror *e)
{
	_cleanup_pod_info_ struct pod_info *pod = NULL;
	struct container_info **m = NULL;
	_cleanup_strv_ char **names = NULL;
	struct store *s;
	size_t n = 0;
	int r;
	if (cli_wants_usage(argc, argv, "kiln pod top POD [DESCRIPTORS...]"))
		return 0;
	if (argc < 2)
		return kerror_set(e, EINVAL, "\"kiln pod top\" requires at least 1 argument");
	r = cli_store(c, &s, e);
	if (r == 0)
		r = store_pod_get(s, argv[1], &pod, e);
	if (r == 0)
		r = pod_members(s, pod, &m, &n, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (m[i]->state == CTR_RUNNING)
			strv_push(&names, xstrdup(m[i]->id));
	container_list_free(m, n);
	if (!names)
		return kerror_set(e, EINVAL, "pod %s has no running containers", pod->name);
	return top_print(c, names, strv_len(names), argv + 2, true, e);
}

static int cmd_pod_start(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return cmd_pod_verb(c, argc, argv, POD_START, e);
}
static int cmd_pod_stop(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return cmd_pod_verb(c, argc, argv, POD_STOP, e);
}
static int cmd_pod_kill(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return cmd_pod_verb(c, argc, argv, POD_KILL, e);
}
static int cmd_pod_restart(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return cmd_pod_verb(c, argc, argv, POD_RESTART, e);
}
static int cmd_pod_rm(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return cmd_pod_verb(c, argc, argv, POD_RM, e);
}

int cmd_pod(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct command pod_commands[] = {
		{ "create", cmd_pod_create, "Create a new empty pod" },
		{ "inspect", cmd_pod_inspect, "Display a pod configuration" },
		{ "kill", cmd_pod_kill, "Send the specified signal or SIGKILL to containers in a pod" },
		{ "list", cmd_pod_ps, "List pods" },
		{ "ls", cmd_pod_ps, "List pods" },
		{ "ps", cmd_pod_ps, "List pods" },
		{ "restart", cmd_pod_restart, "Restart one or more pods" },
		{ "rm", cmd_pod_rm, "Remove one or more stopped pods and containers" },
		{ "start", cmd_pod_start, "Start one or more pods" },
		{ "stop", cmd_pod_stop, "Stop one or more pods" },
		{ "top", cmd_pod_top, "Display the running processes of containers in a pod" },
	};
	return CLI_DISPATCH(c, argc, argv, "pod", "Manage pods", pod_commands, e);
}
