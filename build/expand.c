/* Variable substitution: BuildKit's shell-word lexer (shell/lex.go) rewritten
 * for kiln.  One pass over the word; ${…} nesting, output size and pattern
 * matching work are bounded so hostile Containerfiles cannot blow up. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "build/parser_priv.h"

#define SHELL_MAX_DEPTH 64
#define PATTERN_BUDGET (64u * 1024 * 1024) /* NFA steps per word */
#define REOF (-1)

struct words {
	struct buf word;
	bool in_word;
	struct ptrvec v;
};

struct lexer {
	const char *s;
	size_t n, pos;
	const struct shell_opts *o;
	int esc;
	bool raw_escapes;
	int depth;
	size_t budget;
	char *err; /* heap; the first error wins */
};

static int lx_fail(struct lexer *lx, const char *msg)
{
	if (!lx->err)
		lx->err = xstrdup(msg);
	return -EINVAL;
}

static int peek(struct lexer *lx)
{
	if (lx->pos >= lx->n)
		return REOF;
	size_t w;
	return (int)utf8_decode(lx->s + lx->pos, lx->n - lx->pos, &w);
}

static int next(struct lexer *lx)
{
	if (lx->pos >= lx->n)
		return REOF;
	size_t w;
	int r = (int)utf8_decode(lx->s + lx->pos, lx->n - lx->pos, &w);
	lx->pos += w;
	return r;
}

/* ---- word splitting (wordsStruct) ---------------------------------------- */

static void w_push(struct words *w)
{
	ptrvec_push(&w->v, buf_steal(&w->word));
	w->in_word = false;
}

static void w_raw_char(struct words *w, uint32_t r)
{
	if (!w)
		return;
	utf8_append(&w->word, r);
	w->in_word = true;
}

static void w_char(struct words *w, uint32_t r)
{
	if (!w)
		return;
	if (uni_isspace(r)) {
		if (w->in_word && w->word.len)
			w_push(w);
	} else {
		w_raw_char(w, r);
	}
}

static void w_string(struct words *w, const char *s, size_t n)
{
	if (!w)
		return;
	size_t i = 0, k;
	while (i < n) {
		uint32_t r = utf8_decode(s + i, n - i, &k);
		w_char(w, r);
		i += k;
	}
}

static void w_raw_string(struct words *w, const char *s, size_t n)
{
	if (!w)
		return;
	buf_append(&w->word, s, n);
	w->in_word = true;
}

/* ---- names --------------------------------------------------------------- */

static bool is_digit(int r)
{
	return r >= '0' && r <= '9';
}

/* unicode.IsLetter, approximated: ASCII and Latin-1 letters exactly, and
 * anything beyond Latin-1 that is not a space or general punctuation. */
static bool is_letter(int r)
{
	if (r < 0x80)
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
	if (r < 0x100)
		return r >= 0xC0 ? (r != 0xD7 && r != 0xF7) : (r == 0xAA || r == 0xB5 || r == 0xBA);
	if (uni_isspace((uint32_t)r) || (r >= 0x2000 && r <= 0x206F) ||
	    (r >= 0x3000 && r <= 0x303F) || r == 0xFFFD)
		return false;
	return true;
}

static bool is_special(int r)
{
	return r == '@' || r == '*' || r == '#' || r == '?' || r == '-' || r == '$' ||
	       r == '!' || r == '0';
}

static void process_name(struct lexer *lx, struct buf *name)
{
	while (peek(lx) != REOF) {
		int ch = peek(lx);
		if (name->len == 0 && is_digit(ch)) {
			while (is_digit(peek(lx)))
				utf8_append(name, (uint32_t)next(lx));
			return;
		}
		if (name->len == 0 && is_special(ch)) {
			utf8_append(name, (uint32_t)next(lx));
			return;
		}
		if (!is_letter(ch) && !is_digit(ch) && ch != '_')
			break;
		utf8_append(name, (uint32_t)next(lx));
	}
}

