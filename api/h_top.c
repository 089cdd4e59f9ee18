/* /containers/{id}/top: {"Titles": […], "Processes": [[…], …]}.  Without
 * ps_args, or with Podman's descriptors, the table kiln top prints
 * (run/top.c, read from /proc in the request's thread); other ps options
 * ("-ef", "aux") run the container's own ps through `kiln top`, as the CLI
 * falls back to, and its output is split as Docker splits ps's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_private.h"

static json_t *table_json(const struct run_top *t)
{
	json_t *titles = json_array(), *procs = json_array();
	for (size_t j = 0; j < t->cols; j++)
		json_array_append_new(titles, json_string(t->titles[j]));
	for (size_t i = 0; i < t->rows; i++) {
		json_t *row = json_array();
		for (size_t j = 0; j < t->cols; j++)
			json_array_append_new(row, json_string(t->cells[i * t->cols + j]));
		json_array_append_new(procs, row);
	}
	return json_pack("{s:o, s:o}", "Titles", titles, "Processes", procs);
}

/* Whitespace-separated words of line[0..len) into a: at most max, the
 * last one taking the rest of the line (a command with its arguments). */
static json_t *split_words(const char *line, size_t len, size_t max)
{
	json_t *a = json_array();
	size_t i = 0;
	while (i < len && (max == 0 || json_array_size(a) < max)) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		size_t start = i;
		if (max && json_array_size(a) + 1 == max) {
			i = len;
			while (i > start && (line[i - 1] == ' ' || line[i - 1] == '\t'))
				i--;
		} else {
			while (i < len && line[i] != ' ' && line[i] != '\t')
				i++;
		}
		json_array_append_new(a, json_stringn(line + start, i - start));
	}
	return a;
}

static json_t *ps_json(const char *out)
{
	json_t *titles = NULL, *procs = json_array();
	for (const char *line = out; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		if (!titles)
			titles = split_words(line, n, 0);
		else if (n)
			json_array_append_new(procs, split_words(line, n, json_array_size(titles)));
		line = nl ? nl + 1 : NULL;
	}
	return json_pack("{s:o, s:o}", "Titles", titles ? titles : json_array(), "Processes",
			 procs);
}

enum MHD_Result api_container_top(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_api_store_ struct store *s = NULL;
	_cleanup_container_info_ struct container_info *c = NULL;
	_cleanup_strv_ char **words = NULL;
	const char *ps = api_query(r, "ps_args");
	bool descriptors = true;

	if (api_store(r, &s, &e) < 0 || store_container_get(s, r->params[0], &c, &e) < 0)
		return api_reply_kerror(r, &e);
	if (c->state != CTR_RUNNING || c->pid <= 0)
		return api_reply_error(r, 409, "Container %s is not running", c->id);
	if (ps && strlen(ps) > 4096)
		return api_reply_error(r, 400, "ps_args is too long");
	_cleanup_free_ char *copy = xstrdup(ps ? ps : "");
	char *save = NULL;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		api_arg(&words, w);
		_cleanup_free_ char *one = xstrdup(w);
		char *s2 = NULL;
		for (char *d = strtok_r(one, ",", &s2); d; d = strtok_r(NULL, ",", &s2))
			descriptors &= run_top_descriptor(d) >= 0;
	}
	if (descriptors) {
		struct run_top t;
		if (run_top(c->pid, words, &t, &e) < 0)
			return api_reply_kerror(r, &e);
		json_t *j = table_json(&t);
		run_top_release(&t);
		return api_reply_json(r, 200, j);
	}
	_cleanup_strv_ char **args = NULL;
	_cleanup_free_ char *out = NULL;
	enum MHD_Result res;
	api_arg(&args, "top");
	api_arg(&args, c->id);
	for (char **w = words; w && *w; w++)
		api_arg(&args, *w);
	if (api_worker_simple(r, args, &out, &res) < 0)
		return res;
	return api_reply_json(r, 200, ps_json(out));
}
