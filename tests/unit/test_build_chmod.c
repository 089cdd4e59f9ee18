/* Unit tests for build/chmod.c: COPY --chmod, octal and symbolic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <sys/stat.h>

#include "build/engine.h"

static unsigned apply(const char *spec, unsigned mode)
{
	struct chmod_spec cs;
	struct kerror e = { 0 };
	assert_int_equal(chmod_parse(spec, &cs, &e), 0);
	kerror_release(&e);
	return chmod_apply(&cs, mode);
}

static void test_octal(void **state)
{
	(void)state;
	assert_int_equal(apply("0755", S_IFREG | 0600), 0755);
	assert_int_equal(apply("4711", S_IFREG | 0600), 04711);
	assert_int_equal(apply("0", S_IFDIR | 0755), 0);
}

static void test_symbolic(void **state)
{
	(void)state;
	assert_int_equal(apply("u+x", S_IFREG | 0644), 0744);
	assert_int_equal(apply("g-w,o-rwx", S_IFREG | 0777), 0750);
	assert_int_equal(apply("u+x,g-r,o=r", S_IFREG | 0644), 0704);
	assert_int_equal(apply("go=", S_IFREG | 0777), 0700);
	assert_int_equal(apply("+x", S_IFREG | 0600), 0711);      /* no who: a, no umask */
	assert_int_equal(apply("a+X", S_IFREG | 0644), 0644);     /* X: not for plain files */
	assert_int_equal(apply("a+X", S_IFREG | 0744), 0755);     /* but for executables */
	assert_int_equal(apply("a+X", S_IFDIR | 0700), 0711);     /* and directories */
	assert_int_equal(apply("u+s,g+s", S_IFREG | 0755), 06755);
	assert_int_equal(apply("o+t", S_IFDIR | 0777), 01777);
	assert_int_equal(apply("u=rw-w", S_IFREG | 0777), 0477);  /* ops chained */
	assert_int_equal(apply("ug+rw,o-r", S_IFREG | 0004), 0660);
}

static void test_bad(void **state)
{
	static const char *bad[] = { "", "u", "u+q", "9", "0779", "77777", "u+x,", ",u+x",
				     "z+x", "u+x,,g+x", "0x755" };
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct chmod_spec cs;
		struct kerror e = { 0 };
		assert_true(chmod_parse(bad[i], &cs, &e) < 0);
		assert_non_null(strstr(e.msg, "invalid chmod"));
		kerror_release(&e);
	}
	/* bounded: more clauses than fit is an error, not an overflow */
	char many[4 * (CHMOD_MAX_CLAUSES + 2)] = "";
	for (int i = 0; i < CHMOD_MAX_CLAUSES + 1; i++)
		strcat(many, i ? ",u+x" : "u+x");
	struct chmod_spec cs;
	struct kerror e = { 0 };
	assert_true(chmod_parse(many, &cs, &e) < 0);
	kerror_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_octal),
		cmocka_unit_test(test_symbolic),
		cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
