/* Unit tests for common/: errors, digests, atomic writes, formats, the
 * on-demand library loader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "common/common.h"

static void test_error_wrap(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	assert_int_equal(kerror_set(&e, ENOENT, "blob %s missing", "x"), -ENOENT);
	assert_int_equal(kerror_wrap(&e, "pulling \"%s\"", "busybox"), -ENOENT);
	assert_string_equal(e.msg, "pulling \"busybox\": blob x missing");
	assert_int_equal(kerror_sys(&e, EACCES, "opening \"%s\"", "f"), -EACCES);
	assert_string_equal(e.msg, "opening \"f\": Permission denied");
	/* Control bytes from untrusted names cannot reach the terminal. */
	kerror_set(&e, EINVAL, "unknown instruction: %s", "\x1b]0;pwned\x07\x7f");
	assert_string_equal(e.msg, "unknown instruction: \\x1b]0;pwned\\x07\\x7f");
	kerror_wrap(&e, "entry \"%s\"", "a\rb");
	assert_string_equal(e.msg, "entry \"a\\x0db\": unknown instruction: \\x1b]0;pwned\\x07\\x7f");
	kerror_set(&e, EINVAL, "usage\n\tline");
	assert_string_equal(e.msg, "usage\n\tline");
	kerror_release(&e);
	assert_null(e.msg);
	assert_int_equal(kerror_set(&e, 0, "x"), -EINVAL);
	kerror_release(&e);
}

static void test_digest(void **state)
{
	(void)state;
	char d[DIGEST_STR_LEN + 1];
	digest_bytes("{}", 2, d);
	assert_string_equal(d, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
	assert_true(digest_valid(d));
	assert_true(digest_is_sha256(d));
	assert_false(digest_valid("sha256:44136FA355B3678A1146AD16F7E8649E94FB4FC21FE77E8310C060F61CAAFF8A"));
	assert_false(digest_valid("sha256:../../etc/passwd"));
	assert_false(digest_valid("sha256:"));
	assert_false(digest_valid(":abc"));
	assert_false(digest_valid("sha256"));
	assert_true(digest_valid("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"));
	assert_false(digest_valid("sha256+:abc"));
	assert_false(digest_valid("a/b:abc"));
	/* ChainID: sha256("<parent> <diff>") */
	char c[DIGEST_STR_LEN + 1], expect[DIGEST_STR_LEN + 1];
	_cleanup_free_ char *s = xasprintf("%s %s", d, d);
	digest_chain(d, d, c);
	digest_bytes(s, strlen(s), expect);
	assert_string_equal(c, expect);
	digest_chain(NULL, d, c);
	assert_string_equal(c, d);
}

static void test_atomic_write(void **state)
{
	(void)state;
	char dir[] = "/tmp/kiln-test-XXXXXX";
	struct kerror e = { 0 };
	char *data = NULL;
	size_t len = 0;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	_cleanup_free_ char *p = xasprintf("%s/a/b/file", dir);
	_cleanup_free_ char *sub = xasprintf("%s/a/b", dir);
	assert_int_equal(fs_mkdir_p(sub, 0755, &e), 0);
	assert_int_equal(fs_write_atomic(p, "hello", 5, 0640, &e), 0);
	assert_int_equal(fs_read_file(p, 100, &data, &len, &e), 0);
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello");
	free(data);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_true(fs_read_file(p, 3, &data, &len, &e) == -EFBIG);
	assert_non_null(strstr(e.msg, "larger than 3 bytes"));
	assert_int_equal(fs_rm_rf(dir, &e), 0);
	assert_false(fs_exists(dir));
	assert_int_equal(fs_rm_rf(dir, &e), 0);
	kerror_release(&e);
}

static void test_formats(void **state)
{
	(void)state;
	char b[64];
	format_size(0, b, sizeof(b));
	assert_string_equal(b, "0B");
	format_size(4261036, b, sizeof(b));
	assert_string_equal(b, "4.26MB");
	format_size(999999, b, sizeof(b));
	assert_string_equal(b, "1e+03kB");
	format_size(1000, b, sizeof(b));
	assert_string_equal(b, "1kB");
	format_age(100, 100 + 7200, b, sizeof(b));
	assert_string_equal(b, "2 hours ago");
	format_age(100, 100 + 30, b, sizeof(b));
	assert_string_equal(b, "30 seconds ago");
	format_rfc3339(0, 0, b, sizeof(b));
	assert_string_equal(b, "1970-01-01T00:00:00Z");
	format_rfc3339(1, 500000000, b, sizeof(b));
	assert_string_equal(b, "1970-01-01T00:00:01.5Z");
	int64_t sec;
	long ns;
	assert_int_equal(parse_rfc3339("2024-01-02T03:04:05.25+01:00", &sec, &ns), 0);
	assert_int_equal(sec, 1704161045);
	assert_int_equal(ns, 250000000);
	assert_int_equal(parse_rfc3339("2024-01-02 03:04:05", &sec, &ns), -1);
}

static void test_json(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	_cleanup_json_ json_t *j = NULL;
	assert_true(json_parse("{\"a\":1,\"a\":2}", 13, &j, &e) < 0);
	assert_non_null(strstr(e.msg, "duplicate"));
	assert_int_equal(json_parse("{\"b\":[\"x\",\"y\"],\"a\":1}", 21, &j, &e), 0);
	_cleanup_free_ char *s = json_dump_compact(j);
	assert_string_equal(s, "{\"b\":[\"x\",\"y\"],\"a\":1}");
	_cleanup_strv_ char **v = json_strv(json_object_get(j, "b"));
	assert_int_equal(strv_len(v), 2);
	assert_string_equal(v[1], "y");
	assert_int_equal(json_int(j, "a", 0), 1);
	assert_null(json_str(j, "a"));
	kerror_release(&e);
}

static void test_log_level(void **state)
{
	(void)state;
	enum log_level l;
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_DEBUG);
	assert_int_equal(log_level_parse("WARNING", &l), 0);
	assert_int_equal(l, LOG_WARN);
	assert_int_equal(log_level_parse("loud", &l), -EINVAL);
}

