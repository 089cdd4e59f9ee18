/* Private to registry/: layer recompression for push. */
#ifndef KILN_REGISTRY_COMPRESS_H
#define KILN_REGISTRY_COMPRESS_H

#include "registry/registry.h"

/* Writes the layer's exact tar stream compressed (gzip or zstd, level 0:
 * the default) to path, with its digest and size. */
int compress_layer(struct store *s, const char *layer_id, enum layer_compression kind,
		   int level, const char *path, char digest[DIGEST_STR_LEN + 1], int64_t *size,
		   struct kerror *e);

#endif
