/* Template values (jansson values, NULL for Go's invalid "no value"): Go's
 * truth, default printing (fmt %v), type names and encoding/json output. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/template_int.h"

json_t *tstr(const char *s, size_t n)
{
	/* Template text need not be valid UTF-8; jansson's check is skipped and
	 * the JSON encoder below repairs what it meets. */
	return json_stringn_nocheck(s, n);
}

static bool exported_ident(const char *k)
{
	if (!(*k >= 'A' && *k <= 'Z'))
		return false;
	for (; *k; k++)
		if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
		      (*k >= '0' && *k <= '9') || *k == '_'))
			return false;
	return true;
}

bool tval_is_map(struct texec *x, const json_t *v)
{
	const char *k;
	json_t *it;

	if (!json_is_object(v))
		return false;
	if (json_object_size(v) == 0)
		return true;
	for (size_t i = 0; x && i < x->nmaps; i++)
		if (x->maps[i] == v)
			return true;
	json_object_foreach((json_t *)v, k, it)
		if (!exported_ident(k))
			return true;
	return false;
}

bool tval_truth(struct texec *x, const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING: return json_string_length(v) > 0;
	case JSON_INTEGER: return json_integer_value(v) != 0;
	case JSON_REAL: return json_real_value(v) != 0;
	case JSON_TRUE: return true;
	case JSON_FALSE: return false;
	case JSON_NULL: return false;
	case JSON_ARRAY: return json_array_size(v) > 0;
	case JSON_OBJECT: return !tval_is_map(x, v) || json_object_size(v) > 0;
	}
	return false;
}

const char *tval_type(struct texec *x, const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "int";
	case JSON_REAL: return "float64";
	case JSON_TRUE:
	case JSON_FALSE: return "bool";
	case JSON_NULL: return "<nil>";
	case JSON_ARRAY: return "[]interface {}";
	case JSON_OBJECT: return tval_is_map(x, v) ? "map[string]interface {}" : "struct";
	}
	return "<nil>";
}

/* ---- floats ------------------------------------------------------------- */

/* The shortest decimal digits that read back as d (d finite, > 0):
 * digits without a point, and the exponent of the first digit. */
