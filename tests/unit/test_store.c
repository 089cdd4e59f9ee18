/* Unit tests for the local store (storage/store.c, db.c, blobs.c, layers.c,
 * images.c): layout, schema, blobs verified both ways, layer staging and
 * DiffIDs, image commit/look-up/list/tag/untag/remove with layer GC, tmp/
 * clean-up and the store lock.  Each test runs in a fresh temporary root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/common.h"
#include "storage/storage.h"
#include "storage/store_private.h"

/* ---- fixture: <base>/root is the store, <base> holds the test's files -- */

#include "tests/unit/store_fixture.h"

static char *spath(struct fx *f, const char *rel)
{
	return xasprintf("%s/%s", f->root, rel);
}

static bool sexists(struct fx *f, const char *rel)
{
	_cleanup_free_ char *p = spath(f, rel);
	return fs_exists(p);
}

/* Entries in a directory of the store, "." and ".." excluded. */
static int count_entries(struct fx *f, const char *rel)
{
	_cleanup_free_ char *p = spath(f, rel);
	_cleanup_closedir_ DIR *d = opendir(p);
	struct dirent *de;
	int n = 0;
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	return n;
}

/* ---- tar builder over libarchive's write API -------------------------- */

struct tbuf {
	char *data;
	size_t len, cap;
};

static la_ssize_t buf_write(struct archive *a, void *ctx, const void *p, size_t n)
{
	struct tbuf *b = ctx;
	(void)a;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->data = xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return (la_ssize_t)n;
}

struct tar {
	struct archive *a;
	struct tbuf b;
};

static struct tar *tar_new(void)
{
	struct tar *t = xcalloc(1, sizeof(*t));
	t->a = archive_write_new();
	assert_int_equal(archive_write_set_format_pax_restricted(t->a), ARCHIVE_OK);
	assert_int_equal(archive_write_open(t->a, &t->b, NULL, buf_write, NULL), ARCHIVE_OK);
	return t;
}

static void tar_file(struct tar *t, const char *name, const char *data)
{
	struct archive_entry *ae = archive_entry_new();
	size_t n = strlen(data);
	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0644);
	archive_entry_set_mtime(ae, 1000000000, 0);
	archive_entry_set_size(ae, (la_int64_t)n);
	assert_int_equal(archive_write_header(t->a, ae), ARCHIVE_OK);
	assert_int_equal(archive_write_data(t->a, data, n), (la_ssize_t)n);
	archive_entry_free(ae);
}

/* Finishes the archive and hands its bytes over. */
static struct tbuf tar_end(struct tar *t)
{
	struct tbuf b;
	assert_int_equal(archive_write_close(t->a), ARCHIVE_OK);
	archive_write_free(t->a);
	b = t->b;
	free(t);
	return b;
}

/* A tar with one file NAME holding DATA. */
static struct tbuf tar_one(const char *name, const char *data)
{
	struct tar *t = tar_new();
	tar_file(t, name, data);
	return tar_end(t);
}

/* Gzips a buffer (libarchive's raw format carries one unnamed stream). */
static struct tbuf gzip_buf(const struct tbuf *in)
{
	struct tbuf out = { 0 };
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open(a, &out, NULL, buf_write, NULL), ARCHIVE_OK);
	archive_entry_set_pathname(ae, "data");
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_size(ae, (la_int64_t)in->len);
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, in->data, in->len), (la_ssize_t)in->len);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(ae);
	return out;
}

/* Writes b to a file under <base> and returns it opened for reading. */
static int buf_fd(struct fx *f, const struct tbuf *b)
{
	_cleanup_free_ char *p = xasprintf("%s/in-%d", f->base, f->n_files++);
	_cleanup_kerror_ struct kerror e = { 0 };
	int fd;
	assert_int_equal(fs_write_atomic(p, b->data, b->len, 0644, &e), 0);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* ---- staging and committing helpers ----------------------------------- */

static void stage_buf(struct fx *f, struct store_tmp *t, const struct tbuf *b,
		      const char *parent, struct staged_layer *out)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	int fd = buf_fd(f, b);
	int r = store_stage_layer(f->s, t, fd, parent, out, &e);
	close(fd);
	if (r < 0)
		fail_msg("store_stage_layer: %s", e.msg);
}

/* Stages a one-file layer; the tar's digest goes to *tar_digest if asked. */
static void stage_file(struct fx *f, struct store_tmp *t, const char *name, const char *data,
		       const char *parent, struct staged_layer *out)
{
	struct tbuf b = tar_one(name, data);
	stage_buf(f, t, &b, parent, out);
	free(b.data);
}

/* An image config listing the staged layers' diff ids; day picks "created". */
static char *make_config(const struct staged_layer *ls, size_t n, int day)
{
	_cleanup_free_ char *ids = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *x = xasprintf("%s%s\"%s\"", ids, i ? "," : "", ls[i].diff_id);
		free(ids);
		ids = x;
	}
	return xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\","
			 "\"created\":\"2024-01-%02dT00:00:00Z\","
			 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
			 day, ids);
}

/* Commits an image of the given staged layers; returns its id. */
static void commit(struct fx *f, struct staged_layer *ls, size_t n, int day,
		   char *const *names, char id[DIGEST_HEX_LEN + 1])
{
	_cleanup_free_ char *cfg = make_config(ls, n, day);
	_cleanup_kerror_ struct kerror e = { 0 };
	struct image_commit c = { .config = cfg, .config_len = strlen(cfg),
				  .layers = ls, .n_layers = n, .names = names };
	if (store_image_commit(f->s, &c, id, &e) < 0)
		fail_msg("store_image_commit: %s", e.msg);
}

/* Stages and commits a one-layer image of one file. */
static void commit_one(struct fx *f, const char *file, const char *data, int day,
		       char *const *names, char id[DIGEST_HEX_LEN + 1])
{
	_cleanup_kerror_ struct kerror e = { 0 };
	struct store_tmp t = { 0 };
	struct staged_layer l = { 0 };
	assert_int_equal(store_tmp_create(f->s, &t, &e), 0);
	stage_file(f, &t, file, data, NULL, &l);
	commit(f, &l, 1, day, names, id);
	staged_layer_release(&l);
	store_tmp_release(&t);
}

static struct image_info *lookup_ok(struct fx *f, const char *what)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	struct image_info *i = NULL;
	if (store_image_lookup(f->s, what, &i, &e) < 0)
		fail_msg("store_image_lookup(%s): %s", what, e.msg);
	return i;
}

static void lookup_fails(struct fx *f, const char *what, int code, const char *msg)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	struct image_info *i = NULL;
	assert_int_equal(store_image_lookup(f->s, what, &i, &e), -code);
	assert_null(i);
	assert_int_equal(e.code, code);
	if (msg)
		assert_string_equal(e.msg, msg);
}

static char *file_text(struct fx *f, const char *rel)
{
	_cleanup_free_ char *p = spath(f, rel);
	_cleanup_kerror_ struct kerror e = { 0 };
	char *data = NULL;
	size_t len;
	if (fs_read_file(p, 1 << 20, &data, &len, &e) < 0)
		fail_msg("%s", e.msg);
	return data;
}

/* ---- layout and schema ------------------------------------------------- */

static void test_open_layout(void **state)
{
	struct fx *f = *state;
	static const char *const want[] = { "kiln.db", "store.lock", "blobs/sha256", "layers",
					    "tmp" };
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_true(sexists(f, want[i]));
	assert_string_equal(store_root(f->s), f->root);
	assert_string_equal(store_driver(f->s), "overlay");
	/* A second open (while the first is still open) and a reopen work. */
	struct store *s2 = open_store(f, 0);
	store_close(s2);
	store_close(f->s);
	f->s = open_store(f, 0);
}

static void test_open_bad_driver(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct store_opts o = { .root = f->root, .driver = "btrfs" };
	struct store *s = NULL;
	assert_int_equal(store_open(&o, &s, &e), -EINVAL);
	assert_null(s);
	assert_non_null(strstr(e.msg, "btrfs"));
}

