/* Opening the store: layout, the store lock, per-operation tmp dirs. */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "storage/store_private.h"

int64_t now_seconds(void)
{
	return (int64_t)time(NULL);
}

static bool layer_held(struct store *s, const char *op, const char *layer)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(s, "SELECT 1 FROM layer_holds WHERE op = ? AND layer = ?", &st, NULL) < 0)
		return false;
	sqlite3_bind_text(st, 1, op, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, layer, -1, SQLITE_STATIC);
	return sqlite3_step(st) == SQLITE_ROW;
}

static void drop_holds(struct store *s, const char *op);

/* Removes tmp/ entries whose owner is gone: each live operation holds an
 * flock on its directory. */
static void clean_stale_tmp(struct store *s)
{
	_cleanup_closedir_ DIR *d = NULL;
	int fd = openat(s->root_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	bool locked = false;
	while ((de = readdir(d))) {
		_cleanup_close_ int efd = -1;
		_cleanup_kerror_ struct kerror e = { 0 };
		if (de->d_name[0] == '.')
			continue;
		/* Creation (mkdtemp + flock) happens under the store lock. */
		if (!locked) {
			_cleanup_kerror_ struct kerror le = { 0 };
			if (store_lock(s, &le) < 0)
				return;
			locked = true;
		}
		efd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (efd >= 0 && flock(efd, LOCK_EX | LOCK_NB) < 0)
			continue; /* in use */
		log_debug("removing stale tmp/%s", de->d_name);
		drop_holds(s, de->d_name);
		if (fs_rm_rf_at(dirfd(d), de->d_name, &e) < 0)
			log_warn("cleaning the store's tmp/: %s", e.msg);
	}
	if (locked) {
		/* Something died mid-operation: what it may have left outside
		 * tmp/ (a layer directory renamed in before its row, a blob
		 * before the row naming it, a container directory after its
		 * row was deleted) is swept now, still under the lock. */
		struct store_tmp t = { .lock_fd = -1 };
		struct gc_stats st = { 0 };
		_cleanup_kerror_ struct kerror se = { 0 };
		if (store_tmp_create(s, &t, NULL) < 0)
			t.path = NULL;
		if (store_sweep_locked(s, &t, &st, &se) < 0)
			log_warn("cleaning up after a crashed kiln: %s", se.msg);
		else if (st.layers || st.blobs || st.containers)
			log_debug("swept %" PRIu64 " layers, %" PRIu64 " blobs, %" PRIu64
				  " container directories left by a crash",
				  st.layers, st.blobs, st.containers);
		store_unlock(s);
		store_tmp_release(&t);
	}
}

int store_open(const struct store_opts *o, struct store **out, struct kerror *e)
{
	struct store *s = xcalloc(1, sizeof(*s));
	static const char *const dirs[] = { "blobs", "blobs/sha256", "layers", "tmp" };
	int r;

	s->root = xstrdup(o->root);
	s->runroot = o->runroot ? xstrdup(o->runroot) : NULL;
	s->driver = xstrdup(o->driver ? o->driver : "overlay");
	s->lock_fd = -1;
	s->root_fd = -1;
	s->read_only = o->read_only;
	s->ephemeral = o->ephemeral;
	s->lock_timeout_ms = o->lock_timeout_ms > 0 ? o->lock_timeout_ms : 60000;
	if (strcmp(s->driver, "overlay") != 0 && strcmp(s->driver, "vfs") != 0) {
		r = kerror_set(e, EINVAL, "storage driver \"%s\" is not supported (overlay, vfs)",
			       s->driver);
		goto fail;
	}
	if (!o->read_only) {
		r = fs_mkdir_p(s->root, 0700, e);
		if (r < 0)
			goto fail;
	}
	s->root_fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0) {
		r = kerror_sys(e, errno, "opening the store \"%s\"", s->root);
		goto fail;
	}
	if (!o->read_only) {
		for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
			if (mkdirat(s->root_fd, dirs[i], 0700) < 0 && errno != EEXIST) {
				r = kerror_sys(e, errno, "creating \"%s/%s\"", s->root, dirs[i]);
				goto fail;
			}
	}
	s->lock_fd = openat(s->root_fd, "store.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0 && !o->read_only) {
		r = kerror_sys(e, errno, "opening \"%s/store.lock\"", s->root);
		goto fail;
	}
	r = db_open(s, e);
	if (r < 0)
		goto fail;
	if (!o->read_only) {
		clean_stale_tmp(s);
		store_recover_unsynced(s);
		store_reserve_ensure(s);
	}
	*out = s;
	return 0;
fail:
	store_close(s);
	return r;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	db_close(s);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s->root);
	free(s->runroot);
	free(s->driver);
	free(s);
}

