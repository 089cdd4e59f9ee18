/* Unit tests for image/reference.c: the Docker reference grammar and
 * normalisation, kiln's local names, candidates and familiar forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D256 "sha256:" H64
#define A10 "aaaaaaaaaa"
#define A50 A10 A10 A10 A10 A10
#define T128 "t" A50 A50 "aaaaaaaaaaaaaaaaaaaaaaaaaaa"

struct ref_case {
	const char *in;
	const char *want; /* normalised form, or NULL for an error */
	const char *err;  /* substring of the error when want is NULL */
};

static const struct ref_case ref_cases[] = {
	/* normalisation */
	{ "busybox", "docker.io/library/busybox" },
	{ "busybox:latest", "docker.io/library/busybox:latest" },
	{ "library/busybox", "docker.io/library/busybox" },
	{ "docker.io/busybox", "docker.io/library/busybox" },
	{ "docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36" },
	{ "index.docker.io/busybox", "docker.io/library/busybox" },
	{ "index.docker.io/user/app", "docker.io/user/app" },
	{ "docker.io/library/a/b", "docker.io/library/a/b" },
	{ "user/app", "docker.io/user/app" },
	{ "user/app:v1.0", "docker.io/user/app:v1.0" },
	{ "a/b/c/d/e", "docker.io/a/b/c/d/e" },
	{ "a", "docker.io/library/a" },
	{ "a0/b1", "docker.io/a0/b1" },
	{ "localhost", "docker.io/library/localhost" },
	{ "localhost:5000", "docker.io/library/localhost:5000" },
	{ "foo.bar", "docker.io/library/foo.bar" },
	/* path separators */
	{ "foo_bar/baz", "docker.io/foo_bar/baz" },
	{ "foo__bar", "docker.io/library/foo__bar" },
	{ "foo-bar", "docker.io/library/foo-bar" },
	{ "foo---bar", "docker.io/library/foo---bar" },
	{ "foo.bar.baz/x", "foo.bar.baz/x" },
	/* domains */
	{ "localhost/app", "localhost/app" },
	{ "localhost:5000/app", "localhost:5000/app" },
	{ "localhost:5000/a/b/c:tag", "localhost:5000/a/b/c:tag" },
	{ "quay.io/podman/stable", "quay.io/podman/stable" },
	{ "quay.io/podman/stable:v4", "quay.io/podman/stable:v4" },
	{ "my-registry.local:5000/x/y:1", "my-registry.local:5000/x/y:1" },
	{ "xn--bcher-kva.example/app", "xn--bcher-kva.example/app" },
	{ "1.2.3.4/app", "1.2.3.4/app" },
	{ "1.2.3.4:80/app", "1.2.3.4:80/app" },
	{ "host-name.with-dashes.io/repo", "host-name.with-dashes.io/repo" },
	{ "[::1]:5000/app", "[::1]:5000/app" },
	{ "[::1]/app", "[::1]/app" },
	{ "[2001:db8::1]:5000/ns/app:tag", "[2001:db8::1]:5000/ns/app:tag" },
	{ "Foo.com/bar", "Foo.com/bar" },
	{ "FOO/bar", "FOO/bar" },
	/* tags and digests */
	{ "busybox:Latest", "docker.io/library/busybox:Latest" },
	{ "busybox:_tag", "docker.io/library/busybox:_tag" },
	{ "busybox:1.2.3-rc_1", "docker.io/library/busybox:1.2.3-rc_1" },
	{ "busybox:" T128, "docker.io/library/busybox:" T128 },
	{ "busybox@" D256, "docker.io/library/busybox@" D256 },
	{ "busybox:1.0@" D256, "docker.io/library/busybox:1.0@" D256 },
	{ "docker.io/library/busybox@" D256, "docker.io/library/busybox@" D256 },
	{ "registry.example.com:443/ns/repo@" D256, "registry.example.com:443/ns/repo@" D256 },
	{ "example.com/a@sha512:" H64 H64, "example.com/a@sha512:" H64 H64 },
	/* length: 11 + 1 + 243 = 255 */
	{ "example.com/" A50 A50 A50 A50 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  "example.com/" A50 A50 A50 A50 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },

	/* errors */
	{ "", NULL, "at least one component" },
	{ "Busybox", NULL, "invalid reference format: repository name (library/Busybox) must be lowercase" },
	{ "UPPER", NULL, "repository name (library/UPPER) must be lowercase" },
	{ "user/App", NULL, "repository name (user/App) must be lowercase" },
	{ "a/B:tag", NULL, "repository name (a/B) must be lowercase" },
	{ "localhost:5000/App", NULL, "repository name (App) must be lowercase" },
	{ H64, NULL, "invalid repository name (" H64 "), cannot specify 64-byte hexadecimal strings" },
	{ "busybox:", NULL, "invalid reference format" },
	{ "busybox:-tag", NULL, "invalid tag format" },
	{ "busybox:.tag", NULL, "invalid tag format" },
	{ "busybox:" T128 "x", NULL, "invalid tag format" },
	{ "foo:bar:baz", NULL, "invalid tag format" },
	{ "busybox:ta/g", NULL, "invalid reference format" },
	{ "busybox@sha256:abc", NULL, "invalid checksum digest format" },
	{ "busybox@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", NULL,
	  "invalid checksum digest format" },
	{ "busybox@", NULL, "invalid checksum digest format" },
	{ "busybox@md5", NULL, "invalid checksum digest format" },
	{ "busybox:latest@", NULL, "invalid checksum digest format" },
	{ "busybox@" D256 "@" D256, NULL, "invalid checksum digest format" },
	{ "-busybox", NULL, "invalid reference format" },
	{ "busybox-", NULL, "invalid reference format" },
	{ "foo..bar", NULL, "invalid reference format" },
	{ "foo___bar", NULL, "invalid reference format" },
	{ "foo/", NULL, "invalid reference format" },
	{ "/foo", NULL, "invalid reference format" },
	{ "foo//bar", NULL, "invalid reference format" },
	{ "foo bar", NULL, "invalid reference format" },
	{ "-host.com/foo", NULL, "invalid reference format" },
	{ "host-.com/foo", NULL, "invalid reference format" },
	{ "host..com/foo", NULL, "invalid reference format" },
	{ "host.com:/foo", NULL, "invalid reference format" },
	{ "host.com:abc/foo", NULL, "invalid reference format" },
	{ "host_name.com/foo", NULL, "invalid reference format" },
	{ "ex ample.com/foo", NULL, "invalid reference format" },
	{ "Foo_x/bar", NULL, "invalid reference format" },
	{ "[::1/foo", NULL, "invalid reference format" },
	{ "[]:5000/foo", NULL, "invalid reference format" },
	{ "[::g]/foo", NULL, "invalid reference format" },
	{ "[::1]x/foo", NULL, "invalid reference format" },
	{ "example.com/" A50 A50 A50 A50 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL,
	  "must not be more than 255 characters" },
};

