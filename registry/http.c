/* HTTP over libcurl for one registry: requests with bounded bodies,
 * headers, retries with backoff; auth lives in auth.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "registry/client.h"

int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void http_resp_release(struct http_resp *r)
{
	buf_release(&r->body);
	free(r->content_type);
	free(r->digest);
	free(r->location);
	free(r->www_auth);
	free(r->range);
	free(r->link);
	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
}

bool http_retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

bool http_retryable_status(long status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

int64_t client_backoff_ms(const struct reg_client *c, int attempt, int64_t retry_after)
{
	int64_t d;
	if (retry_after >= 0)
		return (retry_after > 60 ? 60 : retry_after) * 1000;
	if (c->retry_delay_ms > 0)
		return c->retry_delay_ms;
	d = 1000LL << (attempt > 5 ? 5 : attempt);
	return d;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- response capture ---------------------------------------------------- */

struct capture {
	struct http_resp *resp;
	size_t max;
	bool too_large;
};

static char *header_value(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);
	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return NULL;
	line += k + 1;
	n -= k + 1;
	while (n && (*line == ' ' || *line == '\t'))
		line++, n--;
	while (n && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	return xstrndup(line, n);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct capture *cap = ctx;
	struct http_resp *r = cap->resp;
	size_t n = size * nmemb;
	char *v;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new response (after a redirect or 100): forget the last. */
		struct buf keep = r->body;
		r->body = (struct buf){ 0 };
		http_resp_release(r);
		r->body = keep;
		return n;
	}
#define TAKE(field, name)                               \
	if ((v = header_value(data, n, name))) {        \
		free(r->field);                         \
		r->field = v;                           \
		return n;                               \
	}
	TAKE(content_type, "content-type");
	TAKE(digest, "docker-content-digest");
	TAKE(location, "location");
	TAKE(www_auth, "www-authenticate");
	TAKE(range, "range");
	TAKE(link, "link");
#undef TAKE
	if ((v = header_value(data, n, "retry-after"))) {
		char *end;
		long long s = strtoll(v, &end, 10);
		r->retry_after = (*v && !*end && s >= 0) ? s : 1;
		free(v);
	}
	if ((v = header_value(data, n, "content-length"))) {
		r->content_length = strtoll(v, NULL, 10);
		free(v);
	}
	return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct capture *cap = ctx;
	size_t n = size * nmemb;
	if (cap->resp->body.len + n > cap->max) {
		cap->too_large = true;
		return 0;
	}
	buf_append(&cap->resp->body, data, n);
	return n;
}

struct body_src {
	const struct http_req *rq;
	int64_t pos;
};

static size_t on_read(char *out, size_t size, size_t nmemb, void *ctx)
{
	struct body_src *b = ctx;
	size_t want = size * nmemb;
	int64_t total = b->rq->body_fd >= 0 ? b->rq->body_fd_len : (int64_t)b->rq->body_len;
	int64_t left = total - b->pos;

	if (left <= 0)
		return 0;
	if ((int64_t)want > left)
		want = (size_t)left;
	if (b->rq->body_fd >= 0) {
		ssize_t n = pread(b->rq->body_fd, out, want, b->rq->body_off + b->pos);
		if (n <= 0)
			return CURL_READFUNC_ABORT;
		want = (size_t)n;
	} else {
		memcpy(out, (const char *)b->rq->body + b->pos, want);
	}
	b->pos += (int64_t)want;
	if (b->rq->sent)
		b->rq->sent(b->rq->sent_ctx, b->pos);
	return want;
}

/* ---- handles --------------------------------------------------------------- */

static CURL *handle_get(struct reg_client *c)
{
	CURL *h = NULL;
	pthread_mutex_lock(&c->lock);
	if (c->n_idle)
		h = c->idle[--c->n_idle];
	pthread_mutex_unlock(&c->lock);
	if (!h)
		h = curl_easy_init();
	if (!h)
		abort();
	return h;
}

