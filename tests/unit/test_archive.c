/* Unit tests for kiln save/load (storage/archive_*.c): path cleaning, hostile
 * archives refused before anything is stored, the classic docker layout with
 * symlinked layers, name normalisation, and a save → load round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "storage/archive_load.h"
#include "storage/storage.h"

#include "tests/unit/store_fixture.h"

/* ---- building archives in memory ----------------------------------------- */

enum { REG, SYM, HARD };
struct ent {
	int type;
	const char *name;
	const char *data; /* REG: contents; SYM/HARD: target */
	size_t len;       /* REG: 0 = strlen(data) */
};

static void tar_build(struct buf *out, const struct ent *ents, size_t n)
{
	struct archive *a = archive_write_new();
	size_t cap = 8 << 20, used = 0;
	char *mem = xmalloc(cap);

	archive_write_set_format_pax_restricted(a);
	archive_write_set_bytes_in_last_block(a, 1);
	assert_int_equal(archive_write_open_memory(a, mem, cap, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		size_t len = ents[i].len ? ents[i].len : strlen(ents[i].data);
		archive_entry_set_pathname(e, ents[i].name);
		archive_entry_set_perm(e, 0644);
		if (ents[i].type == REG) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)len);
		} else if (ents[i].type == SYM) {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, ents[i].data);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, ents[i].data);
		}
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (ents[i].type == REG)
			assert_int_equal(archive_write_data(a, ents[i].data, len), (la_ssize_t)len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	buf_append(out, mem, used);
	free(mem);
}

/* A layer tar holding one file. */
static void layer_tar(struct buf *out)
{
	struct ent e[] = { { REG, "hello.txt", "hello, world\n", 0 } };
	tar_build(out, e, 1);
}

static int load_bytes(struct fx *f, const struct buf *b, struct loaded_image **out, size_t *n,
		      struct kerror *e)
{
	FILE *tmp = tmpfile();
	int fd, r;
	assert_non_null(tmp);
	fd = fileno(tmp);
	assert_int_equal(fs_write_all(fd, b->data, b->len), 0);
	lseek(fd, 0, SEEK_SET);
	r = store_archive_load_fd(f->s, fd, out, n, e);
	fclose(tmp);
	return r;
}

static size_t image_count(struct fx *f)
{
	struct image_info **list = NULL;
	size_t n = 0;
	_cleanup_kerror_ struct kerror e = { 0 };
	assert_int_equal(store_image_list(f->s, &list, &n, &e), 0);
	image_list_free(list, n);
	return n;
}

/* Loads entries and expects an error containing want, nothing stored. */
static void expect_refused(struct fx *f, const struct ent *ents, size_t n, const char *want)
{
	struct buf b = { 0 };
	struct loaded_image *l = NULL;
	size_t nl = 0;
	_cleanup_kerror_ struct kerror e = { 0 };

	tar_build(&b, ents, n);
	assert_true(load_bytes(f, &b, &l, &nl, &e) < 0);
	if (!e.msg || !strstr(e.msg, want))
		fail_msg("expected \"%s\", got \"%s\"", want, e.msg ? e.msg : "(none)");
	assert_int_equal(nl, 0);
	assert_int_equal(image_count(f), 0);
	loaded_images_free(l, nl);
	buf_release(&b);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_path_clean(void **state)
{
	static const struct {
		const char *base, *path, *want;
	} cases[] = {
		{ NULL, "manifest.json", "manifest.json" },
		{ NULL, "./blobs//sha256/./x", "blobs/sha256/x" },
		{ NULL, "/etc/passwd", NULL },
		{ NULL, "../x", NULL },
		{ NULL, "a/../b", NULL },
		{ NULL, "", NULL },
		{ NULL, ".", NULL },
		{ "v1/layer.tar", "../abc.tar", "abc.tar" },
		{ "v1/layer.tar", "../../abc.tar", NULL },
		{ "layer.tar", "../abc.tar", NULL },
		{ "a/b/c", "/x/y", "x/y" },
		{ "a/b/c", "d", "a/b/d" },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *got = archive_path_clean(cases[i].base, cases[i].path);
		if (!cases[i].want)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].want);
	}
}

