/* Unit tests for sign/'s policy: strict parsing (one named test per case),
 * scope precedence, and signedIdentity matching.  No crypto here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign.h"

/* ---- parsing ------------------------------------------------------------- */

struct parse_case {
	const char *name;
	const char *json;
	const char *err; /* NULL: must parse; else a substring of the error */
};

#define ACCEPT "{\"type\":\"insecureAcceptAnything\"}"
#define GPG_KEY "\"keyType\":\"GPGKeys\",\"keyPath\":\"/k.gpg\""

static const struct parse_case parse_cases[] = {
	{ "minimal", "{\"default\":[" ACCEPT "]}", NULL },
	{ "reject default", "{\"default\":[{\"type\":\"reject\"}]}", NULL },
	{ "transports and scopes",
	  "{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"\":[" ACCEPT "],"
	  "\"example.com/app\":[{\"type\":\"signedBy\"," GPG_KEY "}],\"*.example.org\":[" ACCEPT "]},"
	  "\"docker-daemon\":{\"\":[" ACCEPT "]}}}",
	  NULL },
	{ "unknown top-level field", "{\"default\":[" ACCEPT "],\"defualt\":[]}", "unknown field \"defualt\"" },
	{ "missing default", "{\"transports\":{}}", "default policy is missing" },
	{ "duplicate key", "{\"default\":[" ACCEPT "],\"default\":[" ACCEPT "]}", "invalid JSON" },
	{ "empty requirement list", "{\"default\":[]}", "must not be empty" },
	{ "empty scope list", "{\"default\":[" ACCEPT "],\"transports\":{\"docker\":{\"a.io\":[]}}}",
	  "must not be empty" },
	{ "default not an array", "{\"default\":{\"type\":\"reject\"}}", "expected an array" },
	{ "unknown requirement type", "{\"default\":[{\"type\":\"acceptAll\"}]}",
	  "unknown policy requirement type \"acceptAll\"" },
	{ "requirement without type", "{\"default\":[{}]}", "missing field \"type\"" },
	{ "extra field on reject", "{\"default\":[{\"type\":\"reject\",\"x\":1}]}",
	  "unknown field \"x\"" },
	{ "signedBy keyPath", "{\"default\":[{\"type\":\"signedBy\"," GPG_KEY "}]}", NULL },
	{ "signedBy keyPaths",
	  "{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPaths\":[\"/a\",\"/b\"]}]}",
	  NULL },
	{ "signedBy keyData",
	  "{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyData\":\"aGVsbG8=\"}]}",
	  NULL },
	{ "signedBy two key sources",
	  "{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"/a\","
	  "\"keyData\":\"aGVsbG8=\"}]}",
	  "more than one present" },
	{ "signedBy no key source", "{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\"}]}",
	  "none of them present" },
	{ "signedBy bad keyType",
	  "{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"PGP\",\"keyPath\":\"/a\"}]}",
	  "unrecognized keyType" },
	{ "signedBy missing keyType", "{\"default\":[{\"type\":\"signedBy\",\"keyPath\":\"/a\"}]}",
	  "missing field \"keyType\"" },
	{ "signedBy keyData not base64",
	  "{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyData\":\"***\"}]}",
	  "not valid base64" },
	{ "signedBy keyPaths empty",
	  "{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPaths\":[]}]}",
	  "non-empty array" },
	{ "signedBy keyPath wrong type",
	  "{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":7}]}",
	  "non-empty string" },
	{ "signedBy unknown field",
	  "{\"default\":[{\"type\":\"signedBy\"," GPG_KEY ",\"keyFile\":\"/x\"}]}",
	  "unknown field \"keyFile\"" },
	{ "signedIdentity matchRepository",
	  "{\"default\":[{\"type\":\"signedBy\"," GPG_KEY ",\"signedIdentity\":{\"type\":\"matchRepository\"}}]}",
	  NULL },
	{ "signedIdentity unknown type",
	  "{\"default\":[{\"type\":\"signedBy\"," GPG_KEY ",\"signedIdentity\":{\"type\":\"matchAll\"}}]}",
	  "unknown signedIdentity type" },
	{ "signedIdentity extra field",
	  "{\"default\":[{\"type\":\"signedBy\"," GPG_KEY ",\"signedIdentity\":{\"type\":\"matchExact\",\"x\":1}}]}",
	  "unknown field \"x\"" },
	{ "exactReference needs tag or digest",
	  "{\"default\":[{\"type\":\"signedBy\"," GPG_KEY ",\"signedIdentity\":{\"type\":\"exactReference\","
	  "\"dockerReference\":\"docker.io/library/busybox\"}}]}",
	  "neither a tag nor digest" },
	{ "exactReference invalid",
	  "{\"default\":[{\"type\":\"signedBy\"," GPG_KEY ",\"signedIdentity\":{\"type\":\"exactReference\","
	  "\"dockerReference\":\"busybox:bad!tag\"}}]}",
	  "invalid dockerReference" },
	{ "exactReference missing field",
	  "{\"default\":[{\"type\":\"signedBy\"," GPG_KEY ",\"signedIdentity\":{\"type\":\"exactReference\"}}]}",
	  "missing field \"dockerReference\"" },
	{ "exactRepository",
	  "{\"default\":[{\"type\":\"signedBy\"," GPG_KEY ",\"signedIdentity\":{\"type\":\"exactRepository\","
	  "\"dockerRepository\":\"quay.io/ns/app\"}}]}",
	  NULL },
	{ "remapIdentity",
	  "{\"default\":[{\"type\":\"signedBy\"," GPG_KEY ",\"signedIdentity\":{\"type\":\"remapIdentity\","
	  "\"prefix\":\"mirror.local:5000/docker\",\"signedPrefix\":\"docker.io/library\"}}]}",
	  NULL },
	{ "remapIdentity bad prefix",
	  "{\"default\":[{\"type\":\"signedBy\"," GPG_KEY ",\"signedIdentity\":{\"type\":\"remapIdentity\","
	  "\"prefix\":\"mirror.local/app:tag\",\"signedPrefix\":\"docker.io\"}}]}",
	  "prefix \"mirror.local/app:tag\" is not valid" },
	{ "remapIdentity missing signedPrefix",
	  "{\"default\":[{\"type\":\"signedBy\"," GPG_KEY ",\"signedIdentity\":{\"type\":\"remapIdentity\","
	  "\"prefix\":\"a.io\"}}]}",
	  "missing field \"signedPrefix\"" },
	{ "sigstoreSigned keyPath", "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/k.pub\"}]}",
	  NULL },
	{ "sigstoreSigned keyDatas",
	  "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyDatas\":[\"aGVsbG8=\",\"aGk=\"]}]}", NULL },
	{ "sigstoreSigned no key", "{\"default\":[{\"type\":\"sigstoreSigned\"}]}",
	  "none of them present" },
	{ "sigstoreSigned keyType not allowed",
	  "{\"default\":[{\"type\":\"sigstoreSigned\",\"keyType\":\"GPGKeys\",\"keyPath\":\"/a\"}]}",
	  "unknown field \"keyType\"" },
	{ "sigstoreSigned fulcio parses",
	  "{\"default\":[{\"type\":\"sigstoreSigned\",\"fulcio\":{\"caPath\":\"/ca\"},"
	  "\"rekorPublicKeyPath\":\"/r\"}]}",
	  NULL },
	{ "docker-archive scope refused",
	  "{\"default\":[" ACCEPT "],\"transports\":{\"docker-archive\":{\"/x.tar\":[" ACCEPT "]}}}",
	  "does not support any scopes" },
	{ "oci relative scope refused",
	  "{\"default\":[" ACCEPT "],\"transports\":{\"oci\":{\"rel/path\":[" ACCEPT "]}}}",
	  "absolute, clean path" },
	{ "dir root scope refused",
	  "{\"default\":[" ACCEPT "],\"transports\":{\"dir\":{\"/\":[" ACCEPT "]}}}",
	  "absolute, clean path" },
	{ "dir unclean scope refused",
	  "{\"default\":[" ACCEPT "],\"transports\":{\"dir\":{\"/a/../b\":[" ACCEPT "]}}}",
	  "absolute, clean path" },
	{ "docker bad wildcard",
	  "{\"default\":[" ACCEPT "],\"transports\":{\"docker\":{\"*example.com\":[" ACCEPT "]}}}",
	  "invalid docker scope" },
	{ "transports not an object", "{\"default\":[" ACCEPT "],\"transports\":[]}", "expected an object" },
	{ "not JSON", "default: reject", "invalid JSON" },
	{ "trailing garbage", "{\"default\":[" ACCEPT "]} x", "invalid JSON" },
};

