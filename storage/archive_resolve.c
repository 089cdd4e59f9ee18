/* kiln load, second half: the entries read from the archive become images.
 * docker-archive (manifest.json array; classic and >= 25 layouts), OCI
 * layout (index.json, nested indexes by host platform) and docker-dir
 * (manifest.json object).  Everything is checked before the first commit:
 * a corrupt layer in the last image stores nothing at all. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/archive_load.h"

#define ANN_CONTAINERD_NAME "io.containerd.image.name"
#define ANN_REF_NAME "org.opencontainers.image.ref.name"
#define INDEX_DEPTH_MAX 2

struct image_plan {
	struct load_entry *config;
	struct load_entry **layers;
	size_t n_layers;
	char **names;
	char **refs; /* bare ref.name annotations (a tag, as skopeo writes) */
};

struct plans {
	struct image_plan *v;
	size_t n;
	char **cur_refs; /* the refs of the index descriptor being resolved */
};

static void plans_release(struct plans *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].layers);
		strv_free(p->v[i].names);
		strv_free(p->v[i].refs);
	}
	free(p->v);
}

/* Adds an image (or more names to one already planned). */
static void plans_add(struct plans *p, struct load_entry *config, struct load_entry **layers,
		      size_t n_layers, char **names)
{
	struct image_plan *ip = NULL;

	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].config->digest, config->digest) == 0)
			ip = &p->v[i];
	if (ip) {
		free(layers);
	} else {
		p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
		ip = &p->v[p->n++];
		*ip = (struct image_plan){ config, layers, n_layers, NULL, NULL };
	}
	for (size_t i = 0; p->cur_refs && p->cur_refs[i]; i++)
		strv_push(&ip->refs, xstrdup(p->cur_refs[i]));
	for (size_t i = 0; names && names[i]; i++) {
		bool have = false;
		for (size_t k = 0; ip->names && ip->names[k]; k++)
			have = have || strcmp(ip->names[k], names[i]) == 0;
		if (!have)
			strv_push(&ip->names, xstrdup(names[i]));
	}
}

/* busybox:latest → docker.io/library/busybox:latest */
static int normalise_name(const char *s, char **out, struct kerror *e)
{
	_cleanup_ref_ struct image_ref *ref = NULL;
	int r = ref_parse(s, &ref, e);
	if (r < 0)
		return kerror_wrap(e, "image name \"%s\"", s);
	if (ref->digest)
		return kerror_set(e, EINVAL, "image name \"%s\": a tag cannot contain a digest", s);
	if (!ref->tag)
		ref->tag = xstrdup(REF_DEFAULT_TAG);
	*out = ref_string(ref);
	return 0;
}

static int meta_entry(struct load_entry *ent, const char *what, const char *ref,
		      struct kerror *e)
{
	if (!ent)
		return kerror_set(e, ENOENT, "%s \"%s\" is missing from the archive", what, ref);
	if (ent->kind != ENTRY_META)
		return kerror_set(e, EINVAL, "%s \"%s\" is not a JSON document of at most %d bytes",
				  what, ref, ARCHIVE_META_MAX);
	return 0;
}

/* ---- docker-archive: manifest.json ---------------------------------------- */

