/* Interop of sign/ with skopeo through the dir: transport, both ways:
 * skopeo copy --sign-by-sigstore-private-key with a key kiln generated (so
 * skopeo reads kiln's encrypted key format) is accepted by kiln's policy;
 * signatures kiln makes (sigstore and GPG), stored in containers/image's
 * tagged form, are accepted by skopeo copy under the same policy files, and
 * rejected with another key.  Skipped without skopeo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "sign/sign.h"

#define REF "registry.example.com/team/app:1.0"

struct fx {
	char dir[64];
	char *home, *fpr, *keyring;
	char *key, *pub, *pub_other, *pass;
	char *src; /* dir: image without signatures */
	char *manifest;
	char digest[DIGEST_STR_LEN + 1];
	char *sigstore_dst; /* skopeo's sigstore-signed copy of src, if it could make one */
	char *sigstore_why;  /* else why not */
};

static int run(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs cmd with its output in log; returns the exit status and, when it
 * failed, the output in *text. */
static int run_log(const char *cmd, const char *log, char **text)
{
	_cleanup_free_ char *full = xasprintf("%s >%s 2>&1", cmd, log);
	struct kerror e = { 0 };
	size_t n = 0;
	int r = run(full);
	*text = NULL;
	if (r != 0 && fs_read_file(log, 1 << 16, text, &n, &e) < 0)
		*text = xstrdup("");
	kerror_release(&e);
	return r;
}

/* Debian builds skopeo with sigstore support patched out. */
static bool sigstore_disabled(const char *text)
{
	return text && strstr(text, "sigstore disabled");
}

static char *path(struct fx *f, const char *name)
{
	return xasprintf("%s/%s", f->dir, name);
}

static void put(const char *p, const char *data, size_t len)
{
	struct kerror e = { 0 };
	if (fs_write_atomic(p, data, len, 0644, &e) < 0)
		fail_msg("%s", e.msg);
}

/* A dir: image: version file, manifest.json, config blob, no layers. */
static void make_dir_image(struct fx *f, const char *dir)
{
	struct kerror e = { 0 };
	const char *cfg = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
			  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	char cd[DIGEST_STR_LEN + 1];
	digest_bytes(cfg, strlen(cfg), cd);
	assert_int_equal(fs_mkdir_p(dir, 0755, &e), 0);
	_cleanup_free_ char *v = xasprintf("%s/version", dir);
	put(v, "Directory Transport Version: 1.1\n", 33);
	_cleanup_free_ char *c = xasprintf("%s/%s", dir, digest_hex(cd));
	put(c, cfg, strlen(cfg));
	if (!f->manifest)
		f->manifest = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
					"\"%s\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[]}",
					MT_OCI_MANIFEST, MT_OCI_CONFIG, cd, strlen(cfg));
	_cleanup_free_ char *m = xasprintf("%s/manifest.json", dir);
	put(m, f->manifest, strlen(f->manifest));
}