static void test_parse_case(void **state)
{
	const struct parse_case *c = *state;
	struct kerror e = { 0 };
	struct sign_policy *p = NULL;
	int r = sign_policy_parse(c->json, strlen(c->json), &p, &e);

	if (!c->err) {
		if (r != 0)
			fail_msg("%s: %s", c->name, e.msg);
		assert_non_null(p);
	} else {
		assert_int_not_equal(r, 0);
		assert_null(p);
		assert_non_null(e.msg);
		if (!strstr(e.msg, c->err))
			fail_msg("%s: error \"%s\" lacks \"%s\"", c->name, e.msg, c->err);
		assert_true(strncmp(e.msg, "invalid policy", 14) == 0);
	}
	sign_policy_free(p);
	kerror_release(&e);
}

static void test_parse_values(void **state)
{
	(void)state;
	const char *j = "{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{"
			"\"a.io\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyData\":\"aGVsbG8=\","
			"\"signedIdentity\":{\"type\":\"remapIdentity\",\"prefix\":\"a.io\",\"signedPrefix\":\"b.io/x\"}}],"
			"\"b.io\":[{\"type\":\"sigstoreSigned\",\"keyPaths\":[\"/1\",\"/2\"]}]}}}";
	struct kerror e = { 0 };
	_cleanup_sign_policy_ struct sign_policy *p = NULL;
	assert_int_equal(sign_policy_parse(j, strlen(j), &p, &e), 0);
	assert_int_equal(p->dflt.n, 1);
	assert_int_equal(p->dflt.v[0].kind, SIGN_REQ_REJECT);
	assert_int_equal(p->n_transports, 1);
	assert_int_equal(p->transports[0].n_scopes, 2);
	const struct sign_requirement *r = &p->transports[0].scopes[0].reqs.v[0];
	assert_int_equal(r->kind, SIGN_REQ_SIGNED_BY);
	assert_int_equal(r->n_key_datas, 1);
	assert_memory_equal(r->key_datas[0].data, "hello", 5);
	assert_int_equal(r->identity.kind, SIGN_ID_REMAP_IDENTITY);
	assert_string_equal(r->identity.signed_prefix, "b.io/x");
	r = &p->transports[0].scopes[1].reqs.v[0];
	assert_int_equal(r->kind, SIGN_REQ_SIGSTORE_SIGNED);
	assert_int_equal(strv_len(r->key_paths), 2);
	assert_int_equal(r->identity.kind, SIGN_ID_MATCH_REPO_DIGEST_OR_EXACT);
}

