/* What the container commands show of a container's networking: ps's
 * PORTS column, inspect's NetworkSettings, kiln port. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "run/net_private.h"

char *run_port_format(const struct run_port *p)
{
	bool v6 = strchr(p->host_ip, ':') != NULL;
	return xasprintf("%s%s%s:%u->%u/%s", v6 ? "[" : "", p->host_ip[0] ? p->host_ip : "0.0.0.0",
			 v6 ? "]" : "", p->host_port, p->ctr_port, p->udp ? "udp" : "tcp");
}

char *run_ports_text(const json_t *plan)
{
	json_t *ports = json_object_get(plan, "ports");
	struct buf b = { 0 };
	size_t i;
	json_t *v;
	json_array_foreach(ports, i, v) {
		struct run_port p;
		_cleanup_free_ char *t = NULL;
		if (!json_is_string(v) || run_port_split(json_string_value(v), &p) < 0)
			continue;
		t = run_port_format(&p);
		buf_printf(&b, "%s%s", b.len ? ", " : "", t);
	}
	buf_append(&b, "", 1);
	return buf_steal(&b);
}

json_t *run_ports_json(const json_t *plan)
{
	json_t *out = json_object();
	json_t *ports = json_object_get(plan, "ports");
	json_t *exp = json_object_get(plan, "expose");
	size_t i;
	json_t *v;
	json_array_foreach(ports, i, v) {
		struct run_port p;
		char key[32], hp[8];
		json_t *list;
		if (!json_is_string(v) || run_port_split(json_string_value(v), &p) < 0)
			continue;
		snprintf(key, sizeof(key), "%u/%s", p.ctr_port, p.udp ? "udp" : "tcp");
		snprintf(hp, sizeof(hp), "%u", p.host_port);
		list = json_object_get(out, key);
		if (!json_is_array(list)) {
			list = json_array();
			json_object_set_new(out, key, list);
		}
		json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp",
						      p.host_ip[0] ? p.host_ip : "0.0.0.0",
						      "HostPort", hp));
	}
	json_array_foreach(exp, i, v)
		if (json_is_string(v) && !json_object_get(out, json_string_value(v)))
			json_object_set_new(out, json_string_value(v), json_null());
	return out;
}

json_t *run_net_settings(struct store *s, const char *id, const json_t *plan)
{
	struct net_attach *a = NULL;
	size_t n = 0;
	json_t *nets = json_object();
	json_t *out = json_pack("{s:s, s:s, s:s, s:i, s:s, s:o}", "Bridge", "", "IPAddress", "",
				"Gateway", "", "IPPrefixLen", 0, "MacAddress", "", "Ports",
				run_ports_json(plan));
	json_t *names = json_object_get(plan, "networks");
	size_t i;
	json_t *v;

	store_net_attach_list(s, id, NULL, &a, &n, NULL);
	json_array_foreach(names, i, v) {
		_cleanup_network_info_ struct network_info *ni = NULL;
		const char *name = json_string_value(v);
		json_t *ep;
		char ip[16] = "";
		int prefix = 0;
		uint32_t sub;
		if (!name)
			continue;
		store_network_get(s, name, &ni, NULL);
		ep = json_pack("{s:s, s:s, s:s, s:i, s:o}", "NetworkID", ni ? ni->id : "",
			       "IPAddress", "", "Gateway", "", "IPPrefixLen", 0, "Aliases",
			       json_object_get(plan, "net_aliases")
				       ? json_deep_copy(json_object_get(plan, "net_aliases"))
				       : json_array());
		for (size_t k = 0; k < n; k++) {
			if (strcmp(a[k].network, name) || !ni)
				continue;
			net_ip_str(a[k].ip, ip);
			net_parse_cidr(ni->subnet, &sub, &prefix);
			json_object_set_new(ep, "IPAddress", json_string(ip));
			json_object_set_new(ep, "Gateway", json_string(ni->gateway));
			json_object_set_new(ep, "IPPrefixLen", json_integer(prefix));
			if (!json_str(out, "IPAddress")[0]) {
				json_object_set_new(out, "IPAddress", json_string(ip));
				json_object_set_new(out, "Gateway", json_string(ni->gateway));
				json_object_set_new(out, "IPPrefixLen", json_integer(prefix));
				json_object_set_new(out, "Bridge", json_string(ni->bridge));
			}
		}
		json_object_set_new(nets, name, ep);
	}
	json_object_set_new(out, "Networks", nets);
	net_attach_list_free(a, n);
	return out;
}

const char *run_network_mode(const json_t *plan)
{
	json_t *nets = json_object_get(plan, "networks");
	if (json_is_true(json_object_get(plan, "network_host")))
		return "host";
	if (!json_array_size(nets))
		return "none";
	if (json_array_size(nets) == 1 &&
	    !strcmp(json_string_value(json_array_get(nets, 0)) ?: "", RUN_NET_DEFAULT))
		return "bridge";
	return json_string_value(json_array_get(nets, 0)) ?: "bridge";
}

const char *run_host_network_mode(const json_t *plan)
{
	const char *n = json_str(plan, "network");
	if (n && !strcmp(n, "bridge"))
		return run_network_mode(plan);
	if (!n)
		return json_is_true(json_object_get(plan, "network_host")) ? "host" : "none";
	return strcmp(n, "private") ? n : "none";
}
