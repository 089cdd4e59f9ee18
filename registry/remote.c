/* One repository at one registry: the look-ups and manifest writes that
 * inspect --remote, list-tags, manifest push and copy share. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "registry/remote.h"

int remote_open(const struct registry_opts *o, const char *input, bool push, struct remote *r,
		struct kerror *e)
{
	struct registries_conf conf = { 0 };
	const struct reg_entry *ent;
	_cleanup_free_ char *full = NULL, *key = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if (str_has_prefix(input, "docker://"))
		input += 9;
	rc = ref_parse(input, &r->ref, e);
	if (rc < 0)
		return rc;
	rc = registries_conf_load(o->registries_conf, &conf, e);
	if (rc < 0)
		return rc;
	full = ref_name(r->ref);
	ent = registries_find(&conf, full);
	if (ent && ent->blocked) {
		rc = kerror_set(e, EACCES, "registry %s is blocked in registries.conf", ent->prefix);
		registries_conf_release(&conf);
		return rc;
	}
	rc = client_new(o, r->ref->domain, ent && ent->insecure, &r->c, e);
	registries_conf_release(&conf);
	if (rc < 0)
		return rc;
	key = xasprintf("%s/%s", r->ref->domain, r->ref->path);
	rc = client_load_creds(r->c, o->authfile, key, e);
	if (rc < 0)
		return rc;
	r->scope = xasprintf("repository:%s:%s", r->ref->path, push ? "pull,push" : "pull");
	return 0;
}

void remote_release(struct remote *r)
{
	if (r->c)
		client_free(r->c);
	ref_free(r->ref);
	free(r->scope);
	memset(r, 0, sizeof(*r));
}

const char *remote_reference(const struct remote *r)
{
	return r->ref->digest ? r->ref->digest : r->ref->tag ? r->ref->tag : REF_DEFAULT_TAG;
}

int remote_get_manifest(struct remote *r, const char *reference, char **data, size_t *len,
			char **ctype, char digest[DIGEST_STR_LEN + 1], struct kerror *e)
{
	return client_get_manifest(r->c, r->ref->path, r->scope, ACCEPT_ALL_MANIFESTS, reference,
				   data, len, ctype, digest, e);
}

int remote_get_blob(struct remote *r, const struct descriptor *d, size_t max, char **data,
		    size_t *len, struct kerror *e)
{
	return client_get_blob(r->c, r->ref->path, r->scope, d, max, data, len, e);
}

int remote_put_manifest(struct remote *r, const char *reference, const char *media_type,
			const char *data, size_t len, struct kerror *e)
{
	_cleanup_free_ char *url = xasprintf("/v2/%s/manifests/%s", r->ref->path, reference);
	struct http_req rq = HTTP_REQ_INIT;
	struct http_resp resp;
	int rc;

	rq.method = "PUT";
	rq.url = url;
	rq.scope = r->scope;
	rq.content_type = media_type;
	rq.body = data;
	rq.body_len = len;
	rc = client_request(r->c, &rq, &resp, e);
	if (rc < 0)
		return rc;
	if (resp.status != 201)
		rc = http_error(&resp, "writing the manifest", e);
	http_resp_release(&resp);
	return rc;
}

int remote_blob_exists(struct remote *r, const char *digest, bool *exists, struct kerror *e)
{
	_cleanup_free_ char *url = xasprintf("/v2/%s/blobs/%s", r->ref->path, digest);
	struct http_req rq = HTTP_REQ_INIT;
	struct http_resp resp;
	int rc;

	rq.method = "HEAD";
	rq.url = url;
	rq.scope = r->scope;
	rc = client_request(r->c, &rq, &resp, e);
	if (rc < 0)
		return rc;
	*exists = resp.status == 200;
	if (resp.status != 200 && resp.status != 404)
		rc = http_error(&resp, "checking a blob", e);
	http_resp_release(&resp);
	return rc;
}
