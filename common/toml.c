/* A strict reader for the TOML 1.0 subset used by containers-*.conf,
 * producing a jansson tree.  Dates/times are out of the subset, and so are
 * nan/inf (JSON cannot hold them).
 *
 * TOML's "may this table still be extended?" rules need state that a
 * jansson object cannot carry, so a small pointer-keyed hash map remembers
 * how each table came to be (see enum tflag). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define TOML_MAX_DEPTH 64

enum tflag {
	T_IMPLICIT = 1, /* created as a parent by a [header]; may be defined once later */
	T_DEFINED = 2,  /* defined by its own [header] or as an [[array]] element */
	T_DOTTED = 4,   /* created by a dotted key; only more dotted keys extend it */
	T_INLINE = 8,   /* inline table: sealed */
	T_AOT = 16,     /* array created by [[header]] (not a static array) */
};

struct fmap {
	const json_t **k;
	unsigned char *v;
	size_t cap, n;
};

struct parser {
	const char *s;
	size_t n, pos;
	struct kerror *e;
	struct fmap fm;
};

/* ---- table flags --------------------------------------------------------- */

static size_t fmap_find(const struct fmap *m, const json_t *j)
{
	size_t i = (size_t)(((uintptr_t)j >> 4) * 0x9E3779B97F4A7C15ull) & (m->cap - 1);
	while (m->k[i] && m->k[i] != j)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void fmap_set(struct fmap *m, const json_t *j, unsigned char flags)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct fmap g = { .cap = m->cap ? m->cap * 2 : 64, .n = m->n };
		g.k = xcalloc(g.cap, sizeof(*g.k));
		g.v = xcalloc(g.cap, 1);
		for (size_t i = 0; i < m->cap; i++) {
			if (m->k[i]) {
				size_t k = fmap_find(&g, m->k[i]);
				g.k[k] = m->k[i];
				g.v[k] = m->v[i];
			}
		}
		free(m->k);
		free(m->v);
		*m = g;
	}
	size_t i = fmap_find(m, j);
	m->n += !m->k[i];
	m->k[i] = j;
	m->v[i] = flags;
}

static unsigned char fmap_get(const struct fmap *m, const json_t *j)
{
	if (!m->cap)
		return 0;
	size_t i = fmap_find(m, j);
	return m->k[i] ? m->v[i] : 0;
}

/* ---- errors and scanning -------------------------------------------------- */

static unsigned line_at(const struct parser *p, size_t pos)
{
	unsigned line = 1;
	for (size_t i = 0; i < pos && i < p->n; i++)
		line += p->s[i] == '\n';
	return line;
}

__attribute__((format(printf, 3, 4))) static int err_at(struct parser *p, size_t pos,
							  const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	kerror_set(p->e, EINVAL, "line %u: %s", line_at(p, pos), msg);
	free(msg);
	return -EINVAL;
}
#define perr(p, ...) err_at(p, (p)->pos, __VA_ARGS__)

/* Names the character at the cursor for messages (non-ASCII stays vague so
 * messages remain valid UTF-8). */
static const char *what_char(const struct parser *p, char tmp[4])
{
	int c = p->pos < p->n ? (unsigned char)p->s[p->pos] : -1;
	if (c < 0)
		return "end of input";
	if (c == '\n' || c == '\r')
		return "newline";
	if (c >= 0x80)
		return "character";
	tmp[0] = '\'', tmp[1] = (char)c, tmp[2] = '\'', tmp[3] = 0;
	return tmp;
}

static int peek(const struct parser *p)
{
	return p->pos < p->n ? (unsigned char)p->s[p->pos] : -1;
}

static int peek_at(const struct parser *p, size_t off)
{
	return p->pos + off < p->n ? (unsigned char)p->s[p->pos + off] : -1;
}

static void skip_ws(struct parser *p)
{
	while (peek(p) == ' ' || peek(p) == '\t')
		p->pos++;
}

static bool at_newline(const struct parser *p)
{
	return peek(p) == '\n' || (peek(p) == '\r' && peek_at(p, 1) == '\n');
}

