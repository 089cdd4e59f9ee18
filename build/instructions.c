/* Per-instruction checks, flags (BuildKit's BFlags rules) and expansion:
 * one parse-tree node → one plan step. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "build/plan_priv.h"

static const char *const kinds[] = {
	[CF_FROM] = "from", [CF_RUN] = "run", [CF_CMD] = "cmd", [CF_LABEL] = "label",
	[CF_MAINTAINER] = "maintainer", [CF_EXPOSE] = "expose", [CF_ENV] = "env",
	[CF_ADD] = "add", [CF_COPY] = "copy", [CF_ENTRYPOINT] = "entrypoint",
	[CF_VOLUME] = "volume", [CF_USER] = "user", [CF_WORKDIR] = "workdir",
	[CF_ARG] = "arg", [CF_ONBUILD] = "onbuild", [CF_STOPSIGNAL] = "stopsignal",
	[CF_HEALTHCHECK] = "healthcheck", [CF_SHELL] = "shell",
};

int plan_kind(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strcmp(kinds[i], name) == 0)
			return (int)i;
	return -1;
}

/* ---- scope ---------------------------------------------------------------- */

const char *scope_lookup(void *ctx, const char *name, size_t len)
{
	struct scope *sc = ctx;
	const char *v = kvlist_get(&sc->env, name, len);
	if (v)
		return v;
	return kvlist_get(&sc->args, name, len);
}

static char **snap(struct arena *a, const struct kvlist *l)
{
	char **v = arena_alloc(a, (l->n + 1) * sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (!l->vals[i])
			continue;
		size_t kl = strlen(l->keys[i]), vl = strlen(l->vals[i]);
		char *s = arena_alloc(a, kl + vl + 2);
		memcpy(s, l->keys[i], kl);
		s[kl] = '=';
		memcpy(s + kl + 1, l->vals[i], vl + 1);
		v[k++] = s;
	}
	v[k] = NULL;
	return v;
}

void scope_snapshot(struct plan_ctx *pc, struct scope *sc)
{
	if (!sc->dirty && sc->env_snap)
		return;
	sc->env_snap = snap(pc->a, &sc->env);
	sc->args_snap = snap(pc->a, &sc->args);
	sc->dirty = false;
}

int plan_expand(struct plan_ctx *pc, struct scope *sc, const char *word, char **out,
		struct kerror *e)
{
	struct shell_opts o = { .escape = pc->escape, .lookup = scope_lookup, .ctx = sc };
	char *r;
	if (shell_expand(word, &o, &r, e) < 0)
		return -EINVAL;
	*out = arena_strdup(pc->a, r);
	free(r);
	return 0;
}

const char *plan_build_arg(struct plan_ctx *pc, const char *name)
{
	const char *v = kvlist_get(&pc->build_args, name, strlen(name));
	if (v)
		kvlist_set(&pc->used, name, "");
	return v;
}

/* ---- flags ------------------------------------------------------------------ */

enum ftype { F_BOOL, F_STR, F_STRS };
struct fdef {
	const char *name;
	enum ftype t;
};
struct fval {
	bool set;
	bool b;
	const char *s;
	struct ptrvec all;
};

static int parse_flags(const struct cf_node *n, const struct fdef *defs, size_t nd,
		       struct fval *vals, struct kerror *e)
{
	for (size_t i = 0; i < n->nflags; i++) {
		const char *arg = n->flags[i];
		if (strncmp(arg, "--", 2) != 0)
			return kerror_set(e, EINVAL, "arg should start with -- : %s", arg);
		if (strcmp(arg, "--") == 0)
			return 0;
		const char *name = arg + 2, *eq = strchr(name, '=');
		size_t nl = eq ? (size_t)(eq - name) : strlen(name);
		const char *value = eq ? eq + 1 : "";
		size_t k;
		for (k = 0; k < nd; k++)
			if (strlen(defs[k].name) == nl && memcmp(defs[k].name, name, nl) == 0)
				break;
		if (k == nd)
			return kerror_set(e, EINVAL, "unknown flag: %.*s", (int)nl, name);
		struct fval *v = &vals[k];
		if (v->set && defs[k].t != F_STRS)
			return kerror_set(e, EINVAL, "duplicate flag specified: %.*s", (int)nl, name);
		v->set = true;
		switch (defs[k].t) {
		case F_BOOL:
			if (eq && !*value)
				return kerror_set(e, EINVAL, "missing a value on flag: %.*s", (int)nl, name);
			if (!*value || strcasecmp(value, "true") == 0)
				v->b = true;
			else if (strcasecmp(value, "false") == 0)
				v->b = false;
			else
				return kerror_set(e, EINVAL, "expecting boolean value for flag %.*s, not: %s",
						  (int)nl, name, value);
			break;
		case F_STR:
			if (!eq)
				return kerror_set(e, EINVAL, "missing a value on flag: %.*s", (int)nl, name);
			v->s = value;
			break;
		case F_STRS:
			if (!eq)
				return kerror_set(e, EINVAL, "missing a value on flag: %.*s", (int)nl, name);
			ptrvec_push(&v->all, (void *)value);
			break;
		}
	}
	return 0;
}

