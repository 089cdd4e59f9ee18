/* containers.conf, merged as Podman reads it: each file found overrides
 * the keys of the ones before it (tables merged key by key, any other
 * value replaced whole):
 *   /usr/share/containers/containers.conf, /usr/share/containers/containers.conf.d/[*].conf,
 *   /etc/containers/containers.conf, /etc/containers/containers.conf.d/[*].conf,
 *   for a rootless user $XDG_CONFIG_HOME/containers/containers.conf (else
 *   ~/.config/containers/…) and its containers.conf.d/[*].conf;
 *   $CONTAINERS_CONF instead of all of these when set;
 *   then kiln's own: /etc/kiln/containers.conf, for a rootless user
 *   $XDG_CONFIG_HOME/kiln/containers.conf (else ~/.config/kiln/…);
 *   $CONTAINERS_CONF_OVERRIDE last.
 * $KILN_CONTAINERS_CONF, when set, is the only file read (and must exist).
 * [network] counts only from kiln's files: kiln's networks live beside
 * Podman's, and Podman's default_subnet would put kiln's bridge on its. 
 * The [containers] table gives run/create their defaults. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "run/run.h"

#define CONF_MAX (1024 * 1024)

/* Copies the keys of src over dst, merging tables that both have. */
static void merge(json_t *dst, json_t *src)
{
	const char *k;
	json_t *v;
	json_object_foreach(src, k, v) {
		json_t *old = json_object_get(dst, k);
		if (json_is_object(old) && json_is_object(v))
			merge(old, v);
		else
			json_object_set(dst, k, v);
	}
}

/* Reads one file into *acc; absent files are skipped unless required.
 * podman: a file of Podman's, whose [network] is left out. */
static int load(const char *path, bool required, bool podman, json_t **acc, struct kerror *e)
{
	_cleanup_free_ char *data = NULL;
	json_t *t = NULL;
	size_t len;
	int r = fs_read_file(path, CONF_MAX, &data, &len, e);
	if (r == -ENOENT && !required) {
		kerror_release(e);
		return 0;
	}
	if (r == 0)
		r = toml_parse(data, len, &t, e);
	if (r < 0)
		return kerror_wrap(e, "reading \"%s\"", path);
	if (podman)
		json_object_del(t, "network");
	if (!*acc)
		*acc = t;
	else {
		merge(*acc, t);
		json_decref(t);
	}
	return 0;
}

static int conf_only(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".conf");
}