static void handle_put(struct reg_client *c, CURL *h)
{
	curl_easy_reset(h);
	pthread_mutex_lock(&c->lock);
	if (c->n_idle < ARRAY_SIZE(c->idle)) {
		c->idle[c->n_idle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (h)
		curl_easy_cleanup(h);
}

char *client_url(const struct reg_client *c, const char *path_or_url)
{
	if (str_has_prefix(path_or_url, "http://") || str_has_prefix(path_or_url, "https://"))
		return xstrdup(path_or_url);
	return xasprintf("%s%s", c->base, path_or_url);
}

/* TLS, redirects, timeouts: what every request of c shares. */
void client_setup_handle(struct reg_client *c, CURL *h)
{
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* A stalled transfer (under 1 KiB/s for 60 s) is a failed one. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "kiln/0.1");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->verify ? 2L : 0L);
	if (c->ca_blob) {
		struct curl_blob b = { c->ca_blob, c->ca_len, CURL_BLOB_NOCOPY };
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
	}
	if (c->client_cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->client_cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->client_key);
	}
}

/* One attempt. */
static CURLcode perform(struct reg_client *c, CURL *h, const struct http_req *rq,
			struct curl_slist *hdrs, struct http_resp *resp, bool *too_large,
			char *errbuf)
{
	_cleanup_free_ char *url = client_url(c, rq->url);
	struct capture cap = { .resp = resp, .max = rq->max_body ? rq->max_body : MAX_SMALL_BODY };
	struct body_src src = { .rq = rq };
	CURLcode rc;

	curl_easy_reset(h);
	client_setup_handle(c, h);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &cap);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &cap);
	if (!strcmp(rq->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(rq->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		int64_t len = rq->body_fd >= 0 ? rq->body_fd_len : (int64_t)rq->body_len;
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, &src);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
		/* Only GET and HEAD follow redirects with the same method. */
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	}
	http_resp_release(resp);
	rc = curl_easy_perform(h);
	*too_large = cap.too_large;
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	return rc;
}

static struct curl_slist *base_headers(const struct http_req *rq)
{
	struct curl_slist *l = NULL;
	char tmp[512];
	if (rq->accept) {
		snprintf(tmp, sizeof(tmp), "Accept: %s", rq->accept);
		l = curl_slist_append(l, tmp);
	}
	if (rq->content_type) {
		snprintf(tmp, sizeof(tmp), "Content-Type: %s", rq->content_type);
		l = curl_slist_append(l, tmp);
	}
	if (rq->content_range) {
		snprintf(tmp, sizeof(tmp), "Content-Range: %s", rq->content_range);
		l = curl_slist_append(l, tmp);
	}
	/* No "Expect: 100-continue" round trip on uploads. */
	l = curl_slist_append(l, "Expect:");
	return l;
}

int client_prepare(struct reg_client *c, CURL *h, const char *scope, struct curl_slist **hdrs,
		   struct kerror *e)
{
	_cleanup_free_ char *line = NULL;
	int r;

	if (h)
		client_setup_handle(c, h);
	r = client_auth_header(c, scope, &line, e);
	if (r < 0)
		return r;
	if (line) {
		*hdrs = curl_slist_append(*hdrs, line);
		explicit_bzero(line, strlen(line));
	}
	return 0;
}

int client_request(struct reg_client *c, const struct http_req *rq, struct http_resp *resp,
		   struct kerror *e)
{
	CURL *h;
	bool reauthed = false;
	int r = 0;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after = -1;
	r = client_ping(c, e);
	if (r < 0)
		return r;
	h = handle_get(c);
	for (int attempt = 0;; attempt++) {
		struct curl_slist *hdrs = base_headers(rq);
		char errbuf[CURL_ERROR_SIZE] = "";
		bool too_large = false;
		CURLcode rc;

		r = client_prepare(c, NULL, rq->scope, &hdrs, e);
		if (r < 0) {
			curl_slist_free_all(hdrs);
			break;
		}
		rc = perform(c, h, rq, hdrs, resp, &too_large, errbuf);
		curl_slist_free_all(hdrs);
		/* The URL only: credentials travel in headers, never logged. */
		log_debug("%s %s: %ld", rq->method, rq->url, rc == CURLE_OK ? resp->status : -1L);
		if (too_large) {
			r = kerror_set(e, EFBIG, "%s %s: the response is larger than %zu bytes",
				       rq->method, rq->url, rq->max_body ? rq->max_body : MAX_SMALL_BODY);
			break;
		}
		if (rc == CURLE_OK && resp->status == 401 && !reauthed && rq->scope) {
			/* Expired token, or the challenge names another scope. */
			reauthed = true;
			client_drop_token(c, rq->scope);
			if (resp->www_auth) {
				struct auth_challenge ch;
				if (auth_challenge_parse(resp->www_auth, &ch) == 0) {
					pthread_mutex_lock(&c->lock);
					auth_challenge_release(&c->ch);
					c->ch = ch;
					c->have_ch = true;
					pthread_mutex_unlock(&c->lock);
				}
			}
			attempt--;
			continue;
		}
		if (rc == CURLE_OK && !http_retryable_status(resp->status))
			break;
		if (attempt >= c->retries) {
			if (rc != CURLE_OK)
				r = kerror_set(e, EIO, "%s %s: %s", rq->method, rq->url,
					       *errbuf ? errbuf : curl_easy_strerror(rc));
			break;
		}
		if (rc != CURLE_OK && !http_retryable_curl(rc)) {
			r = kerror_set(e, EIO, "%s %s: %s", rq->method, rq->url,
				       *errbuf ? errbuf : curl_easy_strerror(rc));
			break;
		}
		log_info("%s %s: %s, retrying (%d of %d)", rq->method, rq->url,
			 rc != CURLE_OK ? curl_easy_strerror(rc) : "server error", attempt + 1,
			 c->retries);
		sleep_ms(client_backoff_ms(c, attempt, rc == CURLE_OK ? resp->retry_after : -1));
	}
	handle_put(c, h);
	return r;
}

