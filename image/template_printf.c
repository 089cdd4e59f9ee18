/* Go's fmt.Sprintf over template values: the verbs %v %s %d %q %x %X %o %b
 * %c %U %t %e %E %f %F %g %G with flags, width and precision, and Go's
 * %!verb(type=value) / MISSING / EXTRA / NOVERB notes. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/template_int.h"

struct spec {
	bool minus, plus, sharp, space, zero;
	int width, prec; /* -1: none */
};

static size_t runes(const char *s, size_t n)
{
	size_t r = 0;
	for (size_t i = 0; i < n; i++)
		r += ((unsigned char)s[i] & 0xc0) != 0x80;
	return r;
}

/* Pads s to the width (counted in runes); zeros go after a sign. */
static void pad(struct buf *b, const char *s, size_t n, const struct spec *sp, bool number)
{
	size_t w = runes(s, n);
	size_t fill = sp->width > 0 && (size_t)sp->width > w ? (size_t)sp->width - w : 0;
	if (sp->minus) {
		buf_append(b, s, n);
		for (size_t i = 0; i < fill; i++)
			buf_append(b, " ", 1);
		return;
	}
	if (sp->zero) {
		if (number && n && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) {
			buf_append(b, s, 1);
			s++, n--;
		}
		for (size_t i = 0; i < fill; i++)
			buf_append(b, "0", 1);
	} else {
		for (size_t i = 0; i < fill; i++)
			buf_append(b, " ", 1);
	}
	buf_append(b, s, n);
}

