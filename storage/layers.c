/* Staging layers: one pass over the tar stream that decompresses, hashes
 * (the DiffID covers the exact uncompressed bytes) and extracts. */
#include <archive.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>

#include "storage/layer_blob.h"
#include "storage/store_private.h"

#define READ_CHUNK (64 * 1024)

struct hashing_source {
	struct archive *outer; /* decompressed bytes (raw format) */
	struct digester *d;
	char *buf;
	int64_t total;
	struct blob_writer *blob; /* the compressed copy, or NULL */
	struct kerror blob_err;
};

static la_ssize_t hashing_read(struct archive *a, void *ctx, const void **out)
{
	struct hashing_source *h = ctx;
	la_ssize_t n = archive_read_data(h->outer, h->buf, READ_CHUNK);

	if (n < 0) {
		archive_set_error(a, archive_errno(h->outer), "%s",
				  archive_error_string(h->outer));
		return -1;
	}
	digester_update(h->d, h->buf, (size_t)n);
	if (h->blob && n > 0 && blob_writer_update(h->blob, h->buf, (size_t)n, &h->blob_err) < 0) {
		archive_set_error(a, h->blob_err.code, "%s", h->blob_err.msg);
		return -1;
	}
	h->total += n;
	*out = h->buf;
	return n;
}

