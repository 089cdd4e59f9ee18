/* Unit tests for sign/'s signature containers: cosign's .sig attachment
 * manifests and containers/image's tagged form for locally kept signatures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign.h"

#define HEX "817a12c32a39bbe394944ba49de563e085f1d3c5266eb8e9723256bc4448680e"

static void test_cosign_tag(void **state)
{
	(void)state;
	_cleanup_free_ char *t = sign_cosign_tag("sha256:" HEX);
	assert_string_equal(t, "sha256-" HEX ".sig");
	assert_null(sign_cosign_tag("sha256:xyz"));
	assert_true(ref_tag_valid(t));
}

static void test_cosign_manifest(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	_cleanup_free_ char *m1 = NULL, *c1 = NULL, *m2 = NULL, *c2 = NULL, *m3 = NULL, *c3 = NULL;
	struct sign_cosign_layer *layers = NULL;
	size_t n = 0;
	char pd[DIGEST_STR_LEN + 1];

	assert_int_equal(sign_cosign_sig_build(NULL, 0, "payload-1", 9, "c2lnMQ==", &m1, &c1, &e), 0);
	assert_int_equal(sign_cosign_sig_parse(m1, strlen(m1), &layers, &n, &e), 0);
	assert_int_equal(n, 1);
	digest_bytes("payload-1", 9, pd);
	assert_string_equal(layers[0].digest, pd);
	assert_int_equal(layers[0].size, 9);
	assert_string_equal(layers[0].b64_signature, "c2lnMQ==");
	sign_cosign_layers_free(layers, n);
	/* the config the manifest names is the config returned */
	char cd[DIGEST_STR_LEN + 1];
	digest_bytes(c1, strlen(c1), cd);
	assert_non_null(strstr(m1, cd));
	assert_non_null(strstr(m1, "\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\""));

	/* adding a second signature keeps the first; the same one is not doubled */
	assert_int_equal(sign_cosign_sig_build(m1, strlen(m1), "payload-2", 9, "c2lnMg==", &m2, &c2, &e), 0);
	assert_int_equal(sign_cosign_sig_build(m2, strlen(m2), "payload-2", 9, "c2lnMg==", &m3, &c3, &e), 0);
	assert_string_equal(m2, m3);
	assert_int_equal(sign_cosign_sig_parse(m2, strlen(m2), &layers, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(layers[1].b64_signature, "c2lnMg==");
	sign_cosign_layers_free(layers, n);

	/* other layer types are skipped; non-OCI and oversized refused */
	const char *mixed =
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:" HEX "\",\"size\":2},"
		"\"layers\":[{\"mediaType\":\"application/vnd.dsse.envelope.v1+json\",\"digest\":\"sha256:" HEX "\",\"size\":3},"
		"{\"mediaType\":\"application/vnd.dev.cosign.simplesigning.v1+json\",\"digest\":\"sha256:" HEX "\",\"size\":3}]}";
	assert_int_equal(sign_cosign_sig_parse(mixed, strlen(mixed), &layers, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_null(layers[0].b64_signature);
	sign_cosign_layers_free(layers, n);
	const char *docker =
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
		"\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"sha256:" HEX "\",\"size\":2},"
		"\"layers\":[]}";
	assert_int_equal(sign_cosign_sig_parse(docker, strlen(docker), &layers, &n, &e), -EINVAL);
	const char *huge =
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:" HEX "\",\"size\":2},"
		"\"layers\":[{\"mediaType\":\"application/vnd.dev.cosign.simplesigning.v1+json\",\"digest\":\"sha256:" HEX "\",\"size\":99999999}]}";
	assert_int_equal(sign_cosign_sig_parse(huge, strlen(huge), &layers, &n, &e), -EFBIG);
	assert_int_not_equal(sign_cosign_sig_parse("{", 1, &layers, &n, &e), 0);
	kerror_release(&e);
}

static void test_stored_roundtrip(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	struct sign_stored st;
	size_t len = 0;

	struct sign_signature simple = { SIGN_SIG_SIMPLE, "\xa3\x01pgp", 5, NULL };
	_cleanup_free_ char *b1 = sign_stored_encode(&simple, &len);
	assert_int_equal(len, 1 + 15 + 5);
	assert_memory_equal(b1, "\0simple-signing\n\xa3\x01pgp", len);
	assert_int_equal(sign_stored_decode(b1, len, &st, &e), 0);
	assert_int_equal(st.kind, SIGN_SIG_SIMPLE);
	assert_int_equal(st.data.len, 5);
	sign_stored_release(&st);

	struct sign_signature sig = { SIGN_SIG_SIGSTORE, "{\"critical\":{}}", 15, "c2ln" };
	_cleanup_free_ char *b2 = sign_stored_encode(&sig, &len);
	assert_int_equal(sign_stored_decode(b2, len, &st, &e), 0);
	assert_int_equal(st.kind, SIGN_SIG_SIGSTORE);
	assert_memory_equal(st.data.data, "{\"critical\":{}}", 15);
	assert_string_equal(st.b64_signature, "c2ln");
	assert_string_equal(st.mime_type, SIGN_COSIGN_MEDIA_TYPE);
	sign_stored_release(&st);

	/* historic untagged OpenPGP blobs */
	assert_int_equal(sign_stored_decode("\xa3\x01x", 3, &st, &e), 0);
	assert_int_equal(st.kind, SIGN_SIG_SIMPLE);
	sign_stored_release(&st);
	/* refused: empty, unknown first byte, no format name, unknown format, bad JSON */
	assert_int_equal(sign_stored_decode("", 0, &st, &e), -EINVAL);
	assert_int_equal(sign_stored_decode("{}", 2, &st, &e), -EINVAL);
	assert_int_equal(sign_stored_decode("\0simple-signing", 15, &st, &e), -EINVAL);
	assert_int_equal(sign_stored_decode("\0other\nxx", 9, &st, &e), -EINVAL);
	assert_int_equal(sign_stored_decode("\0sigstore-json\n{\"payload\":1}", 28, &st, &e), -EINVAL);
	assert_int_equal(sign_stored_decode("\0sigstore-json\n{\"mimeType\":\"x\",\"payload\":\"!!\"}", 45, &st, &e), -EINVAL);
	assert_null(st.data.data);
	kerror_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cosign_tag),
		cmocka_unit_test(test_cosign_manifest),
		cmocka_unit_test(test_stored_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
