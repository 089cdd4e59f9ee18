/* Images and their names: commit, look-up, list, tag, untag, remove + GC. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/store_private.h"

void image_info_free(struct image_info *i)
{
	if (!i)
		return;
	free(i->top_layer);
	free(i->manifest_digest);
	strv_free(i->names);
	strv_free(i->digests);
	strv_free(i->layers);
	strv_free(i->diff_ids);
	free(i);
}

void cleanup_image_infop(struct image_info **i)
{
	image_info_free(*i);
}

void image_list_free(struct image_info **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		image_info_free(list[i]);
	free(list);
}

static char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? xstrdup((const char *)t) : NULL;
}

static bool layer_row_exists(struct store *s, const char *id)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(s, "SELECT 1 FROM layers WHERE id = ?", &st, NULL) < 0)
		return false;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return sqlite3_step(st) == SQLITE_ROW;
}

/* Puts one staged layer in place under the lock and inside the open
 * transaction.  A directory left by a crash (no row) is moved aside. */
static int commit_layer(struct store *s, struct store_tmp *t, struct sync_batch *b,
			const struct staged_layer *l, const char *parent, int n, struct kerror *e)
{
	const char *id = digest_hex(l->chain_id);
	_cleanup_free_ char *dst = xasprintf("%s/layers/%s", s->root, id);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	if (layer_row_exists(s, id))
		return 0;
	if (!l->dir)
		return kerror_set(e, ENOENT, "layer %s was removed while in use (rmi or prune "
				  "racing this command)", id);
	if (fs_exists(dst)) {
		_cleanup_free_ char *aside = xasprintf("%s/orphan-%d", t->path, n);
		log_debug("replacing orphan layer directory %s", dst);
		if (rename(dst, aside) < 0)
			return kerror_sys(e, errno, "moving aside \"%s\"", dst);
	}
	if (l->blob_path && !store_blob_exists(s, l->blob_digest)) {
		_cleanup_free_ char *bp = store_blob_path(s, l->blob_digest);
		if (rename(l->blob_path, bp) < 0)
			return kerror_sys(e, errno, "storing the blob of layer %s", l->diff_id);
	}
	if (rename(l->dir, dst) < 0)
		return kerror_sys(e, errno, "storing layer %s", l->diff_id);
	r = db_prepare(s,
		       "INSERT INTO layers (id, parent, diff_id, size, created, compressed_digest, "
		       "compressed_size, compressed_media_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		       &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (parent)
		sqlite3_bind_text(st, 2, parent, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, l->diff_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, l->size);
	sqlite3_bind_int64(st, 5, now_seconds());
	if (l->blob_path) {
		sqlite3_bind_text(st, 6, l->blob_digest, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, l->blob_size);
		sqlite3_bind_text(st, 8, l->blob_media_type, -1, SQLITE_STATIC);
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, "recording a layer", e);
	return sync_batch_record(s, b, id, NULL, e);
}

static int set_name(struct store *s, const char *id, const char *name, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "INSERT OR REPLACE INTO names (name, image_id) VALUES (?, ?)", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, "naming the image", e);
	return 0;
}

static int commit_locked(struct store *s, struct store_tmp *t, struct sync_batch *b,
			 const struct image_commit *c, const char *id, int64_t created,
			 long created_nsec, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	const char *parent = NULL;
	int64_t size = 0;
	int r;

	for (size_t i = 0; i < c->n_layers; i++) {
		r = commit_layer(s, t, b, &c->layers[i], parent, (int)i, e);
		if (r < 0)
			return r;
		parent = digest_hex(c->layers[i].chain_id);
		size += c->layers[i].size;
	}
	r = db_prepare(s,
		       "INSERT OR IGNORE INTO images (id, top_layer, manifest_digest, created, "
		       "created_nsec, stored, size) VALUES (?, ?, ?, ?, ?, ?, ?)",
		       &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (parent)
		sqlite3_bind_text(st, 2, parent, -1, SQLITE_STATIC);
	if (c->manifest) {
		char md[DIGEST_STR_LEN + 1];
		digest_bytes(c->manifest, c->manifest_len, md);
		sqlite3_bind_text(st, 3, md, -1, SQLITE_TRANSIENT);
	}
	sqlite3_bind_int64(st, 4, created);
	sqlite3_bind_int64(st, 5, created_nsec);
	sqlite3_bind_int64(st, 6, now_seconds());
	sqlite3_bind_int64(st, 7, size);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, "recording the image", e);
	for (size_t i = 0; c->names && c->names[i]; i++) {
		r = set_name(s, id, c->names[i], e);
		if (r < 0)
			return r;
	}
	return 0;
}