static void test_format_parse(void **state)
{
	enum archive_format fmt;
	_cleanup_kerror_ struct kerror e = { 0 };
	(void)state;
	assert_int_equal(archive_format_parse("oci-archive", &fmt, &e), 0);
	assert_int_equal(fmt, ARCHIVE_OCI);
	assert_int_equal(archive_format_parse("docker-dir", &fmt, &e), 0);
	assert_true(archive_format_is_dir(fmt));
	assert_int_equal(archive_format_parse("tar", &fmt, &e), -EINVAL);
}

/* A classic docker-archive: config by name, layer.tar a symlink. */
static void classic(struct buf *out, const char *config_diff, const char *repotags)
{
	struct buf layer = { 0 };
	char diff[DIGEST_STR_LEN + 1];
	_cleanup_free_ char *cfg = NULL, *manifest = NULL, *layer_name = NULL, *target = NULL;

	layer_tar(&layer);
	digest_bytes(layer.data, layer.len, diff);
	cfg = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
			"\"layers\",\"diff_ids\":[\"%s\"]}}",
			config_diff ? config_diff : diff);
	manifest = xasprintf("[{\"Config\":\"cfg.json\",\"RepoTags\":%s,\"Layers\":"
			     "[\"v1/layer.tar\"]}]",
			     repotags);
	layer_name = xasprintf("%s.tar", digest_hex(diff));
	target = xasprintf("../%s", layer_name);
	{
		struct ent e[] = {
			{ REG, layer_name, layer.data, layer.len },
			{ SYM, "v1/layer.tar", target, 0 },
			{ REG, "cfg.json", cfg, 0 },
			{ REG, "manifest.json", manifest, 0 },
		};
		tar_build(out, e, ARRAY_SIZE(e));
	}
	buf_release(&layer);
}

static void test_classic_layout(void **state)
{
	struct fx *f = *state;
	struct buf b = { 0 };
	struct loaded_image *l = NULL;
	size_t n = 0;
	_cleanup_kerror_ struct kerror e = { 0 };

	classic(&b, NULL, "[\"busybox:latest\",\"busybox\",\"quay.io/x/y:1\"]");
	if (load_bytes(f, &b, &l, &n, &e) < 0)
		fail_msg("load: %s", e.msg);
	assert_int_equal(n, 1);
	assert_int_equal(strv_len(l[0].names), 2); /* busybox == busybox:latest */
	assert_string_equal(l[0].names[0], "docker.io/library/busybox:latest");
	assert_string_equal(l[0].names[1], "quay.io/x/y:1");
	assert_int_equal(image_count(f), 1);
	loaded_images_free(l, n);
	buf_release(&b);
}

static void test_diff_id_mismatch(void **state)
{
	struct fx *f = *state;
	struct buf b = { 0 };
	struct loaded_image *l = NULL;
	size_t n = 0;
	_cleanup_kerror_ struct kerror e = { 0 };
	char other[DIGEST_STR_LEN + 1];

	digest_bytes("x", 1, other);
	classic(&b, other, "null");
	assert_int_equal(load_bytes(f, &b, &l, &n, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "the archive is corrupt"));
	assert_int_equal(image_count(f), 0);
	loaded_images_free(l, n);
	buf_release(&b);
}

