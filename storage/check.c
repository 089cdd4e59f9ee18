/* kiln system check: the store's files and rows checked against each other,
 * every problem reported in one line, and with repair the broken parts
 * removed (or a lost layer directory rebuilt from its blob) while what is
 * sound stays.  Everything runs under the store lock: no commit or removal
 * is half done while the check looks. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "storage/store_private.h"

struct lrow {
	char *id, *parent, *diff_id, *blob, *blob_type;
	bool bad;     /* broken beyond repair: the images using it go */
	bool used;    /* reached from an image */
	bool checked; /* to be checked (all of them unless only the unsynced) */
	bool rebuild; /* its directory may have lost files: re-extract its blob */
};

struct check {
	struct store *s;
	const struct store_check_opts *o;
	/* The recovery of unsynced layers (syncer.c): only these layers are
	 * checked, and only what their loss breaks (images, containers). */
	const struct unsynced_set *unsynced;
	struct store_check_report *rep;
	struct store_tmp t;
	struct lrow *layers;
	size_t nl;
	char **drop_images;     /* image ids to remove */
	char **drop_containers; /* container ids to remove */
	char **forget_manifest; /* image ids whose manifest blob is gone */
};

static void problem(struct check *c, bool repaired, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void problem(struct check *c, bool repaired, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	strv_push(&c->rep->problems, msg);
	c->rep->repaired = xrealloc(c->rep->repaired, strv_len(c->rep->problems) * sizeof(bool));
	c->rep->repaired[c->rep->n++] = repaired;
}

static char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? xstrdup((const char *)t) : NULL;
}

static int cmp_lrow(const void *a, const void *b)
{
	return strcmp(((const struct lrow *)a)->id, ((const struct lrow *)b)->id);
}

static struct lrow *find_layer(struct check *c, const char *id)
{
	struct lrow key = { .id = (char *)id };
	if (!id || !c->nl)
		return NULL;
	return bsearch(&key, c->layers, c->nl, sizeof(key), cmp_lrow);
}

static bool strv_has(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* sha256 of a file; -errno if it cannot be read. */
static int hash_file(const char *path, char out[DIGEST_STR_LEN + 1])
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_digester_ struct digester *d = digester_new();
	_cleanup_free_ char *buf = xmalloc(1 << 16);
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, 1 << 16)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		digester_update(d, buf, (size_t)n);
	}
	digester_final(d, out);
	return 0;
}

/* NULL when the blob is sound, else why not (a new string). */
static char *blob_problem(struct check *c, const char *digest)
{
	_cleanup_free_ char *p = NULL;
	char got[DIGEST_STR_LEN + 1];
	struct stat sb;

	if (!digest_is_sha256(digest))
		return xasprintf("invalid digest \"%s\"", digest);
	p = store_blob_path(c->s, digest);
	if (stat(p, &sb) < 0 || !S_ISREG(sb.st_mode))
		return xasprintf("blob %s is missing", digest);
	if (c->o->quick)
		return NULL;
	if (hash_file(p, got) < 0)
		return xasprintf("blob %s cannot be read: %s", digest, strerror(errno));
	if (strcmp(got, digest) != 0)
		return xasprintf("blob %s is corrupt (its content hashes to %s)", digest, got);
	return NULL;
}

/* tmp/ entries no live operation holds (store_open removed the ones there
 * were when it ran; one may have appeared since). */
static void check_tmp(struct check *c)
{
	_cleanup_free_ char *dir = xasprintf("%s/tmp", c->s->root);
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		_cleanup_close_ int fd = -1;
		_cleanup_kerror_ struct kerror e = { 0 };
		if (de->d_name[0] == '.')
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
			continue; /* a live operation's (or this check's own) */
		bool fixed = c->o->repair && fs_rm_rf_at(dirfd(d), de->d_name, &e) == 0;
		problem(c, fixed, "tmp/%s: left by an interrupted operation", de->d_name);
	}
}