int store_image_commit(struct store *s, const struct image_commit *c,
		       char id[DIGEST_HEX_LEN + 1], struct kerror *e)
{
	_cleanup_config_ struct image_config *cfg = NULL;
	struct store_tmp t = { 0 };
	struct sync_batch b = { .lock_fd = -1 };
	bool blobs_written = false;
	char digest[DIGEST_STR_LEN + 1];
	_cleanup_strv_ char **diff_ids = NULL;
	int64_t created = 0;
	long nsec = 0;
	int r;

	r = config_parse(c->config, c->config_len, &cfg, e);
	if (r < 0)
		return kerror_wrap(e, "storing the image config");
	diff_ids = config_diff_ids(cfg);
	if (strv_len(diff_ids) != c->n_layers)
		return kerror_set(e, EINVAL, "the image config lists %zu layers, %zu were given",
				  strv_len(diff_ids), c->n_layers);
	for (size_t i = 0; i < c->n_layers; i++)
		if (strcmp(diff_ids[i], c->layers[i].diff_id) != 0)
			return kerror_set(e, EBADMSG,
					  "layer %zu: content hashes to %s, the config says %s", i,
					  c->layers[i].diff_id, diff_ids[i]);
	/* Each layer is recorded under the one before it: a layer staged on
	 * another parent would put a wrong parent in the layer graph. */
	for (size_t i = 0; i < c->n_layers; i++) {
		char want[DIGEST_STR_LEN + 1];
		digest_chain(i ? c->layers[i - 1].chain_id : NULL, c->layers[i].diff_id, want);
		if (strcmp(want, c->layers[i].chain_id) != 0)
			return kerror_set(e, EINVAL,
					  "layer %zu: staged on another parent (chain id %s, "
					  "expected %s)",
					  i, c->layers[i].chain_id, want);
	}
	{
		const char *cr = json_str(cfg->json, "created");
		int64_t sec;
		if (cr && parse_rfc3339(cr, &sec, &nsec) == 0)
			created = sec;
	}
	digest_bytes(c->config, c->config_len, digest);
	snprintf(id, DIGEST_HEX_LEN + 1, "%s", digest_hex(digest));
	/* The staged layers' files (extracted without fsync) and the blobs
	 * are not synced before the commit: the transaction records them as
	 * unsynced and a syncer started after it syncs the store (syncer.c).
	 * After a power cut, the rows left say what to re-verify. */
	r = store_tmp_create(s, &t, e);
	if (r == 0)
		r = sync_batch_begin(s, &b, e);
	if (r < 0) {
		store_tmp_release(&t);
		return r;
	}
	r = store_lock(s, e);
	if (r == 0) {
		/* Blobs go in under the lock: a concurrent prune must not see
		 * them before the transaction that references them. */
		r = store_blob_put_unsynced(s, c->config, c->config_len, &blobs_written, digest, e);
		if (r == 0 && c->manifest) {
			char md[DIGEST_STR_LEN + 1];
			r = store_blob_put_unsynced(s, c->manifest, c->manifest_len, &blobs_written,
						    md, e);
		}
		if (r == 0)
			r = db_begin(s, e);
		if (r == 0) {
			r = commit_locked(s, &t, &b, c, id, created, nsec, e);
			if (r == 0 && blobs_written)
				r = sync_batch_record(s, &b, NULL, id, e);
			if (r == 0)
				r = db_commit(s, e);
			else
				db_rollback(s);
		}
		store_unlock(s);
	}
	sync_batch_end(s, &b, r == 0);
	store_tmp_release(&t);
	return r;
}

static int load_chain(struct store *s, struct image_info *i, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	_cleanup_free_ char *cur = i->top_layer ? xstrdup(i->top_layer) : NULL;
	char **ids = xcalloc(1, sizeof(char *)), **diffs = xcalloc(1, sizeof(char *));
	int r = db_prepare(s, "SELECT parent, diff_id FROM layers WHERE id = ?", &st, e);

	for (int depth = 0; r == 0 && cur; depth++) {
		if (depth > 4096) {
			r = kerror_set(e, ELOOP, "image %s: layer chain too long", i->id);
			break;
		}
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, cur, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_ROW) {
			r = kerror_set(e, ENOENT, "image %s: layer %s is missing", i->id, cur);
			break;
		}
		strv_push(&ids, steal_pointer(&cur));
		strv_push(&diffs, col_text(st, 1));
		cur = col_text(st, 0);
	}
	if (r < 0) {
		strv_free(ids);
		strv_free(diffs);
		return r;
	}
	/* Collected top first: reverse to base first. */
	for (size_t a = 0, b = strv_len(ids); b > 0 && a < --b; a++) {
		char *x = ids[a];
		ids[a] = ids[b];
		ids[b] = x;
		x = diffs[a];
		diffs[a] = diffs[b];
		diffs[b] = x;
	}
	i->layers = ids;
	i->diff_ids = diffs;
	return 0;
}

