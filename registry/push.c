/* kiln push: layers (the stored blob when it has the wanted compression,
 * else recompressed) and config, each HEAD-checked first, mounted from
 * another repository of the registry when the image came from one, else
 * uploaded (monolithic when small, chunked PATCHes when large), several at
 * once; then the manifest. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "registry/compress.h"
#include "registry/client.h"
#include "registry/signing.h"

#define DEFAULT_CHUNK (64LL * 1024 * 1024)

struct push_blob {
	char digest[DIGEST_STR_LEN + 1];
	int64_t size;
	const char *media_type; /* in the manifest */
	const char *layer_id;   /* NULL for the config */
	enum layer_compression recompress; /* COMPRESSION_UNKNOWN: send the stored blob */
	char *path;             /* file to send */
	char *const *urls;      /* a foreign layer's (borrowed from the stored manifest) */
	bool is_config;
	bool foreign;           /* foreign/non-distributable: never uploaded */
	const struct push_opts *o; /* for byte progress */
	int64_t base;           /* offset of the request being sent */
	int result;
	struct kerror err;
};

struct pusher {
	struct store *s;
	const struct push_opts *o;
	struct reg_client *c;
	const char *repo;
	char *scope;
	char **mount_from; /* other repositories of the same registry */
	int64_t conf_chunk; /* the config's chunk size, else DEFAULT_CHUNK */
	struct store_tmp t;
	pthread_mutex_t lock;
	struct push_blob *blobs;
	size_t n_blobs, next;
};

static void say(struct pusher *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct pusher *p, const char *fmt, ...)
{
	va_list ap;
	char *line;
	if (!p->o->progress)
		return;
	va_start(ap, fmt);
	line = xvasprintf(fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&p->lock);
	p->o->progress(p->o->progress_ctx, line);
	pthread_mutex_unlock(&p->lock);
	free(line);
}

static int simple(struct pusher *p, const char *method, const char *url, const char *scope,
		  struct http_req *rq, struct http_resp *resp, struct kerror *e)
{
	rq->method = method;
	rq->url = url;
	rq->scope = scope ? scope : p->scope;
	return client_request(p->c, rq, resp, e);
}

/* url + (? or &) + digest=… */
static char *with_digest(const char *loc, const char *digest)
{
	return xasprintf("%s%cdigest=%s", loc, strchr(loc, '?') ? '&' : '?', digest);
}

static char *location_of(struct pusher *p, const struct http_resp *resp, struct kerror *e)
{
	if (!resp->location || !*resp->location) {
		kerror_set(e, EPROTO, "the registry gave no upload location");
		return NULL;
	}
	return client_url(p->c, resp->location);
}

static void blob_sent(void *ctx, int64_t n)
{
	struct push_blob *b = ctx;
	b->o->bytes(b->o->progress_ctx, b->digest, b->base + n, b->size);
}

/* A body request of blob b from offset base, with byte progress. */
static void body_progress(struct pusher *p, struct push_blob *b, struct http_req *rq,
			  int64_t base)
{
	if (!p->o->progress || !p->o->bytes)
		return;
	b->o = p->o;
	b->base = base;
	rq->sent = blob_sent;
	rq->sent_ctx = b;
}

/* [engine] chunk_size (bytes) of kiln's containers.conf ($KILN_CONTAINERS_CONF,
 * else /etc/kiln/containers.conf), for proxies that cap request bodies;
 * 0 when unset or invalid. */
static int64_t conf_chunk_size(void)
{
	const char *path = getenv("KILN_CONTAINERS_CONF");
	_cleanup_free_ char *data = NULL;
	_cleanup_json_ json_t *j = NULL;
	json_t *v;
	size_t len;

	if (fs_read_file(path ? path : "/etc/kiln/containers.conf", 1024 * 1024, &data, &len,
			 NULL) < 0 ||
	    toml_parse(data, len, &j, NULL) < 0)
		return 0;
	v = json_object_get(json_object_get(j, "engine"), "chunk_size");
	return json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : 0;
}