static void test_policy_path(void **state)
{
	(void)state;
	char dir[] = "/tmp/kiln-sign-home-XXXXXX";
	struct kerror e = { 0 };
	assert_non_null(mkdtemp(dir));
	_cleanup_free_ char *old = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
	setenv("HOME", dir, 1);
	_cleanup_free_ char *p1 = sign_policy_path("/my/policy.json");
	assert_string_equal(p1, "/my/policy.json");
	_cleanup_free_ char *p2 = sign_policy_path(NULL);
	assert_string_equal(p2, "/etc/containers/policy.json");
	_cleanup_free_ char *d = xasprintf("%s/.config/containers", dir);
	_cleanup_free_ char *f = xasprintf("%s/policy.json", d);
	assert_int_equal(fs_mkdir_p(d, 0700, &e), 0);
	assert_int_equal(fs_write_atomic(f, "{\"default\":[{\"type\":\"reject\"}]}", 31, 0644, &e), 0);
	_cleanup_free_ char *p3 = sign_policy_path(NULL);
	assert_string_equal(p3, f);
	struct sign_policy *p = NULL;
	assert_int_equal(sign_policy_load(NULL, &p, &e), 0);
	assert_int_equal(p->dflt.v[0].kind, SIGN_REQ_REJECT);
	sign_policy_free(p);
	assert_int_equal(fs_write_atomic(f, "{\"default\":[]}", 14, 0644, &e), 0);
	assert_int_not_equal(sign_policy_load(NULL, &p, &e), 0);
	assert_non_null(strstr(e.msg, f));
	assert_int_equal(sign_policy_load("/nonexistent/policy.json", &p, &e), -ENOENT);
	kerror_release(&e);
	if (old)
		setenv("HOME", old, 1);
	assert_int_equal(fs_rm_rf(dir, &e), 0);
}

