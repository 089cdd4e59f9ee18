/* Layer recompression for push: the exact tar stream (store_layer_read_tar)
 * into a gzip or zstd file, both cores busy.  gzip is written as
 * independent members of 4 MiB input each, compressed two at a time (a
 * multi-member gzip stream is one valid gzip file to every reader). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "registry/compress.h"

#define BLOCK (4 * 1024 * 1024)

struct gz_block {
	const char *in;
	size_t in_len;
	char *out;
	size_t out_len;
	int level;
	int err;
};

static void *gz_compress(void *arg)
{
	struct gz_block *b = arg;
	z_stream z = { 0 };
	size_t cap = deflateBound(&z, b->in_len) + 64;

	if (deflateInit2(&z, b->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		b->err = ENOMEM;
		return NULL;
	}
	cap = deflateBound(&z, b->in_len) + 64;
	b->out = xmalloc(cap);
	z.next_in = (Bytef *)b->in;
	z.avail_in = (uInt)b->in_len;
	z.next_out = (Bytef *)b->out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		b->err = EIO;
	b->out_len = cap - z.avail_out;
	deflateEnd(&z);
	return NULL;
}

struct compressor {
	enum layer_compression kind;
	int fd;
	int level;
	struct digester *d;
	int64_t size;
	/* gzip: two input blocks */
	char *blk[2];
	size_t blk_len[2];
	int n_full;
	/* zstd */
	ZSTD_CCtx *cctx;
	char *zout;
	size_t zcap;
};

static int emit(struct compressor *c, const void *p, size_t n, struct kerror *e)
{
	int r = fs_write_all(c->fd, p, n);
	if (r < 0)
		return kerror_sys(e, -r, "writing a compressed layer");
	digester_update(c->d, p, n);
	c->size += (int64_t)n;
	return 0;
}

/* Compresses the filled blocks (the first in a second thread) and writes
 * them in order. */
static int gz_flush(struct compressor *c, struct kerror *e)
{
	struct gz_block b[2] = { 0 };
	int nb = c->n_full == 2 ? 2 : c->n_full + (c->blk_len[c->n_full] > 0 ? 1 : 0);
	pthread_t th;
	bool threaded = false;
	int r = 0;

	for (int i = 0; i < nb; i++) {
		b[i].in = c->blk[i];
		b[i].in_len = c->blk_len[i];
		b[i].level = c->level;
	}
	if (nb == 2)
		threaded = pthread_create(&th, NULL, gz_compress, &b[0]) == 0;
	if (nb == 2 && !threaded)
		gz_compress(&b[0]);
	if (nb >= 1)
		gz_compress(&b[nb - 1]);
	if (threaded)
		pthread_join(th, NULL);
	for (int i = 0; i < nb; i++) {
		if (r == 0 && b[i].err)
			r = kerror_set(e, b[i].err, "compressing a layer with gzip");
		if (r == 0)
			r = emit(c, b[i].out, b[i].out_len, e);
		free(b[i].out);
	}
	c->blk_len[0] = c->blk_len[1] = 0;
	c->n_full = 0;
	return r;
}

static int gz_write(struct compressor *c, const char *p, size_t n, struct kerror *e)
{
	while (n) {
		int i = c->n_full;
		size_t k = BLOCK - c->blk_len[i];
		if (k > n)
			k = n;
		memcpy(c->blk[i] + c->blk_len[i], p, k);
		c->blk_len[i] += k;
		p += k;
		n -= k;
		if (c->blk_len[i] == BLOCK && ++c->n_full == 2) {
			int r = gz_flush(c, e);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int zst_write(struct compressor *c, const void *p, size_t n, ZSTD_EndDirective mode,
		     struct kerror *e)
{
	ZSTD_inBuffer in = { p, n, 0 };
	for (;;) {
		ZSTD_outBuffer out = { c->zout, c->zcap, 0 };
		size_t left = ZSTD_compressStream2(c->cctx, &out, &in, mode);
		if (ZSTD_isError(left))
			return kerror_set(e, EIO, "compressing a layer: %s", ZSTD_getErrorName(left));
		if (out.pos) {
			int r = emit(c, c->zout, out.pos, e);
			if (r < 0)
				return r;
		}
		if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

static int sink(void *ctx, const void *data, size_t n, struct kerror *e)
{
	struct compressor *c = ctx;
	if (c->kind == COMPRESSION_GZIP)
		return gz_write(c, data, n, e);
	return zst_write(c, data, n, ZSTD_e_continue, e);
}

int compress_layer(struct store *s, const char *layer_id, enum layer_compression kind,
		   int level, const char *path, char digest[DIGEST_STR_LEN + 1], int64_t *size,
		   struct kerror *e)
{
	struct compressor c = { .kind = kind, .level = level };
	int r;

	c.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (c.fd < 0)
		return kerror_sys(e, errno, "creating \"%s\"", path);
	c.d = digester_new();
	if (kind == COMPRESSION_GZIP) {
		if (c.level <= 0 || c.level > 9)
			c.level = Z_DEFAULT_COMPRESSION;
		c.blk[0] = xmalloc(BLOCK);
		c.blk[1] = xmalloc(BLOCK);
	} else {
		c.cctx = ZSTD_createCCtx();
		if (!c.cctx)
			abort();
		ZSTD_CCtx_setParameter(c.cctx, ZSTD_c_compressionLevel, level > 0 ? level : 3);
		ZSTD_CCtx_setParameter(c.cctx, ZSTD_c_checksumFlag, 1);
		ZSTD_CCtx_setParameter(c.cctx, ZSTD_c_nbWorkers, 2);
		c.zcap = ZSTD_CStreamOutSize();
		c.zout = xmalloc(c.zcap);
	}
	r = store_layer_read_tar(s, layer_id, sink, &c, e);
	if (r == 0)
		r = kind == COMPRESSION_GZIP ? gz_flush(&c, e) : zst_write(&c, NULL, 0, ZSTD_e_end, e);
	if (r == 0) {
		digester_final(c.d, digest);
		*size = c.size;
	}
	close(c.fd);
	digester_free(c.d);
	free(c.blk[0]);
	free(c.blk[1]);
	ZSTD_freeCCtx(c.cctx);
	free(c.zout);
	return r;
}
