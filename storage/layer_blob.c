/* The compressed copy of a layer's tar stream: written with zstd (both
 * cores) while the layer is extracted, read back for save and push. */
#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "storage/layer_blob.h"
#include "storage/store_private.h"

#define ZSTD_LEVEL 3

int blob_writer_open(struct blob_writer *w, const char *path, struct kerror *e)
{
	memset(w, 0, sizeof(*w));
	w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (w->fd < 0)
		return kerror_sys(e, errno, "creating \"%s\"", path);
	w->cctx = ZSTD_createCCtx();
	if (!w->cctx)
		abort();
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, ZSTD_LEVEL);
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
	/* Compression runs in worker threads while this thread extracts. */
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_nbWorkers, 2);
	w->out_cap = ZSTD_CStreamOutSize();
	w->out = xmalloc(w->out_cap);
	w->digest = digester_new();
	return 0;
}

static int drain(struct blob_writer *w, const void *data, size_t n, ZSTD_EndDirective mode,
		 struct kerror *e)
{
	ZSTD_inBuffer in = { data, n, 0 };
	for (;;) {
		ZSTD_outBuffer out = { w->out, w->out_cap, 0 };
		size_t left = ZSTD_compressStream2(w->cctx, &out, &in, mode);
		if (ZSTD_isError(left))
			return kerror_set(e, EIO, "compressing a layer: %s", ZSTD_getErrorName(left));
		if (out.pos) {
			int r = fs_write_all(w->fd, w->out, out.pos);
			if (r < 0)
				return kerror_sys(e, -r, "writing a layer blob");
			digester_update(w->digest, w->out, out.pos);
			w->size += (int64_t)out.pos;
		}
		if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

int blob_writer_update(struct blob_writer *w, const void *data, size_t n, struct kerror *e)
{
	return drain(w, data, n, ZSTD_e_continue, e);
}

int blob_writer_finish(struct blob_writer *w, char digest[DIGEST_STR_LEN + 1], struct kerror *e)
{
	int r = drain(w, NULL, 0, ZSTD_e_end, e);
	if (r < 0)
		return r;
	digester_final(w->digest, digest);
	return 0;
}

void blob_writer_release(struct blob_writer *w)
{
	if (w->fd > 0)
		close(w->fd);
	w->fd = -1;
	ZSTD_freeCCtx(w->cctx);
	w->cctx = NULL;
	free(w->out);
	w->out = NULL;
	digester_free(w->digest);
	w->digest = NULL;
}

void layer_info_release(struct layer_info *l)
{
	free(l->id);
	free(l->parent);
	free(l->diff_id);
	free(l->blob_digest);
	free(l->blob_media_type);
	memset(l, 0, sizeof(*l));
}

int store_layer_get(struct store *s, const char *id, struct layer_info *out, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s,
			   "SELECT id, parent, diff_id, size, compressed_digest, "
			   "compressed_media_type, compressed_size FROM layers WHERE id = ?",
			   &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		return kerror_set(e, ENOENT, "layer %s is not known", id);
#define TEXT(i) (sqlite3_column_text(st, i) ? xstrdup((const char *)sqlite3_column_text(st, i)) : NULL)
	out->id = TEXT(0);
	out->parent = TEXT(1);
	out->diff_id = TEXT(2);
	out->size = sqlite3_column_int64(st, 3);
	out->blob_digest = TEXT(4);
	out->blob_media_type = TEXT(5);
	out->blob_size = sqlite3_column_int64(st, 6);
#undef TEXT
	return 0;
}

/* A gzip (possibly several members) or uncompressed blob, through
 * libarchive's built-in gzip decoder. */
static int read_other(struct store *s, const struct layer_info *li, layer_sink sink, void *ctx,
		      struct digester *d, int64_t *total, struct kerror *e)
{
	_cleanup_free_ char *path = store_blob_path(s, li->blob_digest);
	_cleanup_free_ char *buf = xmalloc(256 * 1024);
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	int r = 0;

	if (strcmp(li->blob_media_type, MT_OCI_LAYER_GZIP) == 0)
		archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, 256 * 1024) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ent) != ARCHIVE_OK) {
		r = kerror_set(e, EIO, "layer %.12s: reading its tar stream: %s", li->id,
			       archive_error_string(a));
		goto out;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, 256 * 1024);
		if (n < 0) {
			r = kerror_set(e, EBADMSG, "layer %.12s: corrupt tar stream: %s", li->id,
				       archive_error_string(a));
			goto out;
		}
		if (n == 0)
			break;
		digester_update(d, buf, (size_t)n);
		*total += n;
		r = sink(ctx, buf, (size_t)n, e);
		if (r < 0)
			goto out;
	}