static const char *lookup(struct lexer *lx, const struct buf *name)
{
	if (!lx->o->lookup)
		return NULL;
	return lx->o->lookup(lx->o->ctx, name->data ? name->data : "", name->len);
}

/* ---- patterns (${v#p} ${v%p} ${v/p/r}) ------------------------------------ */

enum { PT_LIT, PT_ANY, PT_STAR };
struct ptok {
	int t;
	uint32_t r;
};

struct runes {
	uint32_t *r;
	size_t *off; /* byte offset of each rune; off[n] = byte length */
	size_t n;
};

static void runes_of(const char *s, size_t len, struct runes *out)
{
	out->r = xmalloc((len + 1) * sizeof(uint32_t));
	out->off = xmalloc((len + 1) * sizeof(size_t));
	out->n = 0;
	size_t i = 0, w;
	while (i < len) {
		out->off[out->n] = i;
		out->r[out->n++] = utf8_decode(s + i, len - i, &w);
		i += w;
	}
	out->off[out->n] = len;
}

static void runes_release(struct runes *r)
{
	free(r->r);
	free(r->off);
}

/* convertShellPatternToRegex: '*' '?' wildcards, "\*" "\?" "\\" literal,
 * "\}" and "\/" drop the backslash; any other escape is an error. */
static int compile_pattern(struct lexer *lx, const char *p, size_t len, struct ptok **out,
			   size_t *n)
{
	struct runes pr;
	runes_of(p, len, &pr);
	struct ptok *t = xmalloc((pr.n + 1) * sizeof(*t));
	size_t k = 0;
	for (size_t i = 0; i < pr.n; i++) {
		uint32_t c = pr.r[i];
		if (c == '*') {
			t[k++] = (struct ptok){ PT_STAR, 0 };
		} else if (c == '?') {
			t[k++] = (struct ptok){ PT_ANY, 0 };
		} else if (c == '\\') {
			if (i + 1 < pr.n && (pr.r[i + 1] == '}' || pr.r[i + 1] == '/'))
				continue;
			if (i + 1 >= pr.n || (pr.r[i + 1] != '*' && pr.r[i + 1] != '?' &&
					      pr.r[i + 1] != '\\')) {
				struct buf m = { 0 };
				buf_printf(&m, "invalid pattern (%.*s) in substitution: invalid escape '\\",
					   (int)len, p);
				if (i + 1 < pr.n)
					utf8_append(&m, pr.r[i + 1]);
				buf_append(&m, "'", 1);
				lx_fail(lx, m.data);
				buf_release(&m);
				free(t);
				runes_release(&pr);
				return -EINVAL;
			}
			t[k++] = (struct ptok){ PT_LIT, pr.r[++i] };
		} else {
			t[k++] = (struct ptok){ PT_LIT, c };
		}
	}
	runes_release(&pr);
	*out = t;
	*n = k;
	return 0;
}

static bool tok_step(const struct ptok *t, uint32_t c)
{
	/* Go's "." does not match a newline. */
	return t->t == PT_LIT ? t->r == c : c != '\n';
}

/* Epsilon closure over states holding a start position (SIZE_MAX = dead):
 * a star may match nothing. */
static void closure(const struct ptok *t, size_t m, size_t *st)
{
	for (size_t i = 0; i < m; i++)
		if (t[i].t == PT_STAR && st[i] != SIZE_MAX && st[i] < st[i + 1])
			st[i + 1] = st[i];
}

static bool spend(struct lexer *lx, size_t m)
{
	if (lx->budget < m + 1)
		return lx_fail(lx, "pattern matching too complex"), false;
	lx->budget -= m + 1;
	return true;
}

#define AT(rs, i, rev) ((rev) ? (rs)->r[(rs)->n - 1 - (i)] : (rs)->r[(i)])

/* Length (in runes) of the shortest/longest prefix matching; -1 if none,
 * -2 on budget exhaustion. */
