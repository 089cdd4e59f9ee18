/* kiln image sign: a simple (GPG) signature for what a reference names in
 * its registry, written to the lookaside staging (as podman image sign),
 * and/or a sigstore signature attached in the registry (.sig tag). */
#include <errno.h>
#include <string.h>

#include "registry/remote.h"
#include "registry/signing.h"

/* One manifest digest signed with each kind of key asked for. */
static int sign_one(const struct image_sign_opts *o, struct remote *rm,
		    const struct image_ref *ref, const char *dref, const char *digest,
		    struct kerror *e)
{
	int r = 0;
	if (o->sign_by)
		r = sign_to_lookaside(o->registries_d, o->directory, o->sign_by,
				      o->passphrase_file, ref, dref, digest, e);
	if (r == 0 && o->sigstore_key)
		r = sign_sigstore_attach(rm->c, rm->ref->path, rm->scope, o->sigstore_key,
					 o->passphrase_file, dref, digest, e);
	return r;
}

int registry_sign_image(const struct image_sign_opts *o, const char *input, struct kerror *e)
{
	_cleanup_ref_ struct image_ref *ref = NULL;
	_cleanup_free_ char *dref = NULL;
	struct remote_image ri = { 0 };
	struct remote rm = { 0 };
	int r;

	if ((!o->sign_by || !*o->sign_by) && (!o->sigstore_key || !*o->sigstore_key))
		return kerror_set(e, EINVAL, "a signing key is required (--sign-by or "
					     "--sign-by-sigstore-private-key)");
	if (str_has_prefix(input, "docker://"))
		input += 9;
	r = ref_parse(input, &ref, e);
	if (r < 0)
		return r;
	dref = signed_identity(ref);
	r = registry_inspect_remote(&o->reg, input, NULL, true, &ri, e);
	if (r < 0)
		return r;
	if (o->sigstore_key)
		r = remote_open(&o->reg, input, true, &rm, e);
	if (r == 0)
		r = sign_one(o, &rm, ref, dref, ri.digest, e);
	if (r == 0 && o->all) {
		enum manifest_kind k = manifest_detect(ri.raw, ri.raw_len, ri.media_type);
		_cleanup_index_ struct manifest_index *x = NULL;
		if (k != MANIFEST_OCI_INDEX && k != MANIFEST_DOCKER_LIST) {
			r = kerror_set(e, EINVAL, "%s is not a manifest list: --all signs the "
						  "instances of one", input);
		} else {
			r = index_parse(ri.raw, ri.raw_len, &x, e);
			for (size_t i = 0; r == 0 && i < x->n_manifests; i++)
				r = sign_one(o, &rm, ref, dref, x->manifests[i].digest, e);
		}
	}
	remote_image_release(&ri);
	if (rm.c)
		remote_release(&rm);
	if (r < 0)
		return kerror_wrap(e, "signing %s", dref);
	return 0;
}
