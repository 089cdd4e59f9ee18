/* --format output: thin wrappers over image/'s Go-template engine that add
 * what the docker CLI adds around it (the "table" prefix, "\t"/"\n" escapes,
 * one line per item, tabwriter alignment). */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"

int template_render(const char *tmpl, json_t *data, struct buf *out, struct kerror *e)
{
	_cleanup_gotmpl_ struct gotmpl *t = NULL;
	int r = gotmpl_parse(tmpl, &t, e);
	if (r < 0)
		return r;
	return gotmpl_exec(t, data, out, e);
}

/* "\t" and "\n" written literally in a --format string are unescaped, and
 * the text around a table template trimmed, as the docker CLI does. */
static char *prepare(const char *s, bool *table)
{
	struct buf b = { 0 };
	*table = str_has_prefix(s, "table");
	if (*table)
		s += 5;
	for (; *s; s++) {
		if (s[0] == '\\' && (s[1] == 't' || s[1] == 'n')) {
			buf_append(&b, s[1] == 't' ? "\t" : "\n", 1);
			s++;
		} else {
			buf_append(&b, s, 1);
		}
	}
	char *t = buf_steal(&b);
	if (!t)
		return xstrdup("");
	if (*table) {
		size_t n = strlen(t), start = 0;
		while (start < n && t[start] == ' ')
			start++;
		while (n > start && t[n - 1] == ' ')
			n--;
		memmove(t, t + start, n - start);
		t[n - start] = '\0';
	}
	return t;
}

int template_print_table(FILE *out, const char *tmpl, json_t *items, const char *const *headers,
			 struct kerror *e)
{
	/* docker: --format json is one JSON object per line. */
	if (strcmp(tmpl, "json") == 0)
		tmpl = "{{json .}}";
	_cleanup_gotmpl_ struct gotmpl *t = NULL;
	bool table;
	_cleanup_free_ char *text = prepare(tmpl, &table);
	struct buf b = { 0 };
	size_t i;
	json_t *it;
	int r = gotmpl_parse(text, &t, e);

	if (r < 0)
		return r;
	if (table) {
		gotmpl_header(t, headers, &b);
		buf_append(&b, "\n", 1);
	}
	json_array_foreach(items, i, it) {
		r = gotmpl_exec(t, it, &b, e);
		if (r < 0) {
			buf_release(&b);
			return r;
		}
		buf_append(&b, "\n", 1);
	}
	if (table)
		table_print(out, b.data ? b.data : "");
	else if (b.data)
		fwrite(b.data, 1, b.len, out);
	buf_release(&b);
	return 0;
}

int template_print_list(FILE *out, const char *tmpl, json_t *items, struct kerror *e)
{
	return template_print_table(out, tmpl, items, NULL, e);
}

int template_print_inspect(FILE *out, const char *format, json_t *items, struct kerror *e)
{
	if (format && strcmp(format, "json") != 0)
		return template_print_list(out, format, items, e);
	_cleanup_free_ char *t = json_dump_pretty(items);
	fprintf(out, "%s\n", t);
	return 0;
}

int template_print_listing(FILE *out, const char *format, json_t *items,
			   const char *const *headers, const char *table, struct kerror *e)
{
	if (!format) {
		table_print(out, table ? table : "");
		return 0;
	}
	if (strcmp(format, "json") == 0) {
		_cleanup_free_ char *t = json_dump_pretty(items);
		fprintf(out, "%s\n", t);
		return 0;
	}
	return template_print_table(out, format, items, headers, e);
}
