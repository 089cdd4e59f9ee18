/* Private to storage/: the streaming zstd writer of layer blobs. */
#ifndef KILN_LAYER_BLOB_H
#define KILN_LAYER_BLOB_H

#include "storage/storage.h"

struct blob_writer {
	int fd;
	void *cctx; /* ZSTD_CCtx */
	char *out;
	size_t out_cap;
	struct digester *digest;
	int64_t size;
};

int blob_writer_open(struct blob_writer *w, const char *path, struct kerror *e);
int blob_writer_update(struct blob_writer *w, const void *data, size_t n, struct kerror *e);
int blob_writer_finish(struct blob_writer *w, char digest[DIGEST_STR_LEN + 1], struct kerror *e);
void blob_writer_release(struct blob_writer *w);

#endif
