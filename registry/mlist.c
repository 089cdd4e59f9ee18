/* Manifest lists: the manifest a local image would be pushed with (for
 * kiln manifest add) and the push of a list with its instances. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry/compress.h"
#include "registry/remote.h"
#include "registry/signing.h"

#define MAX_CONFIG (32 * 1024 * 1024)

int registry_image_manifest(struct store *s, const char *image, enum push_format fmt,
			    char **data, size_t *len, struct kerror *e)
{
	_cleanup_image_info_ struct image_info *info = NULL;
	_cleanup_free_ char *mdata = NULL, *cdata = NULL;
	_cleanup_manifest_ struct manifest *stored = NULL;
	char cfg_digest[DIGEST_STR_LEN + 1];
	struct store_tmp t = { 0 };
	size_t mlen = 0, clen = 0;
	json_t *layers, *m;
	int r;

	r = store_image_lookup(s, image, &info, e);
	if (r < 0)
		return r;
	if (info->manifest_digest &&
	    store_blob_get(s, info->manifest_digest, MAX_MANIFEST, &mdata, &mlen, NULL) == 0)
		manifest_parse(mdata, mlen, &stored, NULL);
	if (fmt == PUSH_FORMAT_DEFAULT)
		fmt = stored && stored->kind == MANIFEST_DOCKER_V2S2 ? PUSH_FORMAT_V2S2
								      : PUSH_FORMAT_OCI;
	/* push sends the stored manifest unchanged when its layers are gzip. */
	if (stored && stored->kind == (fmt == PUSH_FORMAT_V2S2 ? MANIFEST_DOCKER_V2S2 : MANIFEST_OCI)) {
		bool gz = true;
		for (size_t i = 0; i < stored->n_layers; i++)
			gz = gz && layer_media_compression(stored->layers[i].media_type) ==
					   COMPRESSION_GZIP;
		if (gz) {
			*data = steal_pointer(&mdata);
			*len = mlen;
			return 0;
		}
	}
	snprintf(cfg_digest, sizeof(cfg_digest), "sha256:%s", info->id);
	r = store_blob_get(s, cfg_digest, MAX_CONFIG, &cdata, &clen, e);
	if (r < 0)
		return r;
	layers = json_array();
	for (size_t i = 0; r == 0 && info->layers && info->layers[i]; i++) {
		struct layer_info li = { 0 };
		char digest[DIGEST_STR_LEN + 1];
		int64_t size = 0;
		r = store_layer_get(s, info->layers[i], &li, e);
		if (r < 0)
			break;
		if (li.blob_digest && li.blob_media_type &&
		    layer_media_compression(li.blob_media_type) == COMPRESSION_GZIP) {
			snprintf(digest, sizeof(digest), "%s", li.blob_digest);
			size = li.blob_size;
		} else {
			_cleanup_free_ char *path = NULL;
			if (!t.path)
				r = store_tmp_create(s, &t, e);
			if (r == 0) {
				path = xasprintf("%s/layer.gz", t.path);
				r = compress_layer(s, info->layers[i], COMPRESSION_GZIP, 0, path,
						   digest, &size, e);
				unlink(path);
			}
		}
		layer_info_release(&li);
		if (r == 0)
			json_array_append_new(layers, json_pack("{s:s, s:I, s:s}", "mediaType",
								fmt == PUSH_FORMAT_V2S2
									? MT_DOCKER_LAYER_GZIP
									: MT_OCI_LAYER_GZIP,
								"size", (json_int_t)size, "digest",
								digest));
	}
	if (t.path)
		store_tmp_release(&t);
	if (r < 0) {
		json_decref(layers);
		return r;
	}
	m = json_pack("{s:i, s:s, s:{s:s, s:I, s:s}, s:o}", "schemaVersion", 2, "mediaType",
		      fmt == PUSH_FORMAT_V2S2 ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST, "config",
		      "mediaType", fmt == PUSH_FORMAT_V2S2 ? MT_DOCKER_CONFIG : MT_OCI_CONFIG, "size",
		      (json_int_t)clen, "digest", cfg_digest, "layers", layers);
	*data = json_dump_compact(m);
	*len = strlen(*data);
	json_decref(m);
	return 0;
}

/* Makes sure the dest repository has the instance d: pushes its local
 * image (updating d to what was pushed) or checks that it is there. */
