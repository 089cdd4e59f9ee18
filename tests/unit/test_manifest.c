/* Unit tests for the image module's models: manifests, indexes, configs,
 * media types and platforms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

#define H1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define H3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

/* Compact, fields in spec order: serialising the parse gives it back. */
static const char oci_manifest[] =
	"{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\","
	"\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"" H1 "\",\"size\":7023},"
	"\"layers\":[{\"mediaType\":\"" MT_OCI_LAYER_GZIP "\",\"digest\":\"" H2 "\",\"size\":32654,"
	"\"annotations\":{\"org.opencontainers.image.title\":\"a.tgz\"}},"
	"{\"mediaType\":\"" MT_OCI_LAYER_ZSTD "\",\"digest\":\"" H3 "\",\"size\":0}],"
	"\"subject\":{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" H3 "\",\"size\":12},"
	"\"annotations\":{\"org.opencontainers.image.created\":\"2024-01-01T00:00:00Z\"}}";

/* As the Docker registry serves it: indented, size before digest. */
static const char docker_manifest[] =
	"{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"" MT_DOCKER_MANIFEST "\",\n"
	"   \"config\": {\n      \"mediaType\": \"" MT_DOCKER_CONFIG "\",\n      \"size\": 1457,\n"
	"      \"digest\": \"" H1 "\"\n   },\n   \"layers\": [\n      {\n"
	"         \"mediaType\": \"" MT_DOCKER_LAYER_GZIP "\",\n         \"size\": 2220094,\n"
	"         \"digest\": \"" H2 "\"\n      },\n      {\n"
	"         \"mediaType\": \"" MT_DOCKER_LAYER_FOREIGN "\",\n         \"size\": 5,\n"
	"         \"digest\": \"" H3 "\",\n         \"urls\": [\"https://example.com/l\"]\n      }\n   ]\n}";

static const char oci_index[] =
	"{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
	"{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" H1 "\",\"size\":480,"
	"\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}},"
	"{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" H2 "\",\"size\":481,"
	"\"platform\":{\"architecture\":\"amd64\",\"os\":\"windows\",\"os.version\":\"10.0.17763.1\","
	"\"os.features\":[\"win32k\"]}},"
	"{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" H3 "\",\"size\":566,"
	"\"annotations\":{\"vnd.docker.reference.digest\":\"" H1 "\","
	"\"vnd.docker.reference.type\":\"attestation-manifest\"},"
	"\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}],"
	"\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}}";

static const char docker_list[] =
	"{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"" MT_DOCKER_LIST "\",\n   \"manifests\": [\n"
	"      {\n         \"mediaType\": \"" MT_DOCKER_MANIFEST "\",\n         \"size\": 7143,\n"
	"         \"digest\": \"" H1 "\",\n         \"platform\": {\n"
	"            \"architecture\": \"ppc64le\",\n            \"os\": \"linux\"\n         }\n      },\n"
	"      {\n         \"mediaType\": \"" MT_DOCKER_MANIFEST "\",\n         \"size\": 7682,\n"
	"         \"digest\": \"" H2 "\",\n         \"platform\": {\n"
	"            \"architecture\": \"arm64\",\n            \"os\": \"linux\",\n"
	"            \"variant\": \"v8\"\n         }\n      }\n   ]\n}";

/* Docker-written: extra fields, Go's key order, no whitespace. */
static const char docker_config[] =
	"{\"architecture\":\"amd64\",\"config\":{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\","
	"\"AttachStdin\":false,\"Tty\":false,\"Env\":[\"PATH=/usr/bin:/bin\"],\"Cmd\":[\"sh\"],"
	"\"Image\":\"sha256:abc\",\"Volumes\":null,\"WorkingDir\":\"\",\"Entrypoint\":null,"
	"\"OnBuild\":null,\"Labels\":{\"a\":\"\\u003cb\\u003e\"}},\"container\":\"0123\","
	"\"container_config\":{\"Cmd\":[\"/bin/sh\",\"-c\",\"#(nop) CMD [\\\"sh\\\"]\"]},"
	"\"created\":\"2023-05-19T20:19:22.751398522Z\",\"docker_version\":\"20.10.23\","
	"\"history\":[{\"created\":\"2023-05-19T20:19:22.642Z\",\"created_by\":\"ADD file\"},"
	"{\"created\":\"2023-05-19T20:19:22.751Z\",\"created_by\":\"CMD\",\"empty_layer\":true}],"
	"\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" H2 "\"]}}";