static struct image_info *row_to_info(sqlite3_stmt *st)
{
	struct image_info *i = xcalloc(1, sizeof(*i));
	snprintf(i->id, sizeof(i->id), "%s", (const char *)sqlite3_column_text(st, 0));
	i->top_layer = col_text(st, 1);
	i->manifest_digest = col_text(st, 2);
	i->created = sqlite3_column_int64(st, 3);
	i->created_nsec = sqlite3_column_int64(st, 4);
	i->stored = sqlite3_column_int64(st, 5);
	i->size = sqlite3_column_int64(st, 6);
	i->names = xcalloc(1, sizeof(char *));
	i->digests = xcalloc(1, sizeof(char *));
	return i;
}

#define IMAGE_COLUMNS "id, top_layer, manifest_digest, created, created_nsec, stored, size"

static int load_names(struct store *s, struct image_info *i, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "SELECT name FROM names WHERE image_id = ? ORDER BY name", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, i->id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		strv_push(&i->names, col_text(st, 0));
	return store_repo_digests_load(s, i->id, &i->digests);
}

static int image_by_id(struct store *s, const char *id, bool prefix, struct image_info **out,
		       struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct image_info *i;
	int r = db_prepare(s,
			   prefix ? "SELECT " IMAGE_COLUMNS " FROM images WHERE id >= ?1 AND "
				    "id < ?1 || 'g' LIMIT 2"
				  : "SELECT " IMAGE_COLUMNS " FROM images WHERE id = ?1",
			   &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		return -ENOENT;
	i = row_to_info(st);
	if (prefix && sqlite3_step(st) == SQLITE_ROW) {
		image_info_free(i);
		return kerror_set(e, EEXIST, "short ID \"%s\" is ambiguous: several images match",
				  id);
	}
	r = load_names(s, i, e);
	if (r == 0)
		r = load_chain(s, i, e);
	if (r < 0) {
		image_info_free(i);
		return r;
	}
	*out = i;
	return 0;
}

static bool is_hex(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int id_by_name(struct store *s, const char *name, char **id)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(s, "SELECT image_id FROM names WHERE name = ?", &st, NULL) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		return -ENOENT;
	*id = col_text(st, 0);
	return 0;
}

int store_image_lookup(struct store *s, const char *what, struct image_info **out,
		       struct kerror *e)
{
	const char *hex = str_has_prefix(what, "sha256:") ? what + 7 : what;
	_cleanup_strv_ char **cands = NULL;
	int r;

	if (is_hex(hex, DIGEST_HEX_LEN, DIGEST_HEX_LEN)) {
		r = image_by_id(s, hex, false, out, e);
		if (r != -ENOENT)
			return r;
	}
	cands = ref_local_candidates(what, NULL);
	for (size_t i = 0; cands && cands[i]; i++) {
		_cleanup_free_ char *id = NULL;
		if (id_by_name(s, cands[i], &id) == 0)
			return image_by_id(s, id, false, out, e);
	}
	if (is_hex(hex, 3, DIGEST_HEX_LEN - 1) || (hex != what && is_hex(hex, 1, DIGEST_HEX_LEN))) {
		r = image_by_id(s, hex, true, out, e);
		if (r != -ENOENT)
			return r;
	}
	return kerror_set(e, ENOENT, "No such image: %s", what);
}

int store_image_list(struct store *s, struct image_info ***out, size_t *n, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL, *nst = NULL;
	struct image_info **list = NULL;
	size_t count = 0, cap = 0;
	int r = db_prepare(s, "SELECT " IMAGE_COLUMNS " FROM images ORDER BY created DESC, id",
			   &st, e);
	if (r < 0)
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap ? cap * 2 : 32;
			list = xrealloc(list, cap * sizeof(*list));
		}
		list[count++] = row_to_info(st);
	}
	r = db_prepare(s, "SELECT name, image_id FROM names ORDER BY name", &nst, e);
	if (r < 0) {
		image_list_free(list, count);
		return r;
	}
	while (sqlite3_step(nst) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(nst, 1);
		for (size_t i = 0; i < count; i++)
			if (strcmp(list[i]->id, id) == 0) {
				strv_push(&list[i]->names, col_text(nst, 0));
				break;
			}
	}
	/* Repo digests the same way (no table yet in an old store: none). */
	{
		_cleanup_stmt_ sqlite3_stmt *dst = NULL;
		if (db_prepare(s, "SELECT repo_digest, image_id FROM repo_digests "
				  "ORDER BY repo_digest", &dst, NULL) == 0)
			while (sqlite3_step(dst) == SQLITE_ROW) {
				const char *id = (const char *)sqlite3_column_text(dst, 1);
				for (size_t i = 0; i < count; i++)
					if (strcmp(list[i]->id, id) == 0) {
						strv_push(&list[i]->digests, col_text(dst, 0));
						break;
					}
			}
	}
	*out = list;
	*n = count;
	return 0;
}

