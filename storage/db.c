/* The metadata DB: SQLite in WAL mode, a versioned schema with migrations. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store_private.h"

/* Each entry migrates from version i to i+1; never edit a released one,
 * append a new one. */
static const char *const migrations[] = {
	/* 0 → 1: images, names, layers */
	"CREATE TABLE layers ("
	"  id TEXT PRIMARY KEY,"            /* chain id hex */
	"  parent TEXT,"                    /* parent layer id */
	"  diff_id TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  compressed_digest TEXT,"
	"  compressed_size INTEGER,"
	"  compressed_media_type TEXT,"
	"  created INTEGER NOT NULL);"
	"CREATE INDEX layers_parent ON layers(parent);"
	"CREATE TABLE images ("
	"  id TEXT PRIMARY KEY,"            /* config digest hex */
	"  top_layer TEXT,"
	"  manifest_digest TEXT,"
	"  created INTEGER NOT NULL,"
	"  created_nsec INTEGER NOT NULL DEFAULT 0,"
	"  stored INTEGER NOT NULL,"
	"  size INTEGER NOT NULL);"
	"CREATE INDEX images_top ON images(top_layer);"
	"CREATE TABLE names ("
	"  name TEXT PRIMARY KEY,"
	"  image_id TEXT NOT NULL);"
	"CREATE INDEX names_image ON names(image_id);",
	/* 1 → 2: containers (times in ns since the epoch) */
	"CREATE TABLE containers ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  image_id TEXT NOT NULL,"
	"  image_name TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  plan TEXT NOT NULL,"
	"  state INTEGER NOT NULL,"
	"  pid INTEGER NOT NULL DEFAULT 0,"
	"  exit_code INTEGER NOT NULL DEFAULT 0,"
	"  started INTEGER NOT NULL DEFAULT 0,"
	"  finished INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX containers_image ON containers(image_id);",
	/* 2 → 3: repo digests ("name@sha256:…" an image was pulled or pushed as) */
	"CREATE TABLE IF NOT EXISTS repo_digests ("
	"  repo_digest TEXT NOT NULL,"
	"  image_id TEXT NOT NULL,"
	"  PRIMARY KEY (repo_digest, image_id));"
	"CREATE INDEX IF NOT EXISTS repo_digests_image ON repo_digests(image_id);",
	/* 3 → 4: build cache (a step's key → its layer, NULL for a metadata
	 * step, and the time recorded in its history entry) */
	"CREATE TABLE IF NOT EXISTS build_cache ("
	"  key TEXT PRIMARY KEY,"
	"  layer TEXT,"
	"  created INTEGER NOT NULL,"
	"  used INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS build_cache_layer ON build_cache(layer);",
	/* 4 → 5: manifest lists (kiln manifest): the document's exact bytes and
	 * where each instance comes from (JSON: digest → source) */
	"CREATE TABLE manifest_lists ("
	"  name TEXT PRIMARY KEY,"   /* full reference */
	"  id TEXT NOT NULL UNIQUE," /* random hex, stable across edits */
	"  doc BLOB NOT NULL,"
	"  sources TEXT NOT NULL,"
	"  created INTEGER NOT NULL);",
	/* 5 → 6: volumes (kiln volume, -v NAME:/path); labels and options are
	 * JSON objects, data under <root>/volumes/<name>/_data */
	"CREATE TABLE volumes ("
	"  name TEXT PRIMARY KEY,"
	"  created INTEGER NOT NULL,"  /* ns since the epoch */
	"  labels TEXT NOT NULL,"
	"  options TEXT NOT NULL,"
	"  anonymous INTEGER NOT NULL DEFAULT 0);",
	/* 6 → 7: signatures an image was pulled with (the tagged form of
	 * containers/image), carried along by a later push or copy */
	"CREATE TABLE signatures ("
	"  image_id TEXT NOT NULL,"
	"  manifest_digest TEXT NOT NULL,"
	"  sig_digest TEXT NOT NULL,"
	"  data BLOB NOT NULL,"
	"  PRIMARY KEY (image_id, manifest_digest, sig_digest));",
	/* 7 → 8: layers an operation in progress uses (a build's base and
	 * cached layers), kept from rmi and prune until the operation ends;
	 * op is the name of its tmp/ directory, whose flock says it lives */
	"CREATE TABLE layer_holds ("
	"  op TEXT NOT NULL,"
	"  layer TEXT NOT NULL,"
	"  PRIMARY KEY (op, layer));",
	/* 8 → 9: networks (kiln network) and the addresses containers hold on
	 * them while running (ip: IPv4 as an integer in host order; ifname:
	 * the host end of the veth; aliases, ports: JSON arrays) */
	"CREATE TABLE networks ("
	"  name TEXT PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  driver TEXT NOT NULL,"
	"  bridge TEXT NOT NULL,"
	"  subnet TEXT NOT NULL,"
	"  gateway TEXT NOT NULL,"
	"  internal INTEGER NOT NULL DEFAULT 0,"
	"  dns INTEGER NOT NULL DEFAULT 1,"
	"  labels TEXT NOT NULL,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE net_attach ("
	"  container_id TEXT NOT NULL,"
	"  network TEXT NOT NULL,"
	"  ip INTEGER NOT NULL,"
	"  ifname TEXT NOT NULL,"
	"  ctr_ifname TEXT NOT NULL,"
	"  aliases TEXT NOT NULL,"
	"  ports TEXT NOT NULL,"
	"  PRIMARY KEY (network, ip));"
	"CREATE INDEX net_attach_ctr ON net_attach(container_id);",
	/* 9 → 10: pods (kiln pod): the infra container holding the shared
	 * namespaces, and the pod's settings as JSON (hostname, share,
	 * labels, network, ports) */
	"CREATE TABLE pods ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL,"
	"  infra_id TEXT NOT NULL DEFAULT '',"
	"  config TEXT NOT NULL);",
	/* 10 → 11: what a commit wrote without waiting for the disk (a layer's
	 * directory and blob, or an image's config and manifest blobs), until
	 * the syncer started by that commit (batch) has synced the store;
	 * mount: the boot and mount the files were written under (syncer.c) */
	"CREATE TABLE unsynced ("
	"  batch TEXT NOT NULL,"
	"  mount TEXT NOT NULL,"
	"  layer TEXT,"
	"  image TEXT);"
	"CREATE INDEX unsynced_batch ON unsynced(batch);",
};

