/* cosign_key.c — cosign's encrypted private key format (what
 * `cosign generate-key-pair` and `skopeo generate-sigstore-key` write):
 * a PEM block whose body is go-securesystemslib's "encrypted" JSON,
 *   {"kdf":{"name":"scrypt","params":{"N":…,"r":…,"p":…},"salt":b64},
 *    "cipher":{"name":"nacl/secretbox","nonce":b64},"ciphertext":b64}
 * around the PKCS#8 DER key.  OpenSSL has no XSalsa20-Poly1305, so the box
 * (and scrypt) come from libsodium. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "sign/sign_int.h"

#define PEM_SIGSTORE "ENCRYPTED SIGSTORE PRIVATE KEY"
#define PEM_COSIGN "ENCRYPTED COSIGN PRIVATE KEY"
#define SCRYPT_N 32768
#define SCRYPT_R 8
#define SCRYPT_P 1
/* Bound the memory hostile parameters could make scrypt use (128*N*r). */
#define SCRYPT_MAX_MEM (256u * 1024 * 1024)

static int b64_field(const json_t *obj, const char *key, struct sign_bytes *out,
		     struct kerror *e)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v) ||
	    sign_b64_decode(json_string_value(v), json_string_length(v), out) < 0)
		return kerror_set(e, EINVAL, "encrypted private key: \"%s\" is not base64", key);
	return 0;
}

static int decrypt_json(const char *data, size_t len, const char *passphrase, char **der,
			size_t *der_len, struct kerror *e)
{
	_cleanup_json_ json_t *j = NULL;
	struct sign_bytes salt = { 0 }, nonce = { 0 }, ct = { 0 };
	unsigned char key[crypto_secretbox_KEYBYTES];
	int ret;

	if (json_parse(data, len, &j, e) < 0)
		return kerror_wrap(e, "encrypted private key");
	json_t *kdf = json_object_get(j, "kdf"), *cipher = json_object_get(j, "cipher");
	json_t *params = json_object_get(kdf, "params");
	const char *kname = json_str(kdf, "name"), *cname = json_str(cipher, "name");
	json_int_t n = json_integer_value(json_object_get(params, "N"));
	json_int_t r = json_integer_value(json_object_get(params, "r"));
	json_int_t p = json_integer_value(json_object_get(params, "p"));
	if (!kname || strcmp(kname, "scrypt") != 0 || !cname || strcmp(cname, "nacl/secretbox") != 0)
		return kerror_set(e, EINVAL, "encrypted private key: unsupported kdf or cipher");
	if (n < 2 || (n & (n - 1)) || r < 1 || r > 32 || p < 1 || p > 16 ||
	    (uint64_t)n * (uint64_t)r * 128 > SCRYPT_MAX_MEM)
		return kerror_set(e, EINVAL, "encrypted private key: scrypt parameters out of range");
	if ((ret = b64_field(kdf, "salt", &salt, e)) < 0 ||
	    (ret = b64_field(cipher, "nonce", &nonce, e)) < 0 ||
	    (ret = b64_field(j, "ciphertext", &ct, e)) < 0)
		goto out;
	if (nonce.len != crypto_secretbox_NONCEBYTES || ct.len < crypto_secretbox_MACBYTES ||
	    salt.len == 0) {
		ret = kerror_set(e, EINVAL, "encrypted private key: bad nonce or ciphertext length");
		goto out;
	}
	const char *pass = passphrase ? passphrase : "";
	if (crypto_pwhash_scryptsalsa208sha256_ll((const uint8_t *)pass, strlen(pass),
						  (const uint8_t *)salt.data, salt.len, (uint64_t)n,
						  (uint32_t)r, (uint32_t)p, key, sizeof(key)) != 0) {
		ret = kerror_set(e, ENOMEM, "encrypted private key: scrypt failed");
		goto out;
	}
	*der_len = ct.len - crypto_secretbox_MACBYTES;
	*der = xmalloc(*der_len + 1);
	if (crypto_secretbox_open_easy((unsigned char *)*der, (const unsigned char *)ct.data,
				       ct.len, (const unsigned char *)nonce.data, key) != 0) {
		free(*der);
		*der = NULL;
		ret = kerror_set(e, EACCES, "decrypting the private key: wrong passphrase or corrupt key");
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(key, sizeof(key));
	sign_bytes_release(&salt);
	sign_bytes_release(&nonce);
	sign_bytes_release(&ct);
	return ret;
}

int sign_cosign_key_decrypt(const char *pem, size_t len, const char *passphrase, char **der,
			    size_t *der_len, struct kerror *e)
{
	*der = NULL;
	*der_len = 0;
	if (sodium_init() < 0)
		return kerror_set(e, EIO, "libsodium failed to initialise");
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen = 0;
	int ret = -ENOENT;

	while (b && PEM_read_bio(b, &name, &header, &data, &dlen) == 1) {
		bool ours = strcmp(name, PEM_SIGSTORE) == 0 || strcmp(name, PEM_COSIGN) == 0;
		if (ours)
			ret = decrypt_json((const char *)data, (size_t)dlen, passphrase, der, der_len, e);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		if (ours)
			break;
	}
	ERR_clear_error();
	BIO_free(b);
	if (ret == -ENOENT)
		return kerror_set(e, ENOENT, "no encrypted cosign private key");
	return ret;
}

char *sign_cosign_key_encrypt(const void *der, size_t der_len, const char *passphrase)
{
	unsigned char salt[32], nonce[crypto_secretbox_NONCEBYTES], key[crypto_secretbox_KEYBYTES];
	const char *pass = passphrase ? passphrase : "";

	if (sodium_init() < 0)
		return NULL;
	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(nonce, sizeof(nonce));
	if (crypto_pwhash_scryptsalsa208sha256_ll((const uint8_t *)pass, strlen(pass), salt,
						  sizeof(salt), SCRYPT_N, SCRYPT_R, SCRYPT_P, key,
						  sizeof(key)) != 0)
		return NULL;
	size_t ct_len = der_len + crypto_secretbox_MACBYTES;
	_cleanup_free_ unsigned char *ct = xmalloc(ct_len);
	crypto_secretbox_easy(ct, der, der_len, nonce, key);
	sodium_memzero(key, sizeof(key));

	_cleanup_free_ char *s_salt = sign_b64_encode(salt, sizeof(salt));
	_cleanup_free_ char *s_nonce = sign_b64_encode(nonce, sizeof(nonce));
	_cleanup_free_ char *s_ct = sign_b64_encode(ct, ct_len);
	_cleanup_free_ char *js = xasprintf(
		"{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":%d,\"r\":%d,\"p\":%d},\"salt\":\"%s\"},"
		"\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"%s\"},\"ciphertext\":\"%s\"}",
		SCRYPT_N, SCRYPT_R, SCRYPT_P, s_salt, s_nonce, s_ct);

	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL;
	if (b && PEM_write_bio(b, PEM_SIGSTORE, "", (const unsigned char *)js, (long)strlen(js)) > 0) {
		char *p = NULL;
		long n = BIO_get_mem_data(b, &p);
		out = xstrndup(p, (size_t)n);
	}
	BIO_free(b);
	return out;
}

int sign_sigstore_generate(const char *passphrase, char **priv_pem, char **pub_pem,
			   struct kerror *e)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	unsigned char *der = NULL;
	BIO *b = NULL;
	int ret = 0;

	*priv_pem = *pub_pem = NULL;
	if (!k)
		goto fail;
	int der_len = i2d_PrivateKey(k, NULL) > 0 ? 0 : -1;
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k);
	if (der_len < 0 || !p8)
		goto fail;
	der_len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (der_len <= 0)
		goto fail;
	*priv_pem = sign_cosign_key_encrypt(der, (size_t)der_len, passphrase);
	OPENSSL_clear_free(der, (size_t)der_len);
	der = NULL;
	b = BIO_new(BIO_s_mem());
	if (!*priv_pem || !b || PEM_write_bio_PUBKEY(b, k) != 1)
		goto fail;
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);
	*pub_pem = xstrndup(p, (size_t)n);
	goto out;
