/* Unit tests for sign/'s registries.d parsing, lookaside URL layout and
 * file:// signature storage, and the signature payload parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign.h"

#define HEX "817a12c32a39bbe394944ba49de563e085f1d3c5266eb8e9723256bc4448680e"

static struct sign_registries_d *rd_from(const char *yaml)
{
	struct kerror e = { 0 };
	struct sign_registries_d *rd = sign_registries_d_new();
	if (sign_registries_d_add(rd, yaml, strlen(yaml), "test.yaml", &e) < 0)
		fail_msg("registries.d: %s", e.msg);
	return rd;
}

static void lookup(const struct sign_registries_d *rd, const char *ref_s, struct sign_lookaside *l)
{
	struct kerror e = { 0 };
	_cleanup_ref_ struct image_ref *ref = NULL;
	assert_int_equal(ref_parse(ref_s, &ref, &e), 0);
	assert_int_equal(sign_lookaside_for(rd, ref, l, &e), 0);
}

static void test_registries_d_scopes(void **state)
{
	(void)state;
	struct sign_lookaside l;
	_cleanup_sign_registries_d_ struct sign_registries_d *rd = rd_from(
		"default-docker:\n"
		"  lookaside: https://sigs.example.com/default\n"
		"docker:\n"
		"  registry.example.com:\n"
		"    lookaside: https://sigs.example.com/reg\n"
		"  registry.example.com/mydept:\n"
		"    lookaside: https://sigs.example.com/dept\n"
		"    lookaside-staging: file:///mnt/dept/staging\n"
		"  registry.example.com/mydept/app:v1:\n"
		"    use-sigstore-attachments: true\n"
		"  legacy.example.com:\n"
		"    sigstore: https://old.example.com/sigs\n"
		"    sigstore-staging: file:///var/old\n"
		"  docker.io/library/busybox:\n"
		"    lookaside: file:///srv/busybox\n"
		"    use-sigstore-attachments: false\n"
		"  '*.example.net':\n"
		"    lookaside: https://wild.example.net\n");

	lookup(rd, "registry.example.com/mydept/app:v1", &l);
	/* The full-reference scope has no lookaside: falls through to the namespace. */
	assert_string_equal(l.read_base, "https://sigs.example.com/dept");
	assert_string_equal(l.write_base, "file:///mnt/dept/staging");
	assert_true(l.use_sigstore_attachments);
	sign_lookaside_release(&l);

	lookup(rd, "registry.example.com/mydept/app:v2", &l);
	assert_false(l.use_sigstore_attachments);
	sign_lookaside_release(&l);

	lookup(rd, "registry.example.com/other/app", &l);
	assert_string_equal(l.read_base, "https://sigs.example.com/reg");
	assert_string_equal(l.write_base, "https://sigs.example.com/reg");
	sign_lookaside_release(&l);

	lookup(rd, "legacy.example.com/x", &l);
	assert_string_equal(l.read_base, "https://old.example.com/sigs");
	assert_string_equal(l.write_base, "file:///var/old");
	sign_lookaside_release(&l);

	lookup(rd, "busybox", &l);
	assert_string_equal(l.read_base, "file:///srv/busybox");
	sign_lookaside_release(&l);

	lookup(rd, "a.b.example.net/x", &l);
	assert_string_equal(l.read_base, "https://wild.example.net");
	sign_lookaside_release(&l);

	lookup(rd, "quay.io/x/y", &l);
	assert_string_equal(l.read_base, "https://sigs.example.com/default");
	sign_lookaside_release(&l);
}

static void test_registries_d_default(void **state)
{
	(void)state;
	struct sign_lookaside l;
	_cleanup_sign_registries_d_ struct sign_registries_d *rd = rd_from("");
	_cleanup_free_ char *old = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
	setenv("HOME", "/home/someone", 1);
	lookup(rd, "quay.io/x/y", &l);
	if (geteuid() == 0)
		assert_string_equal(l.read_base, "file:///var/lib/containers/sigstore");
	else
		assert_string_equal(l.read_base, "file:///home/someone/.local/share/containers/sigstore");
	assert_string_equal(l.read_base, l.write_base);
	assert_false(l.use_sigstore_attachments);
	sign_lookaside_release(&l);
	if (old)
		setenv("HOME", old, 1);
}

