/* plan_priv.h — shared by build/instructions.c and build/stages.c. */
#ifndef KILN_BUILD_PLAN_PRIV_H
#define KILN_BUILD_PLAN_PRIV_H

#include "build/parser_priv.h"

/* The variables visible at one point of a stage. */
struct scope {
	struct kvlist env;  /* ENV */
	struct kvlist args; /* ARGs in scope (NULL value: declared, unset) */
	char **env_snap, **args_snap;
	bool dirty;
};

struct plan_ctx {
	struct arena *a;
	const struct containerfile *cf;
	const struct build_plan_opts *o;
	struct kvlist build_args; /* --build-arg */
	struct kvlist meta;       /* global ARGs + platform ARGs */
	struct kvlist used;       /* build-arg names consumed */
	char escape;
};

/* Fills step from node (kind already known) using scope; updates scope for
 * ENV/ARG.  Errors carry no location (the caller adds FILE:LINE). */
int plan_step_make(struct plan_ctx *pc, struct scope *sc, const struct cf_node *node,
		   enum cf_kind kind, struct plan_step *step, struct kerror *e);
/* Instruction kind of a node name; -1 if unknown. */
int plan_kind(const char *name);
/* Expands word with the scope (ENV before ARGs); result in the arena. */
int plan_expand(struct plan_ctx *pc, struct scope *sc, const char *word, char **out,
		struct kerror *e);
const char *scope_lookup(void *ctx, const char *name, size_t len);
void scope_snapshot(struct plan_ctx *pc, struct scope *sc);
/* ARG resolution shared by global and stage ARGs. */
const char *plan_build_arg(struct plan_ctx *pc, const char *name);

#endif
