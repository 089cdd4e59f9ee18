/* gpg.c — OpenPGP simple signing over gpgme.  Verification runs gpg in a
 * private temporary GNUPGHOME holding only the policy's keys, so the user's
 * keyring and trust settings never decide what kiln accepts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <gpgme.h>

#include "sign/sign_int.h"

static void cleanup_ctxp(gpgme_ctx_t *c)
{
	if (*c)
		gpgme_release(*c);
}
static void cleanup_datap(gpgme_data_t *d)
{
	if (*d)
		gpgme_data_release(*d);
}
static void cleanup_keyp(gpgme_key_t *k)
{
	if (*k)
		gpgme_key_unref(*k);
}
#define _cleanup_ctx_ __attribute__((cleanup(cleanup_ctxp)))
#define _cleanup_data_ __attribute__((cleanup(cleanup_datap)))
#define _cleanup_key_ __attribute__((cleanup(cleanup_keyp)))

static int gpg_err(struct kerror *e, gpgme_error_t err, const char *what)
{
	return kerror_set(e, EACCES, "%s: %s", what, gpgme_strerror(err));
}

static int new_ctx(const char *home, gpgme_ctx_t *ctx, struct kerror *e)
{
	gpgme_error_t err;

	gpgme_check_version(NULL);
	if ((err = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP)))
		return kerror_set(e, ENOTSUP, "gpg is not available: %s", gpgme_strerror(err));
	if ((err = gpgme_new(ctx)))
		return kerror_set(e, ENOMEM, "creating a gpgme context: %s", gpgme_strerror(err));
	if ((err = gpgme_set_protocol(*ctx, GPGME_PROTOCOL_OpenPGP)) ||
	    (home && (err = gpgme_ctx_set_engine_info(*ctx, GPGME_PROTOCOL_OpenPGP, NULL, home))))
		return kerror_set(e, EIO, "setting up gpgme: %s", gpgme_strerror(err));
	return 0;
}

/* The signed payload is written through this sink, which refuses more than
 * SIGN_MAX_SIGNATURE bytes (a compressed signed message can expand). */
static ssize_t sink_write(void *handle, const void *data, size_t n)
{
	struct buf *b = handle;
	if (b->len + n > SIGN_MAX_SIGNATURE) {
		errno = EFBIG;
		return -1;
	}
	buf_append(b, data, n);
	return (ssize_t)n;
}

/* Imports every keyring; collects the fingerprints of the primary keys. */
static int import_keys(gpgme_ctx_t ctx, const struct sign_bytes *keyrings, size_t n,
		       char ***fprs, struct kerror *e)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_data_ gpgme_data_t d = NULL;
		gpgme_error_t err;
		if ((err = gpgme_data_new_from_mem(&d, keyrings[i].data, keyrings[i].len, 0)))
			return gpg_err(e, err, "reading the policy's keyring");
		if ((err = gpgme_op_import(ctx, d)))
			return gpg_err(e, err, "importing the policy's keyring");
		gpgme_import_result_t res = gpgme_op_import_result(ctx);
		for (gpgme_import_status_t s = res ? res->imports : NULL; s; s = s->next)
			if (s->result == GPG_ERR_NO_ERROR && s->fpr)
				strv_push(fprs, xstrdup(s->fpr));
	}
	if (!*fprs || !**fprs)
		return kerror_set(e, EACCES, "the policy's keyring holds no usable public key");
	return 0;
}

static bool in_strv(char **v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcasecmp(v[i], s) == 0)
			return true;
	return false;
}

static int verify_in(const char *home, const struct sign_bytes *keyrings, size_t n_keyrings,
		     const void *sig, size_t sig_len, struct sign_bytes *payload, char **signer,
		     struct kerror *e)
{
	_cleanup_ctx_ gpgme_ctx_t ctx = NULL;
	_cleanup_data_ gpgme_data_t sd = NULL, pd = NULL;
	_cleanup_strv_ char **trusted = xcalloc(1, sizeof(char *));
	_cleanup_key_ gpgme_key_t key = NULL;
	struct gpgme_data_cbs cbs = { .write = sink_write };
	struct buf out = { 0 };
	gpgme_error_t err;
	int ret;

	if ((ret = new_ctx(home, &ctx, e)) < 0 ||
	    (ret = import_keys(ctx, keyrings, n_keyrings, &trusted, e)) < 0)
		return ret;
	if ((err = gpgme_data_new_from_mem(&sd, sig, sig_len, 0)) ||
	    (err = gpgme_data_new_from_cbs(&pd, &cbs, &out)))
		return gpg_err(e, err, "preparing the signature");
	err = gpgme_op_verify(ctx, sd, NULL, pd);
	if (err) {
		buf_release(&out);
		return gpg_err(e, err, "invalid GPG signature");
	}
	gpgme_verify_result_t res = gpgme_op_verify_result(ctx);
	gpgme_signature_t s = res ? res->signatures : NULL;
	if (!s || s->next) {
		buf_release(&out);
		return kerror_set(e, EACCES, "invalid GPG signature: expected exactly one signature");
	}
	/* Good signature except for the key's owner trust, which is the policy's
	 * business: the keyring only holds keys the policy names. */
	if (gpgme_err_code(s->status) != GPG_ERR_NO_ERROR) {
		ret = kerror_set(e, EACCES, "invalid GPG signature%s%s: %s", s->fpr ? " by " : "",
				 s->fpr ? s->fpr : "", gpgme_strerror(s->status));
		buf_release(&out);
		return ret;
	}
	if (s->validity == GPGME_VALIDITY_NEVER || s->validity_reason || s->wrong_key_usage ||
	    (s->summary & (GPGME_SIGSUM_RED | GPGME_SIGSUM_KEY_REVOKED | GPGME_SIGSUM_KEY_EXPIRED |
			   GPGME_SIGSUM_SIG_EXPIRED))) {
		buf_release(&out);
		return kerror_set(e, EACCES, "invalid GPG signature by %s: key revoked, expired or unusable",
				  s->fpr ? s->fpr : "unknown key");
	}
	/* s->fpr may name a signing subkey: map it to its primary key. */
	if (!s->fpr || (err = gpgme_get_key(ctx, s->fpr, &key, 0)) || !key->subkeys ||
	    !in_strv(trusted, key->subkeys->fpr)) {
		buf_release(&out);
		return kerror_set(e, EACCES, "signature by key %s is not trusted",
				  s->fpr ? s->fpr : "unknown");
	}
	if (signer)
		*signer = xstrdup(key->subkeys->fpr);
	payload->len = out.len;
	payload->data = buf_steal(&out);
	return 0;
}

