/* Containers: their rows in the DB and their directories. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store_private.h"

#define CTR_COLUMNS                                                                     \
	"id, name, image_id, image_name, created, plan, state, pid, exit_code, started, " \
	"finished"

const char *ctr_state_name(enum ctr_state st)
{
	switch (st) {
	case CTR_CREATED: return "created";
	case CTR_RUNNING: return "running";
	case CTR_EXITED: return "exited";
	}
	return "unknown";
}

void container_info_free(struct container_info *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->image_name);
	free(c->plan);
	free(c);
}

void cleanup_container_infop(struct container_info **c)
{
	container_info_free(*c);
}

void container_list_free(struct container_info **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		container_info_free(list[i]);
	free(list);
}

const char *store_runroot(const struct store *s)
{
	return s->runroot ? s->runroot : s->root;
}

char *store_container_dir(const struct store *s, const char *id)
{
	return xasprintf("%s/containers/%s", s->root, id);
}

char *store_container_rundir(const struct store *s, const char *id)
{
	return xasprintf("%s/containers/%s", store_runroot(s), id);
}

static const char *text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

static struct container_info *row_to_info(sqlite3_stmt *st)
{
	struct container_info *c = xcalloc(1, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", text(st, 0));
	c->name = xstrdup(text(st, 1));
	snprintf(c->image_id, sizeof(c->image_id), "%s", text(st, 2));
	c->image_name = xstrdup(text(st, 3));
	c->created = sqlite3_column_int64(st, 4);
	c->plan = xstrdup(text(st, 5));
	c->state = (enum ctr_state)sqlite3_column_int(st, 6);
	if (c->state > CTR_EXITED)
		c->state = CTR_EXITED;
	c->pid = sqlite3_column_int(st, 7);
	c->exit_code = sqlite3_column_int(st, 8);
	c->started = sqlite3_column_int64(st, 9);
	c->finished = sqlite3_column_int64(st, 10);
	return c;
}

/* Container rows change on every run, so their commits skip the fsync
 * (synchronous=NORMAL: in WAL mode the DB stays consistent, a power loss
 * may only lose the newest state changes, which the next command corrects
 * through the monitor lock).  Image changes keep FULL. */
#define sync_normal db_sync_normal

/* Runs one statement in its own (implicit) transaction; the containers
 * table is only ever changed row by row. */
static int step_done(struct store *s, sqlite3_stmt *st, const char *what, struct kerror *e)
{
	int rc, r = 0;
	sync_normal(s, true);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		r = db_error(s, what, e);
	sync_normal(s, false);
	return r;
}

int store_container_create(struct store *s, const struct container_info *c, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	/* Only while the image is there: rmi checks for containers in its
	 * own transaction, so one of the two always sees the other.  An
	 * empty image ID is a container without an image (--rootfs, a pod's
	 * infra). */
	int r = db_prepare(s, "INSERT INTO containers (" CTR_COLUMNS
			      ") SELECT ?, ?, ?3, ?, ?, ?, ?, ?, ?, ?, ? WHERE ?3 = '' OR EXISTS "
			      "(SELECT 1 FROM images WHERE id = ?3)",
			   &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->image_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->image_name ? c->image_name : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, c->created);
	sqlite3_bind_text(st, 6, c->plan ? c->plan : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, (int)c->state);
	sqlite3_bind_int(st, 8, c->pid);
	sqlite3_bind_int(st, 9, c->exit_code);
	sqlite3_bind_int64(st, 10, c->started);
	sqlite3_bind_int64(st, 11, c->finished);
	sync_normal(s, true);
	int rc = sqlite3_step(st);
	int xrc = sqlite3_extended_errcode(s->db);
	r = rc != SQLITE_DONE ? db_error(s, "adding the container", e) : 0;
	if (rc == SQLITE_DONE && sqlite3_changes(s->db) == 0)
		r = kerror_set(e, ENOENT, "image %.12s was removed meanwhile", c->image_id);
	sync_normal(s, false);
	if (rc != SQLITE_DONE) {
		if (xrc == SQLITE_CONSTRAINT_UNIQUE) {
			_cleanup_container_info_ struct container_info *other = NULL;
			if (store_container_get(s, c->name, &other, NULL) == 0)
				return kerror_set(e, EEXIST,
						  "the container name \"%s\" is already in use by "
						  "%s. You have to remove that container to be able "
						  "to reuse that name: that name is already in use",
						  c->name, other->id);
		}
	}
	if (r == 0)
		store_container_event(s, c, "create", NULL, NULL);
	return r;
}

static void *row_to_info_v(sqlite3_stmt *st)
{
	return row_to_info(st);
}