static int upload(struct pusher *p, struct push_blob *b, struct kerror *e)
{
	_cleanup_free_ char *post = xasprintf("/v2/%s/blobs/uploads/", p->repo);
	_cleanup_free_ char *loc = NULL, *put = NULL;
	_cleanup_close_ int fd = open(b->path, O_RDONLY | O_CLOEXEC);
	int64_t chunk = p->o->chunk_size > 0 ? p->o->chunk_size : p->conf_chunk;
	struct http_resp resp = { 0 };
	int r;

	if (fd < 0)
		return kerror_sys(e, errno, "opening blob %s", b->digest);
	/* Cross-repository mount from where the image came from. */
	for (size_t i = 0; p->mount_from && p->mount_from[i] && !b->is_config; i++) {
		_cleanup_free_ char *url = xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s",
						     p->repo, b->digest, p->mount_from[i]);
		_cleanup_free_ char *scope = xasprintf("%s repository:%s:pull", p->scope,
						       p->mount_from[i]);
		struct http_req rq = HTTP_REQ_INIT;
		r = simple(p, "POST", url, scope, &rq, &resp, e);
		if (r < 0)
			return r;
		if (resp.status == 201) {
			http_resp_release(&resp);
			return 1;
		}
		if (resp.status == 202 && resp.location) {
			/* Not mounted, but an upload session is open: use it. */
			loc = location_of(p, &resp, e);
			http_resp_release(&resp);
			break;
		}
		http_resp_release(&resp);
	}
	if (!loc) {
		struct http_req rq = HTTP_REQ_INIT;
		r = simple(p, "POST", post, NULL, &rq, &resp, e);
		if (r < 0)
			return r;
		if (resp.status != 202) {
			_cleanup_free_ char *what = xasprintf("starting the upload of blob %s",
							      b->digest);
			r = http_error(&resp, what, e);
			http_resp_release(&resp);
			return r;
		}
		loc = location_of(p, &resp, e);
		http_resp_release(&resp);
		if (!loc)
			return -EPROTO;
	}
	if (b->size > chunk) {
		for (int64_t off = 0; off < b->size; off += chunk) {
			int64_t n = b->size - off < chunk ? b->size - off : chunk;
			char range[64];
			struct http_req rq = HTTP_REQ_INIT;
			snprintf(range, sizeof(range), "%" PRId64 "-%" PRId64, off, off + n - 1);
			rq.content_type = "application/octet-stream";
			rq.content_range = range;
			rq.body_fd = fd;
			rq.body_off = off;
			rq.body_fd_len = n;
			body_progress(p, b, &rq, off);
			r = simple(p, "PATCH", loc, NULL, &rq, &resp, e);
			if (r < 0)
				return r;
			if (resp.status != 202) {
				_cleanup_free_ char *what = xasprintf("uploading blob %s", b->digest);
				r = http_error(&resp, what, e);
				http_resp_release(&resp);
				return r;
			}
			free(loc);
			loc = location_of(p, &resp, e);
			http_resp_release(&resp);
			if (!loc)
				return -EPROTO;
		}
		put = with_digest(loc, b->digest);
		struct http_req rq = HTTP_REQ_INIT;
		rq.content_type = "application/octet-stream";
		r = simple(p, "PUT", put, NULL, &rq, &resp, e);
	} else {
		struct http_req rq = HTTP_REQ_INIT;
		put = with_digest(loc, b->digest);
		rq.content_type = "application/octet-stream";
		rq.body_fd = fd;
		rq.body_off = 0;
		rq.body_fd_len = b->size;
		body_progress(p, b, &rq, 0);
		r = simple(p, "PUT", put, NULL, &rq, &resp, e);
	}
	if (r < 0)
		return r;
	if (resp.status != 201) {
		_cleanup_free_ char *what = xasprintf("uploading blob %s", b->digest);
		r = http_error(&resp, what, e);
	}
	http_resp_release(&resp);
	return r;
}