static void test_schema_version(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *p = spath(f, "kiln.db");
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	/* Every migration ran: the version is the count of migrations. */
	assert_int_equal(sqlite3_column_int(st, 0), store_schema_version());
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The WAL stays small: a checkpoint every 64 pages, and none when the last
 * connection closes (its syncs cost every command a few milliseconds on a
 * busy disk).  What it holds is read back by the next open's recovery,
 * which re-reads and checksums every frame: a WAL that grew to megabytes
 * made that hundreds of reads per `kiln run`. */
static void test_wal_bounded(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_free_ char *wal = spath(f, "kiln.db-wal");
	sqlite3_stmt *st = NULL;
	struct stat sb;
	assert_int_equal(db_exec(f->s, "CREATE TABLE wal_probe (x)", &e), 0);
	for (int i = 0; i < 300; i++)
		assert_int_equal(db_exec(f->s, "INSERT INTO wal_probe VALUES (randomblob(3000))",
					 &e), 0);
	store_close(f->s);
	/* kept at close (no checkpoint), and bounded */
	assert_int_equal(stat(wal, &sb), 0);
	assert_true(sb.st_size > 0);
	assert_true(sb.st_size <= 32 + 72 * (24 + 4096));
	f->s = open_store(f, 0);
	assert_int_equal(db_prepare(f->s, "SELECT count(*) FROM wal_probe", &st, &e), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 300);
	sqlite3_finalize(st);
}

/* ---- blobs ---------------------------------------------------------------- */

static void test_blob_roundtrip(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	char d[DIGEST_STR_LEN + 1], want[DIGEST_STR_LEN + 1];
	_cleanup_free_ char *data = NULL, *p = NULL;
	size_t len = 0;

	digest_bytes("hello", 5, want);
	assert_int_equal(store_blob_put(f->s, "hello", 5, want, d, &e), 0);
	assert_string_equal(d, want);
	assert_true(store_blob_exists(f->s, want));
	p = store_blob_path(f->s, want);
	assert_true(fs_exists(p));
	/* Putting it again (no expectation) is a no-op. */
	assert_int_equal(store_blob_put(f->s, "hello", 5, NULL, d, &e), 0);
	assert_int_equal(store_blob_get(f->s, want, 1024, &data, &len, &e), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "hello", 5);
	assert_false(store_blob_exists(f->s, "sha256:../../etc"));
}

static void test_blob_put_wrong_digest(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	char d[DIGEST_STR_LEN + 1], other[DIGEST_STR_LEN + 1], real[DIGEST_STR_LEN + 1];

	digest_bytes("other", 5, other);
	digest_bytes("hello", 5, real);
	assert_int_equal(store_blob_put(f->s, "hello", 5, other, d, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "digest mismatch"));
	assert_false(store_blob_exists(f->s, real));
	assert_false(store_blob_exists(f->s, other));
	assert_int_equal(count_entries(f, "blobs/sha256"), 0);
}

static void test_blob_get_corrupt(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	char d[DIGEST_STR_LEN + 1];
	_cleanup_free_ char *p = NULL;
	char *data = NULL;
	size_t len = 0;

	assert_int_equal(store_blob_put(f->s, "hello", 5, NULL, d, &e), 0);
	p = store_blob_path(f->s, d);
	assert_int_equal(fs_write_atomic(p, "hellO", 5, 0644, &e), 0);
	assert_int_equal(store_blob_get(f->s, d, 1024, &data, &len, &e), -EBADMSG);
	assert_null(data);
	assert_non_null(strstr(e.msg, "corrupt"));
	/* Missing and malformed digests fail too. */
	digest_bytes("absent", 6, d);
	assert_true(store_blob_get(f->s, d, 1024, &data, &len, &e) < 0);
	assert_null(data);
	assert_int_equal(store_blob_get(f->s, "sha256:xyz", 1024, &data, &len, &e), -EINVAL);
}

/* ---- staging ------------------------------------------------------------ */

static void check_diff_id(struct fx *f, const struct tbuf *input, const struct tbuf *tarbytes)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	struct store_tmp t = { 0 };
	struct staged_layer l = { 0 };
	char want[DIGEST_STR_LEN + 1];

	digest_bytes(tarbytes->data, tarbytes->len, want);
	assert_int_equal(store_tmp_create(f->s, &t, &e), 0);
	stage_buf(f, &t, input, NULL, &l);
	assert_string_equal(l.diff_id, want);
	assert_string_equal(l.chain_id, want); /* a base layer's ChainID is its DiffID */
	assert_int_equal(l.size, (int64_t)tarbytes->len);
	_cleanup_free_ char *file = xasprintf("%s/diff/etc/hello", l.dir);
	assert_true(fs_exists(file));
	staged_layer_release(&l);
	store_tmp_release(&t);
}

static void test_stage_diff_id_plain(void **state)
{
	struct fx *f = *state;
	struct tar *t = tar_new();
	tar_file(t, "etc/hello", "hello world\n");
	tar_file(t, "bin/sh", "#!fake\n");
	struct tbuf b = tar_end(t);
	check_diff_id(f, &b, &b);
	free(b.data);
}

static void test_stage_diff_id_gzip(void **state)
{
	struct fx *f = *state;
	struct tbuf b = tar_one("etc/hello", "hello gzip\n");
	struct tbuf z = gzip_buf(&b);
	assert_true(z.len > 2 && (unsigned char)z.data[0] == 0x1f);
	check_diff_id(f, &z, &b);
	free(b.data);
	free(z.data);
}

static void test_stage_diff_id_trailing_padding(void **state)
{
	struct fx *f = *state;
	struct tbuf b = tar_one("etc/hello", "padded\n");
	/* Zeros beyond the end-of-archive marker belong to the DiffID too. */
	b.data = xrealloc(b.data, b.len + 3 * 10240);
	memset(b.data + b.len, 0, 3 * 10240);
	b.len += 3 * 10240;
	check_diff_id(f, &b, &b);
	struct tbuf z = gzip_buf(&b);
	check_diff_id(f, &z, &b);
	free(b.data);
	free(z.data);
}

static void test_stage_chain_id(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct store_tmp t = { 0 };
	struct staged_layer base = { 0 }, top = { 0 };
	char want[DIGEST_STR_LEN + 1];

	assert_int_equal(store_tmp_create(f->s, &t, &e), 0);
	stage_file(f, &t, "a", "base\n", NULL, &base);
	stage_file(f, &t, "b", "top\n", base.chain_id, &top);
	_cleanup_free_ char *cat = xasprintf("%s %s", base.chain_id, top.diff_id);
	digest_bytes(cat, strlen(cat), want);
	assert_string_equal(top.chain_id, want);
	assert_string_not_equal(top.chain_id, top.diff_id);
	staged_layer_release(&base);
	staged_layer_release(&top);
	store_tmp_release(&t);
}

static void test_stage_rejects_garbage(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct store_tmp t = { 0 };
	struct staged_layer l = { 0 };
	struct tbuf empty = { 0 };
	int fd;

	assert_int_equal(store_tmp_create(f->s, &t, &e), 0);
	fd = buf_fd(f, &empty);
	assert_true(store_stage_layer(f->s, &t, fd, NULL, &l, &e) < 0);
	close(fd);
	assert_null(l.dir);
	struct tbuf junk = { .data = xstrdup("this is not a tar archive, not even close......"),
			    .len = 48 };
	fd = buf_fd(f, &junk);
	assert_true(store_stage_layer(f->s, &t, fd, NULL, &l, &e) < 0);
	close(fd);
	assert_null(l.dir);
	free(junk.data);
	store_tmp_release(&t);
}

/* ---- commit --------------------------------------------------------------- */

static void test_commit_one_layer(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct store_tmp t = { 0 };
	struct staged_layer l = { 0 };
	char id[DIGEST_HEX_LEN + 1], cd[DIGEST_STR_LEN + 1];
	char *names[] = { "localhost/one:latest", NULL };

	assert_int_equal(store_tmp_create(f->s, &t, &e), 0);
	stage_file(f, &t, "etc/one", "one\n", NULL, &l);
	_cleanup_free_ char *cfg = make_config(&l, 1, 3);
	struct image_commit c = { .config = cfg, .config_len = strlen(cfg),
				  .layers = &l, .n_layers = 1, .names = names };
	assert_int_equal(store_image_commit(f->s, &c, id, &e), 0);
	digest_bytes(cfg, strlen(cfg), cd);
	assert_string_equal(id, digest_hex(cd));
	assert_true(store_blob_exists(f->s, cd));

	_cleanup_free_ char *diff = store_layer_diff_path(f->s, digest_hex(l.chain_id));
	_cleanup_free_ char *file = xasprintf("%s/etc/one", diff);
	assert_true(fs_exists(file));
	assert_int_equal(count_entries(f, "layers"), 1);

	_cleanup_image_info_ struct image_info *i = lookup_ok(f, id);
	assert_string_equal(i->id, id);
	assert_string_equal(i->top_layer, digest_hex(l.chain_id));
	assert_null(i->manifest_digest);
	assert_int_equal(strv_len(i->names), 1);
	assert_string_equal(i->names[0], "localhost/one:latest");
	assert_int_equal(strv_len(i->layers), 1);
	assert_string_equal(i->diff_ids[0], l.diff_id);
	assert_int_equal(i->size, l.size);
	assert_int_equal(i->created, 1704240000); /* 2024-01-03T00:00:00Z */
	staged_layer_release(&l);
	store_tmp_release(&t);
	/* The commit's own tmp dir is gone. */
	assert_int_equal(count_entries(f, "tmp"), 0);
}

