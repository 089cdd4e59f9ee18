/* Unit tests for registry/'s pure parts: WWW-Authenticate, registries.conf
 * resolution, auth.json look-ups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"

static void test_challenge(void **state)
{
	struct auth_challenge c;
	(void)state;
	assert_int_equal(auth_challenge_parse("Bearer realm=\"https://auth.docker.io/token\","
					      "service=\"registry.docker.io\","
					      "scope=\"repository:samalba/my-app:pull,push\"", &c), 0);
	assert_string_equal(c.scheme, "bearer");
	assert_string_equal(c.realm, "https://auth.docker.io/token");
	assert_string_equal(c.service, "registry.docker.io");
	assert_string_equal(c.scope, "repository:samalba/my-app:pull,push");
	auth_challenge_release(&c);
	assert_int_equal(auth_challenge_parse("Basic realm=\"Registry Realm\"", &c), 0);
	assert_string_equal(c.scheme, "basic");
	assert_string_equal(c.realm, "Registry Realm");
	auth_challenge_release(&c);
	/* Unknown scheme first, escapes, case-insensitive names. */
	assert_int_equal(auth_challenge_parse("Negotiate abc==, BEARER REALM=\"a\\\"b\", "
					      "error=insufficient_scope", &c), 0);
	assert_string_equal(c.scheme, "bearer");
	assert_string_equal(c.realm, "a\"b");
	assert_string_equal(c.error, "insufficient_scope");
	auth_challenge_release(&c);
	assert_int_equal(auth_challenge_parse("Bearer service=\"x\"", &c), -EINVAL);
	assert_int_equal(auth_challenge_parse("Bearer realm=\"unterminated", &c), -EINVAL);
	assert_int_equal(auth_challenge_parse("", &c), -EINVAL);
	assert_int_equal(auth_challenge_parse(",,,", &c), -EINVAL);
}

static const char conf_text[] =
	"unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n"
	"[aliases]\n"
	"\"fedora\" = \"registry.fedoraproject.org/fedora\"\n"
	"[[registry]]\n"
	"prefix = \"example.com/foo\"\n"
	"location = \"internal.example.com/bar\"\n"
	"[[registry.mirror]]\n"
	"location = \"mirror.local/foo\"\n"
	"[[registry.mirror]]\n"
	"location = \"digests.local/foo\"\n"
	"pull-from-mirror = \"digest-only\"\n"
	"[[registry]]\n"
	"location = \"blocked.io\"\n"
	"blocked = true\n";