static int push_one(struct pusher *p, struct push_blob *b, struct kerror *e)
{
	_cleanup_free_ char *head = NULL;
	struct http_req rq = HTTP_REQ_INIT;
	struct http_resp resp;
	int r;

	if (b->foreign) {
		say(p, "Skipping foreign blob %s", b->digest);
		return 0;
	}
	if (b->recompress != COMPRESSION_UNKNOWN) {
		_cleanup_free_ char *path = xasprintf("%s/%s.%s", p->t.path, b->layer_id,
						      b->recompress == COMPRESSION_GZIP ? "gz" : "zst");
		r = compress_layer(p->s, b->layer_id, b->recompress, p->o->compression_level, path,
				   b->digest, &b->size, e);
		if (r < 0)
			return r;
		b->path = steal_pointer(&path);
	}
	head = xasprintf("/v2/%s/blobs/%s", p->repo, b->digest);
	r = simple(p, "HEAD", head, NULL, &rq, &resp, e);
	if (r < 0)
		return r;
	if (resp.status == 200) {
		http_resp_release(&resp);
		say(p, "Copying %s %s skipped: already exists", b->is_config ? "config" : "blob",
		    b->digest);
		return 0;
	}
	http_resp_release(&resp);
	say(p, "Copying %s %s", b->is_config ? "config" : "blob", b->digest);
	r = upload(p, b, e);
	return r < 0 ? r : 0;
}

int push_blob_file(struct reg_client *c, const struct push_opts *o, const char *repo,
		   const char *scope, char **mount_from, const char *path, const char *digest,
		   int64_t size, bool is_config, struct kerror *e)
{
	struct pusher p = { .o = o, .c = c, .repo = repo, .scope = (char *)scope,
			    .mount_from = mount_from };
	struct push_blob b = { .size = size, .is_config = is_config,
			       .recompress = COMPRESSION_UNKNOWN };
	int r;

	snprintf(b.digest, sizeof(b.digest), "%s", digest);
	b.path = xstrdup(path);
	p.conf_chunk = o->chunk_size > 0 ? 0 : conf_chunk_size();
	if (p.conf_chunk <= 0)
		p.conf_chunk = DEFAULT_CHUNK;
	pthread_mutex_init(&p.lock, NULL);
	r = push_one(&p, &b, e);
	pthread_mutex_destroy(&p.lock);
	free(b.path);
	return r;
}

static void *worker(void *arg)
{
	struct pusher *p = arg;
	for (;;) {
		struct push_blob *b;
		pthread_mutex_lock(&p->lock);
		b = p->next < p->n_blobs ? &p->blobs[p->next++] : NULL;
		pthread_mutex_unlock(&p->lock);
		if (!b)
			return NULL;
		b->result = push_one(p, b, &b->err);
		if (b->result < 0) {
			/* Nothing new starts after a failure. */
			pthread_mutex_lock(&p->lock);
			p->next = p->n_blobs;
			pthread_mutex_unlock(&p->lock);
		}
	}
}

static const char *layer_type(enum push_format f, enum layer_compression c)
{
	if (f == PUSH_FORMAT_V2S2)
		return c == COMPRESSION_GZIP ? MT_DOCKER_LAYER_GZIP : MT_DOCKER_LAYER;
	return c == COMPRESSION_GZIP ? MT_OCI_LAYER_GZIP
	       : c == COMPRESSION_ZSTD ? MT_OCI_LAYER_ZSTD
				       : MT_OCI_LAYER;
}

/* Foreign (Docker) and non-distributable (OCI) layers: their blobs live
 * elsewhere (urls) and are not pushed; the descriptor is kept, in the
 * media type of the format pushed. */
static bool is_foreign(const char *mt)
{
	return mt && (strstr(mt, ".foreign.") || strstr(mt, ".nondistributable."));
}

static const char *foreign_type(enum push_format f, const char *mt)
{
	enum layer_compression c = layer_media_compression(mt);
	if (f == PUSH_FORMAT_V2S2)
		return MT_DOCKER_LAYER_FOREIGN;
	return c == COMPRESSION_ZSTD ? "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
	       : c == COMPRESSION_NONE ? "application/vnd.oci.image.layer.nondistributable.v1.tar"
				       : "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
}

/* annotations: the stored manifest's (kiln build --annotation), kept in an
 * OCI manifest; NULL for none. */