static void test_commit_two_layers(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct store_tmp t = { 0 };
	struct staged_layer ls[2] = { 0 };
	char id[DIGEST_HEX_LEN + 1];

	assert_int_equal(store_tmp_create(f->s, &t, &e), 0);
	stage_file(f, &t, "base", "base\n", NULL, &ls[0]);
	stage_file(f, &t, "top", "top\n", ls[0].chain_id, &ls[1]);
	commit(f, ls, 2, 4, NULL, id);

	_cleanup_image_info_ struct image_info *i = lookup_ok(f, id);
	assert_int_equal(strv_len(i->layers), 2);
	assert_int_equal(strv_len(i->diff_ids), 2);
	assert_string_equal(i->diff_ids[0], ls[0].diff_id);
	assert_string_equal(i->diff_ids[1], ls[1].diff_id);
	assert_string_equal(i->layers[0], digest_hex(ls[0].chain_id));
	assert_string_equal(i->layers[1], digest_hex(ls[1].chain_id));
	assert_string_equal(i->top_layer, digest_hex(ls[1].chain_id));
	assert_int_equal(i->size, ls[0].size + ls[1].size);
	assert_int_equal(strv_len(i->names), 0);
	assert_int_equal(count_entries(f, "layers"), 2);
	/* The config blob lists the diff ids in the same order. */
	char cd[DIGEST_STR_LEN + 1];
	_cleanup_free_ char *data = NULL;
	size_t len;
	snprintf(cd, sizeof(cd), "sha256:%s", id);
	assert_int_equal(store_blob_get(f->s, cd, 1 << 20, &data, &len, &e), 0);
	_cleanup_free_ char *cfg = make_config(ls, 2, 4);
	assert_int_equal(len, strlen(cfg));
	assert_memory_equal(data, cfg, len);
	staged_layer_release(&ls[0]);
	staged_layer_release(&ls[1]);
	store_tmp_release(&t);
}

static void test_commit_with_manifest(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct store_tmp t = { 0 };
	struct staged_layer l = { 0 };
	char id[DIGEST_HEX_LEN + 1], md[DIGEST_STR_LEN + 1];
	const char *manifest = "{\"schemaVersion\":2}";

	assert_int_equal(store_tmp_create(f->s, &t, &e), 0);
	stage_file(f, &t, "m", "m\n", NULL, &l);
	_cleanup_free_ char *cfg = make_config(&l, 1, 5);
	struct image_commit c = { .config = cfg, .config_len = strlen(cfg),
				  .manifest = manifest, .manifest_len = strlen(manifest),
				  .layers = &l, .n_layers = 1 };
	assert_int_equal(store_image_commit(f->s, &c, id, &e), 0);
	digest_bytes(manifest, strlen(manifest), md);
	assert_true(store_blob_exists(f->s, md));
	{
		_cleanup_image_info_ struct image_info *i = lookup_ok(f, id);
		assert_non_null(i->manifest_digest);
		assert_string_equal(i->manifest_digest, md);
	}
	assert_int_equal(store_image_remove(f->s, id, &e), 0);
	assert_false(store_blob_exists(f->s, md));
	assert_int_equal(count_entries(f, "blobs/sha256"), 0);
	staged_layer_release(&l);
	store_tmp_release(&t);
}

/* Signatures kept with an image: round trip in order, a second add of the
 * same one ignored, an unknown image or an oversized one refused, gone
 * with the image. */
static void test_signatures(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	char id[DIGEST_HEX_LEN + 1];
	const char *md = "sha256:0123456789012345678901234567890123456789012345678901234567890123";
	struct store_sig in[2] = { { (char *)"\x00simple-signing\nAAA", 19 },
				   { (char *)"second", 6 } };
	struct store_sig *out = NULL;
	size_t n = 0;

	commit_one(f, "s", "s\n", 6, NULL, id);
	assert_int_equal(store_signatures_get(f->s, id, md, &out, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_signatures_add(f->s, id, md, in, 2, &e), 0);
	assert_int_equal(store_signatures_add(f->s, id, md, in, 1, &e), 0);
	assert_int_equal(store_signatures_get(f->s, id, md, &out, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].len, 19);
	assert_memory_equal(out[0].data, in[0].data, 19);
	assert_string_equal(out[1].data, "second");
	store_sigs_free(out, n);
	/* Another manifest digest of the same image has none. */
	assert_int_equal(store_signatures_get(f->s, id, "sha256:00", &out, &n, &e), 0);
	assert_int_equal(n, 0);
	/* An image that does not exist keeps nothing. */
	assert_int_equal(store_signatures_add(f->s, "ffff", md, in, 1, &e), 0);
	assert_int_equal(store_signatures_get(f->s, "ffff", md, &out, &n, &e), 0);
	assert_int_equal(n, 0);
	struct store_sig empty = { (char *)"", 0 };
	assert_int_equal(store_signatures_add(f->s, id, md, &empty, 1, &e), -EINVAL);
	kerror_release(&e);
	assert_int_equal(store_image_remove(f->s, id, &e), 0);
	assert_int_equal(store_signatures_get(f->s, id, md, &out, &n, &e), 0);
	assert_int_equal(n, 0);
}

static void test_commit_moves_names(void **state)
{
	struct fx *f = *state;
	char a[DIGEST_HEX_LEN + 1], b[DIGEST_HEX_LEN + 1];
	char *na[] = { "localhost/app:latest", "localhost/app:v1", NULL };
	char *nb[] = { "localhost/app:latest", NULL };

	commit_one(f, "a", "a\n", 1, na, a);
	commit_one(f, "b", "b\n", 2, nb, b);
	assert_string_not_equal(a, b);
	_cleanup_image_info_ struct image_info *ia = lookup_ok(f, a);
	_cleanup_image_info_ struct image_info *ib = lookup_ok(f, b);
	assert_int_equal(strv_len(ia->names), 1);
	assert_string_equal(ia->names[0], "localhost/app:v1");
	assert_int_equal(strv_len(ib->names), 1);
	assert_string_equal(ib->names[0], "localhost/app:latest");
	_cleanup_image_info_ struct image_info *byname = lookup_ok(f, "app");
	assert_string_equal(byname->id, b);
}

static void test_commit_reuses_layer(void **state)
{
	struct fx *f = *state;
	char a[DIGEST_HEX_LEN + 1], b[DIGEST_HEX_LEN + 1];

	/* Same layer content, different configs: two images, one layer. */
	commit_one(f, "same", "same\n", 1, NULL, a);
	commit_one(f, "same", "same\n", 2, NULL, b);
	assert_string_not_equal(a, b);
	assert_int_equal(count_entries(f, "layers"), 1);
	assert_int_equal(count_entries(f, "tmp"), 0);
	_cleanup_image_info_ struct image_info *ia = lookup_ok(f, a);
	_cleanup_image_info_ struct image_info *ib = lookup_ok(f, b);
	assert_string_equal(ia->top_layer, ib->top_layer);
	/* Committing the very same image again is harmless too. */
	char c[DIGEST_HEX_LEN + 1];
	commit_one(f, "same", "same\n", 2, NULL, c);
	assert_string_equal(b, c);
	assert_int_equal(count_entries(f, "layers"), 1);
}

static void test_commit_config_mismatch(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct store_tmp t = { 0 };
	struct staged_layer ls[2] = { 0 };
	char id[DIGEST_HEX_LEN + 1];

	assert_int_equal(store_tmp_create(f->s, &t, &e), 0);
	stage_file(f, &t, "x", "x\n", NULL, &ls[0]);
	stage_file(f, &t, "y", "y\n", ls[0].chain_id, &ls[1]);

	/* Wrong order. */
	struct staged_layer swapped[2] = { ls[1], ls[0] };
	_cleanup_free_ char *cfg = make_config(swapped, 2, 1);
	struct image_commit c = { .config = cfg, .config_len = strlen(cfg),
				  .layers = ls, .n_layers = 2 };
	assert_int_equal(store_image_commit(f->s, &c, id, &e), -EBADMSG);
	/* Wrong count. */
	_cleanup_free_ char *cfg1 = make_config(ls, 1, 1);
	struct image_commit c1 = { .config = cfg1, .config_len = strlen(cfg1),
				   .layers = ls, .n_layers = 2 };
	assert_int_equal(store_image_commit(f->s, &c1, id, &e), -EINVAL);
	/* Not a config at all. */
	struct image_commit c2 = { .config = "{", .config_len = 1, .layers = ls, .n_layers = 2 };
	assert_true(store_image_commit(f->s, &c2, id, &e) < 0);

	assert_int_equal(count_entries(f, "blobs/sha256"), 0);
	assert_int_equal(count_entries(f, "layers"), 0);
	struct image_info **list = NULL;
	size_t n = 99;
	assert_int_equal(store_image_list(f->s, &list, &n, &e), 0);
	assert_int_equal(n, 0);
	image_list_free(list, n);
	staged_layer_release(&ls[0]);
	staged_layer_release(&ls[1]);
	store_tmp_release(&t);
}

static void test_commit_chain_mismatch(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct store_tmp t = { 0 };
	struct staged_layer ls[2] = { 0 };
	char id[DIGEST_HEX_LEN + 1];

	/* The second layer was staged as a base layer: its ChainID does not
	 * follow from the first, so recording it under that parent would
	 * corrupt the layer graph. */
	assert_int_equal(store_tmp_create(f->s, &t, &e), 0);
	stage_file(f, &t, "x", "x\n", NULL, &ls[0]);
	stage_file(f, &t, "y", "y\n", NULL, &ls[1]);
	_cleanup_free_ char *cfg = make_config(ls, 2, 1);
	struct image_commit c = { .config = cfg, .config_len = strlen(cfg),
				  .layers = ls, .n_layers = 2 };
	assert_true(store_image_commit(f->s, &c, id, &e) < 0);
	assert_int_equal(count_entries(f, "blobs/sha256"), 0);
	assert_int_equal(count_entries(f, "layers"), 0);
	staged_layer_release(&ls[0]);
	staged_layer_release(&ls[1]);
	store_tmp_release(&t);
}

static void test_commit_replaces_orphan_dir(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct store_tmp t = { 0 };
	struct staged_layer l = { 0 };
	char id[DIGEST_HEX_LEN + 1];

	assert_int_equal(store_tmp_create(f->s, &t, &e), 0);
	stage_file(f, &t, "real", "real\n", NULL, &l);
	/* What a crash between rename and DB commit leaves: a directory with
	 * no row, holding something else. */
	_cleanup_free_ char *orphan = xasprintf("%s/layers/%s/diff", f->root,
						digest_hex(l.chain_id));
	assert_int_equal(fs_mkdir_p(orphan, 0700, &e), 0);
	_cleanup_free_ char *junk = xasprintf("%s/junk", orphan);
	assert_int_equal(fs_write_atomic(junk, "junk", 4, 0644, &e), 0);

	commit(f, &l, 1, 1, NULL, id);
	_cleanup_free_ char *real = xasprintf("%s/real", orphan);
	assert_true(fs_exists(real));
	assert_false(fs_exists(junk));
	assert_int_equal(count_entries(f, "layers"), 1);
	assert_int_equal(count_entries(f, "tmp"), 1); /* only t */
	_cleanup_free_ char *content = NULL;
	{
		_cleanup_free_ char *rel = xasprintf("layers/%s/diff/real", digest_hex(l.chain_id));
		content = file_text(f, rel);
	}
	assert_string_equal(content, "real\n");
	staged_layer_release(&l);
	store_tmp_release(&t);
}

static int sink_append(void *ctx, const void *data, size_t n, struct kerror *e)
{
	(void)e;
	return buf_write(NULL, ctx, data, n) == (la_ssize_t)n ? 0 : -EIO;
}

static void test_layer_tar_stream_kept(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct store_tmp t = { 0 };
	struct staged_layer l = { 0 };
	struct layer_info li = { 0 };
	char id[DIGEST_HEX_LEN + 1];
	struct tbuf b = tar_one("etc/kept", "kept\n"), back = { 0 };

	/* Padding after the end-of-archive marker must come back too. */
	b.data = xrealloc(b.data, b.len + 10240);
	memset(b.data + b.len, 0, 10240);
	b.len += 10240;
	struct tbuf z = gzip_buf(&b);
	assert_int_equal(store_tmp_create(f->s, &t, &e), 0);
	stage_buf(f, &t, &z, NULL, &l);
	commit(f, &l, 1, 1, NULL, id);
	assert_true(store_blob_exists(f->s, l.blob_digest));
	assert_int_equal(store_layer_get(f->s, digest_hex(l.chain_id), &li, &e), 0);
	assert_string_equal(li.diff_id, l.diff_id);
	assert_null(li.parent);
	assert_int_equal(li.size, (int64_t)b.len);
	assert_string_equal(li.blob_digest, l.blob_digest);
	assert_int_equal(store_layer_read_tar(f->s, digest_hex(l.chain_id), sink_append, &back, &e),
			 0);
	assert_int_equal(back.len, b.len);
	assert_memory_equal(back.data, b.data, b.len);
	layer_info_release(&li);
	assert_true(store_layer_get(f->s, "0000", &li, &e) < 0);
	free(b.data);
	free(z.data);
	free(back.data);
	staged_layer_release(&l);
	store_tmp_release(&t);
}

/* ---- look-up ------------------------------------------------------------- */

static void test_lookup_by_id(void **state)
{
	struct fx *f = *state;
	char id[DIGEST_HEX_LEN + 1];
	char *names[] = { "localhost/byid:latest", NULL };

	commit_one(f, "f", "f\n", 1, names, id);
	_cleanup_free_ char *withalg = xasprintf("sha256:%s", id);
	_cleanup_free_ char *short12 = xstrndup(id, 12);
	_cleanup_free_ char *short3 = xstrndup(id, 3);
	const char *forms[] = { id, withalg, short12, short3 };
	for (size_t k = 0; k < ARRAY_SIZE(forms); k++) {
		_cleanup_image_info_ struct image_info *i = lookup_ok(f, forms[k]);
		assert_string_equal(i->id, id);
		assert_int_equal(strv_len(i->names), 1);
	}
}

static void test_lookup_bad_ids(void **state)
{
	struct fx *f = *state;
	char id[DIGEST_HEX_LEN + 1], other[DIGEST_HEX_LEN + 1];

	commit_one(f, "f", "f\n", 1, NULL, id);
	/* A full ID and a prefix that match nothing. */
	snprintf(other, sizeof(other), "%s", id);
	other[0] = other[0] == '0' ? '1' : '0';
	lookup_fails(f, other, ENOENT, NULL);
	other[12] = '\0';
	_cleanup_free_ char *msg = xasprintf("No such image: %s", other);
	lookup_fails(f, other, ENOENT, msg);
	/* Too short to be a prefix: two hex characters. */
	_cleanup_free_ char *short2 = xstrndup(id, 2);
	_cleanup_free_ char *msg2 = xasprintf("No such image: %s", short2);
	lookup_fails(f, short2, ENOENT, msg2);
	lookup_fails(f, "", ENOENT, NULL);
	lookup_fails(f, "UPPER/Case", ENOENT, NULL);
}

/* A layer-less config made unique by k. */
static char *empty_config(int k)
{
	return xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\","
			 "\"created\":\"2024-01-01T00:00:00Z\",\"comment\":\"%d\","
			 "\"rootfs\":{\"type\":\"layers\"}}",
			 k);
}

