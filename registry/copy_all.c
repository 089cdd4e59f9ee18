/* kiln copy --all: a manifest list (or OCI index) from one registry to
 * another, whole: every instance copied by digest (each through copy's
 * temporary store, so each is verified), then the list's own bytes, so its
 * digest is kept.  Anything that is not a list is copied as usual. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "registry/remote.h"

/* "[docker://]NAME" + "@" + digest: the same repository by digest. */
static char *by_digest(const struct image_ref *ref, const char *digest)
{
	_cleanup_free_ char *name = ref_name(ref);
	return xasprintf("docker://%s@%s", name, digest);
}

int registry_copy_all(const char *src, const char *dst, const struct pull_opts *po,
		      const struct push_opts *pu, char digest[DIGEST_STR_LEN + 1],
		      struct kerror *e)
{
	struct transport_ref ts = { 0 }, td = { 0 };
	struct remote rs = { 0 }, rd = { 0 };
	_cleanup_free_ char *raw = NULL, *ctype = NULL;
	_cleanup_index_ struct manifest_index *x = NULL;
	struct push_opts inst = *pu;
	size_t len = 0;
	enum manifest_kind kind;
	int r;

	r = transport_parse(src, &ts, e);
	if (r == 0)
		r = transport_parse(dst, &td, e);
	if (r < 0)
		goto out;
	if (ts.kind != TRANSPORT_DOCKER || td.kind != TRANSPORT_DOCKER) {
		transport_ref_release(&ts);
		transport_ref_release(&td);
		return registry_copy(src, dst, po, pu, digest, e);
	}
	r = remote_open(&po->reg, ts.path, false, &rs, e);
	if (r == 0)
		r = remote_get_manifest(&rs, remote_reference(&rs), &raw, &len, &ctype, digest, e);
	if (r < 0)
		goto out;
	kind = manifest_detect(raw, len, ctype);
	if (kind != MANIFEST_OCI_INDEX && kind != MANIFEST_DOCKER_LIST) {
		r = registry_copy(src, dst, po, pu, digest, e);
		goto out;
	}
	r = index_parse(raw, len, &x, e);
	if (r == 0)
		r = remote_open(&pu->reg, td.path, true, &rd, e);
	if (r < 0)
		goto out;
	/* Each instance under its digest; signing applies to the list. */
	inst.by_digest = true;
	inst.sign_by = NULL;
	inst.sign_by_sigstore_key = NULL;
	for (size_t i = 0; r == 0 && i < x->n_manifests; i++) {
		_cleanup_free_ char *from = by_digest(rs.ref, x->manifests[i].digest);
		_cleanup_free_ char *to = by_digest(rd.ref, x->manifests[i].digest);
		char got[DIGEST_STR_LEN + 1];
		r = registry_copy(from, to, po, &inst, got, e);
		if (r == 0 && strcmp(got, x->manifests[i].digest) != 0)
			r = kerror_set(e, EINVAL, "instance %s was written as %s: the list would not "
						  "match it", x->manifests[i].digest, got);
	}
	if (r == 0) {
		if (pu->progress)
			pu->progress(pu->progress_ctx, "Writing manifest list to image destination");
		r = remote_put_manifest(&rd, remote_reference(&rd), ctype ? ctype
					: kind == MANIFEST_OCI_INDEX ? MT_OCI_INDEX : MT_DOCKER_LIST,
					raw, len, e);
	}
out:
	if (rs.c || rs.ref)
		remote_release(&rs);
	if (rd.c || rd.ref)
		remote_release(&rd);
	transport_ref_release(&ts);
	transport_ref_release(&td);
	if (r < 0)
		return kerror_wrap(e, "copying \"%s\" to \"%s\"", src, dst);
	return 0;
}
