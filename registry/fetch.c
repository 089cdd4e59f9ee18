/* Parallel layer fetches: one curl multi loop drives every transfer; each
 * layer has a thread that stages it (hash, decompress, extract) straight
 * from the network stream.  Between them, a pair of swapped buffers: the
 * transfer pauses when its buffer is full and the stager wakes the loop
 * when it took the bytes.  A transfer that fails mid-stream is retried
 * from where it stopped (Range). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "registry/fetch.h"

/* Per transfer: two buffers of this size plus curl's own receive buffer
 * (CURLOPT_BUFFERSIZE, the same size: a paused transfer keeps at most one
 * chunk).  64 KiB keeps four parallel layers within a few hundred KiB of
 * memory (peak RSS of a 4-layer pull 26.4 -> 16.4 MiB) and is no slower
 * than 1 MiB: the stager works on cache-warm data. */
#define XFER_BUF (64 * 1024)

struct xfer {
	struct fetch_ctx *fc;
	struct fetch_job *job;
	CURL *h;
	struct curl_slist *hdrs;
	pthread_t thread;
	bool thread_started, finished, joined;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *fill, *drain;
	size_t fill_len;
	bool eof, net_failed, consumer_done, paused, want_unpause, active;
	char *net_err;
	int net_code;

	/* Owned by the loop thread. */
	int64_t received, skip;
	long status;
	struct buf errbody;
	int attempt;
	bool reauthed;
	int64_t retry_at; /* ms, 0: not waiting */
};

struct fetch_ctx {
	struct reg_client *c;
	struct store *s;
	struct store_tmp *t;
	const char *repo, *scope;
	CURLM *multi;
	registry_bytes bytes; /* may be NULL */
	void *bytes_ctx;
};

static ssize_t src_read(void *ctx, const void **buf, struct kerror *e)
{
	struct xfer *x = ctx;
	ssize_t n;
	char *tmp;

	pthread_mutex_lock(&x->lock);
	while (x->fill_len == 0 && !x->eof && !x->net_failed)
		pthread_cond_wait(&x->cond, &x->lock);
	if (x->fill_len == 0 && x->net_failed) {
		n = kerror_set(e, x->net_code, "%s", x->net_err);
		pthread_mutex_unlock(&x->lock);
		return n;
	}
	tmp = x->drain;
	x->drain = x->fill;
	x->fill = tmp;
	n = (ssize_t)x->fill_len;
	x->fill_len = 0;
	if (x->paused && !x->want_unpause) {
		x->want_unpause = true;
		curl_multi_wakeup(x->fc->multi);
	}
	pthread_mutex_unlock(&x->lock);
	*buf = x->drain;
	return n;
}

static void *stage_thread(void *arg)
{
	struct xfer *x = arg;
	struct fetch_job *j = x->job;

	j->result = store_stage_layer_blob(x->fc->s, x->fc->t, src_read, x, j->parent_chain,
					   j->desc, &j->out, &j->err);
	pthread_mutex_lock(&x->lock);
	x->consumer_done = true;
	x->finished = true;
	pthread_mutex_unlock(&x->lock);
	curl_multi_wakeup(x->fc->multi);
	return NULL;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct xfer *x = ctx;
	size_t n = size * nmemb, k;

	if (!x->status) {
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
		/* A server that ignored our Range starts over: skip what we have. */
		if (x->status == 200 && x->received > 0)
			x->skip = x->received;
	}
	if (x->status != 200 && x->status != 206) {
		if (x->errbody.len + n <= MAX_SMALL_BODY)
			buf_append(&x->errbody, data, n);
		return n;
	}
	k = x->skip > 0 ? ((int64_t)n < x->skip ? n : (size_t)x->skip) : 0;
	if (k == n) {
		x->skip -= (int64_t)k;
		return n;
	}
	pthread_mutex_lock(&x->lock);
	if (x->consumer_done) {
		pthread_mutex_unlock(&x->lock);
		return 0;
	}
	if (x->fill_len + (n - k) > XFER_BUF) {
		x->paused = true;
		pthread_mutex_unlock(&x->lock);
		return CURL_WRITEFUNC_PAUSE;
	}
	memcpy(x->fill + x->fill_len, data + k, n - k);
	x->fill_len += n - k;
	x->received += (int64_t)(n - k);
	if (x->fc->bytes)
		x->fc->bytes(x->fc->bytes_ctx, x->job->desc->digest, x->received, x->job->desc->size);
	x->skip -= (int64_t)k;
	pthread_cond_signal(&x->cond);
	pthread_mutex_unlock(&x->lock);
	return n;
}

