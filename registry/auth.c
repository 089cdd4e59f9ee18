/* Registry auth: the /v2/ ping and its challenge, anonymous and credentialed
 * bearer tokens cached per scope for the life of the client, basic auth.
 * Credentials and tokens never reach a log line or an error message. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "registry/client.h"

int client_load_creds(struct reg_client *c, const char *authfile, const char *repo,
		      struct kerror *e)
{
	int r;
	if (c->have_creds)
		return 0;
	r = authfile_lookup(authfile, repo, &c->creds, e);
	/* No credentials for repo (with no error: a given file that is
	 * missing is one) means going on anonymously, as podman does. */
	if (r == -ENOENT && (!(authfile && *authfile) || !e->msg)) {
		kerror_release(e);
		return 0;
	}
	if (r < 0)
		return r;
	c->have_creds = true;
	return 0;
}

static size_t sink_buf(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct buf *b = ctx;
	size_t n = size * nmemb;
	if (b->len + n > MAX_SMALL_BODY)
		return 0;
	buf_append(b, data, n);
	return n;
}

int client_ping(struct reg_client *c, struct kerror *e)
{
	CURL *h;
	long status = 0;
	CURLcode rc = CURLE_OK;
	struct http_resp resp = { .retry_after = -1 };
	char errbuf[CURL_ERROR_SIZE];
	bool tried_http = false;
	int r = 0;

	pthread_mutex_lock(&c->lock);
	if (c->pinged) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	h = curl_easy_init();
	for (int attempt = 0;; attempt++) {
		_cleanup_free_ char *url = xasprintf("%s/v2/", c->base);
		struct buf body = { 0 };
		struct curl_slist *hdrs = NULL;

		curl_easy_reset(h);
		client_setup_handle(c, h);
		errbuf[0] = 0;
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_buf);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
		hdrs = curl_slist_append(hdrs, "Accept: application/json");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		rc = curl_easy_perform(h);
		curl_slist_free_all(hdrs);
		buf_release(&body);
		if (rc == CURLE_OK) {
			struct curl_header *hd = NULL;
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
			if (curl_easy_header(h, "WWW-Authenticate", 0, CURLH_HEADER, -1, &hd) ==
			    CURLHE_OK)
				resp.www_auth = xstrdup(hd->value);
			hd = NULL;
			/* The signature API extension (docs/signature-protocols.md). */
			c->supports_signatures =
				curl_easy_header(h, "X-Registry-Supports-Signatures", 0, CURLH_HEADER,
						 -1, &hd) == CURLHE_OK && !strcmp(hd->value, "1");
			if (!http_retryable_status(status))
				break;
		}
		/* An insecure registry may speak plain HTTP. */
		if (rc != CURLE_OK && c->insecure && !tried_http && str_has_prefix(c->base, "https://")) {
			char *b = xasprintf("http://%s", c->base + 8);
			free(c->base);
			c->base = b;
			tried_http = true;
			attempt--;
			continue;
		}
		if (attempt >= c->retries ||
		    (rc != CURLE_OK && !http_retryable_curl(rc)))
			break;
		pthread_mutex_unlock(&c->lock);
		{
			struct timespec ts;
			int64_t ms = client_backoff_ms(c, attempt, -1);
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (ms % 1000) * 1000000;
			nanosleep(&ts, NULL);
		}
		pthread_mutex_lock(&c->lock);
	}
	curl_easy_cleanup(h);
	if (rc != CURLE_OK) {
		r = kerror_set(e, EIO, "pinging the registry %s: %s", c->domain,
			       *errbuf ? errbuf : curl_easy_strerror(rc));
	} else if (status == 200) {
		c->pinged = true;
	} else if (status == 401) {
		if (resp.www_auth && auth_challenge_parse(resp.www_auth, &c->ch) == 0) {
			c->have_ch = true;
		} else {
			/* No usable challenge: basic auth is the only guess. */
			c->ch.scheme = xstrdup("basic");
			c->have_ch = true;
		}
		c->pinged = true;
	} else {
		r = kerror_set(e, EPROTO, "pinging the registry %s: GET /v2/ answered %ld, it is "
					  "not a registry", c->domain, status);
	}
	http_resp_release(&resp);
	pthread_mutex_unlock(&c->lock);
	return r;
}

static char *basic_header(const struct auth_creds *cr)
{
	_cleanup_free_ char *plain = xasprintf("%s:%s", cr->user, cr->pass ? cr->pass : "");
	size_t n = strlen(plain);
	char *b64 = xmalloc(4 * ((n + 2) / 3) + 1);
	char *line;
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)plain, (int)n);
	line = xasprintf("Authorization: Basic %s", b64);
	explicit_bzero(plain, n);
	explicit_bzero(b64, strlen(b64));
	free(b64);
	return line;
}

static void url_add(struct buf *u, const char *k, const char *v, CURL *h)
{
	char *esc = curl_easy_escape(h, v, 0);
	buf_printf(u, "%c%s=%s", strchr(u->data, '?') ? '&' : '?', k, esc ? esc : "");
	curl_free(esc);
}

/* GET realm?service=…&scope=…[&account=…], basic auth when we have
 * credentials.  Called without c->lock. */