static char *build_manifest(enum push_format f, const struct push_blob *blobs, size_t n,
			    const struct push_blob *cfg, json_t *annotations)
{
	json_t *layers = json_array();
	json_t *m;
	char *out;
	for (size_t i = 0; i < n; i++) {
		json_t *d = json_pack("{s:s, s:I, s:s}", "mediaType", blobs[i].media_type, "size",
				      (json_int_t)blobs[i].size, "digest", blobs[i].digest);
		if (blobs[i].urls && blobs[i].urls[0]) {
			json_t *u = json_array();
			for (size_t k = 0; blobs[i].urls[k]; k++)
				json_array_append_new(u, json_string(blobs[i].urls[k]));
			json_object_set_new(d, "urls", u);
		}
		json_array_append_new(layers, d);
	}
	m = json_pack("{s:i, s:s, s:{s:s, s:I, s:s}, s:o}", "schemaVersion", 2, "mediaType",
		      f == PUSH_FORMAT_V2S2 ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST, "config",
		      "mediaType", f == PUSH_FORMAT_V2S2 ? MT_DOCKER_CONFIG : MT_OCI_CONFIG, "size",
		      (json_int_t)cfg->size, "digest", cfg->digest, "layers", layers);
	if (f != PUSH_FORMAT_V2S2 && annotations && json_object_size(annotations))
		json_object_set(m, "annotations", annotations);
	out = json_dump_compact(m);
	json_decref(m);
	return out;
}

static int put_manifest(struct pusher *p, const char *reference, const char *mt,
			const char *data, size_t len, struct kerror *e)
{
	_cleanup_free_ char *url = xasprintf("/v2/%s/manifests/%s", p->repo, reference);
	struct http_req rq = HTTP_REQ_INIT;
	struct http_resp resp;
	int r;

	rq.content_type = mt;
	rq.body = data;
	rq.body_len = len;
	r = simple(p, "PUT", url, NULL, &rq, &resp, e);
	if (r < 0)
		return r;
	if (resp.status != 201)
		r = http_error(&resp, "writing the manifest", e);
	http_resp_release(&resp);
	return r;
}