static void assert_raw(const char *raw, size_t raw_len, const char *want)
{
	assert_int_equal(raw_len, strlen(want));
	assert_memory_equal(raw, want, raw_len);
	assert_int_equal(raw[raw_len], '\0');
}

static void test_manifest_oci(void **state)
{
	(void)state;
	_cleanup_manifest_ struct manifest *m = NULL, *m2 = NULL;
	struct kerror e = { 0 };

	assert_int_equal(manifest_parse(oci_manifest, strlen(oci_manifest), &m, &e), 0);
	assert_raw(m->raw, m->raw_len, oci_manifest);
	assert_int_equal(m->kind, MANIFEST_OCI);
	assert_string_equal(m->config.digest, H1);
	assert_int_equal(m->config.size, 7023);
	assert_int_equal(m->n_layers, 2);
	assert_int_equal(m->layers[0].size, 32654);
	assert_string_equal(json_str(m->layers[0].annotations, "org.opencontainers.image.title"),
			    "a.tgz");
	assert_non_null(m->subject);
	manifest_serialize(m);
	assert_raw(m->raw, m->raw_len, oci_manifest);
	assert_int_equal(manifest_parse(m->raw, m->raw_len, &m2, &e), 0);
	manifest_serialize(m2);
	assert_string_equal(m2->raw, m->raw);
	assert_null(e.msg);
}

static void test_manifest_docker(void **state)
{
	(void)state;
	_cleanup_manifest_ struct manifest *m = NULL, *m2 = NULL;
	struct kerror e = { 0 };

	assert_int_equal(manifest_parse(docker_manifest, strlen(docker_manifest), &m, &e), 0);
	assert_raw(m->raw, m->raw_len, docker_manifest);
	assert_int_equal(m->kind, MANIFEST_DOCKER_V2S2);
	assert_int_equal(m->n_layers, 2);
	assert_string_equal(m->layers[1].urls[0], "https://example.com/l");
	assert_null(m->layers[1].urls[1]);
	manifest_serialize(m);
	assert_string_equal(m->raw,
		"{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"config\":{\"mediaType\":\""
		MT_DOCKER_CONFIG "\",\"digest\":\"" H1 "\",\"size\":1457},\"layers\":[{\"mediaType\":\""
		MT_DOCKER_LAYER_GZIP "\",\"digest\":\"" H2 "\",\"size\":2220094},{\"mediaType\":\""
		MT_DOCKER_LAYER_FOREIGN "\",\"digest\":\"" H3 "\",\"size\":5,\"urls\":[\"https://example.com/l\"]}]}");
	assert_int_equal(manifest_parse(m->raw, m->raw_len, &m2, &e), 0);
	manifest_serialize(m2);
	assert_string_equal(m2->raw, m->raw);
}

static void test_manifest_built(void **state)
{
	(void)state;
	_cleanup_manifest_ struct manifest *m = xcalloc(1, sizeof(*m)), *m2 = NULL;
	struct kerror e = { 0 };

	m->media_type = xstrdup(MT_OCI_MANIFEST);
	m->config = (struct descriptor){ .media_type = xstrdup(MT_OCI_CONFIG),
					 .digest = xstrdup(H1), .size = 2 };
	m->layers = xcalloc(1, sizeof(*m->layers));
	m->n_layers = 1;
	m->layers[0] = (struct descriptor){ .media_type = xstrdup(MT_OCI_LAYER),
					    .digest = xstrdup(H2), .size = 10 };
	manifest_serialize(m);
	assert_string_equal(m->raw,
		"{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"config\":{\"mediaType\":\""
		MT_OCI_CONFIG "\",\"digest\":\"" H1 "\",\"size\":2},\"layers\":[{\"mediaType\":\""
		MT_OCI_LAYER "\",\"digest\":\"" H2 "\",\"size\":10}]}");
	assert_int_equal(manifest_parse(m->raw, m->raw_len, &m2, &e), 0);
	manifest_serialize(m2);
	assert_string_equal(m2->raw, m->raw);
}

