/* kiln pull: short names → sources (mirrors, location) → manifest (an
 * index picks the platform) → config → the missing layers in parallel,
 * staged from the stream → one commit. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "registry/fetch.h"
#include "registry/signing.h"

#define ACCEPT_MANIFESTS                                                              \
	MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_MANIFEST \
		", " MT_DOCKER_SCHEMA1_SIGNED ";q=0.5, " MT_DOCKER_SCHEMA1 ";q=0.5"
#define MAX_CONFIG (32 * 1024 * 1024)

struct puller {
	struct store *s;
	const struct pull_opts *o;
	struct reg_client *c;
	char *repo;  /* path in the registry */
	char *scope;
	const struct sign_policy *pol;
	const struct image_ref *logical; /* the reference asked for (not a mirror's) */
};

void progress_say(registry_progress fn, void *ctx, const char *fmt, ...)
{
	va_list ap;
	char *line;
	if (!fn)
		return;
	va_start(ap, fmt);
	line = xvasprintf(fmt, ap);
	va_end(ap);
	fn(ctx, line);
	free(line);
}
#define say(o, ...) progress_say((o)->progress, (o)->progress_ctx, __VA_ARGS__)

/* GET a manifest by tag or digest: bounded, digest checked. */
static int get_manifest(struct puller *p, const char *reference, char **data, size_t *len,
			char **ctype, char digest[DIGEST_STR_LEN + 1], struct kerror *e)
{
	return client_get_manifest(p->c, p->repo, p->scope, ACCEPT_MANIFESTS, reference, data, len,
				   ctype, digest, e);
}

static int get_config(struct puller *p, const struct descriptor *d, char **data, size_t *len,
		      struct kerror *e)
{
	if (d->size > MAX_CONFIG)
		return kerror_set(e, EFBIG, "config %s: %" PRId64 " bytes, too large", d->digest,
				  d->size);
	return client_get_blob(p->c, p->repo, p->scope, d, MAX_CONFIG, data, len, e);
}

static void job_started(void *ctx, struct fetch_job *j)
{
	say((const struct pull_opts *)ctx, "Copying blob %s", j->desc->digest);
}