static void commit_config(struct fx *f, const char *cfg, char id[DIGEST_HEX_LEN + 1])
{
	_cleanup_kerror_ struct kerror e = { 0 };
	struct image_commit c = { .config = cfg, .config_len = strlen(cfg) };
	if (store_image_commit(f->s, &c, id, &e) < 0)
		fail_msg("store_image_commit: %s", e.msg);
}

static void test_lookup_ambiguous_prefix(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ int *owner = xmalloc(4096 * sizeof(int));
	int a = -1, b = -1;

	/* Find two configs whose IDs share their first three hex digits
	 * (birthday bound: about a hundred tries). */
	for (int i = 0; i < 4096; i++)
		owner[i] = -1;
	for (int k = 0; k < 100000 && a < 0; k++) {
		_cleanup_free_ char *cfg = empty_config(k);
		char d[DIGEST_STR_LEN + 1], p3[4];
		digest_bytes(cfg, strlen(cfg), d);
		memcpy(p3, digest_hex(d), 3);
		p3[3] = '\0';
		int slot = (int)strtol(p3, NULL, 16);
		if (owner[slot] >= 0) {
			a = owner[slot];
			b = k;
		}
		owner[slot] = k;
	}
	assert_true(a >= 0);
	char ida[DIGEST_HEX_LEN + 1], idb[DIGEST_HEX_LEN + 1];
	_cleanup_free_ char *ca = empty_config(a), *cb = empty_config(b);
	commit_config(f, ca, ida);
	commit_config(f, cb, idb);
	assert_memory_equal(ida, idb, 3);

	_cleanup_free_ char *p3 = xstrndup(ida, 3);
	lookup_fails(f, p3, EEXIST, NULL);
	/* The longest common prefix is ambiguous; one more digit is not. */
	size_t common = 0;
	while (ida[common] == idb[common])
		common++;
	_cleanup_free_ char *pa = xstrndup(ida, common + 1), *pb = xstrndup(idb, common + 1);
	_cleanup_image_info_ struct image_info *ia = lookup_ok(f, pa);
	_cleanup_image_info_ struct image_info *ib = lookup_ok(f, pb);
	assert_string_equal(ia->id, ida);
	assert_string_equal(ib->id, idb);
	assert_int_equal(strv_len(ia->layers), 0);
	assert_null(ia->top_layer);
}