static int fetch_token(struct reg_client *c, const struct auth_challenge *ch, const char *scope,
		       char **token, int64_t *expires_in, struct kerror *e)
{
	CURL *h = curl_easy_init();
	struct buf url = { 0 }, body = { 0 };
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	_cleanup_json_ json_t *j = NULL;
	long status = 0;
	CURLcode rc;
	int r = 0;

	buf_printf(&url, "%s", ch->realm);
	if (ch->service)
		url_add(&url, "service", ch->service, h);
	if (scope && *scope) {
		_cleanup_free_ char *sc = xstrdup(scope);
		char *save = NULL;
		for (char *t = strtok_r(sc, " ", &save); t; t = strtok_r(NULL, " ", &save))
			url_add(&url, "scope", t, h);
	}
	if (c->have_creds) {
		_cleanup_free_ char *line = basic_header(&c->creds);
		url_add(&url, "account", c->creds.user, h);
		hdrs = curl_slist_append(hdrs, line);
		explicit_bzero(line, strlen(line));
	}
	for (int attempt = 0;; attempt++) {
		buf_release(&body);
		curl_easy_reset(h);
		client_setup_handle(c, h);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(h, CURLOPT_URL, url.data);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_buf);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
		rc = curl_easy_perform(h);
		if (rc == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if ((rc == CURLE_OK && !http_retryable_status(status)) || attempt >= c->retries ||
		    (rc != CURLE_OK && !http_retryable_curl(rc)))
			break;
		struct timespec ts = { client_backoff_ms(c, attempt, -1) / 1000, 0 };
		nanosleep(&ts, NULL);
	}
	if (rc != CURLE_OK) {
		r = kerror_set(e, EIO, "getting a token from %s: %s", ch->realm,
			       *errbuf ? errbuf : curl_easy_strerror(rc));
	} else if (status == 401 || status == 403) {
		r = kerror_set(e, EACCES, "authenticating to %s: invalid username/password",
			       c->domain);
	} else if (status != 200) {
		r = kerror_set(e, EIO, "getting a token from %s: the server answered %ld", ch->realm,
			       status);
	} else if (json_parse(body.data, body.len, &j, e) < 0) {
		r = kerror_wrap(e, "getting a token from %s", ch->realm);
	} else {
		const char *t = json_str(j, "token");
		if (!t || !*t)
			t = json_str(j, "access_token");
		if (!t || !*t) {
			r = kerror_set(e, EPROTO, "getting a token from %s: the answer has no token",
				       ch->realm);
		} else {
			*token = xstrdup(t);
			*expires_in = json_int(j, "expires_in", 60);
			if (*expires_in < 60)
				*expires_in = 60;
		}
	}
	curl_slist_free_all(hdrs);
	if (body.data)
		explicit_bzero(body.data, body.len);
	buf_release(&body);
	buf_release(&url);
	curl_easy_cleanup(h);
	return r;
}

/* The cached token for key, copied into *token; false when there is none
 * valid for a few more seconds. */
static bool cached_token(struct reg_client *c, const char *key, int64_t now, char **token)
{
	bool found = false;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n_tokens && !found; i++)
		if (!strcmp(c->tokens[i].scope, key) && c->tokens[i].expires > now + 5) {
			*token = xstrdup(c->tokens[i].value);
			found = true;
		}
	pthread_mutex_unlock(&c->lock);
	return found;
}

int client_token(struct reg_client *c, const char *scope, char **token, struct kerror *e)
{
	struct auth_challenge ch = { 0 };
	int64_t now = mono_ms() / 1000, exp = 0;
	const char *key = scope ? scope : "";
	int r;

	if (cached_token(c, key, now, token))
		return 0;
	/* Parallel blob transfers that all miss wait for the first one's
	 * request instead of each asking the token server. */
	pthread_mutex_lock(&c->token_fetch);
	if (cached_token(c, key, now, token)) {
		pthread_mutex_unlock(&c->token_fetch);
		return 0;
	}
	pthread_mutex_lock(&c->lock);
	ch.realm = xstrdup(c->ch.realm);
	ch.service = c->ch.service ? xstrdup(c->ch.service) : NULL;
	pthread_mutex_unlock(&c->lock);
	r = fetch_token(c, &ch, scope, token, &exp, e);
	auth_challenge_release(&ch);
	if (r == 0) {
		pthread_mutex_lock(&c->lock);
		c->tokens = xrealloc(c->tokens, (c->n_tokens + 1) * sizeof(*c->tokens));
		c->tokens[c->n_tokens].scope = xstrdup(key);
		c->tokens[c->n_tokens].value = xstrdup(*token);
		c->tokens[c->n_tokens++].expires = now + exp;
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&c->token_fetch);
	return r;
}

void client_drop_token(struct reg_client *c, const char *scope)
{
	const char *key = scope ? scope : "";
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n_tokens; i++)
		if (!strcmp(c->tokens[i].scope, key))
			c->tokens[i].expires = 0;
	pthread_mutex_unlock(&c->lock);
}

int client_auth_header(struct reg_client *c, const char *scope, char **line, struct kerror *e)
{
	bool bearer, basic;
	*line = NULL;

	pthread_mutex_lock(&c->lock);
	bearer = c->have_ch && !strcmp(c->ch.scheme, "bearer") && c->ch.realm;
	basic = c->have_ch && !strcmp(c->ch.scheme, "basic");
	pthread_mutex_unlock(&c->lock);
	if (basic) {
		if (!c->have_creds)
			return 0;
		*line = basic_header(&c->creds);
		return 0;
	}
	if (bearer) {
		_cleanup_free_ char *tok = NULL;
		int r = client_token(c, scope, &tok, e);
		if (r < 0)
			return r;
		*line = xasprintf("Authorization: Bearer %s", tok);
		explicit_bzero(tok, strlen(tok));
	}
	return 0;
}
