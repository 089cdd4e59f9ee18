/* Containerfile lexer: physical lines → logical instructions (comments,
 * continuations, parser directives, heredoc bodies), as BuildKit's
 * parser.Parse reads them.  Single pass; the joined line is built in one
 * reused buffer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "build/parser_priv.h"

struct reader {
	const char *data;
	size_t len, pos;
	int lineno; /* physical lines consumed */
};

/* Next physical line including its "\n" (if any). */
static bool next_line(struct reader *r, const char **l, size_t *n)
{
	if (r->pos >= r->len)
		return false;
	const char *s = r->data + r->pos;
	const char *nl = memchr(s, '\n', r->len - r->pos);
	size_t k = nl ? (size_t)(nl - s) + 1 : r->len - r->pos;
	*l = s;
	*n = k;
	r->pos += k;
	r->lineno++;
	return true;
}

static size_t trim_newline(const char *s, size_t n)
{
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	return n;
}

static bool is_comment(const char *s, size_t n)
{
	n = trim_newline(s, n);
	s = trim_left_uspace(s, &n);
	return n > 0 && s[0] == '#';
}

/* The line-continuation regex ([^E])E[ \t]*$|^E[ \t]*$ : returns true (and
 * the kept length) when the line continues. */
static bool trim_continuation(const char *s, size_t n, char esc, size_t *keep)
{
	size_t k = n;
	while (k && (s[k - 1] == ' ' || s[k - 1] == '\t'))
		k--;
	if (k == 0 || s[k - 1] != esc)
		return false;
	if (k == 1) {
		*keep = 0;
		return true;
	}
	if (s[k - 2] == esc)
		return false;
	*keep = k - 1;
	return true;
}

static bool re_s(char c) /* RE2 \s */
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

struct directives {
	bool done;
	bool seen_escape, seen_syntax, seen_check;
	char escape;
	char *syntax, *check; /* arena */
};

/* ^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ on a line; unknown names and
 * non-matching lines end the directive section. */
static int possible_directive(struct directives *d, struct arena *a, const char *s, size_t n,
			      struct kerror *e)
{
	if (d->done)
		return 0;
	size_t i = 0;
	if (n == 0 || s[0] != '#')
		goto done;
	i = 1;
	while (i < n && re_s(s[i]))
		i++;
	size_t ks = i;
	if (i >= n || !is_alpha(s[i]))
		goto done;
	while (i < n && (is_alpha(s[i]) || (s[i] >= '0' && s[i] <= '9')))
		i++;
	size_t ke = i;
	while (i < n && re_s(s[i]))
		i++;
	if (i >= n || s[i] != '=')
		goto done;
	i++;
	size_t vs = i;
	while (i < n && re_s(s[i]))
		i++;
	size_t ve = n;
	if (memchr(s + vs, '\n', n - vs))
		goto done;
	if (i >= n) {
		if (vs == n)
			goto done;
		i = n - 1; /* all blanks: the lazy (.+?) takes the last one */
	} else {
		while (ve > i && re_s(s[ve - 1]))
			ve--;
	}
	char key[16];
	size_t kl = ke - ks;
	if (kl >= sizeof(key))
		goto done;
	for (size_t k = 0; k < kl; k++)
		key[k] = (char)((s[ks + k] >= 'A' && s[ks + k] <= 'Z') ? s[ks + k] + 32 : s[ks + k]);
	key[kl] = '\0';
	bool *seen;
	if (strcmp(key, "escape") == 0)
		seen = &d->seen_escape;
	else if (strcmp(key, "syntax") == 0)
		seen = &d->seen_syntax;
	else if (strcmp(key, "check") == 0)
		seen = &d->seen_check;
	else
		goto done;
	if (*seen)
		return kerror_set(e, EINVAL, "only one %s parser directive can be used", key);
	*seen = true;
	size_t vl = ve - i;
	if (strcmp(key, "escape") == 0) {
		if (vl != 1 || (s[i] != '\\' && s[i] != '`'))
			return kerror_set(e, EINVAL,
					  "invalid escape token '%.*s' does not match ` or \\",
					  (int)vl, s + i);
		d->escape = s[i];
	} else if (key[0] == 's') {
		d->syntax = arena_strndup(a, s + i, vl);
	} else {
		d->check = arena_strndup(a, s + i, vl);
	}
	return 0;
done:
	d->done = true;
	return 0;
}

static bool can_contain_heredoc(const struct cf_node *n)
{
	if (strcmp(n->name, "onbuild") == 0 && n->sub)
		n = n->sub;
	if (strcmp(n->name, "run") && strcmp(n->name, "copy") && strcmp(n->name, "add"))
		return false;
	return !n->json;
}

static int fail_at(struct kerror *e, const char *file, int line, int r)
{
	kerror_wrap(e, "%s:%d", file, line);
	return r;
}

