/* One logical line → one instruction node, as the reference parser shapes
 * it (parser.go splitCommand/extractBuilderFlags and line_parsers.go). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "build/parser_priv.h"

enum lp { LP_IGNORE, LP_SUB, LP_ENV, LP_LABEL, LP_ARG, LP_WS, LP_STRING, LP_JSON,
	  LP_JSON_LIST, LP_HEALTH };

static const struct {
	const char *name;
	enum lp fn;
} dispatch[] = {
	{ "add", LP_JSON_LIST }, { "arg", LP_ARG }, { "cmd", LP_JSON },
	{ "copy", LP_JSON_LIST }, { "entrypoint", LP_JSON }, { "env", LP_ENV },
	{ "expose", LP_WS }, { "from", LP_WS }, { "healthcheck", LP_HEALTH },
	{ "label", LP_LABEL }, { "maintainer", LP_STRING }, { "onbuild", LP_SUB },
	{ "run", LP_JSON }, { "shell", LP_JSON }, { "stopsignal", LP_STRING },
	{ "user", LP_STRING }, { "volume", LP_JSON_LIST }, { "workdir", LP_STRING },
};

struct strs {
	struct arena *a;
	struct ptrvec v;
	struct buf lens; /* size_t per entry */
};

static void strs_add(struct strs *s, const char *p, size_t n)
{
	ptrvec_push(&s->v, arena_strndup(s->a, p, n));
	buf_append(&s->lens, &n, sizeof(n));
}

/* Go's string(rune(b)) of a byte: bytes >= 0x80 become U+0080..U+00FF. */
static void latin1_append(struct buf *b, unsigned char c)
{
	if (c < 0x80)
		buf_append(b, &c, 1);
	else
		utf8_append(b, c);
}

/* extractBuilderFlags: leading "--" words; returns the offset of the rest. */
static size_t extract_flags(const char *s, size_t n, struct strs *flags)
{
	enum { SP, WORD, QUOTE } phase = SP;
	struct buf w = { 0 };
	bool blank_ok = false;
	unsigned char quote = 0, ch = 0;
	size_t rest = n;

	for (size_t pos = 0; pos <= n; pos++) {
		if (pos != n)
			ch = (unsigned char)s[pos];
		if (phase == SP) {
			if (pos == n)
				break;
			if (byte_isspace(ch))
				continue;
			if (ch != '-' || pos + 1 == n || s[pos + 1] != '-') {
				rest = pos;
				goto out;
			}
			phase = WORD;
		}
		if (pos == n) {
			bool dd = w.len == 2 && memcmp(w.data, "--", 2) == 0;
			if (!dd && (blank_ok || w.len > 0))
				strs_add(flags, w.data ? w.data : "", w.len);
			break;
		}
		if (phase == WORD) {
			if (byte_isspace(ch)) {
				phase = SP;
				if (w.len == 2 && memcmp(w.data, "--", 2) == 0) {
					rest = pos;
					goto out;
				}
				if (blank_ok || w.len > 0)
					strs_add(flags, w.data ? w.data : "", w.len);
				w.len = 0;
				blank_ok = false;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = ch;
				blank_ok = true;
				phase = QUOTE;
				continue;
			}
			if (ch == '\\') {
				if (pos + 1 == n)
					continue;
				ch = (unsigned char)s[++pos];
			}
			latin1_append(&w, ch);
			continue;
		}
		/* QUOTE */
		if (ch == quote) {
			phase = WORD;
			continue;
		}
		if (ch == '\\') {
			if (pos + 1 == n) {
				phase = WORD;
				continue;
			}
			ch = (unsigned char)s[++pos];
		}
		latin1_append(&w, ch);
	}
out:
	buf_release(&w);
	return rest;
}

