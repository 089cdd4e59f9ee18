/* Private to storage/: the store's fields and the DB helpers shared by its
 * files. */
#ifndef KILN_STORE_PRIVATE_H
#define KILN_STORE_PRIVATE_H

#include <sqlite3.h>

#include "storage/storage.h"

struct store {
	char *root;
	char *runroot;
	char *driver;
	int root_fd;
	int lock_fd; /* store.lock, opened once */
	int lock_depth;
	int lock_timeout_ms;
	bool read_only;
	bool existing_db; /* the syncer: never creates kiln.db */
	bool ephemeral;   /* store_opts.ephemeral */
	sqlite3 *db;
};

/* The store lock: exclusive, bounded wait (kerror on timeout), re-entrant
 * within one process. */
int store_lock(struct store *s, struct kerror *e);
void store_unlock(struct store *s);

int db_open(struct store *s, struct kerror *e);
void db_close(struct store *s);
/* Runs SQL without results. */
int db_exec(struct store *s, const char *sql, struct kerror *e);
/* Commits of rows whose loss in a power cut does no harm (container state,
 * network attachments, layer holds) skip the fsync while on: in WAL mode
 * the DB stays consistent and the next FULL commit or checkpoint syncs them. */
void db_sync_normal(struct store *s, bool on);
int db_prepare(struct store *s, const char *sql, sqlite3_stmt **st, struct kerror *e);
int db_error(struct store *s, const char *what, struct kerror *e);
void cleanup_stmtp(sqlite3_stmt **st);
#define _cleanup_stmt_ __attribute__((cleanup(cleanup_stmtp)))
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int db_begin(struct store *s, struct kerror *e);
/* Runs sql with ?1 bound to arg: *out gets the first row mapped by fn,
 * *count how many rows there were (it stops counting at 2). */
typedef void *(*db_row_fn)(sqlite3_stmt *st);
int db_get_first(struct store *s, const char *sql, const char *arg, db_row_fn fn, void **out,
		 int *count, struct kerror *e);
/* 1 to 64 lowercase hex digits: a possible ID prefix. */
bool db_is_hex_prefix(const char *s);
int db_commit(struct store *s, struct kerror *e);
/* fn(s, arg, e) under the store lock in one transaction (rolled back when
 * fn fails). */
int store_txn(struct store *s, int (*fn)(struct store *, void *, struct kerror *), void *arg,
	      struct kerror *e);
void db_rollback(struct store *s);

int64_t now_seconds(void);

/* The layers in use: every image's chain and every held layer's chain. */
#define USED_LAYERS_CTE                                                              \
	"WITH RECURSIVE used(id) AS ("                                               \
	"  SELECT top_layer FROM images WHERE top_layer IS NOT NULL"                 \
	"  UNION SELECT layer FROM layer_holds"                                      \
	"  UNION SELECT l.parent FROM layers l JOIN used u ON l.id = u.id"           \
	"  WHERE l.parent IS NOT NULL) "

/* The space reserve (reserve.c): allocated at store_open while the disk
 * has room; released by removals (rmi, rm, prune, check --repair) that
 * find the disk nearly full, so that they can still commit. */
void store_reserve_ensure(struct store *s);
void store_reserve_release(struct store *s);

/* Removes what a crashed operation may leave outside tmp/ (layer
 * directories without a row, layer rows no image reaches, blobs nothing
 * references, container directories without a row), moving directories
 * into t.  Caller holds the store lock. */
int store_sweep_locked(struct store *s, struct store_tmp *t, struct gc_stats *st,
		       struct kerror *e);
/* Moves the container directory dirfd/name into t (t NULL or on another
 * filesystem: deletes it in place), unmounting its merged/ first.  0,
 * -ENOENT if absent, or a negative errno (logged). */
int store_container_dir_discard(struct store *s, int dirfd, const char *name,
				struct store_tmp *t);

/* Config and manifest blobs of a commit: written without fsync (the
 * commit's syncer makes them durable); *written set when the file was new. */
int store_blob_put_unsynced(struct store *s, const void *data, size_t len, bool *written,
			    char digest[DIGEST_STR_LEN + 1], struct kerror *e);

/* Durability of commits (syncer.c).  A commit writes its files without
 * fsync and records them in the unsynced table in its own transaction; a
 * detached syncer then syncs the store and deletes the batch's rows.  The
 * batch holds sync.lock shared from before the commit until its syncer
 * exits, so that a command finding rows and no holder knows their syncer
 * died (or the power went) and re-verifies them. */
struct sync_batch {
	int lock_fd;
	char token[33];
	char mount[80]; /* boot id and mount id: whose page cache holds the files */
	bool recorded;
};
/* Before the store lock: waits out a recovery in progress. */
int sync_batch_begin(struct store *s, struct sync_batch *b, struct kerror *e);
/* Inside the commit's transaction: layer or image (the other NULL). */
int sync_batch_record(struct store *s, struct sync_batch *b, const char *layer,
		      const char *image, struct kerror *e);
/* After the transaction: starts the syncer if committed and rows were
 * recorded, and lets go of the lock. */
void sync_batch_end(struct store *s, struct sync_batch *b, bool committed);
/* At store_open (read-write): rows nobody syncs any more are recovered. */
void store_recover_unsynced(struct store *s);

/* The layers a recovery re-verifies (check.c): rebuild[i] when layers[i]
 * was written under another mount or boot, so that its directory may have
 * lost files (its blob, if sound, is extracted again). */
struct unsynced_set {
	char **layers;
	bool *rebuild;
};
int store_check_unsynced(struct store *s, const struct unsynced_set *u,
			 struct store_check_report *rep, struct kerror *e);

/* Appends the image's repo digests to *out (repo_digests.c). */
int store_repo_digests_load(struct store *s, const char *id, char ***out);

#endif