static void test_index_oci(void **state)
{
	(void)state;
	_cleanup_index_ struct manifest_index *x = NULL, *x2 = NULL;
	struct kerror e = { 0 };

	assert_int_equal(index_parse(oci_index, strlen(oci_index), &x, &e), 0);
	assert_raw(x->raw, x->raw_len, oci_index);
	assert_int_equal(x->kind, MANIFEST_OCI_INDEX);
	assert_int_equal(x->n_manifests, 3);
	assert_string_equal(x->manifests[0].platform->variant, "v7");
	assert_string_equal(x->manifests[1].platform->os_version, "10.0.17763.1");
	assert_string_equal(x->manifests[1].platform->os_features[0], "win32k");
	assert_string_equal(json_str(x->manifests[2].annotations, "vnd.docker.reference.type"),
			    "attestation-manifest");
	index_serialize(x);
	assert_raw(x->raw, x->raw_len, oci_index);
	assert_int_equal(index_parse(x->raw, x->raw_len, &x2, &e), 0);
	index_serialize(x2);
	assert_string_equal(x2->raw, x->raw);
}

/* The platform's entry of an index: the attestation manifest is never one,
 * nor among the platforms the error lists. */
static void test_index_pick(void **state)
{
	(void)state;
	_cleanup_index_ struct manifest_index *x = NULL, *l = NULL;
	const struct descriptor *d = NULL;
	struct kerror e = { 0 };

	assert_int_equal(index_parse(oci_index, strlen(oci_index), &x, &e), 0);
	assert_int_equal(index_pick_platform(x, "linux/arm/v7", &d, &e), 0);
	assert_ptr_equal(d, &x->manifests[0]);
	assert_int_equal(index_pick_platform(x, "unknown/unknown", &d, &e), -ENOENT);
	assert_string_equal(e.msg, "no image found in manifest list for platform unknown/unknown "
				   "(available: linux/arm/v7, windows/amd64)");
	assert_int_equal(index_parse(docker_list, strlen(docker_list), &l, &e), 0);
	assert_int_equal(index_pick_platform(l, "linux/ppc64le", &d, &e), 0);
	assert_ptr_equal(d, &l->manifests[0]);
	assert_int_equal(index_pick_platform(l, "bogus", &d, &e), -EINVAL);
	kerror_release(&e);
}

static void test_index_docker(void **state)
{
	(void)state;
	_cleanup_index_ struct manifest_index *x = NULL, *x2 = NULL;
	struct kerror e = { 0 };

	assert_int_equal(index_parse(docker_list, strlen(docker_list), &x, &e), 0);
	assert_raw(x->raw, x->raw_len, docker_list);
	assert_int_equal(x->kind, MANIFEST_DOCKER_LIST);
	assert_int_equal(x->n_manifests, 2);
	assert_int_equal(x->manifests[1].size, 7682);
	index_serialize(x);
	assert_string_equal(x->raw,
		"{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_LIST "\",\"manifests\":[{\"mediaType\":\""
		MT_DOCKER_MANIFEST "\",\"digest\":\"" H1 "\",\"size\":7143,\"platform\":{\"architecture\":"
		"\"ppc64le\",\"os\":\"linux\"}},{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" H2
		"\",\"size\":7682,\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}]}");
	assert_int_equal(index_parse(x->raw, x->raw_len, &x2, &e), 0);
	index_serialize(x2);
	assert_string_equal(x2->raw, x->raw);
}

