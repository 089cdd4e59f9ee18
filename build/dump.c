/* The reference parser's s-expression dump (Node.Dump), one instruction per
 * line, used by `kiln build --dump-ast`. */
#include <string.h>

#include "build/parser_priv.h"

static void dump_node(const struct cf_node *n, struct buf *out)
{
	bool any = false;

	if (*n->name) {
		buf_append(out, n->name, strlen(n->name));
		any = true;
	}
	if (n->nflags) {
		if (any)
			buf_append(out, " ", 1);
		go_quote_strv(out, n->flags, n->nflags);
		any = true;
	}
	if (n->sub) {
		if (any)
			buf_append(out, " ", 1);
		buf_append(out, "(", 1);
		dump_node(n->sub, out);
		buf_append(out, ")", 1);
		any = true;
	}
	for (size_t i = 0; i < n->nargs; i++) {
		if (any)
			buf_append(out, " ", 1);
		go_quote(out, n->args[i], n->arg_lens[i]);
		any = true;
	}
}

int containerfile_dump_ast(const struct containerfile *cf, struct buf *out)
{
	for (size_t i = 0; i < cf->nnodes; i++) {
		buf_append(out, "(", 1);
		dump_node(&cf->nodes[i], out);
		buf_append(out, ")\n", 2);
	}
	return 0;
}