static char *write_policy(struct fx *f, const char *name, const char *req);

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct kerror e = { 0 };
	*state = f;
	if (run("skopeo --version >/dev/null 2>&1") != 0 || run("gpg --version >/dev/null 2>&1") != 0)
		return 0; /* tests skip */
	strcpy(f->dir, "/tmp/kiln-interop-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->home = path(f, "gnupg");
	fs_mkdir_p(f->home, 0700, &e);
	_cleanup_free_ char *gen = xasprintf(
		"gpg --homedir %s --batch --quiet --pinentry-mode loopback --passphrase '' "
		"--quick-gen-key 'Interop <i@example.com>' ed25519 sign never >/dev/null 2>&1", f->home);
	if (run(gen) != 0)
		return -1;
	_cleanup_free_ char *q = xasprintf(
		"gpg --homedir %s --batch --with-colons --list-secret-keys 2>/dev/null | "
		"awk -F: '$1==\"fpr\"{print $10; exit}'", f->home);
	FILE *p = popen(q, "r");
	char line[128] = "";
	if (!p || !fgets(line, sizeof(line), p))
		return -1;
	pclose(p);
	line[strcspn(line, "\n")] = 0;
	f->fpr = xstrdup(line);
	f->keyring = path(f, "trusted.gpg");
	_cleanup_free_ char *ex = xasprintf("gpg --homedir %s --batch --export %s > %s 2>/dev/null",
					    f->home, f->fpr, f->keyring);
	if (run(ex) != 0)
		return -1;

	/* A cosign key pair from kiln (encrypted), and another public key. */
	_cleanup_free_ char *priv = NULL, *pub = NULL, *priv2 = NULL, *pub2 = NULL;
	if (sign_sigstore_generate("s3cret", &priv, &pub, &e) < 0 ||
	    sign_sigstore_generate("", &priv2, &pub2, &e) < 0)
		return -1;
	f->key = path(f, "cosign.key");
	f->pub = path(f, "cosign.pub");
	f->pub_other = path(f, "other.pub");
	f->pass = path(f, "pass");
	put(f->key, priv, strlen(priv));
	put(f->pub, pub, strlen(pub));
	put(f->pub_other, pub2, strlen(pub2));
	put(f->pass, "s3cret\n", 7);
	f->src = path(f, "src");
	make_dir_image(f, f->src);
	digest_bytes(f->manifest, strlen(f->manifest), f->digest);

	/* skopeo signs a copy with kiln's encrypted cosign key. */
	_cleanup_free_ char *any = write_policy(f, "any.json", "{\"type\":\"insecureAcceptAnything\"}");
	_cleanup_free_ char *dst = path(f, "dst-sigstore"), *log = path(f, "sigstore.log");
	_cleanup_free_ char *cmd = xasprintf(
		"skopeo --policy %s copy -q --sign-by-sigstore-private-key %s --sign-passphrase-file %s "
		"--sign-identity %s dir:%s dir:%s", any, f->key, f->pass, REF, f->src, dst);
	char *out = NULL;
	if (run_log(cmd, log, &out) == 0)
		f->sigstore_dst = steal_pointer(&dst);
	else if (sigstore_disabled(out))
		f->sigstore_why = xstrdup("this skopeo is built without sigstore support");
	else
		f->sigstore_why = xasprintf("skopeo failed: %s", out);
	free(out);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct kerror e = { 0 };
	if (f->home) {
		_cleanup_free_ char *kill = xasprintf("gpgconf --homedir %s --kill all >/dev/null 2>&1", f->home);
		run(kill);
		fs_rm_rf(f->dir, &e);
	}
	kerror_release(&e);
	free(f->home);
	free(f->fpr);
	free(f->keyring);
	free(f->key);
	free(f->pub);
	free(f->pub_other);
	free(f->pass);
	free(f->src);
	free(f->manifest);
	free(f->sigstore_dst);
	free(f->sigstore_why);
	free(f);
	return 0;
}

static char *write_policy(struct fx *f, const char *name, const char *req)
{
	char *p = path(f, name);
	_cleanup_free_ char *j = xasprintf(
		"{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"dir\":{\"\":[%s]},"
		"\"docker\":{\"\":[%s]}}}", req, req);
	put(p, j, strlen(j));
	return p;
}

static int kiln_evaluate(const char *policy_path, const char *ref_s, const char *manifest,
			 const struct sign_signature *sig, struct kerror *e)
{
	_cleanup_sign_policy_ struct sign_policy *p = NULL;
	_cleanup_ref_ struct image_ref *ref = NULL;
	assert_int_equal(sign_policy_load(policy_path, &p, e), 0);
	assert_int_equal(ref_parse(ref_s, &ref, e), 0);
	struct sign_image img = { .transport = "docker", .ref = ref, .manifest = manifest,
				  .manifest_len = strlen(manifest) };
	return sign_policy_evaluate(p, &img, sig, 1, e);
}

