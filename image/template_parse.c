/* Parser of Go text/template: tokens → the tree in template_int.h, with
 * text/template/parse's checks (functions and variables defined, {{end}}
 * matched, break/continue inside range) and its error wording. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/template_lex.h"

struct parser {
	const char *src;
	size_t len;
	struct tok *toks;
	size_t ntoks, i;
	char **vars; /* variables in scope, "$" first */
	size_t nvars, capvars;
	int depth, range_depth;
	struct kerror *e;
};

static int perr(struct parser *p, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int perr(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int line = 1;
	for (size_t i = 0; i < pos && i < p->len; i++)
		line += p->src[i] == '\n';
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	kerror_set(p->e, EINVAL, "template: :%d: %s", line, msg ? msg : "error");
	free(msg);
	return -EINVAL;
}

static struct tok *peek(struct parser *p)
{
	return &p->toks[p->i];
}

static struct tok *next(struct parser *p)
{
	struct tok *t = &p->toks[p->i];
	if (t->type != T_EOF)
		p->i++;
	return t;
}

/* A token as Go's messages quote it. */
static char *tok_desc(struct parser *p, const struct tok *t)
{
	switch (t->type) {
	case T_EOF: return xstrdup("EOF");
	case T_RDELIM: return xstrdup("\"}}\"");
	case T_LDELIM: return xstrdup("\"{{\"");
	default: break;
	}
	size_t n = t->len > 40 ? 40 : t->len;
	return xasprintf("%s%.*s%s", t->type >= T_IF && t->type <= T_BLOCK ? "<" : "\"", (int)n,
			 p->src + t->pos, t->type >= T_IF && t->type <= T_BLOCK ? ">" : "\"");
}

static int unexpected(struct parser *p, const struct tok *t, const char *ctx)
{
	_cleanup_free_ char *d = tok_desc(p, t);
	return perr(p, t->pos, "unexpected %s in %s", d, ctx);
}

static void push_var(struct parser *p, const char *name, size_t len)
{
	if (p->nvars == p->capvars) {
		p->capvars = p->capvars ? p->capvars * 2 : 8;
		p->vars = xrealloc(p->vars, p->capvars * sizeof(char *));
	}
	p->vars[p->nvars++] = xstrndup(name, len);
}

static void pop_vars(struct parser *p, size_t to)
{
	while (p->nvars > to)
		free(p->vars[--p->nvars]);
}

static bool var_defined(struct parser *p, const struct tok *t)
{
	for (size_t i = p->nvars; i-- > 0;)
		if (strlen(p->vars[i]) == t->len && memcmp(p->vars[i], p->src + t->pos, t->len) == 0)
			return true;
	return false;
}

/* ---- freeing ------------------------------------------------------------ */

static void pipe_free(struct tpipe *pp);

static void arg_release(struct targ *a)
{
	free(a->name);
	strv_free(a->fields);
	json_decref(a->lit);
	pipe_free(a->pipe);
}

static void pipe_free(struct tpipe *pp)
{
	if (!pp)
		return;
	for (size_t i = 0; i < pp->ndecl; i++)
		free(pp->decl[i]);
	for (size_t i = 0; i < pp->ncmds; i++) {
		for (size_t j = 0; j < pp->cmds[i].nargs; j++)
			arg_release(&pp->cmds[i].args[j]);
		free(pp->cmds[i].args);
	}
	free(pp->cmds);
	free(pp);
}

static void node_free(struct tnode *n)
{
	if (!n)
		return;
	free(n->text);
	pipe_free(n->pipe);
	node_free(n->list);
	node_free(n->elses);
	for (size_t i = 0; i < n->n; i++)
		node_free(n->items[i]);
	free(n->items);
	free(n);
}

void gotmpl_free(struct gotmpl *t)
{
	if (!t)
		return;
	node_free(t->root);
	free(t->src);
	free(t);
}

void cleanup_gotmplp(struct gotmpl **t)
{
	gotmpl_free(*t);
}

static struct tnode *node_new(enum tnode_kind k, size_t pos)
{
	struct tnode *n = xcalloc(1, sizeof(*n));
	n->kind = k;
	n->pos = pos;
	return n;
}

static void list_append(struct tnode *l, struct tnode *n)
{
	if ((l->n & (l->n - 1)) == 0) /* grow at powers of two */
		l->items = xrealloc(l->items, (l->n ? l->n * 2 : 1) * sizeof(*l->items));
	l->items[l->n++] = n;
}

/* ---- literals ----------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* strconv.Unquote for "…" and '…' bodies (s excludes the quotes). */
static int unquote(struct parser *p, size_t pos, const char *s, size_t n, struct buf *b)
{
	for (size_t i = 0; i < n;) {
		if (s[i] != '\\') {
			buf_append(b, s + i, 1);
			i++;
			continue;
		}
		if (++i >= n)
			return perr(p, pos, "invalid syntax in quoted string");
		char c = s[i++];
		const char *simple = strchr("abfnrtv\\'\"", c);
		if (simple && c) {
			static const char map[] = "\a\b\f\n\r\t\v\\'\"";
			buf_append(b, &map[simple - "abfnrtv\\'\""], 1);
		} else if (c == 'x' || c == 'u' || c == 'U') {
			size_t digits = c == 'x' ? 2 : c == 'u' ? 4 : 8;
			uint32_t v = 0;
			if (n - i < digits)
				return perr(p, pos, "invalid syntax in quoted string");
			for (size_t k = 0; k < digits; k++) {
				int h = hexval(s[i + k]);
				if (h < 0)
					return perr(p, pos, "invalid syntax in quoted string");
				v = v * 16 + (uint32_t)h;
			}
			i += digits;
			if (c == 'x') {
				char byte = (char)v;
				buf_append(b, &byte, 1);
			} else {
				buf_append_utf8(b, v);
			}
		} else if (c >= '0' && c <= '7') {
			if (n - i < 2 || s[i] < '0' || s[i] > '7' || s[i + 1] < '0' || s[i + 1] > '7')
				return perr(p, pos, "invalid syntax in quoted string");
			unsigned v = (unsigned)(c - '0') * 64 + (unsigned)(s[i] - '0') * 8 +
				     (unsigned)(s[i + 1] - '0');
			if (v > 255)
				return perr(p, pos, "invalid syntax in quoted string");
			char byte = (char)v;
			buf_append(b, &byte, 1);
			i += 2;
		} else {
			return perr(p, pos, "invalid syntax in quoted string");
		}
	}
	return 0;
}

/* Decodes one UTF-8 code point; returns its length (1 for a bad byte). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (s[0] < 0x80 || n < 2) {
		*cp = s[0];
		return 1;
	}
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 1;
	if (len == 1 || len > n) {
		*cp = 0xfffd;
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

static int parse_number(struct parser *p, const struct tok *t, json_t **out)
{
	_cleanup_free_ char *s = xstrndup(p->src + t->pos, t->len);
	_cleanup_free_ char *clean = xmalloc(t->len + 1);
	size_t k = 0;
	char *end;

	for (size_t i = 0; s[i]; i++)
		if (s[i] != '_')
			clean[k++] = s[i];
	clean[k] = '\0';
	const char *digits = clean + (clean[0] == '-' || clean[0] == '+');
	bool hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
	bool isfloat = strpbrk(digits, hex ? ".pP" : ".eEpP") != NULL;
	errno = 0;
	if (!isfloat) {
		int base = 0;
		const char *from = clean;
		char *tmp = NULL;
		if (digits[0] == '0' && strchr("bBoO", digits[1]) && digits[1]) {
			base = strchr("bB", digits[1]) ? 2 : 8;
			tmp = xasprintf("%.*s%s", (int)(digits - clean), clean, digits + 2);
			from = tmp;
		}
		long long v = strtoll(from, &end, base);
		bool ok = *end == '\0' && errno == 0 && end != from;
		free(tmp);
		if (!ok)
			return perr(p, t->pos, "illegal number syntax: \"%s\"", s);
		*out = json_integer(v);
		return 0;
	}
	double d = strtod(clean, &end);
	if (*end != '\0' || end == clean)
		return perr(p, t->pos, "illegal number syntax: \"%s\"", s);
	*out = json_real(d);
	if (!*out) /* inf / nan */
		return perr(p, t->pos, "illegal number syntax: \"%s\"", s);
	return 0;
}