static long prefix_match(struct lexer *lx, const struct ptok *t, size_t m,
			 const struct runes *rs, bool rev, bool greedy)
{
	size_t *cur = xmalloc((m + 1) * sizeof(size_t)), *nx = xmalloc((m + 1) * sizeof(size_t));
	long best = -1;
	for (size_t i = 0; i <= m; i++)
		cur[i] = SIZE_MAX;
	cur[0] = 0;
	closure(t, m, cur);
	if (cur[m] != SIZE_MAX) {
		best = 0;
		if (!greedy)
			goto out;
	}
	for (size_t pos = 0; pos < rs->n; pos++) {
		if (!spend(lx, m)) {
			best = -2;
			goto out;
		}
		uint32_t c = AT(rs, pos, rev);
		bool any = false;
		for (size_t i = 0; i <= m; i++)
			nx[i] = SIZE_MAX;
		for (size_t i = 0; i < m; i++) {
			if (cur[i] == SIZE_MAX || !tok_step(&t[i], c))
				continue;
			nx[t[i].t == PT_STAR ? i : i + 1] = 0;
			any = true;
		}
		if (!any)
			break;
		closure(t, m, nx);
		if (nx[m] != SIZE_MAX) {
			best = (long)pos + 1;
			if (!greedy)
				goto out;
		}
		size_t *tmp = cur;
		cur = nx, nx = tmp;
	}
out:
	free(cur);
	free(nx);
	return best;
}

/* Leftmost-longest match starting at or after `from`: 1 found, 0 none,
 * -1 budget exhausted. */
static int find_match(struct lexer *lx, const struct ptok *t, size_t m,
		      const struct runes *rs, size_t from, size_t *ms, size_t *me)
{
	size_t *cur = xmalloc((m + 1) * sizeof(size_t)), *nx = xmalloc((m + 1) * sizeof(size_t));
	size_t bs = SIZE_MAX, be = 0;
	int r = 0;
	for (size_t i = 0; i <= m; i++)
		cur[i] = SIZE_MAX;
	for (size_t pos = from;; pos++) {
		if (bs == SIZE_MAX && cur[0] == SIZE_MAX)
			cur[0] = pos;
		closure(t, m, cur);
		if (cur[m] != SIZE_MAX &&
		    (bs == SIZE_MAX || cur[m] < bs || (cur[m] == bs && pos > be)))
			bs = cur[m], be = pos;
		bool alive = false;
		for (size_t i = 0; i <= m; i++) {
			if (bs != SIZE_MAX && cur[i] > bs)
				cur[i] = SIZE_MAX;
			if (i < m && cur[i] != SIZE_MAX)
				alive = true;
		}
		if (pos >= rs->n || (!alive && bs != SIZE_MAX))
			break;
		if (!spend(lx, m)) {
			r = -1;
			goto out;
		}
		uint32_t c = rs->r[pos];
		for (size_t i = 0; i <= m; i++)
			nx[i] = SIZE_MAX;
		for (size_t i = 0; i < m; i++) {
			if (cur[i] == SIZE_MAX || !tok_step(&t[i], c))
				continue;
			size_t to = t[i].t == PT_STAR ? i : i + 1;
			if (cur[i] < nx[to])
				nx[to] = cur[i];
		}
		size_t *tmp = cur;
		cur = nx, nx = tmp;
	}
	if (bs != SIZE_MAX) {
		*ms = bs, *me = be;
		r = 1;
	}
out:
	free(cur);
	free(nx);
	return r;
}

static int trim_affix(struct lexer *lx, const char *pat, size_t plen, const char *val,
		      bool suffix, bool greedy, struct buf *out)
{
	struct ptok *t;
	size_t m;
	if (compile_pattern(lx, pat, plen, &t, &m) < 0)
		return -EINVAL;
	if (suffix) {
		for (size_t i = 0; i < m / 2; i++) {
			struct ptok x = t[i];
			t[i] = t[m - 1 - i];
			t[m - 1 - i] = x;
		}
	}
	struct runes rs;
	runes_of(val, strlen(val), &rs);
	long L = prefix_match(lx, t, m, &rs, suffix, greedy);
	int r = 0;
	if (L == -2)
		r = -EINVAL;
	else if (L < 0)
		buf_append(out, val, rs.off[rs.n]);
	else if (suffix)
		buf_append(out, val, rs.off[rs.n - (size_t)L]);
	else
		buf_append(out, val + rs.off[L], rs.off[rs.n] - rs.off[L]);
	runes_release(&rs);
	free(t);
	return r;
}

