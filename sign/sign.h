/* sign.h — the public header of kiln's sign module: the trust policy
 * (containers-policy.json), its evaluation for an image, "simple signing"
 * signatures (OpenPGP over gpgme), sigstore/cosign key signatures (OpenSSL),
 * and lookaside signature storage (registries.d).  No printing; the only I/O
 * is reading policy/key/registries.d files, file:// lookaside signatures and
 * gpg's own temporary home.  Uses common and image only.
 *
 * How the registry side uses it on pull:
 *   sign_policy_load(flag_or_NULL, &pol, e);
 *   sign_policy_needs(pol, "docker", ref, NULL, &simple, &sigstore);
 *   if simple:   sign_registries_d_load(NULL, &rd, e);
 *                sign_lookaside_for(rd, ref, &la, e);
 *                read la.read_base: file:// with sign_lookaside_read(),
 *                http(s):// by GETting sign_lookaside_url(…, 1, 2, …) until 404
 *   if sigstore: GET <repo>:sha256-<hex>.sig, one sign_signature per layer of
 *                media type SIGN_COSIGN_MEDIA_TYPE (payload blob + annotation)
 *   sign_policy_evaluate(pol, &img, sigs, n, e)  → 0 or -EACCES with the why.
 * On push: sign_simple_create() then sign_lookaside_write() to
 * la.write_base; or sign_sigstore_create(), then sign_cosign_sig_build() on
 * the existing .sig manifest (sign_cosign_tag()) and push config, payload
 * and manifest.  Signatures kept in the store use sign_stored_encode(). */
#ifndef KILN_SIGN_H
#define KILN_SIGN_H

#include "common/common.h"
#include "image/image.h"

/* Caps on untrusted sizes. */
#define SIGN_MAX_SIGNATURE (4u * 1024 * 1024)  /* one signature blob */
#define SIGN_MAX_POLICY (4u * 1024 * 1024)     /* policy.json, registries.d files */
#define SIGN_MAX_LOOKASIDE 128                 /* signatures read per image */
#define SIGN_MAX_KEYS (1u * 1024 * 1024)       /* one key file */

#define SIGN_TYPE_SIMPLE "atomic container signature"
#define SIGN_TYPE_COSIGN "cosign container image signature"
#define SIGN_COSIGN_MEDIA_TYPE "application/vnd.dev.cosign.simplesigning.v1+json"
#define SIGN_COSIGN_ANNOTATION "dev.cosignproject.cosign/signature"

/* An owned byte string. */
struct sign_bytes {
	char *data;
	size_t len;
};

/* ---- policy (containers-policy.json) ---------------------------------- */

enum sign_identity_kind {
	SIGN_ID_MATCH_REPO_DIGEST_OR_EXACT, /* the default */
	SIGN_ID_MATCH_EXACT,
	SIGN_ID_MATCH_REPOSITORY,
	SIGN_ID_EXACT_REFERENCE,  /* ->reference */
	SIGN_ID_EXACT_REPOSITORY, /* ->reference (a repository) */
	SIGN_ID_REMAP_IDENTITY,   /* ->prefix, ->signed_prefix */
};

struct sign_identity {
	enum sign_identity_kind kind;
	char *reference;
	char *prefix, *signed_prefix;
};

enum sign_req_kind {
	SIGN_REQ_INSECURE_ACCEPT_ANYTHING,
	SIGN_REQ_REJECT,
	SIGN_REQ_SIGNED_BY,
	SIGN_REQ_SIGSTORE_SIGNED,
};

struct sign_requirement {
	enum sign_req_kind kind;
	char *key_type;            /* signedBy: "GPGKeys" (others parse, never pass) */
	char **key_paths;          /* keyPath (one entry) or keyPaths; NULL-terminated */
	struct sign_bytes *key_datas; /* keyData (decoded) or keyDatas */
	size_t n_key_datas;
	char *unsupported;         /* sigstoreSigned fulcio/pki/rekor: never passes */
	struct sign_identity identity;
};

struct sign_requirements {
	struct sign_requirement *v;
	size_t n; /* never 0 in a parsed policy */
};

struct sign_scope {
	char *name; /* "" is the transport's default */
	struct sign_requirements reqs;
};

struct sign_transport {
	char *name;
	struct sign_scope *scopes;
	size_t n_scopes;
};

struct sign_policy {
	struct sign_requirements dflt;
	struct sign_transport *transports;
	size_t n_transports;
};

