/* sigstore.c — cosign-compatible key signatures: a base64 signature over
 * the payload blob (ECDSA/SHA-256 DER, RSA PKCS#1 v1.5/SHA-256 or Ed25519),
 * PEM public keys, and private keys plain or in cosign's encrypted format. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sign/sign_int.h"

static void cleanup_biop(BIO **b)
{
	if (*b)
		BIO_free(*b);
}
static void cleanup_pkeyp(EVP_PKEY **k)
{
	if (*k)
		EVP_PKEY_free(*k);
}
static void cleanup_mdctxp(EVP_MD_CTX **c)
{
	if (*c)
		EVP_MD_CTX_free(*c);
}
#define _cleanup_bio_ __attribute__((cleanup(cleanup_biop)))
#define _cleanup_pkey_ __attribute__((cleanup(cleanup_pkeyp)))
#define _cleanup_mdctx_ __attribute__((cleanup(cleanup_mdctxp)))

/* SHA-256 for ECDSA and RSA; Ed25519 hashes internally (md NULL). */
static const EVP_MD *key_md(EVP_PKEY *k, bool *ok)
{
	int id = EVP_PKEY_get_base_id(k);
	*ok = id == EVP_PKEY_EC || id == EVP_PKEY_RSA || id == EVP_PKEY_ED25519;
	return id == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
}

static bool verify_with(EVP_PKEY *k, const void *payload, size_t len, const struct sign_bytes *sig)
{
	_cleanup_mdctx_ EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok;
	const EVP_MD *md = key_md(k, &ok);
	if (!ok || !c || EVP_DigestVerifyInit(c, NULL, md, NULL, k) != 1)
		return false;
	return EVP_DigestVerify(c, (const unsigned char *)sig->data, sig->len, payload, len) == 1;
}

int sign_sigstore_verify(const struct sign_bytes *pubkeys, size_t n_pubkeys,
			 const void *payload, size_t len, const char *b64_signature,
			 struct kerror *e)
{
	struct sign_bytes sig = { 0 };
	size_t n_keys = 0;
	bool good = false;

	if (!b64_signature || strlen(b64_signature) > SIGN_MAX_SIGNATURE ||
	    sign_b64_decode(b64_signature, strlen(b64_signature), &sig) < 0 || sig.len == 0) {
		sign_bytes_release(&sig);
		return kerror_set(e, EACCES, "invalid sigstore signature: not valid base64");
	}
	for (size_t i = 0; i < n_pubkeys && !good; i++) {
		if (pubkeys[i].len > SIGN_MAX_KEYS)
			continue;
		_cleanup_bio_ BIO *b = BIO_new_mem_buf(pubkeys[i].data, (int)pubkeys[i].len);
		EVP_PKEY *k;
		while (b && !good && (k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL))) {
			n_keys++;
			good = verify_with(k, payload, len, &sig);
			EVP_PKEY_free(k);
		}
		ERR_clear_error();
	}
	sign_bytes_release(&sig);
	if (good)
		return 0;
	if (!n_keys)
		return kerror_set(e, EACCES, "no usable PEM public key in the policy's keys");
	return kerror_set(e, EACCES, "cryptographic signature verification failed");
}

/* An unencrypted key (PKCS#8, SEC1 or traditional PEM), or a PEM key
 * encrypted the OpenSSL way when a passphrase is given. */
static int load_private(const char *pem, size_t len, const char *passphrase, EVP_PKEY **out,
			struct kerror *e)
{
	_cleanup_free_ char *der = NULL;
	size_t der_len = 0;
	int ret = sign_cosign_key_decrypt(pem, len, passphrase, &der, &der_len, e);
	if (ret == 0) {
		const unsigned char *p = (const unsigned char *)der;
		*out = d2i_AutoPrivateKey(NULL, &p, (long)der_len);
		OPENSSL_cleanse(der, der_len);
		if (!*out)
			return kerror_set(e, EINVAL, "the decrypted private key is not PKCS#8");
		return 0;
	}
	if (ret != -ENOENT)
		return ret;
	kerror_release(e);
	_cleanup_bio_ BIO *b = BIO_new_mem_buf(pem, (int)len);
	*out = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)(passphrase ? passphrase : ""))
		 : NULL;
	ERR_clear_error();
	if (!*out)
		return kerror_set(e, EINVAL, "not a PEM private key (or a wrong passphrase)");
	return 0;
}

int sign_sigstore_sign(const char *key_pem, size_t key_len, const char *passphrase,
		       const void *payload, size_t len, char **b64_signature, struct kerror *e)
{
	_cleanup_pkey_ EVP_PKEY *k = NULL;
	_cleanup_mdctx_ EVP_MD_CTX *c = NULL;
	_cleanup_free_ unsigned char *sig = NULL;
	size_t sig_len = 0;
	bool ok;
	int ret;

	*b64_signature = NULL;
	if (key_len > SIGN_MAX_KEYS)
		return kerror_set(e, EFBIG, "private key too large");
	if ((ret = load_private(key_pem, key_len, passphrase, &k, e)) < 0)
		return ret;
	const EVP_MD *md = key_md(k, &ok);
	if (!ok)
		return kerror_set(e, ENOTSUP, "unsupported private key type (want ECDSA, RSA or Ed25519)");
	c = EVP_MD_CTX_new();
	if (!c || EVP_DigestSignInit(c, NULL, md, NULL, k) != 1 ||
	    EVP_DigestSign(c, NULL, &sig_len, payload, len) != 1)
		goto fail;
	sig = xmalloc(sig_len);
	if (EVP_DigestSign(c, sig, &sig_len, payload, len) != 1)
		goto fail;
	*b64_signature = sign_b64_encode(sig, sig_len);
	return 0;
fail:
	ERR_clear_error();
	return kerror_set(e, EIO, "signing with the private key failed");
}

int sign_sigstore_create(const char *key_path, const char *passphrase_file,
			 const char *docker_reference, const char *manifest_digest,
			 struct sign_bytes *payload, char **b64_signature, struct kerror *e)
{
	_cleanup_free_ char *pem = NULL, *pass = NULL, *identity = NULL;
	_cleanup_ref_ struct image_ref *ref = NULL;
	size_t pem_len = 0;
	int ret;

	payload->data = NULL;
	payload->len = 0;
	if (!digest_valid(manifest_digest))
		return kerror_set(e, EINVAL, "signing: invalid manifest digest \"%s\"",
				  manifest_digest);
	if ((ret = ref_parse(docker_reference, &ref, e)) < 0)
		return kerror_wrap(e, "signing \"%s\"", docker_reference);
	if ((ret = fs_read_file(key_path, SIGN_MAX_KEYS, &pem, &pem_len, e)) < 0)
		return kerror_wrap(e, "reading the sigstore private key");
	if (passphrase_file && (ret = sign_read_passphrase(passphrase_file, &pass, e)) < 0)
		return ret;
	identity = sign_ref_identity(ref);
	char *pl = sign_payload_create(SIGN_TYPE_COSIGN, manifest_digest, identity, NULL, -1);
	ret = sign_sigstore_sign(pem, pem_len, pass, pl, strlen(pl), b64_signature, e);
	if (pass)
		OPENSSL_cleanse(pass, strlen(pass));
	if (ret < 0) {
		free(pl);
		return kerror_wrap(e, "signing \"%s\" with \"%s\"", identity, key_path);
	}
	payload->len = strlen(pl);
	payload->data = pl;
	return 0;
}
