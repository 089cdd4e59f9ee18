/* The trust policy on pull: which signatures the policy can use, fetched
 * from the lookaside (registries.d, file:// or http(s)://) and from the
 * registry's sigstore ".sig" attachment, then sign_policy_evaluate().
 * Runs before any blob is fetched, so a rejected image stores nothing. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "registry/signing.h"

/* Signatures gathered for one manifest (owned). */
struct sig_set {
	struct sign_signature *v;
	struct sign_bytes *data; /* parallel to v */
	char **b64;              /* parallel to v, sigstore only */
	size_t n;
};

static void sig_set_add(struct sig_set *s, enum sign_sig_kind kind, struct sign_bytes *data,
			char *b64)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->data = xrealloc(s->data, (s->n + 1) * sizeof(*s->data));
	s->b64 = xrealloc(s->b64, (s->n + 1) * sizeof(*s->b64));
	s->v[s->n].kind = kind;
	s->data[s->n] = *data;
	s->b64[s->n] = b64;
	memset(data, 0, sizeof(*data));
	s->n++;
}

static void sig_set_release(struct sig_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		sign_bytes_release(&s->data[i]);
		free(s->b64[i]);
	}
	free(s->v);
	free(s->data);
	free(s->b64);
	memset(s, 0, sizeof(*s));
}

/* The sign_signature views, once every signature is in. */
static void sig_set_finish(struct sig_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		s->v[i].data = s->data[i].data;
		s->v[i].len = s->data[i].len;
		s->v[i].b64_signature = s->b64[i];
	}
}

int pull_policy_load(const struct pull_opts *o, struct sign_policy **out, struct kerror *e)
{
	const char *over = o->signature_policy;
	_cleanup_free_ char *path = NULL;

	*out = NULL;
	if (!over || !*over)
		over = getenv("KILN_SIGNATURE_POLICY");
	path = sign_policy_path(over);
	if (!fs_exists(path))
		return kerror_set(e, ENOENT, "no trust policy: \"%s\" does not exist, and kiln "
					     "(like podman) does not pull without one; create it "
					     "(e.g. kiln image trust set --policypath %s -t accept "
					     "default) or pass --signature-policy FILE",
				  path, path);
	return sign_policy_load(path, out, e);
}

static int get(struct reg_client *c, const char *url, const char *scope, const char *accept,
	       size_t max, struct http_resp *resp, struct kerror *e)
{
	struct http_req rq = HTTP_REQ_INIT;

	rq.method = "GET";
	rq.url = url;
	rq.scope = scope;
	rq.accept = accept;
	rq.max_body = max;
	return client_request(c, &rq, resp, e);
}

/* One payload blob of the .sig manifest, digest and size checked. */
static int get_payload(struct reg_client *c, const char *repo, const char *scope,
		       const struct sign_cosign_layer *l, struct sign_bytes *out,
		       struct kerror *e)
{
	struct descriptor d = { .digest = l->digest, .size = l->size };
	int r = client_get_blob(c, repo, scope, &d, SIGN_MAX_SIGNATURE, &out->data, &out->len, e);
	return r < 0 ? kerror_wrap(e, "sigstore payload") : 0;
}

/* The layers of <repo>:sha256-<hex>.sig; none is not an error. */
static int fetch_sigstore(struct reg_client *c, const char *repo, const char *scope,
			  const char *digest, struct sig_set *s,
			  struct kerror *e)
{
	_cleanup_free_ char *tag = sign_cosign_tag(digest), *path = NULL;
	struct sign_cosign_layer *layers = NULL;
	struct http_resp resp;
	size_t n = 0;
	int r;

	if (!tag)
		return kerror_set(e, EINVAL, "invalid manifest digest %s", digest);
	path = xasprintf("/v2/%s/manifests/%s", repo, tag);
	r = get(c, path, scope, MT_OCI_MANIFEST, MAX_MANIFEST, &resp, e);
	if (r < 0)
		return kerror_wrap(e, "reading sigstore signatures %s", tag);
	if (resp.status == 404) {
		http_resp_release(&resp);
		return 0;
	}
	if (resp.status != 200) {
		_cleanup_free_ char *what = xasprintf("reading sigstore signatures %s", tag);
		r = http_error(&resp, what, e);
		http_resp_release(&resp);
		return r;
	}
	r = sign_cosign_sig_parse(resp.body.data ? resp.body.data : "", resp.body.len, &layers,
				  &n, e);
	http_resp_release(&resp);
	if (r < 0)
		return kerror_wrap(e, "%s", tag);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct sign_bytes b = { 0 };
		if (!layers[i].b64_signature)
			continue;
		r = get_payload(c, repo, scope, &layers[i], &b, e);
		if (r < 0)
			break;
		sig_set_add(s, SIGN_SIG_SIGSTORE, &b, xstrdup(layers[i].b64_signature));
	}
	sign_cosign_layers_free(layers, n);
	return r;
}