/* ---- scope precedence ---------------------------------------------------- */

static const char scope_policy[] =
	"{\"default\":[{\"type\":\"reject\"}],\"transports\":{"
	"\"docker\":{"
	"\"\":[{\"type\":\"insecureAcceptAnything\"}],"
	"\"docker.io/library/busybox:1.36\":[{\"type\":\"reject\"}],"
	"\"docker.io/library/busybox\":[{\"type\":\"reject\"}],"
	"\"docker.io/library\":[{\"type\":\"reject\"}],"
	"\"quay.io\":[{\"type\":\"reject\"}],"
	"\"localhost:5000\":[{\"type\":\"reject\"}],"
	"\"reg.example.com/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\":[{\"type\":\"reject\"}],"
	"\"reg.example.com/team\":[{\"type\":\"reject\"}],"
	"\"*.example.com\":[{\"type\":\"reject\"}],"
	"\"*.com\":[{\"type\":\"reject\"}],"
	"\"*.internal.example.org\":[{\"type\":\"reject\"}]},"
	"\"oci\":{\"/srv/images\":[{\"type\":\"reject\"}],\"/srv/images/app\":[{\"type\":\"reject\"}]},"
	"\"docker-archive\":{\"\":[{\"type\":\"insecureAcceptAnything\"}]}}}";

struct scope_case {
	const char *transport, *ref, *scope, *want;
};

