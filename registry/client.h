/* Private to registry/: one registry host's client (TLS, auth, retries) and
 * the HTTP helpers shared by pull, push and login. */
#ifndef KILN_REGISTRY_CLIENT_H
#define KILN_REGISTRY_CLIENT_H

#include <pthread.h>
#include <curl/curl.h>

#include "registry/registry.h"

#define MAX_MANIFEST (4 * 1024 * 1024)
#define MAX_SMALL_BODY (64 * 1024)

struct token {
	char *scope;
	char *value;
	int64_t expires; /* monotonic seconds */
};

struct reg_client {
	pthread_mutex_t lock; /* tokens, idle handles, challenge */
	pthread_mutex_t token_fetch; /* one token request at a time: the
				      * blobs of a push or pull share one */
	char *domain;         /* as in references: "localhost:5000", "docker.io" */
	char *base;           /* "https://registry-1.docker.io" */
	bool insecure;        /* plain HTTP fallback and no verification */
	bool verify;
	char *ca_blob;        /* system CAs + certs.d CAs, NULL: curl's default */
	size_t ca_len;
	char *client_cert, *client_key;
	struct auth_creds creds;
	bool have_creds;
	bool pinged;
	bool supports_signatures; /* /v2/ said X-Registry-Supports-Signatures: 1 */
	struct auth_challenge ch;
	bool have_ch;
	struct token *tokens;
	size_t n_tokens;
	CURL *idle[8];
	size_t n_idle;
	int retries, retry_delay_ms;
};

/* domain: the reference's domain.  insecure: from registries.conf. */
int client_new(const struct registry_opts *o, const char *domain, bool insecure,
	       struct reg_client **out, struct kerror *e);
void client_free(struct reg_client *c);
void cleanup_clientp(struct reg_client **c);
#define _cleanup_client_ __attribute__((cleanup(cleanup_clientp)))

/* TLS settings of c from certs.d or --cert-dir (tls.c). */
int client_tls_setup(struct reg_client *c, const char *cert_dir, struct kerror *e);

struct http_resp {
	long status;
	struct buf body;
	char *content_type, *digest, *location, *www_auth, *range, *link;
	int64_t retry_after; /* seconds, -1 if none */
	int64_t content_length;
};
void http_resp_release(struct http_resp *r);

struct http_req {
	const char *method;
	const char *url;   /* absolute, or a path under the registry's base */
	const char *scope; /* token scope, NULL: none */
	const char *accept;
	const char *content_type;
	const char *content_range;
	const void *body;
	size_t body_len;
	int body_fd;       /* >= 0: the body is body_fd_len bytes at body_off */
	off_t body_off;
	int64_t body_fd_len;
	size_t max_body;   /* response cap, 0: MAX_SMALL_BODY */
	/* Upload progress: sent(ctx, body bytes sent so far) after each read
	 * of the body; may be NULL. */
	void (*sent)(void *ctx, int64_t n);
	void *sent_ctx;
};
#define HTTP_REQ_INIT { .body_fd = -1 }

/* Pings (once), authenticates, sends, retries connection errors, 5xx and
 * 429 (Retry-After) with backoff, re-authenticates once on 401.  Any
 * status is returned in resp; only transport failures are errors. */
int client_request(struct reg_client *c, const struct http_req *rq, struct http_resp *resp,
		   struct kerror *e);
/* A handle set up for c (TLS, redirects, timeouts) and the Authorization
 * header for scope appended to *hdrs.  For transfers driven elsewhere. */
int client_prepare(struct reg_client *c, CURL *h, const char *scope, struct curl_slist **hdrs,
		   struct kerror *e);
/* "Authorization: …" for scope (NULL line when none is needed). */
int client_auth_header(struct reg_client *c, const char *scope, char **line, struct kerror *e);
/* TLS, redirects, timeouts on a fresh handle. */
void client_setup_handle(struct reg_client *c, CURL *h);
/* Credentials from the auth files for repo ("host/path"), unless --creds
 * gave some. */
int client_load_creds(struct reg_client *c, const char *authfile, const char *repo,
		      struct kerror *e);
/* Forgets the token for scope (after a 401). */
void client_drop_token(struct reg_client *c, const char *scope);
char *client_url(const struct reg_client *c, const char *path_or_url);
/* Retry delay for attempt n (0-based), honouring Retry-After. */
int64_t client_backoff_ms(const struct reg_client *c, int attempt, int64_t retry_after);
bool http_retryable_curl(CURLcode rc);
bool http_retryable_status(long status);
/* Fills e from a failed response: "what: CODE: message" from the JSON
 * errors body when there is one; returns -errno (404 → ENOENT, 401/403 →
 * EACCES, 429 → EAGAIN, else EIO). */
int http_error(const struct http_resp *r, const char *what, struct kerror *e);
/* Pings the registry now (login uses it to check credentials). */
int client_ping(struct reg_client *c, struct kerror *e);
/* Gets a token for scope now (login). */
int client_token(struct reg_client *c, const char *scope, char **token, struct kerror *e);
int64_t mono_ms(void);

/* GETs a manifest (at most 4 MiB) by tag or digest with the given Accept
 * list; the digest is checked against a digest reference and against the
 * registry's Docker-Content-Digest.  ctype may be NULL. */
int client_get_manifest(struct reg_client *c, const char *repo, const char *scope,
			const char *accept, const char *reference, char **data, size_t *len,
			char **ctype, char digest[DIGEST_STR_LEN + 1], struct kerror *e);
/* GETs a blob of at most max bytes into memory; its size and digest must
 * match d (a mismatch names the blob).  *data is NUL-terminated. */
int client_get_blob(struct reg_client *c, const char *repo, const char *scope,
		    const struct descriptor *d, size_t max, char **data, size_t *len,
		    struct kerror *e);

/* push.c: the file at path as blob digest (size bytes) into repo: HEAD
 * first, then a cross-repository mount from one of mount_from (NULL or
 * NULL-terminated; never for a config), else uploaded (chunked when larger
 * than --chunk-size or the config's), with o's progress. */
int push_blob_file(struct reg_client *c, const struct push_opts *o, const char *repo,
		   const char *scope, char **mount_from, const char *path, const char *digest,
		   int64_t size, bool is_config, struct kerror *e);

/* fn(ctx, the formatted line) when fn is set (pull.c). */
void progress_say(registry_progress fn, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* copy_direct.c: copy between two registries without a store, when
 * registry_copy_direct_ok(pu) (no format or compression change); 1 when
 * it declines (registries.conf mirrors or relocates the source: the pull
 * path's resolution is needed). */
bool registry_copy_direct_ok(const struct push_opts *pu);
int registry_copy_direct(const char *src, const char *dst, const struct pull_opts *po,
			 const struct push_opts *pu, char digest[DIGEST_STR_LEN + 1],
			 struct kerror *e);

#endif
