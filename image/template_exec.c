/* Executor of a parsed Go text/template over a jansson value, with Go's
 * semantics and error wording; bounded in work and output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/template_int.h"

/* Fields whose values docker's types declare as maps. */
static const char *const map_fields[] = {
	"Labels", "Annotations", "Options", "DriverOpts", "Data",
	"ExposedPorts", "Volumes", "Networks", "Ports",
};

enum { FLOW_NEXT = 0, FLOW_BREAK = 1, FLOW_CONTINUE = 2 };

#define X_HEADER 1u /* rendering a table header */

static int xerr(struct texec *x, size_t pos, size_t end, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int xerr(struct texec *x, size_t pos, size_t end, const char *fmt, ...)
{
	const char *src = x->t->src;
	size_t line = 1, col = pos;
	va_list ap;
	char *msg;

	for (size_t i = 0; i < pos && i < x->t->src_len; i++)
		if (src[i] == '\n')
			line++, col = pos - i - 1;
	if (end < pos || end > x->t->src_len)
		end = pos;
	size_t n = end - pos;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	kerror_set(x->e, EINVAL, "template: :%zu:%zu: executing \"\" at <%.*s%s>: %s", line, col,
		   (int)(n > 20 ? 20 : n), src + pos, n > 20 ? "..." : "", msg ? msg : "error");
	free(msg);
	return -EINVAL;
}

static int step(struct texec *x, size_t pos)
{
	if (++x->steps > TMPL_MAX_STEPS)
		return xerr(x, pos, pos, "too much work (more than %d steps)", TMPL_MAX_STEPS);
	return 0;
}

static int write_out(struct texec *x, size_t pos, const void *data, size_t n)
{
	if (x->out->len + n > GOTMPL_MAX_OUTPUT)
		return xerr(x, pos, pos, "output larger than %u bytes", GOTMPL_MAX_OUTPUT);
	buf_append(x->out, data, n);
	return 0;
}

/* ---- variables ---------------------------------------------------------- */

static void var_push(struct texec *x, const char *name, json_t *v)
{
	if (x->nvars == x->capvars) {
		x->capvars = x->capvars ? x->capvars * 2 : 16;
		x->vars = xrealloc(x->vars, x->capvars * sizeof(*x->vars));
	}
	x->vars[x->nvars].name = xstrdup(name);
	x->vars[x->nvars].val = json_incref(v);
	x->nvars++;
}

static void var_pop(struct texec *x, size_t to)
{
	while (x->nvars > to) {
		x->nvars--;
		free(x->vars[x->nvars].name);
		json_decref(x->vars[x->nvars].val);
	}
}

static size_t var_find(struct texec *x, const char *name)
{
	for (size_t i = x->nvars; i-- > 0;)
		if (strcmp(x->vars[i].name, name) == 0)
			return i;
	return SIZE_MAX;
}

static void var_set(struct texec *x, const char *name, json_t *v)
{
	size_t i = var_find(x, name);
	if (i == SIZE_MAX) { /* the parser checked; be safe anyway */
		var_push(x, name, v);
		return;
	}
	json_decref(x->vars[i].val);
	x->vars[i].val = json_incref(v);
}

static void mark_map(struct texec *x, const json_t *v)
{
	if (x->nmaps == x->capmaps) {
		if (x->capmaps >= 4096)
			return;
		x->capmaps = x->capmaps ? x->capmaps * 2 : 16;
		x->maps = xrealloc(x->maps, x->capmaps * sizeof(*x->maps));
	}
	x->maps[x->nmaps++] = v;
}

/* ---- evaluation --------------------------------------------------------- */

static int eval_pipe(struct texec *x, const struct tpipe *pp, json_t *dot, bool declare,
		     json_t **out);

/* One ".name" step on recv (owned; consumed). */
static int field_step(struct texec *x, const struct targ *a, const char *name, json_t *recv,
		      bool has_args, json_t **out)
{
	int r = 0;
	*out = NULL;
	if (!recv || json_is_null(recv)) {
		/* A nil receiver yields no value, as Go does for a missing map. */
		json_decref(recv);
		return 0;
	}
	if ((x->flags & X_HEADER) && json_is_string(recv)) {
		*out = recv; /* headers of .A.B are A's header */
		return 0;
	}
	if (json_is_object(recv)) {
		bool map = tval_is_map(x, recv);
		json_t *v = json_object_get(recv, name);
		if (has_args)
			r = map ? xerr(x, a->pos, a->end, "%s is not a method but has arguments", name)
				: xerr(x, a->pos, a->end,
				       "%s has arguments but cannot be invoked as function", name);
		else if (!v && !map)
			r = xerr(x, a->pos, a->end, "can't evaluate field %s in type %s", name,
				 tval_type(x, recv));
		else if (v) {
			if (json_is_object(v))
				for (size_t i = 0; i < ARRAY_SIZE(map_fields); i++)
					if (strcmp(name, map_fields[i]) == 0)
						mark_map(x, v);
			*out = json_incref(v);
		}
		json_decref(recv);
		return r;
	}
	r = xerr(x, a->pos, a->end, "can't evaluate field %s in type %s", name, tval_type(x, recv));
	json_decref(recv);
	return r;
}

/* The fields chained on an operand's base value (owned, consumed). */
static int eval_chain(struct texec *x, const struct targ *a, json_t *base, bool has_args,
		      json_t **out)
{
	json_t *cur = base;
	int r;
	for (size_t i = 0; a->fields && a->fields[i]; i++) {
		bool last = !a->fields[i + 1];
		r = field_step(x, a, a->fields[i], cur, has_args && last, &cur);
		if (r < 0)
			return r;
	}
	*out = cur;
	return 0;
}

static int call_func(struct texec *x, const struct tcmd *c, size_t first, json_t *dot,
		     json_t *final, bool has_final, json_t **out);

static int eval_arg(struct texec *x, const struct targ *a, json_t *dot, json_t **out)
{
	json_t *base = NULL;
	int r;

	*out = NULL;
	switch (a->kind) {
	case TA_DOT: base = json_incref(dot); break;
	case TA_VAR: {
		size_t i = var_find(x, a->name);
		if (i == SIZE_MAX)
			return xerr(x, a->pos, a->end, "undefined variable: %s", a->name);
		base = json_incref(x->vars[i].val);
		break;
	}
	case TA_PIPE:
		if (++x->depth > TMPL_MAX_DEPTH * 2)
			return xerr(x, a->pos, a->end, "nesting too deep");
		r = eval_pipe(x, a->pipe, dot, true, &base);
		x->depth--;
		if (r < 0)
			return r;
		break;
	case TA_FUNC: {
		struct tcmd c = { .args = (struct targ *)a, .nargs = 1, .pos = a->pos, .end = a->end };
		return call_func(x, &c, 0, dot, NULL, false, out);
	}
	case TA_LIT: *out = json_incref(a->lit); return 0;
	case TA_NIL: *out = json_null(); return 0;
	}
	return eval_chain(x, a, base, false, out);
}

static int call_func(struct texec *x, const struct tcmd *c, size_t first, json_t *dot,
		     json_t *final, bool has_final, json_t **out)
{
	const struct targ *fa = &c->args[first];
	const struct tfunc *f = tfunc_lookup(fa->name);
	size_t nargs = c->nargs - first - 1 + (has_final ? 1 : 0);
	int r = 0;

	*out = NULL;
	if (!f)
		return xerr(x, fa->pos, fa->end, "\"%s\" is not a defined function", fa->name);
	if ((f->max >= 0 && nargs > (size_t)f->max) || nargs < (size_t)f->min) {
		if (f->max == f->min)
			return xerr(x, fa->pos, fa->end, "wrong number of args for %s: want %d got %zu",
				    f->name, f->min, nargs);
		return xerr(x, fa->pos, fa->end, "wrong number of args for %s: want at least %d got %zu",
			    f->name, f->min, nargs);
	}
	/* and / or evaluate their arguments only as far as needed. */
	bool is_and = strcmp(f->name, "and") == 0, is_or = strcmp(f->name, "or") == 0;
	if (is_and || is_or) {
		json_t *v = NULL;
		for (size_t i = 0; i < nargs; i++) {
			json_decref(v);
			v = NULL;
			if (first + 1 + i < c->nargs) {
				r = eval_arg(x, &c->args[first + 1 + i], dot, &v);
				if (r < 0)
					return r;
			} else {
				v = json_incref(final);
			}
			if (tval_truth(x, v) == is_or)
				break;
		}
		*out = v;
		return 0;
	}
	json_t **args = xcalloc(nargs ? nargs : 1, sizeof(json_t *));
	size_t got = 0;
	for (; first + 1 + got < c->nargs; got++) {
		r = eval_arg(x, &c->args[first + 1 + got], dot, &args[got]);
		if (r < 0)
			goto out;
	}
	if (has_final)
		args[got++] = json_incref(final);
	char *err = NULL;
	tfunc_fn fn = (x->flags & X_HEADER) && f->header_fn ? f->header_fn : f->fn;
	r = fn(x, args, got, out, &err);
	if (r < 0 && err)
		r = r == -2 ? xerr(x, fa->pos, fa->end, "%s", err)
			    : xerr(x, fa->pos, fa->end, "error calling %s: %s", f->name, err);
	else if (r < 0)
		r = -EINVAL; /* x->e already filled */
	free(err);
	if (r == 0 && *out && json_is_string(*out) && json_string_length(*out) > GOTMPL_MAX_OUTPUT) {
		json_decref(*out);
		*out = NULL;
		r = xerr(x, fa->pos, fa->end, "result larger than %u bytes", GOTMPL_MAX_OUTPUT);
	}
out:
	for (size_t i = 0; i < got; i++)
		json_decref(args[i]);
	free(args);
	return r;
}

static int eval_cmd(struct texec *x, const struct tcmd *c, json_t *dot, json_t *final,
		    bool has_final, json_t **out)
{
	const struct targ *a = &c->args[0];
	bool has_args = c->nargs > 1 || has_final;
	json_t *base = NULL;
	int r = step(x, c->pos);

	*out = NULL;
	if (r < 0)
		return r;
	switch (a->kind) {
	case TA_FUNC: return call_func(x, c, 0, dot, final, has_final, out);
	case TA_NIL: return xerr(x, a->pos, a->end, "nil is not a command");
	case TA_LIT:
		if (has_args)
			return xerr(x, a->pos, a->end, "can't give argument to non-function %.*s",
				    (int)(a->end - a->pos), x->t->src + a->pos);
		*out = json_incref(a->lit);
		return 0;
	default:
		break;
	}
	if (has_args && !a->fields)
		return xerr(x, a->pos, a->end, "can't give argument to non-function %.*s",
			    (int)(a->end - a->pos), x->t->src + a->pos);
	if (a->kind == TA_DOT) {
		base = json_incref(dot);
	} else if (a->kind == TA_VAR) {
		size_t i = var_find(x, a->name);
		if (i == SIZE_MAX)
			return xerr(x, a->pos, a->end, "undefined variable: %s", a->name);
		base = json_incref(x->vars[i].val);
	} else {
		if (++x->depth > TMPL_MAX_DEPTH * 2)
			return xerr(x, a->pos, a->end, "nesting too deep");
		r = eval_pipe(x, a->pipe, dot, true, &base);
		x->depth--;
		if (r < 0)
			return r;
	}
	return eval_chain(x, a, base, has_args, out);
}

/* Evaluates the commands; with declare, sets the declared variables. */
static int eval_pipe(struct texec *x, const struct tpipe *pp, json_t *dot, bool declare,
		     json_t **out)
{
	json_t *v = NULL;
	int r;

	*out = NULL;
	for (size_t i = 0; i < pp->ncmds; i++) {
		json_t *next;
		r = eval_cmd(x, &pp->cmds[i], dot, v, i > 0, &next);
		json_decref(v);
		if (r < 0)
			return r;
		v = next;
	}
	if (declare)
		for (size_t i = 0; i < pp->ndecl; i++) {
			if (pp->assign)
				var_set(x, pp->decl[i], v);
			else
				var_push(x, pp->decl[i], v);
		}
	*out = v;
	return 0;
}

/* ---- nodes -------------------------------------------------------------- */

static int exec_list(struct texec *x, const struct tnode *l, json_t *dot);

static int exec_range_body(struct texec *x, const struct tnode *n, json_t *key, json_t *elem)
{
	const struct tpipe *pp = n->pipe;
	size_t mark = x->nvars;
	int r;

	if (pp->ndecl == 1) {
		if (pp->assign)
			var_set(x, pp->decl[0], elem);
		else
			x->vars[x->nvars - 1].val = (json_decref(x->vars[x->nvars - 1].val), json_incref(elem));
	} else if (pp->ndecl == 2) {
		if (pp->assign) {
			var_set(x, pp->decl[0], key);
			var_set(x, pp->decl[1], elem);
		} else {
			json_decref(x->vars[x->nvars - 2].val);
			x->vars[x->nvars - 2].val = json_incref(key);
			json_decref(x->vars[x->nvars - 1].val);
			x->vars[x->nvars - 1].val = json_incref(elem);
		}
	}
	r = exec_list(x, n->list, elem);
	var_pop(x, mark);
	return r;
}

static int exec_range(struct texec *x, const struct tnode *n, json_t *dot)
{
	const struct tpipe *pp = n->pipe;
	size_t mark = x->nvars, count = 0;
	json_t *v = NULL;
	int r;

	r = eval_pipe(x, pp, dot, false, &v);
	if (r < 0)
		return r;
	if (!pp->assign)
		for (size_t i = 0; i < pp->ndecl; i++)
			var_push(x, pp->decl[i], v);
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v) && r >= 0; i++, count++) {
			json_t *key = json_integer((json_int_t)i);
			r = exec_range_body(x, n, key, json_array_get(v, i));
			json_decref(key);
			if (r == FLOW_BREAK)
				break;
		}
	} else if (json_is_object(v)) {
		/* Maps are visited in key order, as Go does. */
		size_t nk = json_object_size(v), k = 0;
		const char **keys = xcalloc(nk ? nk : 1, sizeof(char *));
		const char *key;
		json_t *it;
		json_object_foreach(v, key, it) keys[k++] = key;
		qsort(keys, nk, sizeof(char *), (int (*)(const void *, const void *))strcmp);
		for (k = 0; k < nk && r >= 0; k++, count++) {
			json_t *kv = json_string_nocheck(keys[k]);
			r = exec_range_body(x, n, kv, json_object_get(v, keys[k]));
			json_decref(kv);
			if (r == FLOW_BREAK)
				break;
		}
		free(keys);
	} else if (v && !json_is_null(v)) {
		struct buf b = { 0 };
		tval_print(x, &b, v, true);
		r = xerr(x, n->pos, n->pos + 5, "range can't iterate over %.*s", (int)(b.len > 64 ? 64 : b.len),
			 b.data);
		buf_release(&b);
	}
	json_decref(v);
	var_pop(x, mark);
	if (r < 0)
		return r;
	if (count == 0 && n->elses)
		return exec_list(x, n->elses, dot);
	return 0;
}