int store_schema_version(void)
{
	return (int)ARRAY_SIZE(migrations);
}

void cleanup_stmtp(sqlite3_stmt **st)
{
	sqlite3_finalize(*st);
}

int db_error(struct store *s, const char *what, struct kerror *e)
{
	int code = sqlite3_errcode(s->db);
	int err = code == SQLITE_BUSY || code == SQLITE_LOCKED ? EBUSY
		  : code == SQLITE_FULL				  ? ENOSPC
		  : code == SQLITE_READONLY			  ? EROFS
								  : EIO;
	return kerror_set(e, err, "%s: %s", what, sqlite3_errmsg(s->db));
}

int db_exec(struct store *s, const char *sql, struct kerror *e)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(s, "updating the store's database", e);
	return 0;
}

int db_prepare(struct store *s, const char *sql, sqlite3_stmt **st, struct kerror *e)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_error(s, "reading the store's database", e);
	return 0;
}

int db_begin(struct store *s, struct kerror *e)
{
	return db_exec(s, "BEGIN IMMEDIATE", e);
}

int db_commit(struct store *s, struct kerror *e)
{
	int r = db_exec(s, "COMMIT", e);
	if (r < 0)
		db_rollback(s);
	return r;
}

void db_rollback(struct store *s)
{
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int user_version(struct store *s, int *v, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "PRAGMA user_version", &st, e);
	if (r < 0)
		return r;
	if (sqlite3_step(st) != SQLITE_ROW)
		return db_error(s, "reading the schema version", e);
	*v = sqlite3_column_int(st, 0);
	return 0;
}

