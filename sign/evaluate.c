/* evaluate.c — is an image allowed by the policy?  Every requirement of the
 * scope that applies must pass; signedBy/sigstoreSigned pass when at least
 * one signature of their kind verifies cryptographically, then names the
 * manifest and an accepted identity. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign_int.h"

/* "host/path/...:tag" starts with prefix followed by a separator (or is it). */
static bool ref_matches_prefix(const char *ref, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(ref, prefix, n) != 0)
		return false;
	return ref[n] == 0 || ref[n] == ':' || ref[n] == '/' || ref[n] == '@';
}

/* The repository names equal (tags and digests ignored). */
static bool same_name(const struct image_ref *a, const struct image_ref *b)
{
	return strcmp(a->domain, b->domain) == 0 && strcmp(a->path, b->path) == 0;
}

static bool same_string(const struct image_ref *a, const struct image_ref *b)
{
	_cleanup_free_ char *sa = ref_string(a), *sb = ref_string(b);
	return strcmp(sa, sb) == 0;
}

static bool name_only(const struct image_ref *r)
{
	return !r->tag && !r->digest;
}

static bool match_repo_digest_or_exact(const struct image_ref *intended,
				       const struct image_ref *sig)
{
	if (name_only(sig))
		return false;
	if (intended->tag)
		return same_string(sig, intended);
	if (intended->digest)
		return same_name(sig, intended);
	return false;
}

bool sign_identity_matches(const struct sign_identity *id, const struct image_ref *image_ref,
			   const char *signed_ref)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_ref_ struct image_ref *sig = NULL, *want = NULL, *intended = NULL;

	if (!signed_ref || ref_parse(signed_ref, &sig, &e) < 0)
		return false;
	switch (id->kind) {
	case SIGN_ID_EXACT_REFERENCE:
		if (ref_parse(id->reference, &want, &e) < 0 || name_only(want) || name_only(sig))
			return false;
		return same_string(sig, want);
	case SIGN_ID_EXACT_REPOSITORY:
		if (ref_parse(id->reference, &want, &e) < 0)
			return false;
		return same_name(sig, want);
	default:
		break;
	}
	if (!image_ref)
		return false; /* no docker identity (dir:, oci:, …) */
	/* The image's identity always carries a tag or digest (":latest"). */
	_cleanup_free_ char *istr = sign_ref_identity(image_ref);
	if (ref_parse(istr, &intended, &e) < 0)
		return false;
	switch (id->kind) {
	case SIGN_ID_MATCH_EXACT:
		return !name_only(sig) && same_string(sig, intended);
	case SIGN_ID_MATCH_REPOSITORY:
		return same_name(sig, intended);
	case SIGN_ID_REMAP_IDENTITY:
		if (ref_matches_prefix(istr, id->prefix)) {
			_cleanup_free_ char *mapped =
				xasprintf("%s%s", id->signed_prefix, istr + strlen(id->prefix));
			_cleanup_ref_ struct image_ref *m = NULL;
			/* The result must already be fully qualified, as
			 * containers/image's reference.ParseNamed demands. */
			if (ref_parse(mapped, &m, &e) < 0)
				return false;
			_cleanup_free_ char *canon = ref_string(m);
			if (strcmp(canon, mapped) != 0)
				return false;
			return match_repo_digest_or_exact(m, sig);
		}
		return match_repo_digest_or_exact(intended, sig);
	case SIGN_ID_MATCH_REPO_DIGEST_OR_EXACT:
	default:
		return match_repo_digest_or_exact(intended, sig);
	}
}

static const char *req_name(enum sign_req_kind k)
{
	switch (k) {
	case SIGN_REQ_INSECURE_ACCEPT_ANYTHING:
		return "insecureAcceptAnything";
	case SIGN_REQ_REJECT:
		return "reject";
	case SIGN_REQ_SIGNED_BY:
		return "signedBy";
	case SIGN_REQ_SIGSTORE_SIGNED:
		return "sigstoreSigned";
	}
	return "?";
}

/* After the crypto: the payload names this manifest and an accepted identity. */
static int check_payload(const struct sign_requirement *req, const struct sign_image *img,
			 const char *payload, size_t len, const char *type, struct kerror *e)
{
	struct sign_payload pl;
	char digest[DIGEST_STR_LEN + 1];
	int ret = sign_payload_parse(payload, len, type, &pl, e);
	if (ret < 0)
		return ret;
	if (!digest_is_sha256(pl.manifest_digest)) {
		ret = kerror_set(e, EACCES, "unsupported manifest digest algorithm in \"%s\"",
				 pl.manifest_digest);
		goto out;
	}
	digest_bytes(img->manifest, img->manifest_len, digest);
	if (strcmp(digest, pl.manifest_digest) != 0) {
		ret = kerror_set(e, EACCES, "signature for manifest %s does not match the image's %s",
				 pl.manifest_digest, digest);
		goto out;
	}
	if (!sign_identity_matches(&req->identity, img->ref, pl.docker_reference)) {
		ret = kerror_set(e, EACCES, "signature for identity \"%s\" is not accepted",
				 pl.docker_reference);
		goto out;
	}
	ret = 0;
out:
	sign_payload_release(&pl);
	return ret;
}