/* Parses policy.json strictly: unknown, duplicate, missing or invalid fields
 * reject the whole document with the reason (and a JSON path). */
int sign_policy_parse(const char *data, size_t len, struct sign_policy **out, struct kerror *e);
/* The policy file in use: override (--signature-policy) if set, else
 * $HOME/.config/containers/policy.json if it exists, else
 * /etc/containers/policy.json.  Returns a new string. */
char *sign_policy_path(const char *override);
/* Reads and parses sign_policy_path(override); a missing file is an error. */
int sign_policy_load(const char *override, struct sign_policy **out, struct kerror *e);
void sign_policy_free(struct sign_policy *p);
void cleanup_sign_policyp(struct sign_policy **p);
#define _cleanup_sign_policy_ __attribute__((cleanup(cleanup_sign_policyp)))

/* The requirements that apply: for transport "docker", ref is the image
 * (a reference without tag or digest is taken as :latest) and scopes are
 * tried from the full reference, the repository, each parent namespace,
 * host[:port], then *.domain wildcards, the transport's "" and the global
 * default; for other transports, scope (e.g. an absolute path for oci/dir,
 * may be NULL) then "" then default.  Only the most specific match applies.
 * *matched (may be NULL) gets the scope used ("default" for the global one). */
const struct sign_requirements *sign_policy_requirements(const struct sign_policy *p,
							 const char *transport,
							 const struct image_ref *ref,
							 const char *scope,
							 const char **matched);

/* Which kinds of signatures the requirements for this image can use, so a
 * caller fetches only what matters. */
void sign_policy_needs(const struct sign_policy *p, const char *transport,
		       const struct image_ref *ref, const char *scope, bool *simple,
		       bool *sigstore);

/* `image trust show`: one row per requirement, the global default first.
 * name is "default", a docker scope, or "transport:scope"; type is accept,
 * reject, signed or sigstoreSigned; keys lists key paths ("" if none). */
struct sign_trust_row {
	char *name, *type, *keys;
};
void sign_trust_show(const struct sign_policy *p, struct sign_trust_row **rows, size_t *n);
void sign_trust_rows_free(struct sign_trust_row *rows, size_t n);
/* `image trust set`: policy (text, may be NULL for a new file) with the
 * docker scope (or "default") replaced by type accept | reject | signedBy |
 * sigstoreSigned, the keyed types with one requirement per file in pubkeys
 * (as podman writes them).  *out is the new file (4-space JSON), already
 * checked by sign_policy_parse; the rest of the file is kept. */
int sign_trust_set(const char *policy, size_t len, const char *scope, const char *type,
		   char *const *pubkeys, char **out, struct kerror *e);

/* ---- evaluation ----------------------------------------------------------- */

enum sign_sig_kind {
	SIGN_SIG_SIMPLE,   /* data: the OpenPGP signed message */
	SIGN_SIG_SIGSTORE, /* data: the payload blob; b64_signature: the annotation */
};

struct sign_signature {
	enum sign_sig_kind kind;
	const char *data;
	size_t len;
	const char *b64_signature;
};

struct sign_image {
	const char *transport;         /* "docker", "oci", "docker-archive", … */
	const struct image_ref *ref;   /* the docker identity; NULL if none */
	const char *scope;             /* non-docker transports' scope, may be NULL */
	const char *manifest;          /* the exact manifest bytes */
	size_t manifest_len;
};

/* Every requirement must pass; for signedBy/sigstoreSigned one valid
 * signature suffices (crypto checked first, then the payload, its manifest
 * digest against sha256(manifest) and its identity against signedIdentity).
 * 0 = allowed; -EACCES = rejected, e says which requirement failed and why
 * ("requirement 2 of \"docker.io\" (signedBy): …").  Other negative values:
 * the check itself could not run (also a refusal). */
int sign_policy_evaluate(const struct sign_policy *p, const struct sign_image *img,
			 const struct sign_signature *sigs, size_t n_sigs, struct kerror *e);

/* Does the identity claimed by a signature (signed_ref) satisfy id for an
 * image known as image_ref?  Exposed for tests and `trust` output. */
bool sign_identity_matches(const struct sign_identity *id, const struct image_ref *image_ref,
			   const char *signed_ref);

/* ---- signature payloads (containers-signature(5)) ------------------------ */

struct sign_payload {
	char *type;
	char *manifest_digest;
	char *docker_reference;
	char *creator;     /* may be NULL */
	int64_t timestamp; /* -1 when absent */
};