static void test_config_docker(void **state)
{
	(void)state;
	_cleanup_config_ struct image_config *c = NULL, *c2 = NULL;
	struct kerror e = { 0 };

	assert_int_equal(config_parse(docker_config, strlen(docker_config), &c, &e), 0);
	assert_raw(c->raw, c->raw_len, docker_config);
	assert_string_equal(config_os(c), "linux");
	assert_string_equal(config_architecture(c), "amd64");
	assert_int_equal(config_created(c), 1684527562);
	assert_string_equal(json_str(config_exec(c), "Image"), "sha256:abc");
	_cleanup_strv_ char **ids = config_diff_ids(c);
	assert_int_equal(strv_len(ids), 1);
	assert_string_equal(ids[0], H2);
	config_serialize(c);
	assert_int_equal(config_parse(c->raw, c->raw_len, &c2, &e), 0);
	config_serialize(c2);
	assert_string_equal(c2->raw, c->raw);
	/* Unknown fields survive re-serialisation. */
	assert_non_null(strstr(c->raw, "\"docker_version\":\"20.10.23\""));
	assert_non_null(strstr(c->raw, "\"container_config\":"));

	/* Minimal: no diff_ids (Docker omits an empty list), no created. */
	static const char min[] = "{\"architecture\":\"arm64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"}}";
	config_free(steal_pointer(&c2));
	assert_int_equal(config_parse(min, strlen(min), &c2, &e), 0);
	_cleanup_strv_ char **none = config_diff_ids(c2);
	assert_int_equal(strv_len(none), 0);
	assert_int_equal(config_created(c2), 0);
	assert_null(config_exec(c2));
	config_serialize(c2);
	assert_string_equal(c2->raw, min);	/* null execution fields mean unset (Go's encoder writes them). */
	static const char nulls[] = "{\"architecture\":\"arm64\",\"os\":\"linux\",\"rootfs\":"
		"{\"type\":\"layers\"},\"config\":{\"Env\":null,\"Cmd\":null,\"Labels\":null,"
		"\"Volumes\":null,\"User\":null,\"ExposedPorts\":{\"80/tcp\":{}}}}";
	config_free(steal_pointer(&c2));
	assert_int_equal(config_parse(nulls, strlen(nulls), &c2, &e), 0);
}

struct reject_case {
	int which; /* 0 manifest, 1 index, 2 config */
	const char *doc;
	const char *err;
};

#define CFG_D "{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"" H1 "\",\"size\":1}"
#define MAN_D "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" H1 "\",\"size\":1}"