static void release_flags(struct fval *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ptrvec_release(&v[i].all);
}

static char **copy_strs(struct arena *a, const struct ptrvec *p, size_t *n)
{
	*n = p->n;
	char **v = arena_alloc(a, (p->n + 1) * sizeof(char *));
	for (size_t i = 0; i < p->n; i++)
		v[i] = arena_strdup(a, p->v[i]);
	v[p->n] = NULL;
	return v;
}

/* ---- RUN --mount ----------------------------------------------------------- */

static bool parse_bool(const char *s, bool *out)
{
	if (!*s || !strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "t")) {
		*out = true;
		return true;
	}
	if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "f")) {
		*out = false;
		return true;
	}
	return false;
}

static bool parse_uint(const char *s, int base, uint32_t *out)
{
	char *end;
	if (!*s || *s == '-')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, base);
	if (*end || errno || v > 0xFFFFFFFFul)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int parse_mount(struct plan_ctx *pc, struct scope *sc, const char *spec, int ssh_n,
		       struct plan_mount *m, struct kerror *e)
{
	memset(m, 0, sizeof(*m));
	m->from_stage = -1;
	/* CSV fields; double quotes group a field. */
	struct ptrvec fields = { 0 };
	struct buf f = { 0 };
	bool inq = false;
	for (const char *p = spec;; p++) {
		if (*p == '"') {
			inq = !inq;
			continue;
		}
		if (!*p || (*p == ',' && !inq)) {
			ptrvec_push(&fields, arena_strndup(pc->a, f.data ? f.data : "", f.len));
			f.len = 0;
			if (!*p)
				break;
			continue;
		}
		buf_append(&f, p, 1);
	}
	buf_release(&f);
	int r = 0;
	bool type_set = false;
	/* The type decides defaults, so find it first. */
	for (size_t i = 0; i < fields.n; i++) {
		const char *fl = fields.v[i];
		if (strncasecmp(fl, "type=", 5) == 0) {
			const char *t = fl + 5;
			if (!strcmp(t, "bind"))
				m->type = MOUNT_BIND;
			else if (!strcmp(t, "cache"))
				m->type = MOUNT_CACHE;
			else if (!strcmp(t, "tmpfs"))
				m->type = MOUNT_TMPFS;
			else if (!strcmp(t, "secret"))
				m->type = MOUNT_SECRET;
			else if (!strcmp(t, "ssh"))
				m->type = MOUNT_SSH;
			else {
				r = kerror_set(e, EINVAL, "unsupported mount type \"%s\"", t);
				goto out;
			}
			type_set = true;
		}
	}
	(void)type_set;
	if (m->type == MOUNT_BIND)
		m->readonly = true; /* Docker: bind mounts are read-only unless rw */
	if (m->type == MOUNT_CACHE)
		m->mode = 0755, m->mode_set = true;
	else if (m->type == MOUNT_SECRET)
		m->mode = 0400, m->mode_set = true;
	else if (m->type == MOUNT_SSH)
		m->mode = 0600, m->mode_set = true;

