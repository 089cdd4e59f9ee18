/* Image labels for /images/json, remembered by image ID.  The ID is the
 * digest of the config the labels come from, and a blob never changes, so
 * a remembered answer cannot go stale: the list itself is still read from
 * the store on every request.  Without it each list read, hashed and
 * parsed every image's config. */
#include <pthread.h>

#include "api/api_private.h"

/* Entries kept at most; past it the cache starts over. */
#define LABELS_MAX 4096

static pthread_mutex_t labels_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *labels_by_id; /* id → labels object */

static json_t *read_labels(struct store *s, const char *id)
{
	char digest[DIGEST_STR_LEN + 1];
	_cleanup_free_ char *raw = NULL;
	_cleanup_config_ struct image_config *cfg = NULL;
	size_t len;
	snprintf(digest, sizeof(digest), "sha256:%s", id);
	if (store_blob_get(s, digest, 4 << 20, &raw, &len, NULL) < 0 ||
	    config_parse(raw, len, &cfg, NULL) < 0)
		return NULL;
	return api_labels_json(json_object_get(config_exec(cfg), "Labels"));
}

json_t *api_image_labels(struct store *s, const char *id)
{
	json_t *l;
	pthread_mutex_lock(&labels_lock);
	l = labels_by_id ? json_object_get(labels_by_id, id) : NULL;
	/* a copy: jansson's reference counts are not for sharing across threads */
	l = l ? json_deep_copy(l) : NULL;
	pthread_mutex_unlock(&labels_lock);
	if (l)
		return l;
	l = read_labels(s, id);
	if (!l)
		return json_object(); /* unreadable now: not remembered */
	json_t *keep = json_deep_copy(l);
	pthread_mutex_lock(&labels_lock);
	if (!labels_by_id)
		labels_by_id = json_object();
	if (json_object_size(labels_by_id) >= LABELS_MAX)
		json_object_clear(labels_by_id);
	json_object_set_new(labels_by_id, id, keep);
	pthread_mutex_unlock(&labels_lock);
	return l;
}