/* ---- pipelines ---------------------------------------------------------- */

static int parse_pipeline(struct parser *p, const char *ctx, enum tok_type end,
			  struct tpipe **out);

static bool starts_operand(enum tok_type t)
{
	switch (t) {
	case T_BOOL: case T_CHAR: case T_DOT: case T_FIELD: case T_IDENT: case T_NUMBER:
	case T_NIL: case T_RAWSTRING: case T_STRING: case T_VAR: case T_LPAREN:
		return true;
	default:
		return false;
	}
}

/* One term and the field chain glued to it. */
static int parse_operand(struct parser *p, struct targ *a)
{
	struct tok *t = next(p);
	int r;

	memset(a, 0, sizeof(*a));
	a->pos = t->pos;
	switch (t->type) {
	case T_IDENT:
		a->kind = TA_FUNC;
		a->name = xstrndup(p->src + t->pos, t->len);
		if (!tfunc_lookup(a->name))
			return perr(p, t->pos, "function \"%s\" not defined", a->name);
		break;
	case T_DOT: a->kind = TA_DOT; break;
	case T_NIL: a->kind = TA_NIL; break;
	case T_VAR:
		if (!var_defined(p, t))
			return perr(p, t->pos, "undefined variable \"%.*s\"", (int)t->len,
				    p->src + t->pos);
		a->kind = TA_VAR;
		a->name = xstrndup(p->src + t->pos, t->len);
		break;
	case T_FIELD:
		a->kind = TA_DOT;
		strv_push(&a->fields, xstrndup(p->src + t->pos + 1, t->len - 1));
		break;
	case T_BOOL:
		a->kind = TA_LIT;
		a->lit = json_boolean(p->src[t->pos] == 't');
		break;
	case T_NUMBER:
		a->kind = TA_LIT;
		r = parse_number(p, t, &a->lit);
		if (r < 0)
			return r;
		break;
	case T_CHAR: {
		struct buf b = { 0 };
		uint32_t cp = 0;
		a->kind = TA_LIT;
		r = unquote(p, t->pos, p->src + t->pos + 1, t->len - 2, &b);
		if (r == 0 && (b.len == 0 || utf8_decode((unsigned char *)b.data, b.len, &cp) != b.len))
			r = perr(p, t->pos, "malformed character constant: %.*s", (int)t->len,
				 p->src + t->pos);
		buf_release(&b);
		if (r < 0)
			return r;
		a->lit = json_integer(cp);
		break;
	}
	case T_STRING:
	case T_RAWSTRING: {
		struct buf b = { 0 };
		a->kind = TA_LIT;
		if (t->type == T_STRING) {
			r = unquote(p, t->pos, p->src + t->pos + 1, t->len - 2, &b);
			if (r < 0) {
				buf_release(&b);
				return r;
			}
		} else {
			/* Raw strings lose their carriage returns, as in Go. */
			for (size_t i = 1; i + 1 < t->len; i++)
				if (p->src[t->pos + i] != '\r')
					buf_append(&b, p->src + t->pos + i, 1);
		}
		a->lit = tstr(b.data ? b.data : "", b.len);
		buf_release(&b);
		break;
	}
	case T_LPAREN:
		if (++p->depth > TMPL_MAX_DEPTH)
			return perr(p, t->pos, "nesting too deep");
		a->kind = TA_PIPE;
		r = parse_pipeline(p, "parenthesized pipeline", T_RPAREN, &a->pipe);
		p->depth--;
		if (r < 0)
			return r;
		break;
	default:
		return unexpected(p, t, "operand");
	}
	/* A chain: ".X" glued to the term. */
	while (peek(p)->type == T_FIELD && !peek(p)->space) {
		struct tok *f = next(p);
		if (a->kind == TA_LIT || a->kind == TA_NIL || a->kind == TA_FUNC ||
		    (a->kind == TA_DOT && !a->fields))
			return perr(p, f->pos, "unexpected . after term \"%.*s\"",
				    (int)(f->pos - a->pos), p->src + a->pos);
		strv_push(&a->fields, xstrndup(p->src + f->pos + 1, f->len - 1));
	}
	a->end = p->toks[p->i - 1].pos + p->toks[p->i - 1].len;
	return 0;
}