static void test_conf(void **state)
{
	struct registries_conf c = { 0 };
	struct kerror e = { 0 };
	struct pull_source *src;
	char **v;
	size_t n;
	(void)state;

	assert_int_equal(registries_conf_parse(conf_text, strlen(conf_text), "t", &c, &e), 0);
	assert_int_equal(registries_resolve_short(&c, "fedora:39", &v, &e), 0);
	assert_string_equal(v[0], "registry.fedoraproject.org/fedora:39");
	assert_null(v[1]);
	strv_free(v);
	assert_int_equal(registries_resolve_short(&c, "alpine", &v, &e), 0);
	assert_string_equal(v[0], "quay.io/alpine:latest");
	assert_string_equal(v[1], "docker.io/library/alpine:latest");
	strv_free(v);
	assert_int_equal(registries_resolve_short(&c, "localhost:5000/x", &v, &e), 0);
	assert_string_equal(v[0], "localhost:5000/x:latest");
	strv_free(v);

	assert_int_equal(registries_pull_sources(&c, "example.com/foo/app:1", &src, &n, &e), 0);
	assert_int_equal(n, 2); /* the digest-only mirror is skipped for a tag */
	assert_string_equal(src[0].ref, "mirror.local/foo/app:1");
	assert_string_equal(src[1].ref, "internal.example.com/bar/app:1");
	pull_sources_free(src, n);
	assert_null(registries_find(&c, "example.com/foobar/app"));
	assert_int_equal(registries_pull_sources(&c, "blocked.io/x:1", &src, &n, &e), -EACCES);
	kerror_release(&e);
	registries_conf_release(&c);

	/* Nothing configured: Docker Hub. */
	assert_int_equal(registries_resolve_short(&c, "busybox", &v, &e), 0);
	assert_string_equal(v[0], "docker.io/library/busybox:latest");
	strv_free(v);
	assert_int_equal(registries_conf_parse("x = [", 5, "bad", &c, &e), -EINVAL);
	kerror_release(&e);
	registries_conf_release(&c);

	/* Wrong types and values are refused with a reason, never ignored. */
	static const char *const bad[][2] = {
		{ "aliases = \"busybox\"", "[aliases] must be a table" },
		{ "short-name-mode = \"yolo\"", "short-name-mode must be" },
		{ "short-name-mode = 1", "short-name-mode must be" },
		{ "[[registry]]\nlocation = 7", "prefix and location must be strings" },
		{ "[[registry]]\nprefix = \"docker.io\"\nlocation = \"../../etc\"",
		  "\"../../etc\" is not a valid registry location" },
		{ "[[registry]]\nlocation = \"a b.io\"", "is not a valid registry location" },
		{ "[[registry]]\nlocation = \"a.io//x\"", "is not a valid registry location" },
		{ "[[registry]]\nlocation = \"a.io\"\ninsecure = \"yes\"", "insecure must be true or false" },
		{ "registry = [1]", "[[registry]] must be an array of tables" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (registries_conf_parse(bad[i][0], strlen(bad[i][0]), "t", &c, &e) != -EINVAL ||
		    !strstr(e.msg, bad[i][1]))
			fail_msg("case %zu: %s", i, e.msg ? e.msg : "accepted");
		kerror_release(&e);
		registries_conf_release(&c);
	}
	static const char good[] = "[[registry]]\nprefix = \"*.example.com\"\n"
				   "location = \"[::1]:5000/ns/repo_x-y\"\n";
	assert_int_equal(registries_conf_parse(good, strlen(good), "t", &c, &e), 0);
	registries_conf_release(&c);
}

static void test_authfile(void **state)
{
	/* alice:s3cret, bob:pa:ss (split at the first colon) */
	static const char j[] =
		"{\"auths\":{\"reg.io/team\":{\"auth\":\"YWxpY2U6czNjcmV0\"},"
		"\"https://index.docker.io/v1/\":{\"auth\":\"Ym9iOnBhOnNz\"},"
		"\"empty.io\":{},\"bad.io\":{\"auth\":\"!!!\"}}}";
	struct auth_creds cr;
	struct kerror e = { 0 };
	(void)state;

	assert_int_equal(authfile_lookup_data(j, strlen(j), "t", "reg.io/team/app", &cr, &e), 0);
	assert_string_equal(cr.user, "alice");
	assert_string_equal(cr.pass, "s3cret");
	auth_creds_release(&cr);
	assert_int_equal(authfile_lookup_data(j, strlen(j), "t", "reg.io/other", &cr, &e), -ENOENT);
	assert_int_equal(authfile_lookup_data(j, strlen(j), "t", "docker.io/library/x", &cr, &e), 0);
	assert_string_equal(cr.user, "bob");
	assert_string_equal(cr.pass, "pa:ss");
	auth_creds_release(&cr);
	assert_int_equal(authfile_lookup_data(j, strlen(j), "t", "empty.io", &cr, &e), -ENOENT);
	/* A malformed entry is an error naming it (podman refuses it too). */
	assert_int_equal(authfile_lookup_data(j, strlen(j), "t", "bad.io", &cr, &e), -EINVAL);
	assert_string_equal(e.msg, "reading \"t\": auths[\"bad.io\"].auth is not base64 of "
			    "\"user:password\"");
	static const char *const bad[][2] = {
		{ "{\"auths\":[]}", "\"auths\" is not an object" },
		{ "{\"auths\":{\"x.io\":\"u:p\"}}", "auths[\"x.io\"] is not an object" },
		{ "{\"auths\":{\"x.io\":{\"auth\":42}}}", "auths[\"x.io\"].auth is not base64" },
		{ "{\"auths\":{\"x.io\":{\"auth\":\"bm9jb2xvbg==\"}}}", "is not base64 of" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		kerror_release(&e);
		assert_int_equal(authfile_lookup_data(bad[i][0], strlen(bad[i][0]), "t", "x.io/a",
						      &cr, &e), -EINVAL);
		assert_non_null(strstr(e.msg, bad[i][1]));
	}
	assert_true(authfile_lookup_data("{", 1, "t", "x", &cr, &e) < 0);
	kerror_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_authfile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
