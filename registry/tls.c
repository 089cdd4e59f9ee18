/* TLS: the system CAs plus certs.d (or --cert-dir): .crt files are extra CAs,
 * .cert and .key pairs a client certificate. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "registry/client.h"

#define MAX_PEM (4 * 1024 * 1024)

static const char *const system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/cert.pem",
};

static char *find_dir(const char *domain)
{
	const char *home = getenv("HOME");
	_cleanup_strv_ char **cands = NULL;
	if (home && *home)
		strv_push(&cands, xasprintf("%s/.config/containers/certs.d/%s", home, domain));
	strv_push(&cands, xasprintf("/etc/containers/certs.d/%s", domain));
	strv_push(&cands, xasprintf("/etc/docker/certs.d/%s", domain));
	for (size_t i = 0; cands[i]; i++)
		if (fs_exists(cands[i]))
			return xstrdup(cands[i]);
	return NULL;
}

static int append_file(struct buf *b, const char *path, struct kerror *e)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r = fs_read_file(path, MAX_PEM, &data, &len, e);
	if (r < 0)
		return r;
	buf_append(b, data, len);
	buf_append(b, "\n", 1);
	return 0;
}

int client_tls_setup(struct reg_client *c, const char *cert_dir, struct kerror *e)
{
	_cleanup_free_ char *dir = cert_dir && *cert_dir ? xstrdup(cert_dir) : find_dir(c->domain);
	_cleanup_closedir_ DIR *d = NULL;
	struct buf cas = { 0 };
	struct dirent *de;
	bool extra = false;
	int r = 0;

	if (!dir)
		return 0;
	d = opendir(dir);
	if (!d) {
		if (cert_dir)
			return kerror_sys(e, errno, "opening the certificate directory \"%s\"", dir);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(system_bundles); i++)
		if (fs_exists(system_bundles[i])) {
			r = append_file(&cas, system_bundles[i], e);
			break;
		}
	while (r == 0 && (de = readdir(d))) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name);
		if (str_has_suffix(de->d_name, ".crt")) {
			r = append_file(&cas, p, e);
			extra = true;
		} else if (str_has_suffix(de->d_name, ".cert")) {
			_cleanup_free_ char *key = xasprintf("%.*s.key",
				(int)(strlen(p) - 5), p);
			if (!fs_exists(key))
				r = kerror_set(e, ENOENT, "missing key %s for client certificate %s",
					       key, p);
			else if (!c->client_cert) {
				c->client_cert = xstrdup(p);
				c->client_key = steal_pointer(&key);
			}
		} else if (str_has_suffix(de->d_name, ".key")) {
			_cleanup_free_ char *cert = xasprintf("%.*s.cert",
				(int)(strlen(p) - 4), p);
			if (!fs_exists(cert))
				r = kerror_set(e, ENOENT, "missing client certificate %s for key %s",
					       cert, p);
		}
	}
	if (r == 0 && extra) {
		c->ca_len = cas.len;
		c->ca_blob = buf_steal(&cas);
	}
	buf_release(&cas);
	return r;
}