/* FILE, then FILE.d/[*].conf in name order. */
static int load_with_dropins(const char *file, json_t **acc, struct kerror *e)
{
	_cleanup_free_ char *dir = xasprintf("%s.d", file);
	struct dirent **names = NULL;
	int r = load(file, false, true, acc, e);
	if (r < 0)
		return r;
	int n = scandir(dir, &names, conf_only, alphasort);
	if (n < 0)
		return errno == ENOENT || errno == ENOTDIR
			       ? 0
			       : kerror_sys(e, errno, "reading \"%s\"", dir);
	for (int i = 0; i < n; i++) {
		if (r == 0) {
			_cleanup_free_ char *p = xasprintf("%s/%s", dir, names[i]->d_name);
			r = load(p, false, true, acc, e);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

/* $XDG_CONFIG_HOME/SUB (else ~/.config/SUB), or NULL. */
static char *user_conf(const char *sub)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	if (xdg && xdg[0] == '/')
		return xasprintf("%s/%s", xdg, sub);
	if (home && home[0] == '/')
		return xasprintf("%s/.config/%s", home, sub);
	return NULL;
}

int run_containers_conf_load(json_t **out, struct kerror *e)
{
	const char *only = getenv("KILN_CONTAINERS_CONF");
	const char *podman = getenv("CONTAINERS_CONF");
	const char *over = getenv("CONTAINERS_CONF_OVERRIDE");
	bool rootless = fs_rootless();
	int r = 0;

	*out = NULL;
	if (only && *only)
		return load(only, true, false, out, e);
	if (podman && *podman)
		r = load(podman, true, true, out, e);
	else {
		r = load_with_dropins("/usr/share/containers/containers.conf", out, e);
		if (r == 0)
			r = load_with_dropins("/etc/containers/containers.conf", out, e);
		if (r == 0 && rootless) {
			_cleanup_free_ char *u = user_conf("containers/containers.conf");
			if (u)
				r = load_with_dropins(u, out, e);
		}
	}
	if (r == 0)
		r = load("/etc/kiln/containers.conf", false, false, out, e);
	if (r == 0 && rootless) {
		_cleanup_free_ char *u = user_conf("kiln/containers.conf");
		if (u)
			r = load(u, false, false, out, e);
	}
	if (r == 0 && over && *over)
		r = load(over, true, true, out, e);
	if (r < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return r;
}

static char **strings(const json_t *t, const char *key, const char *what, struct kerror *e,
		      int *r)
{
	json_t *a = json_object_get(t, key);
	size_t i;
	json_t *v;
	if (!a)
		return NULL;
	if (!json_is_array(a)) {
		*r = kerror_set(e, EINVAL, "containers.conf: %s must be an array of strings", what);
		return NULL;
	}
	char **out = xcalloc(1, sizeof(char *));
	json_array_foreach(a, i, v) {
		if (!json_is_string(v)) {
			strv_free(out);
			*r = kerror_set(e, EINVAL, "containers.conf: %s must be an array of strings",
					what);
			return NULL;
		}
		strv_push(&out, xstrdup(json_string_value(v)));
	}
	return out;
}

/* "64m", "1g", "1024" → bytes (containers.conf's shm_size). */
static bool conf_bytes(const char *v, int64_t *out)
{
	char *end;
	double n = strtod(v, &end);
	int64_t mult = 1;
	if (end == v || n < 0)
		return false;
	switch (*end) {
	case '\0': case 'b': case 'B': break;
	case 'k': case 'K': mult = 1024; break;
	case 'm': case 'M': mult = 1024 * 1024; break;
	case 'g': case 'G': mult = 1024LL * 1024 * 1024; break;
	default: return false;
	}
	*out = (int64_t)(n * (double)mult);
	return true;
}

int run_flags_apply_conf(struct run_flags *f, const json_t *conf, struct kerror *e)
{
	const json_t *t = json_object_get(conf, "containers");
	int r = 0;
	if (!t)
		return 0;
	_cleanup_strv_ char **caps = strings(t, "default_capabilities", "default_capabilities", e, &r);
	_cleanup_strv_ char **env = strings(t, "env", "env", e, &r);
	_cleanup_strv_ char **ulimits = strings(t, "default_ulimits", "default_ulimits", e, &r);
	_cleanup_strv_ char **dns = strings(t, "dns_servers", "dns_servers", e, &r);
	_cleanup_strv_ char **search = strings(t, "dns_searches", "dns_searches", e, &r);
	_cleanup_strv_ char **opts = strings(t, "dns_options", "dns_options", e, &r);
	if (r < 0)
		return r;
	if (caps && !f->default_caps)
		f->default_caps = steal_pointer(&caps);
	if (env && !f->default_env)
		f->default_env = steal_pointer(&env);
	if (ulimits) {
		/* the configured ones first: a --ulimit of the same name,
		 * set later, wins */
		char **all = xcalloc(1, sizeof(char *));
		for (size_t i = 0; ulimits[i]; i++) {
			char *c = NULL;
			if ((r = run_ulimit_parse(ulimits[i], &c, e)) < 0) {
				strv_free(all);
				return kerror_wrap(e, "containers.conf: default_ulimits");
			}
			strv_push(&all, c);
		}
		for (size_t i = 0; f->ulimits && f->ulimits[i]; i++)
			strv_push(&all, xstrdup(f->ulimits[i]));
		strv_free(f->ulimits);
		f->ulimits = all;
	}
	for (size_t i = 0; dns && dns[i]; i++)
		if ((r = run_dns_server_check(dns[i], e)) < 0)
			return kerror_wrap(e, "containers.conf: dns_servers");
	if (dns && !f->dns)
		f->dns = steal_pointer(&dns);
	if (search && !f->dns_search)
		f->dns_search = steal_pointer(&search);
	if (opts && !f->dns_options)
		f->dns_options = steal_pointer(&opts);
	json_t *v = json_object_get(t, "pids_limit");
	if (v && !json_is_integer(v))
		return kerror_set(e, EINVAL, "containers.conf: pids_limit must be an integer");
	if (v && f->pids_limit == 0 && json_integer_value(v) != 0)
		f->pids_limit = json_integer_value(v) < 0 ? -1 : json_integer_value(v);
	const char *s = json_str(t, "log_driver");
	if (s && !f->log_driver) {
		if (strcmp(s, "k8s-file") && strcmp(s, "json-file") && strcmp(s, "none"))
			return kerror_set(e, EINVAL, "containers.conf: log_driver \"%s\" is not "
						     "supported (k8s-file, json-file, none)",
					  s);
		f->log_driver = xstrdup(s);
	}
	s = json_str(t, "shm_size");
	if (s && !f->shm_size && !conf_bytes(s, &f->shm_size))
		return kerror_set(e, EINVAL, "containers.conf: invalid shm_size \"%s\"", s);
	v = json_object_get(t, "init");
	if (json_is_true(v))
		f->init = true;
	v = json_object_get(t, "log_size_max");
	if (json_is_integer(v) && json_integer_value(v) > 0 && !f->log_max_size)
		f->log_max_size = json_integer_value(v);
	return 0;
}