static int load_layers(struct check *c, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int r = db_prepare(c->s,
			   "SELECT id, parent, diff_id, compressed_digest, compressed_media_type "
			   "FROM layers",
			   &st, e);
	if (r < 0)
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (c->nl == cap) {
			cap = cap ? cap * 2 : 64;
			c->layers = xrealloc(c->layers, cap * sizeof(*c->layers));
		}
		struct lrow *l = &c->layers[c->nl++];
		memset(l, 0, sizeof(*l));
		l->id = col(st, 0);
		l->parent = col(st, 1);
		l->diff_id = col(st, 2);
		l->blob = col(st, 3);
		l->blob_type = col(st, 4);
		if (!l->id)
			l->id = xstrdup("");
	}
	if (c->nl)
		qsort(c->layers, c->nl, sizeof(*c->layers), cmp_lrow);
	return 0;
}

static int discard_sink(void *ctx, const void *data, size_t n, struct kerror *e)
{
	(void)ctx, (void)data, (void)n, (void)e;
	return 0;
}

/* Re-extracts a layer whose directory is gone from its (sound) blob. */
static int rebuild_layer(struct check *c, struct lrow *l, struct kerror *e)
{
	_cleanup_free_ char *bp = store_blob_path(c->s, l->blob);
	_cleanup_free_ char *dst = xasprintf("%s/layers/%s", c->s->root, l->id);
	_cleanup_free_ char *parent = l->parent ? xasprintf("sha256:%s", l->parent) : NULL;
	_cleanup_close_ int fd = open(bp, O_RDONLY | O_CLOEXEC);
	struct staged_layer sl = { 0 };
	int r;

	if (fd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", bp);
	r = store_stage_layer(c->s, &c->t, fd, parent, &sl, e);
	if (r == 0 && (strcmp(sl.diff_id, l->diff_id) != 0 || strcmp(digest_hex(sl.chain_id), l->id)))
		r = kerror_set(e, EBADMSG, "its blob unpacks to %s, not %s", sl.diff_id, l->diff_id);
	/* Its files reach the disk before it replaces what is there. */
	if (r == 0 && syncfs(c->s->root_fd) < 0)
		r = kerror_sys(e, errno, "syncing the store");
	if (r == 0) {
		_cleanup_kerror_ struct kerror e2 = { 0 };
		fs_rm_rf(dst, &e2); /* what is left of it */
		if (rename(sl.dir, dst) < 0)
			r = kerror_sys(e, errno, "renaming into \"%s\"", dst);
	}
	staged_layer_release(&sl);
	return r;
}

static void check_layer(struct check *c, struct lrow *l)
{
	_cleanup_free_ char *diff = store_layer_diff_path(c->s, l->id);
	_cleanup_free_ char *why = NULL;
	char want[DIGEST_STR_LEN + 1];
	struct stat sb;

	if (strlen(l->id) != DIGEST_HEX_LEN || !l->diff_id || !digest_is_sha256(l->diff_id)) {
		l->bad = true;
		problem(c, c->o->repair, "layer %s: invalid record", l->id);
		return;
	}
	if (l->parent && !find_layer(c, l->parent)) {
		l->bad = true;
		problem(c, c->o->repair, "layer %s: its parent layer %s is missing", l->id, l->parent);
		return;
	}
	{
		_cleanup_free_ char *pc = l->parent ? xasprintf("sha256:%s", l->parent) : NULL;
		digest_chain(pc, l->diff_id, want);
		if (strcmp(digest_hex(want), l->id) != 0) {
			l->bad = true;
			problem(c, c->o->repair,
				"layer %s: its ID does not match its parent and diff ID %s", l->id,
				l->diff_id);
			return;
		}
	}
	if (l->blob && (why = blob_problem(c, l->blob))) {
		l->bad = true;
		problem(c, c->o->repair, "layer %s: %s", l->id, why);
		return;
	}
	if (l->rebuild && l->blob) {
		/* A blob-backed directory cannot be re-hashed against its diff
		 * ID (its tar is not re-created byte for byte): re-extracting the
		 * sound blob checks the diff ID and restores any lost file. */
		_cleanup_kerror_ struct kerror e = { 0 };
		if (rebuild_layer(c, l, &e) < 0) {
			l->bad = true;
			problem(c, true, "layer %s: rebuilding its directory failed: %s", l->id,
				e.msg);
		}
		return;
	}
	if (stat(diff, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		_cleanup_kerror_ struct kerror e = { 0 };
		if (!l->blob) {
			l->bad = true;
			problem(c, c->o->repair, "layer %s: its directory is missing", l->id);
		} else if (!c->o->repair) {
			problem(c, false, "layer %s: its directory is missing (its blob can rebuild it)",
				l->id);
		} else if (rebuild_layer(c, l, &e) == 0) {
			problem(c, true, "layer %s: its directory was missing, rebuilt from its blob",
				l->id);
		} else {
			l->bad = true;
			problem(c, true, "layer %s: its directory is missing and rebuilding it failed: %s",
				l->id, e.msg);
		}
		return;
	}
	if (!c->o->quick) {
		_cleanup_kerror_ struct kerror e = { 0 };
		if (store_layer_read_tar(c->s, l->id, discard_sink, NULL, &e) < 0) {
			l->bad = true;
			problem(c, c->o->repair, "layer %s: its content does not match its diff ID %s: %s",
				l->id, l->diff_id, e.msg);
		}
	}
}

static void check_layer_dirs(struct check *c)
{
	_cleanup_free_ char *dir = xasprintf("%s/layers", c->s->root);
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && !find_layer(c, de->d_name))
			problem(c, c->o->repair, "layer directory layers/%s: no layer record (orphan)",
				de->d_name);
}

/* The image's chain, top down: every layer present and sound. */
static char *chain_problem(struct check *c, const char *top)
{
	const char *cur = top;
	for (size_t depth = 0; cur; depth++) {
		struct lrow *l = find_layer(c, cur);
		if (!l)
			return xasprintf("its layer %s is missing", cur);
		if (l->bad)
			return xasprintf("its layer %s is damaged", cur);
		if (depth > c->nl)
			return xasprintf("its layer chain loops at %s", cur);
		cur = l->parent;
	}
	return NULL;
}

static void mark_used(struct check *c, const char *top)
{
	for (size_t depth = 0; top && depth <= c->nl; depth++) {
		struct lrow *l = find_layer(c, top);
		if (!l)
			return;
		l->used = true;
		top = l->parent;
	}
}

static int check_images(struct check *c, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(c->s, "SELECT id, top_layer, manifest_digest FROM images", &st, e);
	if (r < 0)
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		_cleanup_free_ char *id = col(st, 0), *top = col(st, 1), *man = col(st, 2);
		_cleanup_free_ char *cfg = NULL, *why = NULL;
		if (!id)
			continue;
		cfg = xasprintf("sha256:%s", id);
		mark_used(c, top);
		if ((why = blob_problem(c, cfg)) || (why = chain_problem(c, top))) {
			problem(c, c->o->repair, "image %s: %s", id, why);
			strv_push(&c->drop_images, steal_pointer(&id));
			continue;
		}
		if (man && (why = blob_problem(c, man))) {
			problem(c, c->o->repair, "image %s: its manifest %s", id, why);
			strv_push(&c->forget_manifest, steal_pointer(&id));
		}
	}
	{
		_cleanup_stmt_ sqlite3_stmt *h = NULL;
		r = db_prepare(c->s, "SELECT layer FROM layer_holds", &h, e);
		if (r < 0)
			return r;
		while (sqlite3_step(h) == SQLITE_ROW)
			mark_used(c, (const char *)sqlite3_column_text(h, 0));
	}
	for (size_t i = 0; i < c->nl && !c->unsynced; i++)
		if (!c->layers[i].used && !c->layers[i].bad)
			problem(c, c->o->repair, "layer %s: no image uses it", c->layers[i].id);
	return 0;
}