static int exec_node(struct texec *x, const struct tnode *n, json_t *dot)
{
	size_t mark = x->nvars;
	json_t *v = NULL;
	int r = step(x, n->pos);

	if (r < 0)
		return r;
	switch (n->kind) {
	case TN_TEXT: return write_out(x, n->pos, n->text, n->len);
	case TN_BREAK: return FLOW_BREAK;
	case TN_CONTINUE: return FLOW_CONTINUE;
	case TN_LIST: return exec_list(x, n, dot);
	case TN_ACTION:
		r = eval_pipe(x, n->pipe, dot, true, &v);
		if (r == 0 && n->pipe->ndecl == 0) {
			struct buf b = { 0 };
			tval_print(x, &b, v, true);
			r = write_out(x, n->pos, b.data, b.len);
			buf_release(&b);
		}
		json_decref(v);
		return r;
	case TN_IF:
	case TN_WITH:
		r = eval_pipe(x, n->pipe, dot, true, &v);
		if (r == 0) {
			if (tval_truth(x, v))
				r = exec_list(x, n->list, n->kind == TN_WITH ? v : dot);
			else if (n->elses)
				r = exec_list(x, n->elses, dot);
		}
		json_decref(v);
		var_pop(x, mark);
		return r;
	case TN_RANGE: return exec_range(x, n, dot);
	}
	return 0;
}

