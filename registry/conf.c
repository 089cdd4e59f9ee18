/* registries.conf v2: search registries, aliases, [[registry]] tables with
 * prefix/location/insecure/blocked/mirrors, and short-name resolution. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"

#define MAX_CONF (1024 * 1024)

static void entry_release(struct reg_entry *r)
{
	free(r->prefix);
	free(r->location);
	for (size_t i = 0; i < r->n_mirrors; i++)
		free(r->mirrors[i].location);
	free(r->mirrors);
	memset(r, 0, sizeof(*r));
}

void registries_conf_release(struct registries_conf *c)
{
	strv_free(c->search);
	json_decref(c->aliases);
	free(c->short_name_mode);
	for (size_t i = 0; i < c->n_regs; i++)
		entry_release(&c->regs[i]);
	free(c->regs);
	memset(c, 0, sizeof(*c));
}

/* A registry location as registries.conf(5) allows it: host[:port][/path],
 * where a prefix may start with "*." (a wildcard on the host).  Anything
 * else (a scheme, "..", spaces, empty components) cannot name a registry and
 * would be pasted into references later. */
static char *trim_location(const char *loc, bool prefix, const char *what, struct kerror *e)
{
	const char *p = loc;
	size_t n;

	if (str_has_prefix(loc, "http://") || str_has_prefix(loc, "https://")) {
		kerror_set(e, EINVAL, "%s: registry location \"%s\" must not contain a scheme",
			   what, loc);
		return NULL;
	}
	n = strlen(loc);
	while (n && loc[n - 1] == '/')
		n--;
	if (n == 0)
		return prefix ? (kerror_set(e, EINVAL, "%s: an empty [[registry]] prefix", what),
				 NULL)
			      : xstrdup("");
	if (prefix && str_has_prefix(p, "*."))
		p += 2;
	/* Each '/'-separated component: non-empty, not "." or "..", and made
	 * of the characters of a host, port, path or IPv6 literal. */
	for (size_t i = (size_t)(p - loc), start = i; i <= n; i++) {
		if (i < n && loc[i] != '/') {
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789._-:[]@", loc[i]))
				goto bad;
			continue;
		}
		size_t k = i - start;
		if (k == 0 || (k == 1 && loc[start] == '.') ||
		    (k == 2 && !strncmp(loc + start, "..", 2)))
			goto bad;
		start = i + 1;
	}
	return xstrndup(loc, n);
bad:
	kerror_set(e, EINVAL, "%s: \"%.200s\" is not a valid registry location", what, loc);
	return NULL;
}

/* A boolean key of table o: false when absent, an error when not a boolean. */
static int get_bool(const json_t *o, const char *k, bool *out, const char *what,
		    struct kerror *e)
{
	const json_t *v = json_object_get(o, k);
	if (v && !json_is_boolean(v))
		return kerror_set(e, EINVAL, "%s: %s must be true or false", what, k);
	*out = json_is_true(v);
	return 0;
}

static int parse_entry(const json_t *t, const char *what, struct reg_entry *out, struct kerror *e)
{
	const char *prefix = json_str(t, "prefix"), *loc = json_str(t, "location");
	const json_t *mirrors = json_object_get(t, "mirror");
	size_t i;
	json_t *m;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(t))
		return kerror_set(e, EINVAL, "%s: [[registry]] must be an array of tables", what);
	if ((json_object_get(t, "prefix") && !prefix) || (json_object_get(t, "location") && !loc))
		return kerror_set(e, EINVAL, "%s: a [[registry]] prefix and location must be "
					     "strings", what);
	if (!prefix && !loc)
		return kerror_set(e, EINVAL, "%s: a [[registry]] needs a prefix or a location", what);
	out->location = loc ? trim_location(loc, false, what, e) : xstrdup("");
	if (!out->location)
		return -EINVAL;
	out->prefix = prefix ? trim_location(prefix, true, what, e) : xstrdup(out->location);
	if (!out->prefix)
		return -EINVAL;
	if (get_bool(t, "insecure", &out->insecure, what, e) < 0 ||
	    get_bool(t, "blocked", &out->blocked, what, e) < 0 ||
	    get_bool(t, "mirror-by-digest-only", &out->mirror_by_digest_only, what, e) < 0)
		return -EINVAL;
	if (mirrors && !json_is_array(mirrors))
		return kerror_set(e, EINVAL, "%s: registry.mirror must be an array of tables", what);
	out->mirrors = xcalloc(json_array_size(mirrors) + 1, sizeof(*out->mirrors));
	json_array_foreach(mirrors, i, m) {
		struct reg_mirror *rm = &out->mirrors[out->n_mirrors];
		const char *ml = json_str(m, "location"), *pf = json_str(m, "pull-from-mirror");
		if (!ml)
			return kerror_set(e, EINVAL, "%s: a mirror needs a location", what);
		rm->location = trim_location(ml, false, what, e);
		if (!rm->location)
			return -EINVAL;
		out->n_mirrors++;
		if (get_bool(m, "insecure", &rm->insecure, what, e) < 0)
			return -EINVAL;
		if (!pf || !strcmp(pf, "all"))
			rm->pull_from = 0;
		else if (!strcmp(pf, "digest-only"))
			rm->pull_from = 1;
		else if (!strcmp(pf, "tag-only"))
			rm->pull_from = 2;
		else
			return kerror_set(e, EINVAL, "%s: unknown pull-from-mirror \"%s\"", what, pf);
		if (pf && out->mirror_by_digest_only)
			return kerror_set(e, EINVAL, "%s: pull-from-mirror cannot be combined with "
						     "mirror-by-digest-only", what);
	}
	return 0;
}