static void skip_comment(struct parser *p)
{
	if (peek(p) == '#')
		while (p->pos < p->n && p->s[p->pos] != '\n')
			p->pos++;
}

/* Whitespace, comments and newlines (inside arrays). */
static void skip_ws_nl(struct parser *p)
{
	for (;;) {
		skip_ws(p);
		skip_comment(p);
		if (!at_newline(p))
			return;
		p->pos += peek(p) == '\r' ? 2 : 1;
	}
}

/* After a key/value pair or header: only a comment may follow on the line. */
static int expect_eol(struct parser *p)
{
	skip_ws(p);
	skip_comment(p);
	if (p->pos >= p->n)
		return 0;
	if (!at_newline(p))
		return perr(p, "unexpected %s after value", what_char(p, (char[4]){ 0 }));
	p->pos += peek(p) == '\r' ? 2 : 1;
	return 0;
}

/* The whole document must be valid UTF-8 without control characters
 * (tab and CRLF/LF line ends excepted); checking once up front lets the
 * scanners below treat every byte as already vetted. */
static int check_text(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->s;
	for (size_t i = 0; i < p->n;) {
		unsigned c = s[i];
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t' && c != '\n' &&
			     !(c == '\r' && i + 1 < p->n && s[i + 1] == '\n')) ||
			    c == 0x7f)
				return err_at(p, i, "control character 0x%02x is not allowed", c);
			i++;
			continue;
		}
		size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		uint32_t cp = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
		if (c < 0xc2 || c > 0xf4 || i + len > p->n)
			return err_at(p, i, "invalid UTF-8");
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return err_at(p, i, "invalid UTF-8");
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return err_at(p, i, "invalid UTF-8");
		i += len;
	}
	return 0;
}

/* ---- strings -------------------------------------------------------------- */