static int parse_command(struct parser *p, enum tok_type end, struct tcmd *c)
{
	int r;
	c->pos = peek(p)->pos;
	for (;;) {
		c->args = xrealloc(c->args, (c->nargs + 1) * sizeof(*c->args));
		r = parse_operand(p, &c->args[c->nargs]);
		c->nargs++;
		if (r < 0)
			return r;
		struct tok *t = peek(p);
		if (t->type == end || t->type == T_PIPE)
			break;
		if (!t->space || !starts_operand(t->type))
			return unexpected(p, t, "operand");
	}
	c->end = p->toks[p->i - 1].pos + p->toks[p->i - 1].len;
	return 0;
}

static int parse_pipeline(struct parser *p, const char *ctx, enum tok_type end,
			  struct tpipe **out)
{
	struct tpipe *pp = xcalloc(1, sizeof(*pp));
	int r = 0;

	*out = pp;
	pp->pos = peek(p)->pos;
	/* Declarations: "$x :=", "$x =", and in range "$i, $v :=". */
	while (peek(p)->type == T_VAR) {
		size_t save = p->i;
		struct tok *v = next(p);
		struct tok *t = peek(p);
		if (t->type == T_DECLARE || t->type == T_ASSIGN) {
			next(p);
			pp->assign = t->type == T_ASSIGN;
			pp->decl[pp->ndecl++] = xstrndup(p->src + v->pos, v->len);
			if (pp->assign && !var_defined(p, v))
				return perr(p, v->pos, "undefined variable \"%.*s\"", (int)v->len,
					    p->src + v->pos);
			if (!pp->assign)
				push_var(p, p->src + v->pos, v->len);
			break;
		}
		if (t->type == T_COMMA && strcmp(ctx, "range") == 0 && pp->ndecl == 0) {
			next(p);
			pp->decl[pp->ndecl++] = xstrndup(p->src + v->pos, v->len);
			if (peek(p)->type != T_VAR)
				return perr(p, peek(p)->pos, "range can only initialize variables");
			continue;
		}
		if (t->type == T_COMMA)
			return perr(p, t->pos, "too many declarations in %s", ctx);
		p->i = save;
		if (pp->ndecl) /* "$i," not followed by a declaration */
			return perr(p, t->pos, "range can only initialize variables");
		break;
	}
	/* With two range variables both are declared (or both assigned). */
	if (pp->ndecl == 2) {
		bool known = false;
		for (size_t i = 0; i < p->nvars; i++)
			known |= strcmp(p->vars[i], pp->decl[0]) == 0;
		if (pp->assign && !known)
			return perr(p, pp->pos, "undefined variable \"%s\"", pp->decl[0]);
		if (!pp->assign)
			push_var(p, pp->decl[0], strlen(pp->decl[0]));
	}
	for (;;) {
		struct tok *t = peek(p);
		if (t->type == end) {
			next(p);
			if (pp->ncmds == 0)
				return perr(p, t->pos, "missing value for %s", ctx);
			break;
		}
		if (!starts_operand(t->type))
			return unexpected(p, t, ctx);
		pp->cmds = xrealloc(pp->cmds, (pp->ncmds + 1) * sizeof(*pp->cmds));
		memset(&pp->cmds[pp->ncmds], 0, sizeof(*pp->cmds));
		r = parse_command(p, end, &pp->cmds[pp->ncmds++]);
		if (r < 0)
			return r;
		if (peek(p)->type == T_PIPE) {
			next(p);
			if (!starts_operand(peek(p)->type))
				return perr(p, peek(p)->pos, "missing command after |");
		}
	}
	for (size_t i = 1; i < pp->ncmds; i++) {
		const struct targ *a = &pp->cmds[i].args[0];
		if (a->kind == TA_LIT || a->kind == TA_NIL || (a->kind == TA_DOT && !a->fields))
			return perr(p, a->pos, "non executable command in pipeline stage %zu", i + 1);
	}
	return 0;
}