out:
	archive_read_free(a);
	return r;
}

struct tee_sink {
	layer_sink sink;
	void *ctx;
	struct digester *d;
	int64_t total;
};

static int tee_sink(void *ctx, const void *data, size_t n, struct kerror *e)
{
	struct tee_sink *t = ctx;
	digester_update(t->d, data, n);
	t->total += (int64_t)n;
	return t->sink(t->ctx, data, n, e);
}

/* zstd frames (imported or loaded by kiln), gzip or plain tar (pulled);
 * layers built by kiln have no stream and are re-tarred (tar_diff.c). */
int store_layer_read_tar(struct store *s, const char *id, layer_sink sink, void *ctx,
			 struct kerror *e)
{
	struct layer_info li = { 0 };
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *path = NULL, *inbuf = NULL, *outbuf = NULL;
	_cleanup_digester_ struct digester *d = digester_new();
	ZSTD_DCtx *dctx = NULL;
	size_t in_cap = ZSTD_DStreamInSize(), out_cap = ZSTD_DStreamOutSize();
	char got[DIGEST_STR_LEN + 1];
	int64_t total = 0;
	int r;

	r = store_layer_get(s, id, &li, e);
	if (r < 0)
		return r;
	if (!li.blob_digest || !li.blob_media_type) {
		/* A built layer: its tar is re-created from its directory. */
		struct tee_sink t = { .sink = sink, .ctx = ctx, .d = d };
		r = tar_diff_layer(s, id, tee_sink, &t, e);
		if (r < 0)
			goto out;
		total = t.total;
		goto check;
	}
	if (strcmp(li.blob_media_type, MT_OCI_LAYER_ZSTD) != 0) {
		if (strcmp(li.blob_media_type, MT_OCI_LAYER_GZIP) &&
		    strcmp(li.blob_media_type, MT_OCI_LAYER)) {
			r = kerror_set(e, ENOTSUP, "layer %.12s: unsupported blob type %s", id,
				       li.blob_media_type);
			goto out;
		}
		r = read_other(s, &li, sink, ctx, d, &total, e);
		if (r < 0)
			goto out;
		goto check;
	}
	path = store_blob_path(s, li.blob_digest);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = kerror_sys(e, errno, "opening the tar stream of layer %.12s", id);
		goto out;
	}
	dctx = ZSTD_createDCtx();
	inbuf = xmalloc(in_cap);
	outbuf = xmalloc(out_cap);
	for (;;) {
		ssize_t n = read(fd, inbuf, in_cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = kerror_sys(e, errno, "reading the tar stream of layer %.12s", id);
			goto out;
		}
		if (n == 0)
			break;
		ZSTD_inBuffer in = { inbuf, (size_t)n, 0 };
		while (in.pos < in.size) {
			ZSTD_outBuffer o = { outbuf, out_cap, 0 };
			size_t ret = ZSTD_decompressStream(dctx, &o, &in);
			if (ZSTD_isError(ret)) {
				r = kerror_set(e, EBADMSG, "layer %.12s: corrupt tar stream: %s", id,
					       ZSTD_getErrorName(ret));
				goto out;
			}
			digester_update(d, outbuf, o.pos);
			total += (int64_t)o.pos;
			r = o.pos ? sink(ctx, outbuf, o.pos, e) : 0;
			if (r < 0)
				goto out;
		}
	}
check:
	digester_final(d, got);
	if (strcmp(got, li.diff_id) != 0 || total != li.size)
		r = kerror_set(e, EBADMSG, "layer %.12s: stored tar stream hashes to %s, not %s", id,
			       got, li.diff_id);
out:
	ZSTD_freeDCtx(dctx);
	layer_info_release(&li);
	return r;
}