int http_error(const struct http_resp *r, const char *what, struct kerror *e)
{
	int err = r->status == 404 ? ENOENT
		  : (r->status == 401 || r->status == 403) ? EACCES
		  : r->status == 429 ? EAGAIN
		  : r->status == 413 ? EFBIG
				   : EIO;
	_cleanup_json_ json_t *j = NULL;
	json_t *first;

	if (r->body.len && r->body.len < MAX_SMALL_BODY &&
	    json_parse(r->body.data, r->body.len, &j, NULL) == 0 &&
	    (first = json_array_get(json_object_get(j, "errors"), 0))) {
		const char *code = json_str(first, "code"), *msg = json_str(first, "message");
		return kerror_set(e, err, "%s: %s%s%s", what, code ? code : "error",
				  msg ? ": " : "", msg ? msg : "");
	}
	if (r->status == 401)
		return kerror_set(e, err, "%s: authentication required", what);
	if (r->status == 404)
		return kerror_set(e, err, "%s: not found", what);
	return kerror_set(e, err, "%s: the registry answered %ld", what, r->status);
}

void client_free(struct reg_client *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_idle; i++)
		curl_easy_cleanup(c->idle[i]);
	for (size_t i = 0; i < c->n_tokens; i++) {
		free(c->tokens[i].scope);
		if (c->tokens[i].value)
			explicit_bzero(c->tokens[i].value, strlen(c->tokens[i].value));
		free(c->tokens[i].value);
	}
	free(c->tokens);
	auth_challenge_release(&c->ch);
	auth_creds_release(&c->creds);
	free(c->domain);
	free(c->base);
	free(c->ca_blob);
	free(c->client_cert);
	free(c->client_key);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->token_fetch);
	free(c);
}

void cleanup_clientp(struct reg_client **c)
{
	client_free(*c);
}

int client_new(const struct registry_opts *o, const char *domain, bool insecure,
	       struct reg_client **out, struct kerror *e)
{
	struct reg_client *c = xcalloc(1, sizeof(*c));
	const char *api = !strcmp(domain, "docker.io") ? "registry-1.docker.io" : domain;
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->token_fetch, NULL);
	c->domain = xstrdup(domain);
	c->insecure = insecure || o->tls_verify == 0;
	c->verify = o->tls_verify == 1 || (o->tls_verify == -1 && !insecure);
	c->base = xasprintf("https://%s", api);
	c->retries = o->retries < 0 ? 0 : o->retries > 20 ? 20 : o->retries;
	c->retry_delay_ms = o->retry_delay_ms;
	r = client_tls_setup(c, o->cert_dir, e);
	if (r < 0) {
		client_free(c);
		return r;
	}
	if (o->creds && *o->creds) {
		const char *colon = strchr(o->creds, ':');
		c->creds.user = colon ? xstrndup(o->creds, (size_t)(colon - o->creds))
				      : xstrdup(o->creds);
		c->creds.pass = xstrdup(colon ? colon + 1 : "");
		c->have_creds = true;
	}
	*out = c;
	return 0;
}
