/* kiln network create|ls|inspect|rm|prune|connect|disconnect|exists, and
 * kiln port: Docker's commands and output shapes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/container.h"

static json_t *network_json(struct store *s, const struct network_info *n, json_t *ctrs)
{
	char t[64];
	format_rfc3339(n->created / 1000000000LL, (long)(n->created % 1000000000LL), t, sizeof(t));
	json_t *cfg = json_pack("[{s:s, s:s}]", "Subnet", n->subnet, "Gateway", n->gateway);
	json_t *containers = json_object();
	struct net_attach *a = NULL;
	size_t na = 0;
	store_net_attach_list(s, NULL, n->name, &a, &na, NULL);
	for (size_t i = 0; i < na; i++) {
		char ip[16];
		uint32_t sub;
		int prefix = 24;
		const char *name = json_string_value(json_array_get(a[i].aliases, 0));
		_cleanup_free_ char *cidr = NULL;
		net_parse_cidr(n->subnet, &sub, &prefix);
		cidr = xasprintf("%s/%d", net_ip_str(a[i].ip, ip), prefix);
		json_object_set_new(containers, a[i].ctr_id,
				    json_pack("{s:s, s:s, s:s, s:s}", "Name", name ? name : "",
					      "EndpointID", "", "MacAddress", "", "IPv4Address",
					      cidr));
	}
	net_attach_list_free(a, na);
	(void)ctrs;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:{}, s:o}, s:b, s:b, s:b, "
			 "s:o, s:{s:s}, s:O}",
			 "Name", n->name, "Id", n->id, "Created", t, "Scope", "local", "Driver",
			 n->driver, "EnableIPv6", 0, "IPAM", "Driver", "default", "Options",
			 "Config", cfg, "Internal", n->internal, "Attachable", 0, "DNSEnabled",
			 n->dns, "Containers", containers, "Options",
			 "com.docker.network.bridge.name", n->bridge, "Labels", n->labels);
}

/* Which networks the containers' plans name: name → [container ids]. */
static int network_users(struct store *s, json_t **out, struct kerror *e)
{
	struct container_info **list = NULL;
	size_t n = 0;
	int r = store_container_list(s, &list, &n, e);
	if (r < 0)
		return r;
	*out = json_object();
	for (size_t i = 0; i < n; i++) {
		_cleanup_json_ json_t *plan = json_loads(list[i]->plan, 0, NULL);
		size_t k;
		json_t *v;
		json_array_foreach(json_object_get(plan, "networks"), k, v) {
			const char *name = json_string_value(v);
			json_t *arr;
			if (!name)
				continue;
			arr = json_object_get(*out, name);
			if (!arr)
				json_object_set_new(*out, name, arr = json_array());
			json_array_append_new(arr, json_string(list[i]->id));
		}
	}
	container_list_free(list, n);
	return 0;
}

static int kv_label(json_t *obj, const char *kv, struct kerror *e)
{
	const char *eq = strchr(kv, '=');
	if (eq == kv || !*kv)
		return kerror_set(e, EINVAL, "invalid argument \"%s\" for \"--label\" flag", kv);
	_cleanup_free_ char *k = eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
	json_object_set_new(obj, k, json_string(eq ? eq + 1 : ""));
	return 0;
}

static int network_create(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "driver", required_argument, NULL, 'd' }, { "subnet", required_argument, NULL, 's' },
		{ "gateway", required_argument, NULL, 'g' }, { "internal", no_argument, NULL, 'i' },
		{ "label", required_argument, NULL, 'l' },  { "disable-dns", no_argument, NULL, 'D' },
		{ "ignore", no_argument, NULL, 'I' },	     { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct network_info req = { .dns = true };
	bool ignore = false;
	struct store *s;
	int opt, r = 0;
	req.labels = json_object();
	while (r == 0 && (opt = cli_getopt(argc, argv, "d:h", opts, e)) != -1) {
		switch (opt) {
		case 'd': free(req.driver); req.driver = xstrdup(optarg); break;
		case 's': free(req.subnet); req.subnet = xstrdup(optarg); break;
		case 'g': free(req.gateway); req.gateway = xstrdup(optarg); break;
		case 'i': req.internal = true; break;
		case 'D': req.dns = false; break;
		case 'I': ignore = true; break;
		case 'l': r = kv_label(req.labels, optarg, e); break;
		case 'h':
			r = 1;
			cli_usage("kiln network create [options] NAME",
				  "  -d, --driver string    Driver to manage the network (bridge)\n"
				  "      --disable-dns      Do not resolve container names\n"
				  "      --gateway string   IPv4 gateway for the subnet\n"
				  "      --ignore           Do not fail if the network exists\n"
				  "      --internal         Restrict external access to the network\n"
				  "      --label strings    Set metadata on a network\n"
				  "      --subnet string    Subnet in CIDR format\n");
			break;
		default: r = -EINVAL;
		}
	}
	if (r == 0 && optind != argc - 1)
		r = kerror_set(e, EINVAL, "\"kiln network create\" requires exactly 1 argument");
	if (r == 0 && req.gateway && !req.subnet)
		r = kerror_set(e, EINVAL, "--gateway needs --subnet");
	if (r == 0) {
		req.name = xstrdup(argv[optind]);
		r = cli_store(c, &s, e);
	}
	if (r == 0) {
		_cleanup_network_info_ struct network_info *old = NULL;
		if (ignore && store_network_get(s, req.name, &old, NULL) == 0) {
			printf("%s\n", old->name);
			goto out;
		}
		r = run_network_create(s, &req, e);
	}
	if (r == 0)
		printf("%s\n", req.name);
out:
	free(req.name);
	free(req.id);
	free(req.driver);
	free(req.bridge);
	free(req.subnet);
	free(req.gateway);
	json_decref(req.labels);
	return r < 0 ? r : 0;
}

