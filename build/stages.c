/* The build plan: global ARGs, stages in order, base-image/stage
 * resolution, ONBUILD triggers of base images, COPY --from / mount from
 * references, the dependency graph and what --target needs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "build/plan_priv.h"

struct plan_priv {
	struct arena a;
};

static const char *const predefined[] = {
	"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
	"NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
};

static bool is_builtin_arg(const char *k)
{
	for (size_t i = 0; i < ARRAY_SIZE(predefined); i++)
		if (!strcmp(k, predefined[i]))
			return true;
	return str_has_prefix(k, "BUILDKIT_") || !strcmp(k, "SOURCE_DATE_EPOCH") ||
	       str_has_prefix(k, "TARGET") || str_has_prefix(k, "BUILD");
}

static void platform_args(struct kvlist *l, const char *prefix, const char *plat)
{
	char os[64] = "", arch[64] = "", var[64] = "";
	const char *p = plat, *s1 = strchr(p, '/');
	snprintf(os, sizeof(os), "%.*s", (int)(s1 ? (size_t)(s1 - p) : strlen(p)), p);
	if (s1) {
		const char *s2 = strchr(s1 + 1, '/');
		snprintf(arch, sizeof(arch), "%.*s",
			 (int)(s2 ? (size_t)(s2 - s1 - 1) : strlen(s1 + 1)), s1 + 1);
		if (s2)
			snprintf(var, sizeof(var), "%s", s2 + 1);
	}
	char k[32];
	snprintf(k, sizeof(k), "%sPLATFORM", prefix);
	kvlist_set(l, k, plat);
	snprintf(k, sizeof(k), "%sOS", prefix);
	kvlist_set(l, k, os);
	snprintf(k, sizeof(k), "%sARCH", prefix);
	kvlist_set(l, k, arch);
	snprintf(k, sizeof(k), "%sVARIANT", prefix);
	kvlist_set(l, k, var);
}

static int at(const struct containerfile *cf, const struct cf_node *n, int r, struct kerror *e)
{
	kerror_wrap(e, "%s:%d", cf->filename, n->start_line);
	return r;
}

static bool valid_stage_name(const char *s)
{
	if (!(*s >= 'a' && *s <= 'z'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_' || *s == '.'))
			return false;
	return true;
}

static char *lower(struct arena *a, const char *s)
{
	char *r = arena_strdup(a, s);
	for (char *p = r; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	return r;
}

int build_plan_find_stage(const struct build_plan *p, const char *name)
{
	for (size_t i = 0; i < p->nstages; i++)
		if (p->stages[i].name && !strcasecmp(p->stages[i].name, name))
			return (int)i;
	char *end;
	if (*name >= '0' && *name <= '9') {
		long v = strtol(name, &end, 10);
		if (!*end && v >= 0 && (size_t)v < p->nstages)
			return (int)v;
	}
	return -1;
}

static void scope_release(struct scope *sc)
{
	kvlist_release(&sc->env);
	kvlist_release(&sc->args);
}

static void scope_copy(struct scope *dst, const struct scope *src)
{
	for (size_t i = 0; i < src->env.n; i++)
		kvlist_set(&dst->env, src->env.keys[i], src->env.vals[i]);
	for (size_t i = 0; i < src->args.n; i++)
		kvlist_set(&dst->args, src->args.keys[i], src->args.vals[i]);
	dst->dirty = true;
}

static void add_dep(struct arena *a, struct build_stage *s, size_t d)
{
	for (size_t i = 0; i < s->ndeps; i++)
		if (s->deps[i] == d)
			return;
	size_t *nd = arena_alloc(a, (s->ndeps + 1) * sizeof(size_t));
	if (s->ndeps)
		memcpy(nd, s->deps, s->ndeps * sizeof(size_t));
	nd[s->ndeps++] = d;
	s->deps = nd;
}

/* 0 white, 1 grey, 2 black. */
static int visit(struct build_plan *p, size_t i, char *color, struct kerror *e)
{
	if (color[i] == 2)
		return 0;
	if (color[i] == 1)
		return kerror_set(e, EINVAL, "circular dependency detected on stage: %s",
				  p->stages[i].name ? p->stages[i].name : "(unnamed)");
	color[i] = 1;
	p->stages[i].needed = true;
	for (size_t k = 0; k < p->stages[i].ndeps; k++) {
		int r = visit(p, p->stages[i].deps[k], color, e);
		if (r < 0)
			return r;
	}
	color[i] = 2;
	return 0;
}