	for (size_t i = 0; i < fields.n; i++) {
		char *fl = fields.v[i];
		if (!*fl)
			continue;
		char *eq = strchr(fl, '=');
		char key[32];
		size_t kl = eq ? (size_t)(eq - fl) : strlen(fl);
		if (kl >= sizeof(key)) {
			r = kerror_set(e, EINVAL, "unexpected key '%.*s' in '%s'", (int)kl, fl, fl);
			goto out;
		}
		for (size_t k = 0; k < kl; k++)
			key[k] = (char)(fl[k] >= 'A' && fl[k] <= 'Z' ? fl[k] + 32 : fl[k]);
		key[kl] = '\0';
		char *raw = eq ? eq + 1 : NULL, *val = NULL;
		if (!strcmp(key, "type"))
			continue;
		bool b;
		if (!eq) {
			if (!strcmp(key, "readonly") || !strcmp(key, "ro")) {
				m->readonly = true;
			} else if (!strcmp(key, "readwrite") || !strcmp(key, "rw")) {
				m->readonly = false;
			} else if (!strcmp(key, "required")) {
				m->required = true;
			} else {
				r = kerror_set(e, EINVAL, "unexpected key '%s' in '%s'", key, fl);
				goto out;
			}
			continue;
		}
		if (strcmp(key, "from") == 0) {
			m->from = arena_strdup(pc->a, raw);
			continue;
		}
		if ((r = plan_expand(pc, sc, raw, &val, e)) < 0)
			goto out;
		if (!strcmp(key, "target") || !strcmp(key, "dst") || !strcmp(key, "destination")) {
			m->target = val;
		} else if (!strcmp(key, "source") || !strcmp(key, "src")) {
			m->source = val;
		} else if (!strcmp(key, "id")) {
			m->id = val;
		} else if (!strcmp(key, "env")) {
			m->env = val;
		} else if (!strcmp(key, "size")) {
			m->size = val;
		} else if (!strcmp(key, "sharing")) {
			if (!strcmp(val, "shared"))
				m->sharing = SHARING_SHARED;
			else if (!strcmp(val, "private"))
				m->sharing = SHARING_PRIVATE;
			else if (!strcmp(val, "locked"))
				m->sharing = SHARING_LOCKED;
			else {
				r = kerror_set(e, EINVAL, "unsupported sharing value \"%s\"", val);
				goto out;
			}
		} else if (!strcmp(key, "readonly") || !strcmp(key, "ro") || !strcmp(key, "rw") ||
			   !strcmp(key, "readwrite") || !strcmp(key, "required")) {
			if (!parse_bool(val, &b)) {
				r = kerror_set(e, EINVAL, "invalid value for %s: %s", key, val);
				goto out;
			}
			if (key[0] == 'r' && key[1] == 'e' && key[2] == 'q')
				m->required = b;
			else if (!strcmp(key, "rw") || !strcmp(key, "readwrite"))
				m->readonly = !b;
			else
				m->readonly = b;
		} else if (!strcmp(key, "mode")) {
			if (!parse_uint(val, 8, &m->mode)) {
				r = kerror_set(e, EINVAL, "invalid value %s for mode", val);
				goto out;
			}
			m->mode_set = true;
		} else if (!strcmp(key, "uid") || !strcmp(key, "gid")) {
			if (!parse_uint(val, 10, key[0] == 'u' ? &m->uid : &m->gid)) {
				r = kerror_set(e, EINVAL, "invalid value %s for %s", val, key);
				goto out;
			}
		} else {
			r = kerror_set(e, EINVAL, "unexpected key '%s' in '%s'", key, fl);
			goto out;
		}
	}
	if (m->type == MOUNT_SECRET) {
		if (!m->id && m->target) {
			const char *b = strrchr(m->target, '/');
			m->id = arena_strdup(pc->a, b ? b + 1 : m->target);
		}
		if (!m->id && !m->env) {
			r = kerror_set(e, EINVAL, "one of target or id is required for secret mounts");
			goto out;
		}
		if (!m->target && !m->env)
			m->target = xasprintf_arena(pc->a, "/run/secrets/%s", m->id);
	} else if (m->type == MOUNT_SSH) {
		if (!m->id)
			m->id = arena_strdup(pc->a, "default");
		if (!m->target)
			m->target = xasprintf_arena(pc->a, "/run/buildkit/ssh_agent.%d", ssh_n);
	} else if (!m->target) {
		r = kerror_set(e, EINVAL, "mount type %s requires a target",
			       m->type == MOUNT_BIND ? "bind" : m->type == MOUNT_CACHE ? "cache" : "tmpfs");
		goto out;
	}
	if (m->type == MOUNT_CACHE && !m->id)
		m->id = m->target;
	if (m->from && m->type != MOUNT_BIND && m->type != MOUNT_CACHE) {
		r = kerror_set(e, EINVAL, "from is not supported for mount type %s",
			       m->type == MOUNT_TMPFS ? "tmpfs" : m->type == MOUNT_SECRET ? "secret" : "ssh");
		goto out;
	}
out:
	ptrvec_release(&fields);
	return r;
}

