/* Unit tests for common/toml.c: valid documents against their JSON, invalid
 * ones against the "line N: ..." error they must produce. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

struct ok_case {
	const char *toml, *json;
};
struct bad_case {
	const char *toml, *err;
};

static const struct ok_case ok_cases[] = {
	{ "", "{}" },
	{ "# only a comment\n\n   \n", "{}" },
	{ "a = 1", "{\"a\":1}" },
	{ "a = 1 # trailing comment\r\nb = 2\r\n", "{\"a\":1,\"b\":2}" },
	{ "bare_key-1 = true\n1234 = false", "{\"bare_key-1\":true,\"1234\":false}" },
	{ "\"quoted key\" = 1\n'lit.key' = 2\n\"\" = 3",
	  "{\"quoted key\":1,\"lit.key\":2,\"\":3}" },
	{ "a.b.c = 1\na.b.d = 2\na . e = 3", "{\"a\":{\"b\":{\"c\":1,\"d\":2},\"e\":3}}" },
	{ "3.14 = 'pi'", "{\"3\":{\"14\":\"pi\"}}" },
	{ "s = \"tab\\there\\n\\\"q\\\" \\\\ \\b\\f\\r\"",
	  "{\"s\":\"tab\\there\\n\\\"q\\\" \\\\ \\b\\f\\r\"}" },
	{ "s = \"\\u00e9\\U0001F600\\u0000\"", "{\"s\":\"\xc3\xa9\xf0\x9f\x98\x80\\u0000\"}" },
	{ "s = 'C:\\Users\\x' # literal", "{\"s\":\"C:\\\\Users\\\\x\"}" },
	{ "s = \"caf\xc3\xa9\"", "{\"s\":\"caf\xc3\xa9\"}" },
	{ "s = \"\"\"\nline1\nline2\"\"\"", "{\"s\":\"line1\\nline2\"}" },
	{ "s = \"\"\"\\\n   The quick \\\n\n   fox.\\\n\"\"\"", "{\"s\":\"The quick fox.\"}" },
	{ "s = \"\"\"a\"\"\"\"\"", "{\"s\":\"a\\\"\\\"\"}" },
	{ "s = '''\nraw \\n 'q' ''''", "{\"s\":\"raw \\\\n 'q' '\"}" },
	{ "s = \"\"\"x\r\ny\"\"\"", "{\"s\":\"x\\ny\"}" },
	{ "i = [+99, 42, 0, -17, 1_000, 5_349_221, -0]",
	  "{\"i\":[99,42,0,-17,1000,5349221,0]}" },
	{ "h = [0xDEADBEEF, 0xdead_beef, 0o755, 0b1101_0110]",
	  "{\"h\":[3735928559,3735928559,493,214]}" },
	{ "max = 9223372036854775807\nmin = -9223372036854775808",
	  "{\"max\":9223372036854775807,\"min\":-9223372036854775808}" },
	{ "f = [1.5, -0.25, 5e+2, 1E2, 6.25e-1, 1_0.5]", "{\"f\":[1.5,-0.25,500.0,100.0,0.625,10.5]}" },
	{ "a = [ 1,\n  2, # two\n  3,\n]\nb = []\nc = [[1, 2], ['a', \"b\"]]",
	  "{\"a\":[1,2,3],\"b\":[],\"c\":[[1,2],[\"a\",\"b\"]]}" },
	{ "m = [1, 'x', true, {}]", "{\"m\":[1,\"x\",true,{}]}" },
	{ "t = { a = 1, b = \"x\", c.d = [1] }", "{\"t\":{\"a\":1,\"b\":\"x\",\"c\":{\"d\":[1]}}}" },
	{ "t = {}\nu = { v = { w = 1 } }", "{\"t\":{},\"u\":{\"v\":{\"w\":1}}}" },
	{ "[a]\nx = 1\n[b]\ny = 2", "{\"a\":{\"x\":1},\"b\":{\"y\":2}}" },
	{ "[a.b.c]\nx = 1\n[a]\ny = 2", "{\"a\":{\"b\":{\"c\":{\"x\":1}},\"y\":2}}" },
	{ "[ a . \"b.c\" . 'd' ]\nx = 1", "{\"a\":{\"b.c\":{\"d\":{\"x\":1}}}}" },
	{ "[fruit]\napple.color = 'red'\n[fruit.apple.texture]\nsmooth = true",
	  "{\"fruit\":{\"apple\":{\"color\":\"red\",\"texture\":{\"smooth\":true}}}}" },
	{ "[[p]]\nn = 1\n[[p]]\n[[p]]\nn = 3", "{\"p\":[{\"n\":1},{},{\"n\":3}]}" },
	{ "[[f]]\nn = 'a'\n[f.phys]\nc = 1\n[[f.v]]\nn = 'x'\n[[f]]\nn = 'b'\n[[f.v]]",
	  "{\"f\":[{\"n\":\"a\",\"phys\":{\"c\":1},\"v\":[{\"n\":\"x\"}]},{\"n\":\"b\",\"v\":[{}]}]}" },
	{ "\xef\xbb\xbf" "a = 1", "{\"a\":1}" },
	{ "a = 1\t\t# tabs\n\t[t]\t\n\tb\t=\t2", "{\"a\":1,\"t\":{\"b\":2}}" },
	{ "[storage]\ndriver = \"overlay\"\ngraphroot = \"/var/lib/kiln\"\n"
	  "[storage.options]\nadditionalimagestores = []\n"
	  "[storage.options.overlay]\nmountopt = \"nodev\"\n",
	  "{\"storage\":{\"driver\":\"overlay\",\"graphroot\":\"/var/lib/kiln\",\"options\":"
	  "{\"additionalimagestores\":[],\"overlay\":{\"mountopt\":\"nodev\"}}}}" },
};

/* registries.conf v2 as shipped by distributions, trimmed. */
static const char registries_conf[] =
	"# For more information on this configuration file, see containers-registries.conf(5).\n"
	"unqualified-search-registries = [\"registry.fedoraproject.org\", \"docker.io\"]\n"
	"short-name-mode = \"enforcing\"   # enforcing | permissive | disabled\n"
	"credential-helpers = [ \"containers-auth.json\", ]\n"
	"\n"
	"[aliases]\n"
	"  \"fedora\" = \"registry.fedoraproject.org/fedora\"\n"
	"  \"ubi8/ubi\" = \"registry.access.redhat.com/ubi8/ubi\"\n"
	"\n"
	"[[registry]]\n"
	"prefix = \"example.com/foo\"\n"
	"location = \"internal.example.com/bar\"\n"
	"insecure = false\n"
	"blocked = false\n"
	"mirror-by-digest-only = false\n"
	"\n"
	"[[registry.mirror]]\n"
	"location = \"mirror-0.local/mirror-for-foo\"\n"
	"[[registry.mirror]]\n"
	"location = \"mirror-1.local/mirrors/foo\"\n"
	"insecure = true\n"
	"pull-from-mirror = \"digest-only\"\n"
	"\n"
	"[[registry]]\n"
	"location = \"localhost:5000\"\n"
	"insecure = true\n";

