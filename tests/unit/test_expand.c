/* Variable substitution, case by case against Docker's documented results
 * (Dockerfile reference "Environment replacement", BuildKit lex tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "build/build.h"

/* Environment for every case: a=apple, e= (set, empty), p=/usr/local/bin,
 * f=file.tar.gz, s="x y", n unset. */
static const char *lookup(void *ctx, const char *name, size_t len)
{
	(void)ctx;
	static const char *const env[][2] = { { "a", "apple" }, { "e", "" },
					       { "p", "/usr/local/bin" }, { "f", "file.tar.gz" },
					       { "s", "x y" }, { "HOME", "/root" } };
	for (size_t i = 0; i < ARRAY_SIZE(env); i++)
		if (strlen(env[i][0]) == len && !memcmp(env[i][0], name, len))
			return env[i][1];
	return NULL;
}

struct xcase {
	const char *in, *out, *err;
};

static const struct xcase cases[] = {
	{ "$a", "apple" }, { "${a}", "apple" }, { "x$a-y", "xapple-y" }, { "${a}s", "apples" },
	{ "$n", "" }, { "${n}", "" }, { "$", "$" }, { "a$ b", "a$ b" }, { "$1", "" },
	{ "\\$a", "$a" }, { "\\${a}", "${a}" }, { "'$a'", "$a" }, { "\"$a\"", "apple" },
	{ "\"'$a'\"", "'apple'" }, { "'\"$a\"'", "\"$a\"" }, { "a\\ b", "a b" },
	{ "\"a\\\"b\"", "a\"b" }, { "\"a\\xb\"", "a\\xb" }, { "\\\\", "\\" },
	{ "abc\\", "abc" },
	{ "${n:-w}", "w" }, { "${e:-w}", "w" }, { "${a:-w}", "apple" },
	{ "${n-w}", "w" }, { "${e-w}", "" }, { "${a-w}", "apple" },
	{ "${n:+w}", "" }, { "${e:+w}", "" }, { "${a:+w}", "w" },
	{ "${n+w}", "" }, { "${e+w}", "w" }, { "${a+w}", "w" },
	{ "${n:-$a}", "apple" }, { "${n:-${n:-deep}}", "deep" }, { "${n:-'q $a'}", "q $a" },
	{ "${n:-a b}", "a b" },
	{ "${a:?x}", "apple" }, { "${e?x}", "" },
	{ "${n:?}", NULL, "failed to process \"${n:?}\": n: is not allowed to be unset" },
	{ "${e:?}", NULL, "failed to process \"${e:?}\": e: is not allowed to be empty" },
	{ "${n?need it}", NULL, "failed to process \"${n?need it}\": n: need it" },
	{ "${p#*/}", "usr/local/bin" }, { "${p##*/}", "bin" }, { "${p%/*}", "/usr/local" },
	{ "${p%%/*}", "" }, { "${f%.*}", "file.tar" }, { "${f%%.*}", "file" },
	{ "${f#*.}", "tar.gz" }, { "${f##*.}", "gz" }, { "${a#x}", "apple" }, { "${a#a?p}", "le" },
	{ "${n#x}", "" }, { "${a#\\*}", "apple" },
	{ "${a/p/P}", "aPple" }, { "${a//p/P}", "aPPle" }, { "${a/p*/X}", "aX" },
	{ "${a//?/.}", "....." }, { "${a/z/y}", "apple" }, { "${p//\\//:}", ":usr:local:bin" },
	{ "${a/#/x}", "apple" },
	{ "${}", NULL, "failed to process \"${}\": syntax error: bad substitution" },
	{ "${:a}", NULL, "failed to process \"${:a}\": syntax error: bad substitution" },
	{ "${{a}", NULL, "failed to process \"${{a}\": syntax error: bad substitution" },
	{ "${a", NULL, "failed to process \"${a\": syntax error: missing '}'" },
	{ "${a:-x", NULL, "failed to process \"${a:-x\": syntax error: missing '}'" },
	{ "${", NULL, "failed to process \"${\": syntax error: missing '}'" },
	{ "${a/x", NULL, "failed to process \"${a/x\": syntax error: missing '/' in ${}" },
	{ "${a:#x}", NULL, "failed to process \"${a:#x}\": unsupported modifier (:#) in substitution" },
	{ "${a:%x}", NULL, "failed to process \"${a:%x}\": unsupported modifier (:%) in substitution" },
	{ "${a!}", NULL, "failed to process \"${a!}\": unsupported modifier (!) in substitution" },
	{ "${a#\\x}", NULL,
	  "failed to process \"${a#\\\\x}\": invalid pattern (\\x) in substitution: invalid escape '\\x'" },
	{ "'abc", NULL,
	  "failed to process \"'abc\": unexpected end of statement while looking for matching single-quote" },
	{ "\"abc", NULL,
	  "failed to process \"\\\"abc\": unexpected end of statement while looking for matching double-quote" },
	{ "$HOME/x", "/root/x" }, { "${HOME}x", "/rootx" }, { "$a$a", "appleapple" },
	{ "$@", "" }, { "$$", "" },
};