/* parseWords: quote-aware splitting that keeps quotes and escapes. */
static void parse_words(const char *s, size_t n, uint32_t esc, struct strs *out)
{
	enum { SP, WORD, QUOTE } phase = SP;
	struct buf w = { 0 };
	bool blank_ok = false;
	uint32_t quote = 0, ch = 0;
	size_t width = 0;

	for (size_t pos = 0; pos <= n; pos += width) {
		if (pos != n)
			ch = utf8_decode(s + pos, n - pos, &width);
		if (phase == SP) {
			if (pos == n)
				break;
			if (uni_isspace(ch))
				continue;
			phase = WORD;
		}
		if (pos == n) {
			if (blank_ok || w.len > 0)
				strs_add(out, w.data ? w.data : "", w.len);
			break;
		}
		if (phase == WORD) {
			if (uni_isspace(ch)) {
				phase = SP;
				if (blank_ok || w.len > 0)
					strs_add(out, w.data ? w.data : "", w.len);
				w.len = 0;
				blank_ok = false;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = ch;
				blank_ok = true;
				phase = QUOTE;
			}
			if (ch == esc) {
				if (pos + width == n)
					continue;
				utf8_append(&w, ch);
				pos += width;
				ch = utf8_decode(s + pos, n - pos, &width);
			}
			utf8_append(&w, ch);
			continue;
		}
		if (ch == quote)
			phase = WORD;
		if (ch == esc && quote != '\'') {
			if (pos + width == n) {
				phase = WORD;
				continue;
			}
			pos += width;
			utf8_append(&w, ch);
			ch = utf8_decode(s + pos, n - pos, &width);
		}
		utf8_append(&w, ch);
	}
	buf_release(&w);
}

static void split_ws(const char *s, size_t n, struct strs *out)
{
	size_t i = 0;
	for (;;) {
		size_t j = i;
		while (j < n && !re_ws((unsigned char)s[j]))
			j++;
		strs_add(out, s + i, j - i);
		if (j >= n)
			break;
		while (j < n && re_ws((unsigned char)s[j]))
			j++;
		i = j;
	}
}

static int name_val(const char *rest, size_t n, uint32_t esc, const char *key,
		    struct strs *args, struct kerror *e)
{
	struct strs words = { .a = args->a };
	int r = 0;
	parse_words(rest, n, esc, &words);
	if (words.v.n == 0)
		goto out;
	if (!strchr(words.v.v[0], '=')) {
		size_t i = 0;
		while (i < n && !re_ws((unsigned char)rest[i]))
			i++;
		if (i >= n) {
			r = kerror_set(e, EINVAL, "%s must have two arguments", key);
			goto out;
		}
		size_t j = i;
		while (j < n && re_ws((unsigned char)rest[j]))
			j++;
		strs_add(args, rest, i);
		strs_add(args, rest + j, n - j);
		strs_add(args, "", 0);
		goto out;
	}
	for (size_t k = 0; k < words.v.n; k++) {
		const char *w = words.v.v[k];
		const char *eq = strchr(w, '=');
		if (!eq) {
			struct buf q = { 0 };
			go_quote(&q, w, strlen(w));
			r = kerror_set(e, EINVAL,
				       "Syntax error - can't find = in %s. Must be of the form: name=value",
				       q.data);
			buf_release(&q);
			goto out;
		}
		strs_add(args, w, (size_t)(eq - w));
		strs_add(args, eq + 1, strlen(eq + 1));
		strs_add(args, "=", 1);
	}
out:
	ptrvec_release(&words.v);
	buf_release(&words.lens);
	return r;
}

/* parseMaybeJSON / parseMaybeJSONToList. */
static int maybe_json(const char *rest, size_t n, bool to_list, struct strs *args,
		      bool *json, struct kerror *e)
{
	char **v = NULL;
	size_t cnt = 0, *lens = NULL;
	if (n == 0 && !to_list)
		return 0;
	int r = cf_parse_json_array(rest, n, &v, &lens, &cnt);
	if (r < 0)
		return kerror_set(e, EINVAL,
				  "when using JSON array syntax, arrays must be comprised of strings only");
	if (r == 1) {
		for (size_t i = 0; i < cnt; i++)
			strs_add(args, v[i], lens[i]);
		strv_free(v);
		free(lens);
		*json = true;
		return 0;
	}
	if (!to_list)
		strs_add(args, rest, n);
	else if (n)
		split_ws(rest, n, args);
	return 0;
}