static const char registries_json[] =
	"{\"unqualified-search-registries\":[\"registry.fedoraproject.org\",\"docker.io\"],"
	"\"short-name-mode\":\"enforcing\",\"credential-helpers\":[\"containers-auth.json\"],"
	"\"aliases\":{\"fedora\":\"registry.fedoraproject.org/fedora\","
	"\"ubi8/ubi\":\"registry.access.redhat.com/ubi8/ubi\"},"
	"\"registry\":[{\"prefix\":\"example.com/foo\",\"location\":\"internal.example.com/bar\","
	"\"insecure\":false,\"blocked\":false,\"mirror-by-digest-only\":false,\"mirror\":["
	"{\"location\":\"mirror-0.local/mirror-for-foo\"},"
	"{\"location\":\"mirror-1.local/mirrors/foo\",\"insecure\":true,"
	"\"pull-from-mirror\":\"digest-only\"}]},"
	"{\"location\":\"localhost:5000\",\"insecure\":true}]}";

static const struct bad_case bad_cases[] = {
	{ "a = 1\na = 2", "line 2: duplicate key \"a\"" },
	{ "a.b = 1\na = 2", "line 2: duplicate key \"a\"" },
	{ "a = 1\na.b = 2", "line 2: cannot add keys to \"a\"" },
	{ "[a]\n[a]", "line 2: table \"a\" is already defined" },
	{ "[a]\nb.c = 1\n[a.b]", "line 3: table \"b\" is already defined" },
	{ "[a.b]\n[a]\nb.c = 1", "line 3: cannot add keys to \"b\"" },
	{ "a = 1\n[a]", "line 2: table \"a\" is already defined" },
	{ "a = 1\n[a.b]", "line 2: cannot extend \"a\"" },
	{ "[[a]]\n[a]", "line 2: table \"a\" is already defined" },
	{ "[a]\n[[a]]", "line 2: cannot define \"a\" as an array of tables" },
	{ "a = []\n[[a]]", "line 2: cannot define \"a\" as an array of tables" },
	{ "a = [{b = 1}]\n[a.c]", "line 2: cannot extend \"a\"" },
	{ "a = { b = 1 }\na.c = 2", "line 2: cannot add keys to \"a\"" },
	{ "a = { b = 1 }\n[a.c]", "line 2: cannot extend \"a\"" },
	{ "a = { b = 1 }\n[a]", "line 2: table \"a\" is already defined" },
	{ "a = { b = 1, b = 2 }", "line 1: duplicate key \"b\"" },
	{ "a = { b = 1, }", "line 1: trailing comma in inline table" },
	{ "a = { b = 1,\n c = 2 }", "line 1: unterminated inline table" },
	{ "a = { b = 1 c = 2 }", "line 1: expected ',' or '}'" },
	{ "\n\na = \"abc", "line 3: unterminated string" },
	{ "a = \"abc\nb = 1", "line 1: unterminated string" },
	{ "a = 'abc", "line 1: unterminated string" },
	{ "x = 1\na = \"\"\"abc\n\n", "line 2: unterminated multi-line string" },
	{ "a = '''abc''", "line 1: unterminated multi-line string" },
	{ "a = \"\"\"a\"\"\"\"\"\"", "line 1: too many quotes" },
	{ "a = [1, 2", "line 1: unterminated array" },
	{ "a = [1, 2\nb = 3", "line 2: expected ',' or ']'" },
	{ "a = [1 2]", "line 1: expected ',' or ']'" },
	{ "a = [,]", "line 1: unexpected ',' in value" },
	{ "a = 1 b = 2", "line 1: unexpected 'b' after value" },
	{ "a = \"x\" y", "line 1: unexpected 'y' after value" },
	{ "[a] x = 1", "line 1: unexpected 'x' after value" },
	{ "a = \"\\q\"", "line 1: invalid escape sequence" },
	{ "a = \"\\u12\"", "line 1: invalid \\u escape" },
	{ "a = \"\\uD800\"", "line 1: escape \\uD800 is not a unicode scalar value" },
	{ "a = \"\\U00110000\"", "line 1: escape \\U00110000 is not a unicode scalar value" },
	{ "a = \"tab\x01\"", "line 1: control character 0x01" },
	{ "a = 1\rb = 2", "line 1: control character 0x0d" },
	{ "# comment \x7f\n", "line 1: control character 0x7f" },
	{ "\na = \"\xc3\x28\"", "line 2: invalid UTF-8" },
	{ "a = \"\xed\xa0\x80\"", "line 1: invalid UTF-8" },
	{ "a = \"\xc0\xaf\"", "line 1: invalid UTF-8" },
	{ "a = \"\xe2\x82\"", "line 1: invalid UTF-8" },
	{ "a = 9223372036854775808", "line 1: integer \"9223372036854775808\" out of range" },
	{ "a = -9223372036854775809", "line 1: integer \"-9223372036854775809\" out of range" },
	{ "a = 0x8000000000000000", "line 1: integer \"0x8000000000000000\" out of range" },
	{ "a = 012", "line 1: leading zeros" },
	{ "a = 1__0", "line 1: invalid value" },
	{ "a = _1", "line 1: invalid value \"_1\"" },
	{ "a = 1_", "line 1: invalid value" },
	{ "a = +0x10", "line 1: prefixed integers cannot have a sign" },
	{ "a = 0xg", "line 1: invalid integer" },
	{ "a = 0b102", "line 1: invalid integer" },
	{ "a = 1.", "line 1: invalid float" },
	{ "a = .5", "line 1: invalid value \".5\"" },
	{ "a = 1e", "line 1: invalid float" },
	{ "a = 1.5.5", "line 1: invalid value" },
	{ "a = 1e999", "line 1: float \"1e999\" out of range" },
	{ "a = nan", "line 1: inf and nan are not supported" },
	{ "a = -inf", "line 1: inf and nan are not supported" },
	{ "\nd = 1979-05-27", "line 2: dates are not supported" },
	{ "d = 1979-05-27T07:32:00Z", "line 1: dates are not supported" },
	{ "t = 07:32:00", "line 1: dates are not supported" },
	{ "a = True", "line 1: invalid value \"True\"" },
	{ "a = truee", "line 1: invalid value" },
	{ "a =", "line 1: missing value" },
	{ "a = # nothing\n", "line 1: missing value" },
	{ "a", "line 1: expected '=' after key \"a\"" },
	{ "= 1", "line 1: expected a key, found '='" },
	{ "a. = 1", "line 1: expected a key" },
	{ "\"\"\"k\"\"\" = 1", "line 1: multi-line strings cannot be keys" },
	{ "\"a\\u0000\" = 1", "line 1: keys containing NUL" },
	{ "[a", "line 1: expected ']' to end the table header" },
	{ "[[a]", "line 1: expected ']]' to end the table header" },
	{ "[]", "line 1: expected a key, found ']'" },
	{ "[a]]", "line 1: unexpected ']' after value" },
};