static int resolve_docker(struct load_ctx *c, json_t *arr, struct plans *p, struct kerror *e)
{
	size_t i;
	json_t *item;

	json_array_foreach(arr, i, item)
	{
		const char *cfg = json_str(item, "Config");
		json_t *layers = json_object_get(item, "Layers");
		json_t *tags = json_object_get(item, "RepoTags");
		struct load_entry *config, **ls;
		_cleanup_strv_ char **names = NULL;
		size_t k, n;
		json_t *v;
		int r;

		if (!json_is_object(item) || !cfg || !json_is_array(layers) ||
		    (tags && !json_is_null(tags) && !json_is_array(tags)))
			return kerror_set(e, EINVAL, "manifest.json: entry %zu is malformed", i);
		config = load_find(c, cfg);
		r = meta_entry(config, "config", cfg, e);
		if (r < 0)
			return r;
		json_array_foreach(tags, k, v)
		{
			char *name;
			if (!json_is_string(v))
				return kerror_set(e, EINVAL, "manifest.json: entry %zu: a RepoTag "
							     "is not a string", i);
			r = normalise_name(json_string_value(v), &name, e);
			if (r < 0)
				return r;
			strv_push(&names, name);
		}
		n = json_array_size(layers);
		ls = xcalloc(n ? n : 1, sizeof(*ls));
		json_array_foreach(layers, k, v)
		{
			const char *path = json_string_value(v);
			ls[k] = path ? load_find(c, path) : NULL;
			if (!ls[k]) {
				free(ls);
				return kerror_set(e, ENOENT, "layer \"%s\" is missing from the archive",
						  path ? path : "(not a string)");
			}
		}
		plans_add(p, config, ls, n, names);
	}
	return 0;
}

/* ---- OCI layout: index.json, manifests ----------------------------------- */

/* A blob named by a descriptor, with its digest and size checked. */
static int desc_blob(struct load_ctx *c, const struct descriptor *d, const char *what,
		     bool meta, struct load_entry **out, struct kerror *e)
{
	struct load_entry *ent = load_find_blob(c, d->digest);
	int r;

	if (!digest_is_sha256(d->digest))
		return kerror_set(e, ENOTSUP, "%s %s: unsupported digest algorithm", what, d->digest);
	if (meta) {
		r = meta_entry(ent, what, d->digest, e);
		if (r < 0)
			return r;
	} else if (!ent) {
		return kerror_set(e, ENOENT, "%s %s is missing from the archive", what, d->digest);
	}
	if (strcmp(ent->digest, d->digest) != 0)
		return kerror_set(e, EBADMSG, "%s %s: content hashes to %s", what, d->digest,
				  ent->digest);
	if (ent->size != d->size)
		return kerror_set(e, EBADMSG, "%s %s: %lld bytes, the descriptor says %lld", what,
				  d->digest, (long long)ent->size, (long long)d->size);
	*out = ent;
	return 0;
}

static int resolve_manifest_bytes(struct load_ctx *c, const char *data, size_t len,
				  char **names, struct plans *p, struct kerror *e)
{
	_cleanup_manifest_ struct manifest *m = NULL;
	struct load_entry *config, **ls;
	int r = manifest_parse(data, len, &m, e);

	if (r < 0)
		return kerror_wrap(e, "image manifest");
	r = desc_blob(c, &m->config, "config", true, &config, e);
	if (r < 0)
		return r;
	ls = xcalloc(m->n_layers ? m->n_layers : 1, sizeof(*ls));
	for (size_t i = 0; i < m->n_layers; i++) {
		r = desc_blob(c, &m->layers[i], "layer", false, &ls[i], e);
		if (r < 0) {
			free(ls);
			return r;
		}
	}
	plans_add(p, config, ls, m->n_layers, names);
	return 0;
}

/* The name an index descriptor gives: containerd's annotation (a full
 * name), else ref.name when it is a name and not only a tag. */
static int desc_names(const struct descriptor *d, char ***names, char ***refs,
		      struct kerror *e)
{
	const char *full = json_str(d->annotations, ANN_CONTAINERD_NAME);
	const char *ref = json_str(d->annotations, ANN_REF_NAME);
	char *name;
	int r;

	if (ref && !strchr(ref, '/') && !strchr(ref, ':') && strlen(ref) <= 255)
		strv_push(refs, xstrdup(ref));
	if (!full && ref && (strchr(ref, '/') || strchr(ref, ':')))
		full = ref;
	if (!full)
		return 0;
	r = normalise_name(full, &name, e);
	if (r < 0)
		return r;
	strv_push(names, name);
	return 0;
}