struct net_filter {
	char **names, **ids, **drivers, **labels;
};

static void net_filter_release(struct net_filter *f)
{
	strv_free(f->names);
	strv_free(f->ids);
	strv_free(f->drivers);
	strv_free(f->labels);
}

static int net_filter_add(struct net_filter *f, const char *spec, struct kerror *e)
{
	const char *eq = strchr(spec, '=');
	if (!eq)
		return kerror_set(e, EINVAL, "invalid filter \"%s\"", spec);
	_cleanup_free_ char *k = xstrndup(spec, (size_t)(eq - spec));
	char ***to = !strcmp(k, "name") ? &f->names : !strcmp(k, "id") ? &f->ids
			: !strcmp(k, "driver") ? &f->drivers : !strcmp(k, "label") ? &f->labels
			: NULL;
	if (!to)
		return kerror_set(e, EINVAL, "invalid filter \"%s\"", k);
	strv_push(to, xstrdup(eq + 1));
	return 0;
}

static bool any_match(char **v, bool (*fn)(const char *want, const struct network_info *n),
		      const struct network_info *n)
{
	if (!v)
		return true;
	for (size_t i = 0; v[i]; i++)
		if (fn(v[i], n))
			return true;
	return false;
}

static bool m_name(const char *w, const struct network_info *n)
{
	return strstr(n->name, w) != NULL; /* Docker: substring */
}
static bool m_id(const char *w, const struct network_info *n)
{
	return str_has_prefix(n->id, w);
}
static bool m_driver(const char *w, const struct network_info *n)
{
	return !strcmp(n->driver, w);
}
static bool m_label(const char *w, const struct network_info *n)
{
	const char *eq = strchr(w, '=');
	_cleanup_free_ char *k = eq ? xstrndup(w, (size_t)(eq - w)) : xstrdup(w);
	json_t *v = json_object_get(n->labels, k);
	return v && (!eq || !strcmp(json_string_value(v) ?: "", eq + 1));
}

static bool net_filter_match(const struct net_filter *f, const struct network_info *n)
{
	return any_match(f->names, m_name, n) && any_match(f->ids, m_id, n) &&
	       any_match(f->drivers, m_driver, n) && any_match(f->labels, m_label, n);
}

/* All networks, the default one included (created on first look). */
static int all_networks(struct store *s, struct network_info ***l, size_t *n, struct kerror *e)
{
	_cleanup_network_info_ struct network_info *d = NULL;
	int r = run_net_default_network(s, &d, e);
	if (r < 0)
		return r;
	return store_network_list(s, l, n, e);
}

