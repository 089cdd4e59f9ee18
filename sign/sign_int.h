/* sign_int.h — helpers shared by sign/'s files; not a public API. */
#ifndef KILN_SIGN_INT_H
#define KILN_SIGN_INT_H

#include "sign/sign.h"

/* Standard base64 with padding.  Decoding is strict: only the standard
 * alphabet, correct padding, no whitespace; -EINVAL otherwise. */
char *sign_b64_encode(const void *data, size_t len);
int sign_b64_decode(const char *s, size_t slen, struct sign_bytes *out);

/* Reads a passphrase file, dropping one trailing "\n" or "\r\n". */
int sign_read_passphrase(const char *path, char **out, struct kerror *e);

/* The image's docker identity as a string with a tag (":latest" added when
 * neither tag nor digest is set). */
char *sign_ref_identity(const struct image_ref *ref);

/* Candidate scopes for a docker image, most specific first: the full
 * reference, the repository, its parent namespaces down to host[:port],
 * then "*.suffix" for each domain suffix of the host without its port. */
char **sign_docker_scopes(const struct image_ref *ref);

/* Loads the key material of a requirement: each key path read (bounded) and
 * each keyData copied. */
int sign_req_keys(const struct sign_requirement *req, struct sign_bytes **out, size_t *n,
		  struct kerror *e);

/* cosign's encrypted private key ("ENCRYPTED SIGSTORE PRIVATE KEY" or
 * "ENCRYPTED COSIGN PRIVATE KEY" PEM around go-securesystemslib's JSON:
 * scrypt KDF + NaCl secretbox) → the PKCS#8 DER inside.  -ENOENT (e set)
 * when pem holds no such block. */
int sign_cosign_key_decrypt(const char *pem, size_t len, const char *passphrase, char **der,
			    size_t *der_len, struct kerror *e);
/* The reverse, with a fresh salt and nonce; returns the PEM text. */
char *sign_cosign_key_encrypt(const void *der, size_t der_len, const char *passphrase);

#endif