/* Rows naming an image that is not there. */
static int check_dangling(struct check *c, const char *sql, const char *what, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(c->s, sql, &st, e);
	if (r < 0)
		return r;
	while (sqlite3_step(st) == SQLITE_ROW)
		problem(c, c->o->repair, "%s %s: points at the missing image %s", what,
			sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
	return 0;
}

static int check_containers(struct check *c, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(c->s,
			   "SELECT c.id, c.name, c.image_id, i.id FROM containers c "
			   "LEFT JOIN images i ON i.id = c.image_id",
			   &st, e);
	if (r < 0)
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *img = (const char *)sqlite3_column_text(st, 2);
		bool gone = sqlite3_column_type(st, 3) == SQLITE_NULL;
		if (!id || !img || !*img) /* a --rootfs container has no image */
			continue;
		if (!gone && !strv_has(c->drop_images, img))
			continue;
		problem(c, c->o->repair, "container %s (%s): its image %s is %s", id,
			sqlite3_column_text(st, 1), img, gone ? "missing" : "damaged");
		strv_push(&c->drop_containers, xstrdup(id));
	}
	return 0;
}

static void check_container_dirs(struct check *c, const char *base)
{
	_cleanup_free_ char *dir = xasprintf("%s/containers", base);
	_cleanup_closedir_ DIR *d = opendir(dir);
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	struct dirent *de;

	if (!d || db_prepare(c->s, "SELECT 1 FROM containers WHERE id = ?", &q, NULL) < 0)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, de->d_name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) != SQLITE_ROW)
			problem(c, c->o->repair, "container directory %s/%s: no container record "
				"(orphan)", dir, de->d_name);
	}
}

