/* The texts of a container's generated /etc/resolv.conf and /etc/hosts:
 * the host's resolver configuration with --dns, --dns-search and
 * --dns-option replacing its lines, and a hosts file with localhost, the
 * --add-host entries and the container's own name.  Pure functions of their
 * inputs, shared by the private/host modes and the bridge networks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "run/run.h"

#define ETC_LINE_MAX 4096

static bool line_is(const char *line, size_t len, const char *kw)
{
	size_t k = strlen(kw);
	return len > k && strncmp(line, kw, k) == 0 && (line[k] == ' ' || line[k] == '\t');
}

char *run_etc_resolv(const char *host, const struct run_etc_opts *o)
{
	struct buf b = { 0 };
	for (const char *line = host ? host : ""; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		bool drop = (o->dns && o->dns[0] && line_is(line, len, "nameserver")) ||
			    (o->dns_search && o->dns_search[0] &&
			     (line_is(line, len, "search") || line_is(line, len, "domain"))) ||
			    (o->dns_options && o->dns_options[0] && line_is(line, len, "options"));
		if (!drop && len < ETC_LINE_MAX)
			buf_printf(&b, "%.*s\n", (int)len, line);
		line = nl ? nl + 1 : line + len;
	}
	if (o->dns_search && o->dns_search[0]) {
		/* "--dns-search ." clears the search list, as Docker. */
		if (strcmp(o->dns_search[0], ".") != 0) {
			buf_printf(&b, "search");
			for (size_t i = 0; o->dns_search[i]; i++)
				buf_printf(&b, " %s", o->dns_search[i]);
			buf_printf(&b, "\n");
		}
	}
	for (size_t i = 0; o->dns && o->dns[i]; i++)
		buf_printf(&b, "nameserver %s\n", o->dns[i]);
	if (o->dns_options && o->dns_options[0]) {
		buf_printf(&b, "options");
		for (size_t i = 0; o->dns_options[i]; i++)
			buf_printf(&b, " %s", o->dns_options[i]);
		buf_printf(&b, "\n");
	}
	return buf_steal(&b);
}

char *run_etc_hosts(const char *host, const struct run_etc_opts *o)
{
	struct buf b = { 0 };
	if (o->network_host && host) {
		size_t len = strlen(host);
		buf_printf(&b, "%s%s", host, len && host[len - 1] != '\n' ? "\n" : "");
	} else {
		buf_printf(&b, "127.0.0.1\tlocalhost localhost.localdomain localhost4 "
			       "localhost4.localdomain4\n"
			       "::1\tlocalhost localhost.localdomain localhost6 "
			       "localhost6.localdomain6\n");
	}
	for (size_t i = 0; o->add_hosts && o->add_hosts[i]; i++) {
		/* canonical "name:ip" (run_add_host_parse) */
		const char *h = o->add_hosts[i], *c = strchr(h, ':');
		if (c)
			buf_printf(&b, "%s\t%.*s\n", c + 1, (int)(c - h), h);
	}
	for (size_t i = 0; o->extra && o->extra[i]; i++)
		buf_printf(&b, "%s\n", o->extra[i]);
	buf_printf(&b, "%s\t%s%s%s\n", o->ip && *o->ip ? o->ip : "127.0.1.1",
		   o->hostname ? o->hostname : "", o->name && *o->name ? " " : "",
		   o->name ? o->name : "");
	return buf_steal(&b);
}

static bool valid_host_name(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '-' || s[i] == '.' || s[i] == '_' || (s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

static bool valid_ip(const char *s)
{
	unsigned char a[16];
	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

int run_add_host_parse(const char *spec, char **out, struct kerror *e)
{
	/* host:ip (Docker) or host=ip (newer Docker); the IP may be IPv6 and
	 * so contain ':', hence the first separator splits. */
	const char *sep = strpbrk(spec, ":=");
	if (!sep || !valid_host_name(spec, (size_t)(sep - spec)) || !valid_ip(sep + 1))
		return kerror_set(e, EINVAL, "invalid IP address in add-host: \"%s\"", spec);
	*out = xasprintf("%.*s:%s", (int)(sep - spec), spec, sep + 1);
	return 0;
}

int run_dns_server_check(const char *ip, struct kerror *e)
{
	if (!valid_ip(ip))
		return kerror_set(e, EINVAL, "%s is not an ip address", ip);
	return 0;
}