static int push_instance(struct store *s, struct remote *dst, const char *dest_repo,
			 json_t *d, json_t *src, const struct push_opts *o, struct kerror *e)
{
	const char *image = json_str(src, "image");
	const char *ref = json_str(src, "ref");
	const char *digest = json_str(d, "digest");
	struct push_opts po = *o;
	char pushed[DIGEST_STR_LEN + 1];
	_cleanup_free_ char *data = NULL, *ctype = NULL;
	size_t len = 0;
	int r;

	if (image) {
		po.by_digest = true;
		/* Signed once the list is up, under the list's reference. */
		po.sign_by = po.sign_by_sigstore_key = NULL;
		r = registry_push(s, image, dest_repo, &po, pushed, e);
		if (r < 0)
			return r;
		digest = pushed;
	} else if (ref && digest &&
		   remote_get_manifest(dst, digest, &data, &len, &ctype, pushed, NULL) < 0) {
		/* An instance added from another repository (or registry):
		 * copied in by digest, through the trust policy. */
		_cleanup_free_ char *to = xasprintf("docker://%s@%s", dest_repo, digest);
		struct pull_opts pl = { .reg = o->reg, .registries_d = o->registries_d,
					.progress = o->progress, .bytes = o->bytes,
					.progress_ctx = o->progress_ctx };
		po.by_digest = true;
		po.sign_by = po.sign_by_sigstore_key = NULL;
		r = registry_copy(ref, to, &pl, &po, pushed, e);
		if (r < 0)
			return kerror_wrap(e, "instance %s", digest);
	}
	free(data);
	free(ctype);
	data = ctype = NULL;
	/* What the registry now holds under that digest (also checks it). */
	r = remote_get_manifest(dst, digest, &data, &len, &ctype, pushed, e);
	if (r < 0)
		return kerror_wrap(e, "instance %s", digest);
	json_object_set_new(d, "digest", json_string(pushed));
	json_object_set_new(d, "size", json_integer((json_int_t)len));
	if (ctype && *ctype)
		json_object_set_new(d, "mediaType", json_string(ctype));
	return 0;
}

int registry_push_list(struct store *s, const struct mlist_rec *rec, const char *dest,
		       bool all, const struct push_opts *o, char digest[DIGEST_STR_LEN + 1],
		       struct kerror *e)
{
	_cleanup_json_ json_t *doc = NULL, *sources = NULL;
	_cleanup_free_ char *repo = NULL, *out = NULL;
	struct remote dst = { 0 };
	const char *mt;
	bool changed = false;
	json_t *arr, *d;
	size_t i, len;
	int r;

	if (!dest)
		dest = rec->name;
	if (str_has_prefix(dest, "docker://"))
		dest += 9;
	r = json_parse(rec->doc, rec->doc_len, &doc, e);
	if (r == 0)
		r = json_parse(rec->sources, strlen(rec->sources), &sources, e);
	if (r < 0)
		return kerror_wrap(e, "reading manifest list %s", rec->name);
	r = remote_open(&o->reg, dest, true, &dst, e);
	if (r < 0)
		goto out;
	repo = ref_name(dst.ref);
	arr = json_object_get(doc, "manifests");
	if (all) {
		json_array_foreach(arr, i, d) {
			json_t *src = json_object_get(sources, json_str(d, "digest") ?: "");
			r = push_instance(s, &dst, repo, d, src, o, e);
			if (r < 0)
				goto out;
			changed = true;
		}
	}
	mt = json_str(doc, "mediaType");
	if (o->format == PUSH_FORMAT_V2S2 && (!mt || strcmp(mt, MT_DOCKER_LIST))) {
		json_object_set_new(doc, "mediaType", json_string(MT_DOCKER_LIST));
		changed = true;
	} else if (o->format == PUSH_FORMAT_OCI && (!mt || strcmp(mt, MT_OCI_INDEX))) {
		json_object_set_new(doc, "mediaType", json_string(MT_OCI_INDEX));
		changed = true;
	}
	if (changed) {
		out = json_dump_compact(doc);
		len = strlen(out);
	} else {
		out = xstrndup(rec->doc, rec->doc_len);
		len = rec->doc_len;
	}
	mt = json_str(doc, "mediaType");
	digest_bytes(out, len, digest);
	if (o->progress)
		o->progress(o->progress_ctx, "Writing manifest list to image destination");
	r = remote_put_manifest(&dst, o->by_digest ? digest : remote_reference(&dst),
				mt ? mt : MT_OCI_INDEX, out, len, e);
	/* The list and every instance, each signed for the list's reference
	 * (a pull verifies the instance it picks). */
	if (r == 0 && (o->sign_by || o->sign_by_sigstore_key)) {
		if (o->progress)
			o->progress(o->progress_ctx, "Creating signatures");
		r = push_signatures(o, dst.c, dst.ref->path, dst.scope, dst.ref, digest, e);
		json_array_foreach(arr, i, d) {
			if (r < 0)
				break;
			r = push_signatures(o, dst.c, dst.ref->path, dst.scope, dst.ref,
					    json_str(d, "digest") ?: "", e);
		}
	}
	if (r == 0 && o->progress)
		o->progress(o->progress_ctx, "Storing list signatures");
out:
	remote_release(&dst);
	if (r < 0)
		return kerror_wrap(e, "pushing manifest list \"%s\"", dest);
	return 0;
}