/* ---- lists and control -------------------------------------------------- */

enum stop { STOP_EOF, STOP_END, STOP_ELSE };

static int parse_list(struct parser *p, bool top, struct tnode **out, enum stop *stop);

static int expect_rdelim(struct parser *p, const char *ctx)
{
	struct tok *t = next(p);
	return t->type == T_RDELIM ? 0 : unexpected(p, t, ctx);
}

static int parse_control(struct parser *p, enum tnode_kind kind, size_t pos, struct tnode **out)
{
	static const char *names[] = { [TN_IF] = "if", [TN_RANGE] = "range", [TN_WITH] = "with" };
	struct tnode *n = node_new(kind, pos);
	size_t vars = p->nvars;
	enum stop stop;
	int r;

	*out = n;
	if (++p->depth > TMPL_MAX_DEPTH)
		return perr(p, pos, "nesting too deep");
	r = parse_pipeline(p, names[kind], T_RDELIM, &n->pipe);
	if (r < 0)
		return r;
	if (kind == TN_RANGE)
		p->range_depth++;
	r = parse_list(p, false, &n->list, &stop);
	if (kind == TN_RANGE)
		p->range_depth--;
	if (r < 0)
		return r;
	if (stop == STOP_ELSE) {
		struct tok *t = peek(p);
		if ((kind == TN_IF && t->type == T_IF) || (kind == TN_WITH && t->type == T_WITH)) {
			/* "else if": a nested control sharing this {{end}}. */
			struct tnode *inner;
			next(p);
			n->elses = node_new(TN_LIST, t->pos);
			r = parse_control(p, kind, t->pos, &inner);
			list_append(n->elses, inner);
			if (r < 0)
				return r;
		} else {
			r = expect_rdelim(p, "else");
			if (r < 0)
				return r;
			r = parse_list(p, false, &n->elses, &stop);
			if (r < 0)
				return r;
			if (stop != STOP_END)
				return perr(p, peek(p)->pos, "expected end; found {{else}}");
		}
	}
	pop_vars(p, vars);
	p->depth--;
	return 0;
}