/* Pulls one full reference from one source. */
static int pull_from(struct puller *p, const struct image_ref *src, const char *name,
		     char id[DIGEST_HEX_LEN + 1], struct kerror *e)
{
	_cleanup_free_ char *mdata = NULL, *ctype = NULL, *cdata = NULL, *index_digest = NULL;
	_cleanup_manifest_ struct manifest *m = NULL;
	_cleanup_config_ struct image_config *cfg = NULL;
	_cleanup_strv_ char **diff_ids = NULL;
	char digest[DIGEST_STR_LEN + 1];
	struct staged_layer *layers = NULL;
	struct fetch_job *jobs = NULL;
	struct store_sig *sigs = NULL;
	size_t mlen = 0, clen = 0, njobs = 0, nsigs = 0;
	struct store_tmp t = { 0 };
	enum manifest_kind kind;
	int r;

	r = get_manifest(p, src->digest ? src->digest : src->tag ? src->tag : REF_DEFAULT_TAG,
			 &mdata, &mlen, &ctype, digest, e);
	if (r < 0)
		return r;
	kind = manifest_detect(mdata, mlen, ctype);
	if (kind == MANIFEST_OCI_INDEX || kind == MANIFEST_DOCKER_LIST) {
		_cleanup_index_ struct manifest_index *x = NULL;
		const struct descriptor *d = NULL;
		r = index_parse(mdata, mlen, &x, e);
		if (r < 0)
			return kerror_wrap(e, "reading the manifest list %s", digest);
		r = index_pick_platform(x, p->o->platform, &d, e);
		if (r < 0)
			return r;
		index_digest = xstrdup(digest);
		_cleanup_free_ char *child = xstrdup(d->digest);
		free(mdata);
		free(ctype);
		mdata = ctype = NULL;
		r = get_manifest(p, child, &mdata, &mlen, &ctype, digest, e);
		if (r < 0)
			return r;
		if ((int64_t)mlen != d->size)
			return kerror_set(e, EBADMSG, "manifest %s: %zu bytes, the manifest list "
						      "says %lld", child, mlen, (long long)d->size);
		kind = manifest_detect(mdata, mlen, ctype);
		if (kind == MANIFEST_OCI_INDEX || kind == MANIFEST_DOCKER_LIST)
			return kerror_set(e, ENOTSUP, "manifest list %s names another manifest "
						      "list (%s): nested lists are not supported",
					  index_digest, child);
	}
	if (kind == MANIFEST_DOCKER_V2S1)
		return kerror_set(e, ENOTSUP, "manifest %s is Docker schema 1, which is unsupported "
					      "(it was deprecated in 2017: push the image again "
					      "with a current tool)", digest);
	if (kind != MANIFEST_OCI && kind != MANIFEST_DOCKER_V2S2)
		return kerror_set(e, ENOTSUP, "manifest %s: unsupported type %s", digest,
				  ctype ? ctype : "(none)");
	r = manifest_parse(mdata, mlen, &m, e);
	if (r < 0)
		return kerror_wrap(e, "reading manifest %s", digest);
	/* Every blob must be verifiable, even one a stored layer lets us skip:
	 * the manifest is kept and pushed again as it is. */
	for (size_t i = 0; i <= m->n_layers; i++) {
		const char *b = i < m->n_layers ? m->layers[i].digest : m->config.digest;
		if (!digest_is_sha256(b))
			return kerror_set(e, ENOTSUP, "manifest %s: blob %s: unsupported digest "
						      "algorithm (only sha256 can be verified)", digest, b);
	}
	say(p->o, "Getting image source signatures");
	/* The policy decides before anything is fetched or stored. */
	r = pull_policy_check(p->pol, p->o, p->c, p->repo, p->scope, p->logical, mdata, mlen,
			      digest, &sigs, &nsigs, e);
	if (r < 0)
		return r;
	r = get_config(p, &m->config, &cdata, &clen, e);
	if (r < 0)
		goto out;
	r = config_parse(cdata, clen, &cfg, e);
	if (r < 0) {
		kerror_wrap(e, "reading config %s", m->config.digest);
		goto out;
	}
	diff_ids = config_diff_ids(cfg);
	if (strv_len(diff_ids) != m->n_layers) {
		r = kerror_set(e, EBADMSG, "image %s: the manifest lists %zu layers, the config "
					   "%zu", digest, m->n_layers, strv_len(diff_ids));
		goto out;
	}

	layers = xcalloc(m->n_layers + 1, sizeof(*layers));
	jobs = xcalloc(m->n_layers + 1, sizeof(*jobs));
	for (size_t i = 0; i < m->n_layers; i++) {
		struct layer_info li = { 0 };
		struct kerror ignore = { 0 };
		snprintf(layers[i].diff_id, sizeof(layers[i].diff_id), "%s", diff_ids[i]);
		digest_chain(i ? layers[i - 1].chain_id : NULL, diff_ids[i], layers[i].chain_id);
		if (store_layer_get(p->s, digest_hex(layers[i].chain_id), &li, &ignore) == 0) {
			layers[i].size = li.size;
			layer_info_release(&li);
			say(p->o, "Copying blob %s skipped: already exists", m->layers[i].digest);
			continue;
		}
		kerror_release(&ignore);
		jobs[njobs].desc = &m->layers[i];
		jobs[njobs].parent_chain = i ? layers[i - 1].chain_id : NULL;
		njobs++;
	}
	r = store_tmp_create(p->s, &t, e);
	if (r < 0)
		goto out;
	r = fetch_layers(p->c, p->s, &t, p->repo, p->scope, jobs, njobs, p->o->parallel,
				  job_started, (void *)p->o, p->o->progress ? p->o->bytes : NULL,
				  p->o->progress_ctx, e);
	if (r < 0)
		goto out;
	/* Every staged layer must be the one the config names. */
	for (size_t i = 0, k = 0; i < m->n_layers; i++) {
		if (k < njobs && jobs[k].desc == &m->layers[i]) {
			if (strcmp(jobs[k].out.diff_id, diff_ids[i]) != 0) {
				r = kerror_set(e, EBADMSG, "blob %s: its content has DiffID %s, the "
							   "config says %s", m->layers[i].digest,
					       jobs[k].out.diff_id, diff_ids[i]);
				goto out;
			}
			layers[i] = jobs[k].out;
			memset(&jobs[k].out, 0, sizeof(jobs[k].out));
			k++;
		}
	}
	say(p->o, "Copying config %s", m->config.digest);
	say(p->o, "Writing manifest to image destination");
	{
		char *names[] = { (char *)name, NULL };
		struct image_commit ic = {
			.config = cdata,
			.config_len = clen,
			.manifest = mdata,
			.manifest_len = mlen,
			.layers = layers,
			.n_layers = m->n_layers,
			.names = name ? names : NULL,
		};
		r = store_image_commit(p->s, &ic, id, e);
	}
	if (r == 0) {
		_cleanup_free_ char *repo_name = ref_name(src);
		_cleanup_free_ char *rd = xasprintf("%s@%s", repo_name, digest);
		r = store_image_add_repo_digest(p->s, id, rd, e);
		if (r == 0 && index_digest) {
			_cleanup_free_ char *rd2 = xasprintf("%s@%s", repo_name, index_digest);
			r = store_image_add_repo_digest(p->s, id, rd2, e);
		}
	}
	if (r == 0) {
		say(p->o, "Storing signatures");
		r = store_signatures_add(p->s, id, digest, sigs, nsigs, e);
	}
out:
	store_sigs_free(sigs, nsigs);
	for (size_t i = 0; i < njobs; i++) {
		staged_layer_release(&jobs[i].out);
		kerror_release(&jobs[i].err);
	}
	for (size_t i = 0; layers && i < m->n_layers; i++)
		staged_layer_release(&layers[i]);
	free(layers);
	free(jobs);
	if (t.path)
		store_tmp_release(&t);
	return r;
}

