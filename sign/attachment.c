/* attachment.c — cosign's tag-based signature attachments: the
 * "sha256-<hex>.sig" tag, reading the signatures out of that OCI manifest,
 * and building the manifest with one more signature.  Pure: the registry
 * side does the fetching and pushing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign_int.h"

char *sign_cosign_tag(const char *manifest_digest)
{
	if (!digest_valid(manifest_digest))
		return NULL;
	const char *colon = strchr(manifest_digest, ':');
	return xasprintf("%.*s-%s.sig", (int)(colon - manifest_digest), manifest_digest, colon + 1);
}

void sign_cosign_layers_free(struct sign_cosign_layer *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].digest);
		free(v[i].b64_signature);
	}
	free(v);
}

int sign_cosign_sig_parse(const char *data, size_t len, struct sign_cosign_layer **out,
			  size_t *n, struct kerror *e)
{
	_cleanup_manifest_ struct manifest *m = NULL;
	struct sign_cosign_layer *v = NULL;
	size_t count = 0;

	*out = NULL;
	*n = 0;
	if (manifest_parse(data, len, &m, e) < 0)
		return kerror_wrap(e, "sigstore signature manifest");
	if (m->kind != MANIFEST_OCI || !m->media_type)
		return kerror_set(e, EINVAL, "sigstore signature manifest: not an OCI image manifest");
	for (size_t i = 0; i < m->n_layers; i++) {
		const struct descriptor *d = &m->layers[i];
		if (strcmp(d->media_type, SIGN_COSIGN_MEDIA_TYPE) != 0)
			continue; /* attestations and others are not signatures */
		if (count >= SIGN_MAX_LOOKASIDE)
			break;
		if (d->size < 0 || (uint64_t)d->size > SIGN_MAX_SIGNATURE) {
			sign_cosign_layers_free(v, count);
			return kerror_set(e, EFBIG, "sigstore signature %zu: payload of %lld bytes",
					  i + 1, (long long)d->size);
		}
		const char *sig = json_str(d->annotations, SIGN_COSIGN_ANNOTATION);
		v = xrealloc(v, (count + 1) * sizeof(*v));
		v[count].digest = xstrdup(d->digest);
		v[count].size = d->size;
		v[count].b64_signature = sig ? xstrdup(sig) : NULL;
		count++;
	}
	*out = v;
	*n = count;
	return 0;
}

static json_t *layer_json(const char *digest, int64_t size, const char *b64)
{
	json_t *l = json_object(), *ann = json_object();
	json_object_set_new(l, "mediaType", json_string(SIGN_COSIGN_MEDIA_TYPE));
	json_object_set_new(l, "digest", json_string(digest));
	json_object_set_new(l, "size", json_integer(size));
	json_object_set_new(ann, SIGN_COSIGN_ANNOTATION, json_string(b64));
	json_object_set_new(l, "annotations", ann);
	return l;
}

int sign_cosign_sig_build(const char *old, size_t old_len, const void *payload,
			  size_t payload_len, const char *b64_signature, char **manifest,
			  char **config, struct kerror *e)
{
	_cleanup_manifest_ struct manifest *m = NULL;
	_cleanup_json_ json_t *layers = json_array(), *diff_ids = json_array();
	char pd[DIGEST_STR_LEN + 1];
	bool present = false;

	*manifest = *config = NULL;
	digest_bytes(payload, payload_len, pd);
	if (old) {
		if (manifest_parse(old, old_len, &m, e) < 0)
			return kerror_wrap(e, "existing sigstore signature manifest");
		if (m->kind != MANIFEST_OCI)
			return kerror_set(e, EINVAL, "existing sigstore signature manifest is not OCI");
		/* Keep every existing layer as it was (other tools' attestations too). */
		for (size_t i = 0; i < m->n_layers; i++) {
			const struct descriptor *d = &m->layers[i];
			const char *sig = json_str(d->annotations, SIGN_COSIGN_ANNOTATION);
			json_array_append_new(layers, descriptor_to_json(d));
			json_array_append_new(diff_ids, json_string(d->digest));
			present |= strcmp(d->digest, pd) == 0 && sig && strcmp(sig, b64_signature) == 0;
		}
	}
	if (!present) {
		json_array_append_new(layers, layer_json(pd, (int64_t)payload_len, b64_signature));
		json_array_append_new(diff_ids, json_string(pd));
	}
	/* The config's content does not matter to verifiers; this is the
	 * minimal image config naming the payloads as layers. */
	_cleanup_json_ json_t *cfg = json_object(), *rootfs = json_object();
	json_object_set_new(cfg, "architecture", json_string(""));
	json_object_set_new(cfg, "os", json_string(""));
	json_object_set_new(cfg, "config", json_object());
	json_object_set_new(rootfs, "type", json_string("layers"));
	json_object_set(rootfs, "diff_ids", diff_ids);
	json_object_set(cfg, "rootfs", rootfs);
	char *cfg_s = json_dump_compact(cfg);
	char cd[DIGEST_STR_LEN + 1];
	digest_bytes(cfg_s, strlen(cfg_s), cd);

	_cleanup_json_ json_t *j = json_object(), *cdesc = json_object();
	json_object_set_new(j, "schemaVersion", json_integer(2));
	json_object_set_new(j, "mediaType", json_string(MT_OCI_MANIFEST));
	json_object_set_new(cdesc, "mediaType", json_string(MT_OCI_CONFIG));
	json_object_set_new(cdesc, "digest", json_string(cd));
	json_object_set_new(cdesc, "size", json_integer((json_int_t)strlen(cfg_s)));
	json_object_set(j, "config", cdesc);
	json_object_set(j, "layers", layers);
	*manifest = json_dump_compact(j);
	*config = cfg_s;
	return 0;
}
