/* Lexer of Go text/template: turns the source into tokens (text, delimiters
 * and the words inside actions), applying {{- -}} trims and dropping
 * comments, as text/template/parse's lexer does. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "image/template_lex.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alnum(char c)
{
	return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

struct lexer {
	const char *s;
	size_t len, pos;
	int parens;
	struct tok *toks;
	size_t n, cap;
	struct kerror *e;
};

static int lex_error(struct lexer *l, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int lex_error(struct lexer *l, size_t pos, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int line = 1;
	for (size_t i = 0; i < pos && i < l->len; i++)
		line += l->s[i] == '\n';
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	kerror_set(l->e, EINVAL, "template: :%d: %s", line, msg ? msg : "error");
	free(msg);
	return -EINVAL;
}

static void emit(struct lexer *l, enum tok_type t, size_t pos, size_t len, bool space)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->toks = xrealloc(l->toks, l->cap * sizeof(*l->toks));
	}
	l->toks[l->n++] = (struct tok){ .type = t, .pos = pos, .len = len, .space = space };
}

static bool at(struct lexer *l, size_t p, const char *lit)
{
	size_t n = strlen(lit);
	return p <= l->len && l->len - p >= n && memcmp(l->s + p, lit, n) == 0;
}

/* A right delimiter at p, with its trim marker: returns its length or 0. */
static size_t right_delim(struct lexer *l, size_t p, bool *trim)
{
	*trim = false;
	if (at(l, p, "}}"))
		return 2;
	if (p < l->len && is_space(l->s[p]) && at(l, p + 1, "-}}")) {
		*trim = true;
		return 4;
	}
	return 0;
}

static const struct {
	const char *word;
	enum tok_type type;
} keywords[] = {
	{ "if", T_IF },	      { "else", T_ELSE },	  { "end", T_END },
	{ "range", T_RANGE }, { "with", T_WITH },	  { "break", T_BREAK },
	{ "continue", T_CONTINUE }, { "define", T_DEFINE }, { "template", T_TEMPLATE },
	{ "block", T_BLOCK }, { "true", T_BOOL },	  { "false", T_BOOL },
	{ "nil", T_NIL },
};

/* Words must end at a space, a delimiter or punctuation. */
static int check_terminator(struct lexer *l, size_t p)
{
	bool trim;
	if (p >= l->len)
		return 0;
	char c = l->s[p];
	if (is_space(c) || strchr(".,|:()=", c) || right_delim(l, p, &trim))
		return 0;
	return lex_error(l, p, "bad character %#x", (unsigned char)c);
}

static int lex_quote(struct lexer *l, size_t *p, char q, const char *what)
{
	size_t i = *p + 1;
	for (;;) {
		if (i >= l->len || (q != '`' && l->s[i] == '\n'))
			return lex_error(l, *p, "unterminated %s", what);
		if (q != '`' && l->s[i] == '\\') {
			i += 2;
			continue;
		}
		if (l->s[i] == q)
			break;
		i++;
	}
	*p = i + 1;
	return 0;
}

