/* Repo digests: "name@sha256:…" of the manifests an image was pulled or
 * pushed as (RepoDigests in inspect). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store_private.h"

/* The same as the schema migration (db.c), for a store whose schema
 * predates it. */
#define CREATE_TABLE                                                     \
	"CREATE TABLE IF NOT EXISTS repo_digests ("                      \
	"  repo_digest TEXT NOT NULL,"                                   \
	"  image_id TEXT NOT NULL,"                                      \
	"  PRIMARY KEY (repo_digest, image_id));"                        \
	"CREATE INDEX IF NOT EXISTS repo_digests_image ON repo_digests(image_id);"

struct add_op {
	const char *id, *rd;
};

static int add_fn(struct store *s, void *arg, struct kerror *e)
{
	const struct add_op *op = arg;
	const char *id = op->id, *rd = op->rd;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_exec(s, CREATE_TABLE, e);
	if (r < 0)
		return r;
	r = db_prepare(s, "INSERT OR IGNORE INTO repo_digests (repo_digest, image_id) "
			      "SELECT ?1, id FROM images WHERE id = ?2", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, rd, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, "recording a repo digest", e);
	return 0;
}

int store_image_add_repo_digest(struct store *s, const char *id, const char *repo_digest,
				struct kerror *e)
{
	struct add_op op = { id, repo_digest };
	if (!strchr(repo_digest, '@'))
		return kerror_set(e, EINVAL, "\"%s\" is not a repo digest", repo_digest);
	return store_txn(s, add_fn, &op, e);
}

int store_repo_digests_load(struct store *s, const char *id, char ***out)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	/* No table yet: no repo digests. */
	if (db_prepare(s, "SELECT repo_digest FROM repo_digests WHERE image_id = ? "
			  "ORDER BY repo_digest", &st, NULL) < 0)
		return 0;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		strv_push(out, xstrdup((const char *)sqlite3_column_text(st, 0)));
	return 0;
}