/* ---- durations (Go time.ParseDuration) -------------------------------------- */

int parse_go_duration(const char *s, int64_t *ns)
{
	const char *p = s;
	bool neg = false;
	double total = 0;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!strcmp(p, "0")) {
		*ns = 0;
		return 0;
	}
	if (!*p)
		return -EINVAL;
	while (*p) {
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return -EINVAL;
		char *end;
		const char *start = p;
		bool digits = false;
		while (*p >= '0' && *p <= '9')
			p++, digits = true;
		if (*p == '.') {
			p++;
			while (*p >= '0' && *p <= '9')
				p++, digits = true;
		}
		if (!digits)
			return -EINVAL;
		double v = strtod(start, &end);
		const char *u = p;
		while (*p && !((*p >= '0' && *p <= '9') || *p == '.'))
			p++;
		size_t ul = (size_t)(p - u);
		double mul;
		if (ul == 2 && !strncmp(u, "ns", 2))
			mul = 1;
		else if ((ul == 2 && !strncmp(u, "us", 2)) || (ul == 3 && !strncmp(u, "\xc2\xb5s", 3)) ||
			 (ul == 3 && !strncmp(u, "\xce\xbcs", 3)))
			mul = 1e3;
		else if (ul == 2 && !strncmp(u, "ms", 2))
			mul = 1e6;
		else if (ul == 1 && *u == 's')
			mul = 1e9;
		else if (ul == 1 && *u == 'm')
			mul = 60e9;
		else if (ul == 1 && *u == 'h')
			mul = 3600e9;
		else
			return -EINVAL;
		total += v * mul;
		if (total > 9.2e18)
			return -ERANGE;
	}
	*ns = (int64_t)(neg ? -total : total);
	return 0;
}

static int opt_interval(const struct fval *f, const char *name, int64_t *out, struct kerror *e)
{
	*out = 0;
	if (!f->set || !f->s || !*f->s)
		return 0;
	int64_t d;
	if (parse_go_duration(f->s, &d) < 0)
		return kerror_set(e, EINVAL, "time: invalid duration \"%s\"", f->s);
	if (d == 0)
		return 0;
	if (d < 0)
		return kerror_set(e, EINVAL, "Interval \"%s\" cannot be negative", name);
	if (d < 1000000)
		return kerror_set(e, EINVAL, "Interval \"%s\" cannot be less than 1ms", name);
	*out = d;
	return 0;
}

/* ---- steps ------------------------------------------------------------------ */

static int exactly_one(const struct cf_node *n, const char *kw, struct kerror *e)
{
	if (n->nargs != 1)
		return kerror_set(e, EINVAL, "%s requires exactly one argument", kw);
	return 0;
}

static int at_least_one(const struct cf_node *n, const char *kw, struct kerror *e)
{
	if (n->nargs == 0)
		return kerror_set(e, EINVAL, "%s requires at least one argument", kw);
	return 0;
}

static void raw_argv(struct plan_ctx *pc, const struct cf_node *n, struct plan_step *st)
{
	st->argv = arena_alloc(pc->a, (n->nargs + 1) * sizeof(char *));
	for (size_t i = 0; i < n->nargs; i++)
		st->argv[i] = arena_strdup(pc->a, n->args[i]);
	st->argv[n->nargs] = NULL;
	st->argc = n->nargs;
	st->json = n->json;
}

/* ENV / LABEL: key, value, sep triples; expanded with the scope before. */
static int kv_triples(struct plan_ctx *pc, struct scope *sc, const struct cf_node *n,
		      const char *kw, struct plan_step *st, struct kerror *e)
{
	int r;
	if ((r = at_least_one(n, kw, e)) < 0)
		return r;
	if (n->nargs % 3)
		return kerror_set(e, EINVAL, "Bad input to %s, too many arguments", kw);
	st->nkvs = n->nargs / 3;
	st->kvs = arena_alloc(pc->a, st->nkvs * sizeof(*st->kvs));
	for (size_t i = 0; i < st->nkvs; i++) {
		struct plan_kv *kv = &st->kvs[i];
		if (!*n->args[3 * i])
			return kerror_set(e, EINVAL, "%s names can not be blank", kw);
		if ((r = plan_expand(pc, sc, n->args[3 * i], &kv->key, e)) < 0 ||
		    (r = plan_expand(pc, sc, n->args[3 * i + 1], &kv->value, e)) < 0)
			return r;
		kv->legacy = !*n->args[3 * i + 2];
	}
	return 0;
}

