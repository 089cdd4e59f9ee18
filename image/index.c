/* index.c — the image index model (OCI index and Docker manifest list). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/model.h"

static const char *const index_forbidden[] = { "config", "layers", "fsLayers", "history", NULL };

static int index_fill(struct manifest_index *x, const json_t *root, struct kerror *e)
{
	int r;

	if ((r = model_opt_string(root, "mediaType", &x->media_type, e)) < 0)
		return r;
	if (!x->media_type || !strcmp(x->media_type, MT_OCI_INDEX))
		x->kind = MANIFEST_OCI_INDEX;
	else if (!strcmp(x->media_type, MT_DOCKER_LIST))
		x->kind = MANIFEST_DOCKER_LIST;
	else
		return kerror_set(e, EINVAL, "unsupported index media type \"%.80s\"",
				  x->media_type);
	if ((r = model_opt_string(root, "artifactType", &x->artifact_type, e)) < 0 ||
	    (r = model_descriptors(root, "manifests", &x->manifests, &x->n_manifests, e)) < 0 ||
	    (r = model_opt_descriptor(root, "subject", &x->subject, e)) < 0 ||
	    (r = model_annotations(root, &x->annotations, e)) < 0)
		return r;
	return 0;
}

int index_parse(const char *data, size_t len, struct manifest_index **out, struct kerror *e)
{
	_cleanup_json_ json_t *root = NULL;
	_cleanup_index_ struct manifest_index *x = NULL;
	int r;

	if ((r = model_load(data, len, "index", index_forbidden, &root, e)) < 0)
		return r;
	x = xcalloc(1, sizeof(*x));
	x->schema_version = 2;
	if ((r = index_fill(x, root, e)) < 0)
		return kerror_wrap(e, "invalid index");
	model_set_raw(&x->raw, &x->raw_len, data, len);
	*out = steal_pointer(&x);
	return 0;
}

void index_serialize(struct manifest_index *x)
{
	_cleanup_json_ json_t *j = json_object();
	json_t *arr = json_array();

	json_object_set_new(j, "schemaVersion", json_integer(x->schema_version ? x->schema_version : 2));
	if (x->media_type)
		json_object_set_new(j, "mediaType", json_string(x->media_type));
	if (x->artifact_type)
		json_object_set_new(j, "artifactType", json_string(x->artifact_type));
	for (size_t i = 0; i < x->n_manifests; i++)
		json_array_append_new(arr, descriptor_to_json(&x->manifests[i]));
	json_object_set_new(j, "manifests", arr);
	model_put_opt(j, "subject", x->subject ? descriptor_to_json(x->subject) : NULL);
	if (x->annotations)
		json_object_set(j, "annotations", x->annotations);
	free(x->raw);
	x->raw = json_dump_compact(j);
	x->raw_len = strlen(x->raw);
}

void index_free(struct manifest_index *x)
{
	if (!x)
		return;
	free(x->media_type);
	for (size_t i = 0; i < x->n_manifests; i++)
		descriptor_release(&x->manifests[i]);
	free(x->manifests);
	free(x->artifact_type);
	if (x->subject) {
		descriptor_release(x->subject);
		free(x->subject);
	}
	json_decref(x->annotations);
	free(x->raw);
	free(x);
}

void cleanup_indexp(struct manifest_index **x)
{
	index_free(*x);
	*x = NULL;
}