static void test_lookup_by_name(void **state)
{
	struct fx *f = *state;
	char hub[DIGEST_HEX_LEN + 1], local[DIGEST_HEX_LEN + 1], q[DIGEST_HEX_LEN + 1];
	char *nhub[] = { "docker.io/library/busybox:latest", "docker.io/library/busybox:1.36",
			 NULL };
	char *nq[] = { "quay.io/org/tool:v2", NULL };

	commit_one(f, "hub", "hub\n", 1, nhub, hub);
	commit_one(f, "q", "q\n", 2, nq, q);
	{
		_cleanup_image_info_ struct image_info *i = lookup_ok(f, "busybox");
		assert_string_equal(i->id, hub);
		assert_int_equal(strv_len(i->names), 2);
		assert_string_equal(i->names[0], "docker.io/library/busybox:1.36");
		assert_string_equal(i->names[1], "docker.io/library/busybox:latest");
	}
	const char *hub_forms[] = { "busybox:latest", "busybox:1.36", "library/busybox",
				    "docker.io/busybox", "docker.io/library/busybox:latest" };
	for (size_t k = 0; k < ARRAY_SIZE(hub_forms); k++) {
		_cleanup_image_info_ struct image_info *i = lookup_ok(f, hub_forms[k]);
		assert_string_equal(i->id, hub);
	}
	{
		_cleanup_image_info_ struct image_info *i = lookup_ok(f, "quay.io/org/tool:v2");
		assert_string_equal(i->id, q);
	}
	lookup_fails(f, "quay.io/org/tool", ENOENT, "No such image: quay.io/org/tool");
	lookup_fails(f, "busybox:1.35", ENOENT, "No such image: busybox:1.35");
	lookup_fails(f, "nope", ENOENT, "No such image: nope");

	/* localhost/NAME wins over docker.io/library/NAME for a short name. */
	char *nlocal[] = { "localhost/busybox:latest", NULL };
	commit_one(f, "local", "local\n", 3, nlocal, local);
	{
		_cleanup_image_info_ struct image_info *i = lookup_ok(f, "busybox");
		assert_string_equal(i->id, local);
	}
	{
		_cleanup_image_info_ struct image_info *i = lookup_ok(f, "docker.io/busybox");
		assert_string_equal(i->id, hub);
	}
}

/* ---- list, tag, untag ----------------------------------------------------- */