static void shortest(double d, char digs[32], int *exp10)
{
	char tmp[64];
	for (int prec = 0; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* tmp is "D.DDDDe±XX" */
	size_t n = 0;
	const char *p = tmp;
	for (; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9' && n < 31)
			digs[n++] = *p;
	while (n > 1 && digs[n - 1] == '0')
		n--;
	digs[n] = '\0';
	*exp10 = *p == 'e' ? atoi(p + 1) : 0;
}

/* strconv.FormatFloat(d, mode, -1, 64) for mode 'e', 'f' or 'g'. */
static void format_float(struct buf *b, double d, char mode)
{
	char digs[32];
	int exp10;

	if (isnan(d)) {
		buf_printf(b, "NaN");
		return;
	}
	if (isinf(d)) {
		buf_printf(b, d > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (signbit(d))
		buf_append(b, "-", 1);
	d = fabs(d);
	if (d == 0) {
		buf_printf(b, mode == 'e' ? "0e+00" : "0");
		return;
	}
	shortest(d, digs, &exp10);
	size_t nd = strlen(digs);
	if (mode == 'g')
		mode = exp10 < -4 || exp10 >= 6 ? 'e' : 'f';
	if (mode == 'e') {
		buf_append(b, digs, 1);
		if (nd > 1) {
			buf_append(b, ".", 1);
			buf_append(b, digs + 1, nd - 1);
		}
		buf_printf(b, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
		return;
	}
	if (exp10 < 0) {
		buf_append(b, "0.", 2);
		for (int i = 0; i < -exp10 - 1; i++)
			buf_append(b, "0", 1);
		buf_append(b, digs, nd);
		return;
	}
	for (int i = 0; i <= exp10; i++)
		buf_append(b, (size_t)i < nd ? &digs[i] : "0", 1);
	if ((size_t)exp10 + 1 < nd) {
		buf_append(b, ".", 1);
		buf_append(b, digs + exp10 + 1, nd - (size_t)exp10 - 1);
	}
}

void tfmt_float_v(struct buf *b, double d)
{
	/* Go's %v: shortest 'g', exponent form from 1e+06 and below 1e-04. */
	format_float(b, d, 'g');
}

/* ---- printing ----------------------------------------------------------- */

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keys of an object, sorted (Go prints and encodes maps so). */
static const char **sorted_keys(const json_t *o, size_t *n)
{
	const char *k;
	json_t *it;
	size_t i = 0;
	*n = json_object_size(o);
	const char **keys = xcalloc(*n ? *n : 1, sizeof(char *));
	json_object_foreach((json_t *)o, k, it) keys[i++] = k;
	qsort(keys, *n, sizeof(char *), cmp_keys);
	return keys;
}

static void print_rec(struct texec *x, struct buf *b, const json_t *v, int depth)
{
	size_t i, n;
	json_t *it;

	if (depth > 1000) {
		buf_printf(b, "...");
		return;
	}
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING: buf_append(b, json_string_value(v), json_string_length(v)); break;
	case JSON_INTEGER: buf_printf(b, "%lld", (long long)json_integer_value(v)); break;
	case JSON_REAL: tfmt_float_v(b, json_real_value(v)); break;
	case JSON_TRUE: buf_printf(b, "true"); break;
	case JSON_FALSE: buf_printf(b, "false"); break;
	case JSON_NULL: buf_printf(b, "<nil>"); break;
	case JSON_ARRAY:
		buf_append(b, "[", 1);
		json_array_foreach(v, i, it) {
			if (i)
				buf_append(b, " ", 1);
			print_rec(x, b, it, depth + 1);
		}
		buf_append(b, "]", 1);
		break;
	case JSON_OBJECT: {
		const char **keys = sorted_keys(v, &n);
		buf_printf(b, "map[");
		for (i = 0; i < n; i++) {
			buf_printf(b, "%s%s:", i ? " " : "", keys[i]);
			print_rec(x, b, json_object_get(v, keys[i]), depth + 1);
		}
		buf_append(b, "]", 1);
		free(keys);
		break;
	}
	}
}

void tval_print(struct texec *x, struct buf *b, const json_t *v, bool top)
{
	if (top && (!v || json_is_null(v))) {
		buf_printf(b, "<no value>");
		return;
	}
	print_rec(x, b, v, 0);
}

/* ---- encoding/json ------------------------------------------------------ */

static void json_string_out(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	buf_append(b, "\"", 1);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			/* Validate the sequence; bad bytes become U+FFFD as in Go. */
			size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
			bool ok = len && c < 0xf5 && i + len <= n;
			for (size_t k = 1; ok && k < len; k++)
				ok = ((unsigned char)s[i + k] & 0xc0) == 0x80;
			if (ok && len == 3) {
				unsigned c1 = (unsigned char)s[i + 1];
				ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
				if (ok && c == 0xe2 && c1 == 0x80 &&
				    ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
					buf_printf(b, "\\u202%c", s[i + 2] == (char)0xa8 ? '8' : '9');
					i += 3;
					continue;
				}
			}
			if (ok && len == 4) {
				unsigned c1 = (unsigned char)s[i + 1];
				ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
			}
			if (!ok) {
				buf_printf(b, "\\ufffd");
				i++;
				continue;
			}
			buf_append(b, s + i, len);
			i += len;
			continue;
		}
		switch (c) {
		case '"': buf_append(b, "\\\"", 2); break;
		case '\\': buf_append(b, "\\\\", 2); break;
		case '\n': buf_append(b, "\\n", 2); break;
		case '\r': buf_append(b, "\\r", 2); break;
		case '\t': buf_append(b, "\\t", 2); break;
		case '\b': buf_append(b, "\\b", 2); break;
		case '\f': buf_append(b, "\\f", 2); break;
		default:
			if (c < 0x20 || c == '<' || c == '>' || c == '&') {
				char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
				buf_append(b, u, 6);
			} else {
				buf_append(b, s + i, 1);
			}
		}
		i++;
	}
	buf_append(b, "\"", 1);
}

void tval_json(struct texec *x, struct buf *b, const json_t *v, int depth)
{
	size_t i, n;
	json_t *it;
	const char *k;

	if (depth > 1000) {
		buf_printf(b, "null");
		return;
	}
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING: json_string_out(b, json_string_value(v), json_string_length(v)); break;
	case JSON_INTEGER: buf_printf(b, "%lld", (long long)json_integer_value(v)); break;
	case JSON_REAL: {
		double d = json_real_value(v), a = fabs(d);
		struct buf t = { 0 };
		format_float(&t, d, a != 0 && (a < 1e-6 || a >= 1e21) ? 'e' : 'f');
		/* encoding/json writes e-7, not e-07 */
		if (t.len >= 4 && t.data[t.len - 4] == 'e' && t.data[t.len - 3] == '-' &&
		    t.data[t.len - 2] == '0') {
			t.data[t.len - 2] = t.data[t.len - 1];
			t.len--;
		}
		buf_append(b, t.data, t.len);
		buf_release(&t);
		break;
	}
	case JSON_TRUE: buf_printf(b, "true"); break;
	case JSON_FALSE: buf_printf(b, "false"); break;
	case JSON_NULL: buf_printf(b, "null"); break;
	case JSON_ARRAY:
		buf_append(b, "[", 1);
		json_array_foreach(v, i, it) {
			if (i)
				buf_append(b, ",", 1);
			tval_json(x, b, it, depth + 1);
		}
		buf_append(b, "]", 1);
		break;
	case JSON_OBJECT:
		buf_append(b, "{", 1);
		if (tval_is_map(x, v)) {
			const char **keys = sorted_keys(v, &n);
			for (i = 0; i < n; i++) {
				if (i)
					buf_append(b, ",", 1);
				json_string_out(b, keys[i], strlen(keys[i]));
				buf_append(b, ":", 1);
				tval_json(x, b, json_object_get(v, keys[i]), depth + 1);
			}
			free(keys);
		} else {
			/* A struct: fields in their stored order. */
			i = 0;
			json_object_foreach((json_t *)v, k, it) {
				if (i++)
					buf_append(b, ",", 1);
				json_string_out(b, k, strlen(k));
				buf_append(b, ":", 1);
				tval_json(x, b, it, depth + 1);
			}
		}
		buf_append(b, "}", 1);
		break;
	}
}