static int resolve_index(struct load_ctx *c, const char *data, size_t len, int depth,
			 char **names, struct plans *p, struct kerror *e);

static int resolve_desc(struct load_ctx *c, const struct descriptor *d, int depth,
			char **inherited, struct plans *p, struct kerror *e)
{
	_cleanup_strv_ char **names = NULL, **refs = NULL;
	struct load_entry *ent;
	int r;

	r = desc_names(d, &names, &refs, e);
	for (size_t i = 0; r == 0 && inherited && inherited[i]; i++)
		strv_push(&names, xstrdup(inherited[i]));
	if (r < 0)
		return r;
	if (!d->media_type || !strcmp(d->media_type, MT_OCI_MANIFEST) ||
	    !strcmp(d->media_type, MT_DOCKER_MANIFEST)) {
		r = desc_blob(c, d, "manifest", true, &ent, e);
		if (r < 0)
			return r;
		p->cur_refs = refs;
		r = resolve_manifest_bytes(c, ent->data, ent->len, names, p, e);
		p->cur_refs = NULL;
		return r;
	}
	if (!strcmp(d->media_type, MT_OCI_INDEX) || !strcmp(d->media_type, MT_DOCKER_LIST)) {
		if (depth >= INDEX_DEPTH_MAX)
			return kerror_set(e, ELOOP, "index %s: indexes nested too deeply", d->digest);
		r = desc_blob(c, d, "index", true, &ent, e);
		return r < 0 ? r : resolve_index(c, ent->data, ent->len, depth + 1, names, p, e);
	}
	log_debug("skipping %s of type %s", d->digest, d->media_type);
	return 0;
}

static int resolve_index(struct load_ctx *c, const char *data, size_t len, int depth,
			 char **names, struct plans *p, struct kerror *e)
{
	_cleanup_index_ struct manifest_index *x = NULL;
	const struct descriptor *d = NULL;
	int r = index_parse(data, len, &x, e);

	if (r < 0)
		return kerror_wrap(e, "index.json");
	if (depth == 0) {
		for (size_t i = 0; i < x->n_manifests; i++) {
			r = resolve_desc(c, &x->manifests[i], depth, NULL, p, e);
			if (r < 0)
				return r;
		}
		return 0;
	}
	/* A nested index is a multi-platform image: the host's entry. */
	r = index_pick_platform(x, NULL, &d, e);
	return r < 0 ? r : resolve_desc(c, d, depth, names, p, e);
}

/* ---- checks and commits ------------------------------------------------ */

static int verify_plan(struct load_ctx *c, struct image_plan *ip, struct kerror *e)
{
	_cleanup_config_ struct image_config *cfg = NULL;
	_cleanup_strv_ char **diff_ids = NULL;
	const char *id = digest_hex(ip->config->digest);
	int r = config_parse(ip->config->data, ip->config->len, &cfg, e);

	if (r < 0)
		return kerror_wrap(e, "image %.12s: config", id);
	diff_ids = config_diff_ids(cfg);
	if (strv_len(diff_ids) != ip->n_layers)
		return kerror_set(e, EBADMSG, "image %.12s: the config lists %zu layers, the archive "
					      "%zu",
				  id, strv_len(diff_ids), ip->n_layers);
	for (size_t i = 0; i < ip->n_layers; i++) {
		struct load_entry *l = ip->layers[i];
		r = load_stage_entry(c, l, e);
		if (r < 0)
			return kerror_wrap(e, "image %.12s", id);
		if (strcmp(l->layer.diff_id, diff_ids[i]) != 0)
			return kerror_set(e, EBADMSG,
					  "image %.12s: layer %zu (\"%s\") hashes to %s, the config "
					  "says %s: the archive is corrupt",
					  id, i, l->name, l->layer.diff_id, diff_ids[i]);
	}
	return 0;
}

