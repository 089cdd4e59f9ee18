/* login / logout: check the credentials against the registry, then keep
 * them in the auth file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry/client.h"

/* "host[:port][/ns…]" → its host part (new string). */
static char *host_of(const char *server)
{
	return xstrndup(server, strcspn(server, "/"));
}

int registry_login(const struct registry_opts *o, const char *server, const char *user,
		   const char *pass, struct kerror *e)
{
	_cleanup_free_ char *host = host_of(server), *path = authfile_write_path(o->authfile);
	_cleanup_client_ struct reg_client *c = NULL;
	struct registry_opts ro = *o;
	struct registries_conf conf = { 0 };
	const struct reg_entry *ent;
	bool insecure = false;
	int r;

	ro.creds = NULL;
	if (registries_conf_load(o->registries_conf, &conf, NULL) == 0 &&
	    (ent = registries_find(&conf, host)))
		insecure = ent->insecure;
	registries_conf_release(&conf);
	r = client_new(&ro, host, insecure, &c, e);
	if (r < 0)
		return r;
	c->creds.user = xstrdup(user);
	c->creds.pass = xstrdup(pass);
	c->have_creds = true;
	r = client_ping(c, e);
	if (r < 0)
		return kerror_wrap(e, "logging in to %s", server);
	if (c->have_ch && !strcmp(c->ch.scheme, "bearer")) {
		_cleanup_free_ char *tok = NULL;
		r = client_token(c, NULL, &tok, e);
		if (r < 0)
			return r;
	} else if (c->have_ch) {
		struct http_req rq = HTTP_REQ_INIT;
		struct http_resp resp;
		rq.method = "GET";
		rq.url = "/v2/";
		rq.scope = "";
		r = client_request(c, &rq, &resp, e);
		if (r < 0)
			return r;
		if (resp.status == 401 || resp.status == 403)
			r = kerror_set(e, EACCES, "logging in to %s: invalid username/password",
				       server);
		else if (resp.status != 200)
			r = http_error(&resp, "logging in", e);
		http_resp_release(&resp);
		if (r < 0)
			return r;
	}
	return authfile_update(path, server, user, pass, e);
}

int registry_logout(const struct registry_opts *o, const char *server, struct kerror *e)
{
	_cleanup_free_ char *path = authfile_write_path(o->authfile);
	int r;
	if (!server) {
		if (unlink(path) < 0 && errno != ENOENT)
			return kerror_sys(e, errno, "removing \"%s\"", path);
		return 0;
	}
	r = authfile_update(path, server, NULL, NULL, e);
	if (r == -ENOENT)
		return kerror_set(e, ENOENT, "not logged into %s", server);
	return r;
}

int registry_get_login(const struct registry_opts *o, const char *server, char **user,
		       struct kerror *e)
{
	struct auth_creds cr = { 0 };
	int r = authfile_lookup(o->authfile, server, &cr, e);
	if (r == -ENOENT)
		return kerror_set(e, ENOENT, "not logged into %s", server);
	if (r < 0)
		return r;
	*user = steal_pointer(&cr.user);
	auth_creds_release(&cr);
	return 0;
}
