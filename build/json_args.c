/* The exec-form test: is the argument text a JSON array (of strings)?
 * Mirrors Go's json.Unmarshal into []interface{}: the whole text must be one
 * valid JSON value (trailing whitespace only); any invalid JSON means "not
 * exec form"; a valid array holding a non-string is an error. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "build/parser_priv.h"

#define JSON_MAX_DEPTH 10000 /* as Go's decoder */

static size_t skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool hex4(const char *s, size_t n, size_t i, uint32_t *out)
{
	if (i + 4 > n)
		return false;
	uint32_t r = 0;
	for (int k = 0; k < 4; k++) {
		int h = hexval(s[i + k]);
		if (h < 0)
			return false;
		r = r << 4 | (uint32_t)h;
	}
	*out = r;
	return true;
}

/* Scans a string starting at s[i] == '"'; decodes into dec when non-NULL.
 * Returns the index after the closing quote or 0 when invalid. */
static size_t scan_string(const char *s, size_t n, size_t i, struct buf *dec)
{
	i++;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"')
			return i + 1;
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			if (i + 1 >= n)
				return 0;
			char x = s[i + 1];
			const char *rep = NULL;
			switch (x) {
			case '"': rep = "\""; break;
			case '\\': rep = "\\"; break;
			case '/': rep = "/"; break;
			case 'b': rep = "\b"; break;
			case 'f': rep = "\f"; break;
			case 'n': rep = "\n"; break;
			case 'r': rep = "\r"; break;
			case 't': rep = "\t"; break;
			case 'u': {
				uint32_t r;
				if (!hex4(s, n, i + 2, &r))
					return 0;
				i += 6;
				if (r >= 0xD800 && r < 0xDC00) {
					uint32_t lo;
					if (i + 1 < n && s[i] == '\\' && s[i + 1] == 'u' &&
					    hex4(s, n, i + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
						r = 0x10000 + ((r - 0xD800) << 10) + (lo - 0xDC00);
						i += 6;
					} else {
						r = 0xFFFD;
					}
				} else if (r >= 0xDC00 && r < 0xE000) {
					r = 0xFFFD;
				}
				if (dec)
					utf8_append(dec, r);
				continue;
			}
			default:
				return 0;
			}
			if (dec)
				buf_append(dec, rep, 1);
			i += 2;
			continue;
		}
		if (c < 0x80) {
			if (dec)
				buf_append(dec, s + i, 1);
			i++;
			continue;
		}
		size_t w;
		uint32_t r = utf8_decode(s + i, n - i, &w);
		if (dec)
			utf8_append(dec, r);
		i += w;
	}
	return 0;
}

static size_t scan_number(const char *s, size_t n, size_t i)
{
	if (i < n && s[i] == '-')
		i++;
	if (i >= n)
		return 0;
	if (s[i] == '0') {
		i++;
	} else if (s[i] >= '1' && s[i] <= '9') {
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	} else {
		return 0;
	}
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i;
}

/* Validates one JSON value at s[i] iteratively (containers tracked on a
 * small stack).  Returns the index after it or 0. */
static size_t scan_value(const char *s, size_t n, size_t i)
{
	struct buf stack = { 0 }; /* '[' or '{' per open container */
	size_t r = 0;
	bool need_value = true;

	for (;;) {
		i = skip_ws(s, n, i);
		if (i >= n)
			goto out;
		if (need_value) {
			char c = s[i];
			if (c == '[' || c == '{') {
				if (stack.len >= JSON_MAX_DEPTH)
					goto out;
				buf_append(&stack, &c, 1);
				i = skip_ws(s, n, i + 1);
				if (i < n && s[i] == (c == '[' ? ']' : '}')) {
					stack.len--;
					i++;
					need_value = false;
				} else if (c == '{') {
					if (i >= n || s[i] != '"' || !(i = scan_string(s, n, i, NULL)))
						goto out;
					i = skip_ws(s, n, i);
					if (i >= n || s[i] != ':')
						goto out;
					i++;
				}
				continue;
			}
			if (c == '"') {
				if (!(i = scan_string(s, n, i, NULL)))
					goto out;
			} else if (c == '-' || (c >= '0' && c <= '9')) {
				if (!(i = scan_number(s, n, i)))
					goto out;
			} else if (n - i >= 4 && memcmp(s + i, "true", 4) == 0) {
				i += 4;
			} else if (n - i >= 5 && memcmp(s + i, "false", 5) == 0) {
				i += 5;
			} else if (n - i >= 4 && memcmp(s + i, "null", 4) == 0) {
				i += 4;
			} else {
				goto out;
			}
			need_value = false;
			continue;
		}
		/* after a value */
		if (stack.len == 0) {
			r = i;
			goto out;
		}
		char top = stack.data[stack.len - 1];
		if (s[i] == ',') {
			i++;
			if (top == '{') {
				i = skip_ws(s, n, i);
				if (i >= n || s[i] != '"' || !(i = scan_string(s, n, i, NULL)))
					goto out;
				i = skip_ws(s, n, i);
				if (i >= n || s[i] != ':')
					goto out;
				i++;
			}
			need_value = true;
		} else if (s[i] == (top == '[' ? ']' : '}')) {
			stack.len--;
			i++;
		} else {
			goto out;
		}
	}
out:
	if (stack.len == 0 && !need_value && r == 0)
		r = i;
	buf_release(&stack);
	return r;
}

/* Returns 1 and fills *out (heap strv) for a JSON array of strings, 0 when
 * the text is not valid JSON / not an array, -EINVAL when it is a JSON array
 * holding a non-string. */
int cf_parse_json_array(const char *rest, size_t n, char ***out, size_t **lens,
			size_t *count)
{
	struct buf lb = { 0 };
	rest = trim_left_uspace(rest, &n);
	if (n == 0 || rest[0] != '[')
		return 0;
	size_t end = scan_value(rest, n, 0);
	if (!end || skip_ws(rest, n, end) != n)
		return 0;
	/* Valid JSON: walk the top-level array. */
	struct ptrvec v = { 0 };
	size_t i = skip_ws(rest, n, 1);
	if (rest[i] == ']') {
		*out = xcalloc(1, sizeof(char *));
		*lens = NULL;
		*count = 0;
		return 1;
	}
	for (;;) {
		i = skip_ws(rest, n, i);
		if (rest[i] != '"') {
			for (size_t k = 0; k < v.n; k++)
				free(v.v[k]);
			ptrvec_release(&v);
			buf_release(&lb);
			return -EINVAL;
		}
		struct buf d = { 0 };
		i = scan_string(rest, n, i, &d);
		buf_append(&lb, &d.len, sizeof(size_t));
		ptrvec_push(&v, buf_steal(&d));
		i = skip_ws(rest, n, i);
		if (rest[i] == ']')
			break;
		i++; /* ',' */
	}
	*count = v.n;
	*lens = (size_t *)(void *)buf_steal(&lb);
	ptrvec_push(&v, NULL);
	*out = (char **)v.v;
	return 1;
}
