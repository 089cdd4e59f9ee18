/* -p/--publish [ip:][hostPort:]containerPort[/tcp|udp]: parsing into the
 * plan's canonical "IP:HOST:CTR/PROTO" strings (one per port; ranges
 * "8000-8009:80-89" expanded).  An absent host port gets a free one of the
 * host's, found by binding port 0, as Docker does. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "run/run.h"

#define PORTS_MAX 4096

/* "N" or "N-M" (1..65535, N <= M). */
static bool parse_range(const char *s, unsigned *lo, unsigned *hi)
{
	char *end;
	unsigned long a, b;
	if (*s < '0' || *s > '9')
		return false;
	a = strtoul(s, &end, 10);
	b = a;
	if (*end == '-') {
		const char *t = end + 1;
		if (*t < '0' || *t > '9')
			return false;
		b = strtoul(t, &end, 10);
	}
	if (*end || a < 1 || a > 65535 || b < a || b > 65535)
		return false;
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return true;
}

/* A free port of the host's for proto, on ip (or any). */
static int free_port(const char *ip, bool udp, unsigned *out, struct kerror *e)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_storage got;
	socklen_t len = sizeof(got);
	bool v6 = ip && strchr(ip, ':');
	int fd = socket(v6 ? AF_INET6 : AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	int r = 0;

	if (fd < 0)
		return kerror_sys(e, errno, "finding a free host port");
	if (v6)
		inet_pton(AF_INET6, ip, &a6.sin6_addr);
	else if (ip && *ip)
		inet_pton(AF_INET, ip, &a4.sin_addr);
	if ((v6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6))
		: bind(fd, (struct sockaddr *)&a4, sizeof(a4))) < 0 ||
	    getsockname(fd, (struct sockaddr *)&got, &len) < 0)
		r = kerror_sys(e, errno, "finding a free host port");
	else
		*out = ntohs(v6 ? ((struct sockaddr_in6 *)&got)->sin6_port
				: ((struct sockaddr_in *)&got)->sin_port);
	close(fd);
	return r;
}

int run_port_parse(const char *spec, char ***out, struct kerror *e)
{
	_cleanup_free_ char *s = NULL;
	char *proto = "tcp", *slash, *ip = "", *host = NULL, *ctr;
	unsigned hlo = 0, hhi = 0, clo, chi;
	int r;

	if (strlen(spec) > 256)
		return kerror_set(e, EINVAL, "invalid port format \"%.32s…\"", spec);
	s = xstrdup(spec);
	if ((slash = strrchr(s, '/'))) {
		*slash = '\0';
		proto = slash + 1;
		if (strcmp(proto, "tcp") && strcmp(proto, "udp"))
			return kerror_set(e, EINVAL, "invalid protocol \"%s\" in \"%s\": tcp or udp",
					  proto, spec);
	}
	/* The container port is after the last ':'; an IPv6 address is in
	 * brackets ("[::1]:8080:80"). */
	ctr = strrchr(s, ':');
	if (!ctr) {
		ctr = s;
	} else {
		*ctr++ = '\0';
		host = strrchr(s, ':');
		if (host && s[0] == '[' && host < strchr(s, ']'))
			host = NULL;
		if (host) {
			*host++ = '\0';
			ip = s;
		} else {
			host = s;
		}
		if (ip[0] == '[') {
			size_t n = strlen(ip);
			if (n < 3 || ip[n - 1] != ']')
				return kerror_set(e, EINVAL, "invalid IP address in \"%s\"", spec);
			ip[n - 1] = '\0';
			ip++;
		}
		if (*ip) {
			unsigned char buf[16];
			if (inet_pton(AF_INET, ip, buf) != 1 && inet_pton(AF_INET6, ip, buf) != 1)
				return kerror_set(e, EINVAL, "invalid IP address \"%s\" in \"%s\"",
						  ip, spec);
		}
	}
	if (!parse_range(ctr, &clo, &chi))
		return kerror_set(e, EINVAL, "invalid container port \"%s\" in \"%s\"", ctr, spec);
	if (host && *host) {
		if (!parse_range(host, &hlo, &hhi))
			return kerror_set(e, EINVAL, "invalid host port \"%s\" in \"%s\"", host, spec);
		if (hhi - hlo != chi - clo)
			return kerror_set(e, EINVAL, "host and container port ranges of \"%s\" "
						     "differ in size", spec);
	}
	if (strv_len(*out) + (chi - clo) + 1 > PORTS_MAX)
		return kerror_set(e, E2BIG, "too many published ports");
	for (unsigned i = 0; i <= chi - clo; i++) {
		unsigned hp = hlo ? hlo + i : 0;
		if (!hp && (r = free_port(ip, !strcmp(proto, "udp"), &hp, e)) < 0)
			return r;
		strv_push(out, xasprintf("%s%s%s:%u:%u/%s", strchr(ip, ':') ? "[" : "", ip,
					 strchr(ip, ':') ? "]" : "", hp, clo + i, proto));
	}
	return 0;
}

int run_port_split(const char *canonical, struct run_port *out)
{
	const char *slash = strrchr(canonical, '/');
	const char *c2, *c1;
	char *end;
	unsigned long hp, cp;

	memset(out, 0, sizeof(*out));
	if (!slash || (strcmp(slash + 1, "tcp") && strcmp(slash + 1, "udp")))
		return -EINVAL;
	out->udp = !strcmp(slash + 1, "udp");
	c2 = memrchr(canonical, ':', (size_t)(slash - canonical));
	if (!c2)
		return -EINVAL;
	c1 = memrchr(canonical, ':', (size_t)(c2 - canonical));
	if (!c1)
		return -EINVAL;
	hp = strtoul(c1 + 1, &end, 10);
	if (end != c2 || hp < 1 || hp > 65535)
		return -EINVAL;
	cp = strtoul(c2 + 1, &end, 10);
	if (end != slash || cp < 1 || cp > 65535)
		return -EINVAL;
	size_t iplen = (size_t)(c1 - canonical);
	const char *ip = canonical;
	if (iplen >= 2 && ip[0] == '[' && ip[iplen - 1] == ']') {
		ip++;
		iplen -= 2;
	}
	if (iplen >= sizeof(out->host_ip))
		return -EINVAL;
	memcpy(out->host_ip, ip, iplen);
	out->host_port = (unsigned)hp;
	out->ctr_port = (unsigned)cp;
	return 0;
}

bool run_ports_have(char *const *ports, bool udp)
{
	for (size_t i = 0; ports && ports[i]; i++) {
		struct run_port pt;
		if (run_port_split(ports[i], &pt) == 0 && pt.udp == udp)
			return true;
	}
	return false;
}
