/* template_lex.h — private: the tokens of a Go text/template. */
#ifndef KILN_IMAGE_TEMPLATE_LEX_H
#define KILN_IMAGE_TEMPLATE_LEX_H

#include "image/template_int.h"

enum tok_type {
	T_EOF,
	T_TEXT,
	T_LDELIM,
	T_RDELIM,
	T_FIELD,  /* ".Name" */
	T_VAR,    /* "$name" or "$" */
	T_DOT,
	T_IDENT,
	T_STRING,
	T_RAWSTRING,
	T_CHAR,
	T_NUMBER,
	T_PIPE,
	T_LPAREN,
	T_RPAREN,
	T_DECLARE,
	T_ASSIGN,
	T_COMMA,
	/* keywords, in this order */
	T_IF,
	T_ELSE,
	T_END,
	T_RANGE,
	T_WITH,
	T_BREAK,
	T_CONTINUE,
	T_DEFINE,
	T_TEMPLATE,
	T_BLOCK,
	T_BOOL,
	T_NIL,
};

struct tok {
	enum tok_type type;
	size_t pos, len; /* in the source */
	bool space;      /* preceded by white space inside the action */
};

/* Tokens of the whole source, ending with T_EOF; *out owned by the caller.
 * Errors read "template: :LINE: …". */
int tmpl_lex(const char *s, size_t len, struct tok **out, size_t *n, struct kerror *e);

#endif
