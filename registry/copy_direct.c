/* kiln copy docker://A docker://B as skopeo does it: the manifest (the
 * platform's from a list) and its exact bytes, each blob HEAD-checked at
 * the destination, mounted when both are on one registry, else fetched
 * into a temporary file (size and digest verified) and uploaded; no store,
 * nothing extracted.  The trust policy is evaluated on the source and the
 * signatures it read go along (unless --remove-signatures). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry/remote.h"
#include "registry/signing.h"

#define say(o, ...) progress_say((o)->progress, (o)->progress_ctx, __VA_ARGS__)

struct sink {
	int fd;
	struct digester *dg;
	int64_t got, want;
	const struct push_opts *o;
	const char *digest;
	int err;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct sink *k = ctx;
	size_t n = size * nmemb;
	if (k->got + (int64_t)n > k->want) {
		k->err = EFBIG;
		return 0;
	}
	if (fs_write_all(k->fd, data, n) < 0) {
		k->err = errno;
		return 0;
	}
	digester_update(k->dg, data, n);
	k->got += (int64_t)n;
	if (k->o->progress && k->o->bytes)
		k->o->bytes(k->o->progress_ctx, k->digest, k->got, k->want);
	return n;
}

/* One GET of blob d from rs into fd (truncated first); retried on
 * connection errors, 5xx and 429 as the client's other requests. */
static int fetch_blob(struct remote *rs, const struct descriptor *d, int fd,
		      const struct push_opts *o, struct kerror *e)
{
	_cleanup_free_ char *p = xasprintf("/v2/%s/blobs/%s", rs->ref->path, d->digest);
	_cleanup_free_ char *url = client_url(rs->c, p);
	char got[DIGEST_STR_LEN + 1];
	int r = 0;

	for (int attempt = 0;; attempt++) {
		struct sink k = { .fd = fd, .want = d->size, .o = o, .digest = d->digest };
		struct curl_slist *hdrs = NULL;
		char errbuf[CURL_ERROR_SIZE] = "";
		CURL *h = curl_easy_init();
		CURLcode rc;
		long status = 0;

		if (!h)
			return kerror_set(e, ENOMEM, "fetching blob %s: no curl handle", d->digest);
		if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
			curl_easy_cleanup(h);
			return kerror_sys(e, errno, "fetching blob %s", d->digest);
		}
		r = client_prepare(rs->c, h, rs->scope, &hdrs, e);
		if (r < 0) {
			curl_easy_cleanup(h);
			return r;
		}
		k.dg = digester_new();
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 64L * 1024);
		rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_slist_free_all(hdrs);
		curl_easy_cleanup(h);
		if (rc == CURLE_OK && status == 200) {
			digester_final(k.dg, got);
			digester_free(k.dg);
			if (k.got != d->size)
				return kerror_set(e, EBADMSG, "blob %s: %lld bytes, the manifest says %lld",
						  d->digest, (long long)k.got, (long long)d->size);
			if (strcmp(got, d->digest) != 0)
				return kerror_set(e, EBADMSG, "blob %s: the bytes received have digest %s",
						  d->digest, got);
			return 0;
		}
		digester_free(k.dg);
		if (k.err == EFBIG)
			return kerror_set(e, EBADMSG, "blob %s: more than the %lld bytes the manifest "
						      "says", d->digest, (long long)d->size);
		if (k.err)
			return kerror_sys(e, k.err, "writing blob %s", d->digest);
		if (status == 401)
			client_drop_token(rs->c, rs->scope);
		if (attempt >= rs->c->retries ||
		    !(rc != CURLE_OK ? http_retryable_curl(rc)
				     : status == 401 ? attempt == 0 : http_retryable_status(status))) {
			if (rc != CURLE_OK)
				return kerror_set(e, EIO, "fetching blob %s: %s", d->digest,
						  *errbuf ? errbuf : curl_easy_strerror(rc));
			return kerror_set(e, status == 404 ? ENOENT : EIO,
					  "fetching blob %s: the registry answered %ld", d->digest, status);
		}
		usleep((useconds_t)client_backoff_ms(rs->c, attempt, -1) * 1000);
	}
}

