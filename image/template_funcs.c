/* The template functions: Go's builtins (and or not len index print printf
 * println eq ne lt le gt ge) and the docker CLI's (json split join lower
 * upper title truncate pad), with the header variants docker uses so a
 * table header keeps its column names.
 *
 * A function returns 0, -1 with *err ("error calling NAME: …") or -2 with
 * *err (a message of its own, as Go's argument type checks). */
#include <stdlib.h>
#include <string.h>

#include "image/template_int.h"

static int want_string(struct texec *x, json_t *v, const char **s, size_t *n, char **err)
{
	if (json_is_string(v)) {
		*s = json_string_value(v);
		*n = json_string_length(v);
		return 0;
	}
	if (!v || json_is_null(v))
		*err = xstrdup("invalid value; expected string");
	else
		*err = xasprintf("wrong type for value; expected string; got %s", tval_type(x, v));
	return -2;
}

static int want_int(struct texec *x, json_t *v, long long *out, char **err)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	*err = xasprintf("wrong type for value; expected int; got %s", tval_type(x, v));
	return -2;
}

static int f_not(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	(void)n, (void)err;
	*out = json_boolean(!tval_truth(x, a[0]));
	return 0;
}

static int f_andor(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	/* Evaluated lazily in the executor; never called. */
	(void)x, (void)a, (void)n, (void)out;
	*err = xstrdup("internal error");
	return -1;
}

static int f_len(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	(void)n;
	json_t *v = a[0];
	if (json_is_string(v))
		*out = json_integer((json_int_t)json_string_length(v));
	else if (json_is_array(v))
		*out = json_integer((json_int_t)json_array_size(v));
	else if (json_is_object(v))
		*out = json_integer((json_int_t)json_object_size(v));
	else {
		*err = xasprintf("len of type %s", tval_type(x, v));
		return -1;
	}
	return 0;
}

static int f_index(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	json_t *cur = a[0];
	for (size_t i = 1; i < n; i++) {
		json_t *k = a[i];
		if (json_is_array(cur) || json_is_string(cur)) {
			size_t size = json_is_array(cur) ? json_array_size(cur) : json_string_length(cur);
			if (!json_is_integer(k)) {
				*err = xasprintf("cannot index slice/array with type %s", tval_type(x, k));
				return -1;
			}
			long long idx = json_integer_value(k);
			if (idx < 0 || (unsigned long long)idx >= size) {
				*err = xasprintf("index out of range: %lld", idx);
				return -1;
			}
			if (json_is_string(cur)) { /* a byte, as Go's index of a string */
				*out = json_integer((unsigned char)json_string_value(cur)[idx]);
				if (i + 1 < n) {
					json_decref(*out);
					*out = NULL;
					*err = xstrdup("can't index item of type int");
					return -1;
				}
				return 0;
			}
			cur = json_array_get(cur, (size_t)idx);
		} else if (json_is_object(cur) || !cur || json_is_null(cur)) {
			if (!json_is_string(k)) {
				if (!cur || json_is_null(cur)) {
					*err = xstrdup("index of untyped nil");
					return -1;
				}
				*err = xasprintf("value has type %s; should be string", tval_type(x, k));
				return -1;
			}
			json_t *v = cur ? json_object_get(cur, json_string_value(k)) : NULL;
			if (!v) {
				/* A missing key: the zero value of docker's string maps. */
				*out = json_string("");
				return 0;
			}
			cur = v;
		} else {
			*err = xasprintf("can't index item of type %s", tval_type(x, cur));
			return -1;
		}
	}
	*out = json_incref(cur);
	return 0;
}

static bool is_string_v(const json_t *v)
{
	return json_is_string(v);
}

static int f_print(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	(void)err;
	struct buf b = { 0 };
	for (size_t i = 0; i < n; i++) {
		/* Sprint: a space between operands when neither is a string. */
		if (i && !is_string_v(a[i - 1]) && !is_string_v(a[i]))
			buf_append(&b, " ", 1);
		tval_print(x, &b, a[i], false);
	}
	*out = tstr(b.data ? b.data : "", b.len);
	buf_release(&b);
	return 0;
}

static int f_println(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	(void)err;
	struct buf b = { 0 };
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_append(&b, " ", 1);
		tval_print(x, &b, a[i], false);
	}
	buf_append(&b, "\n", 1);
	*out = tstr(b.data, b.len);
	buf_release(&b);
	return 0;
}

static int f_printf(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	const char *f;
	size_t len;
	struct buf b = { 0 };
	int r = want_string(x, a[0], &f, &len, err);
	if (r < 0)
		return r;
	r = tfmt_printf(x, f, len, a + 1, n - 1, &b, err);
	if (r == 0)
		*out = tstr(b.data ? b.data : "", b.len);
	buf_release(&b);
	return r;
}

/* ---- comparisons -------------------------------------------------------- */

enum kind { K_BAD, K_NIL, K_BOOL, K_NUM, K_STR };

