/* libFuzzer target for sign/'s untrusted-input parsers: policy.json (the
 * default), signature payloads (input starting with 'S'), registries.d
 * YAML ('Y'), locally stored signatures ('T') and cosign .sig manifests
 * ('C').  Anything must parse or fail cleanly with
 * a reason; a parsed policy is then looked up and evaluated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(int r, struct kerror *e)
{
	if (r < 0 && (!e->msg || !e->msg[0]))
		abort(); /* a failure always explains itself */
	kerror_release(e);
}

static void fuzz_policy(const char *s, size_t n)
{
	struct kerror e = { 0 };
	struct sign_policy *p = NULL;
	struct image_ref *ref = NULL, *dref = NULL;
	int r = sign_policy_parse(s, n, &p, &e);
	check_error(r, &e);
	if (r < 0) {
		if (p)
			abort();
		return;
	}
	if (ref_parse("registry.example.com:5000/ns/app:v1", &ref, &e) < 0 ||
	    ref_parse("docker.io/library/busybox@sha256:817a12c32a39bbe394944ba49de563e085f1d3c5266eb8e9723256bc4448680e",
		      &dref, &e) < 0)
		abort();
	const char *transports[] = { "docker", "oci", "dir", "docker-archive", "other" };
	for (size_t i = 0; i < sizeof(transports) / sizeof(*transports); i++) {
		const char *matched = NULL;
		const struct sign_requirements *rs =
			sign_policy_requirements(p, transports[i], i ? NULL : ref, "/srv/img:tag", &matched);
		if (!rs || !matched || rs->n == 0)
			abort();
		for (size_t k = 0; k < rs->n; k++) {
			sign_identity_matches(&rs->v[k].identity, ref, "registry.example.com:5000/ns/app:v1");
			sign_identity_matches(&rs->v[k].identity, dref, "busybox:1");
			sign_identity_matches(&rs->v[k].identity, NULL, "busybox");
		}
		struct sign_image img = { .transport = transports[i], .ref = i ? NULL : ref,
					  .scope = "/srv/img", .manifest = "{}", .manifest_len = 2 };
		check_error(sign_policy_evaluate(p, &img, NULL, 0, &e), &e);
	}
	ref_free(ref);
	ref_free(dref);
	sign_policy_free(p);
}

static void fuzz_payload(const char *s, size_t n)
{
	struct kerror e = { 0 };
	struct sign_payload p;
	int r = sign_payload_parse(s, n, SIGN_TYPE_SIMPLE, &p, &e);
	check_error(r, &e);
	if (r == 0)
		sign_payload_release(&p);
}

static void fuzz_yaml(const char *s, size_t n)
{
	struct kerror e = { 0 };
	struct sign_registries_d *rd = sign_registries_d_new();
	struct image_ref *ref = NULL;
	int r = sign_registries_d_add(rd, s, n, "fuzz.yaml", &e);
	check_error(r, &e);
	if (r == 0) {
		struct sign_lookaside l;
		if (ref_parse("a.example.com/ns/app:1", &ref, &e) < 0)
			abort();
		r = sign_lookaside_for(rd, ref, &l, &e);
		check_error(r, &e);
		if (r == 0) {
			free(sign_lookaside_url(l.read_base, ref, "sha256:817a12c32a39bbe394944ba49de563e085f1d3c5266eb8e9723256bc4448680e", 1));
			sign_lookaside_release(&l);
		}
		ref_free(ref);
	}
	sign_registries_d_free(rd);
}

static void fuzz_stored(const char *s, size_t n)
{
	struct kerror e = { 0 };
	struct sign_stored st;
	int r = sign_stored_decode(s, n, &st, &e);
	check_error(r, &e);
	if (r == 0) {
		struct sign_signature sig = { st.kind, st.data.data, st.data.len, st.b64_signature };
		size_t len = 0;
		free(sign_stored_encode(&sig, &len));
		sign_stored_release(&st);
	}
}

static void fuzz_cosign(const char *s, size_t n)
{
	struct kerror e = { 0 };
	struct sign_cosign_layer *v = NULL;
	size_t count = 0;
	char *m = NULL, *c = NULL;
	int r = sign_cosign_sig_parse(s, n, &v, &count, &e);
	check_error(r, &e);
	sign_cosign_layers_free(v, count);
	if (r == 0) {
		r = sign_cosign_sig_build(s, n, "p", 1, "c2ln", &m, &c, &e);
		check_error(r, &e);
		free(m);
		free(c);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	/* NUL-terminated copy: the parsers take lengths, the YAML one wants it. */
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (size && s[0] == 'S')
		fuzz_payload(s + 1, size - 1);
	else if (size && s[0] == 'Y')
		fuzz_yaml(s + 1, size - 1);
	else if (size && s[0] == 'T')
		fuzz_stored(s + 1, size - 1);
	else if (size && s[0] == 'C')
		fuzz_cosign(s + 1, size - 1);
	else
		fuzz_policy(s, size);
	free(s);
	return 0;
}
