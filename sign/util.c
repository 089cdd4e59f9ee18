/* util.c — small helpers shared by sign/: base64, passphrase files, the
 * image identity string, key material of a requirement. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign_int.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *sign_b64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = b64_alphabet[(v >> 18) & 63];
		*o++ = b64_alphabet[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	*o = 0;
	return out;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;
	return p ? (int)(p - b64_alphabet) : -1;
}

int sign_b64_decode(const char *s, size_t slen, struct sign_bytes *out)
{
	out->data = NULL;
	out->len = 0;
	if (slen % 4)
		return -EINVAL;
	char *buf = xmalloc(slen / 4 * 3 + 1);
	size_t n = 0;
	for (size_t i = 0; i < slen; i += 4) {
		int v[4];
		size_t pad = 0;
		for (int k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == slen && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			v[k] = pad ? -1 : b64_value(s[i + k]);
			if (v[k] < 0) {
				free(buf);
				return -EINVAL;
			}
		}
		unsigned x = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 |
			     (unsigned)v[3];
		/* "=" at position 2 needs "=" at 3; unused bits must be zero. */
		if ((pad == 1 && s[i + 3] != '=') || (pad == 2 && (x & 0xffff)) ||
		    (pad == 1 && (x & 0xff))) {
			free(buf);
			return -EINVAL;
		}
		buf[n++] = (char)(x >> 16);
		if (pad < 2)
			buf[n++] = (char)(x >> 8);
		if (pad < 1)
			buf[n++] = (char)x;
	}
	buf[n] = 0;
	out->data = buf;
	out->len = n;
	return 0;
}

int sign_read_passphrase(const char *path, char **out, struct kerror *e)
{
	char *data = NULL;
	size_t len = 0;
	int ret = fs_read_file(path, 64 * 1024, &data, &len, e);
	if (ret < 0)
		return kerror_wrap(e, "reading the passphrase file \"%s\"", path);
	if (len && data[len - 1] == '\n')
		data[--len] = 0;
	if (len && data[len - 1] == '\r')
		data[--len] = 0;
	if (memchr(data, 0, len)) {
		free(data);
		return kerror_set(e, EINVAL, "passphrase file \"%s\" contains a NUL byte", path);
	}
	*out = data;
	return 0;
}

char *sign_ref_identity(const struct image_ref *ref)
{
	if (ref->tag || ref->digest)
		return ref_string(ref);
	struct image_ref tmp = *ref;
	tmp.tag = (char *)REF_DEFAULT_TAG;
	return ref_string(&tmp);
}

int sign_req_keys(const struct sign_requirement *req, struct sign_bytes **out, size_t *n,
		  struct kerror *e)
{
	size_t np = strv_len(req->key_paths), total = np + req->n_key_datas;
	struct sign_bytes *v = xcalloc(total + 1, sizeof(*v));

	for (size_t i = 0; i < np; i++) {
		int ret = fs_read_file(req->key_paths[i], SIGN_MAX_KEYS, &v[i].data, &v[i].len, e);
		if (ret < 0) {
			sign_bytes_free_array(v, i);
			return kerror_wrap(e, "reading key file \"%s\"", req->key_paths[i]);
		}
	}
	for (size_t i = 0; i < req->n_key_datas; i++) {
		v[np + i].data = xmalloc(req->key_datas[i].len + 1);
		memcpy(v[np + i].data, req->key_datas[i].data, req->key_datas[i].len);
		v[np + i].data[req->key_datas[i].len] = 0;
		v[np + i].len = req->key_datas[i].len;
	}
	*out = v;
	*n = total;
	return 0;
}

void sign_bytes_release(struct sign_bytes *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

void sign_bytes_free_array(struct sign_bytes *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].data);
	free(v);
}