/* Compact JSON: {"critical":{"type","image","identity"},"optional":{…}}.
 * creator may be NULL; timestamp < 0 leaves it out. */
char *sign_payload_create(const char *type, const char *manifest_digest,
			  const char *docker_reference, const char *creator, int64_t timestamp);
/* Strict parse of an *authenticated* payload: exactly critical+optional,
 * exactly type/image/identity, type == want_type, a valid digest and
 * reference, optional's creator a string and timestamp an integer. */
int sign_payload_parse(const char *data, size_t len, const char *want_type,
		       struct sign_payload *out, struct kerror *e);
void sign_payload_release(struct sign_payload *p);

/* ---- GPG simple signing (gpgme) -------------------------------------------- */

/* Signs payload as an OpenPGP signed message (binary, like gpg --sign) with
 * the secret key fingerprint from gnupghome (NULL: gpg's default).
 * passphrase_file (may be NULL) holds the passphrase (a trailing newline is
 * dropped) given over loopback pinentry. */
int sign_gpg_sign(const char *gnupghome, const char *fingerprint, const char *passphrase_file,
		  const void *payload, size_t len, struct sign_bytes *sig, struct kerror *e);
/* Verifies an OpenPGP signed message using only the keys in keyrings (binary
 * or armored exports) in a private temporary GNUPGHOME, never the user's.
 * Exactly one good, unexpired signature by one of those keys is accepted;
 * *payload gets the signed bytes and *signer (may be NULL) the primary key
 * fingerprint. */
int sign_gpg_verify(const struct sign_bytes *keyrings, size_t n_keyrings, const void *sig,
		    size_t sig_len, struct sign_bytes *payload, char **signer, struct kerror *e);

/* The push side: payload for docker_reference + manifest_digest (type
 * SIGN_TYPE_SIMPLE, creator "kiln", now) signed by fingerprint. */
int sign_simple_create(const char *gnupghome, const char *fingerprint,
		       const char *passphrase_file, const char *docker_reference,
		       const char *manifest_digest, struct sign_bytes *sig, struct kerror *e);

/* ---- sigstore / cosign key signatures (OpenSSL) ---------------------------- */

/* Verifies b64_signature (standard base64 of ECDSA-DER/SHA-256, RSA PKCS#1
 * v1.5/SHA-256 or pure Ed25519) over payload with any of the PEM public keys
 * (each entry may hold several PEM blocks). */
int sign_sigstore_verify(const struct sign_bytes *pubkeys, size_t n_pubkeys,
			 const void *payload, size_t len, const char *b64_signature,
			 struct kerror *e);
/* Signs payload with a PEM private key: unencrypted PKCS#8/SEC1, or cosign's
 * "ENCRYPTED SIGSTORE PRIVATE KEY" / "ENCRYPTED COSIGN PRIVATE KEY" with
 * passphrase (may be NULL).  *b64_signature is standard base64. */
int sign_sigstore_sign(const char *key_pem, size_t key_len, const char *passphrase,
		       const void *payload, size_t len, char **b64_signature, struct kerror *e);
/* The push side: payload (type SIGN_TYPE_COSIGN, optional null) for
 * docker_reference + manifest_digest signed with the key file. */
int sign_sigstore_create(const char *key_path, const char *passphrase_file,
			 const char *docker_reference, const char *manifest_digest,
			 struct sign_bytes *payload, char **b64_signature, struct kerror *e);
/* A new ECDSA P-256 key pair: *pub_pem (PUBLIC KEY) and *priv_pem, cosign's
 * encrypted format (scrypt + secretbox) with passphrase ("" allowed). */
int sign_sigstore_generate(const char *passphrase, char **priv_pem, char **pub_pem,
			   struct kerror *e);
/* `generate-sigstore-key --output-prefix PREFIX [--passphrase-file F]`:
 * writes PREFIX.private (0600) and PREFIX.pub, never overwriting either. */
int sign_sigstore_generate_files(const char *prefix, const char *passphrase_file,
				 struct kerror *e);

/* ---- signatures kept locally (containers/image's tagged blob form) ------- */

/* A signature as dir: and containers-storage keep it: 0x00 "simple-signing\n"
 * + OpenPGP bytes, or 0x00 "sigstore-json\n" + {"mimeType","payload"(base64),
 * "annotations"}; an untagged OpenPGP message is accepted too.  Point a
 * sign_signature at ->data / ->b64_signature to evaluate it. */
