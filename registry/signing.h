/* Private to registry/: the trust policy on pull (verify.c) and signing on
 * push (sign_push.c), over the sign module. */
#ifndef KILN_REGISTRY_SIGNING_H
#define KILN_REGISTRY_SIGNING_H

#include "registry/client.h"
#include "sign/sign.h"

/* The policy for a pull: o->signature_policy, else $KILN_SIGNATURE_POLICY,
 * else the default paths.  A missing file is refused (as Podman does). */
int pull_policy_load(const struct pull_opts *o, struct sign_policy **out, struct kerror *e);

/* Fetches the signatures of the manifest (bytes as pulled, digest theirs)
 * of ref (the reference asked for): simple ones from the lookaside
 * (registries.d) or the registry's signature API, sigstore ones from the
 * .sig attachment in repo (through c) when the policy needs them or
 * registries.d sets use-sigstore-attachments; then evaluates.  -EACCES
 * with the failed requirement.  *kept: the signatures in the store's
 * tagged form, to keep with the image. */
int pull_policy_check(const struct sign_policy *pol, const struct pull_opts *o,
		      struct reg_client *c, const char *repo, const char *scope,
		      const struct image_ref *ref, const char *manifest, size_t len,
		      const char *digest, struct store_sig **kept, size_t *n_kept,
		      struct kerror *e);

/* For the transports that are not a registry (oci, dir, archives): scope
 * is the path; only insecureAcceptAnything passes (no signatures are read
 * from them yet). */
int pull_policy_check_local(const struct pull_opts *o, const char *transport,
			    const char *path, struct kerror *e);

/* After the manifest (digest) is at ref: --sign-by (lookaside staging) and
 * --sign-by-sigstore-private-key (.sig attachment pushed through c). */
int push_signatures(const struct push_opts *o, struct reg_client *c, const char *repo,
		    const char *scope, const struct image_ref *ref, const char *digest,
		    struct kerror *e);

/* A sigstore signature of digest for dref, made with the private key file
 * (passphrase_file may be NULL), appended to the .sig tag of repo. */
int sign_sigstore_attach(struct reg_client *c, const char *repo, const char *scope,
			 const char *key, const char *passphrase_file, const char *dref,
			 const char *digest, struct kerror *e);

/* The signatures kept with a pulled image (sigs: the store's tagged form),
 * written for digest at ref: simple ones to the registry's signature API
 * or the lookaside staging, sigstore ones appended to the .sig tag. */
int push_kept_signatures(const struct push_opts *o, struct reg_client *c, const char *repo,
			 const char *scope, const struct image_ref *ref, const char *digest,
			 const struct store_sig *sigs, size_t n, struct kerror *e);

/* The registry's signature API (only when c->supports_signatures):
 * the simple signatures of digest in repo (none: 0 with *n == 0), and
 * one more written. */
int sig_ext_read(struct reg_client *c, const char *repo, const char *scope, const char *digest,
		 struct sign_bytes **sigs, size_t *n, struct kerror *e);
int sig_ext_write(struct reg_client *c, const char *repo, const char *scope, const char *digest,
		  const void *sig, size_t len, struct kerror *e);

/* The identity a signature names: the reference, with :latest when it has
 * neither tag nor digest. */
char *signed_identity(const struct image_ref *ref);
/* A simple signature of digest for dref, by GPG key sign_by, written at the
 * first free index under file://directory if given, else registries.d's
 * lookaside-staging for ref (registries_d: NULL for the default dirs). */
int sign_to_lookaside(const char *registries_d, const char *directory, const char *sign_by,
		      const char *passphrase_file, const struct image_ref *ref, const char *dref,
		      const char *digest, struct kerror *e);

#endif
