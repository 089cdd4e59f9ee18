/* Manifests and small blobs (configs, signature payloads) fetched into
 * memory, bounded, their digests verified before they are handed back. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "registry/client.h"

int client_get_blob(struct reg_client *c, const char *repo, const char *scope,
		    const struct descriptor *d, size_t max, char **data, size_t *len,
		    struct kerror *e)
{
	_cleanup_free_ char *path = xasprintf("/v2/%s/blobs/%s", repo, d->digest);
	struct http_req rq = HTTP_REQ_INIT;
	struct http_resp resp;
	char got[DIGEST_STR_LEN + 1];
	int rc;

	if (d->size < 0 || (uint64_t)d->size > max)
		return kerror_set(e, EFBIG, "blob %s: %" PRId64 " bytes, too large", d->digest,
				  d->size);
	rq.method = "GET";
	rq.url = path;
	rq.scope = scope;
	rq.max_body = (size_t)d->size + 1;
	rc = client_request(c, &rq, &resp, e);
	if (rc == -EFBIG)
		return kerror_set(e, EBADMSG, "blob %s: more than the %" PRId64 " bytes announced",
				  d->digest, d->size);
	if (rc < 0)
		return rc;
	if (resp.status != 200) {
		_cleanup_free_ char *what = xasprintf("fetching blob %s", d->digest);
		rc = http_error(&resp, what, e);
		http_resp_release(&resp);
		return rc;
	}
	digest_bytes(resp.body.data ? resp.body.data : "", resp.body.len, got);
	if ((int64_t)resp.body.len != d->size || strcmp(got, d->digest) != 0) {
		rc = kerror_set(e, EBADMSG, "blob %s: digest mismatch (%zu bytes hashing to %s)",
				d->digest, resp.body.len, got);
		http_resp_release(&resp);
		return rc;
	}
	*len = resp.body.len;
	*data = buf_steal(&resp.body);
	if (!*data)
		*data = xstrdup("");
	http_resp_release(&resp);
	return 0;
}


int client_get_manifest(struct reg_client *c, const char *repo, const char *scope,
			const char *accept, const char *reference, char **data, size_t *len,
			char **ctype, char digest[DIGEST_STR_LEN + 1], struct kerror *e)
{
	_cleanup_free_ char *path = xasprintf("/v2/%s/manifests/%s", repo, reference);
	struct http_req rq = HTTP_REQ_INIT;
	struct http_resp resp;
	int rc;

	/* A digest kiln cannot verify would make the content unchecked. */
	if (strchr(reference, ':') && !str_has_prefix(reference, "sha256:"))
		return kerror_set(e, ENOTSUP, "manifest %.100s: unsupported digest algorithm "
					      "(only sha256 can be verified)", reference);
	rq.method = "GET";
	rq.url = path;
	rq.scope = scope;
	rq.accept = accept;
	rq.max_body = MAX_MANIFEST;
	rc = client_request(c, &rq, &resp, e);
	if (rc == -EFBIG)
		return kerror_set(e, EFBIG, "manifest %s: larger than 4 MiB, refused", reference);
	if (rc < 0)
		return rc;
	if (resp.status != 200) {
		_cleanup_free_ char *what = xasprintf("reading manifest %s in %s/%s", reference,
						      c->domain, repo);
		rc = http_error(&resp, what, e);
		http_resp_release(&resp);
		return rc;
	}
	digest_bytes(resp.body.data ? resp.body.data : "", resp.body.len, digest);
	if (str_has_prefix(reference, "sha256:") && strcmp(reference, digest) != 0)
		rc = kerror_set(e, EBADMSG, "manifest %s: digest mismatch (the content hashes to "
					    "%s)", reference, digest);
	else if (resp.digest && digest_is_sha256(resp.digest) && strcmp(resp.digest, digest))
		rc = kerror_set(e, EBADMSG, "manifest %s: the registry says %s, the content "
					    "hashes to %s", reference, resp.digest, digest);
	if (rc < 0) {
		http_resp_release(&resp);
		return rc;
	}
	*len = resp.body.len;
	*data = buf_steal(&resp.body);
	if (!*data)
		*data = xstrdup("");
	if (ctype)
		*ctype = resp.content_type
				 ? xstrndup(resp.content_type, strcspn(resp.content_type, ";"))
				 : NULL;
	http_resp_release(&resp);
	return 0;
}