static int arg_step(struct plan_ctx *pc, struct scope *sc, const struct cf_node *n,
		    struct plan_step *st, struct kerror *e)
{
	int r;
	if ((r = at_least_one(n, "ARG", e)) < 0)
		return r;
	st->nkvs = n->nargs;
	st->kvs = arena_alloc(pc->a, n->nargs * sizeof(*st->kvs));
	for (size_t i = 0; i < n->nargs; i++) {
		const char *w = n->args[i], *eq = strchr(w, '=');
		struct plan_kv *kv = &st->kvs[i];
		_cleanup_free_ char *name = xstrndup(w, eq ? (size_t)(eq - w) : strlen(w));
		if (!*name)
			return kerror_set(e, EINVAL, "ARG names can not be blank");
		if ((r = plan_expand(pc, sc, name, &kv->key, e)) < 0)
			return r;
		if (eq && (r = plan_expand(pc, sc, eq + 1, &kv->value, e)) < 0)
			return r;
	}
	/* Values: --build-arg, else the default, else the global ARG. */
	for (size_t i = 0; i < st->nkvs; i++) {
		struct plan_kv *kv = &st->kvs[i];
		const char *v = plan_build_arg(pc, kv->key);
		if (!v && !kv->value)
			v = kvlist_get(&pc->meta, kv->key, strlen(kv->key));
		if (v)
			kv->value = arena_strdup(pc->a, v);
		kvlist_set(&sc->args, kv->key, kv->value);
	}
	sc->dirty = true;
	return 0;
}

static const struct fdef run_flags[] = { { "mount", F_STRS }, { "network", F_STR },
					 { "security", F_STR }, { "device", F_STRS } };
static const struct fdef add_flags[] = { { "chown", F_STR }, { "chmod", F_STR },
					 { "link", F_BOOL }, { "keep-git-dir", F_BOOL },
					 { "checksum", F_STR }, { "unpack", F_BOOL },
					 { "exclude", F_STRS } };
static const struct fdef copy_flags[] = { { "from", F_STR }, { "chown", F_STR },
					  { "chmod", F_STR }, { "link", F_BOOL },
					  { "parents", F_BOOL }, { "exclude", F_STRS } };
static const struct fdef hc_flags[] = { { "interval", F_STR }, { "timeout", F_STR },
					{ "start-period", F_STR }, { "start-interval", F_STR },
					{ "retries", F_STR } };

static int run_step(struct plan_ctx *pc, struct scope *sc, const struct cf_node *n,
		    struct plan_step *st, struct fval *fv, struct kerror *e)
{
	int r;
	raw_argv(pc, n, st);
	st->nheredocs = n->nheredocs;
	st->heredocs = arena_alloc(pc->a, (n->nheredocs + 1) * sizeof(*st->heredocs));
	for (size_t i = 0; i < n->nheredocs; i++) {
		st->heredocs[i] = n->heredocs[i];
		st->heredocs[i].name = arena_strdup(pc->a, n->heredocs[i].name);
		st->heredocs[i].content = arena_strdup(pc->a, n->heredocs[i].content);
	}
	if (fv[0].all.n) {
		st->nmounts = fv[0].all.n;
		st->mounts = arena_alloc(pc->a, st->nmounts * sizeof(*st->mounts));
		int ssh = 0;
		for (size_t i = 0; i < st->nmounts; i++) {
			if ((r = parse_mount(pc, sc, fv[0].all.v[i], ssh, &st->mounts[i], e)) < 0)
				return r;
			ssh += st->mounts[i].type == MOUNT_SSH;
		}
	}
	if (fv[1].set) {
		const char *v = fv[1].s;
		if (strcmp(v, "default") && strcmp(v, "none") && strcmp(v, "host"))
			return kerror_set(e, EINVAL, "unsupported network mode \"%s\"", v);
		st->network = arena_strdup(pc->a, v);
	}
	if (fv[2].set) {
		const char *v = fv[2].s;
		if (strcmp(v, "sandbox") && strcmp(v, "insecure"))
			return kerror_set(e, EINVAL, "unsupported security mode \"%s\"", v);
		st->security = arena_strdup(pc->a, v);
	}
	st->devices = copy_strs(pc->a, &fv[3].all, &st->ndevices);
	return 0;
}