/* Resolves a --from / mount from= value: stage index or -1 (image). */
static int resolve_from(struct build_plan *p, size_t cur, const char *from, int *out,
			struct kerror *e)
{
	*out = -1;
	if (!from)
		return 0;
	for (size_t i = 0; i < p->nstages; i++)
		if (p->stages[i].name && !strcasecmp(p->stages[i].name, from)) {
			*out = (int)i;
			return i == cur ? kerror_set(e, EINVAL, "circular dependency detected on stage: %s",
						    p->stages[i].name) : 0;
		}
	if (*from >= '0' && *from <= '9') {
		char *end;
		long v = strtol(from, &end, 10);
		if (!*end) {
			if (v < 0 || (size_t)v >= cur)
				return kerror_set(e, EINVAL,
						  "invalid from flag value %s: refers to current or future build stage",
						  from);
			*out = (int)v;
		}
	}
	return 0;
}

static int make_steps(struct plan_ctx *pc, struct scope *sc, const struct cf_node *nodes,
		      size_t n, bool onbuild, struct ptrvec *out, struct kerror *e)
{
	for (size_t i = 0; i < n; i++) {
		const struct cf_node *nd = &nodes[i];
		int kind = plan_kind(nd->name);
		if (kind < 0)
			return at(pc->cf, nd, kerror_set(e, EINVAL, "unknown instruction: %s",
							 nd->keyword), e);
		if (kind == CF_FROM)
			return at(pc->cf, nd, kerror_set(e, EINVAL, "FROM isn't allowed here"), e);
		struct plan_step *st = arena_alloc(pc->a, sizeof(*st));
		int r = plan_step_make(pc, sc, nd, (enum cf_kind)kind, st, e);
		if (r < 0)
			return at(pc->cf, nd, r, e);
		st->from_onbuild = onbuild;
		ptrvec_push(out, st);
	}
	return 0;
}

/* Base image info: env for expansion, ONBUILD triggers inserted after FROM. */
static int apply_base_info(struct plan_ctx *pc, struct scope *sc, struct build_stage *st,
			   const struct cf_node *from, struct ptrvec *steps, struct kerror *e)
{
	struct build_base_info bi = { 0 };
	int r = pc->o->base_info(pc->o->base_ctx, st->base, st->platform, &bi, e);
	if (r < 0)
		return at(pc->cf, from, r, e);
	for (size_t i = 0; bi.env && bi.env[i]; i++) {
		char *eq = strchr(bi.env[i], '=');
		if (!eq)
			continue;
		*eq = '\0';
		kvlist_set(&sc->env, bi.env[i], eq + 1);
		*eq = '=';
	}
	sc->dirty = true;
	for (size_t i = 0; bi.onbuild && bi.onbuild[i] && r == 0; i++) {
		struct cf_node *nd = arena_alloc(pc->a, sizeof(*nd));
		r = cf_node_from_line(pc->a, bi.onbuild[i], strlen(bi.onbuild[i]), '\\', 0, nd, e);
		if (r < 0) {
			r = at(pc->cf, from, r, e);
			break;
		}
		nd->start_line = nd->end_line = from->start_line;
		if (!strcmp(nd->name, "onbuild") || !strcmp(nd->name, "from") ||
		    !strcmp(nd->name, "maintainer")) {
			r = at(pc->cf, from,
			       kerror_set(e, EINVAL, "%s isn't allowed as an ONBUILD trigger", nd->keyword), e);
			break;
		}
		r = make_steps(pc, sc, nd, 1, true, steps, e);
	}
	strv_free(bi.env);
	strv_free(bi.onbuild);
	return r;
}