static const struct scope_case scope_cases[] = {
	{ "docker", "busybox:1.36", NULL, "docker.io/library/busybox:1.36" },
	{ "docker", "busybox", NULL, "docker.io/library/busybox" },     /* :latest, repo wins */
	{ "docker", "busybox:1.35", NULL, "docker.io/library/busybox" },
	{ "docker", "alpine", NULL, "docker.io/library" },              /* parent namespace */
	{ "docker", "docker.io/someone/tool", NULL, "" },               /* transport default */
	{ "docker", "quay.io/ns/deep/app:1", NULL, "quay.io" },         /* host */
	{ "docker", "localhost:5000/x", NULL, "localhost:5000" },       /* host:port */
	{ "docker", "localhost/x", NULL, "" },                          /* port matters */
	{ "docker", "reg.example.com/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	  NULL, "reg.example.com/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
	{ "docker", "reg.example.com/team/app:v1", NULL, "reg.example.com/team" },
	{ "docker", "reg.example.com/other:v1", NULL, "*.example.com" }, /* wildcard */
	{ "docker", "a.b.example.com:8443/x", NULL, "*.example.com" },  /* any depth, port stripped */
	{ "docker", "example.com/x", NULL, "*.com" },                   /* not *.example.com itself */
	{ "docker", "x.internal.example.org/y", NULL, "*.internal.example.org" },
	{ "docker", "internal.example.org/y", NULL, "" },
	{ "docker", "ghcr.io/o/r", NULL, "" },
	{ "oci", NULL, "/srv/images/app", "/srv/images/app" },
	{ "oci", NULL, "/srv/images/app:v1", "/srv/images/app" },       /* oci :name stripped */
	{ "oci", NULL, "/srv/images/other", "/srv/images" },            /* parent dir */
	{ "oci", NULL, "/tmp/x", "default" },                           /* no "" in oci */
	{ "docker-archive", NULL, "/tmp/x.tar", "" },
	{ "dir", NULL, "/srv/images", "default" },                      /* transport absent */
};

static void test_scopes(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	_cleanup_sign_policy_ struct sign_policy *p = NULL;
	assert_int_equal(sign_policy_parse(scope_policy, strlen(scope_policy), &p, &e), 0);
	for (size_t i = 0; i < ARRAY_SIZE(scope_cases); i++) {
		const struct scope_case *c = &scope_cases[i];
		_cleanup_ref_ struct image_ref *ref = NULL;
		const char *got = NULL;
		if (c->ref)
			assert_int_equal(ref_parse(c->ref, &ref, &e), 0);
		const struct sign_requirements *rs =
			sign_policy_requirements(p, c->transport, ref, c->scope, &got);
		assert_non_null(rs);
		assert_true(rs->n > 0);
		if (strcmp(got, c->want) != 0)
			fail_msg("%s %s: matched \"%s\", want \"%s\"", c->transport,
				 c->ref ? c->ref : c->scope, got, c->want);
	}
}

static void test_needs(void **state)
{
	(void)state;
	const char *j = "{\"default\":[{\"type\":\"insecureAcceptAnything\"}],\"transports\":{\"docker\":{"
			"\"a.io\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"/k\"},"
			"{\"type\":\"sigstoreSigned\",\"keyPath\":\"/p\"}],"
			"\"b.io\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/p\"}]}}}";
	struct kerror e = { 0 };
	_cleanup_sign_policy_ struct sign_policy *p = NULL;
	_cleanup_ref_ struct image_ref *a = NULL, *b = NULL, *c = NULL;
	bool simple, sigstore;
	assert_int_equal(sign_policy_parse(j, strlen(j), &p, &e), 0);
	assert_int_equal(ref_parse("a.io/x", &a, &e), 0);
	assert_int_equal(ref_parse("b.io/x", &b, &e), 0);
	assert_int_equal(ref_parse("c.io/x", &c, &e), 0);
	sign_policy_needs(p, "docker", a, NULL, &simple, &sigstore);
	assert_true(simple && sigstore);
	sign_policy_needs(p, "docker", b, NULL, &simple, &sigstore);
	assert_true(!simple && sigstore);
	sign_policy_needs(p, "docker", c, NULL, &simple, &sigstore);
	assert_true(!simple && !sigstore);
}

/* ---- signedIdentity -------------------------------------------------------- */

struct id_case {
	enum sign_identity_kind kind;
	const char *arg1, *arg2; /* reference / prefix, signedPrefix */
	const char *image, *signed_ref;
	bool want;
};

#define D "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const struct id_case id_cases[] = {
	/* matchRepoDigestOrExact (the default) */
	{ SIGN_ID_MATCH_REPO_DIGEST_OR_EXACT, NULL, NULL, "busybox:1", "docker.io/library/busybox:1", true },
	{ SIGN_ID_MATCH_REPO_DIGEST_OR_EXACT, NULL, NULL, "busybox:1", "busybox:1", true }, /* normalised */
	{ SIGN_ID_MATCH_REPO_DIGEST_OR_EXACT, NULL, NULL, "busybox:1", "busybox:2", false },
	{ SIGN_ID_MATCH_REPO_DIGEST_OR_EXACT, NULL, NULL, "busybox", "busybox:latest", true },
	{ SIGN_ID_MATCH_REPO_DIGEST_OR_EXACT, NULL, NULL, "busybox" D, "busybox:anytag", true },
	{ SIGN_ID_MATCH_REPO_DIGEST_OR_EXACT, NULL, NULL, "busybox" D, "alpine:1", false },
	{ SIGN_ID_MATCH_REPO_DIGEST_OR_EXACT, NULL, NULL, "busybox:1", "docker.io/library/busybox", false },
	{ SIGN_ID_MATCH_REPO_DIGEST_OR_EXACT, NULL, NULL, "busybox:1", "not a ref", false },
	/* matchExact */
	{ SIGN_ID_MATCH_EXACT, NULL, NULL, "quay.io/a/b:1", "quay.io/a/b:1", true },
	{ SIGN_ID_MATCH_EXACT, NULL, NULL, "quay.io/a/b" D, "quay.io/a/b:1", false },
	{ SIGN_ID_MATCH_EXACT, NULL, NULL, "quay.io/a/b:1", "quay.io/a/b", false },
	/* matchRepository */
	{ SIGN_ID_MATCH_REPOSITORY, NULL, NULL, "quay.io/a/b:1", "quay.io/a/b", true },
	{ SIGN_ID_MATCH_REPOSITORY, NULL, NULL, "quay.io/a/b:1", "quay.io/a/b:2", true },
	{ SIGN_ID_MATCH_REPOSITORY, NULL, NULL, "quay.io/a/b:1", "quay.io/a/c:1", false },
	/* exactReference */
	{ SIGN_ID_EXACT_REFERENCE, "docker.io/library/busybox:1", NULL, "mirror.local/bb:x", "busybox:1", true },
	{ SIGN_ID_EXACT_REFERENCE, "docker.io/library/busybox:1", NULL, "busybox:1", "busybox:2", false },
	/* exactRepository */
	{ SIGN_ID_EXACT_REPOSITORY, "docker.io/library/busybox", NULL, "mirror.local/bb:x", "busybox:7", true },
	{ SIGN_ID_EXACT_REPOSITORY, "docker.io/library/busybox", NULL, "busybox:1", "alpine:1", false },
	/* remapIdentity */
	{ SIGN_ID_REMAP_IDENTITY, "mirror.local:5000/docker", "docker.io/library", "mirror.local:5000/docker/busybox:1",
	  "docker.io/library/busybox:1", true },
	{ SIGN_ID_REMAP_IDENTITY, "mirror.local:5000/docker", "docker.io/library", "mirror.local:5000/docker/busybox:1",
	  "mirror.local:5000/docker/busybox:1", false },
	{ SIGN_ID_REMAP_IDENTITY, "mirror.local:5000/docker", "docker.io/library", "mirror.local:5000/dockerx/busybox:1",
	  "mirror.local:5000/dockerx/busybox:1", true }, /* no separator: not remapped */
	{ SIGN_ID_REMAP_IDENTITY, "mirror.local", "registry.example.com", "mirror.local/ns/app" D,
	  "registry.example.com/ns/app:v3", true },
	{ SIGN_ID_REMAP_IDENTITY, "mirror.local", "docker.io", "mirror.local/busybox:1",
	  "docker.io/library/busybox:1", false }, /* docker.io/busybox is not canonical */
};

