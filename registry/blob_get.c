/* A small blob (config, signature payload) fetched into memory, its size and
 * digest verified before it is handed back. */
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

