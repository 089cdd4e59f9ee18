/* Private to registry/: one repository at one registry, opened for
 * look-ups (manifests, small blobs, tags) and for pushing manifests. */
#ifndef KILN_REGISTRY_REMOTE_H
#define KILN_REGISTRY_REMOTE_H

#include "registry/client.h"

#define ACCEPT_ALL_MANIFESTS                                                          \
	MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_MANIFEST \
		", " MT_DOCKER_SCHEMA1_SIGNED ";q=0.5, " MT_DOCKER_SCHEMA1 ";q=0.5"

struct remote {
	struct reg_client *c;
	struct image_ref *ref;
	char *scope; /* "repository:PATH:pull[,push]" */
};

/* input: "[docker://]REF" (a short name means docker.io, as skopeo).  The
 * registries.conf table decides insecure and blocked. */
int remote_open(const struct registry_opts *o, const char *input, bool push, struct remote *r,
		struct kerror *e);
void remote_release(struct remote *r);
/* The reference's tag or digest ("latest" when none). */
const char *remote_reference(const struct remote *r);
/* GET a manifest by tag or digest: at most 4 MiB, digest checked; ctype
 * without parameters (may be NULL). */
int remote_get_manifest(struct remote *r, const char *reference, char **data, size_t *len,
			char **ctype, char digest[DIGEST_STR_LEN + 1], struct kerror *e);
/* GET a small blob (at most max bytes) whole, checked against d. */
int remote_get_blob(struct remote *r, const struct descriptor *d, size_t max, char **data,
		    size_t *len, struct kerror *e);
/* PUT a manifest under reference (tag or digest). */
int remote_put_manifest(struct remote *r, const char *reference, const char *media_type,
			const char *data, size_t len, struct kerror *e);
/* HEAD a blob: true when the repository has it. */
int remote_blob_exists(struct remote *r, const char *digest, bool *exists, struct kerror *e);

#endif