static int from_step(struct plan_ctx *pc, struct build_plan *p, size_t idx,
		     const struct cf_node *n, struct build_stage *st, struct kerror *e)
{
	int r;
	static const struct { const char *name; } fl[] = { { "platform" } };
	(void)fl;
	for (size_t i = 0; i < n->nflags; i++) {
		const char *f = n->flags[i];
		if (!strcmp(f, "--"))
			break;
		if (str_has_prefix(f, "--platform=")) {
			if (st->platform)
				return kerror_set(e, EINVAL, "duplicate flag specified: platform");
			st->platform = (char *)f + 11;
			continue;
		}
		if (!strcmp(f, "--platform"))
			return kerror_set(e, EINVAL, "missing a value on flag: platform");
		const char *eq = strchr(f + 2, '=');
		return kerror_set(e, EINVAL, "unknown flag: %.*s",
				  (int)(eq ? (size_t)(eq - f - 2) : strlen(f + 2)), f + 2);
	}
	if (n->nargs == 3 && !strcasecmp(n->args[1], "as")) {
		st->name = lower(pc->a, n->args[2]);
		if (!valid_stage_name(st->name))
			return kerror_set(e, EINVAL,
					  "invalid name for build stage: \"%s\", name can't start with a number or contain symbols",
					  n->args[2]);
		for (size_t i = 0; i < idx; i++)
			if (p->stages[i].name && !strcmp(p->stages[i].name, st->name))
				return kerror_set(e, EINVAL, "duplicate stage name \"%s\"", st->name);
	} else if (n->nargs != 1) {
		return kerror_set(e, EINVAL, "FROM requires either one or three arguments");
	}
	/* Expanded with the global scope only. */
	struct shell_opts o = { .escape = pc->escape, .lookup = kvlist_lookup, .ctx = &pc->meta };
	char *x;
	if ((r = shell_expand(n->args[0], &o, &x, e)) < 0)
		return r;
	if (!*x) {
		free(x);
		return kerror_set(e, EINVAL, "base name (%s) should not be blank", n->args[0]);
	}
	st->base = arena_strdup(pc->a, x);
	free(x);
	if (st->platform) {
		if ((r = shell_expand(st->platform, &o, &x, e)) < 0)
			return r;
		st->platform = arena_strdup(pc->a, x);
		free(x);
	}
	st->base_stage = -1;
	for (size_t i = 0; i < idx; i++)
		if (p->stages[i].name && !strcasecmp(p->stages[i].name, st->base))
			st->base_stage = (int)i;
	st->scratch = st->base_stage < 0 && !strcmp(st->base, "scratch");
	return 0;
}

int build_plan_make(const struct containerfile *cf, const struct build_plan_opts *o,
		    struct build_plan **out, struct kerror *e)
{
	static const struct build_plan_opts defaults;
	struct plan_priv *pp = xcalloc(1, sizeof(*pp));
	struct build_plan *p = xcalloc(1, sizeof(*p));
	struct plan_ctx pc = { .a = &pp->a, .cf = cf, .o = o ? o : &defaults,
			       .escape = cf->escape };
	struct ptrvec stages = { 0 };
	struct scope *scopes = NULL;
	size_t i = 0;
	int r = 0;

	p->priv = pp;
	p->escape = cf->escape;
	o = pc.o;
	for (size_t k = 0; o->build_args && o->build_args[k]; k++) {
		const char *eq = strchr(o->build_args[k], '=');
		_cleanup_free_ char *key = xstrndup(o->build_args[k],
						    eq ? (size_t)(eq - o->build_args[k]) : strlen(o->build_args[k]));
		kvlist_set(&pc.build_args, key, eq ? eq + 1 : "");
	}
	const char *tp = o->target_platform ? o->target_platform : "linux/amd64";
	platform_args(&pc.meta, "TARGET", tp);
	platform_args(&pc.meta, "BUILD", o->build_platform ? o->build_platform : tp);

