/* template_int.h — private to image/template_*.c: the parsed form of a Go
 * text/template and the helpers the parser, executor and functions share. */
#ifndef KILN_IMAGE_TEMPLATE_INT_H
#define KILN_IMAGE_TEMPLATE_INT_H

#include "image/image.h"

/* Operand kinds.  A field chain (.A.B) may follow DOT, VAR and PIPE. */
enum targ_kind {
	TA_DOT,    /* "." or ".A.B" (fields on dot) */
	TA_VAR,    /* "$x" or "$x.A" */
	TA_PIPE,   /* "(pipeline)" or "(pipeline).A" */
	TA_FUNC,   /* identifier: a function */
	TA_LIT,    /* string, number, bool */
	TA_NIL,    /* nil */
};

struct tpipe;

struct targ {
	enum targ_kind kind;
	size_t pos, end; /* source span, for error messages */
	char *name;      /* TA_VAR / TA_FUNC */
	char **fields;   /* NULL-terminated chain, or NULL */
	json_t *lit;     /* TA_LIT */
	struct tpipe *pipe;
};

struct tcmd {
	struct targ *args;
	size_t nargs;
	size_t pos, end;
};

struct tpipe {
	char *decl[2];   /* declared or assigned variables (range may have 2) */
	size_t ndecl;
	bool assign;     /* "=" rather than ":=" */
	struct tcmd *cmds;
	size_t ncmds;
	size_t pos;
};

enum tnode_kind { TN_LIST, TN_TEXT, TN_ACTION, TN_IF, TN_RANGE, TN_WITH, TN_BREAK, TN_CONTINUE };

struct tnode {
	enum tnode_kind kind;
	size_t pos;
	char *text; /* TN_TEXT */
	size_t len;
	struct tpipe *pipe;          /* ACTION, IF, RANGE, WITH */
	struct tnode *list, *elses;  /* IF, RANGE, WITH: TN_LIST nodes (elses may be NULL) */
	struct tnode **items;        /* TN_LIST */
	size_t n;
};

struct gotmpl {
	char *src;
	size_t src_len;
	struct tnode *root;
};

/* Function table (template_funcs.c). */
struct texec;
typedef int (*tfunc_fn)(struct texec *x, json_t **args, size_t n, json_t **out, char **err);
struct tfunc {
	const char *name;
	int min, max; /* max -1: variadic */
	tfunc_fn fn;
	tfunc_fn header_fn; /* replacement when rendering a table header, or NULL */
};
const struct tfunc *tfunc_lookup(const char *name);

/* Executor state shared with the functions. */
struct texec {
	const struct gotmpl *t;
	struct buf *out;
	unsigned flags;
	int depth;
	size_t steps;
	struct { char *name; json_t *val; } *vars;
	size_t nvars, capvars;
	const void **maps; /* objects known to be maps (reached through Labels, …) */
	size_t nmaps, capmaps;
	struct kerror *e;
};

#define TMPL_MAX_DEPTH 100
#define TMPL_MAX_STEPS 2000000
#define TMPL_MAX_SRC (1024 * 1024)
#define TMPL_MAX_WIDTH 100000

/* Values: json_t references; NULL is Go's "no value" (an invalid value, e.g.
 * a missing map key). */
bool tval_is_map(struct texec *x, const json_t *v);
bool tval_truth(struct texec *x, const json_t *v);
/* Go's fmt %v of a value; top: a nil at top level prints "<no value>". */
void tval_print(struct texec *x, struct buf *b, const json_t *v, bool top);
/* Go's type name of a value, for messages ("string", "int", …). */
const char *tval_type(struct texec *x, const json_t *v);
/* encoding/json Marshal with HTML escaping; maps get sorted keys. */
void tval_json(struct texec *x, struct buf *b, const json_t *v, int depth);
/* Shortest float formatting as Go's %v ('g', -1). */
void tfmt_float_v(struct buf *b, double d);
json_t *tstr(const char *s, size_t n);
/* Go's fmt.Sprintf over template values; err set on a hard failure. */
int tfmt_printf(struct texec *x, const char *fmt, size_t fmtlen, json_t **args, size_t n,
		struct buf *out, char **err);

#endif
