/* COPY/ADD --chmod: an octal mode ("0755") or chmod(1)'s symbolic clauses
 * ("u+x,g-w,o=r", "a+X"), applied to each copied file's own mode as chmod
 * does.  A clause without who letters means "a" (no umask: a build has no
 * user's umask to honour).  Pure: no I/O. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build/engine.h"

static uint32_t who_bits(char c)
{
	switch (c) {
	case 'u': return 04700;
	case 'g': return 02070;
	case 'o': return 01007;
	case 'a': return 07777;
	default: return 0;
	}
}

int chmod_parse(const char *s, struct chmod_spec *out, struct kerror *e)
{
	memset(out, 0, sizeof(*out));
	out->octal = -1;
	if (s[0] >= '0' && s[0] <= '7') {
		char *end;
		long m = strtol(s, &end, 8);
		if (*end || m < 0 || m > 07777)
			return kerror_set(e, EINVAL, "invalid chmod %s: an octal mode up to 7777 "
						     "expected", s);
		out->octal = (int)m;
		return 0;
	}
	const char *p = s;
	while (*p) {
		uint32_t who = 0;
		while (who_bits(*p))
			who |= who_bits(*p++);
		if (!who)
			who = 07777;
		if (*p != '+' && *p != '-' && *p != '=')
			goto bad;
		/* one or more "op perms" groups share the who letters */
		while (*p == '+' || *p == '-' || *p == '=') {
			if (out->n == CHMOD_MAX_CLAUSES)
				return kerror_set(e, EINVAL, "invalid chmod %s: too many clauses", s);
			struct chmod_clause *c = &out->c[out->n++];
			c->who = who;
			c->op = *p++;
			while (*p && strchr("rwxXst", *p)) {
				switch (*p++) {
				case 'r': c->perm |= 0444; break;
				case 'w': c->perm |= 0222; break;
				case 'x': c->perm |= 0111; break;
				case 'X': c->cond_x = true; break;
				case 's': c->perm |= 06000; break;
				case 't': c->perm |= 01000; break;
				}
			}
		}
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			goto bad;
	}
	if (out->n)
		return 0;
bad:
	return kerror_set(e, EINVAL, "invalid chmod %s: an octal mode or symbolic clauses "
				     "like u+x,g-w,o=r expected", s);
}

uint32_t chmod_apply(const struct chmod_spec *cs, uint32_t mode)
{
	if (cs->octal >= 0)
		return (uint32_t)cs->octal;
	uint32_t m = mode & 07777;
	for (size_t i = 0; i < cs->n; i++) {
		const struct chmod_clause *c = &cs->c[i];
		uint32_t perm = c->perm;
		/* X: execute for directories and files someone may execute already */
		if (c->cond_x && (S_ISDIR(mode) || (m & 0111)))
			perm |= 0111;
		perm &= c->who;
		if (c->op == '+')
			m |= perm;
		else if (c->op == '-')
			m &= ~perm;
		else
			m = (m & ~c->who) | perm;
	}
	return m;
}
