/* kiln's tar writer: what it writes, libarchive reads back the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <string.h>

#include "storage/storage.h"

static int to_buf(void *ctx, const void *data, size_t n, struct kerror *e)
{
	(void)e;
	buf_append(ctx, data, n);
	return 0;
}

static struct archive *reader(struct buf *b)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, b->data, b->len), ARCHIVE_OK);
	return a;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct buf out = { 0 };
	struct tar_writer w = { .sink = to_buf, .ctx = &out };
	struct kerror e = { 0 };
	char longname[300];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memcpy(longname, "dir/", 4);
	const char bin[] = { 'a', 0, 'b' };
	struct tar_xattr xa[] = { { "user.k", bin, sizeof(bin) }, { NULL, NULL, 0 } };
	struct tar_entry d = { .name = "dir/", .type = TAR_DIR, .mode = 0755 };
	struct tar_entry f = { .name = longname, .type = TAR_REG, .mode = 04755, .uid = 1000,
			       .gid = 50, .mtime = 1700000000, .size = 5, .xattrs = xa };
	struct tar_entry s = { .name = "dir/link", .type = TAR_SYMLINK, .mode = 0777,
			       .link = "../target" };
	struct tar_entry h = { .name = "dir/hard", .type = TAR_HARDLINK, .mode = 0644,
			       .link = longname };

	assert_int_equal(tar_writer_add(&w, &d, &e), 0);
	assert_int_equal(tar_writer_add(&w, &f, &e), 0);
	/* A new entry before the data is complete is refused. */
	assert_true(tar_writer_add(&w, &s, &e) < 0);
	assert_int_equal(tar_writer_data(&w, "hel", 3, &e), 0);
	assert_int_equal(tar_writer_data(&w, "lo", 2, &e), 0);
	assert_true(tar_writer_data(&w, "x", 1, &e) < 0);
	assert_int_equal(tar_writer_add(&w, &s, &e), 0);
	assert_int_equal(tar_writer_add(&w, &h, &e), 0);
	assert_int_equal(tar_writer_close(&w, &e), 0);
	assert_int_equal(out.len % 512, 0);
	assert_int_equal(w.written, out.len);

	struct archive *a = reader(&out);
	struct archive_entry *ent;
	char data[16];
	assert_int_equal(archive_read_next_header(a, &ent), ARCHIVE_OK);
	assert_string_equal(archive_entry_pathname(ent), "dir/");
	assert_int_equal(archive_entry_filetype(ent), AE_IFDIR);
	assert_int_equal(archive_read_next_header(a, &ent), ARCHIVE_OK);
	assert_string_equal(archive_entry_pathname(ent), longname);
	assert_int_equal(archive_entry_perm(ent), 04755);
	assert_int_equal(archive_entry_uid(ent), 1000);
	assert_int_equal(archive_entry_gid(ent), 50);
	assert_int_equal(archive_entry_mtime(ent), 1700000000);
	assert_int_equal(archive_entry_size(ent), 5);
	const char *xn;
	const void *xv;
	size_t xl;
	assert_int_equal(archive_entry_xattr_reset(ent), 1);
	assert_int_equal(archive_entry_xattr_next(ent, &xn, &xv, &xl), ARCHIVE_OK);
	assert_string_equal(xn, "user.k");
	assert_int_equal(xl, 3);
	assert_memory_equal(xv, bin, 3);
	assert_int_equal(archive_read_data(a, data, sizeof(data)), 5);
	assert_memory_equal(data, "hello", 5);
	assert_int_equal(archive_read_next_header(a, &ent), ARCHIVE_OK);
	assert_string_equal(archive_entry_symlink(ent), "../target");
	assert_int_equal(archive_read_next_header(a, &ent), ARCHIVE_OK);
	assert_string_equal(archive_entry_hardlink(ent), longname);
	assert_int_equal(archive_read_next_header(a, &ent), ARCHIVE_EOF);
	archive_read_free(a);
	buf_release(&out);
	kerror_release(&e);
}

static void test_deterministic_and_truncated(void **state)
{
	(void)state;
	struct buf a = { 0 }, b = { 0 };
	struct kerror e = { 0 };
	for (int i = 0; i < 2; i++) {
		struct tar_writer w = { .sink = to_buf, .ctx = i ? &b : &a };
		struct tar_entry f = { .name = "f", .type = TAR_REG, .mode = 0644, .size = 3 };
		assert_int_equal(tar_writer_add(&w, &f, &e), 0);
		assert_int_equal(tar_writer_data(&w, "abc", 3, &e), 0);
		assert_int_equal(tar_writer_close(&w, &e), 0);
	}
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_int_equal(a.len, 512 * 4); /* header, data block, two zero blocks */

	struct tar_writer w = { .sink = to_buf, .ctx = &a };
	struct tar_entry f = { .name = "g", .type = TAR_REG, .mode = 0644, .size = 10 };
	assert_int_equal(tar_writer_add(&w, &f, &e), 0);
	assert_int_equal(tar_writer_data(&w, "abc", 3, &e), 0);
	assert_true(tar_writer_close(&w, &e) < 0);
	assert_non_null(strstr(e.msg, "cut short"));
	buf_release(&a);
	buf_release(&b);
	kerror_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_deterministic_and_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
