/* The build cache: a step's cache key → the layer it produced (NULL for a
 * metadata-only step) and the time its history entry records, so that a
 * fully cached rebuild gives the same image ID.  Rows are written in one
 * transaction per build; a row whose layer is gone is a miss. */
#include <errno.h>
#include <string.h>

#include "storage/store_private.h"

int store_build_cache_get(struct store *s, const char *key, struct build_cache_entry *out,
			  struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s,
			   "SELECT c.layer, c.created, l.diff_id, l.size FROM build_cache c "
			   "LEFT JOIN layers l ON l.id = c.layer WHERE c.key = ?",
			   &st, e);
	const unsigned char *layer, *diff_id;

	memset(out, 0, sizeof(*out));
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		return -ENOENT;
	layer = sqlite3_column_text(st, 0);
	diff_id = sqlite3_column_text(st, 2);
	if (layer && !diff_id)
		return -ENOENT; /* the layer was removed since */
	snprintf(out->key, sizeof(out->key), "%s", key);
	if (layer) {
		snprintf(out->layer, sizeof(out->layer), "%s", (const char *)layer);
		snprintf(out->diff_id, sizeof(out->diff_id), "%s", (const char *)diff_id);
		out->size = sqlite3_column_int64(st, 3);
	}
	out->created = sqlite3_column_int64(st, 1);
	return 0;
}

int store_build_cache_put(struct store *s, const struct build_cache_entry *v, size_t n,
			  struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int64_t now = now_seconds();
	int r;

	if (n == 0)
		return 0;
	r = store_lock(s, e);
	if (r < 0)
		return r;
	r = db_begin(s, e);
	if (r == 0)
		r = db_prepare(s,
			       "INSERT OR REPLACE INTO build_cache (key, layer, created, used) "
			       "VALUES (?, ?, ?, ?)",
			       &st, e);
	for (size_t i = 0; r == 0 && i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, v[i].key, -1, SQLITE_STATIC);
		if (v[i].layer[0])
			sqlite3_bind_text(st, 2, v[i].layer, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 2);
		sqlite3_bind_int64(st, 3, v[i].created);
		sqlite3_bind_int64(st, 4, now);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = db_error(s, "recording the build cache", e);
	}
	if (r == 0)
		r = db_commit(s, e);
	else
		db_rollback(s);
	store_unlock(s);
	return r;
}

int store_build_cache_prune(struct store *s, bool all, struct kerror *e)
{
	int r = store_lock(s, e);
	if (r < 0)
		return r;
	r = db_exec(s, all ? "DELETE FROM build_cache"
			   : "DELETE FROM build_cache WHERE layer IS NOT NULL AND layer NOT IN "
			     "(SELECT id FROM layers)",
		    e);
	store_unlock(s);
	return r;
}
