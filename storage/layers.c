/* Staging layers: one pass over the tar stream that decompresses, hashes
 * (the DiffID covers the exact uncompressed bytes) and extracts. */
#include <archive.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "storage/gunzip.h"
#include "storage/layer_blob.h"
#include "storage/store_private.h"

#define READ_CHUNK (64 * 1024)

/* The decompressed layer: up to cap bytes into buf, 0 at the end, or a
 * negative errno with e filled. */
typedef ssize_t (*plain_read)(void *ctx, void *buf, size_t cap, struct kerror *e);

struct hashing_source {
	plain_read read;
	void *ctx;
	struct digester *d;
	char *buf;
	int64_t total;
	struct blob_writer *blob; /* the zstd copy, or NULL */
	struct kerror err;
};

/* One decompressed chunk, hashed and copied to the blob as it goes by. */
static ssize_t hash_chunk(struct hashing_source *h, struct kerror *e)
{
	ssize_t n = h->read(h->ctx, h->buf, READ_CHUNK, e);
	int r;

	if (n <= 0)
		return n;
	digester_update(h->d, h->buf, (size_t)n);
	if (h->blob && (r = blob_writer_update(h->blob, h->buf, (size_t)n, e)) < 0)
		return r;
	h->total += n;
	return n;
}

static la_ssize_t hashing_read(struct archive *a, void *ctx, const void **out)
{
	struct hashing_source *h = ctx;
	ssize_t n;

	kerror_release(&h->err);
	n = hash_chunk(h, &h->err);
	if (n < 0) {
		archive_set_error(a, h->err.code ? h->err.code : EIO, "%s",
				  h->err.msg ? h->err.msg : "read error");
		return -1;
	}
	*out = h->buf;
	return n;
}

