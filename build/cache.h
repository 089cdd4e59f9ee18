/* Cache keys of build steps (build/cache.c); private to the build engine. */
#ifndef KILN_BUILD_CACHE_H
#define KILN_BUILD_CACHE_H

#include "build/build.h"

/* The key of a stage's starting state: kind "scratch", "image" (id = the
 * image ID) or "stage" (id = that stage's final key). */
void cache_key_base(const char *kind, const char *id, const char *platform,
		    char out[DIGEST_HEX_LEN + 1]);
/* Starts a step's key: parent state key and the expanded instruction; the
 * caller may feed source digests before cache_key_end (which frees d). */
struct digester *cache_key_begin(const char *parent, const struct plan_step *st,
				 int64_t timestamp);
void cache_key_end(struct digester *d, char out[DIGEST_HEX_LEN + 1]);
/* The state after a layer step: its key and the layer it produced (a miss
 * that made a different layer than an old build leads to different keys
 * for every later step). */
void cache_key_after_layer(const char *step_key, const char *diff_id,
			   char out[DIGEST_HEX_LEN + 1]);

#endif
