/* storage.conf: the [storage] driver, graphroot and runroot of kiln's own
 * configuration file.  Every other key and table is accepted and ignored. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage.h"

#define STORAGE_CONF_MAX (1024 * 1024)

void storage_conf_release(struct storage_conf *c)
{
	free(c->driver);
	free(c->graphroot);
	free(c->runroot);
	*c = (struct storage_conf){ 0 };
}

/* One string key of [storage]; an empty string counts as unset, as in
 * containers-storage.conf. */
static int get_key(const json_t *st, const char *key, bool path, const char *what,
		   char **out, struct kerror *e)
{
	json_t *v = json_object_get(st, key);
	if (!v)
		return 0;
	if (!json_is_string(v))
		return kerror_set(e, EINVAL, "\"%s\": [storage] %s must be a string", what, key);
	const char *s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return kerror_set(e, EINVAL, "\"%s\": [storage] %s contains a NUL byte", what, key);
	if (!*s)
		return 0;
	if (path && s[0] != '/')
		return kerror_set(e, EINVAL, "\"%s\": [storage] %s must be an absolute path", what,
				  key);
	*out = xstrdup(s);
	return 0;
}

int storage_conf_parse(const char *data, size_t len, const char *what,
		       struct storage_conf *out, struct kerror *e)
{
	_cleanup_json_ json_t *root = NULL;
	struct storage_conf c = { 0 };
	int r;

	*out = c;
	if ((r = toml_parse(data, len, &root, e)) < 0)
		return kerror_wrap(e, "parsing \"%s\"", what);
	json_t *st = json_object_get(root, "storage");
	if (!st)
		return 0;
	if (!json_is_object(st))
		return kerror_set(e, EINVAL, "\"%s\": storage must be a table", what);
	if ((r = get_key(st, "driver", false, what, &c.driver, e)) < 0 ||
	    (r = get_key(st, "graphroot", true, what, &c.graphroot, e)) < 0 ||
	    (r = get_key(st, "runroot", true, what, &c.runroot, e)) < 0) {
		storage_conf_release(&c);
		return r;
	}
	*out = c;
	return 0;
}

/* Reads and parses path; *found tells whether the file existed. */
static int load_file(const char *path, struct storage_conf *out, bool *found,
		     struct kerror *e)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r;

	*found = false;
	*out = (struct storage_conf){ 0 };
	r = fs_read_file(path, STORAGE_CONF_MAX, &data, &len, e);
	if (r == -ENOENT || r == -ENOTDIR) {
		kerror_release(e);
		return 0;
	}
	if (r < 0)
		return r;
	*found = true;
	return storage_conf_parse(data, len, path, out, e);
}

int storage_conf_load(const char *path, struct storage_conf *out, struct kerror *e)
{
	_cleanup_free_ char *user = NULL;
	const char *env = getenv("KILN_STORAGE_CONF");
	/* Rootless also inside kiln's user namespace, where we are uid 0. */
	bool rootless = fs_rootless();
	bool found;
	int r;

	if (path)
		return load_file(path, out, &found, e);
	if (env && *env)
		return load_file(env, out, &found, e);
	if (rootless) {
		const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
		if (xdg && xdg[0] == '/')
			user = xasprintf("%s/kiln/storage.conf", xdg);
		else if (home && home[0] == '/')
			user = xasprintf("%s/.config/kiln/storage.conf", home);
		if (user && ((r = load_file(user, out, &found, e)) < 0 || found))
			return r;
	}
	if ((r = load_file("/etc/kiln/storage.conf", out, &found, e)) < 0)
		return r;
	if (rootless) {
		/* A rootless user falling back to the system file takes only its
		 * driver: the system graphroot/runroot belong to root (as
		 * containers/storage does for rootless users). */
		free(steal_pointer(&out->graphroot));
		free(steal_pointer(&out->runroot));
	}
	return 0;
}