static int network_ls(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },	      { "format", required_argument, NULL, 'F' },
		{ "filter", required_argument, NULL, 'f' }, { "no-trunc", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },	      { NULL, 0, NULL, 0 },
	};
	struct net_filter f = { 0 };
	struct network_info **l = NULL;
	_cleanup_json_ json_t *items = json_array();
	const char *format = NULL;
	bool quiet = false, trunc = true;
	struct store *s;
	size_t n = 0;
	int opt, r = 0;
	while (r == 0 && (opt = cli_getopt(argc, argv, "qf:h", opts, e)) != -1) {
		switch (opt) {
		case 'q': quiet = true; break;
		case 'F': format = optarg; break;
		case 'T': trunc = false; break;
		case 'f': r = net_filter_add(&f, optarg, e); break;
		case 'h':
			net_filter_release(&f);
			return cli_usage("kiln network ls [options]",
					 "  -f, --filter filter   Provide filter values (name=, id=, "
					 "driver=, label=)\n"
					 "      --format string   Pretty-print networks using a Go "
					 "template\n"
					 "      --no-trunc        Do not truncate the output\n"
					 "  -q, --quiet           Only display network IDs\n");
		default: r = -EINVAL;
		}
	}
	if (r == 0)
		r = cli_store(c, &s, e);
	if (r == 0)
		r = all_networks(s, &l, &n, e);
	if (r < 0) {
		net_filter_release(&f);
		return r;
	}
	struct buf tbl = { 0 };
	buf_printf(&tbl, "NETWORK ID\tNAME\tDRIVER\tSCOPE\n");
	for (size_t i = 0; i < n; i++) {
		char id[DIGEST_HEX_LEN + 1], t[64];
		if (!net_filter_match(&f, l[i]))
			continue;
		snprintf(id, sizeof(id), "%.*s", trunc ? 12 : DIGEST_HEX_LEN, l[i]->id);
		if (quiet)
			printf("%s\n", id);
		buf_printf(&tbl, "%s\t%s\t%s\tlocal\n", id, l[i]->name, l[i]->driver);
		format_rfc3339(l[i]->created / 1000000000LL, 0, t, sizeof(t));
		json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, s:O, s:b, s:b, s:s, "
						       "s:s}", "ID", id, "Name", l[i]->name,
						       "Driver", l[i]->driver, "Scope", "local",
						       "Labels", l[i]->labels, "Internal",
						       l[i]->internal, "IPv6", 0, "CreatedAt", t,
						       "Subnet", l[i]->subnet));
	}
	if (!quiet) {
		static const char *const headers[] = { "ID", "NETWORK ID", NULL };
		r = template_print_listing(stdout, format, items, headers, tbl.data, e);
	}
	buf_release(&tbl);
	network_list_free(l, n);
	net_filter_release(&f);
	return r;
}

static int network_inspect(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	_cleanup_json_ json_t *all = json_array();
	const char *format = NULL;
	struct store *s;
	int opt, r, failed = 0;
	while ((opt = cli_getopt(argc, argv, "f:h", opts, e)) != -1) {
		switch (opt) {
		case 'f': format = optarg; break;
		case 'h':
			return cli_usage("kiln network inspect [options] NETWORK [NETWORK...]",
					 "  -f, --format string   Format the output using the given "
					 "Go template\n");
		default: return -EINVAL;
		}
	}
	if (optind >= argc)
		return kerror_set(e, EINVAL, "\"kiln network inspect\" requires at least 1 argument");
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	for (int i = optind; i < argc; i++) {
		_cleanup_network_info_ struct network_info *n = NULL;
		struct kerror one = { 0 };
		if ((!strcmp(argv[i], RUN_NET_DEFAULT) ? run_net_default_network(s, &n, &one)
						       : store_network_get(s, argv[i], &n, &one)) < 0) {
			fprintf(stderr, "Error: %s\n", one.msg);
			kerror_release(&one);
			failed = 1;
			continue;
		}
		json_array_append_new(all, network_json(s, n, NULL));
	}
	if ((r = template_print_inspect(stdout, format, all, e)) < 0)
		return r;
	return failed ? 125 : 0;
}

static int remove_one(struct store *s, json_t *users, const char *what, bool force,
		      struct kerror *e)
{
	_cleanup_network_info_ struct network_info *n = NULL;
	json_t *u;
	int r = store_network_get(s, what, &n, e);
	if (r < 0)
		return r;
	u = json_object_get(users, n->name);
	if (json_array_size(u) && !force)
		return kerror_set(e, EBUSY, "%s network is being used by container %.12s: "
					    "network is being used", n->name,
				  json_string_value(json_array_get(u, 0)));
	return run_network_remove(s, n, force, e);
}

static int network_rm(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	_cleanup_json_ json_t *users = NULL;
	bool force = false;
	struct store *s;
	int opt, r, failed = 0;
	while ((opt = cli_getopt(argc, argv, "fh", opts, e)) != -1) {
		switch (opt) {
		case 'f': force = true; break;
		case 'h':
			return cli_usage("kiln network rm [options] NETWORK [NETWORK...]",
					 "  -f, --force   Remove the network even if containers use "
					 "it (their addresses are released)\n");
		default: return -EINVAL;
		}
	}
	if (optind >= argc)
		return kerror_set(e, EINVAL, "\"kiln network rm\" requires at least 1 argument");
	r = cli_store(c, &s, e);
	if (r == 0)
		r = network_users(s, &users, e);
	if (r < 0)
		return r;
	for (int i = optind; i < argc; i++) {
		struct kerror one = { 0 };
		if (remove_one(s, users, argv[i], force, &one) < 0) {
			fprintf(stderr, "Error: %s\n", one.msg);
			kerror_release(&one);
			failed = 1;
			continue;
		}
		printf("%s\n", argv[i]);
	}
	return failed ? 125 : 0;
}