static int read_heredocs(struct reader *rd, struct arena *a, struct cf_node *node,
			 const char *line, size_t len, struct kerror *e)
{
	struct cf_heredoc *h = NULL;
	size_t nh = 0;
	int r = cf_heredocs_from_line(a, line, len, &h, &nh, e);
	if (r < 0)
		return r;
	for (size_t k = 0; k < nh; k++) {
		const char *term = h[k].name;
		size_t tl = strlen(term);
		bool done = false;
		struct buf body = { 0 };
		const char *l;
		size_t ln;
		while (next_line(rd, &l, &ln)) {
			if (ln > CF_MAX_LINE + 2) {
				buf_release(&body);
				return kerror_set(e, EINVAL,
						  "dockerfile line greater than max allowed size of %d",
						  CF_MAX_LINE);
			}
			size_t pn = trim_newline(l, ln);
			const char *p = l;
			if (h[k].chomp)
				while (pn && *p == '\t')
					p++, pn--;
			if (pn == tl && memcmp(p, term, tl) == 0) {
				done = true;
				break;
			}
			buf_append(&body, l, ln);
		}
		if (!done) {
			buf_release(&body);
			return kerror_set(e, EINVAL, "unterminated heredoc");
		}
		h[k].content = arena_strndup(a, body.data ? body.data : "", body.len);
		buf_release(&body);
	}
	node->heredocs = h;
	node->nheredocs = nh;
	return 0;
}

int containerfile_parse(const char *data, size_t len, const char *filename,
			struct containerfile **out, struct kerror *e)
{
	struct arena ar = { 0 };
	struct reader rd = { .data = data, .len = len };
	struct directives d = { .escape = '\\' };
	struct buf line = { 0 };
	struct ptrvec warnings = { 0 };
	struct cf_node *nodes = NULL;
	size_t nn = 0, cap = 0;
	const char *file = filename ? filename : "Containerfile";
	const char *l;
	size_t ln;
	int r = 0;

	while (next_line(&rd, &l, &ln)) {
		int lineno = rd.lineno;
		if (ln > CF_MAX_LINE + 2 || (ln == CF_MAX_LINE + 2 && l[ln - 1] != '\n')) {
			r = fail_at(e, file, lineno,
				    kerror_set(e, EINVAL,
					       "dockerfile line greater than max allowed size of %d",
					       CF_MAX_LINE));
			goto fail;
		}
		if (lineno == 1 && ln >= 3 && memcmp(l, "\xEF\xBB\xBF", 3) == 0)
			l += 3, ln -= 3;
		size_t tn = trim_newline(l, ln);
		const char *t = trim_left_uspace(l, &tn);
		if ((r = possible_directive(&d, &ar, t, tn, e)) < 0) {
			r = fail_at(e, file, lineno, r);
			goto fail;
		}
		if (tn && t[0] == '#')
			tn = 0; /* trimComments */
		size_t keep = tn;
		bool cont = trim_continuation(t, tn, d.escape, &keep);
		if (!cont && tn == 0)
			continue;
		line.len = 0;
		buf_append(&line, t, keep);
		bool empty_cont = false;
		while (cont && next_line(&rd, &l, &ln)) {
			if (ln > CF_MAX_LINE + 2) {
				r = fail_at(e, file, rd.lineno,
					    kerror_set(e, EINVAL,
						       "dockerfile line greater than max allowed size of %d",
						       CF_MAX_LINE));
				goto fail;
			}
			if (is_comment(l, ln))
				continue;
			size_t cn = trim_newline(l, ln);
			size_t wn = cn;
			trim_left_uspace(l, &wn);
			if (wn == 0) {
				empty_cont = true;
				continue;
			}
			cont = trim_continuation(l, cn, d.escape, &keep);
			buf_append(&line, l, cont ? keep : cn);
		}
		if (nn == cap) {
			cap = cap ? cap * 2 : 64;
			nodes = xrealloc(nodes, cap * sizeof(*nodes));
		}
		struct cf_node *node = &nodes[nn];
		if ((r = cf_node_from_line(&ar, line.data ? line.data : "", line.len, d.escape, 0,
					   node, e)) < 0) {
			r = fail_at(e, file, lineno, r);
			goto fail;
		}
		if (empty_cont) {
			char *w = xasprintf("%s:%d: empty continuation line found in: %s", file,
					    lineno, line.data ? line.data : "");
			ptrvec_push(&warnings, arena_strdup(&ar, w));
			free(w);
		}
		if (can_contain_heredoc(node) && memmem(line.data, line.len, "<<", 2)) {
			if ((r = read_heredocs(&rd, &ar, node, line.data, line.len, e)) < 0) {
				r = fail_at(e, file, lineno, r);
				goto fail;
			}
		}
		node->start_line = lineno;
		node->end_line = rd.lineno;
		nn++;
	}
	if (nn == 0) {
		r = kerror_set(e, EINVAL, "%s:%d: file with no instructions", file, rd.lineno);
		goto fail;
	}
	struct containerfile *cf = xcalloc(1, sizeof(*cf));
	struct arena *heap = xmalloc(sizeof(*heap));
	cf->filename = arena_strdup(&ar, file);
	cf->nodes = arena_alloc(&ar, nn * sizeof(*nodes));
	memcpy(cf->nodes, nodes, nn * sizeof(*nodes));
	cf->nnodes = nn;
	cf->escape = d.escape;
	cf->syntax = d.syntax;
	cf->check = d.check;
	if (warnings.n)
		cf->warnings = arena_strv(&ar, (char *const *)warnings.v, warnings.n);
	*heap = ar;
	cf->priv = heap;
	free(nodes);
	buf_release(&line);
	ptrvec_release(&warnings);
	*out = cf;
	return 0;
fail:
	free(nodes);
	buf_release(&line);
	ptrvec_release(&warnings);
	arena_release(&ar);
	return r;
}