static int exec_list(struct texec *x, const struct tnode *l, json_t *dot)
{
	int r = 0;
	if (++x->depth > TMPL_MAX_DEPTH * 2)
		return xerr(x, l->pos, l->pos, "nesting too deep");
	for (size_t i = 0; i < l->n && r == 0; i++)
		r = exec_node(x, l->items[i], dot);
	x->depth--;
	return r;
}

static int exec_with_flags(const struct gotmpl *t, json_t *dot, unsigned flags, struct buf *out,
			   struct kerror *e)
{
	struct texec x = { .t = t, .out = out, .flags = flags, .e = e };
	var_push(&x, "$", dot);
	int r = exec_list(&x, t->root, dot);
	var_pop(&x, 0);
	free(x.vars);
	free(x.maps);
	return r < 0 ? r : 0;
}

int gotmpl_exec(const struct gotmpl *t, json_t *dot, struct buf *out, struct kerror *e)
{
	return exec_with_flags(t, dot, 0, out, e);
}

/* ---- table headers ------------------------------------------------------ */

/* "CreatedSince" → "CREATED SINCE", "HTTPProxy" → "HTTP PROXY". */
static char *header_name(const char *f)
{
	struct buf b = { 0 };
	for (size_t i = 0; f[i]; i++) {
		bool up = f[i] >= 'A' && f[i] <= 'Z';
		bool prev_low = i && ((f[i - 1] >= 'a' && f[i - 1] <= 'z') || (f[i - 1] >= '0' && f[i - 1] <= '9'));
		bool prev_up = i && f[i - 1] >= 'A' && f[i - 1] <= 'Z';
		bool next_low = f[i + 1] >= 'a' && f[i + 1] <= 'z';
		if (up && (prev_low || (prev_up && next_low)))
			buf_append(&b, " ", 1);
		char c = f[i] >= 'a' && f[i] <= 'z' ? (char)(f[i] - 32) : f[i];
		buf_append(&b, &c, 1);
	}
	return buf_steal(&b);
}