	/* Global ARGs (before the first FROM). */
	struct scope gs = { 0 };
	struct ptrvec gsteps = { 0 };
	for (; i < cf->nnodes && strcmp(cf->nodes[i].name, "from"); i++) {
		const struct cf_node *n = &cf->nodes[i];
		if (plan_kind(n->name) < 0) {
			r = at(cf, n, kerror_set(e, EINVAL, "unknown instruction: %s", n->keyword), e);
			goto fail_g;
		}
		if (strcmp(n->name, "arg")) {
			r = at(cf, n, kerror_set(e, EINVAL, "no build stage in current context"), e);
			goto fail_g;
		}
		scope_release(&gs);
		memset(&gs, 0, sizeof(gs));
		for (size_t k = 0; k < pc.meta.n; k++)
			kvlist_set(&gs.args, pc.meta.keys[k], pc.meta.vals[k]);
		struct plan_step st;
		r = plan_step_make(&pc, &gs, n, CF_ARG, &st, e);
		for (size_t k = 0; r == 0 && k < gs.args.n; k++)
			kvlist_set(&pc.meta, gs.args.keys[k], gs.args.vals[k]);
		if (r < 0) {
			r = at(cf, n, r, e);
			goto fail_g;
		}
	}
	{
		struct ptrvec gv = { 0 };
		for (size_t k = 0; k < pc.meta.n; k++)
			if (pc.meta.vals[k])
				ptrvec_push(&gv, xasprintf_arena(pc.a, "%s=%s", pc.meta.keys[k], pc.meta.vals[k]));
		p->global_args = arena_strv(pc.a, (char *const *)gv.v, gv.n);
		ptrvec_release(&gv);
	}
	if (i == cf->nnodes) {
		r = kerror_set(e, EINVAL, "%s: no build stage in current context", cf->filename);
		goto fail_g;
	}

	/* Stages. */
	size_t nst = 0;
	for (size_t k = i; k < cf->nnodes; k++)
		nst += !strcmp(cf->nodes[k].name, "from");
	p->stages = arena_alloc(pc.a, nst * sizeof(*p->stages));
	memset(p->stages, 0, nst * sizeof(*p->stages));
	scopes = xcalloc(nst, sizeof(*scopes));
	for (size_t si = 0; si < nst; si++) {
		const struct cf_node *from = &cf->nodes[i];
		size_t end = i + 1;
		while (end < cf->nnodes && strcmp(cf->nodes[end].name, "from"))
			end++;
		struct build_stage *st = &p->stages[si];
		struct scope *sc = &scopes[si];
		st->index = si;
		st->line = from->start_line;
		p->nstages = si + 1;
		if ((r = from_step(&pc, p, si, from, st, e)) < 0) {
			r = at(cf, from, r, e);
			goto fail;
		}
		if (st->base_stage >= 0) {
			scope_copy(sc, &scopes[st->base_stage]);
			add_dep(pc.a, st, (size_t)st->base_stage);
		}
		for (size_t k = 0; k < ARRAY_SIZE(predefined); k++) {
			const char *v = plan_build_arg(&pc, predefined[k]);
			if (v && !kvlist_get(&sc->args, predefined[k], strlen(predefined[k])))
				kvlist_set(&sc->args, predefined[k], v);
		}
		sc->dirty = true;
		struct ptrvec steps = { 0 };
		struct plan_step *fs = arena_alloc(pc.a, sizeof(*fs));
		memset(fs, 0, sizeof(*fs));
		fs->kind = CF_FROM;
		fs->node = from;
		fs->line = from->start_line;
		fs->end_line = from->end_line;
		fs->from_stage = st->base_stage;
		fs->unpack = -1;
		ptrvec_push(&steps, fs);
		if (st->base_stage < 0 && !st->scratch && o->base_info &&
		    (r = apply_base_info(&pc, sc, st, from, &steps, e)) < 0) {
			ptrvec_release(&steps);
			goto fail;
		}
		scope_snapshot(&pc, sc);
		fs->env = sc->env_snap;
		fs->args = sc->args_snap;
		r = make_steps(&pc, sc, cf->nodes + i + 1, end - i - 1, false, &steps, e);
		st->nsteps = steps.n;
		st->steps = arena_alloc(pc.a, steps.n * sizeof(*st->steps));
		for (size_t k = 0; k < steps.n; k++)
			st->steps[k] = *(struct plan_step *)steps.v[k];
		ptrvec_release(&steps);
		if (r < 0)
			goto fail;
		i = end;
	}

