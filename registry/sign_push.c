/* Signing on push, once the manifest is in the registry: a simple (GPG)
 * signature written to the registries.d lookaside staging (file:// only),
 * and/or a sigstore signature appended to the "sha256-<hex>.sig" tag of
 * the same repository (config and payload blobs, then the manifest). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "registry/signing.h"

/* The identity written in a signature: the full reference, :latest when
 * neither tag nor digest was given. */
char *signed_identity(const struct image_ref *ref)
{
	_cleanup_free_ char *name = ref_name(ref);
	if (ref->tag || ref->digest)
		return ref_string(ref);
	return xasprintf("%s:%s", name, REF_DEFAULT_TAG);
}

int sign_to_lookaside(const char *registries_d, const char *directory, const char *sign_by,
		      const char *passphrase_file, const struct image_ref *ref, const char *dref,
		      const char *digest, struct kerror *e)
{
	_cleanup_sign_registries_d_ struct sign_registries_d *rd = NULL;
	_cleanup_free_ char *dir_base = directory ? xasprintf("file://%s", directory) : NULL;
	struct sign_lookaside la = { 0 };
	struct sign_bytes sig = { 0 };
	const char *base;
	int r;

	if (!dir_base) {
		r = sign_registries_d_load(registries_d, &rd, e);
		if (r < 0)
			return r;
		r = sign_lookaside_for(rd, ref, &la, e);
		if (r < 0)
			return r;
	}
	base = dir_base ? dir_base : la.write_base;
	if (!str_has_prefix(base, "file://")) {
		r = kerror_set(e, ENOTSUP, "signature storage \"%s\": only file:// can be written "
					   "(set lookaside-staging in registries.d)", base);
		goto out;
	}
	r = sign_simple_create(NULL, sign_by, passphrase_file, dref, digest, &sig, e);
	if (r < 0)
		goto out;
	r = sign_lookaside_write(base, ref, digest, sig.data, sig.len, NULL, e);
out:
	sign_bytes_release(&sig);
	sign_lookaside_release(&la);
	return r;
}

static int request(struct reg_client *c, const char *method, const char *url,
		   const char *scope, const char *ctype, const void *body, size_t len,
		   size_t max, struct http_resp *resp, struct kerror *e)
{
	struct http_req rq = HTTP_REQ_INIT;

	rq.method = method;
	rq.url = url;
	rq.scope = scope;
	rq.content_type = ctype;
	rq.accept = !strcmp(method, "GET") ? MT_OCI_MANIFEST : NULL;
	rq.body = body;
	rq.body_len = len;
	rq.max_body = max;
	return client_request(c, &rq, resp, e);
}

/* A small blob, monolithic (POST then PUT), unless it is there already. */
static int put_blob(struct reg_client *c, const char *repo, const char *scope,
		    const char *data, size_t len, struct kerror *e)
{
	char digest[DIGEST_STR_LEN + 1];
	_cleanup_free_ char *head = NULL, *post = NULL, *put = NULL;
	struct http_resp resp;
	int r;

	digest_bytes(data, len, digest);
	head = xasprintf("/v2/%s/blobs/%s", repo, digest);
	r = request(c, "HEAD", head, scope, NULL, NULL, 0, 0, &resp, e);
	if (r < 0)
		return r;
	http_resp_release(&resp);
	if (resp.status == 200)
		return 0;
	post = xasprintf("/v2/%s/blobs/uploads/", repo);
	r = request(c, "POST", post, scope, NULL, NULL, 0, 0, &resp, e);
	if (r < 0)
		return r;
	if (resp.status != 202 || !resp.location) {
		r = resp.status == 202 ? kerror_set(e, EPROTO, "starting an upload: no Location")
				       : http_error(&resp, "starting a blob upload", e);
		http_resp_release(&resp);
		return r;
	}
	put = xasprintf("%s%sdigest=%s", resp.location, strchr(resp.location, '?') ? "&" : "?",
			digest);
	http_resp_release(&resp);
	r = request(c, "PUT", put, scope, "application/octet-stream", data, len, 0, &resp, e);
	if (r < 0)
		return r;
	if (resp.status != 201) {
		_cleanup_free_ char *what = xasprintf("uploading blob %s", digest);
		r = http_error(&resp, what, e);
	}
	http_resp_release(&resp);
	return r;
}

/* Appends one sigstore signature (payload + its base64 signature) to the
 * "sha256-<hex>.sig" manifest of digest in repo, keeping those there. */
static int attach_sigstore(struct reg_client *c, const char *repo, const char *scope,
			   const char *digest, const struct sign_bytes *payload, const char *b64,
			   struct kerror *e)
{
	_cleanup_free_ char *tag = sign_cosign_tag(digest), *path = NULL;
	_cleanup_free_ char *manifest = NULL, *config = NULL, *old = NULL;
	struct http_resp resp;
	size_t old_len = 0;
	int r = 0;

