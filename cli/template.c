/* A first subset of Go's text/template for --format: text, {{.A.B}},
 * {{json .A}}, {{.A | json}}, {{json .}}, and "table" headers.  (The full
 * subset shared by every command is the archives issue's work.) */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "cli/cli.h"

/* Go's default formatting of a value (fmt.Print). */
static void print_value(struct buf *out, json_t *v)
{
	size_t i;
	const char *k;
	json_t *it;

	switch (json_typeof(v)) {
	case JSON_STRING: buf_append(out, json_string_value(v), json_string_length(v)); break;
	case JSON_INTEGER: buf_printf(out, "%lld", (long long)json_integer_value(v)); break;
	case JSON_REAL: buf_printf(out, "%g", json_real_value(v)); break;
	case JSON_TRUE: buf_printf(out, "true"); break;
	case JSON_FALSE: buf_printf(out, "false"); break;
	case JSON_NULL: buf_printf(out, "<no value>"); break;
	case JSON_ARRAY:
		buf_printf(out, "[");
		json_array_foreach(v, i, it) {
			if (i)
				buf_printf(out, " ");
			print_value(out, it);
		}
		buf_printf(out, "]");
		break;
	case JSON_OBJECT: {
		/* Go prints maps with sorted keys. */
		size_t n = json_object_size(v), j = 0;
		const char **keys = xcalloc(n ? n : 1, sizeof(char *));
		json_object_foreach(v, k, it) keys[j++] = k;
		qsort(keys, n, sizeof(char *), (int (*)(const void *, const void *))strcmp);
		buf_printf(out, "map[");
		for (j = 0; j < n; j++) {
			buf_printf(out, "%s%s:", j ? " " : "", keys[j]);
			print_value(out, json_object_get(v, keys[j]));
		}
		buf_printf(out, "]");
		free(keys);
		break;
	}
	}
}

static char *trim(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

static int eval_field(const char *path, json_t *data, json_t **out, struct kerror *e)
{
	json_t *cur = data;
	const char *p = path;

	if (strcmp(path, ".") == 0) {
		*out = data;
		return 0;
	}
	if (*p != '.')
		return kerror_set(e, EINVAL, "template: function \"%s\" not defined", path);
	while (*p == '.') {
		const char *end = p + 1;
		while (*end && *end != '.')
			end++;
		_cleanup_free_ char *name = xstrndup(p + 1, (size_t)(end - p - 1));
		if (!json_is_object(cur))
			return kerror_set(e, EINVAL, "template: can't evaluate field %s", name);
		json_t *next = json_object_get(cur, name);
		if (!next)
			return kerror_set(e, EINVAL,
					  "template: can't evaluate field %s in type %s", name,
					  cur == data ? "the object" : "a field");
		cur = next;
		p = end;
	}
	if (*p)
		return kerror_set(e, EINVAL, "template: bad field reference \"%s\"", path);
	*out = cur;
	return 0;
}

static int eval_action(const char *act, json_t *data, struct buf *out, struct kerror *e)
{
	_cleanup_free_ char *a = trim(act, strlen(act));
	char *pipe = strchr(a, '|');
	bool as_json = false;
	const char *expr = a;
	json_t *v = NULL;
	int r;

	if (pipe) {
		_cleanup_free_ char *fn = trim(pipe + 1, strlen(pipe + 1));
		*pipe = '\0';
		if (strcmp(fn, "json") != 0)
			return kerror_set(e, EINVAL, "template: function \"%s\" not defined", fn);
		as_json = true;
	} else if (str_has_prefix(a, "json ")) {
		as_json = true;
		expr = a + 5;
	}
	_cleanup_free_ char *field = trim(expr, strlen(expr));
	r = eval_field(field, data, &v, e);
	if (r < 0)
		return r;
	if (as_json) {
		_cleanup_free_ char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		buf_printf(out, "%s", s);
	} else {
		print_value(out, v);
	}
	return 0;
}

int template_render(const char *tmpl, json_t *data, struct buf *out, struct kerror *e)
{
	const char *p = tmpl;
	while (*p) {
		const char *open = strstr(p, "{{");
		if (!open) {
			buf_append(out, p, strlen(p));
			break;
		}
		buf_append(out, p, (size_t)(open - p));
		const char *close = strstr(open + 2, "}}");
		if (!close)
			return kerror_set(e, EINVAL, "template: unclosed action");
		_cleanup_free_ char *act = xstrndup(open + 2, (size_t)(close - open - 2));
		int r = eval_action(act, data, out, e);
		if (r < 0)
			return r;
		p = close + 2;
	}
	return 0;
}

/* "\t" and "\n" written literally in a --format string are unescaped, as
 * the docker CLI does. */
static char *unescape(const char *s)
{
	struct buf b = { 0 };
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 't') {
			buf_append(&b, "\t", 1);
			s++;
		} else if (s[0] == '\\' && s[1] == 'n') {
			buf_append(&b, "\n", 1);
			s++;
		} else {
			buf_append(&b, s, 1);
		}
	}
	return buf_steal(&b);
}

/* The header of a table: each {{.Field}} becomes its upper-cased field name
 * with words split (docker uses per-command headers; this is the generic
 * fallback). */
static char *table_header(const char *tmpl)
{
	struct buf b = { 0 };
	const char *p = tmpl;
	while (*p) {
		const char *open = strstr(p, "{{");
		if (!open) {
			buf_append(&b, p, strlen(p));
			break;
		}
		buf_append(&b, p, (size_t)(open - p));
		const char *close = strstr(open + 2, "}}");
		if (!close)
			break;
		_cleanup_free_ char *act = trim(open + 2, (size_t)(close - open - 2));
		const char *name = strrchr(act, '.');
		for (const char *c = name ? name + 1 : act; *c && !isspace((unsigned char)*c); c++) {
			if (c != name + 1 && isupper((unsigned char)*c) && islower((unsigned char)c[-1]))
				buf_append(&b, " ", 1);
			char u = (char)toupper((unsigned char)*c);
			buf_append(&b, &u, 1);
		}
		p = close + 2;
	}
	return buf_steal(&b);
}

int template_print_list(FILE *out, const char *tmpl, json_t *items, struct kerror *e)
{
	bool table = str_has_prefix(tmpl, "table");
	_cleanup_free_ char *t = unescape(table ? tmpl + 5 : tmpl);
	struct buf b = { 0 };
	size_t i;
	json_t *it;

	if (table) {
		char *body = t;
		while (*body == ' ')
			body++;
		memmove(t, body, strlen(body) + 1);
		_cleanup_free_ char *h = table_header(t);
		buf_printf(&b, "%s\n", h);
	}
	json_array_foreach(items, i, it) {
		int r = template_render(t, it, &b, e);
		if (r < 0) {
			buf_release(&b);
			return r;
		}
		buf_append(&b, "\n", 1);
	}
	if (table)
		table_print(out, b.data ? b.data : "");
	else if (b.data)
		fputs(b.data, out);
	buf_release(&b);
	return 0;
}