fail:
	free(*priv_pem);
	*priv_pem = NULL;
	ret = kerror_set(e, EIO, "generating a sigstore key pair failed");
out:
	ERR_clear_error();
	BIO_free(b);
	EVP_PKEY_free(k);
	return ret;
}

/* Creates path exclusively (never overwriting a key) and writes data. */
static int write_new(const char *path, const char *data, mode_t mode, struct kerror *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return kerror_sys(e, errno, "creating \"%s\"", path);
	if (fs_write_all(fd, data, strlen(data)) < 0 || fsync(fd) < 0) {
		int err = errno;
		close(fd);
		unlink(path);
		return kerror_sys(e, err, "writing \"%s\"", path);
	}
	close(fd);
	return 0;
}

int sign_sigstore_generate_files(const char *prefix, const char *passphrase_file,
				 struct kerror *e)
{
	_cleanup_free_ char *pass = NULL, *priv = NULL, *pub = NULL;
	_cleanup_free_ char *priv_path = xasprintf("%s.private", prefix);
	_cleanup_free_ char *pub_path = xasprintf("%s.pub", prefix);
	int ret;

	if (fs_exists(priv_path) || fs_exists(pub_path))
		return kerror_set(e, EEXIST, "refusing to overwrite \"%s\" or \"%s\"", priv_path,
				  pub_path);
	if (passphrase_file && (ret = sign_read_passphrase(passphrase_file, &pass, e)) < 0)
		return ret;
	if ((ret = sign_sigstore_generate(pass ? pass : "", &priv, &pub, e)) < 0)
		return ret;
	if ((ret = write_new(priv_path, priv, 0600, e)) < 0)
		return ret;
	if ((ret = write_new(pub_path, pub, 0644, e)) < 0) {
		unlink(priv_path);
		return ret;
	}
	return 0;
}
