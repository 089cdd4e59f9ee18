/* The registry's own signature API (X-Registry-Supports-Signatures: 1, as
 * OpenShift's registry offers): GET/PUT
 * /extensions/v2/<name>/signatures/<digest>, simple signatures carried
 * base64 in {"signatures":[{"schemaVersion":2,"type":"atomic",…}]}.  When
 * the registry offers it, it takes the lookaside's place. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "registry/signing.h"

/* Strict standard base64 (padding required); -EINVAL if malformed. */
static int b64_decode(const char *s, struct sign_bytes *out)
{
	size_t n = strlen(s);
	int len;

	if (n == 0 || n % 4 || n > (size_t)SIGN_MAX_SIGNATURE / 3 * 4 + 4)
		return -EINVAL;
	out->data = xmalloc(n / 4 * 3 + 1);
	len = EVP_DecodeBlock((unsigned char *)out->data, (const unsigned char *)s, (int)n);
	if (len < 0) {
		sign_bytes_release(out);
		return -EINVAL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (s[n - 1] == '=')
		len--;
	if (s[n - 2] == '=')
		len--;
	out->len = (size_t)len;
	return 0;
}

int sig_ext_read(struct reg_client *c, const char *repo, const char *scope, const char *digest,
		 struct sign_bytes **sigs, size_t *n, struct kerror *e)
{
	_cleanup_free_ char *path = xasprintf("/extensions/v2/%s/signatures/%s", repo, digest);
	_cleanup_json_ json_t *doc = NULL;
	struct http_req rq = HTTP_REQ_INIT;
	struct http_resp resp;
	json_t *arr, *it;
	size_t i;
	int r;

	*sigs = NULL;
	*n = 0;
	rq.method = "GET";
	rq.url = path;
	rq.scope = scope;
	rq.max_body = SIGN_MAX_SIGNATURE;
	r = client_request(c, &rq, &resp, e);
	if (r < 0)
		return kerror_wrap(e, "reading signatures from the registry");
	if (resp.status == 404) {
		http_resp_release(&resp);
		return 0;
	}
	if (resp.status != 200) {
		r = http_error(&resp, "reading signatures from the registry", e);
		http_resp_release(&resp);
		return r;
	}
	r = json_parse(resp.body.data ? resp.body.data : "", resp.body.len, &doc, e);
	http_resp_release(&resp);
	if (r < 0)
		return kerror_wrap(e, "signatures of %s from the registry", digest);
	arr = json_object_get(doc, "signatures");
	if (!json_is_array(arr))
		return kerror_set(e, EBADMSG, "signatures of %s from the registry: no "
					      "\"signatures\" array", digest);
	json_array_foreach(arr, i, it) {
		json_t *ver = json_object_get(it, "schemaVersion");
		const char *type = json_string_value(json_object_get(it, "type"));
		const char *content = json_string_value(json_object_get(it, "content"));
		struct sign_bytes b = { 0 };
		/* Only version 2 "atomic" entries are simple signatures. */
		if (!json_is_integer(ver) || json_integer_value(ver) != 2 || !type ||
		    strcmp(type, "atomic") || !content)
			continue;
		if (*n >= SIGN_MAX_LOOKASIDE)
			break;
		if (b64_decode(content, &b) < 0) {
			sign_bytes_free_array(*sigs, *n);
			*sigs = NULL;
			*n = 0;
			return kerror_set(e, EBADMSG, "signature %zu of %s from the registry: "
						      "invalid base64", i + 1, digest);
		}
		*sigs = xrealloc(*sigs, (*n + 1) * sizeof(**sigs));
		(*sigs)[(*n)++] = b;
	}
	return 0;
}

int sig_ext_write(struct reg_client *c, const char *repo, const char *scope, const char *digest,
		  const void *sig, size_t len, struct kerror *e)
{
	_cleanup_free_ char *path = xasprintf("/extensions/v2/%s/signatures/%s", repo, digest);
	_cleanup_free_ char *b64 = NULL, *body = NULL, *name = NULL;
	_cleanup_json_ json_t *doc = NULL;
	struct http_req rq = HTTP_REQ_INIT;
	struct http_resp resp;
	unsigned char rnd[16];
	char hex[33];
	int r;

	if (len > SIGN_MAX_SIGNATURE)
		return kerror_set(e, EFBIG, "signature too large (%zu bytes)", len);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return kerror_set(e, EIO, "no random bytes for the signature's name");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	b64 = xmalloc((len + 2) / 3 * 4 + 1);
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)len);
	name = xasprintf("%s@%s", digest, hex);
	doc = json_pack("{s:i, s:s, s:s, s:s}", "schemaVersion", 2, "type", "atomic", "name",
			name, "content", b64);
	body = json_dump_compact(doc);
	rq.method = "PUT";
	rq.url = path;
	rq.scope = scope;
	rq.content_type = "application/json";
	rq.body = body;
	rq.body_len = strlen(body);
	r = client_request(c, &rq, &resp, e);
	if (r < 0)
		return kerror_wrap(e, "writing the signature to the registry");
	if (resp.status != 200 && resp.status != 201 && resp.status != 204)
		r = http_error(&resp, "writing the signature to the registry", e);
	http_resp_release(&resp);
	return r;
}