/* POST …?mount=: true when the destination now has it. */
static int try_mount(struct remote *rd, const char *from, const char *digest, bool *done,
		     struct kerror *e)
{
	_cleanup_free_ char *url = xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s",
					     rd->ref->path, digest, from);
	_cleanup_free_ char *scope = xasprintf("%s repository:%s:pull", rd->scope, from);
	struct http_req rq = HTTP_REQ_INIT;
	struct http_resp resp = { 0 };
	int r;

	rq.method = "POST";
	rq.url = url;
	rq.scope = scope;
	r = client_request(rd->c, &rq, &resp, e);
	*done = r == 0 && resp.status == 201;
	http_resp_release(&resp);
	return r;
}

static int copy_blob(struct remote *rs, struct remote *rd, const struct descriptor *d,
		     bool is_config, const char *tmpl, const struct push_opts *o, struct kerror *e)
{
	_cleanup_free_ char *path = xstrdup(tmpl);
	_cleanup_close_ int fd = -1;
	bool have = false;
	int r;

	if (d->urls && d->urls[0] && (strstr(d->media_type, ".foreign.") ||
				      strstr(d->media_type, ".nondistributable."))) {
		say(o, "Skipping foreign blob %s", d->digest);
		return 0;
	}
	r = remote_blob_exists(rd, d->digest, &have, e);
	if (r == 0 && !have && !is_config && !strcmp(rs->ref->domain, rd->ref->domain) &&
	    strcmp(rs->ref->path, rd->ref->path) != 0)
		r = try_mount(rd, rs->ref->path, d->digest, &have, e);
	if (r < 0)
		return r;
	if (have) {
		say(o, "Copying %s %s skipped: already exists", is_config ? "config" : "blob",
		    d->digest);
		return 0;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return kerror_sys(e, errno, "creating a temporary file for blob %s", d->digest);
	unlink(path);
	r = fetch_blob(rs, d, fd, o, e);
	if (r == 0) {
		/* push_blob_file opens a path: this process's fd of the file. */
		_cleanup_free_ char *self = xasprintf("/proc/self/fd/%d", fd);
		r = push_blob_file(rd->c, o, rd->ref->path, rd->scope, NULL, self, d->digest,
				   d->size, is_config, e);
	}
	return r;
}

/* True when registries.conf sends pulls of src elsewhere (mirrors, or a
 * location other than its prefix): the pull path resolves those. */
static int source_redirected(const struct pull_opts *po, const char *src, bool *yes,
			     struct kerror *e)
{
	struct registries_conf conf = { 0 };
	_cleanup_ref_ struct image_ref *ref = NULL;
	_cleanup_free_ char *full = NULL;
	const struct reg_entry *ent;
	int r;

	*yes = false;
	r = ref_parse(str_has_prefix(src, "docker://") ? src + 9 : src, &ref, e);
	if (r == 0)
		r = registries_conf_load(po->reg.registries_conf, &conf, e);
	if (r < 0)
		return r;
	full = ref_name(ref);
	ent = registries_find(&conf, full);
	*yes = ent && (ent->n_mirrors ||
		      (ent->location && *ent->location && strcmp(ent->prefix, ent->location)));
	registries_conf_release(&conf);
	return 0;
}

bool registry_copy_direct_ok(const struct push_opts *pu)
{
	return pu->format == PUSH_FORMAT_DEFAULT && pu->compression == COMPRESSION_UNKNOWN &&
	       !pu->force_compression;
}

int registry_copy_direct(const char *src, const char *dst, const struct pull_opts *po,
			 const struct push_opts *pu, char digest[DIGEST_STR_LEN + 1],
			 struct kerror *e)
{
	struct remote rs = { 0 }, rd = { 0 };
	_cleanup_free_ char *raw = NULL, *ctype = NULL, *tmpl = NULL;
	_cleanup_manifest_ struct manifest *m = NULL;
	_cleanup_sign_policy_ struct sign_policy *pol = NULL;
	struct store_sig *sigs = NULL;
	size_t len = 0, nsigs = 0;
	const char *base = getenv("TMPDIR");
	enum manifest_kind kind;
	bool redirected;
	int r;

	r = source_redirected(po, src, &redirected, e);
	if (r < 0 || redirected)
		return r < 0 ? r : 1;
	r = remote_open(&po->reg, src, false, &rs, e);
	if (r == 0)
		r = remote_open(&pu->reg, dst, true, &rd, e);
	if (r == 0)
		r = remote_get_manifest(&rs, remote_reference(&rs), &raw, &len, &ctype, digest, e);
	if (r < 0)
		goto out;
	kind = manifest_detect(raw, len, ctype);
	if (kind == MANIFEST_OCI_INDEX || kind == MANIFEST_DOCKER_LIST) {
		_cleanup_index_ struct manifest_index *x = NULL;
		const struct descriptor *d = NULL;
		_cleanup_free_ char *child = NULL;
		r = index_parse(raw, len, &x, e);
		if (r == 0)
			r = index_pick_platform(x, po->platform, &d, e);
		if (r < 0)
			goto out;
		child = xstrdup(d->digest);
		int64_t want = d->size;
		free(raw);
		free(ctype);
		raw = ctype = NULL;
		r = remote_get_manifest(&rs, child, &raw, &len, &ctype, digest, e);
		if (r < 0)
			goto out;
		if ((int64_t)len != want) {
			r = kerror_set(e, EBADMSG, "manifest %s: %zu bytes, the manifest list says %lld",
				       child, len, (long long)want);
			goto out;
		}
		kind = manifest_detect(raw, len, ctype);
	}
	if (kind == MANIFEST_DOCKER_V2S1) {
		r = kerror_set(e, ENOTSUP, "manifest %s is Docker schema 1, which is unsupported",
			       digest);
		goto out;
	}
	if (kind != MANIFEST_OCI && kind != MANIFEST_DOCKER_V2S2) {
		r = kerror_set(e, ENOTSUP, "manifest %s: unsupported type %s", digest,
			       ctype ? ctype : "(none)");
		goto out;
	}
	r = manifest_parse(raw, len, &m, e);
	if (r < 0)
		goto out;
	for (size_t i = 0; i <= m->n_layers; i++) {
		const char *b = i < m->n_layers ? m->layers[i].digest : m->config.digest;
		if (!digest_is_sha256(b)) {
			r = kerror_set(e, ENOTSUP, "manifest %s: blob %s: unsupported digest algorithm "
						   "(only sha256 can be verified)", digest, b);
			goto out;
		}
	}
	say(pu, "Getting image source signatures");
	r = pull_policy_load(po, &pol, e);
	if (r == 0)
		r = pull_policy_check(pol, po, rs.c, rs.ref->path, rs.scope, rs.ref, raw, len, digest,
				      &sigs, &nsigs, e);
	if (r < 0)
		goto out;
	tmpl = xasprintf("%s/kiln-blob.XXXXXX", base && *base ? base : "/var/tmp");
	for (size_t i = 0; r == 0 && i < m->n_layers; i++)
		r = copy_blob(&rs, &rd, &m->layers[i], false, tmpl, pu, e);
	if (r == 0)
		r = copy_blob(&rs, &rd, &m->config, true, tmpl, pu, e);
	if (r < 0)
		goto out;
	say(pu, "Writing manifest to image destination");
	{
		const char *ref = pu->by_digest ? digest : remote_reference(&rd);
		if (rd.ref->digest && strcmp(rd.ref->digest, digest) != 0) {
			r = kerror_set(e, EINVAL, "the manifest has digest %s, not %s", digest,
				       rd.ref->digest);
			goto out;
		}
		r = remote_put_manifest(&rd, ref, ctype ? ctype : kind == MANIFEST_OCI
					? MT_OCI_MANIFEST : MT_DOCKER_MANIFEST, raw, len, e);
	}
	if (r == 0 && nsigs && !pu->remove_signatures) {
		say(pu, "Copying %zu signature%s", nsigs, nsigs == 1 ? "" : "s");
		r = push_kept_signatures(pu, rd.c, rd.ref->path, rd.scope, rd.ref, digest, sigs,
					 nsigs, e);
	}
	if (r == 0 && (pu->sign_by || pu->sign_by_sigstore_key)) {
		say(pu, "Creating signature");
		r = push_signatures(pu, rd.c, rd.ref->path, rd.scope, rd.ref, digest, e);
	}
	if (r == 0)
		say(pu, "Storing signatures");
out:
	store_sigs_free(sigs, nsigs);
	if (rs.c || rs.ref)
		remote_release(&rs);
	if (rd.c || rd.ref)
		remote_release(&rd);
	return r;
}