static int pull_source(struct store *s, const struct pull_opts *o,
		       const struct sign_policy *pol, const struct image_ref *logical,
		       const char *srcref, bool insecure, const char *name,
		       char id[DIGEST_HEX_LEN + 1], struct kerror *e)
{
	_cleanup_ref_ struct image_ref *ref = NULL;
	_cleanup_client_ struct reg_client *c = NULL;
	_cleanup_free_ char *key = NULL, *scope = NULL;
	struct puller p = { .s = s, .o = o, .pol = pol, .logical = logical };
	int r;

	r = ref_parse(srcref, &ref, e);
	if (r < 0)
		return r;
	r = client_new(&o->reg, ref->domain, insecure, &c, e);
	if (r < 0)
		return r;
	key = xasprintf("%s/%s", ref->domain, ref->path);
	r = client_load_creds(c, o->reg.authfile, key, e);
	if (r < 0)
		return r;
	scope = xasprintf("repository:%s:pull", ref->path);
	p.c = c;
	p.repo = ref->path;
	p.scope = scope;
	r = pull_from(&p, ref, name, id, e);
	return r;
}

int registry_pull(struct store *s, const char *input, const struct pull_opts *o,
		  char id[DIGEST_HEX_LEN + 1], struct kerror *e)
{
	struct registries_conf conf = { 0 };
	_cleanup_sign_policy_ struct sign_policy *pol = NULL;
	_cleanup_strv_ char **cands = NULL;
	struct buf errs = { 0 };
	int r, last = 0;

	if (str_has_prefix(input, "docker://"))
		input += 9;
	r = pull_policy_load(o, &pol, e);
	if (r == 0)
		r = registries_conf_load(o->reg.registries_conf, &conf, e);
	if (r == 0)
		r = registries_resolve_short(&conf, input, &cands, e);
	for (size_t i = 0; r == 0 && cands[i]; i++) {
		_cleanup_ref_ struct image_ref *ref = NULL;
		struct pull_source *srcs = NULL;
		size_t n = 0;
		const char *name;

		say(o, "Trying to pull %s...", cands[i]);
		r = ref_parse(cands[i], &ref, e);
		if (r == 0)
			r = registries_pull_sources(&conf, cands[i], &srcs, &n, e);
		/* By digest: no name, only a repo digest (as Podman). */
		name = ref && ref->digest ? NULL : cands[i];
		for (size_t k = 0; r == 0 && k < n; k++) {
			r = pull_source(s, o, pol, ref, srcs[k].ref, srcs[k].insecure, name, id, e);
			if (r < 0 && k + 1 < n) {
				log_info("pulling from mirror %s: %s", srcs[k].ref, e->msg);
				kerror_release(e);
				r = 0;
				continue;
			}
			if (r == 0)
				break;
		}
		pull_sources_free(srcs, n);
		if (r == 0) {
			buf_release(&errs);
			registries_conf_release(&conf);
			return 0;
		}
		/* Not there (or not allowed): the next search registry. */
		if (cands[i + 1] && (r == -ENOENT || r == -EACCES || r == -EIO || r == -EPROTO)) {
			buf_printf(&errs, "%s%s", errs.len ? "; " : "", e->msg);
			last = r;
			kerror_release(e);
			r = 0;
		}
	}
	if (r < 0 && errs.len) {
		kerror_wrap(e, "%s", errs.data);
	}
	(void)last;
	buf_release(&errs);
	registries_conf_release(&conf);
	if (r < 0)
		return kerror_wrap(e, "pulling \"%s\"", input);
	return r;
}
