/* Arena, pointer vectors, UTF-8 and Go-compatible quoting for the parser. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build/parser_priv.h"

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

#define ARENA_CHUNK (64 * 1024)

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct arena_chunk *c = a->head;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > ARENA_CHUNK / 2 ? n : ARENA_CHUNK;
		struct arena_chunk *nc = xmalloc(sizeof(*nc) + cap);
		nc->used = 0;
		nc->cap = cap;
		if (c && n > ARENA_CHUNK / 2) {
			/* Big block: keep filling the current chunk afterwards. */
			nc->next = c->next;
			c->next = nc;
		} else {
			nc->next = c;
			a->head = nc;
		}
		c = nc;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n); /* callers rely on zeroed fields */
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char **arena_strv(struct arena *a, char *const *v, size_t n)
{
	char **r = arena_alloc(a, (n + 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++)
		r[i] = v[i];
	r[n] = NULL;
	return r;
}

char *xasprintf_arena(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *t;
	va_start(ap, fmt);
	t = xvasprintf(fmt, ap);
	va_end(ap);
	char *r = arena_strdup(a, t);
	free(t);
	return r;
}

void arena_release(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *n = c->next;
		free(c);
		c = n;
	}
	a->head = NULL;
}

void ptrvec_push(struct ptrvec *p, void *x)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->v = xrealloc(p->v, p->cap * sizeof(void *));
	}
	p->v[p->n++] = x;
}

void ptrvec_release(struct ptrvec *p)
{
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
}

uint32_t utf8_decode(const char *str, size_t n, size_t *width)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0];
	*width = 1;
	if (c < 0x80)
		return c;
	size_t need;
	uint32_t r, min;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1, r = c & 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2, r = c & 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3, r = c & 0x07, min = 0x10000;
	} else {
		return 0xFFFD;
	}
	if (n < need + 1)
		return 0xFFFD;
	for (size_t i = 1; i <= need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0xFFFD;
		r = (r << 6) | (s[i] & 0x3F);
	}
	if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		return 0xFFFD;
	*width = need + 1;
	return r;
}

void utf8_append(struct buf *b, uint32_t r)
{
	char t[4];
	size_t n;
	if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		r = 0xFFFD;
	if (r < 0x80) {
		t[0] = (char)r, n = 1;
	} else if (r < 0x800) {
		t[0] = (char)(0xC0 | (r >> 6)), t[1] = (char)(0x80 | (r & 0x3F)), n = 2;
	} else if (r < 0x10000) {
		t[0] = (char)(0xE0 | (r >> 12)), t[1] = (char)(0x80 | ((r >> 6) & 0x3F));
		t[2] = (char)(0x80 | (r & 0x3F)), n = 3;
	} else {
		t[0] = (char)(0xF0 | (r >> 18)), t[1] = (char)(0x80 | ((r >> 12) & 0x3F));
		t[2] = (char)(0x80 | ((r >> 6) & 0x3F)), t[3] = (char)(0x80 | (r & 0x3F));
		n = 4;
	}
	buf_append(b, t, n);
}

bool uni_isspace(uint32_t r)
{
	if (r < 0x100)
		return byte_isspace((unsigned char)r);
	switch (r) {
	case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
		return true;
	}
	return r >= 0x2000 && r <= 0x200A;
}

const char *trim_left_uspace(const char *s, size_t *n)
{
	while (*n) {
		size_t w;
		uint32_t r = utf8_decode(s, *n, &w);
		if (!uni_isspace(r))
			break;
		s += w, *n -= w;
	}
	return s;
}

/* Width of the rune ending at s[n-1] (at least 1). */
static size_t last_rune(const char *s, size_t n, uint32_t *r)
{
	size_t start = n - 1, w;
	/* Look back at most 3 continuation bytes. */
	while (start > 0 && n - start < 4 && ((unsigned char)s[start] & 0xC0) == 0x80)
		start--;
	*r = utf8_decode(s + start, n - start, &w);
	if (start + w != n) {
		*r = 0xFFFD;
		return 1;
	}
	return w;
}

const char *trim_uspace(const char *s, size_t *n)
{
	s = trim_left_uspace(s, n);
	while (*n) {
		uint32_t r;
		size_t w = last_rune(s, *n, &r);
		if (!uni_isspace(r))
			break;
		*n -= w;
	}
	return s;
}