static void test_identity(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	for (size_t i = 0; i < ARRAY_SIZE(id_cases); i++) {
		const struct id_case *c = &id_cases[i];
		struct sign_identity id = { .kind = c->kind };
		_cleanup_ref_ struct image_ref *img = NULL;
		if (c->kind == SIGN_ID_REMAP_IDENTITY) {
			id.prefix = (char *)c->arg1;
			id.signed_prefix = (char *)c->arg2;
		} else {
			id.reference = (char *)c->arg1;
		}
		assert_int_equal(ref_parse(c->image, &img, &e), 0);
		bool got = sign_identity_matches(&id, img, c->signed_ref);
		if (got != c->want)
			fail_msg("case %zu: identity kind %d, image %s, signed %s: got %d", i, c->kind,
				 c->image, c->signed_ref, got);
	}
	/* No docker identity (oci:/dir:) only allows the exact* kinds. */
	struct sign_identity id = { .kind = SIGN_ID_MATCH_REPOSITORY };
	assert_false(sign_identity_matches(&id, NULL, "busybox:1"));
	id.kind = SIGN_ID_EXACT_REPOSITORY;
	id.reference = "busybox";
	assert_true(sign_identity_matches(&id, NULL, "busybox:1"));
}

/* ---- evaluation without signatures ------------------------------------------- */

static void test_evaluate_plain(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	_cleanup_sign_policy_ struct sign_policy *p = NULL;
	_cleanup_ref_ struct image_ref *ok = NULL, *rej = NULL, *both = NULL, *sig = NULL, *dig = NULL;
	const char *j = "{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{"
			"\"ok.io\":[{\"type\":\"insecureAcceptAnything\"}],"
			"\"both.io\":[{\"type\":\"insecureAcceptAnything\"},{\"type\":\"reject\"}],"
			"\"sig.io\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"/nonexistent\"}]}}}";
	const char *m = "{}";
	assert_int_equal(sign_policy_parse(j, strlen(j), &p, &e), 0);
	assert_int_equal(ref_parse("ok.io/app:1", &ok, &e), 0);
	assert_int_equal(ref_parse("other.io/app:1", &rej, &e), 0);
	assert_int_equal(ref_parse("both.io/app:1", &both, &e), 0);
	assert_int_equal(ref_parse("sig.io/app:1", &sig, &e), 0);
	assert_int_equal(ref_parse("ok.io/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
				   &dig, &e), 0);
	struct sign_image img = { .transport = "docker", .ref = ok, .manifest = m, .manifest_len = 2 };
	assert_int_equal(sign_policy_evaluate(p, &img, NULL, 0, &e), 0);
	img.ref = rej;
	assert_int_equal(sign_policy_evaluate(p, &img, NULL, 0, &e), -EACCES);
	assert_non_null(strstr(e.msg, "requirement 1 (reject) of scope \"default\""));
	img.ref = both;
	assert_int_equal(sign_policy_evaluate(p, &img, NULL, 0, &e), -EACCES);
	assert_non_null(strstr(e.msg, "requirement 2 (reject) of scope \"both.io\""));
	img.ref = sig;
	assert_int_equal(sign_policy_evaluate(p, &img, NULL, 0, &e), -EACCES);
	assert_non_null(strstr(e.msg, "no signature exists"));
	/* A digest reference must name the manifest's bytes. */
	img.ref = dig;
	assert_int_equal(sign_policy_evaluate(p, &img, NULL, 0, &e), -EACCES);
	assert_non_null(strstr(e.msg, "manifest digest is"));
	kerror_release(&e);
}