static int get_by(struct store *s, const char *sql, const char *arg, struct container_info **out,
		  int *count, struct kerror *e)
{
	void *row = NULL;
	int r = db_get_first(s, sql, arg, row_to_info_v, &row, count, e);
	if (*count >= 1)
		*out = row;
	return r;
}

int store_container_get(struct store *s, const char *what, struct container_info **out,
			struct kerror *e)
{
	struct container_info *c = NULL;
	int n, r;

	r = get_by(s, "SELECT " CTR_COLUMNS " FROM containers WHERE id = ?1 OR name = ?1", what,
		   &c, &n, e);
	if (r < 0)
		return r;
	if (n == 0 && db_is_hex_prefix(what)) {
		_cleanup_free_ char *pat = xasprintf("%s*", what);
		r = get_by(s, "SELECT " CTR_COLUMNS " FROM containers WHERE id GLOB ?1", pat, &c,
			   &n, e);
		if (r < 0)
			return r;
		if (n > 1) {
			container_info_free(c);
			return kerror_set(e, EINVAL, "more than one result for container \"%s\"",
					  what);
		}
	}
	if (n == 0)
		return kerror_set(e, ENOENT, "no container with name or ID \"%s\" found", what);
	*out = c;
	return 0;
}

int store_container_list(struct store *s, struct container_info ***out, size_t *n,
			 struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct container_info **list = NULL;
	size_t count = 0, cap = 0;
	int r = db_prepare(s, "SELECT " CTR_COLUMNS " FROM containers ORDER BY created DESC, id",
			   &st, e);
	if (r < 0)
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			list = xrealloc(list, cap * sizeof(*list));
		}
		list[count++] = row_to_info(st);
	}
	*out = list;
	*n = count;
	return 0;
}

int store_container_update(struct store *s, const struct container_info *c, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "UPDATE containers SET state = ?, pid = ?, exit_code = ?, "
			      "started = ?, finished = ? WHERE id = ?",
			   &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_int(st, 1, (int)c->state);
	sqlite3_bind_int(st, 2, c->pid);
	sqlite3_bind_int(st, 3, c->exit_code);
	sqlite3_bind_int64(st, 4, c->started);
	sqlite3_bind_int64(st, 5, c->finished);
	sqlite3_bind_text(st, 6, c->id, -1, SQLITE_STATIC);
	return step_done(s, st, "updating the container", e);
}

/* A kiln mount left in the host's mount namespace (the container's own
 * mounts go with its namespace): removing through it would be wrong. */