static void test_list_order(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	char old[DIGEST_HEX_LEN + 1], mid[DIGEST_HEX_LEN + 1], newer[DIGEST_HEX_LEN + 1];
	char *nmid[] = { "localhost/mid:b", "localhost/mid:a", NULL };
	char *nnew[] = { "localhost/new:latest", NULL };

	/* Committed out of order: the list follows "created", newest first. */
	commit_one(f, "m", "m\n", 10, nmid, mid);
	commit_one(f, "o", "o\n", 5, NULL, old);
	commit_one(f, "n", "n\n", 20, nnew, newer);
	struct image_info **list = NULL;
	size_t n = 0;
	assert_int_equal(store_image_list(f->s, &list, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[0]->id, newer);
	assert_string_equal(list[1]->id, mid);
	assert_string_equal(list[2]->id, old);
	assert_true(list[0]->created > list[1]->created);
	assert_true(list[1]->created > list[2]->created);
	assert_int_equal(strv_len(list[0]->names), 1);
	assert_string_equal(list[0]->names[0], "localhost/new:latest");
	assert_int_equal(strv_len(list[1]->names), 2);
	assert_string_equal(list[1]->names[0], "localhost/mid:a");
	assert_string_equal(list[1]->names[1], "localhost/mid:b");
	assert_int_equal(strv_len(list[2]->names), 0);
	assert_true(list[2]->size > 0);
	image_list_free(list, n);
}

static void test_tag_untag(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	char a[DIGEST_HEX_LEN + 1], b[DIGEST_HEX_LEN + 1];
	char *na[] = { "localhost/a:latest", NULL };

	commit_one(f, "a", "a\n", 1, na, a);
	commit_one(f, "b", "b\n", 2, NULL, b);
	assert_int_equal(store_image_tag(f->s, a, "localhost/extra:1", &e), 0);
	{
		_cleanup_image_info_ struct image_info *i = lookup_ok(f, "extra:1");
		assert_string_equal(i->id, a);
		assert_int_equal(strv_len(i->names), 2);
	}
	/* Tagging moves the name. */
	assert_int_equal(store_image_tag(f->s, b, "localhost/extra:1", &e), 0);
	{
		_cleanup_image_info_ struct image_info *i = lookup_ok(f, "extra:1");
		assert_string_equal(i->id, b);
		_cleanup_image_info_ struct image_info *ia = lookup_ok(f, a);
		assert_int_equal(strv_len(ia->names), 1);
	}
	/* Untag: only a name the image carries. */
	assert_int_equal(store_image_untag(f->s, a, "localhost/extra:1", &e), -ENOENT);
	assert_int_equal(e.code, ENOENT);
	assert_int_equal(store_image_untag(f->s, b, "localhost/extra:1", &e), 0);
	lookup_fails(f, "extra:1", ENOENT, "No such image: extra:1");
	assert_int_equal(store_image_untag(f->s, b, "localhost/extra:1", &e), -ENOENT);
	/* The image itself stays. */
	{
		_cleanup_image_info_ struct image_info *ib = lookup_ok(f, b);
		assert_int_equal(strv_len(ib->names), 0);
	}
	/* Tagging an image that does not exist. */
	char none[DIGEST_HEX_LEN + 1];
	memset(none, 'f', DIGEST_HEX_LEN);
	none[DIGEST_HEX_LEN] = '\0';
	assert_int_equal(store_image_tag(f->s, none, "localhost/x:1", &e), -ENOENT);
	lookup_fails(f, "x:1", ENOENT, NULL);
}

/* ---- remove and GC --------------------------------------------------------- */

static void test_remove_shared_base(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct store_tmp t = { 0 };
	struct staged_layer base = { 0 }, l1 = { 0 }, l2 = { 0 };
	char ia[DIGEST_HEX_LEN + 1], ib[DIGEST_HEX_LEN + 1];
	char *na[] = { "localhost/a:latest", "localhost/a:v1", NULL };
	char *nb[] = { "localhost/b:latest", NULL };

	assert_int_equal(store_tmp_create(f->s, &t, &e), 0);
	stage_file(f, &t, "base", "base\n", NULL, &base);
	stage_file(f, &t, "one", "one\n", base.chain_id, &l1);
	struct staged_layer la[2] = { base, l1 };
	commit(f, la, 2, 1, na, ia);
	char l1_blob_saved[DIGEST_STR_LEN + 1];
	snprintf(l1_blob_saved, sizeof(l1_blob_saved), "%s", l1.blob_digest);
	/* The base was moved into the store: stage it again for image b. */
	store_tmp_release(&t);
	staged_layer_release(&base);
	staged_layer_release(&l1);
	assert_int_equal(store_tmp_create(f->s, &t, &e), 0);
	stage_file(f, &t, "base", "base\n", NULL, &base);
	stage_file(f, &t, "two", "two\n", base.chain_id, &l2);
	struct staged_layer lb[2] = { base, l2 };
	commit(f, lb, 2, 2, nb, ib);
	assert_int_equal(count_entries(f, "layers"), 3);
	/* Two configs and each layer's compressed tar stream. */
	assert_int_equal(count_entries(f, "blobs/sha256"), 5);
	assert_true(store_blob_exists(f->s, base.blob_digest));
	assert_true(store_blob_exists(f->s, l2.blob_digest));
	char l1_blob[DIGEST_STR_LEN + 1];
	snprintf(l1_blob, sizeof(l1_blob), "%s", l1_blob_saved);
	assert_true(store_blob_exists(f->s, l1_blob));

	assert_int_equal(store_image_remove(f->s, ia, &e), 0);
	lookup_fails(f, ia, ENOENT, NULL);
	lookup_fails(f, "a", ENOENT, "No such image: a");
	lookup_fails(f, "a:v1", ENOENT, NULL);
	assert_int_equal(count_entries(f, "layers"), 2);
	_cleanup_free_ char *base_rel = xasprintf("layers/%s", digest_hex(base.chain_id));
	_cleanup_free_ char *l1_rel = xasprintf("layers/%s", digest_hex(l1.chain_id));
	_cleanup_free_ char *l2_rel = xasprintf("layers/%s", digest_hex(l2.chain_id));
	assert_true(sexists(f, base_rel));
	assert_false(sexists(f, l1_rel));
	assert_true(sexists(f, l2_rel));
	_cleanup_free_ char *cfga = xasprintf("sha256:%s", ia);
	_cleanup_free_ char *cfgb = xasprintf("sha256:%s", ib);
	assert_false(store_blob_exists(f->s, cfga));
	assert_true(store_blob_exists(f->s, cfgb));
	assert_false(store_blob_exists(f->s, l1_blob));
	assert_true(store_blob_exists(f->s, base.blob_digest));
	assert_int_equal(count_entries(f, "blobs/sha256"), 3);
	{
		_cleanup_image_info_ struct image_info *i = lookup_ok(f, "b");
		assert_int_equal(strv_len(i->layers), 2);
		assert_string_equal(i->diff_ids[0], base.diff_id);
	}

	assert_int_equal(store_image_remove(f->s, ib, &e), 0);
	assert_int_equal(count_entries(f, "layers"), 0);
	assert_int_equal(count_entries(f, "blobs/sha256"), 0);
	assert_int_equal(count_entries(f, "tmp"), 1); /* only t */
	struct image_info **list = NULL;
	size_t n = 9;
	assert_int_equal(store_image_list(f->s, &list, &n, &e), 0);
	assert_int_equal(n, 0);
	image_list_free(list, n);
	/* Removing it again. */
	assert_int_equal(store_image_remove(f->s, ib, &e), -ENOENT);
	/* The base can be committed again after its GC. */
	char ic[DIGEST_HEX_LEN + 1];
	commit(f, &base, 1, 3, NULL, ic);
	assert_true(sexists(f, base_rel));
	staged_layer_release(&base);
	staged_layer_release(&l2);
	store_tmp_release(&t);
}

/* ---- tmp/ and the lock ---------------------------------------------------- */

static void test_stale_tmp_removed(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_free_ char *stale = spath(f, "tmp/op-x/layer-1/diff");
	assert_int_equal(fs_mkdir_p(stale, 0700, &e), 0);
	_cleanup_free_ char *file = xasprintf("%s/file", stale);
	assert_int_equal(fs_write_atomic(file, "x", 1, 0644, &e), 0);
	store_close(f->s);
	f->s = open_store(f, 0);
	assert_false(sexists(f, "tmp/op-x"));
	assert_int_equal(count_entries(f, "tmp"), 0);
}

static void test_live_tmp_survives(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct store_tmp t = { 0 };
	_cleanup_free_ char *stale = spath(f, "tmp/op-stale");

	assert_int_equal(store_tmp_create(f->s, &t, &e), 0);
	assert_true(fs_exists(t.path));
	assert_int_equal(mkdir(stale, 0700), 0);
	/* Another store handle in this process: the flock on t is held by a
	 * different open file description, so t is in use. */
	struct store *s2 = open_store(f, 0);
	assert_true(fs_exists(t.path));
	assert_false(fs_exists(stale));
	store_close(s2);
	_cleanup_free_ char *path = xstrdup(t.path);
	store_tmp_release(&t);
	assert_false(fs_exists(path));
	assert_null(t.path);
	store_tmp_release(&t); /* twice is harmless */
}

/* Holds store.lock through an fd of our own. */
static int hold_lock(struct fx *f)
{
	_cleanup_free_ char *p = spath(f, "store.lock");
	int fd = open(p, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	return fd;
}

static void test_lock_timeout(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	char id[DIGEST_HEX_LEN + 1];
	commit_one(f, "f", "f\n", 1, NULL, id);

	store_close(f->s);
	f->s = open_store(f, 50);
	int fd = hold_lock(f);
	assert_int_equal(store_lock(f->s, &e), -ETIMEDOUT);
	assert_int_equal(e.code, ETIMEDOUT);
	assert_non_null(strstr(e.msg, "50 ms"));
	/* Mutations wait for it and give up too, changing nothing. */
	assert_int_equal(store_image_tag(f->s, id, "localhost/t:1", &e), -ETIMEDOUT);
	assert_int_equal(store_image_remove(f->s, id, &e), -ETIMEDOUT);
	struct store_tmp t = { 0 };
	assert_int_equal(store_tmp_create(f->s, &t, &e), -ETIMEDOUT);
	assert_null(t.path);
	/* Readers do not need it. */
	{
		_cleanup_image_info_ struct image_info *i = lookup_ok(f, id);
		assert_int_equal(strv_len(i->names), 0);
	}
	close(fd);
	/* Released: everything works again, and the lock is re-entrant. */
	assert_int_equal(store_lock(f->s, &e), 0);
	assert_int_equal(store_lock(f->s, &e), 0);
	store_unlock(f->s);
	store_unlock(f->s);
	assert_int_equal(store_image_tag(f->s, id, "localhost/t:1", &e), 0);
	fd = hold_lock(f); /* fully released after the two unlocks */
	close(fd);
}

/* ---- system check (check.c) ------------------------------------------- */

/* Runs the check; returns the number of problems, each line appended to
 * *lines ("\n"-separated) for the assertions. */
static size_t run_check(struct fx *f, bool quick, bool repair, char **lines)
{
	struct store_check_opts o = { .quick = quick, .repair = repair };
	struct store_check_report rep = { 0 };
	_cleanup_kerror_ struct kerror e = { 0 };
	struct buf b = { 0 };
	if (store_check(f->s, &o, &rep, &e) < 0)
		fail_msg("store_check: %s", e.msg);
	size_t n = rep.n;
	for (size_t i = 0; i < rep.n; i++) {
		buf_printf(&b, "%s\n", rep.problems[i]);
		if (repair)
			assert_true(rep.repaired[i]);
	}
	store_check_report_release(&rep);
	if (lines)
		*lines = b.data ? buf_steal(&b) : xstrdup("");
	else
		buf_release(&b);
	return n;
}

static void assert_clean(struct fx *f)
{
	_cleanup_free_ char *out = NULL;
	size_t n = run_check(f, false, false, &out);
	if (n)
		fail_msg("the store is not clean:\n%s", out);
}

/* Two one-layer images; ids of each and of their layers. */
static void two_images(struct fx *f, char a[DIGEST_HEX_LEN + 1], char b[DIGEST_HEX_LEN + 1],
		       char **la, char **lb)
{
	char *na[] = { (char *)"localhost/a:latest", NULL };
	char *nb[] = { (char *)"localhost/b:latest", NULL };
	commit_one(f, "a.txt", "aaa", 1, na, a);
	commit_one(f, "b.txt", "bbb", 2, nb, b);
	_cleanup_image_info_ struct image_info *ia = lookup_ok(f, a);
	_cleanup_image_info_ struct image_info *ib = lookup_ok(f, b);
	*la = xstrdup(ia->layers[0]);
	*lb = xstrdup(ib->layers[0]);
}

static char *layer_blob(struct fx *f, const char *layer)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	struct layer_info li = { 0 };
	assert_int_equal(store_layer_get(f->s, layer, &li, &e), 0);
	assert_non_null(li.blob_digest);
	char *p = xasprintf("blobs/sha256/%s", digest_hex(li.blob_digest));
	layer_info_release(&li);
	return p;
}

/* Appends garbage to the layer's blob; its path relative to the store. */
static char *corrupt_layer_blob(struct fx *f, const char *layer)
{
	char *rel = layer_blob(f, layer);
	_cleanup_free_ char *path = spath(f, rel);
	FILE *fp = fopen(path, "a");
	assert_non_null(fp);
	fputs("garbage", fp);
	fclose(fp);
	return rel;
}

static void test_check_clean(void **state)
{
	struct fx *f = *state;
	char a[DIGEST_HEX_LEN + 1], b[DIGEST_HEX_LEN + 1];
	_cleanup_free_ char *la = NULL, *lb = NULL;
	assert_clean(f);
	two_images(f, a, b, &la, &lb);
	assert_clean(f);
	assert_int_equal(run_check(f, true, false, NULL), 0);
	assert_int_equal(run_check(f, false, true, NULL), 0);
}

static void test_check_corrupt_blob(void **state)
{
	struct fx *f = *state;
	char a[DIGEST_HEX_LEN + 1], b[DIGEST_HEX_LEN + 1];
	_cleanup_free_ char *la = NULL, *lb = NULL, *out = NULL;
	two_images(f, a, b, &la, &lb);
	_cleanup_free_ char *rel = corrupt_layer_blob(f, la);
	/* --quick only checks existence. */
	assert_int_equal(run_check(f, true, false, NULL), 0);
	assert_true(run_check(f, false, false, &out) >= 2);
	assert_non_null(strstr(out, "is corrupt"));
	assert_non_null(strstr(out, a)); /* the image using it */
	assert_null(strstr(out, b));
	free(out);
	out = NULL;
	/* Repair removes the damaged image, leaves the sound one alone. */
	assert_true(run_check(f, false, true, NULL) >= 2);
	assert_clean(f);
	lookup_fails(f, "localhost/a", ENOENT, "No such image: localhost/a");
	_cleanup_image_info_ struct image_info *ib = lookup_ok(f, "localhost/b");
	assert_string_equal(ib->layers[0], lb);
	_cleanup_free_ char *ldir = xasprintf("layers/%s", la);
	assert_false(sexists(f, ldir));
	assert_false(sexists(f, rel));
}

static int count_unsynced(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int n = -1;
	assert_int_equal(sqlite3_prepare_v2(s->db, "SELECT count(*) FROM unsynced", -1, &st, NULL),
			 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* A row whose syncer is gone, for layer under mount. */
static void orphan_row(struct fx *f, const char *layer, const char *mount)
{
	_cleanup_free_ char *sql = xasprintf("INSERT INTO unsynced (batch, mount, layer) "
					     "VALUES ('dead', '%s', '%s')", mount, layer);
	assert_int_equal(sqlite3_exec(f->s->db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static void reopen(struct fx *f)
{
	store_close(f->s);
	f->s = open_store(f, 0);
}

/* Without a background syncer (a library user), a commit syncs before it
 * returns and leaves no rows. */
static void test_commit_syncs_inline(void **state)
{
	struct fx *f = *state;
	char a[DIGEST_HEX_LEN + 1], b[DIGEST_HEX_LEN + 1];
	_cleanup_free_ char *la = NULL, *lb = NULL;
	two_images(f, a, b, &la, &lb);
	assert_int_equal(count_unsynced(f->s), 0);
}

/* Rows nobody syncs: the next read-write open re-verifies their layers and
 * drops the damaged one with its image; the sound image stays. */
static void test_unsynced_recovered_at_open(void **state)
{
	struct fx *f = *state;
	char a[DIGEST_HEX_LEN + 1], b[DIGEST_HEX_LEN + 1];
	_cleanup_free_ char *la = NULL, *lb = NULL;
	two_images(f, a, b, &la, &lb);
	_cleanup_free_ char *rel = corrupt_layer_blob(f, la);
	orphan_row(f, la, "elsewhere");
	orphan_row(f, lb, "elsewhere");
	reopen(f);
	assert_int_equal(count_unsynced(f->s), 0);
	lookup_fails(f, "localhost/a", ENOENT, "No such image: localhost/a");
	_cleanup_image_info_ struct image_info *ib = lookup_ok(f, "localhost/b");
	assert_string_equal(ib->layers[0], lb);
	assert_clean(f);
}

/* While sync.lock is held shared (a syncer lives), the rows are its own:
 * an open leaves them; once it is gone, the next open recovers them. */
static void test_unsynced_left_while_syncer_lives(void **state)
{
	struct fx *f = *state;
	char a[DIGEST_HEX_LEN + 1], b[DIGEST_HEX_LEN + 1];
	_cleanup_free_ char *la = NULL, *lb = NULL;
	two_images(f, a, b, &la, &lb);
	orphan_row(f, la, "elsewhere");
	_cleanup_free_ char *lock = spath(f, "sync.lock");
	int fd = open(lock, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_SH), 0);
	reopen(f);
	assert_int_equal(count_unsynced(f->s), 1);
	close(fd);
	reopen(f);
	assert_int_equal(count_unsynced(f->s), 0);
	_cleanup_image_info_ struct image_info *ia = lookup_ok(f, "localhost/a");
	assert_clean(f);
}

static void test_check_rebuilds_layer_dir(void **state)
{
	struct fx *f = *state;
	char a[DIGEST_HEX_LEN + 1], b[DIGEST_HEX_LEN + 1];
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_free_ char *la = NULL, *lb = NULL, *out = NULL;
	two_images(f, a, b, &la, &lb);
	_cleanup_free_ char *ldir = xasprintf("layers/%s", la), *lpath = spath(f, ldir);
	assert_int_equal(fs_rm_rf(lpath, &e), 0);
	assert_int_equal(run_check(f, true, false, &out), 1);
	assert_non_null(strstr(out, "directory is missing"));
	assert_int_equal(run_check(f, true, true, NULL), 1);
	assert_clean(f);
	_cleanup_free_ char *file = xasprintf("%s/diff/a.txt", ldir);
	_cleanup_free_ char *text = file_text(f, file);
	assert_string_equal(text, "aaa");
	image_info_free(lookup_ok(f, "localhost/a"));
}

static void test_check_orphans(void **state)
{
	struct fx *f = *state;
	char a[DIGEST_HEX_LEN + 1], b[DIGEST_HEX_LEN + 1];
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_free_ char *la = NULL, *lb = NULL, *out = NULL;
	two_images(f, a, b, &la, &lb);
	_cleanup_free_ char *orphan = spath(f, "layers/0123456789abcdef/diff");
	_cleanup_free_ char *blob = spath(f, "blobs/sha256/"
					     "00000000000000000000000000000000000000000000000000000000"
					     "00000000");
	_cleanup_free_ char *ctr = spath(f, "containers/"
					    "1111111111111111111111111111111111111111111111111111111111"
					    "111111/upper");
	assert_int_equal(fs_mkdir_p(orphan, 0700, &e), 0);
	assert_int_equal(fs_mkdir_p(ctr, 0700, &e), 0);
	assert_int_equal(fs_write_atomic(blob, "x", 1, 0644, &e), 0);
	assert_int_equal(run_check(f, true, false, &out), 3);
	assert_non_null(strstr(out, "layers/0123456789abcdef: no layer record"));
	assert_non_null(strstr(out, "nothing references it"));
	assert_non_null(strstr(out, "no container record"));
	assert_int_equal(run_check(f, true, true, NULL), 3);
	assert_clean(f);
	assert_false(sexists(f, "layers/0123456789abcdef"));
	image_info_free(lookup_ok(f, "localhost/a"));
	image_info_free(lookup_ok(f, "localhost/b"));
}

static void test_check_dangling_container(void **state)
{
	struct fx *f = *state;
	char a[DIGEST_HEX_LEN + 1], b[DIGEST_HEX_LEN + 1];
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_free_ char *la = NULL, *lb = NULL, *out = NULL;
	two_images(f, a, b, &la, &lb);
	struct container_info ok = { .name = (char *)"ok", .image_name = (char *)"a",
				     .plan = (char *)"{}" };
	struct container_info bad = { .name = (char *)"bad", .image_name = (char *)"gone",
				      .plan = (char *)"{}" };
	memset(ok.id, '2', DIGEST_HEX_LEN);
	memset(bad.id, '3', DIGEST_HEX_LEN);
	snprintf(ok.image_id, sizeof(ok.image_id), "%s", a);
	memset(bad.image_id, 'e', DIGEST_HEX_LEN);
	assert_int_equal(store_container_create(f->s, &ok, &e), 0);
	/* Refused while the image is missing: made by hand, as a damaged
	 * store would hold it. */
	assert_int_equal(store_container_create(f->s, &bad, &e), -ENOENT);
	kerror_release(&e);
	_cleanup_free_ char *sql = xasprintf(
		"INSERT INTO containers (id, name, image_id, image_name, created, plan, state) "
		"VALUES ('%s', 'bad', '%s', 'gone', 0, '{}', 0)", bad.id, bad.image_id);
	assert_int_equal(db_exec(f->s, sql, &e), 0);
	assert_int_equal(run_check(f, false, false, &out), 1);
	assert_non_null(strstr(out, "container 3333"));
	assert_non_null(strstr(out, "is missing"));
	assert_int_equal(run_check(f, false, true, NULL), 1);
	assert_clean(f);
	_cleanup_container_info_ struct container_info *got = NULL;
	assert_int_equal(store_container_get(f->s, "ok", &got, &e), 0);
	assert_int_equal(store_container_get(f->s, "bad", &got, &e), -ENOENT);
}

static void test_check_missing_config(void **state)
{
	struct fx *f = *state;
	char a[DIGEST_HEX_LEN + 1], b[DIGEST_HEX_LEN + 1];
	_cleanup_free_ char *la = NULL, *lb = NULL, *out = NULL;
	two_images(f, a, b, &la, &lb);
	_cleanup_free_ char *cfg = xasprintf("blobs/sha256/%s", b), *p = spath(f, cfg);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(run_check(f, true, false, &out), 1);
	assert_non_null(strstr(out, "is missing"));
	assert_int_equal(run_check(f, true, true, NULL), 1);
	assert_clean(f);
	lookup_fails(f, "localhost/b", ENOENT, "No such image: localhost/b");
	image_info_free(lookup_ok(f, "localhost/a"));
	_cleanup_free_ char *ldir = xasprintf("layers/%s", lb);
	assert_false(sexists(f, ldir));
}

/* A crash between renaming a layer in and the transaction naming it: the
 * next store_open finds the dead tmp/ entry and sweeps the orphans. */
static void test_crash_leftovers_swept(void **state)
{
	struct fx *f = *state;
	char a[DIGEST_HEX_LEN + 1], b[DIGEST_HEX_LEN + 1];
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_free_ char *la = NULL, *lb = NULL;
	two_images(f, a, b, &la, &lb);
	_cleanup_free_ char *orphan = spath(f, "layers/feedface/diff");
	_cleanup_free_ char *dead = spath(f, "tmp/op-dead");
	assert_int_equal(fs_mkdir_p(orphan, 0700, &e), 0);
	assert_int_equal(mkdir(dead, 0700), 0);
	store_close(f->s);
	f->s = open_store(f, 0);
	assert_false(sexists(f, "layers/feedface"));
	assert_int_equal(count_entries(f, "tmp"), 0);
	assert_clean(f);
}

/* ---- networks and addresses ------------------------------------------------ */

static void attach(struct fx *f, const char *ctr, const char *net, uint32_t first,
		   uint32_t last, int want)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	struct net_attach a = { 0 };
	memset(a.ctr_id, 'a', DIGEST_HEX_LEN);
	memcpy(a.ctr_id, ctr, strlen(ctr));
	a.network = xstrdup(net);
	a.ifname = xstrdup("kvtest0");
	a.ctr_ifname = xstrdup("eth0");
	int r = store_net_attach(f->s, &a, first, last, &e);
	if (want < 0) {
		assert_int_equal(r, want);
	} else {
		if (r < 0)
			fail_msg("store_net_attach: %s", e.msg);
		assert_int_equal(a.ip, (uint32_t)want);
	}
	net_attach_release(&a);
}

static void test_networks_ipam(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct network_info n = { .name = "net1", .id = "0123456789abcdef", .driver = "bridge",
				  .bridge = "kiln1", .subnet = "10.91.1.0/24",
				  .gateway = "10.91.1.1", .dns = true, .created = 1 };
	struct network_info *got = NULL, **l = NULL;
	size_t cnt = 0;

	assert_int_equal(store_network_create(f->s, &n, &e), 0);
	assert_int_equal(store_network_create(f->s, &n, &e), -EEXIST);
	kerror_release(&e);
	assert_int_equal(store_network_get(f->s, "net1", &got, &e), 0);
	assert_string_equal(got->subnet, "10.91.1.0/24");
	assert_true(got->dns);
	network_info_free(got);
	assert_int_equal(store_network_get(f->s, "0123", &got, &e), 0); /* id prefix */
	network_info_free(got);
	assert_int_equal(store_network_get(f->s, "01", &got, &e), -ENOENT); /* too short */
	kerror_release(&e);

	/* Lowest free first; a released address is reused; the range ends. */
	attach(f, "c1", "net1", 2, 4, 2);
	attach(f, "c2", "net1", 2, 4, 3);
	attach(f, "c3", "net1", 2, 4, 4);
	attach(f, "c4", "net1", 2, 4, -ENOSPC);
	attach(f, "c4", "net2", 2, 4, 2); /* another network: its own range */
	assert_int_equal(store_net_detach(f->s, "c2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
					  NULL, &e), 0);
	attach(f, "c5", "net1", 2, 4, 3);
	struct net_attach *a = NULL;
	assert_int_equal(store_net_attach_list(f->s, NULL, "net1", &a, &cnt, &e), 0);
	assert_int_equal(cnt, 3);
	net_attach_list_free(a, cnt);
	assert_int_equal(store_net_attach_list(f->s, "c4aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
					       NULL, &a, &cnt, &e), 0);
	assert_int_equal(cnt, 1);
	assert_string_equal(a[0].network, "net2");
	net_attach_list_free(a, cnt);

	assert_int_equal(store_network_list(f->s, &l, &cnt, &e), 0);
	assert_int_equal(cnt, 1);
	network_list_free(l, cnt);
	assert_int_equal(store_network_remove(f->s, "net1", &e), 0);
	assert_int_equal(store_network_get(f->s, "net1", &got, &e), -ENOENT);
}

/* store_merge_dir both ways: a squash keeps whiteouts and opaque markers
 * (the result is a layer), a flatten applies them and shifts owners; both
 * copy modes, owners and xattrs other than overlay's. */
static int open_dir(struct fx *f, const char *rel)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", f->base, rel);
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void put(struct fx *f, const char *rel, const char *data)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", f->base, rel);
	_cleanup_kerror_ struct kerror e = { 0 };
	assert_int_equal(fs_write_atomic(p, data, strlen(data), 0644, &e), 0);
}

static bool there(struct fx *f, const char *rel, struct stat *st)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", f->base, rel);
	struct stat dummy;
	return lstat(p, st ? st : &dummy) == 0;
}

static void test_merge_dir(void **state)
{
	struct fx *f = *state;
	const char *opq = fs_in_user_namespace() ? "user.overlay.opaque" : "trusted.overlay.opaque";
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_free_ char *wh = xasprintf("%s/up/w", f->base);
	_cleanup_free_ char *ufile = xasprintf("%s/up/f", f->base);
	_cleanup_free_ char *ua = xasprintf("%s/up/a", f->base);
	bool xattrs;
	struct stat st;
	char v[8];

	if (geteuid() != 0)
		skip(); /* whiteouts, trusted xattrs and owners need root */
	for (const char *d = "low\0low/a\0low/b\0up\0up/a\0keep\0flat\0"; *d; d += strlen(d) + 1) {
		_cleanup_free_ char *p = xasprintf("%s/%s", f->base, d);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	put(f, "low/a/old", "old");
	put(f, "low/b/x", "x");
	put(f, "low/w", "hidden");
	put(f, "up/a/new", "new");
	put(f, "up/f", "f");
	assert_int_equal(mknod(wh, S_IFCHR | 0000, makedev(0, 0)), 0);
	assert_int_equal(setxattr(ua, opq, "y", 1, 0), 0);
	assert_int_equal(chown(ufile, 1234, 1234), 0);
	assert_int_equal(chmod(ufile, 0640), 0);
	xattrs = setxattr(ufile, "user.kiln", "v", 1, 0) == 0;
	/* cap_net_bind_service+ep (VFS_CAP_REVISION_2): lost if chowned after. */
	const unsigned char cap[20] = { 0x01, 0, 0, 0x02, 0x00, 0x04 };
	assert_int_equal(setxattr(ufile, "security.capability", cap, sizeof(cap), 0), 0);

	/* A squash: the result still hides what is below it. */
	const struct store_merge_opts keep = { .keep_whiteouts = true };
	{
		_cleanup_close_ int low = open_dir(f, "low"), up = open_dir(f, "up");
		_cleanup_close_ int dst = open_dir(f, "keep");
		assert_int_equal(store_merge_dir(low, dst, &keep, &e), 0);
		assert_int_equal(store_merge_dir(up, dst, &keep, &e), 0);
	}
	assert_false(there(f, "keep/a/old", NULL));
	assert_true(there(f, "keep/a/new", NULL));
	assert_true(there(f, "keep/b/x", NULL));
	_cleanup_free_ char *ka = xasprintf("%s/keep/a", f->base);
	assert_int_equal(getxattr(ka, opq, v, sizeof(v)), 1);
	assert_true(there(f, "keep/w", &st));
	assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
	assert_true(there(f, "keep/f", &st));
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_mode & 07777, 0640);
	_cleanup_free_ char *kf = xasprintf("%s/keep/f", f->base);
	if (xattrs)
		assert_int_equal(getxattr(kf, "user.kiln", v, sizeof(v)), 1);
	unsigned char got[32];
	assert_int_equal(getxattr(kf, "security.capability", got, sizeof(got)), 20);
	assert_memory_equal(got, cap, sizeof(cap));

	/* A flatten: whiteouts and markers applied, owners shifted. */
	const struct id_shift ids = { 0, 100000, 65536 };
	const struct store_merge_opts flat = { .lenient = true, .uids = &ids, .n_uids = 1,
					       .gids = &ids, .n_gids = 1 };
	{
		_cleanup_close_ int low = open_dir(f, "low"), up = open_dir(f, "up");
		_cleanup_close_ int dst = open_dir(f, "flat");
		assert_int_equal(store_merge_dir(low, dst, &flat, &e), 0);
		assert_int_equal(store_merge_dir(up, dst, &flat, &e), 0);
	}
	assert_false(there(f, "flat/a/old", NULL));
	assert_true(there(f, "flat/a/new", &st));
	assert_int_equal(st.st_uid, 100000);
	assert_false(there(f, "flat/w", NULL));
	_cleanup_free_ char *fa = xasprintf("%s/flat/a", f->base);
	assert_true(getxattr(fa, opq, v, sizeof(v)) < 0);
	assert_true(there(f, "flat/f", &st));
	assert_int_equal(st.st_uid, 101234);
	assert_int_equal(st.st_gid, 101234);
	_cleanup_free_ char *ff = xasprintf("%s/flat/f", f->base);
	assert_int_equal(getxattr(ff, "security.capability", got, sizeof(got)), 20);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_open_layout),
		T(test_open_bad_driver),
		T(test_schema_version),
		T(test_wal_bounded),
		T(test_blob_roundtrip),
		T(test_blob_put_wrong_digest),
		T(test_blob_get_corrupt),
		T(test_stage_diff_id_plain),
		T(test_stage_diff_id_gzip),
		T(test_stage_diff_id_trailing_padding),
		T(test_stage_chain_id),
		T(test_stage_rejects_garbage),
		T(test_commit_one_layer),
		T(test_commit_two_layers),
		T(test_commit_with_manifest),
		T(test_signatures),
		T(test_commit_moves_names),
		T(test_commit_reuses_layer),
		T(test_commit_config_mismatch),
		T(test_commit_chain_mismatch),
		T(test_commit_replaces_orphan_dir),
		T(test_layer_tar_stream_kept),
		T(test_lookup_by_id),
		T(test_lookup_bad_ids),
		T(test_lookup_ambiguous_prefix),
		T(test_lookup_by_name),
		T(test_list_order),
		T(test_tag_untag),
		T(test_remove_shared_base),
		T(test_stale_tmp_removed),
		T(test_live_tmp_survives),
		T(test_lock_timeout),
		T(test_check_clean),
		T(test_check_corrupt_blob),
		T(test_commit_syncs_inline),
		T(test_unsynced_recovered_at_open),
		T(test_unsynced_left_while_syncer_lives),
		T(test_check_rebuilds_layer_dir),
		T(test_check_orphans),
		T(test_check_dangling_container),
		T(test_check_missing_config),
		T(test_crash_leftovers_swept),
		T(test_networks_ipam),
		T(test_merge_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