int store_txn(struct store *s, int (*fn)(struct store *, void *, struct kerror *), void *arg,
	      struct kerror *e)
{
	int r = store_lock(s, e);
	if (r < 0)
		return r;
	r = db_begin(s, e);
	if (r == 0) {
		r = fn(s, arg, e);
		if (r == 0)
			r = db_commit(s, e);
		else
			db_rollback(s);
	}
	store_unlock(s);
	return r;
}

struct name_op {
	const char *id, *name;
};

static int tag_fn(struct store *s, void *arg, struct kerror *e)
{
	struct name_op *op = arg;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "SELECT 1 FROM images WHERE id = ?", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, op->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		return kerror_set(e, ENOENT, "No such image: %s", op->id);
	return set_name(s, op->id, op->name, e);
}

int store_image_tag(struct store *s, const char *id, const char *name, struct kerror *e)
{
	struct name_op op = { id, name };
	int r = store_txn(s, tag_fn, &op, e);
	if (r == 0)
		store_image_event(s, "tag", id, name);
	return r;
}

static int untag_fn(struct store *s, void *arg, struct kerror *e)
{
	struct name_op *op = arg;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "DELETE FROM names WHERE name = ? AND image_id = ?", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, op->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, "untagging", e);
	if (sqlite3_changes(s->db) == 0)
		return kerror_set(e, ENOENT, "image %.12s is not tagged \"%s\"", op->id, op->name);
	return 0;
}

int store_image_untag(struct store *s, const char *id, const char *name, struct kerror *e)
{
	struct name_op op = { id, name };
	int r = store_txn(s, untag_fn, &op, e);
	if (r == 0)
		store_image_event(s, "untag", id, name);
	return r;
}

struct remove_op {
	const char *id;
	char **dead_layers;
	char **dead_blobs;
	bool drop_manifest;
	char *manifest_digest;
};