	if (!tag)
		return kerror_set(e, EINVAL, "invalid manifest digest %s", digest);
	path = xasprintf("/v2/%s/manifests/%s", repo, tag);
	r = request(c, "GET", path, scope, NULL, NULL, 0, MAX_MANIFEST, &resp, e);
	if (r < 0)
		return r;
	if (resp.status == 200) {
		old_len = resp.body.len;
		old = buf_steal(&resp.body);
	} else if (resp.status != 404) {
		r = http_error(&resp, "reading the existing sigstore signatures", e);
	}
	http_resp_release(&resp);
	if (r < 0)
		return r;
	r = sign_cosign_sig_build(old, old_len, payload->data, payload->len, b64, &manifest,
				  &config, e);
	if (r == 0)
		r = put_blob(c, repo, scope, config, strlen(config), e);
	if (r == 0)
		r = put_blob(c, repo, scope, payload->data, payload->len, e);
	if (r < 0)
		return r;
	r = request(c, "PUT", path, scope, MT_OCI_MANIFEST, manifest, strlen(manifest), 0,
		    &resp, e);
	if (r < 0)
		return r;
	if (resp.status != 201)
		r = http_error(&resp, "writing the sigstore signature manifest", e);
	http_resp_release(&resp);
	return r;
}

int sign_sigstore_attach(struct reg_client *c, const char *repo, const char *scope,
			 const char *key, const char *passphrase_file, const char *dref,
			 const char *digest, struct kerror *e)
{
	_cleanup_free_ char *b64 = NULL;
	struct sign_bytes payload = { 0 };
	int r;

	r = sign_sigstore_create(key, passphrase_file, dref, digest, &payload, &b64, e);
	if (r == 0)
		r = attach_sigstore(c, repo, scope, digest, &payload, b64, e);
	sign_bytes_release(&payload);
	return r;
}

/* One simple signature where the destination keeps them: the registry's
 * signature API, else registries.d's lookaside staging (file:// only). */
static int store_simple(const struct push_opts *o, struct reg_client *c, const char *repo,
			const char *scope, const struct image_ref *ref, const char *digest,
			const struct sign_bytes *sig, struct kerror *e)
{
	_cleanup_sign_registries_d_ struct sign_registries_d *rd = NULL;
	struct sign_lookaside la = { 0 };
	int r;

	if (c->supports_signatures)
		return sig_ext_write(c, repo, scope, digest, sig->data, sig->len, e);
	r = sign_registries_d_load(o->registries_d, &rd, e);
	if (r == 0)
		r = sign_lookaside_for(rd, ref, &la, e);
	if (r < 0)
		return r;
	if (!str_has_prefix(la.write_base, "file://"))
		r = kerror_set(e, ENOTSUP, "signature storage \"%s\": only file:// can be written "
					   "(set lookaside-staging in registries.d, or push with "
					   "--remove-signatures)", la.write_base);
	else
		r = sign_lookaside_write(la.write_base, ref, digest, sig->data, sig->len, NULL, e);
	sign_lookaside_release(&la);
	return r;
}

int push_kept_signatures(const struct push_opts *o, struct reg_client *c, const char *repo,
			 const char *scope, const struct image_ref *ref, const char *digest,
			 const struct store_sig *sigs, size_t n, struct kerror *e)
{
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		struct sign_stored st;
		r = sign_stored_decode(sigs[i].data, sigs[i].len, &st, e);
		if (r < 0)
			break;
		if (st.kind == SIGN_SIG_SIMPLE)
			r = store_simple(o, c, repo, scope, ref, digest, &st.data, e);
		else if (st.b64_signature)
			r = attach_sigstore(c, repo, scope, digest, &st.data, st.b64_signature, e);
		sign_stored_release(&st);
	}
	if (r < 0)
		return kerror_wrap(e, "copying the image's signatures (--remove-signatures drops "
				      "them)");
	return 0;
}

int push_signatures(const struct push_opts *o, struct reg_client *c, const char *repo,
		    const char *scope, const struct image_ref *ref, const char *digest,
		    struct kerror *e)
{
	_cleanup_free_ char *dref = signed_identity(ref);
	int r;

	if (o->sign_by && c->supports_signatures) {
		/* The registry keeps signatures itself: no lookaside. */
		struct sign_bytes sig = { 0 };
		r = sign_simple_create(NULL, o->sign_by, o->sign_passphrase_file, dref, digest,
				       &sig, e);
		if (r == 0)
			r = sig_ext_write(c, repo, scope, digest, sig.data, sig.len, e);
		sign_bytes_release(&sig);
		if (r < 0)
			return kerror_wrap(e, "signing %s with GPG key %s", dref, o->sign_by);
	} else if (o->sign_by) {
		r = sign_to_lookaside(o->registries_d, NULL, o->sign_by, o->sign_passphrase_file,
				      ref, dref, digest, e);
		if (r < 0)
			return kerror_wrap(e, "signing %s with GPG key %s", dref, o->sign_by);
	}
	if (o->sign_by_sigstore_key) {
		r = sign_sigstore_attach(c, repo, scope, o->sign_by_sigstore_key,
					 o->sign_passphrase_file, dref, digest, e);
		if (r < 0)
			return kerror_wrap(e, "signing %s with sigstore key %s", dref,
					   o->sign_by_sigstore_key);
	}
	return 0;
}