static int replace(struct lexer *lx, const char *pat, size_t plen, const char *repl,
		   size_t rlen, const char *val, bool all, struct buf *out)
{
	struct ptok *t;
	size_t m;
	if (compile_pattern(lx, pat, plen, &t, &m) < 0)
		return -EINVAL;
	struct runes rs;
	runes_of(val, strlen(val), &rs);
	int r = 0;
	size_t search = 0, last_end = 0;
	bool first = true;
	while (search <= rs.n) {
		size_t s, e;
		int f = find_match(lx, t, m, &rs, search, &s, &e);
		if (f < 0) {
			r = -EINVAL;
			goto out;
		}
		if (f == 0)
			break;
		buf_append(out, val + rs.off[last_end], rs.off[s] - rs.off[last_end]);
		/* Go: no replacement for an empty match right after a match. */
		if (e > last_end || s == 0 || first)
			buf_append(out, repl, rlen);
		first = false;
		last_end = e;
		if (!all)
			break;
		search = e > search ? e : search + 1;
	}
	buf_append(out, val + rs.off[last_end], rs.off[rs.n] - rs.off[last_end]);
out:
	runes_release(&rs);
	free(t);
	return r;
}

/* ---- the lexer ----------------------------------------------------------- */

static int process_stop_on(struct lexer *lx, int stop, bool raw_escapes, struct buf *res,
			   struct words *w);

static int process_single(struct lexer *lx, struct buf *res)
{
	int ch = next(lx);
	if (lx->o->raw_quotes)
		utf8_append(res, (uint32_t)ch);
	for (;;) {
		ch = next(lx);
		if (ch == REOF)
			return lx_fail(lx, "unexpected end of statement while looking for matching single-quote");
		if (ch == '\'') {
			if (lx->o->raw_quotes)
				utf8_append(res, (uint32_t)ch);
			return 0;
		}
		utf8_append(res, (uint32_t)ch);
	}
}

static int process_dollar(struct lexer *lx, struct buf *res);

static int process_double(struct lexer *lx, struct buf *res)
{
	int ch = next(lx);
	if (lx->o->raw_quotes)
		utf8_append(res, (uint32_t)ch);
	for (;;) {
		int p = peek(lx);
		if (p == REOF)
			return lx_fail(lx, "unexpected end of statement while looking for matching double-quote");
		if (p == '"') {
			ch = next(lx);
			if (lx->o->raw_quotes)
				utf8_append(res, (uint32_t)ch);
			return 0;
		}
		if (p == '$') {
			if (process_dollar(lx, res) < 0)
				return -EINVAL;
			continue;
		}
		ch = next(lx);
		if (ch == lx->esc) {
			if (lx->raw_escapes)
				utf8_append(res, (uint32_t)ch);
			p = peek(lx);
			if (p == REOF)
				continue;
			if (p == '"' || p == '$' || p == lx->esc)
				ch = next(lx);
		}
		utf8_append(res, (uint32_t)ch);
	}
}

static int sub_word(struct lexer *lx, int stop, bool raw, struct buf *out, const char *eof_msg)
{
	if (lx->depth >= SHELL_MAX_DEPTH)
		return lx_fail(lx, "too many nested substitutions");
	lx->depth++;
	int r = process_stop_on(lx, stop, raw, out, NULL);
	lx->depth--;
	if (r < 0 && peek(lx) == REOF && eof_msg) {
		free(lx->err);
		lx->err = NULL;
		return lx_fail(lx, eof_msg);
	}
	return r;
}

