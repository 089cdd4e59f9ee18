/* Garbage collection and disk usage of the store. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "storage/store_private.h"

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The result set of sql (one text column of digests or hex ids) as a sorted
 * vector of hex strings. */
static int load_set(struct store *s, const char *sql, char ***out, size_t *n, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	int r = db_prepare(s, sql, &st, e);
	if (r < 0)
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (!t)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, cap * sizeof(char *));
		}
		v[cnt++] = xstrdup(digest_hex(t));
	}
	if (cnt)
		qsort(v, cnt, sizeof(char *), cmp_strp);
	*out = v;
	*n = cnt;
	return 0;
}

static int cmp_key(const void *k, const void *el)
{
	return strcmp((const char *)k, *(char *const *)el);
}

static bool in_set(char **v, size_t n, const char *name)
{
	return n && bsearch(name, v, n, sizeof(char *), cmp_key) != NULL;
}

static void free_set(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Moves a dead directory into t (deleted with it), or deletes it in place
 * when there is no t (a full disk leaves no room to create one). */
static int move_or_delete(const char *src, struct store_tmp *t, const char *name)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	if (t && t->path) {
		_cleanup_free_ char *dst = xasprintf("%s/layer-%s", t->path, name);
		return rename(src, dst) < 0 ? -errno : 0;
	}
	return fs_rm_rf(src, &e);
}

/* Container directories (under the root and the runroot) without a row:
 * left by a removal that crashed after its commit.  Creation inserts the
 * row before it makes the directories, and removal deletes the row and
 * moves the directories under the store lock, so none is in flight here. */
static void sweep_container_dirs(struct store *s, const char *base, struct store_tmp *t,
				 struct gc_stats *st)
{
	_cleanup_free_ char *dir = xasprintf("%s/containers", base);
	_cleanup_closedir_ DIR *d = opendir(dir);
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	struct dirent *de;

	if (!d || db_prepare(s, "SELECT 1 FROM containers WHERE id = ?", &q, NULL) < 0)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, de->d_name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) == SQLITE_ROW)
			continue;
		if (store_container_dir_discard(s, dirfd(d), de->d_name, t) == 0)
			st->containers++;
	}
}

/* Holds whose operation is gone (its tmp/ directory missing or not
 * locked): a crashed build's. */
static void drop_stale_holds(struct store *s)
{
	_cleanup_stmt_ sqlite3_stmt *ops = NULL, *del = NULL;
	_cleanup_strv_ char **dead = xcalloc(1, sizeof(char *));
	if (db_prepare(s, "SELECT DISTINCT op FROM layer_holds", &ops, NULL) < 0 ||
	    db_prepare(s, "DELETE FROM layer_holds WHERE op = ?", &del, NULL) < 0)
		return;
	while (sqlite3_step(ops) == SQLITE_ROW) {
		const char *op = (const char *)sqlite3_column_text(ops, 0);
		_cleanup_free_ char *dir = xasprintf("%s/tmp/%s", s->root, op ? op : "");
		_cleanup_close_ int fd = -1;
		if (!op || strchr(op, '/'))
			continue;
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0)
			strv_push(&dead, xstrdup(op));
	}
	for (size_t i = 0; dead[i]; i++) {
		sqlite3_reset(del);
		sqlite3_bind_text(del, 1, dead[i], -1, SQLITE_STATIC);
		sqlite3_step(del);
	}
}

int store_sweep_locked(struct store *s, struct store_tmp *t, struct gc_stats *st,
		       struct kerror *e)
{
	char **keep = NULL, **layers = NULL;
	size_t nkeep = 0, nlayers = 0;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int r;

	drop_stale_holds(s);
	/* Layer rows no image reaches (possible only after manual damage). */
	r = db_begin(s, e);
	if (r == 0)
		r = db_exec(s,
			    USED_LAYERS_CTE
			    "DELETE FROM layers WHERE id NOT IN (SELECT id FROM used)",
			    e);
	if (r == 0) {
		st->layers += (uint64_t)sqlite3_changes(s->db);
		r = db_commit(s, e);
	} else {
		db_rollback(s);
	}
	if (r < 0)
		return r;

	r = load_set(s, "SELECT id FROM layers", &layers, &nlayers, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *ldir = xasprintf("%s/layers", s->root);
	d = opendir(ldir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || in_set(layers, nlayers, de->d_name))
			continue;
		_cleanup_free_ char *src = xasprintf("%s/layers/%s", s->root, de->d_name);
		uint64_t bytes = 0;
		fs_disk_usage(src, &bytes, NULL);
		if (move_or_delete(src, t, de->d_name) == 0) {
			st->layers++;
			st->bytes += bytes;
		}
	}
	free_set(layers, nlayers);
	if (d) {
		closedir(d);
		d = NULL;
	}

	r = load_set(s,
		     "SELECT id FROM images UNION SELECT manifest_digest FROM images "
		     "UNION SELECT compressed_digest FROM layers",
		     &keep, &nkeep, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *bdir = xasprintf("%s/blobs/sha256", s->root);
	d = opendir(bdir);
	while (d && (de = readdir(d))) {
		struct stat sb;
		if (de->d_name[0] == '.' || in_set(keep, nkeep, de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    unlinkat(dirfd(d), de->d_name, 0) == 0) {
			st->blobs++;
			st->bytes += (uint64_t)sb.st_blocks * 512;
		}
	}
	free_set(keep, nkeep);
	sweep_container_dirs(s, s->root, t, st);
	if (s->runroot && strcmp(s->runroot, s->root) != 0)
		sweep_container_dirs(s, s->runroot, t, st);
	return 0;
}

int store_gc(struct store *s, struct gc_stats *st, struct kerror *e)
{
	struct store_tmp t = { 0 };
	int r;

	memset(st, 0, sizeof(*st));
	store_reserve_release(s);
	r = store_tmp_create(s, &t, e);
	if (r < 0)
		return r;
	r = store_lock(s, e);
	if (r == 0) {
		r = store_sweep_locked(s, &t, st, e);
		store_unlock(s);
	}
	store_tmp_release(&t); /* deletes the moved layer directories */
	return r;
}

uint64_t store_blob_usage(struct store *s, const char *digest)
{
	struct stat sb;
	_cleanup_free_ char *p = NULL;
	if (!digest || !digest_is_sha256(digest))
		return 0;
	p = store_blob_path(s, digest);
	return stat(p, &sb) == 0 ? (uint64_t)sb.st_blocks * 512 : 0;
}

int store_layers_usage(struct store *s, struct layer_usage **out, size_t *n, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct layer_usage *v = NULL;
	size_t cnt = 0, cap = 0;
	int r = db_prepare(s, "SELECT id, compressed_digest FROM layers", &st, e);
	if (r < 0)
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *blob = (const char *)sqlite3_column_text(st, 1);
		_cleanup_free_ char *dir = xasprintf("%s/layers/%s", s->root, id);
		uint64_t bytes = 0;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 32;
			v = xrealloc(v, cap * sizeof(*v));
		}
		fs_disk_usage(dir, &bytes, NULL);
		snprintf(v[cnt].id, sizeof(v[cnt].id), "%s", id);
		v[cnt].bytes = bytes + store_blob_usage(s, blob);
		cnt++;
	}
	*out = v;
	*n = cnt;
	return 0;
}