static int check_blobs(struct check *c, struct kerror *e)
{
	_cleanup_free_ char *dir = xasprintf("%s/blobs/sha256", c->s->root);
	_cleanup_closedir_ DIR *d = opendir(dir);
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	struct dirent *de;
	int r = db_prepare(c->s,
			   "SELECT 1 WHERE EXISTS (SELECT 1 FROM images WHERE id = ?1 OR "
			   "manifest_digest = 'sha256:' || ?1) OR EXISTS (SELECT 1 FROM layers "
			   "WHERE compressed_digest = 'sha256:' || ?1)",
			   &q, e);
	if (r < 0)
		return r;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, de->d_name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) != SQLITE_ROW)
			problem(c, c->o->repair, "blob sha256:%s: nothing references it", de->d_name);
	}
	return 0;
}

static int exec_each(struct store *s, const char *sql, char *const *ids, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, sql, &st, e);
	for (size_t i = 0; r == 0 && ids && ids[i]; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = db_error(s, "repairing the store", e);
	}
	return r;
}

/* One transaction for every row repair, then the sweep removes what no
 * row references any more (the damaged layers' directories and blobs,
 * orphans, the removed images' blobs). */
static int repair(struct check *c, struct kerror *e)
{
	_cleanup_strv_ char **bad = xcalloc(1, sizeof(char *));
	struct gc_stats gs = { 0 };
	int r;

	for (size_t i = 0; i < c->nl; i++)
		if (c->layers[i].bad)
			strv_push(&bad, xstrdup(c->layers[i].id));
	r = db_begin(c->s, e);
	if (r < 0)
		return r;
	static const char *const per_image[] = {
		"DELETE FROM names WHERE image_id = ?1",
		"DELETE FROM repo_digests WHERE image_id = ?1",
		"DELETE FROM signatures WHERE image_id = ?1",
		"DELETE FROM images WHERE id = ?1",
	};
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(per_image); i++)
		r = exec_each(c->s, per_image[i], c->drop_images, e);
	if (r == 0)
		r = exec_each(c->s, "DELETE FROM containers WHERE id = ?1", c->drop_containers, e);
	if (r == 0)
		r = exec_each(c->s, "UPDATE images SET manifest_digest = NULL WHERE id = ?1",
			      c->forget_manifest, e);
	if (r == 0)
		r = exec_each(c->s, "DELETE FROM layers WHERE id = ?1", bad, e);
	if (r == 0)
		r = db_exec(c->s,
			    "DELETE FROM names WHERE image_id NOT IN (SELECT id FROM images);"
			    "DELETE FROM repo_digests WHERE image_id NOT IN (SELECT id FROM images);"
			    "DELETE FROM signatures WHERE image_id NOT IN (SELECT id FROM images);",
			    e);
	if (r == 0)
		r = db_commit(c->s, e);
	else
		db_rollback(c->s);
	if (r < 0)
		return kerror_wrap(e, "repairing the store");
	return store_sweep_locked(c->s, &c->t, &gs, e);
}

void store_check_report_release(struct store_check_report *r)
{
	strv_free(r->problems);
	free(r->repaired);
	memset(r, 0, sizeof(*r));
}