static void net_fail(struct xfer *x, int code, char *msg)
{
	pthread_mutex_lock(&x->lock);
	x->net_failed = true;
	x->net_code = code;
	free(x->net_err);
	x->net_err = msg;
	pthread_cond_signal(&x->cond);
	pthread_mutex_unlock(&x->lock);
}

static int start_transfer(struct xfer *x, struct kerror *e)
{
	struct fetch_ctx *fc = x->fc;
	_cleanup_free_ char *url = NULL, *path = NULL;
	int r;

	if (!x->h)
		x->h = curl_easy_init();
	curl_easy_reset(x->h);
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	r = client_prepare(fc->c, x->h, fc->scope, &x->hdrs, e);
	if (r < 0)
		return r;
	if (x->received > 0) {
		char range[64];
		snprintf(range, sizeof(range), "Range: bytes=%" PRId64 "-", x->received);
		x->hdrs = curl_slist_append(x->hdrs, range);
	}
	path = xasprintf("/v2/%s/blobs/%s", fc->repo, x->job->desc->digest);
	url = client_url(fc->c, path);
	curl_easy_setopt(x->h, CURLOPT_URL, url);
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->h, CURLOPT_BUFFERSIZE, 64L * 1024);
	x->status = 0;
	buf_release(&x->errbody);
	x->retry_at = 0;
	x->skip = 0;
	curl_multi_add_handle(fc->multi, x->h);
	return 0;
}

static char *status_message(struct xfer *x)
{
	struct http_resp r = { .status = x->status, .body = x->errbody };
	struct kerror e = { 0 };
	_cleanup_free_ char *what = xasprintf("fetching blob %s", x->job->desc->digest);
	http_error(&r, what, &e);
	return e.msg;
}

/* A transfer ended: done, retried later, or failed. */
static void transfer_done(struct xfer *x, CURLcode rc)
{
	struct fetch_ctx *fc = x->fc;
	bool aborted;
	int64_t retry_after = -1;

	curl_multi_remove_handle(fc->multi, x->h);
	pthread_mutex_lock(&x->lock);
	aborted = x->consumer_done;
	pthread_mutex_unlock(&x->lock);
	if (aborted)
		return;
	if (rc == CURLE_OK && (x->status == 200 || x->status == 206)) {
		pthread_mutex_lock(&x->lock);
		x->eof = true;
		pthread_cond_signal(&x->cond);
		pthread_mutex_unlock(&x->lock);
		return;
	}
	if (rc == CURLE_OK && x->status == 401 && !x->reauthed) {
		struct kerror e = { 0 };
		x->reauthed = true;
		client_drop_token(fc->c, fc->scope);
		if (start_transfer(x, &e) < 0)
			net_fail(x, e.code, steal_pointer(&e.msg));
		kerror_release(&e);
		return;
	}
	if ((rc != CURLE_OK && http_retryable_curl(rc)) ||
	    (rc == CURLE_OK && http_retryable_status(x->status))) {
		if (x->attempt < fc->c->retries) {
			struct curl_header *hd;
			if (rc == CURLE_OK &&
			    curl_easy_header(x->h, "Retry-After", 0, CURLH_HEADER, -1, &hd) ==
				    CURLHE_OK)
				retry_after = strtoll(hd->value, NULL, 10);
			log_info("fetching blob %s: %s, retrying (%d of %d)", x->job->desc->digest,
				 rc != CURLE_OK ? curl_easy_strerror(rc) : "server error",
				 x->attempt + 1, fc->c->retries);
			x->retry_at = mono_ms() + client_backoff_ms(fc->c, x->attempt, retry_after);
			x->attempt++;
			return;
		}
	}
	if (rc != CURLE_OK)
		net_fail(x, EIO, xasprintf("fetching blob %s: %s", x->job->desc->digest,
					   curl_easy_strerror(rc)));
	else
		net_fail(x, x->status == 404 ? ENOENT : x->status == 401 || x->status == 403
							? EACCES : EIO, status_message(x));
}

