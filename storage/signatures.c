/* Signatures an image was pulled with (containers/image's tagged form, the
 * bytes the sign module encodes), kept per image and manifest digest so a
 * later push or copy can carry them to the destination. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store_private.h"

struct add_op {
	const char *id, *manifest_digest;
	const struct store_sig *v;
	size_t n;
};

static int add_fn(struct store *s, void *arg, struct kerror *e)
{
	const struct add_op *op = arg;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	/* The same signature twice (a re-pull) is kept once: keyed by its
	 * digest. */
	int r = db_prepare(s, "INSERT OR IGNORE INTO signatures "
			      "(image_id, manifest_digest, sig_digest, data) "
			      "SELECT ?1, ?2, ?3, ?4 FROM images WHERE id = ?1", &st, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < op->n; i++) {
		char d[DIGEST_STR_LEN + 1];
		digest_bytes(op->v[i].data, op->v[i].len, d);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, op->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, op->manifest_digest, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, d, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 4, op->v[i].data, (int)op->v[i].len, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_error(s, "recording a signature", e);
	}
	return 0;
}

int store_signatures_add(struct store *s, const char *id, const char *manifest_digest,
			 const struct store_sig *v, size_t n, struct kerror *e)
{
	struct add_op op = { id, manifest_digest, v, n };

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].len == 0 || v[i].len > STORE_MAX_SIGNATURE)
			return kerror_set(e, EINVAL, "signature of %zu bytes", v[i].len);
	return store_txn(s, add_fn, &op, e);
}

int store_signatures_get(struct store *s, const char *id, const char *manifest_digest,
			 struct store_sig **out, size_t *n, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	*out = NULL;
	*n = 0;
	r = db_prepare(s, "SELECT data FROM signatures WHERE image_id = ? AND manifest_digest = ? "
			  "ORDER BY rowid", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, manifest_digest, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		const void *p = sqlite3_column_blob(st, 0);
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[*n].data = xmalloc(len + 1);
		memcpy((*out)[*n].data, p ? p : "", len);
		(*out)[*n].data[len] = 0;
		(*out)[*n].len = len;
		(*n)++;
	}
	if (r != SQLITE_DONE) {
		store_sigs_free(*out, *n);
		*out = NULL;
		*n = 0;
		return db_error(s, "reading signatures", e);
	}
	return 0;
}

void store_sigs_free(struct store_sig *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].data);
	free(v);
}