bool store_reusable(struct store *s)
{
	return s->lock_depth == 0 && s->db && sqlite3_get_autocommit(s->db) &&
	       !sqlite3_next_stmt(s->db, NULL);
}

void cleanup_storep(struct store **s)
{
	store_close(*s);
}

const char *store_root(const struct store *s)
{
	return s->root;
}

const char *store_driver(const struct store *s)
{
	return s->driver;
}

int store_lock(struct store *s, struct kerror *e)
{
	struct timespec start, now;
	bool told = false;

	if (s->lock_depth++ > 0)
		return 0;
	if (s->lock_fd < 0) {
		s->lock_depth = 0;
		return kerror_set(e, EROFS, "the store \"%s\" is read-only", s->root);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		long waited;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			s->lock_depth = 0;
			return kerror_sys(e, errno, "locking the store");
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= s->lock_timeout_ms) {
			s->lock_depth = 0;
			return kerror_set(e, ETIMEDOUT,
					  "locking the store \"%s\": still held by another kiln "
					  "process after %d ms",
					  s->root, s->lock_timeout_ms);
		}
		if (!told && waited > 1000) {
			/* Shown at the default level: a command that seems to
			 * hang should say why. */
			log_warn("waiting for the store lock held by another kiln process "
				 "(giving up after %d s)", s->lock_timeout_ms / 1000);
			told = true;
		}
		struct timespec ts = { 0, 2 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return 0;
}

void store_unlock(struct store *s)
{
	if (s->lock_depth > 0 && --s->lock_depth == 0)
		flock(s->lock_fd, LOCK_UN);
}

int store_tmp_create(struct store *s, struct store_tmp *t, struct kerror *e)
{
	char *path = xasprintf("%s/tmp/op-XXXXXX", s->root);
	int fd, r;

	r = store_lock(s, e);
	if (r < 0) {
		free(path);
		return r;
	}
	if (!mkdtemp(path)) {
		store_unlock(s);
		r = kerror_sys(e, errno, "creating a directory in \"%s/tmp\"", s->root);
		free(path);
		return r;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		store_unlock(s);
		r = kerror_sys(e, errno, "locking \"%s\"", path);
		if (fd >= 0)
			close(fd);
		rmdir(path);
		free(path);
		return r;
	}
	store_unlock(s);
	t->path = path;
	t->lock_fd = fd;
	t->holder = NULL;
	return 0;
}

/* The name of t under tmp/, which layer_holds rows carry. */
static const char *tmp_name(const struct store_tmp *t)
{
	const char *slash = strrchr(t->path, '/');
	return slash ? slash + 1 : t->path;
}

static void drop_holds(struct store *s, const char *op)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(s, "DELETE FROM layer_holds WHERE op = ?", &st, NULL) < 0)
		return;
	sqlite3_bind_text(st, 1, op, -1, SQLITE_STATIC);
	db_sync_normal(s, true);
	if (sqlite3_step(st) != SQLITE_DONE)
		log_warn("releasing the layers held by %s: %s", op, sqlite3_errmsg(s->db));
	db_sync_normal(s, false);
}

int store_layer_hold(struct store *s, struct store_tmp *t, const char *layer_id,
		     struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	if (!t->path)
		return kerror_set(e, EINVAL, "holding layer %s: no operation directory", layer_id);
	r = store_lock(s, e);
	if (r < 0)
		return r;
	r = db_prepare(s,
		       "INSERT OR IGNORE INTO layer_holds (op, layer) SELECT ?1, id FROM layers "
		       "WHERE id = ?2",
		       &st, e);
	if (r == 0) {
		sqlite3_bind_text(st, 1, tmp_name(t), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, layer_id, -1, SQLITE_STATIC);
		/* A hold lives as long as its tmp/op-* directory, which a crash
		 * removes with its rows: no need to wait for the disk. */
		db_sync_normal(s, true);
		int step = sqlite3_step(st);
		db_sync_normal(s, false);
		if (step != SQLITE_DONE)
			r = db_error(s, "holding a layer", e);
		else if (sqlite3_changes(s->db) == 0 && !layer_held(s, tmp_name(t), layer_id))
			r = kerror_set(e, ENOENT, "layer %s was removed meanwhile", layer_id);
	}
	store_unlock(s);
	if (r == 0)
		t->holder = s;
	return r;
}

void store_tmp_release(struct store_tmp *t)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	if (!t->path)
		return;
	if (t->holder) {
		drop_holds(t->holder, tmp_name(t));
		t->holder = NULL;
	}
	if (fs_rm_rf(t->path, &e) < 0)
		log_warn("%s", e.msg);
	if (t->lock_fd >= 0)
		close(t->lock_fd);
	free(t->path);
	t->path = NULL;
	t->lock_fd = -1;
}