/* strconv.Quote (printable non-ASCII kept as is). */
static void quote(struct buf *b, const char *s, size_t n, char q)
{
	buf_append(b, &q, 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		switch (c) {
		case '\a': esc = "\\a"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\v': esc = "\\v"; break;
		case '\\': esc = "\\\\"; break;
		default: break;
		}
		if (esc)
			buf_printf(b, "%s", esc);
		else if (c == (unsigned char)q)
			buf_printf(b, "\\%c", q);
		else if (c < 0x20 || c == 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_append(b, s + i, 1);
	}
	buf_append(b, &q, 1);
}

static void bad_verb(struct texec *x, struct buf *b, uint32_t verb, const json_t *v)
{
	buf_printf(b, "%%!");
	buf_append_utf8(b, verb);
	buf_append(b, "(", 1);
	if (!v || json_is_null(v)) {
		buf_printf(b, "<nil>");
	} else {
		buf_printf(b, "%s=", tval_type(x, v));
		tval_print(x, b, v, false);
	}
	buf_append(b, ")", 1);
}

static void fmt_int(struct buf *b, long long v, uint32_t verb, const struct spec *sp)
{
	char tmp[160], cfmt[32];
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	const char *sign = v < 0 ? "-" : sp->plus ? "+" : sp->space ? " " : "";
	struct buf digits = { 0 };

	switch (verb) {
	case 'c': {
		struct buf r = { 0 };
		buf_append_utf8(&r, (uint32_t)(v < 0 || v > 0x10ffff ? 0xfffd : v));
		pad(b, r.data, r.len, sp, false);
		buf_release(&r);
		return;
	}
	case 'q': {
		struct buf r = { 0 }, q = { 0 };
		buf_append_utf8(&r, (uint32_t)(v < 0 || v > 0x10ffff ? 0xfffd : v));
		quote(&q, r.data, r.len, '\'');
		pad(b, q.data, q.len, sp, false);
		buf_release(&r);
		buf_release(&q);
		return;
	}
	case 'U':
		snprintf(tmp, sizeof(tmp), "U+%04llX", u);
		pad(b, tmp, strlen(tmp), sp, false);
		return;
	case 'b':
		if (u == 0)
			buf_append(&digits, "0", 1);
		for (int i = 63; i >= 0; i--)
			if (u >> i) {
				for (; i >= 0; i--)
					buf_append(&digits, (u >> i) & 1 ? "1" : "0", 1);
				break;
			}
		break;
	default:
		snprintf(cfmt, sizeof(cfmt), "%%%s.%dll%c", sp->sharp ? "#" : "",
			 sp->prec >= 0 ? sp->prec : 1,
			 verb == 'x' ? 'x' : verb == 'X' ? 'X' : verb == 'o' || verb == 'O' ? 'o' : 'u');
		snprintf(tmp, sizeof(tmp), cfmt, u);
		if (verb == 'O')
			buf_printf(&digits, "0o");
		buf_printf(&digits, "%s", tmp);
		break;
	}
	if (sp->prec == 0 && v == 0 && verb != 'b') {
		digits.len = 0; /* Go: %.0d of 0 is empty */
	}
	_cleanup_free_ char *all = xasprintf("%s%.*s", sign, (int)digits.len, digits.data ? digits.data : "");
	struct spec s2 = *sp;
	if (sp->prec >= 0)
		s2.zero = false; /* a precision turns zero padding off, as in Go */
	pad(b, all, strlen(all), &s2, true);
	buf_release(&digits);
}

static void fmt_float(struct buf *b, double d, uint32_t verb, const struct spec *sp)
{
	char cfmt[48];
	struct buf s = { 0 };
	if ((verb == 'v' || verb == 'g' || verb == 'G') && sp->prec < 0) {
		if (d >= 0 && sp->plus)
			buf_append(&s, "+", 1);
		else if (d >= 0 && sp->space)
			buf_append(&s, " ", 1);
		tfmt_float_v(&s, d);
		if (verb == 'G')
			for (size_t i = 0; i < s.len; i++)
				s.data[i] = (char)toupper((unsigned char)s.data[i]);
	} else {
		char v = verb == 'v' ? 'g' : verb == 'F' ? 'f' : (char)verb;
		snprintf(cfmt, sizeof(cfmt), "%%%s%s%s.%d%c", sp->plus ? "+" : "", sp->space ? " " : "",
			 sp->sharp ? "#" : "", sp->prec >= 0 ? sp->prec : 6, v);
		int n = snprintf(NULL, 0, cfmt, d);
		char *tmp = xmalloc((size_t)n + 1);
		snprintf(tmp, (size_t)n + 1, cfmt, d);
		buf_append(&s, tmp, (size_t)n);
		free(tmp);
	}
	pad(b, s.data, s.len, sp, true);
	buf_release(&s);
}

static void fmt_string(struct buf *b, const char *s, size_t n, uint32_t verb, const struct spec *sp)
{
	struct buf t = { 0 };
	if (sp->prec >= 0) { /* precision: at most prec runes (bytes for %x) */
		size_t r = 0, i = 0;
		for (; i < n; i++) {
			if (verb != 'x' && verb != 'X' && ((unsigned char)s[i] & 0xc0) == 0x80)
				continue;
			if (r++ == (size_t)sp->prec)
				break;
		}
		n = i;
	}
	switch (verb) {
	case 'q':
		if (sp->sharp && !memchr(s, '`', n)) {
			bool ok = true;
			for (size_t i = 0; i < n; i++)
				ok &= (unsigned char)s[i] >= 0x20 || s[i] == '\t';
			if (ok) {
				buf_append(&t, "`", 1);
				buf_append(&t, s, n);
				buf_append(&t, "`", 1);
				break;
			}
		}
		quote(&t, s, n, '"');
		break;
	case 'x':
	case 'X':
		if (sp->sharp && n)
			buf_printf(&t, verb == 'x' ? "0x" : "0X");
		for (size_t i = 0; i < n; i++) {
			if (i && sp->space)
				buf_printf(&t, sp->sharp ? (verb == 'x' ? " 0x" : " 0X") : " ");
			buf_printf(&t, verb == 'x' ? "%02x" : "%02X", (unsigned char)s[i]);
		}
		break;
	default:
		buf_append(&t, s, n);
	}
	pad(b, t.data ? t.data : "", t.len, sp, false);
	buf_release(&t);
}

static void fmt_value(struct texec *x, struct buf *b, const json_t *v, uint32_t verb,
		      const struct spec *sp, int depth)
{
	size_t i;
	json_t *it;

	if (depth > 100) {
		buf_printf(b, "...");
		return;
	}
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_NULL:
		if (verb == 'v')
			pad(b, "<nil>", 5, sp, false);
		else
			bad_verb(x, b, verb, NULL);
		return;
	case JSON_TRUE:
	case JSON_FALSE:
		if (verb == 'v' || verb == 't')
			pad(b, json_is_true(v) ? "true" : "false", json_is_true(v) ? 4 : 5, sp, false);
		else
			bad_verb(x, b, verb, v);
		return;
	case JSON_INTEGER:
		if (strchr("vdbcoOqxXU", (int)verb) && verb)
			fmt_int(b, json_integer_value(v), verb == 'v' ? 'd' : verb, sp);
		else
			bad_verb(x, b, verb, v);
		return;
	case JSON_REAL:
		if (strchr("veEfFgG", (int)verb) && verb)
			fmt_float(b, json_real_value(v), verb, sp);
		else
			bad_verb(x, b, verb, v);
		return;
	case JSON_STRING:
		if (strchr("vsqxX", (int)verb) && verb)
			fmt_string(b, json_string_value(v), json_string_length(v), verb, sp);
		else
			bad_verb(x, b, verb, v);
		return;
	case JSON_ARRAY:
		/* Go formats each element with the verb. */
		buf_append(b, "[", 1);
		json_array_foreach(v, i, it) {
			if (i)
				buf_append(b, " ", 1);
			fmt_value(x, b, it, verb, sp, depth + 1);
		}
		buf_append(b, "]", 1);
		return;
	case JSON_OBJECT: {
		size_t n = json_object_size(v), k = 0;
		const char **keys = xcalloc(n ? n : 1, sizeof(char *));
		const char *key;
		json_object_foreach((json_t *)v, key, it) keys[k++] = key;
		qsort(keys, n, sizeof(char *), (int (*)(const void *, const void *))strcmp);
		buf_printf(b, "map[");
		for (k = 0; k < n; k++) {
			if (k)
				buf_append(b, " ", 1);
			fmt_string(b, keys[k], strlen(keys[k]), verb == 's' || verb == 'v' || verb == 'q' || verb == 'x' || verb == 'X' ? verb : 'v', sp);
			buf_append(b, ":", 1);
			fmt_value(x, b, json_object_get(v, keys[k]), verb, sp, depth + 1);
		}
		buf_append(b, "]", 1);
		free(keys);
		return;
	}
	}
}

