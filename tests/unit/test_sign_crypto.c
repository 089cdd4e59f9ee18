/* Unit tests for sign/'s crypto with real keys made here: GPG keys in a
 * temporary GNUPGHOME (gpg --quick-gen-key, no network), ECDSA P-256 and
 * Ed25519 keys from OpenSSL, cosign's encrypted key format, policy
 * evaluation end to end, and interop with skopeo standalone-sign/-verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sign/sign.h"

struct fixture {
	char dir[64];
	char *home;          /* GNUPGHOME with the secret keys */
	char *fpr, *fpr2;    /* trusted key, other key */
	char *fpr_pass;      /* key with passphrase "s3cret" */
	char *keyring;       /* path: export of the trusted key */
	char *keyring2;      /* path: export of the other key */
	char *pass_file;
	char *manifest;
	char digest[DIGEST_STR_LEN + 1];
	bool have_skopeo;
};

static int run(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *capture(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	struct buf b = { 0 };
	char tmp[4096];
	size_t n;
	if (!f)
		return NULL;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(&b, tmp, n);
	pclose(f);
	buf_append(&b, "", 0);
	char *s = buf_steal(&b);
	char *nl = strchr(s, '\n');
	if (nl)
		*nl = 0;
	return s;
}

static char *gen_key(struct fixture *f, const char *uid, const char *pass)
{
	_cleanup_free_ char *cmd = xasprintf(
		"gpg --homedir %s --batch --quiet --pinentry-mode loopback --passphrase '%s' "
		"--quick-gen-key '%s' ed25519 sign never >/dev/null 2>&1",
		f->home, pass, uid);
	if (run(cmd) != 0)
		return NULL;
	_cleanup_free_ char *q = xasprintf(
		"gpg --homedir %s --batch --with-colons --list-secret-keys '%s' 2>/dev/null | "
		"awk -F: '$1==\"fpr\"{print $10; exit}'",
		f->home, uid);
	return capture(q);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct kerror e = { 0 };
	strcpy(f->dir, "/tmp/kiln-sign-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->home = xasprintf("%s/gnupg", f->dir);
	if (fs_mkdir_p(f->home, 0700, &e) < 0)
		return -1;
	f->fpr = gen_key(f, "Kiln Test <kiln@example.com>", "");
	f->fpr2 = gen_key(f, "Other Key <other@example.com>", "");
	f->fpr_pass = gen_key(f, "Pass Key <pass@example.com>", "s3cret");
	if (!f->fpr || strlen(f->fpr) != 40 || !f->fpr2 || !f->fpr_pass)
		return -1;
	f->keyring = xasprintf("%s/trusted.gpg", f->dir);
	f->keyring2 = xasprintf("%s/other.gpg", f->dir);
	_cleanup_free_ char *c1 = xasprintf("gpg --homedir %s --batch --export %s > %s 2>/dev/null",
					    f->home, f->fpr, f->keyring);
	_cleanup_free_ char *c2 = xasprintf("gpg --homedir %s --batch --export %s > %s 2>/dev/null",
					    f->home, f->fpr2, f->keyring2);
	if (run(c1) != 0 || run(c2) != 0)
		return -1;
	f->pass_file = xasprintf("%s/pass", f->dir);
	if (fs_write_atomic(f->pass_file, "s3cret\n", 7, 0600, &e) < 0)
		return -1;
	f->manifest = xstrdup(
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"
		"\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"size\":2},"
		"\"layers\":[]}");
	digest_bytes(f->manifest, strlen(f->manifest), f->digest);
	f->have_skopeo = run("skopeo --version >/dev/null 2>&1") == 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct kerror e = { 0 };
	/* Stop the agent the key generation and signing started in our home. */
	_cleanup_free_ char *kill = xasprintf("gpgconf --homedir %s --kill all >/dev/null 2>&1", f->home);
	run(kill);
	fs_rm_rf(f->dir, &e);
	kerror_release(&e);
	free(f->home);
	free(f->fpr);
	free(f->fpr2);
	free(f->fpr_pass);
	free(f->keyring);
	free(f->keyring2);
	free(f->pass_file);
	free(f->manifest);
	free(f);
	return 0;
}

static struct sign_policy *policy(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct sign_policy *policy(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	struct kerror e = { 0 };
	struct sign_policy *p = NULL;
	va_start(ap, fmt);
	assert_true(vasprintf(&s, fmt, ap) >= 0);
	va_end(ap);
	if (sign_policy_parse(s, strlen(s), &p, &e) < 0)
		fail_msg("policy: %s", e.msg);
	free(s);
	return p;
}

static void read_bytes(const char *path, struct sign_bytes *b)
{
	struct kerror e = { 0 };
	assert_int_equal(fs_read_file(path, 1 << 20, &b->data, &b->len, &e), 0);
}

static int evaluate(struct sign_policy *p, const char *ref_s, const char *manifest,
		    const struct sign_signature *sigs, size_t n, struct kerror *e)
{
	_cleanup_ref_ struct image_ref *ref = NULL;
	assert_int_equal(ref_parse(ref_s, &ref, e), 0);
	struct sign_image img = { .transport = "docker", .ref = ref, .manifest = manifest,
				  .manifest_len = strlen(manifest) };
	return sign_policy_evaluate(p, &img, sigs, n, e);
}

/* ---- GPG --------------------------------------------------------------------- */

static void test_gpg_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct kerror e = { 0 };
	struct sign_bytes sig = { 0 }, payload = { 0 }, ring = { 0 };
	char *signer = NULL;

	assert_int_equal(sign_gpg_sign(f->home, f->fpr, NULL, "hello", 5, &sig, &e), 0);
	assert_true(sig.len > 0);
	/* A signed message (compressed or one-pass/signature packet first). */
	unsigned char first = (unsigned char)sig.data[0];
	assert_true((first >= 0xa0 && first <= 0xa3) || first == 0xc8 || first == 0x90 ||
		    first == 0x91 || first == 0x92 || first == 0xc4 || (first >= 0x88 && first <= 0x8b) ||
		    first == 0xc2);
	read_bytes(f->keyring, &ring);
	assert_int_equal(sign_gpg_verify(&ring, 1, sig.data, sig.len, &payload, &signer, &e), 0);
	assert_int_equal(payload.len, 5);
	assert_memory_equal(payload.data, "hello", 5);
	assert_string_equal(signer, f->fpr);
	free(signer);
	sign_bytes_release(&payload);
	sign_bytes_release(&ring);

	/* Only the other key: not trusted. */
	read_bytes(f->keyring2, &ring);
	assert_int_equal(sign_gpg_verify(&ring, 1, sig.data, sig.len, &payload, NULL, &e), -EACCES);
	assert_null(payload.data);
	sign_bytes_release(&ring);

	/* Garbage and an empty keyring. */
	struct sign_bytes junk = { .data = (char *)"not a key", .len = 9 };
	assert_int_equal(sign_gpg_verify(&junk, 1, sig.data, sig.len, &payload, NULL, &e), -EACCES);
	read_bytes(f->keyring, &ring);
	assert_int_equal(sign_gpg_verify(&ring, 1, "garbage", 7, &payload, NULL, &e), -EACCES);
	assert_int_equal(sign_gpg_verify(&ring, 1, sig.data, 0, &payload, NULL, &e), -EACCES);
	sign_bytes_release(&ring);
	sign_bytes_release(&sig);

	/* Unknown fingerprint for signing. */
	assert_int_not_equal(sign_gpg_sign(f->home, "0000000000000000000000000000000000000000", NULL,
					   "x", 1, &sig, &e), 0);
	kerror_release(&e);
}

static void test_gpg_passphrase(void **state)
{
	struct fixture *f = *state;
	struct kerror e = { 0 };
	struct sign_bytes sig = { 0 };
	_cleanup_free_ char *bad = xasprintf("%s/badpass", f->dir);

	assert_int_equal(sign_gpg_sign(f->home, f->fpr_pass, f->pass_file, "x", 1, &sig, &e), 0);
	assert_true(sig.len > 0);
	sign_bytes_release(&sig);
	assert_int_equal(fs_write_atomic(bad, "wrong\n", 6, 0600, &e), 0);
	/* The agent caches the good passphrase: make it forget. */
	_cleanup_free_ char *reload = xasprintf("gpgconf --homedir %s --reload gpg-agent", f->home);
	assert_int_equal(run(reload), 0);
	assert_int_not_equal(sign_gpg_sign(f->home, f->fpr_pass, bad, "x", 1, &sig, &e), 0);
	assert_null(sig.data);
	kerror_release(&e);
}

/* A signing subkey's signature is reported as (and trusted through) its
 * primary key. */
static void test_gpg_subkey(void **state)
{
	struct fixture *f = *state;
	struct kerror e = { 0 };
	struct sign_bytes sig = { 0 }, ring = { 0 }, payload = { 0 };
	char *signer = NULL;
	_cleanup_free_ char *home = xasprintf("%s/sub-gnupg", f->dir);
	_cleanup_free_ char *keyring = xasprintf("%s/sub.gpg", f->dir);
	assert_int_equal(fs_mkdir_p(home, 0700, &e), 0);
	_cleanup_free_ char *gen = xasprintf(
		"gpg --homedir %s --batch --quiet --pinentry-mode loopback --passphrase '' "
		"--quick-gen-key 'Sub <sub@example.com>' ed25519 cert never >/dev/null 2>&1", home);
	_cleanup_free_ char *fq = xasprintf(
		"gpg --homedir %s --batch --with-colons --list-secret-keys 2>/dev/null | "
		"awk -F: '$1==\"fpr\"{print $10; exit}'", home);
	assert_int_equal(run(gen), 0);
	_cleanup_free_ char *fpr = capture(fq);
	_cleanup_free_ char *add = xasprintf(
		"gpg --homedir %s --batch --quiet --pinentry-mode loopback --passphrase '' "
		"--quick-add-key %s ed25519 sign never >/dev/null 2>&1", home, fpr);
	_cleanup_free_ char *exp = xasprintf("gpg --homedir %s --batch --export %s > %s 2>/dev/null",
					     home, fpr, keyring);
	assert_int_equal(run(add), 0);
	assert_int_equal(run(exp), 0);
	assert_int_equal(sign_gpg_sign(home, fpr, NULL, "sub", 3, &sig, &e), 0);
	_cleanup_free_ char *kill = xasprintf("gpgconf --homedir %s --kill all >/dev/null 2>&1", home);
	run(kill);
	read_bytes(keyring, &ring);
	assert_int_equal(sign_gpg_verify(&ring, 1, sig.data, sig.len, &payload, &signer, &e), 0);
	assert_string_equal(signer, fpr);
	free(signer);
	sign_bytes_release(&payload);
	sign_bytes_release(&sig);
	sign_bytes_release(&ring);
	kerror_release(&e);
}

/* A signature made (in gpg's faked past) by a key that has since expired. */
static void test_gpg_expired_key(void **state)
{
	struct fixture *f = *state;
	struct kerror e = { 0 };
	struct sign_bytes sig = { 0 }, ring = { 0 }, payload = { 0 };
	_cleanup_free_ char *home = xasprintf("%s/old-gnupg", f->dir);
	_cleanup_free_ char *in = xasprintf("%s/old-payload", f->dir);
	_cleanup_free_ char *out = xasprintf("%s/old.sig", f->dir);
	_cleanup_free_ char *keyring = xasprintf("%s/old.gpg", f->dir);
	const char *past = "--faked-system-time 20200101T000000!";
	assert_int_equal(fs_mkdir_p(home, 0700, &e), 0);
	assert_int_equal(fs_write_atomic(in, "payload", 7, 0644, &e), 0);
	_cleanup_free_ char *gen = xasprintf(
		"gpg --homedir %s %s --batch --quiet --pinentry-mode loopback --passphrase '' "
		"--quick-gen-key 'Old <old@example.com>' ed25519 sign 1d >/dev/null 2>&1", home, past);
	_cleanup_free_ char *sign = xasprintf(
		"gpg --homedir %s %s --batch --quiet --pinentry-mode loopback --passphrase '' "
		"-u old@example.com -o %s --sign %s >/dev/null 2>&1", home, past, out, in);
	_cleanup_free_ char *exp = xasprintf("gpg --homedir %s --batch --export old@example.com > %s 2>/dev/null",
					     home, keyring);
	_cleanup_free_ char *kill = xasprintf("gpgconf --homedir %s --kill all >/dev/null 2>&1", home);
	int ok = run(gen) == 0 && run(sign) == 0 && run(exp) == 0;
	run(kill);
	assert_true(ok);
	read_bytes(out, &sig);
	read_bytes(keyring, &ring);
	assert_int_equal(sign_gpg_verify(&ring, 1, sig.data, sig.len, &payload, NULL, &e), -EACCES);
	assert_non_null(strstr(e.msg, "xpired"));
	assert_null(payload.data);
	sign_bytes_release(&sig);
	sign_bytes_release(&ring);
	kerror_release(&e);
}

static void test_simple_policy(void **state)
{
	struct fixture *f = *state;
	struct kerror e = { 0 };
	struct sign_bytes sig = { 0 }, sig_other = { 0 }, sig_digest = { 0 }, ring = { 0 };
	const char *ref = "registry.example.com/app/web:1.0";

	assert_int_equal(sign_simple_create(f->home, f->fpr, NULL, ref, f->digest, &sig, &e), 0);
	assert_int_equal(sign_simple_create(f->home, f->fpr2, NULL, ref, f->digest, &sig_other, &e), 0);
	assert_int_equal(sign_simple_create(f->home, f->fpr, NULL, ref,
					    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
					    &sig_digest, &e), 0);
	struct sign_signature good = { SIGN_SIG_SIMPLE, sig.data, sig.len, NULL };
	struct sign_signature other = { SIGN_SIG_SIMPLE, sig_other.data, sig_other.len, NULL };
	struct sign_signature wrong_digest = { SIGN_SIG_SIMPLE, sig_digest.data, sig_digest.len, NULL };

	_cleanup_sign_policy_ struct sign_policy *p = policy(
		"{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{"
		"\"registry.example.com\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"%s\"}]}}}",
		f->keyring);
	/* accepted */
	assert_int_equal(evaluate(p, ref, f->manifest, &good, 1, &e), 0);
	/* unsigned */
	assert_int_equal(evaluate(p, ref, f->manifest, NULL, 0, &e), -EACCES);
	assert_non_null(strstr(e.msg, "no signature exists"));
	/* signed by an unknown key */
	assert_int_equal(evaluate(p, ref, f->manifest, &other, 1, &e), -EACCES);
	assert_non_null(strstr(e.msg, "requirement 1 (signedBy) of scope \"registry.example.com\""));
	/* signature for another manifest digest */
	assert_int_equal(evaluate(p, ref, f->manifest, &wrong_digest, 1, &e), -EACCES);
	assert_non_null(strstr(e.msg, "does not match the image's"));
	/* the same manifest bytes changed */
	assert_int_equal(evaluate(p, ref, "{\"schemaVersion\":2}", &good, 1, &e), -EACCES);
	/* identity: another tag is not accepted by matchRepoDigestOrExact */
	assert_int_equal(evaluate(p, "registry.example.com/app/web:2.0", f->manifest, &good, 1, &e), -EACCES);
	assert_non_null(strstr(e.msg, "signature for identity"));
	/* but a digest pull of the same repository is */
	_cleanup_free_ char *by_digest = xasprintf("registry.example.com/app/web@%s", f->digest);
	assert_int_equal(evaluate(p, by_digest, f->manifest, &good, 1, &e), 0);
	/* one good signature among bad ones suffices; reasons listed when none */
	struct sign_signature mixed[] = { other, wrong_digest, good };
	assert_int_equal(evaluate(p, ref, f->manifest, mixed, 3, &e), 0);
	assert_int_equal(evaluate(p, ref, f->manifest, mixed, 2, &e), -EACCES);
	assert_non_null(strstr(e.msg, "signature 1: "));
	assert_non_null(strstr(e.msg, "signature 2: "));
	/* tampered signature bytes */
	_cleanup_free_ char *tampered = xmalloc(sig.len);
	memcpy(tampered, sig.data, sig.len);
	tampered[sig.len / 2] ^= 0x55;
	struct sign_signature bad = { SIGN_SIG_SIMPLE, tampered, sig.len, NULL };
	assert_int_equal(evaluate(p, ref, f->manifest, &bad, 1, &e), -EACCES);
	/* a sigstore signature does not satisfy signedBy */
	struct sign_signature wrong_kind = { SIGN_SIG_SIGSTORE, "{}", 2, "AAAA" };
	assert_int_equal(evaluate(p, ref, f->manifest, &wrong_kind, 1, &e), -EACCES);
	assert_non_null(strstr(e.msg, "no signature exists"));

	/* keyData form, with both keys (keyPaths) and with a missing key file */
	read_bytes(f->keyring, &ring);
	_cleanup_free_ char *b64 = NULL;
	{
		BIO *b = BIO_new(BIO_s_mem()), *b64f = BIO_new(BIO_f_base64());
		BIO_set_flags(b64f, BIO_FLAGS_BASE64_NO_NL);
		b = BIO_push(b64f, b);
		BIO_write(b, ring.data, (int)ring.len);
		(void)BIO_flush(b);
		char *p64 = NULL;
		long n = BIO_get_mem_data(BIO_next(b), &p64);
		b64 = xstrndup(p64, (size_t)n);
		BIO_free_all(b);
	}
	_cleanup_sign_policy_ struct sign_policy *pd = policy(
		"{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyData\":\"%s\"}]}", b64);
	assert_int_equal(evaluate(pd, ref, f->manifest, &good, 1, &e), 0);
	_cleanup_sign_policy_ struct sign_policy *pp = policy(
		"{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPaths\":[\"%s\",\"%s\"]}]}",
		f->keyring2, f->keyring);
	assert_int_equal(evaluate(pp, ref, f->manifest, &other, 1, &e), 0);
	assert_int_equal(evaluate(pp, ref, f->manifest, &good, 1, &e), 0);
	_cleanup_sign_policy_ struct sign_policy *pm = policy(
		"{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"%s/none.gpg\"}]}",
		f->dir);
	assert_true(evaluate(pm, ref, f->manifest, &good, 1, &e) < 0);
	assert_non_null(strstr(e.msg, "none.gpg"));
	/* unsupported keyType parses but never passes */
	_cleanup_sign_policy_ struct sign_policy *px = policy(
		"{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"X509Certificates\",\"keyPath\":\"%s\"}]}",
		f->keyring);
	assert_int_equal(evaluate(px, ref, f->manifest, &good, 1, &e), -EACCES);
	assert_non_null(strstr(e.msg, "not supported"));

	sign_bytes_release(&ring);
	sign_bytes_release(&sig);
	sign_bytes_release(&sig_other);
	sign_bytes_release(&sig_digest);
	kerror_release(&e);
}

static void test_simple_identities(void **state)
{
	struct fixture *f = *state;
	struct kerror e = { 0 };
	struct sign_bytes sig = { 0 };

	/* Signed as docker.io/library/busybox:1.36, pulled from a mirror. */
	assert_int_equal(sign_simple_create(f->home, f->fpr, NULL, "busybox:1.36", f->digest, &sig, &e), 0);
	struct sign_signature s = { SIGN_SIG_SIMPLE, sig.data, sig.len, NULL };
	const char *mirror = "mirror.local:5000/docker/busybox:1.36";

	_cleanup_sign_policy_ struct sign_policy *def = policy(
		"{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"%s\"}]}", f->keyring);
	assert_int_equal(evaluate(def, mirror, f->manifest, &s, 1, &e), -EACCES);
	assert_int_equal(evaluate(def, "docker.io/library/busybox:1.36", f->manifest, &s, 1, &e), 0);

	_cleanup_sign_policy_ struct sign_policy *remap = policy(
		"{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"%s\","
		"\"signedIdentity\":{\"type\":\"remapIdentity\",\"prefix\":\"mirror.local:5000/docker\","
		"\"signedPrefix\":\"docker.io/library\"}}]}", f->keyring);
	assert_int_equal(evaluate(remap, mirror, f->manifest, &s, 1, &e), 0);
	assert_int_equal(evaluate(remap, "mirror.local:5000/docker/busybox:1.35", f->manifest, &s, 1, &e), -EACCES);

	_cleanup_sign_policy_ struct sign_policy *exact = policy(
		"{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"%s\","
		"\"signedIdentity\":{\"type\":\"exactReference\",\"dockerReference\":\"busybox:1.36\"}}]}",
		f->keyring);
	assert_int_equal(evaluate(exact, "anything.io/x:y", f->manifest, &s, 1, &e), 0);

	_cleanup_sign_policy_ struct sign_policy *repo = policy(
		"{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"%s\","
		"\"signedIdentity\":{\"type\":\"matchRepository\"}}]}", f->keyring);
	assert_int_equal(evaluate(repo, "busybox:other", f->manifest, &s, 1, &e), 0);
	assert_int_equal(evaluate(repo, "alpine:1.36", f->manifest, &s, 1, &e), -EACCES);

	_cleanup_sign_policy_ struct sign_policy *mexact = policy(
		"{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"%s\","
		"\"signedIdentity\":{\"type\":\"matchExact\"}}]}", f->keyring);
	_cleanup_free_ char *by_digest = xasprintf("busybox@%s", f->digest);
	assert_int_equal(evaluate(mexact, "busybox:1.36", f->manifest, &s, 1, &e), 0);
	assert_int_equal(evaluate(mexact, by_digest, f->manifest, &s, 1, &e), -EACCES);

	/* insecureAcceptAnything + signedBy: both must pass */
	_cleanup_sign_policy_ struct sign_policy *both = policy(
		"{\"default\":[{\"type\":\"insecureAcceptAnything\"},"
		"{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"%s\"}]}", f->keyring);
	assert_int_equal(evaluate(both, "busybox:1.36", f->manifest, &s, 1, &e), 0);
	assert_int_equal(evaluate(both, "busybox:1.36", f->manifest, NULL, 0, &e), -EACCES);
	sign_bytes_release(&sig);
	kerror_release(&e);
}

/* ---- skopeo interop ------------------------------------------------------------ */

static void test_skopeo_interop(void **state)
{
	struct fixture *f = *state;
	struct kerror e = { 0 };
	struct sign_bytes sig = { 0 }, theirs = { 0 };
	const char *ref = "registry.example.com/app/web:1.0";
	if (!f->have_skopeo)
		skip();
	_cleanup_free_ char *mpath = xasprintf("%s/manifest.json", f->dir);
	_cleanup_free_ char *ours = xasprintf("%s/kiln.sig", f->dir);
	_cleanup_free_ char *theirs_path = xasprintf("%s/skopeo.sig", f->dir);
	assert_int_equal(fs_write_atomic(mpath, f->manifest, strlen(f->manifest), 0644, &e), 0);

	/* kiln signs, skopeo verifies */
	assert_int_equal(sign_simple_create(f->home, f->fpr, NULL, ref, f->digest, &sig, &e), 0);
	assert_int_equal(fs_write_atomic(ours, sig.data, sig.len, 0644, &e), 0);
	_cleanup_free_ char *verify = xasprintf(
		"GNUPGHOME=%s skopeo standalone-verify %s %s %s %s >/dev/null 2>&1", f->home, mpath,
		ref, f->fpr, ours);
	assert_int_equal(run(verify), 0);
	/* and rejects it for another reference */
	_cleanup_free_ char *verify2 = xasprintf(
		"GNUPGHOME=%s skopeo standalone-verify %s %s %s %s >/dev/null 2>&1", f->home, mpath,
		"registry.example.com/app/web:2.0", f->fpr, ours);
	assert_int_not_equal(run(verify2), 0);

	/* skopeo signs, kiln verifies */
	_cleanup_free_ char *signcmd = xasprintf(
		"GNUPGHOME=%s skopeo standalone-sign -o %s %s %s %s >/dev/null 2>&1", f->home,
		theirs_path, mpath, ref, f->fpr);
	assert_int_equal(run(signcmd), 0);
	read_bytes(theirs_path, &theirs);
	struct sign_signature s = { SIGN_SIG_SIMPLE, theirs.data, theirs.len, NULL };
	_cleanup_sign_policy_ struct sign_policy *p = policy(
		"{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"%s\"}]}", f->keyring);
	assert_int_equal(evaluate(p, ref, f->manifest, &s, 1, &e), 0);
	_cleanup_sign_policy_ struct sign_policy *p2 = policy(
		"{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"%s\"}]}", f->keyring2);
	assert_int_equal(evaluate(p2, ref, f->manifest, &s, 1, &e), -EACCES);
	sign_bytes_release(&sig);
	sign_bytes_release(&theirs);
	kerror_release(&e);
}

/* ---- sigstore -------------------------------------------------------------------- */

static char *gen_pem(const char *alg, char **pub)
{
	EVP_PKEY *k = strcmp(alg, "ec") == 0 ? EVP_EC_gen("P-256") : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	BIO *b = BIO_new(BIO_s_mem()), *pb = BIO_new(BIO_s_mem());
	char *p = NULL;
	assert_non_null(k);
	assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
	assert_int_equal(PEM_write_bio_PUBKEY(pb, k), 1);
	long n = BIO_get_mem_data(b, &p);
	char *priv = xstrndup(p, (size_t)n);
	n = BIO_get_mem_data(pb, &p);
	*pub = xstrndup(p, (size_t)n);
	BIO_free(b);
	BIO_free(pb);
	EVP_PKEY_free(k);
	return priv;
}

static void test_sigstore_keys(void **state)
{
	struct fixture *f = *state;
	struct kerror e = { 0 };
	const char *kinds[] = { "ec", "ed25519" };

	for (size_t i = 0; i < 2; i++) {
		_cleanup_free_ char *pub = NULL, *pub2 = NULL, *sig = NULL;
		_cleanup_free_ char *priv = gen_pem(kinds[i], &pub);
		_cleanup_free_ char *priv2 = gen_pem(kinds[i], &pub2);
		const char *payload = "{\"critical\":{}}";
		assert_int_equal(sign_sigstore_sign(priv, strlen(priv), NULL, payload, strlen(payload), &sig, &e), 0);
		struct sign_bytes k = { pub, strlen(pub) }, k2 = { pub2, strlen(pub2) };
		assert_int_equal(sign_sigstore_verify(&k, 1, payload, strlen(payload), sig, &e), 0);
		/* tampered payload */
		assert_int_equal(sign_sigstore_verify(&k, 1, "{\"critical\":{ }", 15, sig, &e), -EACCES);
		/* wrong key, then both keys */
		assert_int_equal(sign_sigstore_verify(&k2, 1, payload, strlen(payload), sig, &e), -EACCES);
		struct sign_bytes both[] = { k2, k };
		assert_int_equal(sign_sigstore_verify(both, 2, payload, strlen(payload), sig, &e), 0);
		/* bad base64, no key */
		assert_int_equal(sign_sigstore_verify(&k, 1, payload, strlen(payload), "@@@@", &e), -EACCES);
		struct sign_bytes nokey = { (char *)"hello", 5 };
		assert_int_equal(sign_sigstore_verify(&nokey, 1, payload, strlen(payload), sig, &e), -EACCES);
		assert_non_null(strstr(e.msg, "no usable PEM public key"));
	}
	(void)f;
	kerror_release(&e);
}

static void test_sigstore_encrypted_key(void **state)
{
	struct fixture *f = *state;
	struct kerror e = { 0 };
	_cleanup_free_ char *priv = NULL, *pub = NULL, *sig = NULL;
	_cleanup_free_ char *key_path = xasprintf("%s/cosign.key", f->dir);
	_cleanup_free_ char *pub_path = xasprintf("%s/cosign.pub", f->dir);
	struct sign_bytes payload = { 0 };

	assert_int_equal(sign_sigstore_generate("s3cret", &priv, &pub, &e), 0);
	assert_non_null(strstr(priv, "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
	assert_non_null(strstr(pub, "-----BEGIN PUBLIC KEY-----"));
	assert_int_equal(sign_sigstore_sign(priv, strlen(priv), "s3cret", "abc", 3, &sig, &e), 0);
	struct sign_bytes k = { pub, strlen(pub) };
	assert_int_equal(sign_sigstore_verify(&k, 1, "abc", 3, sig, &e), 0);
	free(sig);
	sig = NULL;
	assert_int_not_equal(sign_sigstore_sign(priv, strlen(priv), "wrong", "abc", 3, &sig, &e), 0);
	assert_non_null(strstr(e.msg, "wrong passphrase"));
	assert_null(sig);

	/* The push-side helper with a passphrase file, then the policy. */
	assert_int_equal(fs_write_atomic(key_path, priv, strlen(priv), 0600, &e), 0);
	assert_int_equal(fs_write_atomic(pub_path, pub, strlen(pub), 0644, &e), 0);
	const char *ref = "quay.io/org/app:v2";
	assert_int_equal(sign_sigstore_create(key_path, f->pass_file, ref, f->digest, &payload, &sig, &e), 0);
	assert_non_null(strstr(payload.data, "\"type\":\"cosign container image signature\""));
	assert_non_null(strstr(payload.data, "\"optional\":null"));
	struct sign_signature s = { SIGN_SIG_SIGSTORE, payload.data, payload.len, sig };
	_cleanup_sign_policy_ struct sign_policy *p = policy(
		"{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{\"quay.io/org\":"
		"[{\"type\":\"sigstoreSigned\",\"keyPath\":\"%s\"}]}}}", pub_path);
	assert_int_equal(evaluate(p, ref, f->manifest, &s, 1, &e), 0);
	assert_int_equal(evaluate(p, "quay.io/org/app:v3", f->manifest, &s, 1, &e), -EACCES);
	assert_int_equal(evaluate(p, ref, "{}", &s, 1, &e), -EACCES);
	/* a GPG signature does not satisfy sigstoreSigned */
	struct sign_signature g = { SIGN_SIG_SIMPLE, "x", 1, NULL };
	assert_int_equal(evaluate(p, ref, f->manifest, &g, 1, &e), -EACCES);
	/* the annotation over a different payload */
	_cleanup_free_ char *other_pl = xstrdup(payload.data);
	other_pl[strlen(other_pl) - 2] = ' ';
	struct sign_signature t = { SIGN_SIG_SIGSTORE, other_pl, strlen(other_pl), sig };
	assert_int_equal(evaluate(p, ref, f->manifest, &t, 1, &e), -EACCES);
	assert_non_null(strstr(e.msg, "verification failed"));
	sign_bytes_release(&payload);
	kerror_release(&e);
}

static void test_sigstore_generate_files(void **state)
{
	struct fixture *f = *state;
	struct kerror e = { 0 };
	_cleanup_free_ char *prefix = xasprintf("%s/gen", f->dir);
	_cleanup_free_ char *priv = xasprintf("%s.private", prefix), *pub = xasprintf("%s.pub", prefix);
	struct sign_bytes payload = { 0 };
	_cleanup_free_ char *sig = NULL;
	struct stat st;

	assert_int_equal(sign_sigstore_generate_files(prefix, f->pass_file, &e), 0);
	assert_int_equal(stat(priv, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(sign_sigstore_generate_files(prefix, NULL, &e), -EEXIST);
	assert_int_equal(sign_sigstore_create(priv, f->pass_file, "a.io/b:c", f->digest, &payload, &sig, &e), 0);
	struct sign_bytes k = { 0 };
	read_bytes(pub, &k);
	assert_int_equal(sign_sigstore_verify(&k, 1, payload.data, payload.len, sig, &e), 0);
	sign_bytes_release(&k);
	sign_bytes_release(&payload);
	kerror_release(&e);
}

/* A cosign-made payload names the bare repository: matchRepository needed. */
static void test_sigstore_cosign_payload(void **state)
{
	struct fixture *f = *state;
	struct kerror e = { 0 };
	_cleanup_free_ char *pub = NULL, *sig = NULL;
	_cleanup_free_ char *priv = gen_pem("ec", &pub);
	_cleanup_free_ char *pl = xasprintf(
		"{\"critical\":{\"identity\":{\"docker-reference\":\"ghcr.io/o/app\"},\"image\":"
		"{\"docker-manifest-digest\":\"%s\"},\"type\":\"cosign container image signature\"},"
		"\"optional\":{\"key\":\"value\"}}", f->digest);
	assert_int_equal(sign_sigstore_sign(priv, strlen(priv), NULL, pl, strlen(pl), &sig, &e), 0);
	_cleanup_free_ char *b64 = NULL;
	{
		BIO *b = BIO_new(BIO_s_mem()), *b64f = BIO_new(BIO_f_base64());
		BIO_set_flags(b64f, BIO_FLAGS_BASE64_NO_NL);
		b = BIO_push(b64f, b);
		BIO_write(b, pub, (int)strlen(pub));
		(void)BIO_flush(b);
		char *p64 = NULL;
		long n = BIO_get_mem_data(BIO_next(b), &p64);
		b64 = xstrndup(p64, (size_t)n);
		BIO_free_all(b);
	}
	struct sign_signature s = { SIGN_SIG_SIGSTORE, pl, strlen(pl), sig };
	_cleanup_sign_policy_ struct sign_policy *def = policy(
		"{\"default\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"%s\"}]}", b64);
	assert_int_equal(evaluate(def, "ghcr.io/o/app:1", f->manifest, &s, 1, &e), -EACCES);
	_cleanup_sign_policy_ struct sign_policy *repo = policy(
		"{\"default\":[{\"type\":\"sigstoreSigned\",\"keyDatas\":[\"%s\"],"
		"\"signedIdentity\":{\"type\":\"matchRepository\"}}]}", b64);
	assert_int_equal(evaluate(repo, "ghcr.io/o/app:1", f->manifest, &s, 1, &e), 0);
	/* fulcio requirements parse but cannot pass */
	_cleanup_sign_policy_ struct sign_policy *ful = policy(
		"{\"default\":[{\"type\":\"sigstoreSigned\",\"fulcio\":{\"caPath\":\"/x\"},"
		"\"rekorPublicKeyPath\":\"/y\"}]}");
	assert_int_equal(evaluate(ful, "ghcr.io/o/app:1", f->manifest, &s, 1, &e), -EACCES);
	assert_non_null(strstr(e.msg, "not supported"));
	kerror_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gpg_roundtrip),
		cmocka_unit_test(test_gpg_passphrase),
		cmocka_unit_test(test_gpg_expired_key),
		cmocka_unit_test(test_gpg_subkey),
		cmocka_unit_test(test_simple_policy),
		cmocka_unit_test(test_simple_identities),
		cmocka_unit_test(test_skopeo_interop),
		cmocka_unit_test(test_sigstore_keys),
		cmocka_unit_test(test_sigstore_encrypted_key),
		cmocka_unit_test(test_sigstore_cosign_payload),
		cmocka_unit_test(test_sigstore_generate_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
