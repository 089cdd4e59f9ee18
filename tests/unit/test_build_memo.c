/* Unit tests for build/digest_memo.c: the memo of COPY source digests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build/engine.h"

static const char HEX[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void pause_tick(void)
{
	/* Past the coarse clock's tick (a few ms). */
	struct timespec ts = { 0, 30 * 1000 * 1000 };
	nanosleep(&ts, NULL);
}

static void write_file(const char *p, const char *s)
{
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static void test_memo_roundtrip(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/kiln-memo-XXXXXX";
	char *dir = mkdtemp(tmpl);
	assert_non_null(dir);
	char *file = xasprintf("%s/f", dir);
	char hex[DIGEST_HEX_LEN + 1];
	struct stat st;
	struct kerror e = { 0 };

	write_file(file, "one");
	pause_tick();
	assert_int_equal(stat(file, &st), 0);

	struct digest_memo *m = digest_memo_open(dir, "/ctx");
	assert_false(digest_memo_get(m, &st, hex));
	digest_memo_begin(m);
	digest_memo_put(m, &st, &st, HEX);
	assert_true(digest_memo_get(m, &st, hex));
	assert_string_equal(hex, HEX);
	assert_int_equal(digest_memo_save(m, &e), 0);
	digest_memo_free(m);

	/* Reloaded: still there; another context has its own memo. */
	m = digest_memo_open(dir, "/ctx");
	assert_true(digest_memo_get(m, &st, hex));
	digest_memo_free(m);
	m = digest_memo_open(dir, "/other");
	assert_false(digest_memo_get(m, &st, hex));
	digest_memo_free(m);

	/* A write changes ctime (and here size): a miss. */
	pause_tick();
	write_file(file, "two!");
	struct stat st2;
	assert_int_equal(stat(file, &st2), 0);
	m = digest_memo_open(dir, "/ctx");
	assert_false(digest_memo_get(m, &st2, hex));

	/* Racy: a file whose ctime is not older than the clock read before
	 * hashing is not recorded; nor one that changed during the read. */
	struct stat racy = st2;
	racy.st_ctim.tv_sec = time(NULL) + 100;
	digest_memo_begin(m);
	digest_memo_put(m, &racy, &racy, HEX);
	assert_false(digest_memo_get(m, &racy, hex));
	struct stat moved = st2;
	moved.st_size++;
	digest_memo_put(m, &st2, &moved, HEX);
	assert_false(digest_memo_get(m, &st2, hex));
	digest_memo_free(m);

	/* A bad memo file is ignored. */
	{
		char d[DIGEST_STR_LEN + 1];
		digest_bytes("/ctx", 4, d);
		char *p = xasprintf("%s/build-memo/%.32s", dir, digest_hex(d));
		write_file(p, "kiln-memo-v1\nbut garbage after it");
		m = digest_memo_open(dir, "/ctx");
		assert_false(digest_memo_get(m, &st, hex));
		digest_memo_free(m);
		free(p);
	}
	assert_int_equal(fs_rm_rf(dir, &e), 0);
	kerror_release(&e);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memo_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
