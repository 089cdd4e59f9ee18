/* sha256 digests over OpenSSL, and the OCI digest grammar. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

struct digester {
	EVP_MD_CTX *ctx;
};

struct digester *digester_new(void)
{
	struct digester *d = xcalloc(1, sizeof(*d));
	d->ctx = EVP_MD_CTX_new();
	if (!d->ctx || EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1)
		abort();
	return d;
}

void digester_update(struct digester *d, const void *data, size_t n)
{
	if (n)
		EVP_DigestUpdate(d->ctx, data, n);
}

void digester_final(struct digester *d, char out[DIGEST_STR_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	EVP_DigestFinal_ex(d->ctx, md, &len);
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < len; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[DIGEST_STR_LEN] = '\0';
	EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL);
}

void digester_free(struct digester *d)
{
	if (!d)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

void cleanup_digesterp(struct digester **d)
{
	digester_free(*d);
}

void digest_bytes(const void *data, size_t n, char out[DIGEST_STR_LEN + 1])
{
	_cleanup_digester_ struct digester *d = digester_new();
	digester_update(d, data, n);
	digester_final(d, out);
}

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

bool digest_is_sha256(const char *s)
{
	return s && strncmp(s, "sha256:", 7) == 0 && strlen(s + 7) == DIGEST_HEX_LEN &&
	       is_lower_hex(s + 7, DIGEST_HEX_LEN);
}

/* algorithm ::= component (separator component)*; component [a-z0-9]+,
 * separator [+._-]; encoded [a-zA-Z0-9=_-]+ */
bool digest_valid(const char *s)
{
	const char *colon = s ? strchr(s, ':') : NULL;
	bool need_component = true;

	if (!colon || colon == s || colon[1] == '\0')
		return false;
	for (const char *p = s; p < colon; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
			need_component = false;
		else if (strchr("+._-", *p) && !need_component)
			need_component = true;
		else
			return false;
	}
	if (need_component)
		return false;
	for (const char *p = colon + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '=' || *p == '_' || *p == '-'))
			return false;
	if (colon - s == 6 && strncmp(s, "sha256", 6) == 0)
		return digest_is_sha256(s);
	if (colon - s == 6 && strncmp(s, "sha512", 6) == 0)
		return strlen(colon + 1) == 128 && is_lower_hex(colon + 1, 128);
	return true;
}

const char *digest_hex(const char *digest)
{
	return str_has_prefix(digest, "sha256:") ? digest + 7 : digest;
}

void digest_chain(const char *parent_chain, const char *diff_id,
		  char out[DIGEST_STR_LEN + 1])
{
	if (!parent_chain) {
		snprintf(out, DIGEST_STR_LEN + 1, "%s", diff_id);
		return;
	}
	_cleanup_free_ char *s = xasprintf("%s %s", parent_chain, diff_id);
	digest_bytes(s, strlen(s), out);
}
