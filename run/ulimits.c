/* --ulimit: parsing into the plan's canonical form, and setting the
 * limits in the child before it execs.  Also --restart's policy syntax. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "run/run_private.h"

static const struct {
	const char *name;
	int res;
} limits[] = {
	{ "as", RLIMIT_AS },		 { "core", RLIMIT_CORE },	  { "cpu", RLIMIT_CPU },
	{ "data", RLIMIT_DATA },	 { "fsize", RLIMIT_FSIZE },	  { "locks", RLIMIT_LOCKS },
	{ "memlock", RLIMIT_MEMLOCK },	 { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
	{ "nofile", RLIMIT_NOFILE },	 { "nproc", RLIMIT_NPROC },	  { "rss", RLIMIT_RSS },
	{ "rtprio", RLIMIT_RTPRIO },	 { "rttime", RLIMIT_RTTIME },
	{ "sigpending", RLIMIT_SIGPENDING }, { "stack", RLIMIT_STACK },
};

static int find_limit(const char *name, size_t n)
{
	if (n > 7 && strncmp(name, "RLIMIT_", 7) == 0)
		name += 7, n -= 7;
	for (size_t i = 0; i < ARRAY_SIZE(limits); i++)
		if (strlen(limits[i].name) == n && strncasecmp(limits[i].name, name, n) == 0)
			return (int)i;
	return -1;
}

static bool parse_value(const char *s, size_t n, long long *out)
{
	char buf[32], *end;
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	*out = strtoll(buf, &end, 10);
	return !errno && *end == '\0' && *out >= -1;
}

int run_ulimit_parse(const char *spec, char **out, struct kerror *e)
{
	const char *eq = strchr(spec, '='), *colon;
	long long soft, hard;
	int i;
	if (!eq || (i = find_limit(spec, (size_t)(eq - spec))) < 0)
		return kerror_set(e, EINVAL, "invalid ulimit \"%s\": expected name=soft[:hard] "
					     "with a known name",
				  spec);
	colon = strchr(eq + 1, ':');
	if (!parse_value(eq + 1, colon ? (size_t)(colon - eq - 1) : strlen(eq + 1), &soft) ||
	    (colon && !parse_value(colon + 1, strlen(colon + 1), &hard)))
		return kerror_set(e, EINVAL, "invalid ulimit \"%s\": values must be numbers", spec);
	if (!colon)
		hard = soft;
	if (soft != -1 && hard != -1 && soft > hard)
		return kerror_set(e, EINVAL, "ulimit error: soft limit must be less than or equal "
					     "to hard limit: %lld > %lld",
				  soft, hard);
	*out = xasprintf("%s=%lld:%lld", limits[i].name, soft, hard);
	return 0;
}

int ulimits_apply(char *const *ulimits, struct kerror *e)
{
	for (size_t k = 0; ulimits && ulimits[k]; k++) {
		const char *u = ulimits[k], *eq = strchr(u, '=');
		long long soft, hard;
		int i = eq ? find_limit(u, (size_t)(eq - u)) : -1;
		if (i < 0 || sscanf(eq + 1, "%lld:%lld", &soft, &hard) != 2)
			return kerror_set(e, EINVAL, "invalid ulimit \"%s\" in the plan", u);
		struct rlimit rl = { soft < 0 ? RLIM_INFINITY : (rlim_t)soft,
				     hard < 0 ? RLIM_INFINITY : (rlim_t)hard };
		if (setrlimit(limits[i].res, &rl) < 0)
			return kerror_sys(e, errno, "setting ulimit %s to %lld:%lld (above the "
						    "hard limit needs CAP_SYS_RESOURCE)",
					  limits[i].name, soft, hard);
	}
	return 0;
}

int run_restart_parse(const char *spec, char **policy, int *max, struct kerror *e)
{
	*max = 0;
	if (!spec || !*spec || !strcmp(spec, "no")) {
		*policy = xstrdup("no");
		return 0;
	}
	if (!strcmp(spec, "always") || !strcmp(spec, "unless-stopped")) {
		*policy = xstrdup(spec);
		return 0;
	}
	if (str_has_prefix(spec, "on-failure")) {
		const char *n = spec + strlen("on-failure");
		if (*n == ':') {
			char *end;
			long v = strtol(n + 1, &end, 10);
			if (!n[1] || *end || v < 0 || v > INT_MAX)
				goto bad;
			*max = (int)v;
		} else if (*n) {
			goto bad;
		}
		*policy = xstrdup("on-failure");
		return 0;
	}
bad:
	return kerror_set(e, EINVAL, "invalid restart policy \"%s\": valid policies are no, "
				     "always, on-failure[:max-retries] and unless-stopped",
			  spec);
}
