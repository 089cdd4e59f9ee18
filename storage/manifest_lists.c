/* Manifest lists kept in the store (kiln manifest): one row per list name
 * with the document's exact bytes and the sources of its instances. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/store_private.h"

void mlist_rec_release(struct mlist_rec *m)
{
	free(m->name);
	free(m->doc);
	free(m->sources);
	memset(m, 0, sizeof(*m));
}

static char *dup_col(sqlite3_stmt *st, int i, size_t *len)
{
	const void *p = sqlite3_column_blob(st, i);
	int n = sqlite3_column_bytes(st, i);
	char *out = xmalloc((size_t)n + 1);
	if (n > 0)
		memcpy(out, p, (size_t)n);
	out[n] = '\0';
	if (len)
		*len = (size_t)n;
	return out;
}

int store_mlist_get(struct store *s, const char *name_or_id, struct mlist_rec *out,
		    struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "SELECT name, id, doc, sources, created FROM manifest_lists "
			      "WHERE name = ?1 OR id = ?1", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name_or_id, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_DONE)
		return kerror_set(e, ENOENT, "%s: image is not a manifest list", name_or_id);
	if (r != SQLITE_ROW)
		return db_error(s, "reading a manifest list", e);
	memset(out, 0, sizeof(*out));
	out->name = dup_col(st, 0, NULL);
	snprintf(out->id, sizeof(out->id), "%s", (const char *)sqlite3_column_text(st, 1));
	out->doc = dup_col(st, 2, &out->doc_len);
	out->sources = dup_col(st, 3, NULL);
	out->created = sqlite3_column_int64(st, 4);
	return 0;
}

static void random_id(char id[DIGEST_HEX_LEN + 1])
{
	unsigned char raw[32];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw))
		abort();
	close(fd);
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
}

int store_mlist_put(struct store *s, struct mlist_rec *m, bool create, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	r = store_lock(s, e);
	if (r < 0)
		return r;
	if (create) {
		random_id(m->id);
		m->created = now_seconds();
		r = db_prepare(s, "INSERT INTO manifest_lists (name, id, doc, sources, created) "
				  "VALUES (?1, ?2, ?3, ?4, ?5)", &st, e);
	} else {
		r = db_prepare(s, "UPDATE manifest_lists SET doc = ?3, sources = ?4 "
				  "WHERE name = ?1 AND id = ?2", &st, e);
	}
	if (r == 0) {
		sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, m->id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, m->doc, (int)m->doc_len, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, m->sources, -1, SQLITE_STATIC);
		if (create)
			sqlite3_bind_int64(st, 5, m->created);
		r = sqlite3_step(st);
		if (r == SQLITE_CONSTRAINT)
			r = kerror_set(e, EEXIST, "%s: a manifest list with that name already exists",
				       m->name);
		else if (r != SQLITE_DONE)
			r = db_error(s, "writing a manifest list", e);
		else if (!create && sqlite3_changes(s->db) == 0)
			r = kerror_set(e, ENOENT, "%s: manifest list is gone", m->name);
		else
			r = 0;
	}
	store_unlock(s);
	return r;
}

int store_mlist_remove(struct store *s, const char *name_or_id, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = store_lock(s, e);
	if (r < 0)
		return r;
	r = db_prepare(s, "DELETE FROM manifest_lists WHERE name = ?1 OR id = ?1", &st, e);
	if (r == 0) {
		sqlite3_bind_text(st, 1, name_or_id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = db_error(s, "removing a manifest list", e);
		else if (sqlite3_changes(s->db) == 0)
			r = kerror_set(e, ENOENT, "%s: image is not a manifest list", name_or_id);
	}
	store_unlock(s);
	return r;
}