static void detach_merged(int dirfd, const char *name)
{
	_cleanup_free_ char *merged = xasprintf("/proc/self/fd/%d/%s/merged", dirfd, name);
	if (umount2(merged, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		log_debug("unmounting %s/merged: %s", name, strerror(errno));
}

int store_container_dir_discard(struct store *s, int dirfd, const char *name,
				struct store_tmp *t)
{
	_cleanup_kerror_ struct kerror e = { 0 };

	(void)s;
	detach_merged(dirfd, name);
	if (t && t->path) {
		_cleanup_free_ char *dst = xasprintf("%s/ctr-%s", t->path, name);
		if (renameat(dirfd, name, AT_FDCWD, dst) == 0)
			return 0;
		if (errno == ENOENT)
			return -ENOENT;
	}
	/* Another filesystem (the runroot), or no room for a tmp directory on
	 * a full disk: delete in place. */
	if (fs_rm_rf_at(dirfd, name, &e) < 0) {
		log_warn("removing container directory %s: %s", name, e.msg);
		return e.code ? -e.code : -EIO;
	}
	return 0;
}

static char *spare_path(const struct store *s)
{
	return xasprintf("%s/containers/.spare", s->root);
}

int store_container_dir_take_spare(struct store *s, const char *id)
{
	_cleanup_free_ char *spare = spare_path(s), *dir = store_container_dir(s, id);
	if (renameat2(AT_FDCWD, spare, AT_FDCWD, dir, RENAME_NOREPLACE) < 0)
		return -ENOENT;
	return 0;
}

/* Empties a removed container's directory (in tmp/, still locked) down to
 * its empty work/ and makes it the spare, unless there is one already;
 * else, or on any failure, deletes it.  Only an emptied directory ever
 * gets the spare's name: a crash before leaves it in tmp/. */
static void recycle(struct store *s, const char *trash)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_free_ char *spare = spare_path(s);
	_cleanup_closedir_ DIR *d = opendir(trash);
	struct dirent *de;
	bool ok = d != NULL, work = false;
	struct stat st;

	while (ok && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!strcmp(de->d_name, "work") &&
		    fstatat(dirfd(d), "work", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
			_cleanup_closedir_ DIR *w = NULL;
			struct dirent *we;
			int wfd = openat(dirfd(d), "work", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			w = wfd < 0 ? NULL : fdopendir(wfd);
			if (!w && wfd >= 0)
				close(wfd);
			ok = w != NULL;
			while (ok && (we = readdir(w)))
				if (strcmp(we->d_name, ".") && strcmp(we->d_name, ".."))
					ok = fs_rm_rf_at(dirfd(w), we->d_name, &e) == 0;
			work = ok;
			continue;
		}
		ok = fs_rm_rf_at(dirfd(d), de->d_name, &e) == 0;
	}
	if (ok && work && renameat2(AT_FDCWD, trash, AT_FDCWD, spare, RENAME_NOREPLACE) == 0)
		return;
	kerror_release(&e);
	if (fs_rm_rf(trash, &e) < 0)
		log_warn("removing container directory: %s", e.msg);
}

/* Deletes the row and moves the directories away under the store lock, so
 * that the crash clean-up (which sweeps container directories without a
 * row) never sees a removal half done.  The store's directory goes to
 * tmp/ctr-<id>, locked before the move: tmp/'s clean-up leaves a locked
 * entry alone and finishes one whose removal died.  (No tmp/op-* of its
 * own: on this ext4 every new inode costs, more so amid deletions, and
 * every deleted directory a discard.)  It may become the spare.  The run
 * dir, on a tmpfs, is deleted in place. */
int store_container_remove(struct store *s, const char *id, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	_cleanup_free_ char *cdir = NULL, *trash = NULL;
	_cleanup_close_ int lock = -1;
	bool moved = false;
	int r;

	if (!db_is_hex_prefix(id) || strlen(id) != DIGEST_HEX_LEN)
		return kerror_set(e, EINVAL, "invalid container ID \"%s\"", id);
	store_reserve_release(s);
	_cleanup_container_info_ struct container_info *gone = NULL;
	if (store_container_get(s, id, &gone, NULL) < 0)
		gone = NULL;
	cdir = store_container_dir(s, id);
	trash = xasprintf("%s/tmp/ctr-%s", s->root, id);
	lock = open(cdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (lock >= 0 && flock(lock, LOCK_EX) < 0) {
		close(lock);
		lock = -1;
	}
	r = store_lock(s, e);
	if (r < 0)
		return r;
	r = db_prepare(s, "DELETE FROM containers WHERE id = ?", &st, e);
	if (r == 0) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		r = step_done(s, st, "removing the container", e);
	}
	for (int i = 0; r == 0 && i < 2; i++) {
		const char *base = i == 0 ? s->root : s->runroot;
		if (i == 1 && (!base || !strcmp(base, s->root)))
			break;
		_cleanup_free_ char *dir = xasprintf("%s/containers", base);
		_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (i == 0 && lock >= 0) {
			detach_merged(fd, id);
			moved = renameat(fd, id, AT_FDCWD, trash) == 0;
			if (moved || errno == ENOENT)
				continue;
		}
		/* Not locked, not movable (a leftover of the same name), or
		 * the run dir: deleted in place. */
		if (store_container_dir_discard(s, fd, id, NULL) == -EIO)
			r = kerror_set(e, EIO, "removing the directory of container %s", id);
	}
	store_unlock(s);
	if (moved)
		recycle(s, trash);
	if (r == 0 && gone)
		store_container_event(s, gone, "destroy", NULL, NULL);
	return r;
}

int store_image_container(struct store *s, const char *image_id, char **ctr_id,
			  struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "SELECT id FROM containers WHERE image_id = ? "
			      "ORDER BY created DESC LIMIT 1",
			   &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, image_id, -1, SQLITE_STATIC);
	*ctr_id = sqlite3_step(st) == SQLITE_ROW ? xstrdup(text(st, 0)) : NULL;
	return 0;
}

int store_container_rename(struct store *s, const char *id, const char *name, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "UPDATE containers SET name = ? WHERE id = ?", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	_cleanup_container_info_ struct container_info *before = NULL;
	if (store_container_get(s, id, &before, NULL) < 0)
		before = NULL;
	if (sqlite3_step(st) == SQLITE_DONE) {
		if (!sqlite3_changes(s->db))
			return kerror_set(e, ENOENT, "no container with ID \"%s\" found", id);
		if (before) {
			const char *old = before->name;
			before->name = (char *)name;
			store_container_event(s, before, "rename", "oldName", old);
			before->name = (char *)old;
		}
		return 0;
	}
	if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE) {
		_cleanup_container_info_ struct container_info *other = NULL;
		if (store_container_get(s, name, &other, NULL) == 0)
			return kerror_set(e, EEXIST,
					  "the container name \"%s\" is already in use by %s. You "
					  "have to remove that container to be able to reuse that "
					  "name: that name is already in use",
					  name, other->id);
	}
	return db_error(s, "renaming the container", e);
}