static int process_dollar(struct lexer *lx, struct buf *res)
{
	_cleanup_free_ char *nm = NULL;
	struct buf name = { 0 }, word = { 0 }, pat = { 0 };
	int r = 0;

	next(lx); /* '$' */
	if (peek(lx) != '{') {
		process_name(lx, &name);
		if (name.len == 0) {
			buf_append(res, "$", 1);
			return 0;
		}
		const char *v = lookup(lx, &name);
		if (!v && lx->o->skip_unset) {
			buf_append(res, "$", 1);
			buf_append(res, name.data, name.len);
		} else if (v) {
			buf_append(res, v, strlen(v));
		}
		buf_release(&name);
		return 0;
	}
	next(lx); /* '{' */
	int p = peek(lx);
	if (p == REOF)
		return lx_fail(lx, "syntax error: missing '}'");
	if (p == '{' || p == '}' || p == ':')
		return lx_fail(lx, "syntax error: bad substitution");
	process_name(lx, &name);
	nm = buf_steal(&name);
	size_t nlen = strlen(nm);
	struct buf nb = { .data = nm, .len = nlen };
	int ch = next(lx);
	if (ch == REOF)
		return lx_fail(lx, "syntax error: missing '}'");
	struct buf chs = { 0 };
	utf8_append(&chs, (uint32_t)ch);
	const char *v;
	bool null_unset = false;

	switch (ch) {
	case '}':
		v = lookup(lx, &nb);
		if (!v && lx->o->skip_unset)
			buf_printf(res, "${%s}", nm);
		else if (v)
			buf_append(res, v, strlen(v));
		goto out;
	case ':':
		null_unset = true;
		ch = next(lx);
		if (ch != REOF)
			utf8_append(&chs, (uint32_t)ch);
		/* fallthrough */
	case '+': case '-': case '?': case '#': case '%': {
		bool raw = ch == '#' || ch == '%';
		if ((r = sub_word(lx, '}', raw, &word, "syntax error: missing '}'")) < 0)
			goto out;
		v = lookup(lx, &nb);
		if (!v && lx->o->skip_unset) {
			buf_printf(res, "${%s%s%s}", nm, chs.data, word.data ? word.data : "");
			goto out;
		}
		const char *wd = word.data ? word.data : "";
		bool empty = !v || (null_unset && !*v);
		switch (ch) {
		case '-':
			buf_append(res, empty ? wd : v, strlen(empty ? wd : v));
			goto out;
		case '+':
			if (!empty)
				buf_append(res, wd, word.len);
			goto out;
		case '?':
			if (empty) {
				struct buf m = { 0 };
				buf_printf(&m, "%s: %s", nm,
					   *wd ? wd : !v ? "is not allowed to be unset" : "is not allowed to be empty");
				lx_fail(lx, m.data);
				buf_release(&m);
				r = -EINVAL;
				goto out;
			}
			buf_append(res, v, strlen(v));
			goto out;
		case '#': case '%':
			if (!null_unset) {
				bool greedy = word.len > 0 && word.data[0] == (char)ch;
				r = trim_affix(lx, wd + greedy, word.len - greedy, v ? v : "",
					       ch == '%', greedy, res);
				goto out;
			}
			break;
		}
		break;
	}
	case '/': {
		bool all = peek(lx) == '/';
		if (all)
			next(lx);
		if ((r = sub_word(lx, '/', true, &pat, "syntax error: missing '/' in ${}")) < 0)
			goto out;
		if ((r = sub_word(lx, '}', true, &word, "syntax error: missing '}'")) < 0)
			goto out;
		v = lookup(lx, &nb);
		if (!v && lx->o->skip_unset) {
			buf_printf(res, "${%s/%s/%s}", nm, pat.data ? pat.data : "",
				   word.data ? word.data : "");
			goto out;
		}
		r = replace(lx, pat.data ? pat.data : "", pat.len, word.data ? word.data : "",
			    word.len, v ? v : "", all, res);
		goto out;
	}
	}
	{
		struct buf m = { 0 };
		buf_printf(&m, "unsupported modifier (%s) in substitution", chs.data);
		lx_fail(lx, m.data);
		buf_release(&m);
		r = -EINVAL;
	}
out:
	buf_release(&chs);
	buf_release(&word);
	buf_release(&pat);
	return r;
}