int registry_push(struct store *s, const char *image, const char *dest,
		  const struct push_opts *o, char digest[DIGEST_STR_LEN + 1], struct kerror *e)
{
	_cleanup_image_info_ struct image_info *info = NULL;
	_cleanup_ref_ struct image_ref *ref = NULL;
	_cleanup_client_ struct reg_client *c = NULL;
	_cleanup_manifest_ struct manifest *stored = NULL;
	_cleanup_free_ char *cdata = NULL, *mdata = NULL, *key = NULL, *manifest = NULL;
	struct registries_conf conf = { 0 };
	const struct reg_entry *ent;
	struct pusher p = { .s = s, .o = o };
	struct push_blob *blobs = NULL;
	struct store_sig *sigs = NULL;
	size_t clen = 0, mlen = 0, n = 0, nsigs = 0;
	bool same;
	enum push_format fmt = o->format;
	enum layer_compression want = o->compression;
	char cfg_digest[DIGEST_STR_LEN + 1];
	pthread_t th[8];
	int nth, r;

	pthread_mutex_init(&p.lock, NULL);
	r = store_image_lookup(s, image, &info, e);
	if (r < 0)
		return r;
	if (!dest)
		dest = image;
	if (str_has_prefix(dest, "docker://"))
		dest += 9;
	r = ref_parse(dest, &ref, e);
	if (r < 0)
		return r;
	snprintf(cfg_digest, sizeof(cfg_digest), "sha256:%s", info->id);
	r = store_blob_get(s, cfg_digest, 64 * 1024 * 1024, &cdata, &clen, e);
	if (r < 0)
		return r;
	if (info->manifest_digest &&
	    store_blob_get(s, info->manifest_digest, MAX_MANIFEST, &mdata, &mlen, NULL) == 0)
		manifest_parse(mdata, mlen, &stored, NULL);
	if (fmt == PUSH_FORMAT_DEFAULT)
		fmt = stored && stored->kind == MANIFEST_DOCKER_V2S2 ? PUSH_FORMAT_V2S2
								      : PUSH_FORMAT_OCI;
	if (want == COMPRESSION_UNKNOWN)
		want = COMPRESSION_GZIP;
	if (fmt == PUSH_FORMAT_V2S2 && want == COMPRESSION_ZSTD)
		return kerror_set(e, EINVAL, "zstd layers need the OCI format (--format oci): "
					     "Docker v2s2 manifests cannot describe them");

	n = strv_len(info->layers);
	blobs = xcalloc(n + 1, sizeof(*blobs));
	for (size_t i = 0; i < n; i++) {
		struct layer_info li = { 0 };
		struct push_blob *b = &blobs[i];
		enum layer_compression have;
		r = store_layer_get(s, info->layers[i], &li, e);
		if (r < 0)
			goto out;
		have = li.blob_media_type ? layer_media_compression(li.blob_media_type)
					  : COMPRESSION_UNKNOWN;
		b->layer_id = info->layers[i];
		/* A zstd layer the image was pulled with stays zstd when no
		 * compression was asked for (an OCI push, as skopeo copy). */
		bool keep = li.blob_digest && have == COMPRESSION_ZSTD &&
			    o->compression == COMPRESSION_UNKNOWN && fmt == PUSH_FORMAT_OCI && stored &&
			    i < stored->n_layers && !strcmp(stored->layers[i].digest, li.blob_digest);
		if (li.blob_digest && (have == want || keep) && !o->force_compression) {
			snprintf(b->digest, sizeof(b->digest), "%s", li.blob_digest);
			b->size = li.blob_size;
			b->path = store_blob_path(s, li.blob_digest);
			b->recompress = COMPRESSION_UNKNOWN;
		} else {
			b->recompress = want;
		}
		b->media_type = layer_type(fmt, keep ? have : want);
		layer_info_release(&li);
	}
	/* Foreign layers of the image's manifest keep their blob and urls. */
	for (size_t i = 0; stored && stored->n_layers == n && i < n; i++) {
		const struct descriptor *d = &stored->layers[i];
		if (!is_foreign(d->media_type))
			continue;
		if (fmt == PUSH_FORMAT_V2S2 && layer_media_compression(d->media_type) != COMPRESSION_GZIP) {
			r = kerror_set(e, EINVAL, "foreign layer %s is not gzip: Docker v2s2 cannot "
						  "describe it", d->digest);
			goto out;
		}
		blobs[i].foreign = true;
		blobs[i].recompress = COMPRESSION_UNKNOWN;
		snprintf(blobs[i].digest, sizeof(blobs[i].digest), "%s", d->digest);
		blobs[i].size = d->size;
		blobs[i].media_type = foreign_type(fmt, d->media_type);
		blobs[i].urls = d->urls;
	}
	/* The config goes last in the array, after the layers. */
	blobs[n].is_config = true;
	snprintf(blobs[n].digest, sizeof(blobs[n].digest), "%s", cfg_digest);
	blobs[n].size = (int64_t)clen;
	blobs[n].path = store_blob_path(s, cfg_digest);
	blobs[n].recompress = COMPRESSION_UNKNOWN;
	/* The image's own manifest is pushed byte for byte when nothing
	 * changes (same format, same blobs). */
	same = stored && stored->n_layers == n &&
	       stored->kind == (fmt == PUSH_FORMAT_V2S2 ? MANIFEST_DOCKER_V2S2 : MANIFEST_OCI) &&
	       !strcmp(stored->config.digest, cfg_digest);
	for (size_t i = 0; same && i < n; i++)
		same = blobs[i].recompress == COMPRESSION_UNKNOWN &&
		       !strcmp(stored->layers[i].digest, blobs[i].digest);
	/* Signatures kept from the pull go along, and only with the very
	 * manifest they sign (as podman: "would invalidate signatures"). */
	if (!o->remove_signatures && info->manifest_digest) {
		r = store_signatures_get(s, info->id, info->manifest_digest, &sigs, &nsigs, e);
		if (r < 0)
			goto out;
		if (nsigs && !same) {
			r = kerror_set(e, EINVAL, "the image has %zu signature%s of manifest %s, which "
						  "this push would change (format or compression): "
						  "that would invalidate them; use --remove-signatures",
				       nsigs, nsigs == 1 ? "" : "s", info->manifest_digest);
			goto out;
		}
	}

	if (registries_conf_load(o->reg.registries_conf, &conf, e) < 0)
		goto fail;
	{
		_cleanup_free_ char *full = ref_name(ref);
		ent = registries_find(&conf, full);
		if (ent && ent->blocked) {
			r = kerror_set(e, EACCES, "registry %s is blocked in registries.conf",
				       ent->prefix);
			registries_conf_release(&conf);
			goto out;
		}
		r = client_new(&o->reg, ref->domain, ent && ent->insecure, &c, e);
	}
	registries_conf_release(&conf);
	if (r < 0)
		goto out;
	key = xasprintf("%s/%s", ref->domain, ref->path);
	r = client_load_creds(c, o->reg.authfile, key, e);
	if (r < 0)
		goto out;
	p.c = c;
	p.repo = ref->path;
	p.scope = xasprintf("repository:%s:pull,push", ref->path);
	/* Repositories of the same registry the image is known in. */
	for (size_t i = 0; info->digests && info->digests[i]; i++) {
		_cleanup_ref_ struct image_ref *rr = NULL;
		if (ref_parse(info->digests[i], &rr, NULL) == 0 &&
		    !strcmp(rr->domain, ref->domain) && strcmp(rr->path, ref->path))
			strv_push(&p.mount_from, xstrdup(rr->path));
	}
	r = store_tmp_create(s, &p.t, e);
	if (r < 0)
		goto out;
	p.conf_chunk = o->chunk_size > 0 ? 0 : conf_chunk_size();
	if (p.conf_chunk <= 0)
		p.conf_chunk = DEFAULT_CHUNK;
	say(&p, "Getting image source signatures");
	p.blobs = blobs;
	p.n_blobs = n + 1;
	nth = o->parallel > 0 ? o->parallel : 4;
	if (nth > (int)ARRAY_SIZE(th))
		nth = ARRAY_SIZE(th);
	/* The config is pushed after the layers: workers take blobs in order,
	 * so it starts last; wait for all before the manifest. */
	for (int i = 0; i < nth; i++)
		if (pthread_create(&th[i], NULL, worker, &p) != 0)
			abort();
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	for (size_t i = 0; i <= n; i++)
		if (blobs[i].result < 0) {
			r = blobs[i].result;
			e->code = blobs[i].err.code;
			free(e->msg);
			e->msg = steal_pointer(&blobs[i].err.msg);
			goto out;
		}
	say(&p, "Writing manifest to image destination");
	{
		const char *mt = fmt == PUSH_FORMAT_V2S2 ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST;
		if (same) {
			manifest = xstrndup(mdata, mlen);
			mt = stored->media_type ? stored->media_type : mt;
		} else {
			manifest = build_manifest(fmt, blobs, n, &blobs[n],
						  stored ? stored->annotations : NULL);
			mlen = strlen(manifest);
		}
		digest_bytes(manifest, mlen, digest);
		r = put_manifest(&p, o->by_digest ? digest : ref->digest ? ref->digest
						 : ref->tag ? ref->tag : "latest", mt, manifest, mlen, e);
		if (r == 0 && ref->digest && strcmp(ref->digest, digest) != 0)
			r = kerror_set(e, EINVAL, "the manifest pushed has digest %s, not %s",
				       digest, ref->digest);
	}
	if (r == 0 && nsigs) {
		say(&p, "Copying %zu signature%s", nsigs, nsigs == 1 ? "" : "s");
		r = push_kept_signatures(o, c, ref->path, p.scope, ref, digest, sigs, nsigs, e);
	}
	if (r == 0 && (o->sign_by || o->sign_by_sigstore_key)) {
		say(&p, "Creating signature");
		r = push_signatures(o, c, ref->path, p.scope, ref, digest, e);
	}
	if (r == 0) {
		_cleanup_free_ char *name = ref_name(ref);
		_cleanup_free_ char *rd = xasprintf("%s@%s", name, digest);
		store_image_add_repo_digest(s, info->id, rd, NULL);
		say(&p, "Storing signatures");
	}
	goto out;
fail:
	r = -EINVAL;
out:
	for (size_t i = 0; blobs && i <= n; i++) {
		free(blobs[i].path);
		kerror_release(&blobs[i].err);
	}
	free(blobs);
	store_sigs_free(sigs, nsigs);
	free(p.scope);
	strv_free(p.mount_from);
	if (p.t.path)
		store_tmp_release(&p.t);
	pthread_mutex_destroy(&p.lock);
	if (r < 0)
		return kerror_wrap(e, "pushing \"%s\"", dest);
	return r;
}
