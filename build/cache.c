/* Cache keys of build steps.  A step's key covers the state it starts
 * from (which covers the base image and every earlier step's result), the
 * expanded instruction, the build args and environment it can see, the
 * --timestamp in force and, for COPY/ADD, the digest of every source
 * file's path, type, mode, size, content and link target — never mtimes,
 * so `touch` keeps a hit and any change of content or mode misses. */
#include <string.h>

#include "build/engine.h"
#include "build/cache.h"

static void feed_str(struct digester *d, const char *tag, const char *s)
{
	digester_update(d, tag, strlen(tag) + 1);
	if (s)
		digester_update(d, s, strlen(s) + 1);
	else
		digester_update(d, "\xff", 1);
}

static void feed_strv(struct digester *d, const char *tag, char *const *v, size_t n)
{
	char cnt[32];
	snprintf(cnt, sizeof(cnt), "%zu", n);
	feed_str(d, tag, cnt);
	for (size_t i = 0; i < n; i++)
		feed_str(d, "", v[i]);
}

static void finish(struct digester *d, char out[DIGEST_HEX_LEN + 1])
{
	char full[DIGEST_STR_LEN + 1];
	digester_final(d, full);
	memcpy(out, digest_hex(full), DIGEST_HEX_LEN + 1);
}

void cache_key_base(const char *kind, const char *id, const char *platform,
		    char out[DIGEST_HEX_LEN + 1])
{
	_cleanup_digester_ struct digester *d = digester_new();
	feed_str(d, "kiln-build-cache-v1", kind);
	feed_str(d, "id", id);
	feed_str(d, "platform", platform);
	finish(d, out);
}

struct digester *cache_key_begin(const char *parent, const struct plan_step *st,
				 int64_t timestamp)
{
	struct digester *d = digester_new();
	char ts[32];

	feed_str(d, "parent", parent);
	feed_str(d, "line", st->node ? st->node->original : "");
	feed_strv(d, "argv", st->argv, st->argc);
	for (size_t i = 0; i < st->nkvs; i++) {
		feed_str(d, "k", st->kvs[i].key);
		feed_str(d, "v", st->kvs[i].value);
	}
	feed_str(d, "dest", st->dest);
	feed_str(d, "chown", st->chown);
	feed_str(d, "chmod", st->chmod);
	feed_str(d, "from", st->from);
	feed_strv(d, "exclude", st->excludes, st->nexcludes);
	for (size_t i = 0; i < st->ninlines; i++) {
		feed_str(d, "inline", st->inlines[i].name);
		feed_str(d, "data", st->inlines[i].data);
	}
	feed_strv(d, "env", st->env, strv_len(st->env));
	feed_strv(d, "args", st->args, strv_len(st->args));
	snprintf(ts, sizeof(ts), "%lld", (long long)timestamp);
	feed_str(d, "timestamp", ts);
	return d;
}

void cache_key_end(struct digester *d, char out[DIGEST_HEX_LEN + 1])
{
	finish(d, out);
	digester_free(d);
}

void cache_key_after_layer(const char *step_key, const char *diff_id,
			   char out[DIGEST_HEX_LEN + 1])
{
	_cleanup_digester_ struct digester *d = digester_new();
	feed_str(d, "step", step_key);
	feed_str(d, "layer", diff_id);
	finish(d, out);
}