static int process_stop_on(struct lexer *lx, int stop, bool raw_escapes, struct buf *res,
			   struct words *w)
{
	bool saved = lx->raw_escapes;
	int r = 0;
	lx->raw_escapes = raw_escapes;
	while (peek(lx) != REOF) {
		int ch = peek(lx);
		if (stop != REOF && ch == stop) {
			next(lx);
			goto out;
		}
		if (ch == '$' || (!lx->o->skip_quotes && (ch == '\'' || ch == '"'))) {
			struct buf tmp = { 0 };
			r = ch == '$' ? process_dollar(lx, &tmp) :
			    ch == '\'' ? process_single(lx, &tmp) : process_double(lx, &tmp);
			if (r < 0) {
				buf_release(&tmp);
				goto out;
			}
			buf_append(res, tmp.data ? tmp.data : "", tmp.len);
			if (ch == '$')
				w_string(w, tmp.data, tmp.len);
			else
				w_raw_string(w, tmp.data ? tmp.data : "", tmp.len);
			buf_release(&tmp);
		} else {
			ch = next(lx);
			if (ch == lx->esc) {
				if (lx->raw_escapes) {
					w_raw_char(w, (uint32_t)ch);
					utf8_append(res, (uint32_t)ch);
				}
				ch = next(lx);
				if (ch == REOF)
					break;
				w_raw_char(w, (uint32_t)ch);
			} else {
				w_char(w, (uint32_t)ch);
			}
			utf8_append(res, (uint32_t)ch);
		}
		if (res->len > SHELL_MAX_OUT) {
			r = lx_fail(lx, "expansion result too large");
			goto out;
		}
	}
	if (stop != REOF) {
		char m[96];
		snprintf(m, sizeof(m), "unexpected end of statement while looking for matching %c",
			 stop);
		r = lx_fail(lx, m);
	}
out:
	lx->raw_escapes = saved;
	return r;
}

int shell_process(const char *word, size_t len, const struct shell_opts *o, char **out,
		  char ***words, struct kerror *e)
{
	struct lexer lx = {
		.s = word, .n = len, .o = o, .esc = o->escape ? (unsigned char)o->escape : '\\',
		.raw_escapes = o->raw_escapes, .budget = PATTERN_BUDGET,
	};
	struct buf res = { 0 };
	struct words w = { 0 };
	int r = process_stop_on(&lx, REOF, o->raw_escapes, &res, words ? &w : NULL);
	if (r < 0) {
		struct buf q = { 0 };
		go_quote(&q, word, len);
		kerror_set(e, EINVAL, "failed to process %s: %s", q.data,
			   lx.err ? lx.err : "invalid word");
		buf_release(&q);
		free(lx.err);
		buf_release(&res);
		buf_release(&w.word);
		for (size_t i = 0; i < w.v.n; i++)
			free(w.v.v[i]);
		ptrvec_release(&w.v);
		return -EINVAL;
	}
	free(lx.err);
	if (words) {
		if (w.word.len)
			w_push(&w);
		buf_release(&w.word);
		ptrvec_push(&w.v, NULL);
		*words = (char **)w.v.v;
	}
	if (out)
		*out = buf_steal(&res);
	else
		buf_release(&res);
	return 0;
}

int shell_expand(const char *word, const struct shell_opts *o, char **out, struct kerror *e)
{
	return shell_process(word, strlen(word), o, out, NULL, e);
}

int shell_expand_words(const char *word, const struct shell_opts *o, char ***out,
		       struct kerror *e)
{
	return shell_process(word, strlen(word), o, NULL, out, e);
}