static void test_ref_table(void **state)
{
	(void)state;
	assert_true(ARRAY_SIZE(ref_cases) >= 70);
	for (size_t i = 0; i < ARRAY_SIZE(ref_cases); i++) {
		const struct ref_case *c = &ref_cases[i];
		_cleanup_ref_ struct image_ref *r = NULL;
		_cleanup_kerror_ struct kerror e = { 0 };
		int ret = ref_parse(c->in, &r, &e);

		if (c->want) {
			if (ret < 0)
				fail_msg("%s: unexpected error %s", c->in, e.msg);
			_cleanup_free_ char *s = ref_string(r);
			assert_string_equal(s, c->want);
		} else {
			if (ret >= 0)
				fail_msg("%s: parsed but should fail", c->in);
			assert_null(r);
			if (!strstr(e.msg, c->err))
				fail_msg("%s: error \"%s\" lacks \"%s\"", c->in, e.msg, c->err);
		}
	}
}

static void test_ref_fields(void **state)
{
	(void)state;
	_cleanup_ref_ struct image_ref *r = NULL;
	struct kerror e = { 0 };

	assert_int_equal(ref_parse("localhost:5000/ns/app:v2@" D256, &r, &e), 0);
	assert_string_equal(r->domain, "localhost:5000");
	assert_string_equal(r->path, "ns/app");
	assert_string_equal(r->tag, "v2");
	assert_string_equal(r->digest, D256);
	_cleanup_free_ char *name = ref_name(r);
	assert_string_equal(name, "localhost:5000/ns/app");
	ref_free(steal_pointer(&r));

	assert_int_equal(ref_parse("busybox", &r, &e), 0);
	assert_null(r->tag);
	assert_null(r->digest);
	assert_null(e.msg);
}