	/* References between stages. */
	for (size_t si = 0; si < p->nstages; si++) {
		struct build_stage *st = &p->stages[si];
		for (size_t k = 0; k < st->nsteps; k++) {
			struct plan_step *sp = &st->steps[k];
			if (sp->kind == CF_COPY && sp->from) {
				if ((r = resolve_from(p, si, sp->from, &sp->from_stage, e)) < 0) {
					r = at(cf, sp->node, r, e);
					goto fail;
				}
				if (sp->from_stage >= 0)
					add_dep(pc.a, st, (size_t)sp->from_stage);
			}
			for (size_t m = 0; m < sp->nmounts; m++) {
				struct plan_mount *mt = &sp->mounts[m];
				if ((r = resolve_from(p, si, mt->from, &mt->from_stage, e)) < 0) {
					r = at(cf, sp->node, r, e);
					goto fail;
				}
				if (mt->from_stage >= 0)
					add_dep(pc.a, st, (size_t)mt->from_stage);
			}
		}
	}

	/* Target and what it needs. */
	p->target = p->nstages - 1;
	if (o->target && *o->target) {
		int t = -1;
		for (size_t k = 0; k < p->nstages; k++)
			if (p->stages[k].name && !strcasecmp(p->stages[k].name, o->target))
				t = (int)k;
		if (t < 0) {
			r = kerror_set(e, EINVAL, "target stage \"%s\" could not be found", o->target);
			goto fail;
		}
		p->target = (size_t)t;
	}
	{
		_cleanup_free_ char *color = xcalloc(p->nstages, 1);
		/* Cycles anywhere are errors; then mark what the target needs. */
		for (size_t k = 0; k < p->nstages; k++)
			if ((r = visit(p, k, color, e)) < 0)
				goto fail;
		memset(color, 0, p->nstages);
		for (size_t k = 0; k < p->nstages; k++)
			p->stages[k].needed = false;
		visit(p, p->target, color, e);
	}
	{
		struct ptrvec un = { 0 };
		for (size_t k = 0; k < pc.build_args.n; k++)
			if (!kvlist_get(&pc.used, pc.build_args.keys[k], strlen(pc.build_args.keys[k])) &&
			    !is_builtin_arg(pc.build_args.keys[k]))
				ptrvec_push(&un, arena_strdup(pc.a, pc.build_args.keys[k]));
		p->unused_args = arena_strv(pc.a, (char *const *)un.v, un.n);
		ptrvec_release(&un);
	}
	for (size_t k = 0; k < nst; k++)
		scope_release(&scopes[k]);
	free(scopes);
	scope_release(&gs);
	ptrvec_release(&gsteps);
	kvlist_release(&pc.build_args);
	kvlist_release(&pc.meta);
	kvlist_release(&pc.used);
	ptrvec_release(&stages);
	*out = p;
	return 0;
fail:
	for (size_t k = 0; k < nst; k++)
		scope_release(&scopes[k]);
	free(scopes);
fail_g:
	scope_release(&gs);
	ptrvec_release(&gsteps);
	kvlist_release(&pc.build_args);
	kvlist_release(&pc.meta);
	kvlist_release(&pc.used);
	ptrvec_release(&stages);
	build_plan_free(p);
	return r;
}

void build_plan_free(struct build_plan *p)
{
	if (!p)
		return;
	struct plan_priv *pp = p->priv;
	if (pp) {
		arena_release(&pp->a);
		free(pp);
	}
	free(p);
}

void cleanup_build_planp(struct build_plan **p)
{
	build_plan_free(*p);
	*p = NULL;
}