void containerfile_free(struct containerfile *cf)
{
	if (!cf)
		return;
	if (cf->priv) {
		arena_release(cf->priv);
		free(cf->priv);
	}
	free(cf);
}

void cleanup_containerfilep(struct containerfile **cf)
{
	containerfile_free(*cf);
	*cf = NULL;
}

/* ---- heredoc markers ----------------------------------------------------- */

static int count_quotes(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\'' || *s == '"';
	return n;
}

/* Regex ^(\d*)<<(-?)([^<]*)$ then heredocFromMatch.  Returns 1 with h/name
 * filled (name heap), 0 when not a heredoc, <0 on error. */
int cf_parse_heredoc_word(const char *w, struct cf_heredoc *h, char **name,
			  struct kerror *e)
{
	const char *p = w;
	unsigned long fd = 0;
	while (*p >= '0' && *p <= '9') {
		if (fd < 100000000)
			fd = fd * 10 + (unsigned long)(*p - '0');
		p++;
	}
	if (p[0] != '<' || p[1] != '<')
		return 0;
	p += 2;
	bool chomp = false;
	if (*p == '-')
		chomp = true, p++;
	if (strchr(p, '<') || !*p)
		return 0;
	struct shell_opts o = { .escape = '\\', .skip_unset = true };
	char **words = NULL, **raw = NULL;
	int r = shell_process(p, strlen(p), &o, NULL, &words, e);
	if (r < 0)
		return r;
	if (strv_len(words) != 1) {
		strv_free(words);
		return 0;
	}
	o.raw_quotes = true;
	r = shell_process(p, strlen(p), &o, NULL, &raw, e);
	if (r < 0) {
		strv_free(words);
		return r;
	}
	if (strv_len(raw) != 1) {
		strv_free(words);
		strv_free(raw);
		return kerror_set(e, EINVAL,
				  "internal lexing of heredoc produced inconsistent results: %s", p);
	}
	memset(h, 0, sizeof(*h));
	h->fd = (unsigned)fd;
	h->chomp = chomp;
	h->expand = count_quotes(words[0]) == count_quotes(raw[0]);
	*name = xstrdup(words[0]);
	strv_free(words);
	strv_free(raw);
	return 1;
}

int cf_heredocs_from_line(struct arena *a, const char *line, size_t len,
			  struct cf_heredoc **out, size_t *n, struct kerror *e)
{
	struct shell_opts o = { .escape = '\\', .raw_quotes = true, .raw_escapes = true,
				.skip_unset = true };
	char **words = NULL;
	_cleanup_kerror_ struct kerror ign = { 0 };
	struct ptrvec v = { 0 };
	*out = NULL;
	*n = 0;
	if (shell_process(line, len, &o, NULL, &words, &ign) < 0)
		return 0; /* the reference ignores lexing errors here */
	int r = 0;
	for (size_t i = 0; words[i]; i++) {
		struct cf_heredoc h;
		char *name = NULL;
		r = cf_parse_heredoc_word(words[i], &h, &name, e);
		if (r < 0)
			goto out;
		if (r == 0)
			continue;
		if (v.n >= CF_MAX_HEREDOCS) {
			free(name);
			r = kerror_set(e, EINVAL, "too many heredocs on one instruction (max %d)",
				       CF_MAX_HEREDOCS);
			goto out;
		}
		struct cf_heredoc *hp = arena_alloc(a, sizeof(*hp));
		*hp = h;
		hp->name = arena_strdup(a, name);
		free(name);
		ptrvec_push(&v, hp);
	}
	r = 0;
	if (v.n) {
		struct cf_heredoc *arr = arena_alloc(a, v.n * sizeof(*arr));
		for (size_t i = 0; i < v.n; i++)
			arr[i] = *(struct cf_heredoc *)v.v[i];
		*out = arr;
		*n = v.n;
	}
out:
	strv_free(words);
	ptrvec_release(&v);
	return r;
}