/* ---- trust show / set ---------------------------------------------------------- */

static void test_trust(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	char *keys[] = { "/k1.gpg", "/k2.gpg", NULL };
	char *pubs[] = { "/cosign.pub", NULL };

	/* a new file: accept by default, then scopes */
	assert_int_equal(sign_trust_set(NULL, 0, "docker.io", "reject", NULL, &a, &e), 0);
	assert_int_equal(sign_trust_set(a, strlen(a), "quay.io/org", "signedBy", keys, &b, &e), 0);
	assert_int_equal(sign_trust_set(b, strlen(b), "ghcr.io", "sigstoreSigned", pubs, &c, &e), 0);
	assert_int_equal(sign_trust_set(c, strlen(c), "default", "reject", NULL, &d, &e), 0);
	_cleanup_sign_policy_ struct sign_policy *p = NULL;
	assert_int_equal(sign_policy_parse(d, strlen(d), &p, &e), 0);
	struct sign_trust_row *rows = NULL;
	size_t n = 0;
	sign_trust_show(p, &rows, &n);
	assert_int_equal(n, 5);
	assert_string_equal(rows[0].name, "default");
	assert_string_equal(rows[0].type, "reject");
	assert_string_equal(rows[1].name, "docker.io");
	assert_string_equal(rows[1].type, "reject");
	assert_string_equal(rows[2].name, "quay.io/org");
	assert_string_equal(rows[2].type, "signed");
	assert_string_equal(rows[2].keys, "/k1.gpg");
	assert_string_equal(rows[3].keys, "/k2.gpg");
	assert_string_equal(rows[4].type, "sigstoreSigned");
	sign_trust_rows_free(rows, n);

	/* replacing a scope keeps the others */
	_cleanup_free_ char *f = NULL;
	assert_int_equal(sign_trust_set(d, strlen(d), "quay.io/org", "accept", NULL, &f, &e), 0);
	_cleanup_sign_policy_ struct sign_policy *p2 = NULL;
	assert_int_equal(sign_policy_parse(f, strlen(f), &p2, &e), 0);
	sign_trust_show(p2, &rows, &n);
	assert_int_equal(n, 4);
	assert_string_equal(rows[2].type, "accept");
	sign_trust_rows_free(rows, n);

	/* errors */
	char *g = NULL;
	assert_int_equal(sign_trust_set(d, strlen(d), "x.io", "trusted", NULL, &g, &e), -EINVAL);
	assert_int_equal(sign_trust_set(d, strlen(d), "x.io", "signedBy", NULL, &g, &e), -EINVAL);
	assert_int_equal(sign_trust_set(d, strlen(d), "x.io", "accept", keys, &g, &e), -EINVAL);
	assert_int_equal(sign_trust_set("{\"default\":[]}", 14, "x.io", "accept", NULL, &g, &e), -EINVAL);
	assert_int_equal(sign_trust_set(d, strlen(d), "bad scope", "accept", NULL, &g, &e), -EINVAL);
	assert_null(g);
	kerror_release(&e);
}

int main(void)
{
	size_t n = ARRAY_SIZE(parse_cases) + 7, k = 0;
	struct CMUnitTest *tests = xcalloc(n, sizeof(*tests));
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		tests[k].name = parse_cases[i].name;
		tests[k].test_func = test_parse_case;
		tests[k].initial_state = (void *)&parse_cases[i];
		k++;
	}
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_parse_values);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_policy_path);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_scopes);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_needs);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_identity);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_evaluate_plain);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_trust);
	int r = _cmocka_run_group_tests("sign_policy", tests, k, NULL, NULL);
	free(tests);
	return r;
}