static void test_skopeo_signs_sigstore(void **state)
{
	struct fx *f = *state;
	struct kerror e = { 0 };
	if (!f->home || !f->sigstore_dst) {
		print_message("skipped: %s\n", f->sigstore_why ? f->sigstore_why : "no skopeo");
		skip();
	}
	const char *dst = f->sigstore_dst;
	_cleanup_free_ char *sigp = xasprintf("%s/signature-1", dst);
	_cleanup_free_ char *mp = xasprintf("%s/manifest.json", dst);
	_cleanup_free_ char *blob = NULL, *manifest = NULL;
	size_t blen = 0, mlen = 0;
	assert_int_equal(fs_read_file(sigp, 1 << 20, &blob, &blen, &e), 0);
	assert_int_equal(fs_read_file(mp, 1 << 20, &manifest, &mlen, &e), 0);
	struct sign_stored st;
	assert_int_equal(sign_stored_decode(blob, blen, &st, &e), 0);
	assert_int_equal(st.kind, SIGN_SIG_SIGSTORE);
	assert_string_equal(st.mime_type, SIGN_COSIGN_MEDIA_TYPE);
	struct sign_signature s = { SIGN_SIG_SIGSTORE, st.data.data, st.data.len, st.b64_signature };

	_cleanup_free_ char *req = xasprintf("{\"type\":\"sigstoreSigned\",\"keyPath\":\"%s\"}", f->pub);
	_cleanup_free_ char *pol = write_policy(f, "sigstore.json", req);
	if (kiln_evaluate(pol, REF, manifest, &s, &e) != 0)
		fail_msg("kiln rejected skopeo's sigstore signature: %s", e.msg);
	_cleanup_free_ char *req2 = xasprintf("{\"type\":\"sigstoreSigned\",\"keyPath\":\"%s\"}", f->pub_other);
	_cleanup_free_ char *pol2 = write_policy(f, "sigstore-other.json", req2);
	assert_int_equal(kiln_evaluate(pol2, REF, manifest, &s, &e), -EACCES);
	assert_int_equal(kiln_evaluate(pol, "registry.example.com/team/app:2.0", manifest, &s, &e), -EACCES);
	sign_stored_release(&st);
	kerror_release(&e);
}

/* Copies src plus kiln's stored signature through skopeo under a policy. */
static int skopeo_accepts(struct fx *f, const char *name, const char *blob, size_t len,
			  const char *policy, char **out)
{
	_cleanup_free_ char *src = path(f, name);
	_cleanup_free_ char *dst = xasprintf("%s-out", src);
	make_dir_image(f, src);
	_cleanup_free_ char *sigp = xasprintf("%s/signature-1", src);
	put(sigp, blob, len);
	_cleanup_free_ char *cmd = xasprintf("skopeo --policy %s copy -q dir:%s dir:%s", policy, src, dst);
	_cleanup_free_ char *log = xasprintf("%s.log", src);
	int r = run_log(cmd, log, out);
	return r;
}

static void test_skopeo_verifies_kiln_sigstore(void **state)
{
	struct fx *f = *state;
	struct kerror e = { 0 };
	struct sign_bytes payload = { 0 };
	_cleanup_free_ char *b64 = NULL;
	if (!f->home || f->sigstore_why) {
		print_message("skipped: %s\n", f->sigstore_why ? f->sigstore_why : "no skopeo");
		skip();
	}
	assert_int_equal(sign_sigstore_create(f->key, f->pass, REF, f->digest, &payload, &b64, &e), 0);
	struct sign_signature s = { SIGN_SIG_SIGSTORE, payload.data, payload.len, b64 };
	size_t len = 0;
	_cleanup_free_ char *blob = sign_stored_encode(&s, &len);

	/* dir: images have no docker identity: exactReference names it. */
	_cleanup_free_ char *req = xasprintf(
		"{\"type\":\"sigstoreSigned\",\"keyPath\":\"%s\",\"signedIdentity\":"
		"{\"type\":\"exactReference\",\"dockerReference\":\"%s\"}}", f->pub, REF);
	_cleanup_free_ char *pol = write_policy(f, "kiln-sigstore.json", req);
	/* kiln agrees with itself on the same policy file (as a docker image). */
	assert_int_equal(kiln_evaluate(pol, REF, f->manifest, &s, &e), 0);
	_cleanup_free_ char *out = NULL, *out2 = NULL;
	if (skopeo_accepts(f, "k-sigstore", blob, len, pol, &out) != 0) {
		fail_msg("skopeo rejected kiln's sigstore signature: %s", out);
	}
	_cleanup_free_ char *req2 = xasprintf(
		"{\"type\":\"sigstoreSigned\",\"keyPath\":\"%s\",\"signedIdentity\":"
		"{\"type\":\"exactReference\",\"dockerReference\":\"%s\"}}", f->pub_other, REF);
	_cleanup_free_ char *pol2 = write_policy(f, "kiln-sigstore-other.json", req2);
	assert_int_not_equal(skopeo_accepts(f, "k-sigstore2", blob, len, pol2, &out2), 0);
	sign_bytes_release(&payload);
	kerror_release(&e);
}

