/* Credentials: containers-auth.json(5) and docker's config.json. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "registry/registry.h"

#define MAX_AUTHFILE (1024 * 1024)

void auth_creds_release(struct auth_creds *c)
{
	if (c->pass)
		explicit_bzero(c->pass, strlen(c->pass));
	free(c->user);
	free(c->pass);
	free(c->identity_token);
	memset(c, 0, sizeof(*c));
}

char *authfile_write_path(const char *authfile)
{
	const char *x;
	if (authfile && *authfile)
		return xstrdup(authfile);
	x = getenv("REGISTRY_AUTH_FILE");
	if (x && *x)
		return xstrdup(x);
	x = getenv("XDG_RUNTIME_DIR");
	if (x && *x)
		return xasprintf("%s/containers/auth.json", x);
	return xasprintf("/run/containers/%u/auth.json", fs_host_uid());
}

/* base64("user:pass") → the two halves (split at the first ':'). */
static int decode_auth(const char *b64, struct auth_creds *out)
{
	size_t n = strlen(b64);
	unsigned char *raw;
	int len;
	char *colon;

	if (n == 0 || n > 16384 || n % 4)
		return -EINVAL;
	raw = xmalloc(n / 4 * 3 + 1);
	len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
	if (len < 0) {
		free(raw);
		return -EINVAL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (n >= 1 && b64[n - 1] == '=')
		len--;
	if (n >= 2 && b64[n - 2] == '=')
		len--;
	raw[len] = 0;
	colon = memchr(raw, ':', (size_t)len);
	if (!colon || strlen((char *)raw) != (size_t)len) {
		explicit_bzero(raw, (size_t)len);
		free(raw);
		return -EINVAL;
	}
	out->user = xstrndup((char *)raw, (size_t)(colon - (char *)raw));
	out->pass = xstrdup(colon + 1);
	explicit_bzero(raw, (size_t)len);
	free(raw);
	return 0;
}

/* The credentials of one "auths" entry: -ENOENT when it has none (only a
 * credential helper, say), -EINVAL with a reason when it is malformed. */
static int entry_creds(const json_t *ent, const char *what, const char *name,
		       struct auth_creds *out, struct kerror *e)
{
	const json_t *a = json_object_get(ent, "auth");
	const char *tok = json_str(ent, "identitytoken");

	if (!json_is_object(ent))
		return kerror_set(e, EINVAL, "reading \"%s\": auths[\"%.200s\"] is not an object",
				  what, name);
	if (!a || (json_is_string(a) && !*json_string_value(a)))
		return -ENOENT;
	if (!json_is_string(a) || decode_auth(json_string_value(a), out) < 0)
		return kerror_set(e, EINVAL, "reading \"%s\": auths[\"%.200s\"].auth is not "
					     "base64 of \"user:password\"", what, name);
	if (tok && *tok)
		out->identity_token = xstrdup(tok);
	return 0;
}

/* "https://index.docker.io/v1/" → "index.docker.io"; docker.io aliases. */
static char *normalize_legacy(const char *k)
{
	const char *s = k;
	char *r;
	/* Only legacy keys (with a scheme) lose their path. */
	if (str_has_prefix(s, "http://"))
		r = xstrndup(s + 7, strcspn(s + 7, "/"));
	else if (str_has_prefix(s, "https://"))
		r = xstrndup(s + 8, strcspn(s + 8, "/"));
	else
		r = xstrdup(s);
	if (!strcmp(r, "index.docker.io") || !strcmp(r, "registry-1.docker.io")) {
		free(r);
		r = xstrdup("docker.io");
	}
	return r;
}

int authfile_lookup_data(const char *data, size_t len, const char *what, const char *key,
			 struct auth_creds *out, struct kerror *e)
{
	_cleanup_json_ json_t *j = NULL;
	_cleanup_free_ char *k = xstrdup(key), *host = NULL;
	json_t *auths, *ent;
	const char *name;
	int r;

	memset(out, 0, sizeof(*out));
	r = json_parse(data, len, &j, e);
	if (r < 0)
		return kerror_wrap(e, "reading \"%s\"", what);
	auths = json_object_get(j, "auths");
	if (!auths)
		return -ENOENT;
	if (!json_is_object(auths))
		return kerror_set(e, EINVAL, "reading \"%s\": \"auths\" is not an object", what);
	/* Most specific first: host/ns/repo, host/ns, host. */
	for (;;) {
		ent = json_object_get(auths, k);
		if (ent && (r = entry_creds(ent, what, k, out, e)) != -ENOENT)
			return r;
		char *slash = strrchr(k, '/');
		if (!slash)
			break;
		*slash = 0;
	}
	host = normalize_legacy(k);
	json_object_foreach(auths, name, ent) {
		_cleanup_free_ char *n = normalize_legacy(name);
		if (!strcmp(n, host) && (r = entry_creds(ent, what, name, out, e)) != -ENOENT)
			return r;
	}
	return -ENOENT;
}

static int lookup_file(const char *path, const char *key, struct auth_creds *out,
		       struct kerror *e)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r = fs_read_file(path, MAX_AUTHFILE, &data, &len, e);
	if (r == -ENOENT) {
		kerror_release(e);
		return -ENOENT;
	}
	if (r < 0)
		return r;
	r = authfile_lookup_data(data, len, path, key, out, e);
	explicit_bzero(data, len);
	return r;
}