static int migrate(struct store *s, struct kerror *e)
{
	int v, r;

	r = user_version(s, &v, e);
	if (r < 0)
		return r;
	if (v == (int)ARRAY_SIZE(migrations))
		return 0;
	if (v > (int)ARRAY_SIZE(migrations))
		return kerror_set(e, EPROTO,
				  "the store's schema version %d is newer than this kiln "
				  "understands (%zu)",
				  v, ARRAY_SIZE(migrations));
	if (s->read_only)
		return kerror_set(e, EROFS, "the store's schema needs an upgrade");
	r = db_begin(s, e);
	if (r < 0)
		return r;
	/* Another process may have migrated while we waited for the lock. */
	r = user_version(s, &v, e);
	for (; r == 0 && v < (int)ARRAY_SIZE(migrations); v++) {
		_cleanup_free_ char *bump = xasprintf("PRAGMA user_version = %d", v + 1);
		r = db_exec(s, migrations[v], e);
		if (r == 0)
			r = db_exec(s, bump, e);
	}
	if (r < 0) {
		db_rollback(s);
		return kerror_wrap(e, "upgrading the store's schema");
	}
	return db_commit(s, e);
}

static bool is_wal(struct store *s)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(s, "PRAGMA journal_mode", &st, NULL) < 0 || sqlite3_step(st) != SQLITE_ROW)
		return false;
	return strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
}

static bool schema_current(struct store *s)
{
	int v;
	return user_version(s, &v, NULL) == 0 && v == (int)ARRAY_SIZE(migrations);
}

void db_sync_normal(struct store *s, bool on)
{
	sqlite3_exec(s->db, on ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL", NULL,
		     NULL, NULL);
}

int db_open(struct store *s, struct kerror *e)
{
	_cleanup_free_ char *path = xasprintf("%s/kiln.db", s->root);
	int flags = s->read_only     ? SQLITE_OPEN_READONLY
		    : s->existing_db ? SQLITE_OPEN_READWRITE
				     : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

	if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		int r = kerror_set(e, EIO, "opening \"%s\": %s", path,
				   s->db ? sqlite3_errmsg(s->db) : "out of memory");
		db_close(s);
		return r;
	}
	sqlite3_busy_timeout(s->db, s->lock_timeout_ms);
	/* Keep the WAL file when the last connection closes: deleting and
	 * re-creating it costs every command a few fsyncs. */
	{
		int persist = 1;
		sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	}
	if (s->read_only)
		return migrate(s, e);
	/* FULL: a commit is on disk before the files it describes are removed.
	 * The WAL stays small, since every command's open re-reads (and
	 * checksums) all its frames: a checkpoint every 64 pages (not 1000,
	 * which made 300+ page reads of each `kiln run`), journal_size_limit=0
	 * cutting what a restarted WAL no longer uses.  No checkpoint when
	 * the last connection closes: its two syncs, and the WAL header's two
	 * when the next command restarts the WAL, were most of a `run --rm`'s
	 * fdatasyncs (4 each; now a checkpoint every 7 or so). */
	if (db_exec(s, "PRAGMA synchronous=FULL", e) < 0 ||
	    db_exec(s, "PRAGMA journal_size_limit=0", e) < 0 ||
	    db_exec(s, "PRAGMA wal_autocheckpoint=64", e) < 0)
		return kerror_wrap(e, "opening \"%s\"", path);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if (is_wal(s) && schema_current(s))
		return 0;
	/* First use (or an upgrade): switching to WAL and creating the schema
	 * are done by one process at a time, under the store lock. */
	int r = store_lock(s, e);
	if (r < 0)
		return r;
	r = db_exec(s, "PRAGMA journal_mode=WAL", e);
	if (r == 0)
		r = migrate(s, e);
	store_unlock(s);
	if (r < 0)
		return kerror_wrap(e, "opening \"%s\"", path);
	return 0;
}

void db_close(struct store *s)
{
	if (s->db)
		sqlite3_close(s->db);
	s->db = NULL;
}

int db_get_first(struct store *s, const char *sql, const char *arg, db_row_fn fn, void **out,
		 int *count, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, sql, &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	*count = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (++*count == 1)
			*out = fn(st);
		else
			break;
	}
	return 0;
}

bool db_is_hex_prefix(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= DIGEST_HEX_LEN && strspn(s, "0123456789abcdef") == n;
}
