/* stored.c — containers/image's tagged form of a signature kept in a local
 * store (dir:, containers-storage): 0x00, a format name, '\n', then the
 * OpenPGP message ("simple-signing") or a JSON object ("sigstore-json":
 * mimeType, base64 payload, annotations).  A blob starting with an OpenPGP
 * packet byte is a historic untagged simple signature. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign_int.h"

#define FMT_SIMPLE "simple-signing"
#define FMT_SIGSTORE "sigstore-json"

static bool openpgp_first_byte(unsigned char c)
{
	return (c >= 0xa0 && c <= 0xa3) || c == 0xc8 || (c >= 0x90 && c <= 0x92) || c == 0xc4 ||
	       (c >= 0x88 && c <= 0x8b) || c == 0xc2;
}

static int decode_sigstore(const char *data, size_t len, struct sign_stored *out,
			   struct kerror *e)
{
	_cleanup_json_ json_t *j = NULL;
	if (json_parse(data, len, &j, e) < 0)
		return kerror_wrap(e, "sigstore signature");
	json_t *payload = json_object_get(j, "payload"), *ann = json_object_get(j, "annotations");
	const char *mime = json_str(j, "mimeType");
	if (!json_is_object(j) || !mime || !json_is_string(payload) ||
	    (ann && !json_is_object(ann) && !json_is_null(ann)))
		return kerror_set(e, EINVAL, "sigstore signature: missing or mistyped members");
	if (sign_b64_decode(json_string_value(payload), json_string_length(payload), &out->data) < 0)
		return kerror_set(e, EINVAL, "sigstore signature: payload is not base64");
	const char *sig = json_str(ann, SIGN_COSIGN_ANNOTATION);
	out->kind = SIGN_SIG_SIGSTORE;
	out->mime_type = xstrdup(mime);
	out->b64_signature = sig ? xstrdup(sig) : NULL;
	return 0;
}

int sign_stored_decode(const char *blob, size_t len, struct sign_stored *out, struct kerror *e)
{
	memset(out, 0, sizeof(*out));
	if (len == 0 || len > SIGN_MAX_SIGNATURE)
		return kerror_set(e, EINVAL, "stored signature: %zu bytes", len);
	if (openpgp_first_byte((unsigned char)blob[0])) {
		out->kind = SIGN_SIG_SIMPLE;
		out->data.data = xmalloc(len + 1);
		memcpy(out->data.data, blob, len);
		out->data.data[len] = 0;
		out->data.len = len;
		return 0;
	}
	if (blob[0] != 0)
		return kerror_set(e, EINVAL, "stored signature: unrecognized format (first byte 0x%02x)",
				  (unsigned char)blob[0]);
	const char *nl = memchr(blob + 1, '\n', len - 1);
	if (!nl)
		return kerror_set(e, EINVAL, "stored signature: no format name");
	size_t flen = nl - (blob + 1), rest = len - (nl + 1 - blob);
	const char *body = nl + 1;
	if (flen == strlen(FMT_SIMPLE) && memcmp(blob + 1, FMT_SIMPLE, flen) == 0) {
		out->kind = SIGN_SIG_SIMPLE;
		out->data.data = xmalloc(rest + 1);
		memcpy(out->data.data, body, rest);
		out->data.data[rest] = 0;
		out->data.len = rest;
		return 0;
	}
	if (flen == strlen(FMT_SIGSTORE) && memcmp(blob + 1, FMT_SIGSTORE, flen) == 0) {
		int r = decode_sigstore(body, rest, out, e);
		if (r < 0)
			sign_stored_release(out);
		return r;
	}
	return kerror_set(e, EINVAL, "stored signature: unknown format \"%.*s\"",
			  (int)(flen > 40 ? 40 : flen), blob + 1);
}

char *sign_stored_encode(const struct sign_signature *sig, size_t *len)
{
	struct buf b = { 0 };
	buf_append(&b, "", 1);
	if (sig->kind == SIGN_SIG_SIMPLE) {
		buf_append(&b, FMT_SIMPLE "\n", strlen(FMT_SIMPLE) + 1);
		buf_append(&b, sig->data, sig->len);
	} else {
		_cleanup_json_ json_t *j = json_object(), *ann = json_object();
		_cleanup_free_ char *p64 = sign_b64_encode(sig->data, sig->len);
		json_object_set_new(j, "mimeType", json_string(SIGN_COSIGN_MEDIA_TYPE));
		json_object_set_new(j, "payload", json_string(p64));
		if (sig->b64_signature)
			json_object_set_new(ann, SIGN_COSIGN_ANNOTATION, json_string(sig->b64_signature));
		json_object_set(j, "annotations", ann);
		_cleanup_free_ char *s = json_dump_compact(j);
		buf_append(&b, FMT_SIGSTORE "\n", strlen(FMT_SIGSTORE) + 1);
		buf_append(&b, s, strlen(s));
	}
	*len = b.len;
	buf_append(&b, "", 1); /* NUL after the data, not counted */
	return buf_steal(&b);
}

void sign_stored_release(struct sign_stored *s)
{
	sign_bytes_release(&s->data);
	free(s->b64_signature);
	free(s->mime_type);
	memset(s, 0, sizeof(*s));
}
