/* .containerignore / .dockerignore: moby's ignorefile + patternmatcher
 * semantics.  Patterns compile to a token list matched with an O(n·m)
 * dynamic program (no regex engine, no backtracking blow-up). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "build/parser_priv.h"

#define IGNORE_MAX_PATTERNS 65536

enum { IG_LIT, IG_ANY, IG_STAR, IG_DSTAR_SLASH, IG_DSTAR_END, IG_CLASS };

struct igtok {
	int t;
	unsigned char c;
	bool neg;
	unsigned char set[32]; /* class bitmap */
};

struct igpat {
	char *text; /* cleaned, without '!' */
	bool exclusion;
	struct igtok *tok;
	size_t n;
};

struct ignore_rules {
	struct igpat *p;
	size_t n;
	bool has_exc;
};

/* Go path.Clean. */
static char *path_clean(const char *s)
{
	size_t n = strlen(s);
	if (n == 0)
		return xstrdup(".");
	bool rooted = s[0] == '/';
	char *out = xmalloc(n + 2);
	size_t w = 0, r = 0, dotdot = 0;
	if (rooted)
		out[w++] = '/', r = 1, dotdot = 1;
	while (r < n) {
		if (s[r] == '/') {
			r++;
		} else if (s[r] == '.' && (r + 1 == n || s[r + 1] == '/')) {
			r++;
		} else if (s[r] == '.' && s[r + 1] == '.' && (r + 2 == n || s[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			while (r < n && s[r] != '/')
				out[w++] = s[r++];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return out;
}

static int compile(const char *p, struct igtok **out, size_t *nt)
{
	size_t n = strlen(p), k = 0;
	struct igtok *t = xcalloc(n + 1, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '*') {
			if (p[i + 1] == '*') {
				i++;
				if (p[i + 1] == '/')
					i++;
				t[k++].t = i + 1 >= n ? IG_DSTAR_END : IG_DSTAR_SLASH;
			} else {
				t[k++].t = IG_STAR;
			}
		} else if (c == '?') {
			t[k++].t = IG_ANY;
		} else if (c == '\\') {
			if (i + 1 >= n)
				goto bad;
			t[k].t = IG_LIT;
			t[k++].c = (unsigned char)p[++i];
		} else if (c == '[') {
			struct igtok *x = &t[k++];
			x->t = IG_CLASS;
			i++;
			if (i < n && p[i] == '^')
				x->neg = true, i++;
			bool first = true;
			for (;;) {
				if (i >= n)
					goto bad;
				if (p[i] == ']' && !first)
					break;
				first = false;
				unsigned char lo = (unsigned char)p[i];
				if (lo == '\\') {
					if (++i >= n)
						goto bad;
					lo = (unsigned char)p[i];
				}
				unsigned char hi = lo;
				if (i + 2 < n && p[i + 1] == '-' && p[i + 2] != ']') {
					i += 2;
					hi = (unsigned char)p[i];
					if (hi == '\\') {
						if (++i >= n)
							goto bad;
						hi = (unsigned char)p[i];
					}
					if (hi < lo)
						goto bad;
				}
				for (unsigned v = lo; v <= hi; v++)
					x->set[v >> 3] |= (unsigned char)(1u << (v & 7));
				i++;
			}
		} else {
			t[k].t = IG_LIT;
			t[k++].c = (unsigned char)c;
		}
	}
	*out = t;
	*nt = k;
	return 0;
bad:
	free(t);
	return -EINVAL;
}

static bool tok1(const struct igtok *t, unsigned char c)
{
	switch (t->t) {
	case IG_LIT:
		return t->c == c;
	case IG_ANY:
		return c != '/';
	case IG_CLASS: {
		bool in = t->set[c >> 3] & (1u << (c & 7));
		return t->neg ? !in && c != '/' : in;
	}
	}
	return false;
}

/* dp over tokens from the end: cur[p] = tokens i.. match s[p..]. */
static bool pat_match(const struct igtok *t, size_t m, const char *s, size_t n)
{
	bool *nx = xcalloc(n + 2, 1), *cur = xcalloc(n + 2, 1);
	nx[n] = true; /* i == m */
	for (size_t i = m; i-- > 0;) {
		const struct igtok *k = &t[i];
		switch (k->t) {
		case IG_DSTAR_END:
			for (size_t p = 0; p <= n; p++)
				cur[p] = true;
			break;
		case IG_STAR:
			cur[n] = nx[n];
			for (size_t p = n; p-- > 0;)
				cur[p] = nx[p] || (s[p] != '/' && cur[p + 1]);
			break;
		case IG_DSTAR_SLASH: {
			bool any = false; /* exists q > p: s[q-1] == '/' && nx[q] */
			cur[n] = nx[n];
			for (size_t p = n; p-- > 0;) {
				if (s[p] == '/' && nx[p + 1])
					any = true;
				cur[p] = nx[p] || any;
			}
			break;
		}
		default:
			cur[n] = false;
			for (size_t p = 0; p < n; p++)
				cur[p] = tok1(k, (unsigned char)s[p]) && nx[p + 1];
		}
		bool *tmp = nx;
		nx = cur, cur = tmp;
	}
	bool r = nx[0];
	free(nx);
	free(cur);
	return r;
}

static bool one(const struct igpat *p, const char *s, size_t n)
{
	return pat_match(p->tok, p->n, s, n);
}

int ignore_parse(const char *data, size_t len, struct ignore_rules **out, struct kerror *e)
{
	struct ignore_rules *r = xcalloc(1, sizeof(*r));
	size_t cap = 0, pos = 0;
	int lineno = 0;
	while (pos < len) {
		const char *l = data + pos;
		const char *nl = memchr(l, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - l) : len - pos;
		pos += n + (nl ? 1 : 0);
		if (n && l[n - 1] == '\r')
			n--;
		if (lineno++ == 0 && n >= 3 && memcmp(l, "\xEF\xBB\xBF", 3) == 0)
			l += 3, n -= 3;
		if (n && l[0] == '#')
			continue;
		const char *t = trim_uspace(l, &n);
		if (n == 0)
			continue;
		bool inv = t[0] == '!';
		if (inv) {
			t++, n--;
			t = trim_uspace(t, &n);
			if (n == 0) {
				ignore_free(r);
				return kerror_set(e, EINVAL, "illegal exclusion pattern: \"!\"");
			}
		}
		if (memchr(t, '\0', n))
			continue;
		_cleanup_free_ char *raw = xstrndup(t, n);
		char *c = path_clean(raw);
		if (strlen(c) > 1 && c[0] == '/')
			memmove(c, c + 1, strlen(c));
		if (r->n >= IGNORE_MAX_PATTERNS) {
			free(c);
			ignore_free(r);
			return kerror_set(e, E2BIG, "too many ignore patterns (max %d)",
					  IGNORE_MAX_PATTERNS);
		}
		if (r->n == cap) {
			cap = cap ? cap * 2 : 16;
			r->p = xrealloc(r->p, cap * sizeof(*r->p));
		}
		struct igpat *p = &r->p[r->n];
		memset(p, 0, sizeof(*p));
		p->text = c;
		p->exclusion = inv;
		if (compile(c, &p->tok, &p->n) < 0) {
			free(c);
			ignore_free(r);
			return kerror_set(e, EINVAL, "line %d: syntax error in pattern", lineno);
		}
		r->n++;
		r->has_exc |= inv;
	}
	*out = r;
	return 0;
}

bool ignore_match(const struct ignore_rules *r, const char *path)
{
	if (!r)
		return false;
	bool matched = false;
	size_t n = strlen(path);
	const char *slash = strrchr(path, '/');
	size_t parent = slash ? (size_t)(slash - path) : 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct igpat *p = &r->p[i];
		if (p->exclusion != matched)
			continue;
		bool m = one(p, path, n);
		/* A pattern matching a parent directory matches what is below. */
		for (size_t k = 0; !m && k < parent; k++)
			if (path[k] == '/')
				m = one(p, path, k);
		if (!m && parent)
			m = one(p, path, parent);
		if (m)
			matched = !p->exclusion;
	}
	return matched;
}

static size_t ncomp(const char *s)
{
	size_t c = 1;
	for (; *s; s++)
		c += *s == '/';
	return c;
}

bool ignore_dir_skippable(const struct ignore_rules *r, const char *dir)
{
	if (!ignore_match(r, dir))
		return false;
	size_t dc = ncomp(dir);
	for (size_t i = 0; i < r->n; i++) {
		const struct igpat *p = &r->p[i];
		if (!p->exclusion)
			continue;
		if (strstr(p->text, "**"))
			return false;
		if (ncomp(p->text) <= dc)
			continue;
		/* Its first dc components: could they match dir? */
		const char *q = p->text;
		for (size_t k = 0; k < dc; k++)
			q = strchr(q, '/') + 1;
		_cleanup_free_ char *pre = xstrndup(p->text, (size_t)(q - 1 - p->text));
		struct igtok *t;
		size_t nt;
		if (compile(pre, &t, &nt) < 0)
			return false;
		bool m = pat_match(t, nt, dir, strlen(dir));
		free(t);
		if (m)
			return false;
	}
	return true;
}

size_t ignore_count(const struct ignore_rules *r)
{
	return r ? r->n : 0;
}

bool ignore_has_exceptions(const struct ignore_rules *r)
{
	return r && r->has_exc;
}

void ignore_free(struct ignore_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->p[i].text);
		free(r->p[i].tok);
	}
	free(r->p);
	free(r);
}

void cleanup_ignore_rulesp(struct ignore_rules **r)
{
	ignore_free(*r);
	*r = NULL;
}