int sign_gpg_verify(const struct sign_bytes *keyrings, size_t n_keyrings, const void *sig,
		    size_t sig_len, struct sign_bytes *payload, char **signer, struct kerror *e)
{
	char home[] = "/tmp/kiln-gpg-XXXXXX";
	_cleanup_kerror_ struct kerror rm = { 0 };

	payload->data = NULL;
	payload->len = 0;
	if (signer)
		*signer = NULL;
	if (sig_len == 0 || sig_len > SIGN_MAX_SIGNATURE)
		return kerror_set(e, EACCES, "invalid GPG signature: %zu bytes", sig_len);
	if (n_keyrings == 0)
		return kerror_set(e, EACCES, "no public keys to verify with");
	if (!mkdtemp(home))
		return kerror_sys(e, errno, "creating a temporary GNUPGHOME");
	/* Importing public keys and verifying need no gpg-agent; without this
	 * gpg would start one per verification and leave it running. */
	_cleanup_free_ char *conf = xasprintf("%s/gpg.conf", home);
	if (fs_write_atomic(conf, "no-autostart\n", 13, 0600, e) < 0) {
		fs_rm_rf(home, &rm);
		return kerror_wrap(e, "preparing the temporary GNUPGHOME");
	}
	int ret = verify_in(home, keyrings, n_keyrings, sig, sig_len, payload, signer, e);
	fs_rm_rf(home, &rm);
	return ret;
}

static gpgme_error_t passphrase_cb(void *hook, const char *uid_hint, const char *info,
				   int prev_was_bad, int fd)
{
	const char *pass = hook;
	(void)uid_hint;
	(void)info;
	if (prev_was_bad)
		return gpgme_error(GPG_ERR_BAD_PASSPHRASE);
	if (gpgme_io_writen(fd, pass, strlen(pass)) < 0 || gpgme_io_writen(fd, "\n", 1) < 0)
		return gpgme_error_from_errno(errno);
	return 0;
}

int sign_gpg_sign(const char *gnupghome, const char *fingerprint, const char *passphrase_file,
		  const void *payload, size_t len, struct sign_bytes *sig, struct kerror *e)
{
	_cleanup_ctx_ gpgme_ctx_t ctx = NULL;
	_cleanup_data_ gpgme_data_t pd = NULL, sd = NULL;
	_cleanup_key_ gpgme_key_t key = NULL;
	_cleanup_free_ char *pass = NULL;
	gpgme_error_t err;
	int ret;

	sig->data = NULL;
	sig->len = 0;
	if (!fingerprint || !*fingerprint)
		return kerror_set(e, EINVAL, "signing: no key fingerprint given");
	if (passphrase_file && (ret = sign_read_passphrase(passphrase_file, &pass, e)) < 0)
		return ret;
	if ((ret = new_ctx(gnupghome, &ctx, e)) < 0)
		return ret;
	gpgme_set_armor(ctx, 0);
	if ((err = gpgme_get_key(ctx, fingerprint, &key, 1)))
		return kerror_set(e, ENOENT, "signing: no secret key \"%s\": %s", fingerprint,
				  gpgme_strerror(err));
	if ((err = gpgme_signers_add(ctx, key)))
		return gpg_err(e, err, "signing: selecting the key");
	if (pass) {
		if ((err = gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK)))
			return gpg_err(e, err, "signing: loopback pinentry");
		gpgme_set_passphrase_cb(ctx, passphrase_cb, pass);
	}
	if ((err = gpgme_data_new_from_mem(&pd, payload, len, 0)) || (err = gpgme_data_new(&sd)))
		return gpg_err(e, err, "signing");
	if ((err = gpgme_op_sign(ctx, pd, sd, GPGME_SIG_MODE_NORMAL)))
		return kerror_set(e, EIO, "signing with key \"%s\": %s", fingerprint,
				  gpgme_strerror(err));
	gpgme_sign_result_t res = gpgme_op_sign_result(ctx);
	if (!res || res->invalid_signers || !res->signatures)
		return kerror_set(e, EIO, "signing with key \"%s\": gpg made no signature",
				  fingerprint);
	size_t n = 0;
	char *mem = gpgme_data_release_and_get_mem(steal_pointer(&sd), &n);
	if (!mem || n == 0) {
		gpgme_free(mem);
		return kerror_set(e, EIO, "signing with key \"%s\": empty signature", fingerprint);
	}
	sig->data = xmalloc(n + 1);
	memcpy(sig->data, mem, n);
	sig->data[n] = 0;
	sig->len = n;
	gpgme_free(mem);
	return 0;
}