/* At the backslash of an escape in a basic string. */
static int parse_escape(struct parser *p, struct buf *b)
{
	static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
	int c = peek_at(p, 1);
	const char *m = c > 0 ? strchr(from, c) : NULL;

	if (m) {
		buf_append(b, &to[m - from], 1);
		p->pos += 2;
		return 0;
	}
	if (c != 'u' && c != 'U')
		return perr(p, "invalid escape sequence in string");
	size_t nd = c == 'u' ? 4 : 8;
	uint32_t cp = 0;
	for (size_t i = 0; i < nd; i++) {
		int h = peek_at(p, 2 + i);
		int v = h >= '0' && h <= '9' ? h - '0'
			: h >= 'a' && h <= 'f' ? h - 'a' + 10
			: h >= 'A' && h <= 'F' ? h - 'A' + 10
					       : -1;
		if (v < 0)
			return perr(p, "invalid \\%c escape: expected %zu hex digits", c, nd);
		cp = cp << 4 | (uint32_t)v;
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return perr(p, "escape \\%c%0*X is not a unicode scalar value", c, (int)nd, cp);
	buf_append_utf8(b, cp);
	p->pos += 2 + nd;
	return 0;
}

/* In a multi-line string at a run of quote characters q: up to two extra
 * quotes before the closing delimiter belong to the content.  Returns 1 when
 * the string ended, 0 when the quotes were content. */
static int ml_quotes(struct parser *p, struct buf *b, char q)
{
	size_t run = 0;
	while (peek_at(p, run) == q)
		run++;
	if (run < 3) {
		buf_append(b, p->s + p->pos, run);
		p->pos += run;
		return 0;
	}
	if (run > 5)
		return perr(p, "too many quotes at the end of a multi-line string");
	buf_append(b, p->s + p->pos, run - 3);
	p->pos += run;
	return 1;
}

/* Parses any string form at p->pos; the result is in b (may hold NULs). */
static int parse_string(struct parser *p, struct buf *b, bool allow_multiline)
{
	size_t start = p->pos;
	char q = p->s[p->pos];
	bool basic = q == '"';
	bool ml = peek_at(p, 1) == q && peek_at(p, 2) == q;
	int r;

	if (ml && !allow_multiline)
		return perr(p, "multi-line strings cannot be keys");
	if (!ml) {
		p->pos++;
		for (;;) {
			int c = peek(p);
			if (c < 0 || c == '\n' || c == '\r')
				return err_at(p, start, "unterminated string");
			if (c == q) {
				p->pos++;
				return 0;
			}
			if (basic && c == '\\') {
				if ((r = parse_escape(p, b)) < 0)
					return r;
				continue;
			}
			buf_append(b, p->s + p->pos++, 1);
		}
	}
	p->pos += 3;
	if (at_newline(p)) /* a newline right after the opening quotes is trimmed */
		p->pos += peek(p) == '\r' ? 2 : 1;
	for (;;) {
		int c = peek(p);
		if (c < 0)
			return err_at(p, start, "unterminated multi-line string");
		if (c == q) {
			if ((r = ml_quotes(p, b, q)) != 0)
				return r < 0 ? r : 0;
			continue;
		}
		if (c == '\r') { /* CRLF (vetted by check_text) becomes LF */
			p->pos++;
			continue;
		}
		if (basic && c == '\\') {
			size_t k = 1;
			while (peek_at(p, k) == ' ' || peek_at(p, k) == '\t')
				k++;
			if (peek_at(p, k) == '\n' || peek_at(p, k) == '\r') {
				/* line-ending backslash: drop whitespace up to the next text */
				p->pos += k;
				while (peek(p) == ' ' || peek(p) == '\t' || peek(p) == '\n' ||
				       peek(p) == '\r')
					p->pos++;
				continue;
			}
			if ((r = parse_escape(p, b)) < 0)
				return r;
			continue;
		}
		buf_append(b, p->s + p->pos++, 1);
	}
}

/* ---- keys ----------------------------------------------------------------- */

static bool is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* Parses a (dotted) key into *keys (a strv); surrounding whitespace eaten. */
static int parse_key(struct parser *p, char ***keys)
{
	size_t n = 0;
	int r;

	for (;;) {
		skip_ws(p);
		int c = peek(p);
		if (++n > TOML_MAX_DEPTH)
			return perr(p, "key has more than %d parts", TOML_MAX_DEPTH);
		if (c == '"' || c == '\'') {
			struct buf b = { 0 };
			if ((r = parse_string(p, &b, false)) < 0) {
				buf_release(&b);
				return r;
			}
			if (b.len && memchr(b.data, 0, b.len)) {
				buf_release(&b);
				return perr(p, "keys containing NUL are not supported");
			}
			buf_append(&b, "", 0);
			strv_push(keys, buf_steal(&b));
		} else if (is_bare(c)) {
			size_t s = p->pos;
			while (is_bare(peek(p)))
				p->pos++;
			strv_push(keys, xstrndup(p->s + s, p->pos - s));
		} else {
			return perr(p, "expected a key, found %s", what_char(p, (char[4]){ 0 }));
		}
		skip_ws(p);
		if (peek(p) != '.')
			return 0;
		p->pos++;
	}
}

/* Walks (and creates) the tables of a dotted key's leading parts. */
static int walk_dotted(struct parser *p, json_t **tbl, char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_object_get(*tbl, keys[i]);
		if (!c) {
			c = json_object();
			json_object_set_new(*tbl, keys[i], c);
			fmap_set(&p->fm, c, T_DOTTED);
		} else if (!json_is_object(c) || fmap_get(&p->fm, c) != T_DOTTED) {
			return perr(p, "cannot add keys to \"%s\": already defined", keys[i]);
		}
		*tbl = c;
	}
	return 0;
}

/* ---- values --------------------------------------------------------------- */

static int parse_value(struct parser *p, int depth, json_t **out);