static const struct reject_case rejects[] = {
	{ 0, "{\"schemaVersion\":2,\"config\":" CFG_D ",\"layers\":[],\"manifests\":[]}",
	  "ambiguous manifest: it also has \"manifests\"" },
	{ 1, "{\"schemaVersion\":2,\"manifests\":[],\"config\":" CFG_D "}",
	  "ambiguous index: it also has \"config\"" },
	{ 1, "{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}", "ambiguous index: it also has \"layers\"" },
	{ 0, "{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"l\",\"fsLayers\":[]}", "unsupported manifest schema 1" },
	{ 1, "{\"schemaVersion\":1,\"fsLayers\":[]}", "unsupported manifest schema 1" },
	{ 0, "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_SCHEMA1_SIGNED "\"}", "unsupported manifest schema 1" },
	{ 0, "{\"schemaVersion\":3,\"config\":" CFG_D ",\"layers\":[]}", "schemaVersion" },
	{ 0, "{\"config\":" CFG_D ",\"layers\":[]}", "schemaVersion is missing" },
	{ 0, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:abc\",\"size\":1},\"layers\":[]}",
	  "invalid digest \"sha256:abc\"" },
	{ 0, "{\"schemaVersion\":2,\"config\":" CFG_D ",\"layers\":[{\"mediaType\":\"x\",\"digest\":\"sha256:../../x\",\"size\":1}]}",
	  "layers[0]: invalid digest" },
	{ 0, "{\"schemaVersion\":2,\"config\":" CFG_D ",\"layers\":[{\"mediaType\":\"x\",\"digest\":\"" H2 "\",\"size\":-1}]}",
	  "\"size\" is not a non-negative integer" },
	{ 0, "{\"schemaVersion\":2,\"config\":" CFG_D ",\"layers\":[{\"mediaType\":\"x\",\"digest\":\"" H2 "\"}]}",
	  "\"size\" is missing" },
	{ 1, "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"" H2 "\",\"size\":1.5}]}",
	  "manifests[0]" },
	{ 0, "{\"schemaVersion\":2,\"layers\":[]}", "\"config\" is missing" },
	{ 0, "{\"schemaVersion\":2,\"config\":" CFG_D "}", "\"layers\" is missing" },
	{ 0, "{\"schemaVersion\":2,\"config\":" CFG_D ",\"layers\":{}}", "\"layers\" is not an array" },
	{ 0, "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"config\":" CFG_D ",\"layers\":[]}",
	  "unsupported manifest media type" },
	{ 1, "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"manifests\":[]}",
	  "unsupported index media type" },
	{ 1, "{\"schemaVersion\":2}", "\"manifests\" is missing" },
	{ 0, "{\"schemaVersion\":2,\"config\":" CFG_D ",\"layers\":[],\"annotations\":{\"a\":1}}",
	  "annotation \"a\" is not a string" },
	{ 1, "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"" H2 "\",\"size\":1,\"platform\":{\"architecture\":\"amd64\"}}]}",
	  "platform: \"os\" is missing" },
	{ 0, "{\"schemaVersion\":2,\"schemaVersion\":2,\"config\":" CFG_D ",\"layers\":[]}", "duplicate" },
	{ 1, "{\"schemaVersion\":2,\"manifests\":[" MAN_D "],\"manifests\":[]}", "duplicate" },
	{ 0, "not json", "parsing manifest" },
	{ 1, "[]", "invalid index: not a JSON object" },
	{ 0, "", "parsing manifest" },
	{ 2, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"tar\"}}",
	  "unsupported rootfs type \"tar\"" },
	{ 2, "{\"architecture\":\"amd64\",\"os\":\"linux\"}", "\"rootfs\" is missing" },
	{ 2, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"nope\"]}}",
	  "rootfs.diff_ids[0] is not a valid digest" },
	{ 2, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[1]}}",
	  "rootfs.diff_ids[0]" },
	{ 2, "{\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"}}", "\"architecture\" is missing" },
	{ 2, "{\"architecture\":\"amd64\",\"os\":7,\"rootfs\":{\"type\":\"layers\"}}", "\"os\" is missing" },
	{ 2, "{\"os\":\"linux\",\"os\":\"linux\"}", "duplicate" },
	{ 2, "{", "parsing image config" },
#define CFG_BASE "\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"}"
	{ 2, "{" CFG_BASE ",\"config\":[]}", "\"config\" is not an object" },
	{ 2, "{" CFG_BASE ",\"config\":{\"Env\":\"A=1\"}}", "config.Env is not a list of strings" },
	{ 2, "{" CFG_BASE ",\"config\":{\"Cmd\":[\"sh\",1]}}", "config.Cmd is not a list" },
	{ 2, "{" CFG_BASE ",\"config\":{\"Entrypoint\":{}}}", "config.Entrypoint is not" },
	{ 2, "{" CFG_BASE ",\"config\":{\"User\":0}}", "config.User is not a string" },
	{ 2, "{" CFG_BASE ",\"config\":{\"Labels\":{\"a\":1}}}", "config.Labels is not" },
	{ 2, "{" CFG_BASE ",\"config\":{\"ExposedPorts\":{\"80/tcp\":1}}}", "config.ExposedPorts" },
	{ 2, "{" CFG_BASE ",\"config\":{\"Volumes\":[\"/data\"]}}", "config.Volumes" },
	{ 2, "{" CFG_BASE ",\"config\":{\"Healthcheck\":\"x\"}}", "config.Healthcheck" },
};

static void test_rejections(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rejects); i++) {
		const struct reject_case *c = &rejects[i];
		_cleanup_manifest_ struct manifest *m = NULL;
		_cleanup_index_ struct manifest_index *x = NULL;
		_cleanup_config_ struct image_config *cfg = NULL;
		_cleanup_kerror_ struct kerror e = { 0 };
		size_t n = strlen(c->doc);
		int r = c->which == 0 ? manifest_parse(c->doc, n, &m, &e)
			: c->which == 1 ? index_parse(c->doc, n, &x, &e)
					: config_parse(c->doc, n, &cfg, &e);
		if (r >= 0)
			fail_msg("case %zu parsed: %s", i, c->doc);
		assert_null(m);
		assert_null(x);
		assert_null(cfg);
		if (!e.msg || !strstr(e.msg, c->err))
			fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, e.msg, c->err);
	}
}