static int commit_plan(struct load_ctx *c, struct image_plan *ip, struct loaded_image *out,
		       struct kerror *e)
{
	_cleanup_free_ struct staged_layer *ls = xcalloc(ip->n_layers + 1, sizeof(*ls));
	struct image_commit ic = {
		.config = ip->config->data,
		.config_len = ip->config->len,
		.layers = ls,
		.n_layers = ip->n_layers,
		.names = ip->names,
	};
	int r;

	for (size_t i = 0; i < ip->n_layers; i++) {
		struct load_entry *l = ip->layers[i];
		ls[i] = l->layer; /* shallow: the entry keeps ownership */
		digest_chain(i ? ls[i - 1].chain_id : NULL, ls[i].diff_id, ls[i].chain_id);
		if (l->committed_chain && strcmp(l->committed_chain, ls[i].chain_id) != 0 &&
		    !fs_exists(l->layer.dir))
			return kerror_set(e, ENOTSUP,
					  "layer %s is used on two different parents in this "
					  "archive: not supported",
					  ls[i].diff_id);
	}
	r = store_image_commit(c->s, &ic, out->id, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ip->n_layers; i++) {
		free(ip->layers[i]->committed_chain);
		ip->layers[i]->committed_chain = xstrdup(ls[i].chain_id);
	}
	for (size_t i = 0; ip->names && ip->names[i]; i++)
		strv_push(&out->names, xstrdup(ip->names[i]));
	for (size_t i = 0; ip->refs && ip->refs[i]; i++)
		strv_push(&out->refs, xstrdup(ip->refs[i]));
	return 0;
}

static int resolve(struct load_ctx *c, struct plans *p, struct kerror *e)
{
	struct load_entry *mj = load_find(c, "manifest.json");
	struct load_entry *ij = load_find(c, "index.json");
	_cleanup_json_ json_t *docker = NULL;
	int r;

	if (mj) {
		r = meta_entry(mj, "file", "manifest.json", e);
		if (r == 0)
			r = json_parse(mj->data, mj->len, &docker, e);
		if (r < 0)
			return kerror_wrap(e, "manifest.json");
		if (json_is_array(docker))
			return resolve_docker(c, docker, p, e);
	}
	if (ij) {
		r = meta_entry(ij, "file", "index.json", e);
		return r < 0 ? r : resolve_index(c, ij->data, ij->len, 0, NULL, p, e);
	}
	if (json_is_object(docker)) /* docker-dir: a registry manifest */
		return resolve_manifest_bytes(c, mj->data, mj->len, NULL, p, e);
	return kerror_set(e, EINVAL, "neither manifest.json nor index.json found: not a "
				     "docker-archive nor an OCI layout");
}

int archive_resolve_and_commit(struct load_ctx *c, struct loaded_image **out, size_t *n,
			       struct kerror *e)
{
	struct plans p = { 0 };
	struct loaded_image *res = NULL;
	size_t done = 0;
	int r = resolve(c, &p, e);

	if (r == 0 && p.n == 0)
		r = kerror_set(e, ENOENT, "the archive holds no image");
	for (size_t i = 0; r == 0 && i < p.n; i++)
		r = verify_plan(c, &p.v[i], e);
	if (r == 0 && c->check)
		r = c->check(c->check_ctx, load_find(c, "manifest.json") ? "docker-archive"
									 : "oci-archive", e);
	if (r == 0) {
		res = xcalloc(p.n, sizeof(*res));
		/* One transaction per image: a crash leaves each whole or absent. */
		for (; r == 0 && done < p.n; done++) {
			r = commit_plan(c, &p.v[done], &res[done], e);
			if (r < 0) {
				strv_free(steal_pointer(&res[done].names));
				strv_free(steal_pointer(&res[done].refs));
			}
		}
		if (r < 0)
			done--;
	}
	plans_release(&p);
	*out = res;
	*n = done;
	return r;
}