static void test_ref_local(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "busybox", "localhost/busybox:latest" },
		{ "user/app:1", "localhost/user/app:1" },
		{ "busybox@" D256, "localhost/busybox@" D256 },
		{ "busybox:2@" D256, "localhost/busybox:2@" D256 },
		{ "quay.io/x/y", "quay.io/x/y:latest" },
		{ "docker.io/busybox", "docker.io/library/busybox:latest" },
		{ "localhost/foo:2", "localhost/foo:2" },
		{ "localhost:5000/foo", "localhost:5000/foo:latest" },
		{ "Busybox", NULL },
		{ H64, NULL },
		{ "", NULL },
		{ "bad name", NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_ref_ struct image_ref *r = NULL;
		_cleanup_kerror_ struct kerror e = { 0 };
		int ret = ref_parse_local(cases[i][0], &r, &e);
		if (!cases[i][1]) {
			assert_true(ret < 0);
			assert_non_null(e.msg);
			continue;
		}
		assert_int_equal(ret, 0);
		_cleanup_free_ char *s = ref_string(r);
		assert_string_equal(s, cases[i][1]);
	}
}

static void check_candidates(const char *in, const char *a, const char *b)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_strv_ char **v = ref_local_candidates(in, &e);

	if (!a) {
		assert_null(v);
		assert_non_null(e.msg);
		return;
	}
	assert_non_null(v);
	assert_int_equal(strv_len(v), b ? 2 : 1);
	assert_string_equal(v[0], a);
	if (b)
		assert_string_equal(v[1], b);
}

static void test_ref_candidates(void **state)
{
	(void)state;
	check_candidates("busybox", "localhost/busybox:latest", "docker.io/library/busybox:latest");
	check_candidates("user/app:1", "localhost/user/app:1", "docker.io/user/app:1");
	check_candidates("busybox@" D256, "localhost/busybox@" D256,
			 "docker.io/library/busybox@" D256);
	check_candidates("quay.io/a/b", "quay.io/a/b:latest", NULL);
	check_candidates("docker.io/busybox:1", "docker.io/library/busybox:1", NULL);
	check_candidates("localhost/foo", "localhost/foo:latest", NULL);
	check_candidates("localhost:5000/foo@" D256, "localhost:5000/foo@" D256, NULL);
	check_candidates("bad name", NULL, NULL);
	check_candidates("Busybox", NULL, NULL);
	check_candidates("", NULL, NULL);
}

static void test_ref_familiar(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "docker.io/library/busybox:latest", "busybox:latest" },
		{ "busybox", "busybox" },
		{ "docker.io/user/app", "user/app" },
		{ "docker.io/library/a/b", "library/a/b" },
		{ "quay.io/x/y:1", "quay.io/x/y:1" },
		{ "localhost/foo", "localhost/foo" },
		{ "busybox:1@" D256, "busybox:1@" D256 },
		{ "localhost:5000/library/foo", "localhost:5000/library/foo" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_ref_ struct image_ref *r = NULL;
		struct kerror e = { 0 };
		assert_int_equal(ref_parse(cases[i][0], &r, &e), 0);
		_cleanup_free_ char *s = ref_familiar(r);
		assert_string_equal(s, cases[i][1]);
	}
}

static void test_ref_short_and_tags(void **state)
{
	(void)state;
	assert_true(ref_is_short("busybox"));
	assert_true(ref_is_short("busybox:1"));
	assert_true(ref_is_short("user/app"));
	assert_true(ref_is_short("localhost"));
	assert_false(ref_is_short("localhost/x"));
	assert_false(ref_is_short("a.b/c"));
	assert_false(ref_is_short("a:1/c"));
	assert_false(ref_is_short("Foo/bar"));
	assert_false(ref_is_short("docker.io/busybox"));

	assert_true(ref_tag_valid("latest"));
	assert_true(ref_tag_valid("_x"));
	assert_true(ref_tag_valid("V1.2-rc_3"));
	assert_true(ref_tag_valid(T128));
	assert_false(ref_tag_valid(T128 "x"));
	assert_false(ref_tag_valid(""));
	assert_false(ref_tag_valid(NULL));
	assert_false(ref_tag_valid(".x"));
	assert_false(ref_tag_valid("-x"));
	assert_false(ref_tag_valid("a:b"));
	assert_false(ref_tag_valid("a/b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_table),
		cmocka_unit_test(test_ref_fields),
		cmocka_unit_test(test_ref_local),
		cmocka_unit_test(test_ref_candidates),
		cmocka_unit_test(test_ref_familiar),
		cmocka_unit_test(test_ref_short_and_tags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