static int network_prune(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { "filter", required_argument, NULL, 'F' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct net_filter f = { 0 };
	_cleanup_json_ json_t *users = NULL;
	struct network_info **l = NULL;
	struct store *s;
	size_t n = 0;
	int opt, r = 0;
	while (r == 0 && (opt = cli_getopt(argc, argv, "fh", opts, e)) != -1) {
		switch (opt) {
		case 'f': break; /* no prompt: kiln never asks */
		case 'F': r = net_filter_add(&f, optarg, e); break;
		case 'h':
			net_filter_release(&f);
			return cli_usage("kiln network prune [options]",
					 "  -f, --force           Do not prompt for confirmation\n"
					 "      --filter filter   Provide filter values (label=)\n");
		default: r = -EINVAL;
		}
	}
	if (r == 0)
		r = cli_store(c, &s, e);
	if (r == 0)
		r = network_users(s, &users, e);
	if (r == 0)
		r = store_network_list(s, &l, &n, e);
	bool header = false;
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (!strcmp(l[i]->name, RUN_NET_DEFAULT) || json_object_get(users, l[i]->name) ||
		    !net_filter_match(&f, l[i]))
			continue;
		r = run_network_remove(s, l[i], false, e);
		if (r == 0) {
			if (!header)
				printf("Deleted Networks:\n");
			header = true;
			printf("%s\n", l[i]->name);
		}
	}
	network_list_free(l, n);
	net_filter_release(&f);
	return r;
}

/* connect/disconnect: the plan names the networks; a running container's
 * interfaces follow at once. */
static int network_change(struct cli *c, int argc, char **argv, bool connect, struct kerror *e)
{
	static const struct option opts[] = { { "alias", required_argument, NULL, 'a' },
					      { "force", no_argument, NULL, 'f' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	_cleanup_container_info_ struct container_info *ctr = NULL;
	_cleanup_network_info_ struct network_info *n = NULL;
	_cleanup_strv_ char **aliases = NULL;
	struct run_plan plan = { 0 };
	_cleanup_json_ json_t *pj = NULL;
	_cleanup_free_ char *text = NULL;
	struct store *s;
	ssize_t at = -1;
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "fh", opts, e)) != -1) {
		switch (opt) {
		case 'a': strv_push(&aliases, xstrdup(optarg)); break;
		case 'f': break;
		case 'h':
			return cli_usage(connect ? "kiln network connect [options] NETWORK CONTAINER"
						 : "kiln network disconnect [options] NETWORK CONTAINER",
					 connect ? "      --alias strings   Add network-scoped alias "
						   "for the container\n"
						 : "  -f, --force   Force the container to disconnect\n");
		default: return -EINVAL;
		}
	}
	if (optind != argc - 2)
		return kerror_set(e, EINVAL, "\"kiln network %s\" requires exactly 2 arguments",
				  connect ? "connect" : "disconnect");
	r = cli_store(c, &s, e);
	if (r == 0)
		r = !strcmp(argv[optind], RUN_NET_DEFAULT) || !strcmp(argv[optind], "bridge")
			    ? run_net_default_network(s, &n, e)
			    : store_network_get(s, argv[optind], &n, e);
	if (r == 0)
		r = container_get(c, argv[optind + 1], &ctr, e);
	if (r == 0)
		r = run_plan_from_json(ctr->plan, &plan, e);
	if (r < 0)
		return r;
	if (plan.network_host || (!plan.networks && ctr->state == CTR_RUNNING)) {
		run_plan_release(&plan);
		return kerror_set(e, EINVAL, "container %s has no bridge networking (network "
					     "mode %s)", ctr->name,
				  plan.network_host ? "host" : "none");
	}
	for (size_t i = 0; plan.networks && plan.networks[i]; i++)
		if (!strcmp(plan.networks[i], n->name))
			at = (ssize_t)i;
	if (connect && at >= 0)
		r = kerror_set(e, EEXIST, "container %s is already connected to network %s",
			       ctr->name, n->name);
	else if (!connect && at < 0)
		r = kerror_set(e, ENOENT, "container %s is not connected to network %s",
			       ctr->name, n->name);
	if (r == 0 && connect) {
		strv_push(&plan.networks, xstrdup(n->name));
		for (size_t i = 0; aliases && aliases[i]; i++)
			strv_push(&plan.net_aliases, xstrdup(aliases[i]));
		if (ctr->state == CTR_RUNNING)
			r = run_net_connect(s, ctr->id, &plan, ctr->pid, n->name, e);
	} else if (r == 0) {
		if (ctr->state == CTR_RUNNING)
			run_net_disconnect(s, ctr->id, n->name);
		free(plan.networks[at]);
		memmove(&plan.networks[at], &plan.networks[at + 1],
			(strv_len(plan.networks) - (size_t)at) * sizeof(char *));
	}
	if (r == 0) {
		pj = run_plan_to_json(&plan);
		text = json_dump_compact(pj);
		r = store_container_set_plan(s, ctr->id, text, e);
	}
	if (r == 0)
		store_event(s, "network", connect ? "connect" : "disconnect", n->id, "container",
			    ctr->id, "name", n->name, "type", n->driver, NULL);
	run_plan_release(&plan);
	return r;
}