/* Inside an action: from p to the closing delimiter. */
static int lex_action(struct lexer *l, size_t *pp, bool *trim_next)
{
	size_t p = *pp;
	bool space = false, trim;
	size_t dl;
	int r;

	for (;;) {
		if (p >= l->len)
			return lex_error(l, p, "unclosed action");
		if ((dl = right_delim(l, p, &trim)) != 0) {
			if (l->parens > 0)
				return lex_error(l, p, "unclosed left paren");
			emit(l, T_RDELIM, p, dl, space);
			*trim_next = trim;
			*pp = p + dl;
			return 0;
		}
		char c = l->s[p];
		size_t start = p;
		if (is_space(c)) {
			p++;
			space = true;
			continue;
		}
		enum tok_type t;
		if (c == '=') {
			t = T_ASSIGN, p++;
		} else if (c == ':') {
			if (!at(l, p, ":="))
				return lex_error(l, p, "expected :=");
			t = T_DECLARE, p += 2;
		} else if (c == '|') {
			t = T_PIPE, p++;
		} else if (c == ',') {
			t = T_COMMA, p++;
		} else if (c == '(') {
			if (++l->parens > 100)
				return lex_error(l, p, "too many parentheses");
			t = T_LPAREN, p++;
		} else if (c == ')') {
			if (--l->parens < 0)
				return lex_error(l, p, "unexpected right paren");
			t = T_RPAREN, p++;
		} else if (c == '"' || c == '`' || c == '\'') {
			r = lex_quote(l, &p, c,
				      c == '"'   ? "quoted string"
				      : c == '`' ? "raw quoted string"
						 : "character constant");
			if (r < 0)
				return r;
			t = c == '\'' ? T_CHAR : c == '`' ? T_RAWSTRING : T_STRING;
		} else if (c == '$') {
			p++;
			while (p < l->len && is_alnum(l->s[p]))
				p++;
			t = T_VAR;
		} else if (c == '.' && p + 1 < l->len && isdigit((unsigned char)l->s[p + 1])) {
			goto number;
		} else if (c == '.') {
			p++;
			if (p < l->len && is_alnum(l->s[p])) {
				while (p < l->len && is_alnum(l->s[p]))
					p++;
				t = T_FIELD;
			} else {
				t = T_DOT;
			}
		} else if (isdigit((unsigned char)c) ||
			   ((c == '-' || c == '+') && p + 1 < l->len &&
			    (isdigit((unsigned char)l->s[p + 1]) || l->s[p + 1] == '.'))) {
		number:
			p++;
			while (p < l->len) {
				char d = l->s[p];
				if ((d == '+' || d == '-') && strchr("eEpP", l->s[p - 1]))
					p++;
				else if (isalnum((unsigned char)d) || d == '_' || d == '.')
					p++;
				else
					break;
			}
			t = T_NUMBER;
		} else if (is_alnum(c)) {
			while (p < l->len && is_alnum(l->s[p]))
				p++;
			t = T_IDENT;
			for (size_t k = 0; k < ARRAY_SIZE(keywords); k++)
				if (strlen(keywords[k].word) == p - start &&
				    memcmp(keywords[k].word, l->s + start, p - start) == 0)
					t = keywords[k].type;
		} else {
			return lex_error(l, p, "unrecognized character in action: %#x",
					 (unsigned char)c);
		}
		if (t == T_VAR || t == T_FIELD || t == T_NUMBER || t == T_IDENT || t == T_BOOL ||
		    t == T_NIL || (t >= T_IF && t <= T_BLOCK)) {
			r = check_terminator(l, p);
			if (r < 0)
				return r;
		}
		emit(l, t, start, p - start, space);
		space = false;
	}
}

int tmpl_lex(const char *s, size_t len, struct tok **out, size_t *n, struct kerror *e)
{
	struct lexer l = { .s = s, .len = len, .e = e };
	bool trim_next = false;
	int r = 0;

	while (l.pos < len) {
		const char *open = memmem(s + l.pos, len - l.pos, "{{", 2);
		size_t x = open ? (size_t)(open - s) : len;
		size_t ts = l.pos, te = x;
		bool ltrim = open && x + 3 < len && s[x + 2] == '-' && is_space(s[x + 3]);

		if (trim_next)
			while (ts < te && is_space(s[ts]))
				ts++;
		if (ltrim)
			while (te > ts && is_space(s[te - 1]))
				te--;
		if (te > ts)
			emit(&l, T_TEXT, ts, te - ts, false);
		if (!open)
			break;
		size_t p = x + 2 + (ltrim ? 2 : 0);
		trim_next = false;
		if (at(&l, p, "/*")) {
			/* A comment: "*" "/" must be followed by the delimiter. */
			const char *cend = memmem(s + p + 2, len - p - 2, "*/", 2);
			bool trim;
			size_t dl;
			if (!cend) {
				r = lex_error(&l, p, "unclosed comment");
				break;
			}
			p = (size_t)(cend - s) + 2;
			dl = right_delim(&l, p, &trim);
			if (!dl) {
				r = lex_error(&l, p, "comment ends before closing delimiter");
				break;
			}
			trim_next = trim;
			l.pos = p + dl;
			continue;
		}
		emit(&l, T_LDELIM, x, 2, false);
		r = lex_action(&l, &p, &trim_next);
		if (r < 0)
			break;
		l.pos = p;
	}
	if (r < 0) {
		free(l.toks);
		return r;
	}
	emit(&l, T_EOF, len, 0, false);
	*out = l.toks;
	*n = l.n;
	return 0;
}