static void test_detect(void **state)
{
	(void)state;
	static const char no_mt_oci[] = "{\"schemaVersion\":2,\"config\":" CFG_D ",\"layers\":[]}";
	static const char no_mt_docker[] =
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_DOCKER_CONFIG "\"},\"layers\":[]}";
	static const char no_mt_index[] = "{\"schemaVersion\":2,\"manifests\":[" MAN_D "]}";
	static const char artifact[] =
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/x\"},\"layers\":[]}";
	static const char s1[] = "{\"schemaVersion\":1,\"signatures\":[]}";

	assert_int_equal(manifest_detect(oci_manifest, strlen(oci_manifest), NULL), MANIFEST_OCI);
	assert_int_equal(manifest_detect(docker_manifest, strlen(docker_manifest), MT_OCI_MANIFEST),
			 MANIFEST_DOCKER_V2S2);
	assert_int_equal(manifest_detect(oci_index, strlen(oci_index), NULL), MANIFEST_OCI_INDEX);
	assert_int_equal(manifest_detect(docker_list, strlen(docker_list), NULL), MANIFEST_DOCKER_LIST);
	assert_int_equal(manifest_detect(no_mt_oci, strlen(no_mt_oci), NULL), MANIFEST_OCI);
	assert_int_equal(manifest_detect(no_mt_docker, strlen(no_mt_docker), NULL), MANIFEST_DOCKER_V2S2);
	assert_int_equal(manifest_detect(no_mt_index, strlen(no_mt_index), NULL), MANIFEST_OCI_INDEX);
	assert_int_equal(manifest_detect(no_mt_index, strlen(no_mt_index), MT_DOCKER_LIST),
			 MANIFEST_DOCKER_LIST);
	assert_int_equal(manifest_detect(artifact, strlen(artifact), NULL), MANIFEST_OCI);
	assert_int_equal(manifest_detect(s1, strlen(s1), NULL), MANIFEST_DOCKER_V2S1);
	assert_int_equal(manifest_detect("junk", 4, MT_OCI_INDEX "; charset=utf-8"), MANIFEST_OCI_INDEX);
	assert_int_equal(manifest_detect("junk", 4, "text/plain"), MANIFEST_UNKNOWN);
	assert_int_equal(manifest_detect("{}", 2, NULL), MANIFEST_UNKNOWN);
	assert_int_equal(manifest_detect(NULL, 0, MT_DOCKER_SCHEMA1_SIGNED), MANIFEST_DOCKER_V2S1);

	assert_int_equal(layer_media_compression(MT_OCI_LAYER), COMPRESSION_NONE);
	assert_int_equal(layer_media_compression(MT_OCI_LAYER_GZIP), COMPRESSION_GZIP);
	assert_int_equal(layer_media_compression(MT_OCI_LAYER_ZSTD), COMPRESSION_ZSTD);
	assert_int_equal(layer_media_compression(MT_DOCKER_LAYER), COMPRESSION_NONE);
	assert_int_equal(layer_media_compression(MT_DOCKER_LAYER_GZIP), COMPRESSION_GZIP);
	assert_int_equal(layer_media_compression(MT_DOCKER_LAYER_FOREIGN), COMPRESSION_GZIP);
	assert_int_equal(layer_media_compression("application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"),
			 COMPRESSION_ZSTD);
	assert_int_equal(layer_media_compression("application/vnd.in-toto+json"), COMPRESSION_UNKNOWN);
	assert_int_equal(layer_media_compression(NULL), COMPRESSION_UNKNOWN);
}

