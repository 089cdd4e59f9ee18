/* WWW-Authenticate parsing (RFC 7235): quoted values may hold commas, so
 * the header is scanned token by token, never split on ','. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/registry.h"

#define MAX_HEADER 8192

void auth_challenge_release(struct auth_challenge *c)
{
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

static bool tchar(char ch)
{
	return isalnum((unsigned char)ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/* A token or a quoted string at *p, new string; NULL on a syntax error. */
static char *value(const char **p)
{
	struct buf b = { 0 };
	const char *s = *p;

	if (*s != '"') {
		while (tchar(*s) || *s == '/' || *s == ':' || *s == '=')
			s++;
		buf_append(&b, *p, (size_t)(s - *p));
		*p = s;
		return buf_steal(&b);
	}
	for (s++; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1])
			s++;
		buf_append(&b, s, 1);
	}
	if (*s != '"') {
		buf_release(&b);
		return NULL;
	}
	*p = s + 1;
	return buf_steal(&b);
}

/* Parses "scheme k=v, k=v" starting at *p, stops before the next
 * challenge's scheme. */
static int one(const char **p, struct auth_challenge *c)
{
	const char *s = *p, *t;

	skip_ws(&s);
	for (t = s; tchar(*t); t++)
		;
	if (t == s)
		return -EINVAL;
	c->scheme = xstrndup(s, (size_t)(t - s));
	for (char *q = c->scheme; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	s = t;
	for (;;) {
		const char *name, *after;
		char *v;
		size_t nlen;

		skip_ws(&s);
		while (*s == ',' || *s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		name = s;
		while (tchar(*s))
			s++;
		nlen = (size_t)(s - name);
		after = s;
		skip_ws(&after);
		if (nlen == 0 || *after != '=') {
			/* The next challenge's scheme (or token68 garbage). */
			if (nlen == 0)
				return -EINVAL;
			s = name;
			break;
		}
		s = after + 1;
		skip_ws(&s);
		v = value(&s);
		if (!v)
			return -EINVAL;
#define SET(f)                                                                          \
	if (nlen == strlen(#f) && strncasecmp(name, #f, nlen) == 0) {                  \
		free(c->f);                                                             \
		c->f = v;                                                               \
		v = NULL;                                                               \
	}
		SET(realm) else SET(service) else SET(scope) else SET(error)
#undef SET
		free(v);
	}
	*p = s;
	return 0;
}

int auth_challenge_parse(const char *header, struct auth_challenge *out)
{
	const char *p = header;

	memset(out, 0, sizeof(*out));
	if (!header || strlen(header) > MAX_HEADER)
		return -EINVAL;
	while (*p) {
		struct auth_challenge c = { 0 };
		const char *before = p;
		if (one(&p, &c) < 0) {
			auth_challenge_release(&c);
			return -EINVAL;
		}
		if ((!strcmp(c.scheme, "bearer") && c.realm) || !strcmp(c.scheme, "basic")) {
			*out = c;
			return 0;
		}
		auth_challenge_release(&c);
		if (p == before)
			break;
		skip_ws(&p);
	}
	return -EINVAL;
}