static int parse_keyval(struct parser *p, json_t *tbl, int depth)
{
	_cleanup_strv_ char **keys = NULL;
	json_t *v = NULL;
	int r;

	if ((r = parse_key(p, &keys)) < 0)
		return r;
	size_t n = strv_len(keys);
	if (peek(p) != '=')
		return perr(p, "expected '=' after key \"%s\"", keys[n - 1]);
	p->pos++;
	skip_ws(p);
	if (depth + (int)n > TOML_MAX_DEPTH)
		return perr(p, "nesting deeper than %d levels", TOML_MAX_DEPTH);
	if ((r = walk_dotted(p, &tbl, keys, n - 1)) < 0)
		return r;
	if (json_object_get(tbl, keys[n - 1]))
		return perr(p, "duplicate key \"%s\"", keys[n - 1]);
	if ((r = parse_value(p, depth + (int)n, &v)) < 0)
		return r;
	json_object_set_new(tbl, keys[n - 1], v);
	return 0;
}

static int parse_array(struct parser *p, int depth, json_t **out)
{
	size_t start = p->pos++;
	_cleanup_json_ json_t *a = json_array();
	int r;

	for (;;) {
		skip_ws_nl(p);
		if (peek(p) == ']')
			break;
		if (peek(p) < 0)
			return err_at(p, start, "unterminated array");
		json_t *v;
		if ((r = parse_value(p, depth + 1, &v)) < 0)
			return r;
		json_array_append_new(a, v);
		skip_ws_nl(p);
		if (peek(p) == ',') {
			p->pos++;
		} else if (peek(p) == ']') {
			break;
		} else {
			return peek(p) < 0 ? err_at(p, start, "unterminated array")
					   : perr(p, "expected ',' or ']' in array");
		}
	}
	p->pos++;
	*out = steal_pointer(&a);
	return 0;
}

static int parse_inline_table(struct parser *p, int depth, json_t **out)
{
	size_t start = p->pos++;
	_cleanup_json_ json_t *t = json_object();
	int r;

	skip_ws(p);
	if (peek(p) != '}') {
		for (;;) {
			if (peek(p) < 0 || at_newline(p))
				return err_at(p, start, "unterminated inline table (must be on one line)");
			if (peek(p) == '}')
				return perr(p, "trailing comma in inline table");
			if ((r = parse_keyval(p, t, depth + 1)) < 0)
				return r;
			skip_ws(p);
			if (peek(p) == '}')
				break;
			if (peek(p) != ',')
				return peek(p) < 0 || at_newline(p)
					       ? err_at(p, start, "unterminated inline table (must be on one line)")
					       : perr(p, "expected ',' or '}' in inline table");
			p->pos++;
			skip_ws(p);
		}
	}
	p->pos++;
	fmap_set(&p->fm, t, T_INLINE);
	*out = steal_pointer(&t);
	return 0;
}

/* Digits of a base with '_' only between digits; accumulates into *v.
 * Returns chars consumed, or -1 on a bad '_' / overflow beyond lim. */
static int scan_digits(const char *s, size_t n, int base, uint64_t lim, uint64_t *v,
		       bool *overflow)
{
	size_t i = 0;
	*v = 0;
	for (; i < n; i++) {
		int c = (unsigned char)s[i], d;
		if (c == '_') {
			if (i == 0 || i + 1 >= n || s[i + 1] == '_' || s[i - 1] == '_')
				return -1;
			continue;
		}
		d = c >= '0' && c <= '9' ? c - '0'
		    : c >= 'a' && c <= 'f' ? c - 'a' + 10
		    : c >= 'A' && c <= 'F' ? c - 'A' + 10
					   : 99;
		if (d >= base)
			break;
		if (*v > (lim - (uint64_t)d) / (uint64_t)base)
			*overflow = true;
		else
			*v = *v * (uint64_t)base + (uint64_t)d;
	}
	if (i > 0 && s[i - 1] == '_')
		return -1;
	return (int)i;
}