static void run_case(void **state)
{
	const struct xcase *c = *state;
	struct shell_opts o = { .lookup = lookup };
	struct kerror e = { 0 };
	char *out = NULL;
	int r = shell_expand(c->in, &o, &out, &e);
	if (c->out) {
		if (r < 0)
			fail_msg("%s: unexpected error %s", c->in, e.msg);
		assert_string_equal(out, c->out);
	} else {
		assert_true(r < 0);
		assert_string_equal(e.msg, c->err);
	}
	free(out);
	kerror_release(&e);
}

static void test_words(void **state)
{
	(void)state;
	struct shell_opts o = { .lookup = lookup };
	struct kerror e = { 0 };
	char **w = NULL;
	assert_int_equal(shell_expand_words("a $s \"$s\" 'c d' \"\" e\\ f", &o, &w, &e), 0);
	assert_int_equal(strv_len(w), 6);
	assert_string_equal(w[0], "a");
	assert_string_equal(w[1], "x");
	assert_string_equal(w[2], "y");
	assert_string_equal(w[3], "x y");
	assert_string_equal(w[4], "c d");
	assert_string_equal(w[5], "e f");
	strv_free(w);
}

static void test_backtick_escape(void **state)
{
	(void)state;
	struct shell_opts o = { .lookup = lookup, .escape = '`' };
	struct kerror e = { 0 };
	char *out;
	assert_int_equal(shell_expand("`$a c:\\dir", &o, &out, &e), 0);
	assert_string_equal(out, "$a c:\\dir");
	free(out);
}

static void test_skip_unset_raw(void **state)
{
	(void)state;
	struct shell_opts o = { .lookup = lookup, .skip_unset = true, .raw_quotes = true };
	struct kerror e = { 0 };
	char *out;
	assert_int_equal(shell_expand("$n ${n} ${n:-x} '$a' $a", &o, &out, &e), 0);
	assert_string_equal(out, "$n ${n} ${n:-x} '$a' apple");
	free(out);
}

static void test_nesting_bounded(void **state)
{
	(void)state;
	struct buf b = { 0 };
	for (int i = 0; i < 200; i++)
		buf_printf(&b, "${n:-");
	for (int i = 0; i < 200; i++)
		buf_printf(&b, "}");
	struct shell_opts o = { .lookup = lookup };
	struct kerror e = { 0 };
	char *out = NULL;
	assert_true(shell_expand(b.data, &o, &out, &e) < 0);
	assert_non_null(strstr(e.msg, "too many nested substitutions"));
	kerror_release(&e);
	buf_release(&b);
}

int main(void)
{
	size_t n = ARRAY_SIZE(cases);
	struct CMUnitTest *t = calloc(n + 4, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		t[i].name = cases[i].in;
		t[i].test_func = run_case;
		t[i].initial_state = (void *)&cases[i];
	}
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_words);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_backtick_escape);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_skip_unset_raw);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_nesting_bounded);
	int r = _cmocka_run_group_tests("expand", t, n, NULL, NULL);
	free(t);
	return r;
}