/* The loader behind the dlopen shims, over zlib (present wherever kiln
 * builds): a fallback name, calls through the loaded pointers, the messages
 * naming a missing library or symbol, once-only under threads. */
#define ZLIB_FUNCS(X)                                                                       \
	X(const char *, Version, (void))                                                   \
	X(unsigned long, CompileFlags, (void))
DLIB_SHIM("libz", "zlib", ZLIB_FUNCS, "libkiln-no-such.so.9", "libz.so.1");

static void *load_in_thread(void *arg)
{
	return dlib_load(arg) ? (void *)api.Version : NULL;
}

static void test_dlib(void **state)
{
	(void)state;
	pthread_t t[8];
	void *got[8];
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		assert_int_equal(pthread_create(&t[i], NULL, load_in_thread, &lib), 0);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		assert_int_equal(pthread_join(t[i], &got[i]), 0);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		assert_ptr_equal(got[i], (void *)api.Version);
	assert_string_equal(dlib_error(&lib), "");
	assert_string_equal(api.Version(), zlibVersion());
	assert_int_equal(api.CompileFlags(), zlibCompileFlags());

	static void *slot_a, *slot_b;
	static const struct dlib_sym lacking[] = { { "zlibVersion", &slot_a },
						   { "no_such_symbol", &slot_b } };
	static const char *const zlib_only[] = { "libz.so.1", NULL };
	static struct dlib partial = DLIB_INIT("libz", "", zlib_only, lacking);
	struct kerror e = { 0 };
	assert_false(dlib_load(&partial));
	assert_string_equal(dlib_error(&partial), "libz lacks no_such_symbol");
	/* No slot is left pointing into the unloaded library. */
	assert_null(slot_a);
	assert_null(slot_b);
	assert_int_equal(dlib_require(&partial, &e), -ENOSYS);
	assert_string_equal(e.msg, "libz lacks no_such_symbol");

	static const char *const absent[] = { "libkiln-no-such.so.9", "libkiln-no-such.so.8", NULL };
	static struct dlib missing = DLIB_INIT("libkiln-no-such", NULL, absent, lacking);
	assert_false(dlib_load(&missing));
	/* The first name's reason is the one given. */
	assert_non_null(strstr(dlib_error(&missing),
			       "loading libkiln-no-such: libkiln-no-such.so.9: "));
	assert_false(dlib_load(&missing));
	kerror_release(&e);
}

/* Opening below a root: "..", absolute names and symlinks stay inside. */
static void test_open_in_root(void **state)
{
	(void)state;
	char base[] = "/tmp/kiln-inroot-XXXXXX";
	struct kerror e = { 0 };
	assert_non_null(mkdtemp(base));
	_cleanup_free_ char *f = xasprintf("%s/f", base), *l = xasprintf("%s/up", base);
	_cleanup_free_ char *abs = xasprintf("%s/abs", base);
	assert_int_equal(fs_write_atomic(f, "inside", 6, 0644, &e), 0);
	assert_int_equal(symlink("../../../..", l), 0);
	assert_int_equal(symlink("/f", abs), 0);
	_cleanup_close_ int root = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);

	_cleanup_free_ char *a = fs_read_in_root(root, "up/f", 100);
	_cleanup_free_ char *b = fs_read_in_root(root, "abs", 100);
	_cleanup_free_ char *c = fs_read_in_root(root, "../../f", 100);
	assert_string_equal(a, "inside");
	assert_string_equal(b, "inside");
	assert_string_equal(c, "inside");
	assert_null(fs_read_in_root(root, "f", 3)); /* larger than max */
	assert_null(fs_read_in_root(root, "up/etc/passwd", 1 << 20));
	_cleanup_close_ int self = fs_open_in_root(root, "", O_RDONLY | O_DIRECTORY);
	assert_true(self >= 0);
	assert_int_equal(fs_rm_rf(base, &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_wrap),  cmocka_unit_test(test_digest),
		cmocka_unit_test(test_atomic_write), cmocka_unit_test(test_formats),
		cmocka_unit_test(test_json),        cmocka_unit_test(test_log_level),
		cmocka_unit_test(test_dlib),
		cmocka_unit_test(test_open_in_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
