/* Private to storage/: gzip layers decompressed with ISA-L's igzip, about
 * six times faster than zlib (libarchive's decoder) on this work; zlib
 * stays the fallback where libisal is not installed. */
#ifndef KILN_GUNZIP_H
#define KILN_GUNZIP_H

#include "storage/storage.h"

struct gunzip;

/* True when the first bytes of a stream are a gzip header's. */
bool gunzip_magic(const void *p, size_t n);
/* A decoder of the gzip stream read from src, whose first chunk (already
 * read: first/first_len) starts with a gzip header.  NULL when libisal
 * cannot be loaded: the caller decodes another way. */
struct gunzip *gunzip_new(layer_source src, void *ctx, const void *first, size_t first_len);
/* Up to cap decompressed bytes into buf: their count, 0 once the last
 * member ended (bytes after it that start no new member are left unread,
 * as gzip and libarchive leave them), or a negative errno (e filled) for
 * corrupt or truncated data or the source's own error. */
ssize_t gunzip_read(struct gunzip *g, void *buf, size_t cap, struct kerror *e);
void gunzip_free(struct gunzip *g);

#endif