static int check_one(const struct sign_requirement *req, const struct sign_image *img,
		     const struct sign_bytes *keys, size_t n_keys, const struct sign_signature *s,
		     struct kerror *e)
{
	struct sign_bytes payload = { 0 };
	int ret;

	if (s->kind == SIGN_SIG_SIMPLE) {
		if ((ret = sign_gpg_verify(keys, n_keys, s->data, s->len, &payload, NULL, e)) < 0)
			return ret;
		ret = check_payload(req, img, payload.data, payload.len, SIGN_TYPE_SIMPLE, e);
		sign_bytes_release(&payload);
		return ret;
	}
	if (!s->b64_signature)
		return kerror_set(e, EACCES, "no %s annotation", SIGN_COSIGN_ANNOTATION);
	if ((ret = sign_sigstore_verify(keys, n_keys, s->data, s->len, s->b64_signature, e)) < 0)
		return ret;
	return check_payload(req, img, s->data, s->len, SIGN_TYPE_COSIGN, e);
}

/* signedBy / sigstoreSigned: at least one signature of the matching kind
 * must be accepted.  On failure e lists why each signature was rejected. */
static int check_signed(const struct sign_requirement *req, const struct sign_image *img,
			const struct sign_signature *sigs, size_t n_sigs, struct kerror *e)
{
	enum sign_sig_kind want = req->kind == SIGN_REQ_SIGNED_BY ? SIGN_SIG_SIMPLE : SIGN_SIG_SIGSTORE;
	struct sign_bytes *keys = NULL;
	size_t n_keys = 0, seen = 0;
	struct buf why = { 0 };
	int ret;

	if (req->kind == SIGN_REQ_SIGNED_BY && strcmp(req->key_type, "GPGKeys") != 0)
		return kerror_set(e, EACCES, "keyType \"%s\" is not supported", req->key_type);
	if (req->unsupported)
		return kerror_set(e, EACCES, "\"%s\" verification is not supported by kiln",
				  req->unsupported);
	for (size_t i = 0; i < n_sigs; i++)
		seen += sigs[i].kind == want;
	if (!seen)
		return kerror_set(e, EACCES, "a signature was required, but no signature exists");
	if ((ret = sign_req_keys(req, &keys, &n_keys, e)) < 0)
		return ret;
	ret = -EACCES;
	for (size_t i = 0, k = 0; i < n_sigs; i++) {
		struct kerror se = { 0 };
		if (sigs[i].kind != want)
			continue;
		k++;
		if (check_one(req, img, keys, n_keys, &sigs[i], &se) == 0) {
			kerror_release(&se);
			ret = 0;
			break;
		}
		buf_printf(&why, "%ssignature %zu: %s", why.len ? "; " : "", k,
			   se.msg ? se.msg : "rejected");
		kerror_release(&se);
	}
	sign_bytes_free_array(keys, n_keys);
	if (ret < 0)
		kerror_set(e, EACCES, "no signature was accepted: %s", why.data ? why.data : "");
	buf_release(&why);
	return ret;
}

int sign_policy_evaluate(const struct sign_policy *p, const struct sign_image *img,
			 const struct sign_signature *sigs, size_t n_sigs, struct kerror *e)
{
	const char *scope = NULL;
	const char *transport = img->transport ? img->transport : "docker";
	const struct sign_requirements *rs =
		sign_policy_requirements(p, transport, img->ref, img->scope, &scope);
	_cleanup_free_ char *name = img->ref ? sign_ref_identity(img->ref)
					     : xstrdup(img->scope ? img->scope : "");

	if (rs->n == 0)
		return kerror_set(e, EACCES, "image \"%s\" rejected: no requirements in scope \"%s\"",
				  name, scope);
	/* A digest reference must name these very bytes. */
	if (img->ref && img->ref->digest && digest_is_sha256(img->ref->digest)) {
		char d[DIGEST_STR_LEN + 1];
		digest_bytes(img->manifest, img->manifest_len, d);
		if (strcmp(d, img->ref->digest) != 0)
			return kerror_set(e, EACCES, "image \"%s\" rejected: manifest digest is %s",
					  name, d);
	}
	for (size_t i = 0; i < rs->n; i++) {
		const struct sign_requirement *req = &rs->v[i];
		int ret = 0;
		switch (req->kind) {
		case SIGN_REQ_INSECURE_ACCEPT_ANYTHING:
			continue;
		case SIGN_REQ_REJECT:
			ret = kerror_set(e, EACCES, "running image \"%s\" is rejected by policy", name);
			break;
		case SIGN_REQ_SIGNED_BY:
		case SIGN_REQ_SIGSTORE_SIGNED:
			ret = check_signed(req, img, sigs, n_sigs, e);
			break;
		}
		if (ret < 0)
			return kerror_wrap(e, "image \"%s\" rejected: requirement %zu (%s) of scope \"%s\"",
					   name, i + 1, req_name(req->kind), scope);
	}
	return 0;
}