struct bad_yaml {
	const char *yaml, *err;
};

static void test_registries_d_errors(void **state)
{
	(void)state;
	static const struct bad_yaml cases[] = {
		{ "docker: [1, 2]\n", "expected a mapping" },
		{ "docker:\n  a.io:\n    lookaside: [x]\n", "must be a string" },
		{ "docker:\n  a.io:\n    use-sigstore-attachments: maybe\n", "must be a boolean" },
		{ "docker:\n  a.io: {}\n  a.io: {}\n", "defined twice" },
		{ "docker:\n  a.io: {lookaside: \"x\n", "invalid YAML" },
		{ "- a\n- b\n", "top level must be a mapping" },
		{ "docker:\n  a.io:\n    lookaside: ftp://x\n", "unsupported URL scheme" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct kerror e = { 0 };
		_cleanup_sign_registries_d_ struct sign_registries_d *rd = sign_registries_d_new();
		int r = sign_registries_d_add(rd, cases[i].yaml, strlen(cases[i].yaml), "bad.yaml", &e);
		if (r == 0) {
			/* Some errors show only when the scope is used. */
			struct sign_lookaside l;
			_cleanup_ref_ struct image_ref *ref = NULL;
			assert_int_equal(ref_parse("a.io/x", &ref, &e), 0);
			r = sign_lookaside_for(rd, ref, &l, &e);
			if (r == 0)
				sign_lookaside_release(&l);
		}
		if (r == 0 || !strstr(e.msg, cases[i].err))
			fail_msg("case %zu: got %d \"%s\", want \"%s\"", i, r, e.msg ? e.msg : "",
				 cases[i].err);
		kerror_release(&e);
	}
	/* The same scope or default-docker in two files. */
	struct kerror e = { 0 };
	_cleanup_sign_registries_d_ struct sign_registries_d *rd = rd_from("docker:\n  a.io: {}\ndefault-docker: {}\n");
	assert_int_not_equal(sign_registries_d_add(rd, "docker:\n  a.io: {}\n", 19, "two.yaml", &e), 0);
	assert_non_null(strstr(e.msg, "already defined in \"test.yaml\""));
	assert_int_not_equal(sign_registries_d_add(rd, "default-docker: {}\n", 19, "two.yaml", &e), 0);
	assert_non_null(strstr(e.msg, "default-docker is already defined"));
	kerror_release(&e);
}

static void test_registries_d_dir(void **state)
{
	(void)state;
	char dir[] = "/tmp/kiln-regd-XXXXXX";
	struct kerror e = { 0 };
	struct sign_lookaside l;
	assert_non_null(mkdtemp(dir));
	_cleanup_free_ char *a = xasprintf("%s/a.yaml", dir), *b = xasprintf("%s/b.yaml", dir),
			    *c = xasprintf("%s/c.yml.bak", dir);
	assert_int_equal(fs_write_atomic(a, "docker:\n  a.io:\n    lookaside: file:///a\n", 40, 0644, &e), 0);
	assert_int_equal(fs_write_atomic(b, "default-docker:\n  lookaside: file:///d\n", 39, 0644, &e), 0);
	assert_int_equal(fs_write_atomic(c, "not: [yaml", 10, 0644, &e), 0);
	struct sign_registries_d *rd = NULL;
	assert_int_equal(sign_registries_d_load(dir, &rd, &e), 0);
	lookup(rd, "a.io/x", &l);
	assert_string_equal(l.read_base, "file:///a");
	sign_lookaside_release(&l);
	lookup(rd, "b.io/x", &l);
	assert_string_equal(l.read_base, "file:///d");
	sign_lookaside_release(&l);
	sign_registries_d_free(rd);
	/* A missing directory is an empty configuration. */
	_cleanup_free_ char *missing = xasprintf("%s/nope", dir);
	assert_int_equal(sign_registries_d_load(missing, &rd, &e), 0);
	sign_registries_d_free(rd);
	assert_int_equal(fs_rm_rf(dir, &e), 0);
}

static void test_lookaside_url(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	_cleanup_ref_ struct image_ref *bb = NULL, *deep = NULL;
	assert_int_equal(ref_parse("busybox:latest", &bb, &e), 0);
	assert_int_equal(ref_parse("localhost:5000/a/b/c@sha256:" HEX, &deep, &e), 0);
	_cleanup_free_ char *u1 = sign_lookaside_url("https://sigs.example.com/lookaside", bb, "sha256:" HEX, 1);
	assert_string_equal(u1, "https://sigs.example.com/lookaside/library/busybox@sha256=" HEX "/signature-1");
	_cleanup_free_ char *u2 = sign_lookaside_url("file:///var/lib/containers/sigstore/", deep, "sha256:" HEX, 12);
	assert_string_equal(u2, "file:///var/lib/containers/sigstore/a/b/c@sha256=" HEX "/signature-12");
	assert_null(sign_lookaside_url("https://x", bb, "sha256:../../etc", 1));
	assert_null(sign_lookaside_url("https://x", bb, "sha256:" HEX, 0));
}

static void test_lookaside_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/kiln-lookaside-XXXXXX";
	struct kerror e = { 0 };
	_cleanup_ref_ struct image_ref *ref = NULL;
	struct sign_bytes *sigs = NULL;
	size_t n = 9;
	unsigned idx = 0;
	assert_non_null(mkdtemp(dir));
	_cleanup_free_ char *base = xasprintf("file://%s/store", dir);
	assert_int_equal(ref_parse("quay.io/ns/app:1", &ref, &e), 0);

	assert_int_equal(sign_lookaside_read(base, ref, "sha256:" HEX, &sigs, &n, &e), 0);
	assert_int_equal(n, 0);
	sign_bytes_free_array(sigs, n);
	assert_int_equal(sign_lookaside_write(base, ref, "sha256:" HEX, "one", 3, &idx, &e), 0);
	assert_int_equal(idx, 1);
	assert_int_equal(sign_lookaside_write(base, ref, "sha256:" HEX, "two!", 4, &idx, &e), 0);
	assert_int_equal(idx, 2);
	_cleanup_free_ char *p1 = xasprintf("%s/store/ns/app@sha256=" HEX "/signature-1", dir);
	assert_true(fs_exists(p1));
	assert_int_equal(sign_lookaside_read(base, ref, "sha256:" HEX, &sigs, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(sigs[0].data, "one", 3);
	assert_int_equal(sigs[1].len, 4);
	sign_bytes_free_array(sigs, n);
	/* Percent escapes in file URLs; hosts and other schemes refused. */
	_cleanup_free_ char *esc = xasprintf("file://%s/st%%6fre", dir);
	assert_int_equal(sign_lookaside_read(esc, ref, "sha256:" HEX, &sigs, &n, &e), 0);
	assert_int_equal(n, 2);
	sign_bytes_free_array(sigs, n);
	assert_int_equal(sign_lookaside_read("https://x/y", ref, "sha256:" HEX, &sigs, &n, &e),
			 -EPROTONOSUPPORT);
	assert_int_equal(sign_lookaside_read("file://host/y", ref, "sha256:" HEX, &sigs, &n, &e), -EINVAL);
	assert_int_equal(sign_lookaside_write(base, ref, "sha256:zz", "x", 1, NULL, &e), -EINVAL);
	kerror_release(&e);
	assert_int_equal(fs_rm_rf(dir, &e), 0);
}

/* ---- payloads ------------------------------------------------------------------- */

static void test_payload_roundtrip(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	struct sign_payload p;
	_cleanup_free_ char *s = sign_payload_create(SIGN_TYPE_SIMPLE, "sha256:" HEX,
						     "docker.io/library/busybox:latest", "kiln", 1483228800);
	assert_string_equal(s, "{\"critical\":{\"type\":\"atomic container signature\",\"image\":"
			       "{\"docker-manifest-digest\":\"sha256:" HEX "\"},\"identity\":"
			       "{\"docker-reference\":\"docker.io/library/busybox:latest\"}},"
			       "\"optional\":{\"creator\":\"kiln\",\"timestamp\":1483228800}}");
	assert_int_equal(sign_payload_parse(s, strlen(s), SIGN_TYPE_SIMPLE, &p, &e), 0);
	assert_string_equal(p.manifest_digest, "sha256:" HEX);
	assert_string_equal(p.docker_reference, "docker.io/library/busybox:latest");
	assert_string_equal(p.creator, "kiln");
	assert_int_equal(p.timestamp, 1483228800);
	sign_payload_release(&p);
	assert_int_not_equal(sign_payload_parse(s, strlen(s), SIGN_TYPE_COSIGN, &p, &e), 0);
	assert_non_null(strstr(e.msg, "unrecognized signature type"));
	kerror_release(&e);
}

static void test_payload_strict(void **state)
{
	(void)state;
	static const struct bad_yaml cases[] = {
		{ "{\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":\"sha256:" HEX "\"},"
		  "\"identity\":{\"docker-reference\":\"busybox:1\"},\"extra\":1},\"optional\":{}}", "unexpected member \"extra\"" },
		{ "{\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":\"sha256:" HEX "\"},"
		  "\"identity\":{\"docker-reference\":\"busybox:1\"}}}", "missing member \"optional\"" },
		{ "{\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":\"sha256:" HEX "\"},"
		  "\"identity\":{\"docker-reference\":\"busybox:1\"}},\"optional\":{},\"x\":1}", "unexpected member \"x\"" },
		{ "{\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":\"sha256:" HEX "\",\"a\":1},"
		  "\"identity\":{\"docker-reference\":\"busybox:1\"}},\"optional\":{}}", "unexpected member \"a\"" },
		{ "{\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":\"sha256:" HEX "\"},"
		  "\"identity\":{\"docker-reference\":\"busybox:1\"}},\"optional\":{\"timestamp\":1.5}}", "timestamp is not an integer" },
		{ "{\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":\"sha256:12\"},"
		  "\"identity\":{\"docker-reference\":\"busybox:1\"}},\"optional\":{}}", "invalid docker-manifest-digest" },
		{ "{\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":\"sha256:" HEX "\"},"
		  "\"identity\":{\"docker-reference\":\"Not/Valid::\"}},\"optional\":{}}", "invalid docker-reference" },
		{ "{\"critical\":{\"type\":\"atomic container signature\",\"type\":\"x\",\"image\":{},\"identity\":{}},\"optional\":{}}",
		  "invalid signature payload" },
		{ "{\"critical\":{\"type\":7,\"image\":{\"docker-manifest-digest\":\"sha256:" HEX "\"},"
		  "\"identity\":{\"docker-reference\":\"busybox:1\"}},\"optional\":{}}", "type is not a string" },
		{ "{\"critical\":[],\"optional\":{}}", "critical is not an object" },
		{ "[]", "signature payload is not an object" },
		{ "{\"critical\":{\"type\":\"atomic container signature\",\"image\":{\"docker-manifest-digest\":\"sha256:" HEX "\"},"
		  "\"identity\":{\"docker-reference\":\"busybox:1\"}},\"optional\":{\"creator\":5}}", "creator is not a string" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct kerror e = { 0 };
		struct sign_payload p;
		int r = sign_payload_parse(cases[i].yaml, strlen(cases[i].yaml), SIGN_TYPE_SIMPLE, &p, &e);
		if (r == 0 || !strstr(e.msg, cases[i].err))
			fail_msg("case %zu: got %d \"%s\", want \"%s\"", i, r, e.msg ? e.msg : "", cases[i].err);
		kerror_release(&e);
	}
	/* optional null and unknown optional members are fine. */
	const char *ok = "{\"critical\":{\"identity\":{\"docker-reference\":\"ghcr.io/o/a\"},\"image\":"
			 "{\"docker-manifest-digest\":\"sha256:" HEX "\"},\"type\":\"cosign container image signature\"},"
			 "\"optional\":null}";
	struct kerror e = { 0 };
	struct sign_payload p;
	assert_int_equal(sign_payload_parse(ok, strlen(ok), SIGN_TYPE_COSIGN, &p, &e), 0);
	assert_null(p.creator);
	assert_int_equal(p.timestamp, -1);
	sign_payload_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registries_d_scopes),
		cmocka_unit_test(test_registries_d_default),
		cmocka_unit_test(test_registries_d_errors),
		cmocka_unit_test(test_registries_d_dir),
		cmocka_unit_test(test_lookaside_url),
		cmocka_unit_test(test_lookaside_files),
		cmocka_unit_test(test_payload_roundtrip),
		cmocka_unit_test(test_payload_strict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