/* Numbers, booleans and the rejected forms (dates, inf, nan). */
static int parse_scalar(struct parser *p, json_t **out)
{
	const char *s = p->s + p->pos;
	size_t n = 0, rem = p->n - p->pos;

	while (n < rem && n < 4 && s[n] >= '0' && s[n] <= '9')
		n++;
	if ((n == 4 && rem > 4 && s[4] == '-') || (n >= 2 && rem > 2 && s[2] == ':'))
		return perr(p, "dates are not supported");
	n = 0;
	while (n < rem && (is_bare(s[n]) || s[n] == '+' || s[n] == '.'))
		n++;
	if (n == 0)
		return peek(p) < 0 || at_newline(p) || peek(p) == '#'
			       ? perr(p, "missing value")
			       : perr(p, "unexpected %s in value", what_char(p, (char[4]){ 0 }));
	size_t start = p->pos;
	p->pos += n;
	if (n == 4 && !memcmp(s, "true", 4))
		return *out = json_true(), 0;
	if (n == 5 && !memcmp(s, "false", 5))
		return *out = json_false(), 0;

	bool neg = s[0] == '-', sign = neg || s[0] == '+', overflow = false;
	const char *d = s + sign;
	size_t dn = n - sign;
	uint64_t v;
	int used;

	if ((dn == 3 && (!memcmp(d, "inf", 3) || !memcmp(d, "nan", 3))))
		return err_at(p, start, "inf and nan are not supported (JSON cannot hold them)");
	if (dn > 2 && d[0] == '0' && (d[1] == 'x' || d[1] == 'o' || d[1] == 'b')) {
		int base = d[1] == 'x' ? 16 : d[1] == 'o' ? 8 : 2;
		if (sign)
			return err_at(p, start, "prefixed integers cannot have a sign");
		used = scan_digits(d + 2, dn - 2, base, INT64_MAX, &v, &overflow);
		if (used <= 0 || (size_t)used != dn - 2)
			return err_at(p, start, "invalid integer \"%.*s\"", (int)n, s);
		if (overflow)
			return err_at(p, start, "integer \"%.*s\" out of range", (int)n, s);
		return *out = json_integer((json_int_t)v), 0;
	}
	used = scan_digits(d, dn, 10, neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &v, &overflow);
	if (used <= 0)
		return err_at(p, start, "invalid value \"%.*s\"", (int)n, s);
	if (d[0] == '0' && used > 1)
		return err_at(p, start, "leading zeros are not allowed in \"%.*s\"", (int)n, s);
	if ((size_t)used == dn) {
		if (overflow)
			return err_at(p, start, "integer \"%.*s\" out of range", (int)n, s);
		return *out = json_integer(neg ? (json_int_t)(0 - v) : (json_int_t)v), 0;
	}

	/* float: int part, then .frac and/or exponent; '_' is stripped for strtod */
	size_t i = (size_t)used;
	uint64_t dummy;
	bool ovf = false;
	if (d[i] == '.') {
		int f = scan_digits(d + i + 1, dn - i - 1, 10, UINT64_MAX, &dummy, &ovf);
		if (f <= 0)
			return err_at(p, start, "invalid float \"%.*s\"", (int)n, s);
		i += 1 + (size_t)f;
	}
	if (i < dn && (d[i] == 'e' || d[i] == 'E')) {
		i++;
		if (i < dn && (d[i] == '+' || d[i] == '-'))
			i++;
		int f = scan_digits(d + i, dn - i, 10, UINT64_MAX, &dummy, &ovf);
		if (f <= 0)
			return err_at(p, start, "invalid float \"%.*s\"", (int)n, s);
		i += (size_t)f;
	}
	if (i != dn || i == (size_t)used)
		return err_at(p, start, "invalid value \"%.*s\"", (int)n, s);
	char tmp[128];
	size_t k = 0;
	if (n >= sizeof(tmp))
		return err_at(p, start, "float too long");
	for (size_t j = 0; j < n; j++)
		if (s[j] != '_')
			tmp[k++] = s[j];
	tmp[k] = 0;
	double f = strtod(tmp, NULL);
	if (!isfinite(f))
		return err_at(p, start, "float \"%.*s\" out of range", (int)n, s);
	*out = json_real(f);
	return 0;
}