static void test_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok_cases); i++) {
		struct kerror e = { 0 };
		_cleanup_json_ json_t *j = NULL;
		const char *t = ok_cases[i].toml;
		int r = toml_parse(t, strlen(t), &j, &e);
		if (r != 0)
			fail_msg("case %zu (%s): %s", i, t, e.msg);
		_cleanup_free_ char *got = json_dump_compact(j);
		if (strcmp(got, ok_cases[i].json))
			fail_msg("case %zu (%s):\n got  %s\n want %s", i, t, got, ok_cases[i].json);
	}
}

static void test_invalid(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		_cleanup_kerror_ struct kerror e = { 0 };
		json_t *j = (json_t *)&e; /* must be reset to NULL */
		const char *t = bad_cases[i].toml;
		int r = toml_parse(t, strlen(t), &j, &e);
		if (r != -EINVAL || j || !e.msg || !strstr(e.msg, bad_cases[i].err)) {
			print_error("case %zu (%s): r=%d msg=%s, want \"%s\"\n", i, t, r,
				    e.msg ? e.msg : "(none)", bad_cases[i].err);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void test_registries_conf(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	_cleanup_json_ json_t *j = NULL;
	assert_int_equal(toml_parse(registries_conf, strlen(registries_conf), &j, &e), 0);
	_cleanup_free_ char *got = json_dump_compact(j);
	assert_string_equal(got, registries_json);
}

/* The input is not NUL-terminated where len says it ends. */
static void test_length_bounded(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	_cleanup_json_ json_t *j = NULL;
	const char doc[] = "a = 12\nGARBAGE";
	assert_int_equal(toml_parse(doc, 6, &j, &e), 0);
	_cleanup_free_ char *got = json_dump_compact(j);
	assert_string_equal(got, "{\"a\":12}");
	char *nonul = xmalloc(4);
	memcpy(nonul, "d=19", 4); /* the date probe must not read past len */
	json_t *k = NULL;
	assert_int_equal(toml_parse(nonul, 4, &k, &e), 0);
	json_decref(k);
	free(nonul);
}

static void test_depth_limit(void **state)
{
	(void)state;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct buf b = { 0 };
	json_t *j = NULL;

	buf_printf(&b, "a = ");
	for (int i = 0; i < 100000; i++)
		buf_append(&b, "[", 1);
	assert_int_equal(toml_parse(b.data, b.len, &j, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "line 1: nesting deeper than 64 levels"));
	buf_release(&b);

	for (int i = 0; i < 100; i++)
		buf_printf(&b, "k%d.", i);
	buf_printf(&b, "z = 1");
	assert_int_equal(toml_parse(b.data, b.len, &j, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "line 1: key has more than 64 parts"));
	buf_release(&b);

	buf_printf(&b, "a = ");
	for (int i = 0; i < 100; i++)
		buf_printf(&b, "{ k = ");
	assert_int_equal(toml_parse(b.data, b.len, &j, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "nesting deeper"));
	buf_release(&b);

	/* 60 levels are fine */
	buf_printf(&b, "a = ");
	for (int i = 0; i < 60; i++)
		buf_append(&b, "[", 1);
	for (int i = 0; i < 60; i++)
		buf_append(&b, "]", 1);
	assert_int_equal(toml_parse(b.data, b.len, &j, &e), 0);
	json_decref(j);
	buf_release(&b);
}

/* Many tables: the flag map grows and stays consistent. */
static void test_many_tables(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	struct buf b = { 0 };
	_cleanup_json_ json_t *j = NULL;

	for (int i = 0; i < 2000; i++)
		buf_printf(&b, "[t%d]\nv = %d\n[[arr]]\nx.y = %d\n", i, i, i);
	assert_int_equal(toml_parse(b.data, b.len, &j, &e), 0);
	assert_int_equal(json_object_size(j), 2001);
	assert_int_equal(json_array_size(json_object_get(j, "arr")), 2000);
	buf_printf(&b, "[t1999]\n");
	json_t *k = NULL;
	assert_int_equal(toml_parse(b.data, b.len, &k, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "line 8001: table \"t1999\" is already defined"));
	kerror_release(&e);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),          cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_registries_conf), cmocka_unit_test(test_length_bounded),
		cmocka_unit_test(test_depth_limit),     cmocka_unit_test(test_many_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