static void free_archive(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

/* The shared body: extracts the tar that read yields into a new layer
 * directory, hashing it (and, with zstd_copy, compressing it into a blob). */
static int stage_plain(struct store_tmp *t, plain_read read, void *rctx, const char *parent_chain,
		       bool zstd_copy, struct staged_layer *out, struct kerror *e)
{
	__attribute__((cleanup(free_archive))) struct archive *inner = NULL;
	_cleanup_digester_ struct digester *d = digester_new();
	_cleanup_free_ char *buf = xmalloc(READ_CHUNK);
	_cleanup_free_ char *dir = xasprintf("%s/layer-XXXXXX", t->path);
	_cleanup_close_ int diff_fd = -1;
	struct hashing_source h = { .read = read, .ctx = rctx, .d = d, .buf = buf };
	/* In a user namespace (rootless) the opaque markers are user.overlay.*
	 * and ids the namespace does not map cannot be given to files. */
	struct tar_apply_opts opts = { .whiteouts = TAR_WHITEOUT_OVERLAY,
				       .xattr_prefix = fs_overlay_xattr_prefix(),
				       .ignore_chown_errors = fs_in_user_namespace() };
	_cleanup_free_ char *blob_path = NULL;
	struct blob_writer bw = { .fd = -1 };
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

	if (zstd_copy) {
		blob_path = xasprintf("%s.tar.zst", dir);
		r = blob_writer_open(&bw, blob_path, e);
		if (r < 0)
			return r;
		h.blob = &bw;
	}
	inner = archive_read_new();
	archive_read_support_format_tar(inner);
	if (archive_read_open(inner, &h, NULL, hashing_read, NULL) != ARCHIVE_OK) {
		r = h.err.msg ? kerror_set(e, h.err.code, "%s", h.err.msg)
			      : kerror_set(e, EINVAL, "reading the layer: %s",
					   archive_error_string(inner));
		goto out;
	}
	r = tar_apply(inner, diff_fd, &opts, NULL, e);
	if (r < 0)
		goto out;
	/* The DiffID covers everything after the end-of-archive marker too. */
	for (;;) {
		ssize_t n = hash_chunk(&h, e);
		if (n < 0) {
			r = (int)n;
			goto out;
		}
		if (n == 0)
			break;
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
	kerror_release(&h.err);
	return r;
}

/* The libarchive decoders (zstd, xz, bzip2, and gzip where libisal is
 * missing; filter_all adds more for local files), reading the source. */
struct cb_source {
	layer_source read;
	void *ctx;
	const void *first; /* the chunk read to sniff the format, given out first */
	size_t first_len;
	struct kerror err;
	struct archive *outer;
	struct gunzip *gz;
};

static la_ssize_t cb_read(struct archive *a, void *ctx, const void **out)
{
	struct cb_source *c = ctx;
	ssize_t n;

	if (c->first) {
		*out = c->first;
		n = (ssize_t)c->first_len;
		c->first = NULL;
		return n;
	}
	n = c->read(c->ctx, out, &c->err);
	if (n < 0) {
		archive_set_error(a, c->err.code ? c->err.code : EIO, "%s",
				  c->err.msg ? c->err.msg : "read error");
		return -1;
	}
	return n;
}

static ssize_t outer_read(void *ctx, void *buf, size_t cap, struct kerror *e)
{
	struct cb_source *c = ctx;
	la_ssize_t n = archive_read_data(c->outer, buf, cap);

	if (n < 0)
		return kerror_set(e, EIO, "reading the layer: %s", archive_error_string(c->outer));
	return n;
}

/* igzip reads the source through here, so that its failure is kept in
 * c->err like libarchive's. */
static ssize_t gz_source(void *ctx, const void **buf, struct kerror *e)
{
	struct cb_source *c = ctx;
	ssize_t n = c->read(c->ctx, buf, &c->err);

	if (n < 0)
		kerror_set(e, c->err.code ? c->err.code : EIO, "%s",
			   c->err.msg ? c->err.msg : "read error");
	return n;
}

static ssize_t gz_read(void *ctx, void *buf, size_t cap, struct kerror *e)
{
	struct cb_source *c = ctx;
	return gunzip_read(c->gz, buf, cap, e);
}

static int open_outer(struct cb_source *c, bool filter_all, struct kerror *e)
{
	c->outer = archive_read_new();
	if (filter_all) {
		archive_read_support_filter_all(c->outer);
	} else {
		/* Built-in decoders only: the input is untrusted and filter_all
		 * could run an external program chosen by its first bytes. */
		archive_read_support_filter_gzip(c->outer);
		archive_read_support_filter_zstd(c->outer);
		archive_read_support_filter_xz(c->outer);
		archive_read_support_filter_bzip2(c->outer);
	}
	archive_read_support_format_raw(c->outer);
	if (archive_read_open(c->outer, c, NULL, cb_read, NULL) != ARCHIVE_OK)
		return kerror_set(e, EIO, "reading the layer: %s", archive_error_string(c->outer));
	switch (archive_read_next_header(c->outer, &(struct archive_entry *){ NULL })) {
	case ARCHIVE_OK:
		return 0;
	case ARCHIVE_EOF:
		return kerror_set(e, EINVAL, "reading the layer: the input is empty");
	default:
		return kerror_set(e, EIO, "reading the layer: %s", archive_error_string(c->outer));
	}
}

static int stage_cb(struct store_tmp *t, layer_source read, void *ctx, bool filter_all,
		    const char *parent_chain, bool zstd_copy, struct staged_layer *out,
		    struct kerror *e)
{
	struct cb_source c = { .read = read, .ctx = ctx };
	ssize_t n;
	int r;

	memset(out, 0, sizeof(*out));
	n = read(ctx, &c.first, &c.err);
	if (n < 0)
		r = kerror_set(e, c.err.code ? c.err.code : EIO, "%s",
			       c.err.msg ? c.err.msg : "reading the layer");
	else if (n == 0)
		r = kerror_set(e, EINVAL, "reading the layer: the input is empty");
	else if (gunzip_magic(c.first, (size_t)n) &&
		 (c.gz = gunzip_new(gz_source, &c, c.first, (size_t)n)))
		r = stage_plain(t, gz_read, &c, parent_chain, zstd_copy, out, e);
	else {
		c.first_len = (size_t)n;
		r = open_outer(&c, filter_all, e);
		if (r == 0)
			r = stage_plain(t, outer_read, &c, parent_chain, zstd_copy, out, e);
	}
	/* The source's own failure (a short read, a full disk under the blob
	 * copy) says more than the decoder's "truncated input" it caused. */
	if (r < 0 && c.err.msg)
		r = kerror_set(e, c.err.code ? c.err.code : EIO, "%s", c.err.msg);
	if (c.outer)
		archive_read_free(c.outer);
	gunzip_free(c.gz);
	kerror_release(&c.err);
	return r;
}

struct fd_source {
	int fd;
	char *buf;
};

static ssize_t fd_read(void *ctx, const void **buf, struct kerror *e)
{
	struct fd_source *f = ctx;
	ssize_t n;

	do
		n = read(f->fd, f->buf, 128 * 1024);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return kerror_sys(e, errno, "reading the layer");
	*buf = f->buf;
	return n;
}

int store_stage_layer(struct store *s, struct store_tmp *t, int fd, const char *parent_chain,
		      struct staged_layer *out, struct kerror *e)
{
	_cleanup_free_ char *buf = xmalloc(128 * 1024);
	struct fd_source f = { .fd = fd, .buf = buf };

	(void)s;
	return stage_cb(t, fd_read, &f, true, parent_chain, true, out, e);
}

int store_stage_layer_cb(struct store *s, struct store_tmp *t, layer_source read, void *ctx,
			 const char *parent_chain, struct staged_layer *out, struct kerror *e)
{
	(void)s;
	return stage_cb(t, read, ctx, false, parent_chain, true, out, e);
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
	bool eof;
	struct digester *d;
};

static ssize_t tee_read(void *ctx, const void **buf, struct kerror *e)
{
	struct blob_tee *b = ctx;
	ssize_t n = b->read(b->ctx, buf, e);
	int r;

	if (n == 0)
		b->eof = true;
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
	r = stage_cb(t, tee_read, &b, false, parent_chain, false, out, e);
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
	/* A blob cut short fails in the decoder first ("truncated"): the
	 * count says what happened. */
	if ((r == 0 || b.eof) && b.size != desc->size)
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
