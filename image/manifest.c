/* manifest.c — the image manifest model (OCI and Docker v2 schema 2). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/model.h"

static const char *const manifest_forbidden[] = { "manifests", "fsLayers", "history", NULL };

static int manifest_fill(struct manifest *m, const json_t *root, struct kerror *e)
{
	int r;

	if ((r = model_opt_string(root, "mediaType", &m->media_type, e)) < 0)
		return r;
	if (!m->media_type)
		m->kind = MANIFEST_UNKNOWN;
	else if (!strcmp(m->media_type, MT_OCI_MANIFEST))
		m->kind = MANIFEST_OCI;
	else if (!strcmp(m->media_type, MT_DOCKER_MANIFEST))
		m->kind = MANIFEST_DOCKER_V2S2;
	else
		return kerror_set(e, EINVAL, "unsupported manifest media type \"%.80s\"",
				  m->media_type);
	if (!json_object_get(root, "config"))
		return kerror_set(e, EINVAL, "\"config\" is missing");
	if ((r = descriptor_from_json(json_object_get(root, "config"), &m->config, e)) < 0)
		return kerror_wrap(e, "config");
	if ((r = model_descriptors(root, "layers", &m->layers, &m->n_layers, e)) < 0 ||
	    (r = model_opt_string(root, "artifactType", &m->artifact_type, e)) < 0 ||
	    (r = model_opt_descriptor(root, "subject", &m->subject, e)) < 0 ||
	    (r = model_annotations(root, &m->annotations, e)) < 0)
		return r;
	/* No mediaType: the config's type tells (docker-formats.md §5). */
	if (m->kind == MANIFEST_UNKNOWN)
		m->kind = !strcmp(m->config.media_type, MT_DOCKER_CONFIG) ? MANIFEST_DOCKER_V2S2
									   : MANIFEST_OCI;
	return 0;
}

int manifest_parse(const char *data, size_t len, struct manifest **out, struct kerror *e)
{
	_cleanup_json_ json_t *root = NULL;
	_cleanup_manifest_ struct manifest *m = NULL;
	int r;

	if ((r = model_load(data, len, "manifest", manifest_forbidden, &root, e)) < 0)
		return r;
	m = xcalloc(1, sizeof(*m));
	m->schema_version = 2;
	if ((r = manifest_fill(m, root, e)) < 0)
		return kerror_wrap(e, "invalid manifest");
	model_set_raw(&m->raw, &m->raw_len, data, len);
	*out = steal_pointer(&m);
	return 0;
}

void manifest_serialize(struct manifest *m)
{
	_cleanup_json_ json_t *j = json_object();
	json_t *layers = json_array();

	json_object_set_new(j, "schemaVersion", json_integer(m->schema_version ? m->schema_version : 2));
	if (m->media_type)
		json_object_set_new(j, "mediaType", json_string(m->media_type));
	if (m->artifact_type)
		json_object_set_new(j, "artifactType", json_string(m->artifact_type));
	json_object_set_new(j, "config", descriptor_to_json(&m->config));
	for (size_t i = 0; i < m->n_layers; i++)
		json_array_append_new(layers, descriptor_to_json(&m->layers[i]));
	json_object_set_new(j, "layers", layers);
	model_put_opt(j, "subject", m->subject ? descriptor_to_json(m->subject) : NULL);
	if (m->annotations)
		json_object_set(j, "annotations", m->annotations);
	free(m->raw);
	m->raw = json_dump_compact(j);
	m->raw_len = strlen(m->raw);
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	free(m->media_type);
	descriptor_release(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		descriptor_release(&m->layers[i]);
	free(m->layers);
	free(m->artifact_type);
	if (m->subject) {
		descriptor_release(m->subject);
		free(m->subject);
	}
	json_decref(m->annotations);
	free(m->raw);
	free(m);
}

void cleanup_manifestp(struct manifest **m)
{
	manifest_free(*m);
	*m = NULL;
}
