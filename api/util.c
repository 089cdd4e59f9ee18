/* Small helpers shared by the handlers. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "api/api_private.h"

int64_t api_now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

json_t *api_labels_json(const json_t *labels)
{
	return json_is_object(labels) ? json_deep_copy(labels) : json_object();
}

void api_arg(char ***v, const char *s)
{
	strv_push(v, xstrdup(s));
}

void api_argf(char ***v, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	strv_push(v, s ? s : xstrdup(""));
}

/* The registry part of a reference, as Docker splits it. */
static char *registry_of(const char *ref)
{
	const char *slash = strchr(ref, '/');
	if (!slash)
		return xstrdup("https://index.docker.io/v1/");
	_cleanup_free_ char *first = xstrndup(ref, (size_t)(slash - ref));
	if (!strchr(first, '.') && !strchr(first, ':') && strcmp(first, "localhost"))
		return xstrdup("https://index.docker.io/v1/");
	return steal_pointer(&first);
}

char *api_authfile_from_header(struct api_req *r, const char *ref, struct kerror *e)
{
	const char *h = api_header(r, "X-Registry-Auth");
	if (!h || !*h)
		return NULL;
	size_t n = strlen(h);
	if (n > 16384) {
		kerror_set(e, EINVAL, "X-Registry-Auth is too long");
		return NULL;
	}
	/* base64url, maybe unpadded → standard base64 for OpenSSL */
	_cleanup_free_ char *b = xmalloc(n + 4);
	for (size_t i = 0; i < n; i++)
		b[i] = h[i] == '-' ? '+' : h[i] == '_' ? '/' : h[i];
	while (n % 4)
		b[n++] = '=';
	b[n] = '\0';
	_cleanup_free_ unsigned char *raw = xmalloc(n);
	int len = EVP_DecodeBlock(raw, (unsigned char *)b, (int)n);
	if (len < 0) {
		kerror_set(e, EINVAL, "X-Registry-Auth is not base64");
		return NULL;
	}
	while (len > 0 && raw[len - 1] == '\0')
		len--;
	_cleanup_json_ json_t *j = NULL;
	if (json_parse((char *)raw, (size_t)len, &j, e) < 0)
		return NULL;
	const char *user = json_str(j, "username"), *pass = json_str(j, "password");
	if (!user || !pass || !*user)
		return NULL;
	_cleanup_free_ char *up = xasprintf("%s:%s", user, pass);
	_cleanup_free_ unsigned char *enc = xmalloc(4 * (strlen(up) / 3 + 2));
	EVP_EncodeBlock(enc, (unsigned char *)up, (int)strlen(up));
	_cleanup_free_ char *reg = registry_of(ref);
	const char *server = json_str(j, "serveraddress");
	json_t *doc = json_pack("{s:{s:{s:s}}}", "auths", server && *server ? server : reg, "auth",
				(char *)enc);
	_cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	char *path = xasprintf("%s/auth-XXXXXX", r->srv->tmpdir);
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0 || fs_write_all(fd, text, strlen(text)) < 0) {
		kerror_sys(e, errno, "writing an auth file");
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

char **api_filter_values(const json_t *vals)
{
	char **out = xcalloc(1, sizeof(char *));
	const char *k;
	json_t *x;
	size_t i;
	if (json_is_object(vals))
		json_object_foreach((json_t *)vals, k, x) {
			if (json_is_true(x))
				api_arg(&out, k);
		}
	else if (json_is_array(vals))
		json_array_foreach(vals, i, x) {
			if (json_is_string(x))
				api_arg(&out, json_string_value(x));
		}
	return out;
}
