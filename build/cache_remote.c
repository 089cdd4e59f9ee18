/* --cache-from / --cache-to REPO: the build cache in a registry, as buildah
 * keeps it.  Each step that made a layer is pushed to REPO:<cache key> as an
 * image of its layer chain (a minimal config: the DiffIDs and the step's
 * created time); a local miss looks for REPO:<key> in each --cache-from
 * repository and takes it when its layers are this state's plus one.  The
 * key is content-based (parent state, instruction, args, file digests), so
 * a tag can only ever name a layer built from the same inputs. */
#include <errno.h>
#include <string.h>

#include "build/engine_state.h"
#include "registry/registry.h"

static void no_progress(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
}

int cache_remote_get(struct build *b, const struct bstate *s, const char *key,
		     struct build_cache_entry *hit)
{
	for (size_t r = 0; b->o->cache_from && b->o->cache_from[r]; r++) {
		_cleanup_free_ char *ref = xasprintf("%s:%s", b->o->cache_from[r], key);
		struct pull_opts po = { .reg = REGISTRY_OPTS_INIT };
		_cleanup_image_info_ struct image_info *info = NULL;
		struct layer_info li = { 0 };
		struct kerror e = { 0 };
		char id[DIGEST_HEX_LEN + 1];
		bool ok;

		if (b->o->pull_opts)
			po = *b->o->pull_opts;
		po.progress = no_progress;
		ok = registry_pull(b->s, ref, &po, id, &e) == 0 &&
		     store_image_lookup(b->s, id, &info, &e) == 0 &&
		     strv_len(info->layers) == s->n + 1;
		for (size_t i = 0; ok && i < s->n; i++)
			ok = !strcmp(info->layers[i], digest_hex(s->layers[i]->chain_id));
		if (ok)
			ok = store_layer_get(b->s, info->layers[s->n], &li, &e) == 0;
		if (ok) {
			memset(hit, 0, sizeof(*hit));
			snprintf(hit->key, sizeof(hit->key), "%s", key);
			snprintf(hit->layer, sizeof(hit->layer), "%s", info->layers[s->n]);
			snprintf(hit->diff_id, sizeof(hit->diff_id), "%s", li.diff_id);
			hit->size = li.size;
			hit->created = info->created * 1000000000 + info->created_nsec;
		}
		log_debug("cache %s: %s", ref, ok ? "hit" : e.msg ? e.msg : "not usable");
		layer_info_release(&li);
		kerror_release(&e);
		if (ok)
			return 0;
	}
	return -ENOENT;
}

/* An untagged image of the layer chain ending in layer (chain id hex). */
static int chain_image(struct build *b, const struct build_cache_entry *row,
		       char id[DIGEST_HEX_LEN + 1], struct kerror *e)
{
	struct staged_layer *layers = NULL;
	size_t n = 0;
	_cleanup_free_ char *cur = xstrdup(row->layer);
	int r = 0;

	while (cur && r == 0) {
		struct layer_info li = { 0 };
		if (n >= 512) {
			r = kerror_set(e, ELOOP, "layer chain too long");
			break;
		}
		r = store_layer_get(b->s, cur, &li, e);
		if (r == 0) {
			layers = xrealloc(layers, (n + 1) * sizeof(*layers));
			memset(&layers[n], 0, sizeof(*layers));
			snprintf(layers[n].diff_id, sizeof(layers[n].diff_id), "%s", li.diff_id);
			snprintf(layers[n].chain_id, sizeof(layers[n].chain_id), "sha256:%s", li.id);
			layers[n].size = li.size;
			n++;
			free(cur);
			cur = li.parent ? xstrdup(li.parent) : NULL;
		}
		layer_info_release(&li);
	}
	if (r == 0) {
		/* base first */
		for (size_t i = 0; i < n / 2; i++) {
			struct staged_layer t = layers[i];
			layers[i] = layers[n - 1 - i];
			layers[n - 1 - i] = t;
		}
		json_t *ids = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(ids, json_string(layers[i].diff_id));
		json_t *cfg = json_pack("{s:s, s:s, s:o, s:{s:s, s:o}, s:{}}", "architecture",
					"amd64", "os", "linux", "created", build_time_json(row->created),
					"rootfs", "type", "layers", "diff_ids", ids, "config");
		_cleanup_free_ char *config = json_dump_compact(cfg);
		json_decref(cfg);
		struct image_commit ic = { .config = config, .config_len = strlen(config),
					   .layers = layers, .n_layers = n };
		r = store_image_commit(b->s, &ic, id, e);
	}
	free(layers);
	return r;
}

void cache_remote_put(struct build *b)
{
	for (size_t i = 0; b->o->cache_to && b->o->cache_to[0] && i < b->nrows; i++) {
		const struct build_cache_entry *row = &b->rows[i];
		struct kerror e = { 0 };
		char id[DIGEST_HEX_LEN + 1];
		if (!row->layer[0])
			continue;
		if (chain_image(b, row, id, &e) < 0) {
			log_warn("--cache-to: the image of step %.12s: %s", row->key, e.msg);
			kerror_release(&e);
			continue;
		}
		for (size_t r = 0; b->o->cache_to[r]; r++) {
			_cleanup_free_ char *dest = xasprintf("%s:%s", b->o->cache_to[r], row->key);
			struct push_opts po = { .reg = REGISTRY_OPTS_INIT, .progress = no_progress };
			char digest[DIGEST_STR_LEN + 1];
			if (b->o->pull_opts)
				po.reg = b->o->pull_opts->reg;
			if (registry_push(b->s, id, dest, &po, digest, &e) < 0) {
				log_warn("--cache-to %s: %s", dest, e.msg);
				kerror_release(&e);
			}
		}
	}
}