static int copy_step(struct plan_ctx *pc, struct scope *sc, const struct cf_node *n,
		     struct plan_step *st, struct fval *fv, bool add, struct kerror *e)
{
	const char *kw = add ? "ADD" : "COPY";
	int r;
	if (n->nargs < 2)
		return kerror_set(e, EINVAL,
				  "%s requires at least two arguments, but only one was provided. Destination could not be determined",
				  kw);
	struct cf_heredoc h;
	char *hn = NULL;
	_cleanup_kerror_ struct kerror ign = { 0 };
	if (!n->json && cf_parse_heredoc_word(n->args[n->nargs - 1], &h, &hn, &ign) == 1) {
		free(hn);
		return kerror_set(e, EINVAL, "%s cannot accept a heredoc as a destination", kw);
	}
	if ((r = plan_expand(pc, sc, n->args[n->nargs - 1], &st->dest, e)) < 0)
		return r;
	struct ptrvec srcs = { 0 }, inl = { 0 };
	for (size_t i = 0; i + 1 < n->nargs; i++) {
		hn = NULL;
		if (!n->json && n->nheredocs &&
		    cf_parse_heredoc_word(n->args[i], &h, &hn, &ign) == 1) {
			struct plan_inline *pi = arena_alloc(pc->a, sizeof(*pi));
			const char *body = "";
			for (size_t k = 0; k < n->nheredocs; k++)
				if (!strcmp(n->heredocs[k].name, hn))
					body = n->heredocs[k].content;
			pi->name = arena_strdup(pc->a, hn);
			free(hn);
			struct buf b = { 0 };
			for (const char *p = body; *p;) {
				const char *nl = strchr(p, '\n');
				size_t ln = nl ? (size_t)(nl - p) + 1 : strlen(p);
				const char *q = p;
				if (h.chomp)
					while (q < p + ln && *q == '\t')
						q++;
				buf_append(&b, q, ln - (size_t)(q - p));
				p += ln;
			}
			pi->data = arena_strdup(pc->a, b.data ? b.data : "");
			buf_release(&b);
			if (h.expand) {
				struct shell_opts o = { .escape = pc->escape, .lookup = scope_lookup,
							.ctx = sc, .skip_quotes = true };
				char *x;
				if ((r = shell_expand(pi->data, &o, &x, e)) < 0)
					goto out;
				pi->data = arena_strdup(pc->a, x);
				free(x);
			}
			ptrvec_push(&inl, pi);
			continue;
		}
		char *x;
		if ((r = plan_expand(pc, sc, n->args[i], &x, e)) < 0)
			goto out;
		ptrvec_push(&srcs, x);
	}
	st->argv = copy_strs(pc->a, &srcs, &st->argc);
	st->ninlines = inl.n;
	st->inlines = arena_alloc(pc->a, (inl.n + 1) * sizeof(*st->inlines));
	for (size_t i = 0; i < inl.n; i++)
		st->inlines[i] = *(struct plan_inline *)inl.v[i];
	st->json = n->json;
	st->from_stage = -1;
	st->unpack = -1;
	size_t k = 0;
	if (!add) {
		if (fv[0].set) {
			if (strchr(fv[0].s, '$')) {
				r = kerror_set(e, EINVAL,
					       "COPY --from=%s: variable expansion is not supported here, name the image in a stage (FROM ${VAR} AS alias) and copy from that",
					       fv[0].s);
				goto out;
			}
			st->from = arena_strdup(pc->a, fv[0].s);
		}
		k = 1;
	}
	if (fv[k].set && (r = plan_expand(pc, sc, fv[k].s, &st->chown, e)) < 0)
		goto out;
	if (fv[k + 1].set && (r = plan_expand(pc, sc, fv[k + 1].s, &st->chmod, e)) < 0)
		goto out;
	st->link = fv[k + 2].set && fv[k + 2].b;
	if (add) {
		st->keep_git_dir = fv[3].set && fv[3].b;
		if (fv[4].set && (r = plan_expand(pc, sc, fv[4].s, &st->checksum, e)) < 0)
			goto out;
		if (fv[5].set)
			st->unpack = fv[5].b;
		st->excludes = copy_strs(pc->a, &fv[6].all, &st->nexcludes);
	} else {
		st->parents = fv[4].set && fv[4].b;
		st->excludes = copy_strs(pc->a, &fv[5].all, &st->nexcludes);
	}
	r = 0;
out:
	ptrvec_release(&srcs);
	ptrvec_release(&inl);
	return r;
}