static int network_connect(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return network_change(c, argc, argv, true, e);
}

static int network_disconnect(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return network_change(c, argc, argv, false, e);
}

static int network_exists(struct cli *c, int argc, char **argv, struct kerror *e)
{
	_cleanup_network_info_ struct network_info *n = NULL;
	struct store *s;
	int r;
	if (cli_wants_usage(argc, argv, "kiln network exists NETWORK"))
		return 0;
	if (argc != 2)
		return kerror_set(e, EINVAL, "\"kiln network exists\" requires exactly 1 argument");
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	if (!strcmp(argv[1], RUN_NET_DEFAULT))
		return 0;
	return store_network_get(s, argv[1], &n, NULL) == 0 ? 0 : 1;
}

static const struct command network_commands[] = {
	{ "connect", network_connect, "Connect a container to a network" },
	{ "create", network_create, "Create a network" },
	{ "disconnect", network_disconnect, "Disconnect a container from a network" },
	{ "exists", network_exists, "Check whether a network exists" },
	{ "inspect", network_inspect, "Display detailed information on one or more networks" },
	{ "ls", network_ls, "List networks" },
	{ "list", network_ls, "List networks" },
	{ "prune", network_prune, "Remove all unused networks" },
	{ "rm", network_rm, "Remove one or more networks" },
	{ "remove", network_rm, "Remove one or more networks" },
};

int cmd_network(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return CLI_DISPATCH(c, argc, argv, "network", "Manage networks", network_commands, e);
}

/* kiln port CONTAINER [PRIVATE_PORT[/PROTO]]: "80/tcp -> 0.0.0.0:8080". */
int cmd_port(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	_cleanup_container_info_ struct container_info *ctr = NULL;
	_cleanup_json_ json_t *plan = NULL, *ports = NULL;
	_cleanup_free_ char *want = NULL;
	const char *k;
	json_t *v;
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "h", opts, e)) != -1) {
		if (opt == 'h')
			return cli_usage("kiln port CONTAINER [PRIVATE_PORT[/PROTO]]", "");
		return -EINVAL;
	}
	if (optind >= argc || argc - optind > 2)
		return kerror_set(e, EINVAL, "\"kiln port\" requires 1 or 2 arguments");
	r = container_get(c, argv[optind], &ctr, e);
	if (r < 0)
		return r;
	if (optind + 1 < argc)
		want = strchr(argv[optind + 1], '/') ? xstrdup(argv[optind + 1])
						     : xasprintf("%s/tcp", argv[optind + 1]);
	if (ctr->state != CTR_RUNNING)
		return want ? kerror_set(e, ENOENT, "no public port '%s' published for %.12s", want,
					 ctr->id)
			    : 0;
	plan = json_loads(ctr->plan, 0, NULL);
	ports = run_ports_json(plan);
	if (want && !json_array_size(json_object_get(ports, want)))
		return kerror_set(e, ENOENT, "no public port '%s' published for %.12s", want,
				  ctr->id);
	json_object_foreach(ports, k, v) {
		size_t i;
		json_t *b;
		if (want && strcmp(k, want))
			continue;
		json_array_foreach(v, i, b) {
			if (want)
				printf("%s:%s\n", json_str(b, "HostIp"), json_str(b, "HostPort"));
			else
				printf("%s -> %s:%s\n", k, json_str(b, "HostIp"),
				       json_str(b, "HostPort"));
		}
	}
	return 0;
}