static enum kind kind_of(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_NULL: return K_NIL;
	case JSON_TRUE:
	case JSON_FALSE: return K_BOOL;
	case JSON_INTEGER:
	case JSON_REAL: return K_NUM;
	case JSON_STRING: return K_STR;
	default: return K_BAD;
	}
}

/* Compares two basic values: sets *c to -1/0/1; numbers compare by value
 * (JSON does not say int or float). */
static int compare(struct texec *x, json_t *a, json_t *b, bool ordered, int *c, char **err)
{
	enum kind ka = kind_of(a), kb = kind_of(b);
	(void)x;
	if (ka == K_BAD || kb == K_BAD) {
		*err = xstrdup(ordered ? "invalid type for comparison" : "non-comparable type");
		return -1;
	}
	if (ordered && (ka == K_BOOL || ka == K_NIL || kb == K_BOOL || kb == K_NIL)) {
		*err = xstrdup("invalid type for comparison");
		return -1;
	}
	if (ka != kb) {
		if (!ordered && (ka == K_NIL || kb == K_NIL)) {
			*c = 1;
			return 0;
		}
		*err = xstrdup("incompatible types for comparison");
		return -1;
	}
	switch (ka) {
	case K_NIL: *c = 0; break;
	case K_BOOL: *c = json_is_true(a) != json_is_true(b); break;
	case K_NUM:
		if (json_is_integer(a) && json_is_integer(b)) {
			json_int_t p = json_integer_value(a), q = json_integer_value(b);
			*c = p < q ? -1 : p > q;
		} else {
			double p = json_number_value(a), q = json_number_value(b);
			*c = p < q ? -1 : p > q;
		}
		break;
	case K_STR: {
		size_t la = json_string_length(a), lb = json_string_length(b);
		int m = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
		*c = m ? (m < 0 ? -1 : 1) : la < lb ? -1 : la > lb;
		break;
	}
	case K_BAD: break;
	}
	return 0;
}

static int f_eq(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	if (n < 2) {
		*err = xstrdup("missing argument for comparison");
		return -1;
	}
	for (size_t i = 1; i < n; i++) {
		int c, r = compare(x, a[0], a[i], false, &c, err);
		if (r < 0)
			return r;
		if (c == 0) {
			*out = json_true();
			return 0;
		}
	}
	*out = json_false();
	return 0;
}

static int f_ne(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	int c, r = compare(x, a[0], a[1], false, &c, err);
	(void)n;
	if (r == 0)
		*out = json_boolean(c != 0);
	return r;
}

#define ORDERED(name, test)                                                               \
	static int name(struct texec *x, json_t **a, size_t n, json_t **out, char **err)  \
	{                                                                                 \
		int c, r = compare(x, a[0], a[1], true, &c, err);                         \
		(void)n;                                                                  \
		if (r == 0)                                                               \
			*out = json_boolean(test);                                        \
		return r;                                                                 \
	}
ORDERED(f_lt, c < 0)
ORDERED(f_le, c <= 0)
ORDERED(f_gt, c > 0)
ORDERED(f_ge, c >= 0)

/* ---- docker's functions ------------------------------------------------- */

static int f_json(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	(void)n, (void)err;
	struct buf b = { 0 };
	tval_json(x, &b, a[0], 0);
	*out = tstr(b.data, b.len);
	buf_release(&b);
	return 0;
}

static int f_split(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	const char *s, *sep;
	size_t sl, pl;
	int r;
	(void)n;
	if ((r = want_string(x, a[0], &s, &sl, err)) < 0 || (r = want_string(x, a[1], &sep, &pl, err)) < 0)
		return r;
	json_t *arr = json_array();
	if (pl == 0) { /* strings.Split with "" splits into UTF-8 sequences */
		for (size_t i = 0; i < sl;) {
			size_t k = i + 1;
			while (k < sl && ((unsigned char)s[k] & 0xc0) == 0x80 && k - i < 4)
				k++;
			json_array_append_new(arr, tstr(s + i, k - i));
			i = k;
		}
	} else {
		size_t start = 0;
		for (size_t i = 0; i + pl <= sl;) {
			if (memcmp(s + i, sep, pl) == 0) {
				json_array_append_new(arr, tstr(s + start, i - start));
				i += pl;
				start = i;
			} else {
				i++;
			}
		}
		json_array_append_new(arr, tstr(s + start, sl - start));
	}
	*out = arr;
	return 0;
}

static int f_join(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	const char *sep;
	size_t pl, i;
	json_t *it;
	int r;
	(void)n;
	if (!json_is_array(a[0])) {
		*err = xasprintf("wrong type for value; expected []string; got %s", tval_type(x, a[0]));
		return -2;
	}
	if ((r = want_string(x, a[1], &sep, &pl, err)) < 0)
		return r;
	struct buf b = { 0 };
	json_array_foreach(a[0], i, it) {
		if (i)
			buf_append(&b, sep, pl);
		tval_print(x, &b, it, false);
		if (b.len > GOTMPL_MAX_OUTPUT)
			break;
	}
	*out = tstr(b.data ? b.data : "", b.len);
	buf_release(&b);
	return 0;
}