static int parse_list(struct parser *p, bool top, struct tnode **out, enum stop *stop)
{
	struct tnode *l = node_new(TN_LIST, peek(p)->pos);
	int r;

	*out = l;
	for (;;) {
		struct tok *t = next(p);
		if (t->type == T_EOF) {
			if (!top)
				return perr(p, t->pos, "unexpected EOF");
			*stop = STOP_EOF;
			return 0;
		}
		if (t->type == T_TEXT) {
			struct tnode *n = node_new(TN_TEXT, t->pos);
			n->text = xstrndup(p->src + t->pos, t->len);
			n->len = t->len;
			list_append(l, n);
			continue;
		}
		/* T_LDELIM: the lexer emits nothing else here. */
		struct tok *k = peek(p);
		struct tnode *n = NULL;
		switch (k->type) {
		case T_END:
		case T_ELSE:
			next(p);
			if (top)
				return perr(p, k->pos, "unexpected {{%s}}", k->type == T_END ? "end" : "else");
			if (k->type == T_END) {
				r = expect_rdelim(p, "end");
				if (r < 0)
					return r;
			}
			*stop = k->type == T_END ? STOP_END : STOP_ELSE;
			return 0;
		case T_IF:
		case T_RANGE:
		case T_WITH:
			next(p);
			r = parse_control(p, k->type == T_IF ? TN_IF : k->type == T_RANGE ? TN_RANGE : TN_WITH,
					  k->pos, &n);
			list_append(l, n);
			if (r < 0)
				return r;
			break;
		case T_BREAK:
		case T_CONTINUE:
			next(p);
			if (!p->range_depth)
				return perr(p, k->pos, "{{%s}} outside {{range}}",
					    k->type == T_BREAK ? "break" : "continue");
			r = expect_rdelim(p, k->type == T_BREAK ? "{{break}}" : "{{continue}}");
			if (r < 0)
				return r;
			list_append(l, node_new(k->type == T_BREAK ? TN_BREAK : TN_CONTINUE, k->pos));
			break;
		case T_DEFINE:
		case T_TEMPLATE:
		case T_BLOCK:
			return perr(p, k->pos, "{{%.*s}} is not supported", (int)k->len, p->src + k->pos);
		default:
			n = node_new(TN_ACTION, k->pos);
			list_append(l, n);
			r = parse_pipeline(p, "command", T_RDELIM, &n->pipe);
			if (r < 0)
				return r;
			break;
		}
	}
}

int gotmpl_parse(const char *text, struct gotmpl **out, struct kerror *e)
{
	size_t len = strlen(text);
	struct parser p = { .e = e };
	enum stop stop;
	int r;

	*out = NULL;
	if (len > TMPL_MAX_SRC)
		return kerror_set(e, EINVAL, "template: too long (%zu bytes)", len);
	struct gotmpl *t = xcalloc(1, sizeof(*t));
	t->src = xstrndup(text, len);
	t->src_len = len;
	p.src = t->src;
	p.len = len;
	r = tmpl_lex(t->src, len, &p.toks, &p.ntoks, e);
	if (r == 0) {
		push_var(&p, "$", 1);
		r = parse_list(&p, true, &t->root, &stop);
	}
	pop_vars(&p, 0);
	free(p.vars);
	free(p.toks);
	if (r < 0) {
		gotmpl_free(t);
		return r;
	}
	*out = t;
	return 0;
}
