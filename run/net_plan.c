/* The bridge part of a plan: which networks, aliases, -P and --expose. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/net_private.h"

#define EXPOSE_MAX 1024

/* "N" or "N-M" (1..65535, at most EXPOSE_MAX ports). */
static bool port_range(const char *s, size_t len, unsigned *lo, unsigned *hi)
{
	char buf[16], *end, *dash;
	unsigned long a, b;
	if (len == 0 || len >= sizeof(buf) || s[0] < '0' || s[0] > '9')
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	a = strtoul(buf, &end, 10);
	if (*end || a < 1 || a > 65535)
		return false;
	b = a;
	if (dash) {
		if (dash[1] < '0' || dash[1] > '9')
			return false;
		b = strtoul(dash + 1, &end, 10);
		if (*end || b < a || b > 65535)
			return false;
	}
	if (b - a >= EXPOSE_MAX)
		return false;
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return true;
}

int run_port_from_expose(const char *spec, char **out, struct kerror *e)
{
	const char *slash = strchr(spec, '/');
	const char *proto = slash ? slash + 1 : "tcp";
	size_t len = slash ? (size_t)(slash - spec) : strlen(spec);
	unsigned lo, hi;
	if (strcmp(proto, "tcp") && strcmp(proto, "udp"))
		return kerror_set(e, EINVAL, "invalid protocol in --expose \"%s\"", spec);
	if (!port_range(spec, len, &lo, &hi))
		return kerror_set(e, EINVAL, "invalid range format for --expose: %s", spec);
	*out = lo == hi ? xasprintf("%u/%s", lo, proto) : xasprintf("%u-%u/%s", lo, hi, proto);
	return 0;
}

/* Whether some mapping already publishes port/proto. */
static bool published(char *const *ports, unsigned port, bool udp)
{
	for (size_t i = 0; ports && ports[i]; i++) {
		struct run_port p;
		if (run_port_split(ports[i], &p) == 0 && p.udp == udp && p.ctr_port == port)
			return true;
	}
	return false;
}

/* -P: each port of an exposed "80/tcp" or "8000-8001/udp" not published
 * yet gets a random host port. */
static int publish_exposed(char ***ports, const char *exposed, struct kerror *e)
{
	const char *slash = strchr(exposed, '/');
	bool udp = slash && !strcmp(slash + 1, "udp");
	unsigned lo, hi;
	if (!port_range(exposed, slash ? (size_t)(slash - exposed) : strlen(exposed), &lo, &hi))
		return 0; /* an image's malformed ExposedPorts key: ignored */
	for (unsigned port = lo; port <= hi; port++) {
		_cleanup_free_ char *spec = xasprintf("%u/%s", port, udp ? "udp" : "tcp");
		int r;
		if (published(*ports, port, udp))
			continue;
		if ((r = run_port_parse(spec, ports, e)) < 0)
			return r;
	}
	return 0;
}

static bool is_mode(const char *n)
{
	static const char *const modes[] = { "host", "none", "pasta", "slirp4netns", "private",
					     "bridge" };
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		if (!strcmp(n, modes[i]))
			return true;
	return false;
}

int run_net_plan(struct store *s, const json_t *cfg, const struct run_flags *f,
		 struct run_plan *p, struct kerror *e)
{
	_cleanup_strv_ char **names = NULL;
	int r;

	/* A network name where a mode is expected (the --network of a pod's
	 * infra container, say): bridge networks by name. */
	if (!is_mode(p->network)) {
		char *save = NULL;
		_cleanup_free_ char *copy = xstrdup(p->network);
		for (char *n = strtok_r(copy, ",", &save); n; n = strtok_r(NULL, ",", &save))
			strv_push(&names, xstrdup(n));
		free(p->network);
		p->network = xstrdup("bridge");
	}

	for (size_t i = 0; f->expose && f->expose[i]; i++)
		strv_push(&p->expose, xstrdup(f->expose[i]));
	if (f->pod && !strcmp(p->network, "bridge")) {
		/* The pod's infra process holds the network. */
		free(p->network);
		p->network = xstrdup("none");
	}
	if (f->publish_all && (!strcmp(p->network, "bridge") || run_network_user_mode(p->network))) {
		json_t *exp = json_object_get(cfg, "ExposedPorts");
		const char *k;
		json_t *v;
		json_object_foreach(exp, k, v)
			if ((r = publish_exposed(&p->ports, k, e)) < 0)
				return r;
		for (size_t i = 0; f->expose && f->expose[i]; i++)
			if ((r = publish_exposed(&p->ports, f->expose[i], e)) < 0)
				return r;
	}
	if (strcmp(p->network, "bridge"))
		return 0;
	if (run_rootless())
		return kerror_set(e, EPERM, "bridge networks need root: rootless containers use "
					    "--network pasta or slirp4netns");
	char *const *want = names ? names : f->networks;
	if (!want)
		strv_push(&p->networks, xstrdup(RUN_NET_DEFAULT));
	for (size_t i = 0; want && want[i]; i++) {
		_cleanup_network_info_ struct network_info *n = NULL;
		r = !strcmp(want[i], RUN_NET_DEFAULT) ? run_net_default_network(s, &n, e)
						      : store_network_get(s, want[i], &n, e);
		if (r < 0)
			return r;
		for (size_t k = 0; p->networks && p->networks[k]; k++)
			if (!strcmp(p->networks[k], n->name))
				return kerror_set(e, EINVAL, "network %s given twice", n->name);
		strv_push(&p->networks, xstrdup(n->name));
	}
	for (size_t i = 0; f->net_aliases && f->net_aliases[i]; i++)
		strv_push(&p->net_aliases, xstrdup(f->net_aliases[i]));
	/* Only IPv4 on kiln's bridges: an IPv6 host address cannot be
	 * forwarded. */
	for (size_t i = 0; p->ports && p->ports[i]; i++)
		if (strchr(p->ports[i], ']'))
			return kerror_set(e, EINVAL, "publishing on an IPv6 address (%s) needs "
						     "IPv6, which kiln's bridge networks lack",
					  p->ports[i]);
	return 0;
}