static void test_skopeo_verifies_kiln_gpg(void **state)
{
	struct fx *f = *state;
	struct kerror e = { 0 };
	struct sign_bytes sig = { 0 };
	if (!f->home)
		skip();
	assert_int_equal(sign_simple_create(f->home, f->fpr, NULL, REF, f->digest, &sig, &e), 0);
	struct sign_signature s = { SIGN_SIG_SIMPLE, sig.data, sig.len, NULL };
	size_t len = 0;
	_cleanup_free_ char *blob = sign_stored_encode(&s, &len);
	_cleanup_free_ char *req = xasprintf(
		"{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"%s\",\"signedIdentity\":"
		"{\"type\":\"exactReference\",\"dockerReference\":\"%s\"}}", f->keyring, REF);
	_cleanup_free_ char *pol = write_policy(f, "kiln-gpg.json", req);
	_cleanup_free_ char *out = NULL, *out2 = NULL;
	if (skopeo_accepts(f, "k-gpg", blob, len, pol, &out) != 0)
		fail_msg("skopeo rejected kiln's GPG signature: %s", out);
	_cleanup_free_ char *req2 = xasprintf(
		"{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"%s\",\"signedIdentity\":"
		"{\"type\":\"exactReference\",\"dockerReference\":\"%s:other\"}}", f->keyring,
		"registry.example.com/team/app");
	_cleanup_free_ char *pol2 = write_policy(f, "kiln-gpg-other.json", req2);
	assert_int_not_equal(skopeo_accepts(f, "k-gpg2", blob, len, pol2, &out2), 0);
	assert_non_null(strstr(out2, "is not accepted"));

	/* And skopeo's own GPG signature through dir: is read back by kiln. */
	_cleanup_free_ char *dst = path(f, "dst-gpg");
	_cleanup_free_ char *any = write_policy(f, "any2.json", "{\"type\":\"insecureAcceptAnything\"}");
	_cleanup_free_ char *cmd = xasprintf(
		"GNUPGHOME=%s skopeo --policy %s copy -q --sign-by %s --sign-identity %s dir:%s dir:%s",
		f->home, any, f->fpr, REF, f->src, dst);
	assert_int_equal(run(cmd), 0);
	_cleanup_free_ char *sigp = xasprintf("%s/signature-1", dst);
	_cleanup_free_ char *theirs = NULL;
	size_t tlen = 0;
	assert_int_equal(fs_read_file(sigp, 1 << 20, &theirs, &tlen, &e), 0);
	struct sign_stored st;
	assert_int_equal(sign_stored_decode(theirs, tlen, &st, &e), 0);
	assert_int_equal(st.kind, SIGN_SIG_SIMPLE);
	struct sign_signature ts = { SIGN_SIG_SIMPLE, st.data.data, st.data.len, NULL };
	_cleanup_free_ char *req3 = xasprintf("{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"%s\"}",
					      f->keyring);
	_cleanup_free_ char *pol3 = write_policy(f, "gpg.json", req3);
	if (kiln_evaluate(pol3, REF, f->manifest, &ts, &e) != 0)
		fail_msg("kiln rejected skopeo's GPG signature: %s", e.msg);
	sign_stored_release(&st);
	sign_bytes_release(&sig);
	kerror_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skopeo_signs_sigstore),
		cmocka_unit_test(test_skopeo_verifies_kiln_sigstore),
		cmocka_unit_test(test_skopeo_verifies_kiln_gpg),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