static int map_string(struct texec *x, json_t **a, json_t **out, char **err, int mode)
{
	const char *s;
	size_t n;
	int r = want_string(x, a[0], &s, &n, err);
	if (r < 0)
		return r;
	/* s may hold NULs ("\000"): copied by length, not as a C string */
	char *t = xmalloc(n + 1);
	bool word_start = true;

	memcpy(t, s, n);
	t[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		if (mode == 'l' && c >= 'A' && c <= 'Z')
			t[i] = (char)(c + 32);
		else if (mode == 'u' && c >= 'a' && c <= 'z')
			t[i] = (char)(c - 32);
		else if (mode == 't' && word_start && c >= 'a' && c <= 'z')
			t[i] = (char)(c - 32);
		/* strings.Title: a word starts after anything but a letter,
		 * digit, underscore, apostrophe or a non-ASCII byte */
		word_start = !(letter || (c >= '0' && c <= '9') || c == '_' || c == '\'' ||
			       (unsigned char)c >= 0x80);
	}
	*out = tstr(t, n);
	free(t);
	return 0;
}

static int f_lower(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	(void)n;
	return map_string(x, a, out, err, 'l');
}

static int f_upper(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	(void)n;
	return map_string(x, a, out, err, 'u');
}

static int f_title(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	(void)n;
	return map_string(x, a, out, err, 't');
}

static int f_truncate(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	const char *s;
	size_t sl;
	long long len;
	int r;
	(void)n;
	if ((r = want_string(x, a[0], &s, &sl, err)) < 0 || (r = want_int(x, a[1], &len, err)) < 0)
		return r;
	if (len < 0) {
		*err = xasprintf("slice bounds out of range [:%lld]", len);
		return -1;
	}
	*out = tstr(s, (unsigned long long)len < sl ? (size_t)len : sl);
	return 0;
}

static int f_pad(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	const char *s;
	size_t sl;
	long long pre, post;
	int r;
	(void)n;
	if ((r = want_string(x, a[0], &s, &sl, err)) < 0 || (r = want_int(x, a[1], &pre, err)) < 0 ||
	    (r = want_int(x, a[2], &post, err)) < 0)
		return r;
	if (pre < 0 || post < 0 || pre > TMPL_MAX_WIDTH || post > TMPL_MAX_WIDTH) {
		*err = xstrdup("padding out of range");
		return -1;
	}
	if (sl == 0) {
		*out = json_string("");
		return 0;
	}
	struct buf b = { 0 };
	for (long long i = 0; i < pre; i++)
		buf_append(&b, " ", 1);
	buf_append(&b, s, sl);
	for (long long i = 0; i < post; i++)
		buf_append(&b, " ", 1);
	*out = tstr(b.data, b.len);
	buf_release(&b);
	return 0;
}

/* Header variant: the column name passes through unchanged. */
static int f_header_same(struct texec *x, json_t **a, size_t n, json_t **out, char **err)
{
	(void)n, (void)err;
	if (json_is_string(a[0])) {
		*out = json_incref(a[0]);
		return 0;
	}
	struct buf b = { 0 };
	tval_print(x, &b, a[0], false);
	*out = tstr(b.data ? b.data : "", b.len);
	buf_release(&b);
	return 0;
}

static const struct tfunc funcs[] = {
	{ "and", 1, -1, f_andor, NULL },
	{ "eq", 1, -1, f_eq, NULL },
	{ "ge", 2, 2, f_ge, NULL },
	{ "gt", 2, 2, f_gt, NULL },
	{ "index", 1, -1, f_index, NULL },
	{ "join", 2, 2, f_join, f_header_same },
	{ "json", 1, 1, f_json, f_header_same },
	{ "le", 2, 2, f_le, NULL },
	{ "len", 1, 1, f_len, NULL },
	{ "lower", 1, 1, f_lower, f_header_same },
	{ "lt", 2, 2, f_lt, NULL },
	{ "ne", 2, 2, f_ne, NULL },
	{ "not", 1, 1, f_not, NULL },
	{ "or", 1, -1, f_andor, NULL },
	{ "pad", 3, 3, f_pad, NULL },
	{ "print", 0, -1, f_print, NULL },
	{ "printf", 1, -1, f_printf, NULL },
	{ "println", 0, -1, f_println, NULL },
	{ "split", 2, 2, f_split, f_header_same },
	{ "title", 1, 1, f_title, f_header_same },
	{ "truncate", 2, 2, f_truncate, f_header_same },
	{ "upper", 1, 1, f_upper, f_header_same },
};

const struct tfunc *tfunc_lookup(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(funcs); i++)
		if (strcmp(funcs[i].name, name) == 0)
			return &funcs[i];
	return NULL;
}