static void collect_fields(const struct tnode *n, json_t *set);

static void collect_pipe(const struct tpipe *pp, json_t *set)
{
	for (size_t i = 0; pp && i < pp->ncmds; i++)
		for (size_t j = 0; j < pp->cmds[i].nargs; j++) {
			const struct targ *a = &pp->cmds[i].args[j];
			if (a->kind == TA_DOT && a->fields)
				json_object_set_new(set, a->fields[0], json_null());
			collect_pipe(a->pipe, set);
		}
}

static void collect_fields(const struct tnode *n, json_t *set)
{
	if (!n)
		return;
	collect_pipe(n->pipe, set);
	collect_fields(n->list, set);
	collect_fields(n->elses, set);
	for (size_t i = 0; i < n->n; i++)
		collect_fields(n->items[i], set);
}

void gotmpl_header(const struct gotmpl *t, const char *const *headers, struct buf *out)
{
	_cleanup_json_ json_t *h = json_object();
	const char *k;
	json_t *v;
	struct kerror e = { 0 };

	collect_fields(t->root, h);
	json_object_foreach(h, k, v) {
		const char *given = NULL;
		for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
			if (strcmp(headers[i], k) == 0)
				given = headers[i + 1];
		char *name = given ? NULL : header_name(k);
		json_object_set_new(h, k, json_string_nocheck(given ? given : name));
		free(name);
	}
	/* As docker: a header that cannot render keeps what it wrote. */
	(void)exec_with_flags(t, h, X_HEADER, out, &e);
	kerror_release(&e);
}
