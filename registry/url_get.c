/* A plain HTTP(S) GET of one URL into a file descriptor, for the build's
 * `ADD <url>`: redirects followed (at most 10), the system's CAs and proxy
 * variables (libcurl's defaults), a size cap, the content hashed while it
 * streams, and the server's Last-Modified time kept. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <errno.h>
#include <string.h>

#include "registry/registry.h"

struct sink {
	int fd;
	uint64_t size, max;
	struct digester *d;
	int err; /* errno of a failed write, or EFBIG */
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct sink *s = ctx;
	size_t n = size * nmemb;
	if (s->size + n > s->max) {
		s->err = EFBIG;
		return 0;
	}
	int r = fs_write_all(s->fd, data, n);
	if (r < 0) {
		s->err = -r;
		return 0;
	}
	digester_update(s->d, data, n);
	s->size += n;
	return n;
}

int registry_url_get(const char *url, int fd, uint64_t max, struct url_get_info *out,
		     struct kerror *e)
{
	struct sink s = { .fd = fd, .max = max, .d = digester_new() };
	CURL *h;
	CURLcode rc;
	long status = 0;
	curl_off_t ftime = -1;
	int r = 0;

	memset(out, 0, sizeof(*out));
	out->mtime = -1;
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
		digester_free(s.d);
		return kerror_set(e, EINVAL, "\"%s\": an http:// or https:// URL expected", url);
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(h = curl_easy_init())) {
		digester_free(s.d);
		return kerror_set(e, ENOSYS, "downloading \"%s\": libcurl could not be loaded", url);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "kiln");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK && curl_easy_getinfo(h, CURLINFO_FILETIME_T, &ftime) == CURLE_OK &&
	    ftime >= 0)
		out->mtime = (int64_t)ftime;
	if (s.err == EFBIG)
		r = kerror_set(e, EFBIG, "downloading \"%s\": larger than %llu bytes", url,
			       (unsigned long long)max);
	else if (s.err)
		r = kerror_sys(e, s.err, "downloading \"%s\": writing", url);
	else if (rc != CURLE_OK)
		r = kerror_set(e, EIO, "downloading \"%s\": %s", url, curl_easy_strerror(rc));
	else if (status < 200 || status >= 300)
		r = kerror_set(e, EIO, "downloading \"%s\": invalid response status %ld", url,
			       status);
	curl_easy_cleanup(h);
	out->size = s.size;
	digester_final(s.d, out->digest);
	digester_free(s.d);
	return r;
}