static size_t decode_rune(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 1;
	if (len == 1 || len > n) {
		*cp = s[0] < 0x80 ? s[0] : 0xfffd;
		return 1;
	}
	uint32_t c = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	*cp = c;
	return len;
}

/* A width or precision: digits, or '*' taking an int argument. */
static int read_num(const char *f, size_t len, size_t *i, json_t **args, size_t n, size_t *argi,
		    int *out, bool *neg, char **err)
{
	*out = -1;
	if (*i < len && f[*i] == '*') {
		(*i)++;
		if (*argi < n && json_is_integer(args[*argi])) {
			long long v = json_integer_value(args[(*argi)++]);
			if (v > TMPL_MAX_WIDTH || v < -TMPL_MAX_WIDTH)
				goto big;
			*out = (int)(v < 0 ? -v : v);
			*neg = v < 0;
		} else {
			*out = -2; /* BADWIDTH / BADPREC */
			if (*argi < n)
				(*argi)++;
		}
		return 0;
	}
	if (*i < len && isdigit((unsigned char)f[*i])) {
		long v = 0;
		while (*i < len && isdigit((unsigned char)f[*i])) {
			v = v * 10 + (f[*i] - '0');
			if (v > TMPL_MAX_WIDTH)
				goto big;
			(*i)++;
		}
		*out = (int)v;
	}
	return 0;
big:
	*err = xasprintf("width or precision larger than %d", TMPL_MAX_WIDTH);
	return -1;
}

int tfmt_printf(struct texec *x, const char *f, size_t len, json_t **args, size_t n,
		struct buf *out, char **err)
{
	size_t argi = 0;
	for (size_t i = 0; i < len;) {
		if (f[i] != '%') {
			const char *pct = memchr(f + i, '%', len - i);
			size_t m = pct ? (size_t)(pct - (f + i)) : len - i;
			buf_append(out, f + i, m);
			i += m;
			continue;
		}
		i++;
		struct spec sp = { .width = -1, .prec = -1 };
		for (; i < len; i++) {
			if (f[i] == '-')
				sp.minus = true;
			else if (f[i] == '+')
				sp.plus = true;
			else if (f[i] == '#')
				sp.sharp = true;
			else if (f[i] == ' ')
				sp.space = true;
			else if (f[i] == '0')
				sp.zero = true;
			else
				break;
		}
		bool neg = false;
		if (read_num(f, len, &i, args, n, &argi, &sp.width, &neg, err) < 0)
			return -1;
		if (sp.width == -2) {
			buf_printf(out, "%%!(BADWIDTH)");
			sp.width = -1;
		}
		if (neg)
			sp.minus = true;
		if (i < len && f[i] == '.') {
			i++;
			if (read_num(f, len, &i, args, n, &argi, &sp.prec, &neg, err) < 0)
				return -1;
			if (neg) /* a negative precision means none */
				sp.prec = -1;
			else if (sp.prec == -2) {
				buf_printf(out, "%%!(BADPREC)");
				sp.prec = -1;
			} else if (sp.prec == -1) {
				sp.prec = 0;
			}
		}
		if (i >= len) {
			buf_printf(out, "%%!(NOVERB)");
			break;
		}
		uint32_t verb;
		i += decode_rune((const unsigned char *)f + i, len - i, &verb);
		if (verb == '%') {
			buf_append(out, "%", 1);
			continue;
		}
		if (argi >= n) {
			buf_printf(out, "%%!");
			buf_append_utf8(out, verb);
			buf_printf(out, "(MISSING)");
			continue;
		}
		fmt_value(x, out, args[argi++], verb, &sp, 0);
		if (out->len > GOTMPL_MAX_OUTPUT) {
			*err = xasprintf("result larger than %u bytes", GOTMPL_MAX_OUTPUT);
			return -1;
		}
	}
	if (argi < n) {
		buf_printf(out, "%%!(EXTRA ");
		for (size_t k = argi; k < n; k++) {
			if (k > argi)
				buf_printf(out, ", ");
			if (!args[k] || json_is_null(args[k])) {
				buf_printf(out, "<nil>");
				continue;
			}
			buf_printf(out, "%s=", tval_type(x, args[k]));
			tval_print(x, out, args[k], false);
		}
		buf_append(out, ")", 1);
	}
	return 0;
}