static int remove_fn(struct store *s, void *arg, struct kerror *e)
{
	struct remove_op *op = arg;
	_cleanup_stmt_ sqlite3_stmt *st = NULL, *dead = NULL, *del = NULL;
	int r;

	r = db_prepare(s, "SELECT manifest_digest FROM images WHERE id = ?", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, op->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		return kerror_set(e, ENOENT, "No such image: %s", op->id);
	op->manifest_digest = col_text(st, 0);
	/* Checked again here, in the transaction: a container created since
	 * the caller looked pins the image. */
	sqlite3_finalize(st);
	st = NULL;
	r = db_prepare(s, "SELECT id FROM containers WHERE image_id = ? LIMIT 1", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, op->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		return kerror_set(e, EBUSY, "image %.12s is in use by container %.12s", op->id,
				  (const char *)sqlite3_column_text(st, 0));
	static const char *const deletes[][2] = {
		{ "DELETE FROM names WHERE image_id = ?1", "removing the image's names" },
		{ "DELETE FROM repo_digests WHERE image_id = ?1", "removing the image's repo digests" },
		{ "DELETE FROM signatures WHERE image_id = ?1", "removing the image's signatures" },
		{ "DELETE FROM images WHERE id = ?1", "removing the image" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(deletes); i++) {
		sqlite3_finalize(st);
		st = NULL;
		r = db_prepare(s, deletes[i][0], &st, e);
		if (r < 0)
			return r;
		sqlite3_bind_text(st, 1, op->id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_error(s, deletes[i][1], e);
	}
	/* Layers no image reaches any more. */
	r = db_prepare(s,
		       USED_LAYERS_CTE
		       "SELECT id FROM layers WHERE id NOT IN (SELECT id FROM used)",
		       &dead, e);
	if (r < 0)
		return r;
	op->dead_layers = xcalloc(1, sizeof(char *));
	while (sqlite3_step(dead) == SQLITE_ROW)
		strv_push(&op->dead_layers, col_text(dead, 0));
	op->dead_blobs = xcalloc(1, sizeof(char *));
	{
		_cleanup_stmt_ sqlite3_stmt *b = NULL;
		r = db_prepare(s, "SELECT compressed_digest FROM layers WHERE id = ?", &b, e);
		if (r < 0)
			return r;
		for (size_t i = 0; op->dead_layers[i]; i++) {
			sqlite3_reset(b);
			sqlite3_bind_text(b, 1, op->dead_layers[i], -1, SQLITE_STATIC);
			if (sqlite3_step(b) == SQLITE_ROW && sqlite3_column_text(b, 0))
				strv_push(&op->dead_blobs, col_text(b, 0));
		}
	}
	r = db_prepare(s, "DELETE FROM layers WHERE id = ?", &del, e);
	if (r < 0)
		return r;
	for (size_t i = 0; op->dead_layers[i]; i++) {
		sqlite3_reset(del);
		sqlite3_bind_text(del, 1, op->dead_layers[i], -1, SQLITE_STATIC);
		if (sqlite3_step(del) != SQLITE_DONE)
			return db_error(s, "removing a layer", e);
	}
	if (op->manifest_digest) {
		_cleanup_stmt_ sqlite3_stmt *m = NULL;
		r = db_prepare(s, "SELECT 1 FROM images WHERE manifest_digest = ?", &m, e);
		if (r < 0)
			return r;
		sqlite3_bind_text(m, 1, op->manifest_digest, -1, SQLITE_STATIC);
		op->drop_manifest = sqlite3_step(m) != SQLITE_ROW;
	}
	return 0;
}

int store_image_remove(struct store *s, const char *id, struct kerror *e)
{
	struct remove_op op = { .id = id };
	struct store_tmp t = { 0 };
	int r;

	store_reserve_release(s);
	r = store_tmp_create(s, &t, e);
	if (r < 0)
		return r;
	r = store_lock(s, e);
	if (r < 0)
		goto out;
	r = store_txn(s, remove_fn, &op, e);
	/* The commit is durable: now move the dead layers out of the way while
	 * still holding the lock, so that no concurrent commit sees them. */
	for (size_t i = 0; r == 0 && op.dead_layers && op.dead_layers[i]; i++) {
		_cleanup_free_ char *src = xasprintf("%s/layers/%s", s->root, op.dead_layers[i]);
		_cleanup_free_ char *dst = xasprintf("%s/%s", t.path, op.dead_layers[i]);
		if (rename(src, dst) < 0 && errno != ENOENT)
			log_warn("removing layer %s: %s", op.dead_layers[i], strerror(errno));
	}
	/* Blobs go under the lock too: a concurrent commit that found one
	 * present (and so did not write it) must not lose it afterwards. */
	if (r == 0) {
		char cfg[DIGEST_STR_LEN + 1];
		snprintf(cfg, sizeof(cfg), "sha256:%s", id);
		store_image_event(s, "delete", id, NULL);
		_cleanup_free_ char *p = store_blob_path(s, cfg);
		unlink(p);
		/* A blob shared with a surviving layer stays (same bytes). */
		for (size_t i = 0; op.dead_blobs && op.dead_blobs[i]; i++) {
			_cleanup_stmt_ sqlite3_stmt *st = NULL;
			if (db_prepare(s, "SELECT 1 FROM layers WHERE compressed_digest = ?", &st, NULL) < 0)
				break;
			sqlite3_bind_text(st, 1, op.dead_blobs[i], -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_ROW && digest_is_sha256(op.dead_blobs[i])) {
				_cleanup_free_ char *bp = store_blob_path(s, op.dead_blobs[i]);
				unlink(bp);
			}
		}
		if (op.drop_manifest && digest_is_sha256(op.manifest_digest)) {
			_cleanup_free_ char *mp = store_blob_path(s, op.manifest_digest);
			unlink(mp);
		}
	}
	store_unlock(s);
out:
	strv_free(op.dead_layers);
	strv_free(op.dead_blobs);
	free(op.manifest_digest);
	store_tmp_release(&t);
	return r;
}