int cf_node_from_line(struct arena *a, const char *line, size_t len, char escape,
		      int depth, struct cf_node *node, struct kerror *e)
{
	struct strs flags = { .a = a }, args = { .a = a };
	int r = 0;

	memset(node, 0, sizeof(*node));
	node->original = arena_strndup(a, line, len);
	size_t n = len;
	const char *s = trim_uspace(line, &n);
	size_t k = 0;
	while (k < n && !re_ws((unsigned char)s[k]))
		k++;
	node->keyword = arena_strndup(a, s, k);
	node->name = arena_strndup(a, s, k);
	for (char *p = node->name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	const char *rest = s + n;
	size_t rn = 0;
	if (k < n) {
		size_t j = k;
		while (j < n && re_ws((unsigned char)s[j]))
			j++;
		size_t off = extract_flags(s + j, n - j, &flags);
		rest = s + j + off;
		rn = n - j - off;
		rest = trim_uspace(rest, &rn);
	}

	enum lp fn = LP_IGNORE;
	for (size_t i = 0; i < ARRAY_SIZE(dispatch); i++)
		if (strcmp(dispatch[i].name, node->name) == 0) {
			fn = dispatch[i].fn;
			node->known = true;
		}
	uint32_t esc = (unsigned char)escape;

	switch (fn) {
	case LP_IGNORE:
		strs_add(&args, "", 0);
		break;
	case LP_SUB:
		if (rn == 0)
			break;
		if (depth >= CF_MAX_ONBUILD_DEPTH) {
			r = kerror_set(e, EINVAL, "too many nested ONBUILD instructions");
			goto out;
		}
		node->sub = arena_alloc(a, sizeof(*node->sub));
		r = cf_node_from_line(a, rest, rn, escape, depth + 1, node->sub, e);
		if (r < 0)
			goto out;
		break;
	case LP_ENV:
	case LP_LABEL:
		if ((r = name_val(rest, rn, esc, fn == LP_ENV ? "ENV" : "LABEL", &args, e)) < 0)
			goto out;
		break;
	case LP_ARG:
		parse_words(rest, rn, esc, &args);
		break;
	case LP_WS:
		if (rn)
			split_ws(rest, rn, &args);
		break;
	case LP_STRING:
		if (rn)
			strs_add(&args, rest, rn);
		break;
	case LP_JSON:
	case LP_JSON_LIST:
		if ((r = maybe_json(rest, rn, fn == LP_JSON_LIST, &args, &node->json, e)) < 0)
			goto out;
		break;
	case LP_HEALTH: {
		size_t sep = 0;
		while (sep < rn && !byte_isspace((unsigned char)rest[sep]))
			sep++;
		size_t nx = sep;
		while (nx < rn && byte_isspace((unsigned char)rest[nx]))
			nx++;
		if (sep == 0)
			break;
		strs_add(&args, rest, sep);
		if ((r = maybe_json(rest + nx, rn - nx, false, &args, &node->json, e)) < 0)
			goto out;
		break;
	}
	}
	node->nflags = flags.v.n;
	node->flags = arena_strv(a, (char *const *)flags.v.v, flags.v.n);
	node->nargs = args.v.n;
	node->args = arena_strv(a, (char *const *)args.v.v, args.v.n);
	node->arg_lens = arena_alloc(a, args.lens.len + 1);
	if (args.lens.len)
		memcpy(node->arg_lens, args.lens.data, args.lens.len);
out:
	ptrvec_release(&flags.v);
	ptrvec_release(&args.v);
	buf_release(&flags.lens);
	buf_release(&args.lens);
	return r;
}