/* Go's strconv.IsPrint approximation: printable unless a control, a
 * surrogate/invalid, or one of the Unicode space/format characters Go
 * escapes. */
static bool go_isprint(uint32_t r)
{
	if (r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) || r == 0xAD)
		return false;
	if (r == 0xA0 || r == 0x1680 || (r >= 0x2000 && r <= 0x200F) ||
	    (r >= 0x2028 && r <= 0x202F) || (r >= 0x205F && r <= 0x206F) ||
	    r == 0x3000 || r == 0xFEFF || (r >= 0xFFF9 && r <= 0xFFFB) ||
	    (r >= 0xE000 && r <= 0xF8FF) || (r >= 0xF0000) || (r & 0xFFFE) == 0xFFFE ||
	    (r >= 0xFDD0 && r <= 0xFDEF))
		return false;
	return true;
}

void go_quote(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	buf_append(out, "\"", 1);
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
			size_t j = i;
			while (j < n && (unsigned char)s[j] >= 0x20 && (unsigned char)s[j] < 0x7F &&
			       s[j] != '"' && s[j] != '\\')
				j++;
			buf_append(out, s + i, j - i);
			i = j;
			continue;
		}
		size_t w;
		uint32_t r = utf8_decode(s + i, n - i, &w);
		if (r == 0xFFFD && w == 1 && !(n - i >= 3 && memcmp(s + i, "\xEF\xBF\xBD", 3) == 0)) {
			char t[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
			buf_append(out, t, 4);
			i++;
			continue;
		}
		i += w;
		switch (r) {
		case '"': buf_append(out, "\\\"", 2); continue;
		case '\\': buf_append(out, "\\\\", 2); continue;
		case '\a': buf_append(out, "\\a", 2); continue;
		case '\b': buf_append(out, "\\b", 2); continue;
		case '\f': buf_append(out, "\\f", 2); continue;
		case '\n': buf_append(out, "\\n", 2); continue;
		case '\r': buf_append(out, "\\r", 2); continue;
		case '\t': buf_append(out, "\\t", 2); continue;
		case '\v': buf_append(out, "\\v", 2); continue;
		}
		if (go_isprint(r)) {
			utf8_append(out, r);
		} else if (r < 0x80 || (r < 0x100 && w == 1)) {
			char t[4] = { '\\', 'x', hex[(r >> 4) & 15], hex[r & 15] };
			buf_append(out, t, 4);
		} else if (r < 0x10000) {
			char t[6] = { '\\', 'u', hex[(r >> 12) & 15], hex[(r >> 8) & 15],
				      hex[(r >> 4) & 15], hex[r & 15] };
			buf_append(out, t, 6);
		} else {
			buf_printf(out, "\\U%08x", r);
		}
	}
	buf_append(out, "\"", 1);
}

void go_quote_strv(struct buf *out, char *const *v, size_t n)
{
	buf_append(out, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_append(out, " ", 1);
		go_quote(out, v[i], strlen(v[i]));
	}
	buf_append(out, "]", 1);
}

void kvlist_set(struct kvlist *l, const char *key, const char *val)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->keys[i], key) == 0) {
			free(l->vals[i]);
			l->vals[i] = val ? xstrdup(val) : NULL;
			return;
		}
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->keys = xrealloc(l->keys, l->cap * sizeof(char *));
		l->vals = xrealloc(l->vals, l->cap * sizeof(char *));
	}
	l->keys[l->n] = xstrdup(key);
	l->vals[l->n] = val ? xstrdup(val) : NULL;
	l->n++;
}

const char *kvlist_get(const struct kvlist *l, const char *key, size_t keylen)
{
	for (size_t i = l->n; i-- > 0;) {
		if (strlen(l->keys[i]) == keylen && memcmp(l->keys[i], key, keylen) == 0)
			return l->vals[i];
	}
	return NULL;
}

const char *kvlist_lookup(void *ctx, const char *name, size_t len)
{
	return kvlist_get(ctx, name, len);
}

void kvlist_release(struct kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->keys[i]);
		free(l->vals[i]);
	}
	free(l->keys);
	free(l->vals);
	memset(l, 0, sizeof(*l));
}