/* signature-1, -2, … over http(s) until the first 404. */
static int fetch_lookaside_http(const struct pull_opts *o, const char *base,
				const struct image_ref *ref, const char *digest,
				struct sig_set *s, struct kerror *e)
{
	_cleanup_client_ struct reg_client *c = NULL;
	const char *host = strstr(base, "://") + 3;
	_cleanup_free_ char *domain = xstrndup(host, strcspn(host, "/?#"));
	int r;

	if (!*domain)
		return kerror_set(e, EINVAL, "lookaside \"%s\": no host", base);
	r = client_new(&o->reg, domain, false, &c, e);
	if (r < 0)
		return r;
	c->pinged = true; /* a web server, not a registry: no /v2/ ping */
	for (unsigned i = 1; i <= SIGN_MAX_LOOKASIDE; i++) {
		_cleanup_free_ char *url = sign_lookaside_url(base, ref, digest, i);
		struct http_resp resp;
		struct sign_bytes b = { 0 };
		if (!url)
			return kerror_set(e, EINVAL, "invalid manifest digest %s", digest);
		r = get(c, url, NULL, NULL, SIGN_MAX_SIGNATURE, &resp, e);
		if (r < 0)
			return kerror_wrap(e, "reading signature %s", url);
		if (resp.status == 404) {
			http_resp_release(&resp);
			return 0;
		}
		if (resp.status != 200) {
			_cleanup_free_ char *what = xasprintf("reading signature %s", url);
			r = http_error(&resp, what, e);
			http_resp_release(&resp);
			return r;
		}
		b.len = resp.body.len;
		b.data = buf_steal(&resp.body);
		if (!b.data)
			b.data = xstrdup("");
		http_resp_release(&resp);
		sig_set_add(s, SIGN_SIG_SIMPLE, &b, NULL);
	}
	return 0;
}

static int fetch_lookaside(const struct pull_opts *o, const struct sign_lookaside *la,
			   const struct image_ref *ref, const char *digest, struct sig_set *s,
			   struct kerror *e)
{
	struct sign_bytes *v = NULL;
	size_t n = 0;
	int r;

	if (str_has_prefix(la->read_base, "http://") || str_has_prefix(la->read_base, "https://"))
		return fetch_lookaside_http(o, la->read_base, ref, digest, s, e);
	r = sign_lookaside_read(la->read_base, ref, digest, &v, &n, e);
	for (size_t i = 0; r == 0 && i < n; i++)
		sig_set_add(s, SIGN_SIG_SIMPLE, &v[i], NULL);
	sign_bytes_free_array(v, n);
	return r;
}

/* The signatures in the tagged form the store keeps (sign_stored_encode). */
static void sig_set_encode(const struct sig_set *s, struct store_sig **out, size_t *n)
{
	*out = s->n ? xcalloc(s->n, sizeof(**out)) : NULL;
	*n = s->n;
	for (size_t i = 0; i < s->n; i++)
		(*out)[i].data = sign_stored_encode(&s->v[i], &(*out)[i].len);
}

int pull_policy_check(const struct sign_policy *pol, const struct pull_opts *o,
		      struct reg_client *c, const char *repo, const char *scope,
		      const struct image_ref *ref, const char *manifest, size_t len,
		      const char *digest, struct store_sig **kept, size_t *n_kept,
		      struct kerror *e)
{
	_cleanup_ref_ struct image_ref *tagged = NULL;
	_cleanup_sign_registries_d_ struct sign_registries_d *rd = NULL;
	struct sign_lookaside la = { 0 };
	struct sig_set s = { 0 };
	bool simple = false, sigstore = false;
	int r = 0;

	*kept = NULL;
	*n_kept = 0;
	/* A reference without tag or digest is pulled as :latest. */
	if (!ref->tag && !ref->digest) {
		_cleanup_free_ char *name = ref_name(ref);
		_cleanup_free_ char *full = xasprintf("%s:%s", name, REF_DEFAULT_TAG);
		r = ref_parse(full, &tagged, e);
		if (r < 0)
			return r;
		ref = tagged;
	}
	sign_policy_needs(pol, "docker", ref, NULL, &simple, &sigstore);
	r = sign_registries_d_load(o->registries_d, &rd, e);
	if (r == 0)
		r = sign_lookaside_for(rd, ref, &la, e);
	if (r < 0)
		return kerror_wrap(e, "fetching the signatures of %s", digest);
	/* Simple signatures are always read (as podman does, to keep them for
	 * a later push); a failure matters only when the policy needs them.
	 * The registry's own signature API takes the lookaside's place. */
	{
		struct kerror ee = { 0 };
		struct kerror *err = simple ? e : &ee;
		if (c->supports_signatures) {
			struct sign_bytes *v = NULL;
			size_t n = 0;
			r = sig_ext_read(c, repo, scope, digest, &v, &n, err);
			for (size_t i = 0; r == 0 && i < n; i++)
				sig_set_add(&s, SIGN_SIG_SIMPLE, &v[i], NULL);
			sign_bytes_free_array(v, n);
		} else {
			r = fetch_lookaside(o, &la, ref, digest, &s, err);
		}
		if (r < 0 && !simple) {
			log_debug("ignoring unreadable signatures of %s: %s", digest, ee.msg);
			kerror_release(&ee);
			r = 0;
		}
	}
	/* Sigstore attachments: when the policy needs them, or registries.d's
	 * use-sigstore-attachments asks for them to be kept. */
	if (r == 0 && (sigstore || la.use_sigstore_attachments))
		r = fetch_sigstore(c, repo, scope, digest, &s, e);
	sign_lookaside_release(&la);
	if (r < 0) {
		sig_set_release(&s);
		return kerror_wrap(e, "fetching the signatures of %s", digest);
	}
	sig_set_finish(&s);
	{
		struct sign_image img = {
			.transport = "docker",
			.ref = ref,
			.manifest = manifest,
			.manifest_len = len,
		};
		r = sign_policy_evaluate(pol, &img, s.v, s.n, e);
	}
	if (r == 0)
		sig_set_encode(&s, kept, n_kept);
	sig_set_release(&s);
	if (r < 0)
		return kerror_wrap(e, "trust policy (manifest %s)", digest);
	return 0;
}