static void xfer_release(struct xfer *x)
{
	if (x->h)
		curl_easy_cleanup(x->h);
	curl_slist_free_all(x->hdrs);
	free(x->fill);
	free(x->drain);
	free(x->net_err);
	buf_release(&x->errbody);
	pthread_mutex_destroy(&x->lock);
	pthread_cond_destroy(&x->cond);
}

int fetch_layers(struct reg_client *c, struct store *s, struct store_tmp *t, const char *repo,
		 const char *scope, struct fetch_job *jobs, size_t n, int parallel,
		 void (*started)(void *ctx, struct fetch_job *j), void *ctx, registry_bytes bytes,
		 void *bytes_ctx, struct kerror *e)
{
	struct fetch_ctx fc = { .c = c, .s = s, .t = t, .repo = repo, .scope = scope,
				.bytes = bytes, .bytes_ctx = bytes_ctx };
	struct xfer *xs = xcalloc(n + 1, sizeof(*xs));
	size_t next = 0, running = 0, done = 0, next_limit = n;
	bool cancelled = false;
	int r = 0;

	if (parallel <= 0)
		parallel = 4;
	r = client_ping(c, e);
	if (r < 0) {
		free(xs);
		return r;
	}
	fc.multi = curl_multi_init();
	curl_multi_setopt(fc.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)parallel);
	for (size_t i = 0; i < n; i++) {
		xs[i].fc = &fc;
		xs[i].job = &jobs[i];
		pthread_mutex_init(&xs[i].lock, NULL);
		pthread_cond_init(&xs[i].cond, NULL);
		jobs[i].result = -EINPROGRESS;
	}
	while (done < n) {
		int still, msgs;
		CURLMsg *m;

		/* Start what fits, unless something already failed. */
		while (r == 0 && next < next_limit && running < (size_t)parallel) {
			struct xfer *x = &xs[next++];
			x->fill = xmalloc(XFER_BUF);
			x->drain = xmalloc(XFER_BUF);
			if (started)
				started(ctx, x->job);
			r = start_transfer(x, e);
			if (r < 0) {
				done++;
				break;
			}
			x->active = true;
			if (pthread_create(&x->thread, NULL, stage_thread, x) != 0)
				abort();
			x->thread_started = true;
			running++;
		}
		if (r < 0 && running == 0)
			break;
		curl_multi_perform(fc.multi, &still);
		while ((m = curl_multi_info_read(fc.multi, &msgs)))
			if (m->msg == CURLMSG_DONE) {
				struct xfer *x = NULL;
				curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
				CURLcode rc = m->data.result;
				transfer_done(x, rc);
			}
		for (size_t i = 0; i < next; i++) {
			struct xfer *x = &xs[i];
			bool unpause = false, fin;
			if (!x->active)
				continue;
			pthread_mutex_lock(&x->lock);
			if (x->want_unpause) {
				x->want_unpause = false;
				x->paused = false;
				unpause = true;
			}
			fin = x->finished;
			pthread_mutex_unlock(&x->lock);
			if (unpause)
				curl_easy_pause(x->h, CURLPAUSE_CONT);
			if (x->retry_at && mono_ms() >= x->retry_at) {
				struct kerror e2 = { 0 };
				if (start_transfer(x, &e2) < 0)
					net_fail(x, e2.code, steal_pointer(&e2.msg));
				kerror_release(&e2);
			}
			if (fin) {
				pthread_join(x->thread, NULL);
				x->joined = true;
				x->active = false;
				curl_multi_remove_handle(fc.multi, x->h);
				running--;
				done++;
				if (x->job->result < 0 && r == 0) {
					r = x->job->result;
					e->code = x->job->err.code;
					free(e->msg);
					e->msg = steal_pointer(&x->job->err.msg);
				}
			}
		}
		if (r < 0 && !cancelled) {
			/* Nothing new starts after a failure; the others stop. */
			cancelled = true;
			done += n - next;
			next_limit = next;
			for (size_t i = 0; i < next; i++)
				if (xs[i].active) {
					curl_multi_remove_handle(fc.multi, xs[i].h);
					xs[i].retry_at = 0;
					net_fail(&xs[i], ECANCELED, xstrdup("cancelled"));
				}
		}
		if (done < n)
			curl_multi_poll(fc.multi, NULL, 0, 100, NULL);
	}
	for (size_t i = 0; i < n; i++)
		xfer_release(&xs[i]);
	free(xs);
	curl_multi_cleanup(fc.multi);
	return r;
}