/* Marks the layers to check: all, or those the recovery names. */
static void select_layers(struct check *c)
{
	for (size_t i = 0; i < c->nl; i++)
		c->layers[i].checked = !c->unsynced;
	for (size_t i = 0; c->unsynced && c->unsynced->layers && c->unsynced->layers[i]; i++) {
		struct lrow *l = find_layer(c, c->unsynced->layers[i]);
		if (l) {
			l->checked = true;
			l->rebuild = c->unsynced->rebuild[i];
		}
	}
}

/* What the whole-store check adds to the layers and images: rows and
 * files nothing references. */
static int check_leftovers(struct check *c, struct kerror *e)
{
	int r;

	check_layer_dirs(c);
	r = check_dangling(c, "SELECT name, image_id FROM names WHERE image_id NOT IN "
			      "(SELECT id FROM images)", "name", e);
	if (r == 0)
		r = check_dangling(c, "SELECT repo_digest, image_id FROM repo_digests WHERE "
				      "image_id NOT IN (SELECT id FROM images)", "repo digest", e);
	if (r == 0)
		r = check_dangling(c, "SELECT sig_digest, image_id FROM signatures WHERE "
				      "image_id NOT IN (SELECT id FROM images)", "signature", e);
	if (r == 0)
		r = check_blobs(c, e);
	if (r < 0)
		return r;
	check_container_dirs(c, c->s->root);
	if (c->s->runroot && strcmp(c->s->runroot, c->s->root) != 0)
		check_container_dirs(c, c->s->runroot);
	return 0;
}

static int check_locked(struct check *c, struct kerror *e)
{
	int r;

	if (!c->unsynced)
		check_tmp(c);
	r = load_layers(c, e);
	if (r < 0)
		return r;
	select_layers(c);
	for (size_t i = 0; i < c->nl; i++)
		if (c->layers[i].checked)
			check_layer(c, &c->layers[i]);
	/* A layer on a damaged parent cannot be used either. */
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < c->nl; i++) {
			struct lrow *p = find_layer(c, c->layers[i].parent);
			if (!c->layers[i].bad && p && p->bad) {
				c->layers[i].bad = changed = true;
				problem(c, c->o->repair, "layer %s: its parent %s is damaged",
					c->layers[i].id, p->id);
			}
		}
	}
	r = check_images(c, e);
	if (r == 0)
		r = check_containers(c, e);
	if (r == 0 && !c->unsynced)
		r = check_leftovers(c, e);
	if (r == 0 && c->o->repair && c->rep->n)
		r = repair(c, e);
	return r;
}

static int run_check(struct store *s, const struct store_check_opts *o,
		     const struct unsynced_set *u, struct store_check_report *rep, struct kerror *e)
{
	struct check c = { .s = s, .o = o, .unsynced = u, .rep = rep, .t = { .lock_fd = -1 } };
	int r;

	memset(rep, 0, sizeof(*rep));
	rep->problems = xcalloc(1, sizeof(char *));
	if (o->repair && s->read_only)
		return kerror_set(e, EROFS, "the store \"%s\" is read-only", s->root);
	if (o->repair) {
		store_reserve_release(s);
		/* Room for rebuilt and removed directories (none on a full
		 * disk: then removals happen in place). */
		if (store_tmp_create(s, &c.t, NULL) < 0)
			c.t.path = NULL;
	}
	r = store_lock(s, e);
	if (r == 0) {
		r = check_locked(&c, e);
		store_unlock(s);
	}
	store_tmp_release(&c.t);
	for (size_t i = 0; i < c.nl; i++) {
		free(c.layers[i].id);
		free(c.layers[i].parent);
		free(c.layers[i].diff_id);
		free(c.layers[i].blob);
		free(c.layers[i].blob_type);
	}
	free(c.layers);
	strv_free(c.drop_images);
	strv_free(c.drop_containers);
	strv_free(c.forget_manifest);
	return r;
}

int store_check(struct store *s, const struct store_check_opts *o,
		struct store_check_report *rep, struct kerror *e)
{
	return run_check(s, o, NULL, rep, e);
}

int store_check_unsynced(struct store *s, const struct unsynced_set *u,
			 struct store_check_report *rep, struct kerror *e)
{
	static const struct store_check_opts o = { .repair = true };
	return run_check(s, &o, u, rep, e);
}