int authfile_lookup(const char *authfile, const char *key, struct auth_creds *out,
		    struct kerror *e)
{
	const char *x;
	_cleanup_strv_ char **paths = NULL;

	if (authfile && *authfile) {
		int r = lookup_file(authfile, key, out, e);
		if (r == -ENOENT && !fs_exists(authfile))
			return kerror_set(e, ENOENT, "credential file \"%s\" is not accessible",
					  authfile);
		return r;
	}
	x = getenv("REGISTRY_AUTH_FILE");
	if (x && *x)
		strv_push(&paths, xstrdup(x));
	strv_push(&paths, authfile_write_path(NULL));
	x = getenv("XDG_CONFIG_HOME");
	if (x && *x)
		strv_push(&paths, xasprintf("%s/containers/auth.json", x));
	else if ((x = getenv("HOME")) && *x)
		strv_push(&paths, xasprintf("%s/.config/containers/auth.json", x));
	x = getenv("DOCKER_CONFIG");
	if (x && *x)
		strv_push(&paths, xasprintf("%s/config.json", x));
	else if ((x = getenv("HOME")) && *x)
		strv_push(&paths, xasprintf("%s/.docker/config.json", x));
	for (size_t i = 0; paths && paths[i]; i++) {
		int r = lookup_file(paths[i], key, out, e);
		if (r != -ENOENT)
			return r;
	}
	return -ENOENT;
}

int authfile_update(const char *path, const char *key, const char *user, const char *pass,
		    struct kerror *e)
{
	_cleanup_json_ json_t *j = NULL;
	_cleanup_free_ char *data = NULL, *out = NULL, *dir = NULL;
	size_t len = 0;
	json_t *auths;
	int r;

	r = fs_read_file(path, MAX_AUTHFILE, &data, &len, e);
	if (r == -ENOENT) {
		kerror_release(e);
		j = json_object();
	} else if (r < 0) {
		return r;
	} else {
		r = json_parse(data, len, &j, e);
		explicit_bzero(data, len);
		if (r < 0)
			return kerror_wrap(e, "reading \"%s\"", path);
		if (!json_is_object(j))
			return kerror_set(e, EINVAL, "reading \"%s\": not a JSON object", path);
	}
	auths = json_object_get(j, "auths");
	if (!json_is_object(auths)) {
		auths = json_object();
		json_object_set_new(j, "auths", auths);
	}
	if (user) {
		_cleanup_free_ char *plain = xasprintf("%s:%s", user, pass ? pass : "");
		size_t pn = strlen(plain);
		_cleanup_free_ char *b64 = xmalloc(4 * ((pn + 2) / 3) + 1);
		EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)plain, (int)pn);
		json_object_set_new(auths, key, json_pack("{s:s}", "auth", b64));
		explicit_bzero(plain, pn);
		explicit_bzero(b64, strlen(b64));
	} else if (json_object_del(auths, key) < 0) {
		return -ENOENT;
	}
	dir = xstrdup(path);
	if (strrchr(dir, '/')) {
		*strrchr(dir, '/') = 0;
		if (*dir) {
			r = fs_mkdir_p(dir, 0700, e);
			if (r < 0)
				return r;
		}
	}
	out = json_dump_pretty(j);
	r = fs_write_atomic(path, out, strlen(out), 0600, e);
	explicit_bzero(out, strlen(out));
	return r;
}