static void check_platform(const char *in, const char *want)
{
	struct platform p = { 0 };
	_cleanup_kerror_ struct kerror e = { 0 };
	int r = platform_parse(in, &p, &e);

	if (!want) {
		assert_true(r < 0);
		assert_non_null(strstr(e.msg, "invalid platform"));
		return;
	}
	assert_int_equal(r, 0);
	_cleanup_free_ char *s = platform_string(&p);
	assert_string_equal(s, want);
	platform_release(&p);
}

static bool match(const char *want, const char *have)
{
	struct platform w = { 0 }, h = { 0 };
	struct kerror e = { 0 };
	/* Set fields raw (no normalisation) so platform_match does the work. */
	char *parts[2][3] = { { 0 } };
	const char *src[2] = { want, have };
	for (int k = 0; k < 2; k++) {
		char *dup = xstrdup(src[k]), *save = NULL, *t = strtok_r(dup, "/", &save);
		for (int i = 0; t && i < 3; i++, t = strtok_r(NULL, "/", &save))
			parts[k][i] = xstrdup(t);
		free(dup);
	}
	w = (struct platform){ .os = parts[0][0], .architecture = parts[0][1], .variant = parts[0][2] };
	h = (struct platform){ .os = parts[1][0], .architecture = parts[1][1], .variant = parts[1][2] };
	bool r = platform_match(&w, &h);
	platform_release(&w);
	platform_release(&h);
	kerror_release(&e);
	return r;
}

static void test_platform(void **state)
{
	(void)state;
	check_platform("linux/amd64", "linux/amd64");
	check_platform("linux/x86_64", "linux/amd64");
	check_platform("linux/amd64/v1", "linux/amd64");
	check_platform("linux/amd64/v3", "linux/amd64/v3");
	check_platform("linux/arm64/v8", "linux/arm64");
	check_platform("Linux/AArch64", "linux/arm64");
	check_platform("linux/arm64/9", "linux/arm64/v9");
	check_platform("linux/arm", "linux/arm/v7");
	check_platform("linux/arm/6", "linux/arm/v6");
	check_platform("linux/armhf", "linux/arm/v7");
	check_platform("linux/armel", "linux/arm/v6");
	check_platform("linux/i386", "linux/386");
	check_platform("macos/arm64", "darwin/arm64");
	check_platform("linux", NULL);
	check_platform("", NULL);
	check_platform(NULL, NULL);
	check_platform("linux//amd64", NULL);
	check_platform("linux/amd64/", NULL);
	check_platform("a/b/c/d", NULL);
	check_platform("linux/am d64", NULL);

	assert_true(match("linux/amd64", "linux/x86_64"));
	assert_true(match("linux/amd64", "linux/amd64/v1"));
	assert_true(match("linux/arm64", "linux/arm64/v8"));
	assert_true(match("linux/aarch64/v8", "linux/arm64"));
	assert_true(match("linux/arm", "linux/arm/v7"));
	assert_true(match("linux/armhf", "linux/arm"));
	assert_true(match("linux/386", "linux/i386"));
	assert_false(match("linux/arm/v7", "linux/arm/v6"));
	assert_false(match("linux/arm64", "linux/arm64/v9"));
	assert_false(match("linux/amd64", "linux/amd64/v3"));
	assert_false(match("linux/amd64", "windows/amd64"));
	assert_false(match("linux/amd64", "linux/arm64"));
	assert_false(match("linux/arm", "linux/arm64"));

	struct platform host = { 0 };
	platform_host(&host);
	assert_string_equal(host.os, "linux");
	assert_non_null(host.architecture);
	_cleanup_free_ char *hs = platform_string(&host);
	struct platform again = { 0 };
	struct kerror e = { 0 };
	assert_int_equal(platform_parse(hs, &again, &e), 0);
	assert_true(platform_match(&host, &again));
	platform_release(&host);
	platform_release(&again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_oci),
		cmocka_unit_test(test_manifest_docker),
		cmocka_unit_test(test_manifest_built),
		cmocka_unit_test(test_index_oci),
		cmocka_unit_test(test_index_docker),
		cmocka_unit_test(test_index_pick),
		cmocka_unit_test(test_config_docker),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_platform),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