static int parse_value(struct parser *p, int depth, json_t **out)
{
	struct buf b = { 0 };
	int r;

	if (depth > TOML_MAX_DEPTH)
		return perr(p, "nesting deeper than %d levels", TOML_MAX_DEPTH);
	switch (peek(p)) {
	case '"':
	case '\'':
		r = parse_string(p, &b, true);
		if (r == 0 && !(*out = json_stringn(b.data ? b.data : "", b.len)))
			r = perr(p, "invalid string");
		buf_release(&b);
		return r;
	case '[':
		return parse_array(p, depth, out);
	case '{':
		return parse_inline_table(p, depth, out);
	default:
		return parse_scalar(p, out);
	}
}

/* ---- headers -------------------------------------------------------------- */

/* Opens the table a [header] or [[header]] names; *depth is how deep it sits. */
static int parse_header(struct parser *p, json_t *root, json_t **cur, int *depth)
{
	_cleanup_strv_ char **keys = NULL;
	bool aot = peek_at(p, 1) == '[';
	json_t *t = root, *c;
	int r;

	p->pos += aot ? 2 : 1;
	if ((r = parse_key(p, &keys)) < 0)
		return r;
	if (peek(p) != ']' || (aot && peek_at(p, 1) != ']'))
		return perr(p, "expected '%s' to end the table header", aot ? "]]" : "]");
	p->pos += aot ? 2 : 1;
	size_t n = strv_len(keys);
	*depth = (int)n + aot;
	if (2 * n + 1 > TOML_MAX_DEPTH)
		return perr(p, "nesting deeper than %d levels", TOML_MAX_DEPTH);

	for (size_t i = 0; i + 1 < n; i++) {
		c = json_object_get(t, keys[i]);
		if (!c) {
			c = json_object();
			json_object_set_new(t, keys[i], c);
			fmap_set(&p->fm, c, T_IMPLICIT);
		} else if (json_is_array(c) && fmap_get(&p->fm, c) == T_AOT) {
			c = json_array_get(c, json_array_size(c) - 1);
			++*depth;
		} else if (!json_is_object(c) || fmap_get(&p->fm, c) == T_INLINE) {
			return perr(p, "cannot extend \"%s\": it is not a table", keys[i]);
		}
		t = c;
	}
	const char *k = keys[n - 1];
	c = json_object_get(t, k);
	if (aot) {
		if (!c) {
			c = json_array();
			json_object_set_new(t, k, c);
			fmap_set(&p->fm, c, T_AOT);
		} else if (!json_is_array(c) || fmap_get(&p->fm, c) != T_AOT) {
			return perr(p, "cannot define \"%s\" as an array of tables: already defined", k);
		}
		*cur = json_object();
		json_array_append_new(c, *cur);
		fmap_set(&p->fm, *cur, T_DEFINED);
		return 0;
	}
	if (!c) {
		c = json_object();
		json_object_set_new(t, k, c);
	} else if (!json_is_object(c) || fmap_get(&p->fm, c) != T_IMPLICIT) {
		return perr(p, "table \"%s\" is already defined", k);
	}
	fmap_set(&p->fm, c, T_DEFINED);
	*cur = c;
	return 0;
}

int toml_parse(const char *data, size_t len, json_t **out, struct kerror *e)
{
	struct parser p = { .s = data, .n = len, .e = e };
	_cleanup_json_ json_t *root = json_object();
	json_t *cur = root;
	int depth = 0, r;

	*out = NULL;
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) /* UTF-8 BOM */
		p.pos = 3;
	if ((r = check_text(&p)) < 0)
		goto done;
	for (;;) {
		skip_ws_nl(&p);
		if (p.pos >= p.n)
			break;
		if (peek(&p) == '[') {
			r = parse_header(&p, root, &cur, &depth);
		} else {
			r = parse_keyval(&p, cur, depth);
		}
		if (r < 0 || (r = expect_eol(&p)) < 0)
			goto done;
	}
	*out = steal_pointer(&root);
done:
	free(p.fm.k);
	free(p.fm.v);
	return r;
}