/* A dir: layout keeps its signatures beside the manifest, as
 * containers/image writes them: signature-1, -2, … in the tagged form. */
static int check_dir(const struct sign_policy *pol, const char *dir, struct kerror *e)
{
	_cleanup_free_ char *mpath = xasprintf("%s/manifest.json", dir), *manifest = NULL;
	struct sig_set s = { 0 };
	size_t mlen = 0;
	int r;

	/* No manifest: evaluated as empty (what needs a signature is refused,
	 * insecureAcceptAnything leaves the error to the load). */
	if (fs_read_file(mpath, MAX_MANIFEST, &manifest, &mlen, NULL) < 0) {
		manifest = xstrdup("");
		mlen = 0;
	}
	r = 0;
	for (unsigned i = 1; r == 0 && i <= SIGN_MAX_LOOKASIDE; i++) {
		_cleanup_free_ char *sp = xasprintf("%s/signature-%u", dir, i), *blob = NULL;
		struct sign_stored st;
		size_t len = 0;
		if (!fs_exists(sp))
			break;
		r = fs_read_file(sp, SIGN_MAX_SIGNATURE, &blob, &len, e);
		if (r == 0)
			r = sign_stored_decode(blob, len, &st, e);
		if (r < 0) {
			kerror_wrap(e, "\"%s\"", sp);
			break;
		}
		sig_set_add(&s, st.kind, &st.data, steal_pointer(&st.b64_signature));
		sign_stored_release(&st);
	}
	if (r == 0) {
		struct sign_image img = {
			.transport = "dir",
			.scope = dir,
			.manifest = manifest,
			.manifest_len = mlen,
		};
		sig_set_finish(&s);
		r = sign_policy_evaluate(pol, &img, s.v, s.n, e);
	}
	sig_set_release(&s);
	if (r < 0)
		return kerror_wrap(e, "trust policy (dir:%s)", dir);
	return 0;
}

int pull_policy_check_local(const struct pull_opts *o, const char *transport,
			    const char *path, struct kerror *e)
{
	_cleanup_sign_policy_ struct sign_policy *pol = NULL;
	const struct sign_requirements *reqs;
	const char *matched = NULL;
	char abs[PATH_MAX];
	const char *scope = !path ? NULL : realpath(path, abs) ? abs : path;
	int r;

	r = pull_policy_load(o, &pol, e);
	if (r < 0)
		return r;
	if (!strcmp(transport, "dir") && scope)
		return check_dir(pol, scope, e);
	reqs = sign_policy_requirements(pol, transport, NULL, scope, &matched);
	for (size_t i = 0; reqs && i < reqs->n; i++) {
		switch (reqs->v[i].kind) {
		case SIGN_REQ_INSECURE_ACCEPT_ANYTHING:
			continue;
		case SIGN_REQ_REJECT:
			return kerror_set(e, EACCES, "%s:%s is rejected by the trust policy: "
						     "requirement %zu of \"%s\" (reject)",
					  transport, scope ? scope : "(stdin)", i + 1, matched ? matched : "default");
		case SIGN_REQ_SIGNED_BY:
		case SIGN_REQ_SIGSTORE_SIGNED:
			return kerror_set(e, EACCES, "%s:%s is rejected by the trust policy: "
						     "requirement %zu of \"%s\" (%s): kiln reads no "
						     "signatures from the %s transport",
					  transport, scope ? scope : "(stdin)", i + 1, matched ? matched : "default",
					  reqs->v[i].kind == SIGN_REQ_SIGNED_BY ? "signedBy"
										 : "sigstoreSigned",
					  transport);
		}
	}
	return 0;
}

int registry_policy_check_local(const struct pull_opts *o, const char *transport,
				const char *path, struct kerror *e)
{
	return pull_policy_check_local(o, transport, path, e);
}