struct sign_stored {
	enum sign_sig_kind kind;
	struct sign_bytes data;
	char *b64_signature; /* sigstore: the annotation, may be NULL */
	char *mime_type;     /* sigstore */
};
int sign_stored_decode(const char *blob, size_t len, struct sign_stored *out, struct kerror *e);
/* The tagged form of sig; *len excludes the trailing NUL. */
char *sign_stored_encode(const struct sign_signature *sig, size_t *len);
void sign_stored_release(struct sign_stored *s);

/* ---- sigstore attachments (the "sha256-<hex>.sig" tag) ---------------------- */

/* "sha256-<hex>.sig" for a manifest digest; NULL if the digest is invalid. */
char *sign_cosign_tag(const char *manifest_digest);

struct sign_cosign_layer {
	char *digest;        /* the payload blob to fetch (verify digest and size) */
	int64_t size;        /* at most SIGN_MAX_SIGNATURE */
	char *b64_signature; /* the annotation, NULL if absent */
};
/* The signature layers (media type SIGN_COSIGN_MEDIA_TYPE; others skipped)
 * of the manifest found at the .sig tag, which must be an OCI manifest. */
int sign_cosign_sig_parse(const char *manifest, size_t len, struct sign_cosign_layer **out,
			  size_t *n, struct kerror *e);
void sign_cosign_layers_free(struct sign_cosign_layer *v, size_t n);
/* The .sig manifest with one more signature: old (may be NULL) keeps its
 * layers, the payload becomes a new layer (unless the very same signature is
 * there).  Push *config (a blob, OCI config type), the payload blob, then
 * *manifest at the tag. */
int sign_cosign_sig_build(const char *old, size_t old_len, const void *payload,
			  size_t payload_len, const char *b64_signature, char **manifest,
			  char **config, struct kerror *e);

/* ---- lookaside storage (registries.d) ---------------------------------------- */

struct sign_registries_d;
struct sign_registries_d *sign_registries_d_new(void);
/* Adds one YAML document (name is used in errors); a scope or default-docker
 * defined twice across documents is an error. */
int sign_registries_d_add(struct sign_registries_d *rd, const char *yaml, size_t len,
			  const char *name, struct kerror *e);
/* Reads every *.yaml in dir (NULL: $HOME/.config/containers/registries.d if
 * it exists, else /etc/containers/registries.d; a missing dir is empty). */
int sign_registries_d_load(const char *dir, struct sign_registries_d **out, struct kerror *e);
void sign_registries_d_free(struct sign_registries_d *rd);
void cleanup_sign_registries_dp(struct sign_registries_d **rd);
#define _cleanup_sign_registries_d_ __attribute__((cleanup(cleanup_sign_registries_dp)))

struct sign_lookaside {
	char *read_base;  /* lookaside (or sigstore), else the built-in default */
	char *write_base; /* lookaside-staging (or sigstore-staging), else read_base */
	bool use_sigstore_attachments;
};
/* Resolves the most specific scope having each key (full reference, repo,
 * namespaces, host[:port], then default-docker).  The built-in default is
 * file:///var/lib/containers/sigstore for root, else
 * file://$HOME/.local/share/containers/sigstore. */
int sign_lookaside_for(const struct sign_registries_d *rd, const struct image_ref *ref,
		       struct sign_lookaside *out, struct kerror *e);
void sign_lookaside_release(struct sign_lookaside *l);
/* "<base>/<repository path>@sha256=<hex>/signature-<index>" (index from 1);
 * NULL if the digest is invalid. */
char *sign_lookaside_url(const char *base, const struct image_ref *ref, const char *digest,
			 unsigned index);
/* Reads signature-1, -2, … from a file:// base until the first missing one
 * (at most SIGN_MAX_LOOKASIDE, each at most SIGN_MAX_SIGNATURE bytes).
 * Other schemes: -EPROTONOSUPPORT (the registry side fetches http(s)). */
int sign_lookaside_read(const char *base, const struct image_ref *ref, const char *digest,
			struct sign_bytes **sigs, size_t *n, struct kerror *e);
/* Writes sig at the first unused index under a file:// base (directories
 * created); *index (may be NULL) gets it. */
int sign_lookaside_write(const char *base, const struct image_ref *ref, const char *digest,
			 const void *sig, size_t len, unsigned *index, struct kerror *e);

void sign_bytes_release(struct sign_bytes *b);
void sign_bytes_free_array(struct sign_bytes *v, size_t n);

#endif