static void test_hostile(void **state)
{
	struct fx *f = *state;
	char d[DIGEST_STR_LEN + 1];
	_cleanup_free_ char *blob = NULL, *big = NULL;

	{
		struct ent e[] = { { HARD, "a", "../etc/passwd", 0 } };
		expect_refused(f, e, 1, "points outside the archive");
	}
	{
		struct ent e[] = { { REG, "/manifest.json", "[]", 0 } };
		expect_refused(f, e, 1, "invalid path");
	}
	{
		struct ent e[] = { { REG, "x", "1", 0 }, { REG, "./x", "2", 0 } };
		expect_refused(f, e, 2, "appears twice");
	}
	{
		struct ent e[] = { { REG, "manifest.json",
				     "[{\"Config\":\"nope.json\",\"Layers\":[]}]", 0 } };
		expect_refused(f, e, 1, "config \"nope.json\" is missing");
	}
	{
		struct ent e[] = { { SYM, "a", "b", 0 },
				   { SYM, "b", "a", 0 },
				   { REG, "manifest.json", "[{\"Config\":\"a\",\"Layers\":[]}]", 0 } };
		expect_refused(f, e, 3, "config \"a\" is missing");
	}
	{
		struct ent e[] = { { REG, "manifest.json", "{\"a\":1,\"a\":2}", 0 } };
		expect_refused(f, e, 1, "manifest.json");
	}
	{
		struct ent e[] = { { REG, "oci-layout", "{}", 0 } };
		expect_refused(f, e, 1, "neither manifest.json nor index.json");
	}
	/* A blob whose name is not its digest. */
	digest_bytes("other", 5, d);
	blob = xasprintf("blobs/sha256/%s", digest_hex(d));
	{
		struct ent e[] = { { REG, blob, "{\"x\":1}", 0 } };
		expect_refused(f, e, 1, "the archive is corrupt");
	}
	/* A manifest.json over the cap. */
	big = xmalloc(ARCHIVE_META_MAX + 16);
	memset(big, ' ', ARCHIVE_META_MAX + 15);
	big[0] = '[';
	big[ARCHIVE_META_MAX + 14] = ']';
	big[ARCHIVE_META_MAX + 15] = 0;
	{
		struct ent e[] = { { REG, "manifest.json", big, 0 } };
		expect_refused(f, e, 1, "manifest.json");
	}
}

static void test_save_load_round_trip(void **state)
{
	struct fx *f = *state;
	struct buf layer = { 0 };
	struct staged_layer sl = { 0 };
	struct store_tmp t = { 0 };
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_free_ char *cfg = NULL;
	char id[DIGEST_HEX_LEN + 1], id2[DIGEST_HEX_LEN + 1];
	char *names[] = { "docker.io/library/rt:1", NULL };
	char *save[] = { "rt:1", NULL };
	struct loaded_image *l = NULL;
	size_t n = 0;
	FILE *tmp = tmpfile();
	int pfd[2];

	/* import a one-layer image */
	layer_tar(&layer);
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(fs_write_all(pfd[1], layer.data, layer.len), 0);
	close(pfd[1]);
	assert_int_equal(store_tmp_create(f->s, &t, &e), 0);
	if (store_stage_layer(f->s, &t, pfd[0], NULL, &sl, &e) < 0)
		fail_msg("stage: %s", e.msg);
	close(pfd[0]);
	cfg = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
			"\"layers\",\"diff_ids\":[\"%s\"]}}",
			sl.diff_id);
	{
		struct image_commit ic = { .config = cfg, .config_len = strlen(cfg),
					   .layers = &sl, .n_layers = 1, .names = names };
		if (store_image_commit(f->s, &ic, id, &e) < 0)
			fail_msg("commit: %s", e.msg);
	}
	staged_layer_release(&sl);
	store_tmp_release(&t);

	/* save, remove, load */
	for (enum archive_format fmt = ARCHIVE_DOCKER; fmt <= ARCHIVE_OCI; fmt++) {
		assert_int_equal(ftruncate(fileno(tmp), 0), 0);
		lseek(fileno(tmp), 0, SEEK_SET);
		if (store_archive_save_fd(f->s, save, fmt, fileno(tmp), &e) < 0)
			fail_msg("save: %s", e.msg);
		assert_int_equal(store_image_remove(f->s, id, &e), 0);
		lseek(fileno(tmp), 0, SEEK_SET);
		if (store_archive_load_fd(f->s, fileno(tmp), &l, &n, &e) < 0)
			fail_msg("load: %s", e.msg);
		assert_int_equal(n, 1);
		snprintf(id2, sizeof(id2), "%s", l[0].id);
		assert_string_equal(id2, id);
		assert_string_equal(l[0].names[0], "docker.io/library/rt:1");
		loaded_images_free(l, n);
	}
	assert_int_equal(store_archive_save_fd(f->s, save, ARCHIVE_OCI_DIR, fileno(tmp), &e),
			 -EINVAL);
	fclose(tmp);
	buf_release(&layer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_clean),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test_setup_teardown(test_classic_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diff_id_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_load_round_trip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