int registries_conf_parse(const char *data, size_t len, const char *what,
			  struct registries_conf *c, struct kerror *e)
{
	_cleanup_json_ json_t *j = NULL;
	json_t *v, *regs, *aliases;
	const char *k;
	size_t i;
	int r;

	r = toml_parse(data, len, &j, e);
	if (r < 0)
		return kerror_wrap(e, "%s", what);
	if (json_object_get(j, "registries"))
		return kerror_set(e, ENOTSUP, "%s: the v1 format is not supported", what);
	v = json_object_get(j, "unqualified-search-registries");
	if (v) {
		char **s = json_strv(v);
		if (!s)
			return kerror_set(e, EINVAL, "%s: unqualified-search-registries must be a "
						     "list of strings", what);
		strv_free(c->search);
		c->search = s;
	}
	if ((v = json_object_get(j, "short-name-mode"))) {
		k = json_string_value(v);
		if (!k || (strcmp(k, "enforcing") && strcmp(k, "permissive") && strcmp(k, "disabled")))
			return kerror_set(e, EINVAL, "%s: short-name-mode must be \"enforcing\", "
						     "\"permissive\" or \"disabled\"", what);
		free(c->short_name_mode);
		c->short_name_mode = xstrdup(k);
	}
	aliases = json_object_get(j, "aliases");
	if (aliases && !json_is_object(aliases))
		return kerror_set(e, EINVAL, "%s: [aliases] must be a table", what);
	if (aliases) {
		if (!c->aliases)
			c->aliases = json_object();
		json_object_foreach(aliases, k, v) {
			if (!json_is_string(v))
				return kerror_set(e, EINVAL, "%s: alias \"%s\" must be a string", what, k);
			if (!*json_string_value(v))
				json_object_del(c->aliases, k);
			else
				json_object_set(c->aliases, k, v);
		}
	}
	regs = json_object_get(j, "registry");
	if (regs && !json_is_array(regs))
		return kerror_set(e, EINVAL, "%s: [[registry]] must be an array of tables", what);
	json_array_foreach(regs, i, v) {
		struct reg_entry ent;
		size_t at;
		r = parse_entry(v, what, &ent, e);
		if (r < 0) {
			entry_release(&ent);
			return r;
		}
		for (at = 0; at < c->n_regs; at++)
			if (!strcmp(c->regs[at].prefix, ent.prefix))
				break;
		if (at == c->n_regs)
			c->regs = xrealloc(c->regs, ++c->n_regs * sizeof(*c->regs));
		else
			entry_release(&c->regs[at]);
		c->regs[at] = ent;
	}
	return 0;
}

static int load_file(const char *path, struct registries_conf *c, struct kerror *e)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r = fs_read_file(path, MAX_CONF, &data, &len, e);
	if (r == -ENOENT) {
		kerror_release(e);
		return 0;
	}
	if (r < 0)
		return r;
	return registries_conf_parse(data, len, path, c, e);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dropins(const char *dir, struct registries_conf *c, struct kerror *e)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	_cleanup_strv_ char **names = NULL;
	struct dirent *de;
	int r = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && str_has_suffix(de->d_name, ".conf"))
			strv_push(&names, xasprintf("%s/%s", dir, de->d_name));
	if (names)
		qsort(names, strv_len(names), sizeof(char *), cmp_str);
	for (size_t i = 0; r == 0 && names && names[i]; i++)
		r = load_file(names[i], c, e);
	return r;
}

int registries_conf_load(const char *path, struct registries_conf *c, struct kerror *e)
{
	const char *env = getenv("CONTAINERS_REGISTRIES_CONF");
	const char *home = getenv("HOME");
	_cleanup_free_ char *user = NULL, *userd = NULL;
	int r;

	if (!path && env && *env)
		path = env;
	if (!path && (env = getenv("REGISTRIES_CONFIG_PATH")) && *env)
		path = env;
	if (path)
		return load_file(path, c, e);
	if (home && *home) {
		user = xasprintf("%s/.config/containers/registries.conf", home);
		userd = xasprintf("%s/.config/containers/registries.conf.d", home);
	}
	if (user && fs_exists(user)) {
		r = load_file(user, c, e);
		return r < 0 ? r : load_dropins(userd, c, e);
	}
	r = load_file("/etc/containers/registries.conf", c, e);
	if (r == 0)
		r = load_dropins("/etc/containers/registries.conf.d", c, e);
	if (r == 0 && userd)
		r = load_dropins(userd, c, e);
	return r;
}