static int healthcheck_step(struct plan_ctx *pc, const struct cf_node *n, struct plan_step *st,
			    struct fval *fv, struct kerror *e)
{
	int r;
	if ((r = at_least_one(n, "HEALTHCHECK", e)) < 0)
		return r;
	struct plan_healthcheck *hc = arena_alloc(pc->a, sizeof(*hc));
	memset(hc, 0, sizeof(*hc));
	char typ[16];
	size_t tl = strlen(n->args[0]);
	if (tl >= sizeof(typ))
		tl = sizeof(typ) - 1;
	for (size_t i = 0; i < tl; i++)
		typ[i] = (char)(n->args[0][i] >= 'a' && n->args[0][i] <= 'z' ? n->args[0][i] - 32 : n->args[0][i]);
	typ[tl] = '\0';
	if (!strcmp(typ, "NONE")) {
		if (n->nargs != 1)
			return kerror_set(e, EINVAL, "HEALTHCHECK NONE takes no arguments");
		char *t[] = { "NONE" };
		hc->test = arena_strv(pc->a, t, 1);
	} else if (!strcmp(typ, "CMD")) {
		if (n->nargs < 2)
			return kerror_set(e, EINVAL, "Missing command after HEALTHCHECK CMD");
		char **t = arena_alloc(pc->a, (n->nargs + 1) * sizeof(char *));
		t[0] = n->json ? "CMD" : "CMD-SHELL";
		for (size_t i = 1; i < n->nargs; i++)
			t[i] = arena_strdup(pc->a, n->args[i]);
		t[n->nargs] = NULL;
		hc->test = t;
		if ((r = opt_interval(&fv[0], "interval", &hc->interval, e)) < 0 ||
		    (r = opt_interval(&fv[1], "timeout", &hc->timeout, e)) < 0 ||
		    (r = opt_interval(&fv[2], "start-period", &hc->start_period, e)) < 0 ||
		    (r = opt_interval(&fv[3], "start-interval", &hc->start_interval, e)) < 0)
			return r;
		if (fv[4].set && *fv[4].s) {
			char *end;
			errno = 0;
			long v = strtol(fv[4].s, &end, 10);
			if (*end || errno || v > INT32_MAX || v < INT32_MIN)
				return kerror_set(e, EINVAL, "strconv.ParseInt: parsing \"%s\": invalid syntax",
						  fv[4].s);
			if (v < 0)
				return kerror_set(e, EINVAL, "--retries cannot be negative (%ld)", v);
			hc->retries = (int)v;
		}
	} else {
		return kerror_set(e, EINVAL, "Unknown type \"%s\" in HEALTHCHECK (try CMD)", typ);
	}
	st->healthcheck = hc;
	return 0;
}

static int onbuild_step(struct plan_ctx *pc, const struct cf_node *n, struct plan_step *st,
			struct kerror *e)
{
	if (!n->sub)
		return kerror_set(e, EINVAL, "ONBUILD requires at least one argument");
	const char *k = n->sub->name;
	if (!strcmp(k, "onbuild"))
		return kerror_set(e, EINVAL, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
	if (!strcmp(k, "maintainer") || !strcmp(k, "from"))
		return kerror_set(e, EINVAL, "%s isn't allowed as an ONBUILD trigger",
				  !strcmp(k, "from") ? "FROM" : "MAINTAINER");
	/* (?i)^\s*ONBUILD\s* removed from the original line. */
	size_t len = strlen(n->original);
	const char *s = trim_left_uspace(n->original, &len);
	s += 7, len -= 7;
	s = trim_left_uspace(s, &len);
	st->trigger = arena_strndup(pc->a, s, len);
	return 0;
}

int plan_step_make(struct plan_ctx *pc, struct scope *sc, const struct cf_node *n,
		   enum cf_kind kind, struct plan_step *st, struct kerror *e)
{
	static const struct fdef none[1];
	const struct fdef *defs = none;
	size_t nd = 0;
	struct fval fv[8];
	int r;