static void free_archive(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

/* The shared body: outer is open (raw format, any filter) and not yet
 * positioned at its one entry. */
static int stage_from_outer(struct store_tmp *t, struct archive *outer, const char *parent_chain,
			    bool zstd_copy, struct staged_layer *out, struct kerror *e)
{
	__attribute__((cleanup(free_archive))) struct archive *inner = NULL;
	_cleanup_digester_ struct digester *d = digester_new();
	_cleanup_free_ char *buf = xmalloc(READ_CHUNK);
	_cleanup_free_ char *dir = xasprintf("%s/layer-XXXXXX", t->path);
	_cleanup_close_ int diff_fd = -1;
	struct hashing_source h = { 0 };
	/* In a user namespace (rootless) the opaque markers are user.overlay.*
	 * and ids the namespace does not map cannot be given to files. */
	struct tar_apply_opts opts = { .whiteouts = TAR_WHITEOUT_OVERLAY,
				       .xattr_prefix = fs_overlay_xattr_prefix(),
				       .ignore_chown_errors = fs_in_user_namespace() };
	_cleanup_free_ char *blob_path = NULL;
	struct blob_writer bw = { .fd = -1 };
	struct archive_entry *ent;
	int r;

	memset(out, 0, sizeof(*out));
	if (!mkdtemp(dir))
		return kerror_sys(e, errno, "creating a layer directory");
	{
		_cleanup_free_ char *diff = xasprintf("%s/diff", dir);
		if (mkdir(diff, 0755) < 0 ||
		    (diff_fd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			return kerror_sys(e, errno, "creating \"%s\"", diff);
	}

	r = archive_read_next_header(outer, &ent);
	if (r == ARCHIVE_EOF)
		return kerror_set(e, EINVAL, "reading the layer: the input is empty");
	if (r != ARCHIVE_OK)
		return kerror_set(e, EIO, "reading the layer: %s", archive_error_string(outer));

	if (zstd_copy) {
		blob_path = xasprintf("%s.tar.zst", dir);
		r = blob_writer_open(&bw, blob_path, e);
		if (r < 0)
			return r;
		h.blob = &bw;
	}
	h.outer = outer;
	h.d = d;
	h.buf = buf;
	inner = archive_read_new();
	archive_read_support_format_tar(inner);
	if (archive_read_open(inner, &h, NULL, hashing_read, NULL) != ARCHIVE_OK) {
		r = kerror_set(e, EINVAL, "reading the layer: %s", archive_error_string(inner));
		goto out;
	}
	r = tar_apply(inner, diff_fd, &opts, NULL, e);
	if (r < 0)
		goto out;
	/* The DiffID covers everything after the end-of-archive marker too. */
	for (;;) {
		la_ssize_t n = archive_read_data(outer, buf, READ_CHUNK);
		if (n < 0) {
			r = kerror_set(e, EIO, "reading the layer: %s", archive_error_string(outer));
			goto out;
		}
		if (n == 0)
			break;
		digester_update(d, buf, (size_t)n);
		if (zstd_copy) {
			r = blob_writer_update(&bw, buf, (size_t)n, e);
			if (r < 0)
				goto out;
		}
		h.total += n;
	}
	if (zstd_copy) {
		r = blob_writer_finish(&bw, out->blob_digest, e);
		if (r < 0)
			goto out;
		out->blob_size = bw.size;
		out->blob_media_type = MT_OCI_LAYER_ZSTD;
		out->blob_path = steal_pointer(&blob_path);
	}
	digester_final(d, out->diff_id);
	digest_chain(parent_chain, out->diff_id, out->chain_id);
	out->size = h.total;
	out->dir = steal_pointer(&dir);
out:
	blob_writer_release(&bw);
	kerror_release(&h.blob_err);
	return r;
}

int store_stage_layer(struct store *s, struct store_tmp *t, int fd, const char *parent_chain,
		      struct staged_layer *out, struct kerror *e)
{
	__attribute__((cleanup(free_archive))) struct archive *outer = archive_read_new();

	(void)s;
	memset(out, 0, sizeof(*out));
	archive_read_support_filter_all(outer);
	archive_read_support_format_raw(outer);
	if (archive_read_open_fd(outer, fd, READ_CHUNK) != ARCHIVE_OK)
		return kerror_set(e, EIO, "reading the layer: %s", archive_error_string(outer));
	return stage_from_outer(t, outer, parent_chain, true, out, e);
}

struct cb_source {
	layer_source read;
	void *ctx;
	struct kerror err;
};

static la_ssize_t cb_read(struct archive *a, void *ctx, const void **out)
{
	struct cb_source *c = ctx;
	ssize_t n = c->read(c->ctx, out, &c->err);

	if (n < 0) {
		archive_set_error(a, c->err.code ? c->err.code : EIO, "%s",
				  c->err.msg ? c->err.msg : "read error");
		return -1;
	}
	return n;
}

static int stage_cb(struct store_tmp *t, layer_source read, void *ctx, const char *parent_chain,
		    bool zstd_copy, struct staged_layer *out, struct kerror *e)
{
	__attribute__((cleanup(free_archive))) struct archive *outer = archive_read_new();
	struct cb_source c = { .read = read, .ctx = ctx };
	int r;

	memset(out, 0, sizeof(*out));
	/* Built-in decoders only: the input is untrusted and filter_all could
	 * run an external program chosen by its first bytes. */
	archive_read_support_filter_gzip(outer);
	archive_read_support_filter_zstd(outer);
	archive_read_support_filter_xz(outer);
	archive_read_support_filter_bzip2(outer);
	archive_read_support_format_raw(outer);
	if (archive_read_open(outer, &c, NULL, cb_read, NULL) != ARCHIVE_OK)
		r = kerror_set(e, EIO, "reading the layer: %s", archive_error_string(outer));
	else
		r = stage_from_outer(t, outer, parent_chain, zstd_copy, out, e);
	/* The source's own failure (a short read, a full disk under the blob
	 * copy) says more than the decoder's "truncated input" it caused. */
	if (r < 0 && c.err.msg)
		r = kerror_set(e, c.err.code ? c.err.code : EIO, "%s", c.err.msg);
	kerror_release(&c.err);
	return r;
}

int store_stage_layer_cb(struct store *s, struct store_tmp *t, layer_source read, void *ctx,
			 const char *parent_chain, struct staged_layer *out, struct kerror *e)
{
	(void)s;
	return stage_cb(t, read, ctx, parent_chain, true, out, e);
}

/* The compressed bytes as they pass: hashed, counted against the
 * descriptor's size (a longer stream is cut off early) and written to the
 * layer's blob file. */
struct blob_tee {
	layer_source read;
	void *ctx;
	const char *digest;
	int64_t expect, size;
	int fd;
	struct digester *d;
};

static ssize_t tee_read(void *ctx, const void **buf, struct kerror *e)
{
	struct blob_tee *b = ctx;
	ssize_t n = b->read(b->ctx, buf, e);
	int r;

	if (n <= 0)
		return n;
	if (b->size + n > b->expect)
		return kerror_set(e, EBADMSG, "blob %s: more than the %" PRId64 " bytes announced",
				  b->digest, b->expect);
	digester_update(b->d, *buf, (size_t)n);
	r = fs_write_all(b->fd, *buf, (size_t)n);
	if (r < 0)
		return kerror_sys(e, -r, "writing blob %s", b->digest);
	b->size += n;
	return n;
}

static const char *blob_type(enum layer_compression c)
{
	return c == COMPRESSION_GZIP ? MT_OCI_LAYER_GZIP
	       : c == COMPRESSION_ZSTD ? MT_OCI_LAYER_ZSTD
				       : MT_OCI_LAYER;
}

int store_stage_layer_blob(struct store *s, struct store_tmp *t, layer_source read, void *ctx,
			   const char *parent_chain, const struct descriptor *desc,
			   struct staged_layer *out, struct kerror *e)
{
	enum layer_compression comp = layer_media_compression(desc->media_type);
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	struct blob_tee b = { .read = read, .ctx = ctx, .digest = desc->digest,
			      .expect = desc->size };
	char got[DIGEST_STR_LEN + 1];
	int r;

	(void)s;
	memset(out, 0, sizeof(*out));
	if (!digest_is_sha256(desc->digest))
		return kerror_set(e, EINVAL, "blob %s: unsupported digest", desc->digest);
	if (comp == COMPRESSION_UNKNOWN)
		return kerror_set(e, ENOTSUP, "blob %s: unsupported layer media type \"%s\"",
				  desc->digest, desc->media_type);
	path = xasprintf("%s/blob-%s", t->path, digest_hex(desc->digest));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return kerror_sys(e, errno, "creating \"%s\"", path);
	b.fd = fd;
	b.d = digester_new();
	r = stage_cb(t, tee_read, &b, parent_chain, false, out, e);
	/* Whatever follows the compressed stream is part of the blob too. */
	while (r == 0) {
		const void *p;
		ssize_t n = tee_read(&b, &p, e);
		if (n < 0)
			r = (int)n;
		if (n <= 0)
			break;
	}
	digester_final(b.d, got);
	digester_free(b.d);
	if (r == 0 && b.size != desc->size)
		r = kerror_set(e, EBADMSG, "blob %s: %" PRId64 " bytes received, %" PRId64
			       " expected", desc->digest, b.size, desc->size);
	if (r == 0 && strcmp(got, desc->digest) != 0)
		r = kerror_set(e, EBADMSG, "blob %s: digest mismatch (the content hashes to %s)",
			       desc->digest, got);
	if (r < 0) {
		staged_layer_release(out);
		unlink(path);
		return r;
	}
	snprintf(out->blob_digest, sizeof(out->blob_digest), "%s", desc->digest);
	out->blob_size = b.size;
	out->blob_media_type = blob_type(comp);
	out->blob_path = steal_pointer(&path);
	return 0;
}

void staged_layer_release(struct staged_layer *l)
{
	free(l->dir);
	l->dir = NULL;
	free(l->blob_path);
	l->blob_path = NULL;
}

char *store_layer_diff_path(const struct store *s, const char *layer_id)
{
	return xasprintf("%s/layers/%s/diff", s->root, layer_id);
}
