/* mediatype.c — telling manifest kinds apart (docker-formats.md §5) and
 * layer compression from media types. */
#include <string.h>

#include "image/image.h"

static enum manifest_kind kind_of_type(const char *mt)
{
	static const struct {
		const char *type;
		enum manifest_kind kind;
	} map[] = {
		{ MT_OCI_MANIFEST, MANIFEST_OCI },
		{ MT_DOCKER_MANIFEST, MANIFEST_DOCKER_V2S2 },
		{ MT_OCI_INDEX, MANIFEST_OCI_INDEX },
		{ MT_DOCKER_LIST, MANIFEST_DOCKER_LIST },
		{ MT_DOCKER_SCHEMA1, MANIFEST_DOCKER_V2S1 },
		{ MT_DOCKER_SCHEMA1_SIGNED, MANIFEST_DOCKER_V2S1 },
	};
	size_t n;

	if (!mt)
		return MANIFEST_UNKNOWN;
	/* A Content-Type may carry parameters ("…+json; charset=utf-8"). */
	n = strcspn(mt, "; \t");
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strlen(map[i].type) == n && !strncmp(mt, map[i].type, n))
			return map[i].kind;
	return MANIFEST_UNKNOWN;
}

enum manifest_kind manifest_detect(const char *data, size_t len, const char *content_type)
{
	_cleanup_json_ json_t *root = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };
	enum manifest_kind k, ct = kind_of_type(content_type);
	json_t *manifests;
	const char *cfg_type;

	if (!data || json_parse(data, len, &root, &e) < 0 || !json_is_object(root))
		return ct;
	k = kind_of_type(json_str(root, "mediaType"));
	if (k != MANIFEST_UNKNOWN)
		return k;
	switch (json_int(root, "schemaVersion", 0)) {
	case 1:
		return MANIFEST_DOCKER_V2S1;
	case 2:
		break;
	default:
		return ct;
	}
	cfg_type = json_str(json_object_get(root, "config"), "mediaType");
	if (cfg_type && !strcmp(cfg_type, MT_OCI_CONFIG))
		return MANIFEST_OCI;
	if (cfg_type && !strcmp(cfg_type, MT_DOCKER_CONFIG))
		return MANIFEST_DOCKER_V2S2;
	manifests = json_object_get(root, "manifests");
	if (json_is_array(manifests) && json_array_size(manifests) > 0)
		return ct == MANIFEST_DOCKER_LIST ? MANIFEST_DOCKER_LIST : MANIFEST_OCI_INDEX;
	if (ct != MANIFEST_UNKNOWN && ct != MANIFEST_DOCKER_V2S1)
		return ct;
	return json_object_get(root, "manifests") ? MANIFEST_OCI_INDEX : MANIFEST_OCI;
}

enum layer_compression layer_media_compression(const char *mt)
{
	if (!mt || !(str_has_prefix(mt, "application/vnd.oci.image.layer.") ||
		     str_has_prefix(mt, "application/vnd.docker.image.rootfs.")))
		return COMPRESSION_UNKNOWN;
	if (str_has_suffix(mt, "+gzip") || str_has_suffix(mt, ".tar.gzip"))
		return COMPRESSION_GZIP;
	if (str_has_suffix(mt, "+zstd"))
		return COMPRESSION_ZSTD;
	if (str_has_suffix(mt, ".tar"))
		return COMPRESSION_NONE;
	return COMPRESSION_UNKNOWN;
}