	memset(fv, 0, sizeof(fv));
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	st->node = n;
	st->line = n->start_line;
	st->end_line = n->end_line;
	st->from_stage = -1;
	st->unpack = -1;
	switch (kind) {
	case CF_RUN: defs = run_flags, nd = ARRAY_SIZE(run_flags); break;
	case CF_ADD: defs = add_flags, nd = ARRAY_SIZE(add_flags); break;
	case CF_COPY: defs = copy_flags, nd = ARRAY_SIZE(copy_flags); break;
	case CF_HEALTHCHECK: defs = hc_flags, nd = ARRAY_SIZE(hc_flags); break;
	default: break;
	}
	if ((r = parse_flags(n, defs, nd, fv, e)) < 0)
		goto out;
	/* Snapshot the environment the step runs in (before ENV/ARG change it). */
	scope_snapshot(pc, sc);
	st->env = sc->env_snap;
	st->args = sc->args_snap;

	switch (kind) {
	case CF_FROM:
		break; /* handled by stages.c */
	case CF_RUN:
		r = run_step(pc, sc, n, st, fv, e);
		break;
	case CF_CMD:
	case CF_ENTRYPOINT:
		raw_argv(pc, n, st);
		break;
	case CF_SHELL:
		if (n->nargs == 0)
			r = kerror_set(e, EINVAL, "SHELL requires at least one argument");
		else if (!n->json)
			r = kerror_set(e, EINVAL, "SHELL requires the arguments to be in JSON form");
		else
			raw_argv(pc, n, st);
		break;
	case CF_ENV:
	case CF_LABEL:
		if ((r = kv_triples(pc, sc, n, kind == CF_ENV ? "ENV" : "LABEL", st, e)) < 0)
			break;
		if (kind == CF_ENV) {
			for (size_t i = 0; i < st->nkvs; i++)
				kvlist_set(&sc->env, st->kvs[i].key, st->kvs[i].value);
			sc->dirty = true;
		}
		break;
	case CF_ARG:
		r = arg_step(pc, sc, n, st, e);
		break;
	case CF_MAINTAINER:
		if ((r = exactly_one(n, "MAINTAINER", e)) == 0)
			raw_argv(pc, n, st);
		break;
	case CF_EXPOSE: {
		if ((r = at_least_one(n, "EXPOSE", e)) < 0)
			break;
		struct ptrvec ports = { 0 };
		for (size_t i = 0; i < n->nargs && r == 0; i++) {
			struct shell_opts o = { .escape = pc->escape, .lookup = scope_lookup, .ctx = sc };
			char **w;
			if ((r = shell_expand_words(n->args[i], &o, &w, e)) < 0)
				break;
			for (size_t k = 0; w[k]; k++)
				ptrvec_push(&ports, arena_strdup(pc->a, w[k]));
			strv_free(w);
		}
		st->argv = copy_strs(pc->a, &ports, &st->argc);
		ptrvec_release(&ports);
		break;
	}
	case CF_VOLUME:
		if ((r = at_least_one(n, "VOLUME", e)) < 0)
			break;
		st->argv = arena_alloc(pc->a, (n->nargs + 1) * sizeof(char *));
		st->argc = n->nargs;
		st->json = n->json;
		for (size_t i = 0; i < n->nargs && r == 0; i++) {
			if ((r = plan_expand(pc, sc, n->args[i], &st->argv[i], e)) < 0)
				break;
			if (!*st->argv[i])
				r = kerror_set(e, EINVAL, "VOLUME specified can not be an empty string");
		}
		if (r == 0)
			st->argv[n->nargs] = NULL;
		break;
	case CF_USER:
	case CF_WORKDIR:
	case CF_STOPSIGNAL: {
		const char *kw = kind == CF_USER ? "USER" : kind == CF_WORKDIR ? "WORKDIR" : "STOPSIGNAL";
		if ((r = exactly_one(n, kw, e)) < 0)
			break;
		st->argv = arena_alloc(pc->a, 2 * sizeof(char *));
		st->argc = 1;
		st->argv[1] = NULL;
		r = plan_expand(pc, sc, n->args[0], &st->argv[0], e);
		break;
	}
	case CF_ADD:
	case CF_COPY:
		r = copy_step(pc, sc, n, st, fv, kind == CF_ADD, e);
		break;
	case CF_HEALTHCHECK:
		r = healthcheck_step(pc, n, st, fv, e);
		break;
	case CF_ONBUILD:
		r = onbuild_step(pc, n, st, e);
		break;
	}
out:
	release_flags(fv, ARRAY_SIZE(fv));
	return r;
}
