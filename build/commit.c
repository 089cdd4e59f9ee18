/* The end of a stage: history entries, the final image config and the
 * commit of its layers (those this build made are staged under tmp/, the
 * others are already in the store). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "build/engine_state.h"

int64_t build_now_ns(const struct build *b)
{
	struct timespec ts;
	if (b->o->timestamp >= 0)
		return b->o->timestamp * 1000000000LL;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

json_t *build_time_json(int64_t ns)
{
	char buf[64];
	format_rfc3339(ns / 1000000000LL, (long)(ns % 1000000000LL), buf, sizeof(buf));
	return json_string(buf);
}

void build_history_add(struct build *b, struct bstate *s, const struct plan_step *st,
		       int64_t created, bool empty, const char *created_by)
{
	json_t *h = json_object_get(s->cfg, "history");
	json_t *ent = json_object();
	(void)b;
	(void)st;
	if (!json_is_array(h)) {
		h = json_array();
		json_object_set_new(s->cfg, "history", h);
	}
	json_object_set_new(ent, "created", build_time_json(created));
	json_object_set_new(ent, "created_by", json_string(created_by));
	if (empty)
		json_object_set_new(ent, "empty_layer", json_true());
	json_array_append_new(h, ent);
}

/* --format docker: the image is stored with a Docker v2s2 manifest over its
 * uncompressed layers, so that push (which compresses) defaults to v2s2 as
 * it does for a pulled Docker image.  The config is the same in both
 * formats: Healthcheck, OnBuild and Shell are kept (Docker's fields, which
 * OCI tools ignore).  --annotation (OCI only, as buildah): an OCI manifest
 * carrying them, which push keeps. */
static char *stored_manifest(const struct build *b, const struct bstate *s, const char *config)
{
	bool docker = b->o->docker_format;
	char cd[DIGEST_STR_LEN + 1];
	json_t *layers = json_array();
	json_t *m;
	char *out;
	digest_bytes(config, strlen(config), cd);
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(layers, json_pack("{s:s, s:I, s:s}", "mediaType",
							docker ? MT_DOCKER_LAYER : MT_OCI_LAYER,
							"size", (json_int_t)s->layers[i]->size,
							"digest", s->layers[i]->diff_id));
	m = json_pack("{s:i, s:s, s:{s:s, s:I, s:s}, s:o}", "schemaVersion", 2, "mediaType",
		      docker ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST, "config", "mediaType",
		      docker ? MT_DOCKER_CONFIG : MT_OCI_CONFIG, "size",
		      (json_int_t)strlen(config), "digest", cd, "layers", layers);
	if (!docker) {
		json_t *a = json_object();
		for (size_t i = 0; b->o->annotations && b->o->annotations[i]; i++) {
			const char *kv = b->o->annotations[i], *eq = strchr(kv, '=');
			_cleanup_free_ char *k = xstrndup(kv, (size_t)(eq - kv));
			json_object_set_new(a, k, json_string(eq + 1));
		}
		json_object_set_new(m, "annotations", a);
	}
	out = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	return out;
}

int build_commit_state(struct build *b, struct bstate *s, char *const *names,
		       char id[DIGEST_HEX_LEN + 1], struct kerror *e)
{
	json_t *rootfs = json_object();
	json_t *ids = json_array();
	_cleanup_free_ char *config = NULL;
	_cleanup_free_ struct staged_layer *layers = xcalloc(s->n + 1, sizeof(*layers));
	int r;

	for (size_t i = 0; i < s->n; i++) {
		struct blayer *l = s->layers[i];
		json_array_append_new(ids, json_string(l->diff_id));
		layers[i] = l->staged;
		memcpy(layers[i].diff_id, l->diff_id, sizeof(l->diff_id));
		memcpy(layers[i].chain_id, l->chain_id, sizeof(l->chain_id));
		layers[i].size = l->size;
	}
	json_object_set_new(rootfs, "type", json_string("layers"));
	json_object_set_new(rootfs, "diff_ids", ids);
	json_object_set_new(s->cfg, "rootfs", rootfs);
	json_object_set_new(s->cfg, "created", build_time_json(s->created));
	for (size_t i = 0; b->o->labels && b->o->labels[i] && names; i++) {
		const char *kv = b->o->labels[i], *eq = strchr(kv, '=');
		json_t *c = json_object_get(s->cfg, "config");
		json_t *lab;
		_cleanup_free_ char *k = eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
		if (!json_is_object(c)) {
			c = json_object();
			json_object_set_new(s->cfg, "config", c);
		}
		lab = json_object_get(c, "Labels");
		if (!json_is_object(lab)) {
			lab = json_object();
			json_object_set_new(c, "Labels", lab);
		}
		json_object_set_new(lab, k, json_string(eq ? eq + 1 : ""));
	}
	/* Docker's config shape (as buildah's docker format): container_config
	 * mirrors config; so the two formats give distinct image IDs. */
	if (b->o->docker_format && names)
		json_object_set_new(s->cfg, "container_config",
				    json_deep_copy(json_object_get(s->cfg, "config")));
	else
		json_object_del(s->cfg, "container_config");
	config = json_dump_compact(s->cfg);
	_cleanup_free_ char *manifest = NULL;
	if (names && (b->o->docker_format || (b->o->annotations && b->o->annotations[0])))
		manifest = stored_manifest(b, s, config);
	{
		struct image_commit ic = {
			.config = config,
			.config_len = strlen(config),
			.manifest = manifest,
			.manifest_len = manifest ? strlen(manifest) : 0,
			.layers = layers,
			.n_layers = s->n,
			.names = names,
		};
		r = store_image_commit(b->s, &ic, id, e);
	}
	if (r < 0)
		return kerror_wrap(e, "committing the image");
	/* The staged directories moved into the store. */
	for (size_t i = 0; i < s->n; i++) {
		struct blayer *l = s->layers[i];
		if (l->staged.dir) {
			free(l->staged.dir);
			l->staged.dir = NULL;
			free(l->diff);
			l->diff = store_layer_diff_path(b->s, digest_hex(l->chain_id));
		}
	}
	return 0;
}