/* Does ref start with prefix followed by a separator (or end)?  A "*.host"
 * prefix matches any subdomain of host. */
static size_t prefix_match(const char *prefix, const char *ref)
{
	size_t n = strlen(prefix);
	if (str_has_prefix(prefix, "*.")) {
		size_t dom = strcspn(ref, "/");
		const char *host_end = ref + dom;
		size_t plen = n - 1; /* ".host" */
		if ((size_t)(host_end - ref) > plen &&
		    strncmp(host_end - plen, prefix + 1, plen) == 0)
			return n;
		return 0;
	}
	if (strncmp(ref, prefix, n) != 0)
		return 0;
	if (ref[n] == 0 || ref[n] == '/' || ref[n] == ':' || ref[n] == '@')
		return n;
	return 0;
}

const struct reg_entry *registries_find(const struct registries_conf *c, const char *ref)
{
	const struct reg_entry *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < c->n_regs; i++) {
		size_t m = prefix_match(c->regs[i].prefix, ref);
		if (m > best_len) {
			best = &c->regs[i];
			best_len = m;
		}
	}
	return best;
}

/* The domain of an alias value, or a search registry, is checked by
 * ref_parse when the candidate is parsed. */
int registries_resolve_short(const struct registries_conf *c, const char *input, char ***out,
			     struct kerror *e)
{
	_cleanup_ref_ struct image_ref *probe = NULL;
	_cleanup_free_ char *name = NULL, *suffix = NULL;
	char **v = NULL;
	const char *alias;
	int r;

	*out = NULL;
	r = ref_parse(input, &probe, e);
	if (r < 0)
		return r;
	/* No tag and no digest: latest, written out as Podman does. */
	if (!probe->tag && !probe->digest)
		probe->tag = xstrdup(REF_DEFAULT_TAG);
	if (!ref_is_short(input)) {
		strv_push(&v, ref_string(probe));
		*out = v;
		return 0;
	}
	/* The short name as typed, without tag or digest. */
	{
		size_t n = strcspn(input, "@");
		const char *colon = memchr(input, ':', n);
		name = xstrndup(input, colon ? (size_t)(colon - input) : n);
		suffix = xasprintf("%s%s%s%s", probe->tag ? ":" : "", probe->tag ? probe->tag : "",
				   probe->digest ? "@" : "", probe->digest ? probe->digest : "");
	}
	alias = c->aliases ? json_string_value(json_object_get(c->aliases, name)) : NULL;
	if (alias) {
		_cleanup_free_ char *full = xasprintf("%s%s", alias, suffix);
		_cleanup_ref_ struct image_ref *ar = NULL;
		r = ref_parse(full, &ar, e);
		if (r < 0)
			return kerror_wrap(e, "short-name alias \"%s\"", name);
		strv_push(&v, ref_string(ar));
		*out = v;
		return 0;
	}
	if (!c->search || !c->search[0]) {
		strv_push(&v, ref_string(probe));
		*out = v;
		return 0;
	}
	for (size_t i = 0; c->search[i]; i++) {
		_cleanup_free_ char *full = xasprintf("%s/%s%s", c->search[i], name, suffix);
		_cleanup_ref_ struct image_ref *sr = NULL;
		if (ref_parse(full, &sr, NULL) == 0)
			strv_push(&v, ref_string(sr));
	}
	if (!v)
		return kerror_set(e, EINVAL, "short name \"%s\" resolves to no valid reference", input);
	*out = v;
	return 0;
}

void pull_sources_free(struct pull_source *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].ref);
	free(s);
}

int registries_pull_sources(const struct registries_conf *c, const char *ref,
			    struct pull_source **out, size_t *n, struct kerror *e)
{
	const struct reg_entry *r = registries_find(c, ref);
	bool by_digest = strchr(ref, '@') != NULL;
	struct pull_source *v;
	size_t cnt = 0;

	*out = NULL;
	*n = 0;
	if (r && r->blocked)
		return kerror_set(e, EACCES, "registry %s is blocked in registries.conf", r->prefix);
	v = xcalloc((r ? r->n_mirrors : 0) + 1, sizeof(*v));
	if (r) {
		/* With a wildcard prefix and no location nothing is rewritten. */
		bool rewrite = !str_has_prefix(r->prefix, "*.") && *r->location;
		const char *rest = ref + strlen(r->prefix);
		for (size_t i = 0; i < r->n_mirrors; i++) {
			const struct reg_mirror *m = &r->mirrors[i];
			if ((r->mirror_by_digest_only || m->pull_from == 1) && !by_digest)
				continue;
			if (m->pull_from == 2 && by_digest)
				continue;
			v[cnt].ref = str_has_prefix(r->prefix, "*.") ? xstrdup(ref)
				     : xasprintf("%s%s", m->location, rest);
			v[cnt++].insecure = m->insecure;
		}
		v[cnt].ref = rewrite ? xasprintf("%s%s", r->location, rest) : xstrdup(ref);
		v[cnt++].insecure = r->insecure;
	} else {
		v[cnt++].ref = xstrdup(ref);
	}
	*out = v;
	*n = cnt;
	return 0;
}
