/* The tar of an overlay layer directory (an upper dir after a build step):
 * a deterministic walk, so that the same tree always gives the same bytes
 * and a layer whose stream was never stored can be re-created exactly
 * (save, push) from its directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "storage/store_private.h"

#define CHUNK (256 * 1024)
#define MAX_DEPTH 256
#define XATTR_LIST_MAX_BYTES (64 * 1024)

/* A hardlinked file seen before: later names become typeflag 1 entries. */
struct link_seen {
	dev_t dev;
	ino_t ino;
	char *name;
	struct link_seen *next;
};

struct diff_walk {
	struct tar_writer w;
	char *const *lowers;
	struct buf path; /* the entry's path relative to the layer root */
	const char *root;
	char *chunk;
	struct link_seen *links[256];
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entry names of dirfd, sorted bytewise ("." and ".." dropped). */
static int read_names(int dirfd, char ***out, size_t *n, struct kerror *e)
{
	int fd = dup(dirfd);
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t len = 0, cap = 0;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return kerror_sys(e, errno, "reading a layer directory");
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[len++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (len)
		qsort(v, len, sizeof(*v), cmp_names);
	*out = v;
	*n = len;
	return 0;
}

static bool xattr_kept(const char *name)
{
	/* overlay's own bookkeeping and trusted.* never go into a layer. */
	return !str_has_prefix(name, "trusted.") && !str_has_prefix(name, "user.overlay.") &&
	       strcmp(name, "security.selinux") != 0;
}

/* The entry's xattrs (kept ones only), sorted by name; values point into
 * *store.  Returns the count. */
static size_t read_xattrs(const char *path, struct tar_xattr **out, char **store)
{
	char *list = xmalloc(XATTR_LIST_MAX_BYTES);
	ssize_t n = llistxattr(path, list, XATTR_LIST_MAX_BYTES);
	char *names[64];
	size_t cnt = 0;
	struct buf vals = { 0 };
	size_t offs[64], lens[64];

	*out = NULL;
	*store = NULL;
	for (ssize_t i = 0; n > 0 && i < n && cnt < ARRAY_SIZE(names); i += (ssize_t)strlen(list + i) + 1)
		if (xattr_kept(list + i))
			names[cnt++] = list + i;
	if (cnt == 0) {
		free(list);
		return 0;
	}
	qsort(names, cnt, sizeof(names[0]), cmp_names);
	for (size_t i = 0; i < cnt; i++) {
		char v[4096];
		ssize_t vl = lgetxattr(path, names[i], v, sizeof(v));
		offs[i] = vals.len;
		lens[i] = vl > 0 ? (size_t)vl : 0;
		if (vl > 0)
			buf_append(&vals, v, (size_t)vl);
	}
	/* One allocation: the name strings, then the values. */
	{
		struct buf all = { 0 };
		size_t name_offs[64];
		for (size_t i = 0; i < cnt; i++) {
			name_offs[i] = all.len;
			buf_append(&all, names[i], strlen(names[i]) + 1);
		}
		size_t vbase = all.len;
		if (vals.len)
			buf_append(&all, vals.data, vals.len);
		buf_append(&all, "", 1);
		*out = xcalloc(cnt + 1, sizeof(**out));
		for (size_t i = 0; i < cnt; i++) {
			(*out)[i].name = all.data + name_offs[i];
			(*out)[i].value = all.data + vbase + offs[i];
			(*out)[i].len = lens[i];
		}
		*store = all.data;
	}
	buf_release(&vals);
	free(list);
	return cnt;
}

static bool dir_below(char *const *lowers, const char *rel)
{
	for (size_t i = 0; lowers && lowers[i]; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", lowers[i], rel);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			return true;
	}
	return false;
}

static unsigned link_bucket(dev_t dev, ino_t ino)
{
	return (unsigned)((ino * 2654435761u) ^ dev) & 255u;
}

static const char *link_first(struct diff_walk *w, const struct stat *st, const char *name)
{
	unsigned b = link_bucket(st->st_dev, st->st_ino);
	for (struct link_seen *l = w->links[b]; l; l = l->next)
		if (l->dev == st->st_dev && l->ino == st->st_ino)
			return l->name;
	struct link_seen *l = xmalloc(sizeof(*l));
	l->dev = st->st_dev;
	l->ino = st->st_ino;
	l->name = xstrdup(name);
	l->next = w->links[b];
	w->links[b] = l;
	return NULL;
}

static int file_data(struct diff_walk *w, int dirfd, const char *name, int64_t size,
		     struct kerror *e)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int64_t left = size;

	if (fd < 0)
		return kerror_sys(e, errno, "reading \"%s\"", w->path.data);
	while (left > 0) {
		ssize_t n = read(fd, w->chunk, left < CHUNK ? (size_t)left : CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kerror_sys(e, errno, "reading \"%s\"", w->path.data);
		if (n == 0)
			return kerror_set(e, EIO, "\"%s\" shrank while it was read", w->path.data);
		int r = tar_writer_data(&w->w, w->chunk, (size_t)n, e);
		if (r < 0)
			return r;
		left -= n;
	}
	return 0;
}

static int walk_dir(struct diff_walk *w, int dirfd, int depth, struct kerror *e);

/* One entry; w->path holds its relative path. */
static int walk_entry(struct diff_walk *w, int dirfd, const char *name, int depth,
		      struct kerror *e)
{
	struct stat st;
	_cleanup_free_ char *full = NULL, *xstore = NULL, *tarname = NULL, *target = NULL;
	_cleanup_free_ struct tar_xattr *xattrs = NULL;
	struct tar_entry t = { 0 };
	int r;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return kerror_sys(e, errno, "reading \"%s\"", w->path.data);
	t.mode = st.st_mode & 07777;
	t.uid = st.st_uid;
	t.gid = st.st_gid;
	t.mtime = st.st_mtim.tv_sec;
	if (store_is_whiteout(&st)) {
		/* A whiteout: ".wh.NAME" in the same directory. */
		size_t base = w->path.len - strlen(name);
		tarname = xasprintf("%.*s.wh.%s", (int)base, w->path.data, name);
		t.name = tarname;
		t.type = TAR_REG;
		t.mode = 0;
		return tar_writer_add(&w->w, &t, e);
	}
	full = xasprintf("%s/%s", w->root, w->path.data);
	if (!S_ISSOCK(st.st_mode))
		read_xattrs(full, &xattrs, &xstore);
	t.xattrs = xattrs;
	if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int sub = -1;
		tarname = xasprintf("%s/", w->path.data);
		t.name = tarname;
		t.type = TAR_DIR;
		r = tar_writer_add(&w->w, &t, e);
		if (r < 0)
			return r;
		if (store_is_opaque(full) && dir_below(w->lowers, w->path.data)) {
			_cleanup_free_ char *opq = xasprintf("%s/.wh..wh..opq", w->path.data);
			struct tar_entry o = { .name = opq, .type = TAR_REG, .mode = t.mode,
					       .uid = t.uid, .gid = t.gid, .mtime = t.mtime };
			r = tar_writer_add(&w->w, &o, e);
			if (r < 0)
				return r;
		}
		if (depth >= MAX_DEPTH)
			return kerror_set(e, ELOOP, "\"%s\": directories nested too deeply",
					  w->path.data);
		sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			return kerror_sys(e, errno, "opening \"%s\"", w->path.data);
		return walk_dir(w, sub, depth + 1, e);
	}
	t.name = w->path.data;
	if (S_ISLNK(st.st_mode)) {
		target = xmalloc((size_t)st.st_size + 2 > 4097 ? (size_t)st.st_size + 2 : 4097);
		ssize_t n = readlinkat(dirfd, name, target, (size_t)st.st_size + 1 > 4096 ?
							     (size_t)st.st_size + 1 : 4096);
		if (n < 0)
			return kerror_sys(e, errno, "reading the link \"%s\"", w->path.data);
		target[n] = '\0';
		t.type = TAR_SYMLINK;
		t.link = target;
		return tar_writer_add(&w->w, &t, e);
	}
	if (S_ISFIFO(st.st_mode)) {
		t.type = TAR_FIFO;
		return tar_writer_add(&w->w, &t, e);
	}
	if (!S_ISREG(st.st_mode)) {
		/* Devices (other than whiteouts) and sockets are not kept. */
		log_debug("layer diff: skipping special file %s", w->path.data);
		return 0;
	}
	if (st.st_nlink > 1) {
		const char *first = link_first(w, &st, w->path.data);
		if (first) {
			t.type = TAR_HARDLINK;
			t.link = first;
			return tar_writer_add(&w->w, &t, e);
		}
	}
	t.type = TAR_REG;
	t.size = st.st_size;
	r = tar_writer_add(&w->w, &t, e);
	if (r == 0)
		r = file_data(w, dirfd, name, st.st_size, e);
	return r;
}

static int walk_dir(struct diff_walk *w, int dirfd, int depth, struct kerror *e)
{
	char **names = NULL;
	size_t n = 0, base = w->path.len;
	int r = read_names(dirfd, &names, &n, e);

	for (size_t i = 0; r == 0 && i < n; i++) {
		w->path.len = base;
		if (base)
			buf_append(&w->path, "/", 1);
		buf_append(&w->path, names[i], strlen(names[i]));
		buf_append(&w->path, "", 1);
		w->path.len--;
		r = walk_entry(w, dirfd, names[i], depth, e);
	}
	w->path.len = base;
	if (w->path.data)
		w->path.data[base] = '\0';
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

int tar_diff_write(const char *diff_dir, char *const *lowers, layer_sink sink, void *ctx,
		   struct kerror *e)
{
	struct diff_walk w = { .w = { .sink = sink, .ctx = ctx }, .lowers = lowers,
			       .root = diff_dir };
	_cleanup_close_ int fd = open(diff_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", diff_dir);
	w.chunk = xmalloc(CHUNK);
	buf_append(&w.path, "", 1);
	w.path.len = 0;
	r = walk_dir(&w, fd, 0, e);
	if (r == 0)
		r = tar_writer_close(&w.w, e);
	for (size_t i = 0; i < ARRAY_SIZE(w.links); i++)
		while (w.links[i]) {
			struct link_seen *l = w.links[i];
			w.links[i] = l->next;
			free(l->name);
			free(l);
		}
	free(w.chunk);
	buf_release(&w.path);
	return r;
}

struct hash_sink {
	struct digester *d;
	int64_t n;
};

static int hash_sink(void *ctx, const void *data, size_t n, struct kerror *e)
{
	struct hash_sink *h = ctx;
	(void)e;
	digester_update(h->d, data, n);
	h->n += (int64_t)n;
	return 0;
}

int store_stage_layer_dir(struct store *s, const char *layer_dir, char *const *lowers,
			  const char *parent_chain, struct staged_layer *out, struct kerror *e)
{
	_cleanup_free_ char *diff = xasprintf("%s/diff", layer_dir);
	struct hash_sink h = { .d = digester_new() };
	int r;

	(void)s;
	memset(out, 0, sizeof(*out));
	r = tar_diff_write(diff, lowers, hash_sink, &h, e);
	if (r == 0) {
		digester_final(h.d, out->diff_id);
		digest_chain(parent_chain, out->diff_id, out->chain_id);
		out->size = h.n;
		out->dir = xstrdup(layer_dir);
	}
	digester_free(h.d);
	return r;
}

static int clamp_dir(int dirfd, const struct timespec ts[2], int depth, struct kerror *e)
{
	char **names = NULL;
	size_t n = 0;
	int r = read_names(dirfd, &names, &n, e);

	for (size_t i = 0; r == 0 && i < n; i++) {
		struct stat st;
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH) {
			int sub = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
							   O_CLOEXEC);
			if (sub >= 0) {
				r = clamp_dir(sub, ts, depth + 1, e);
				close(sub);
			}
		}
		if (r == 0 && utimensat(dirfd, names[i], ts, AT_SYMLINK_NOFOLLOW) < 0)
			r = kerror_sys(e, errno, "setting the time of \"%s\"", names[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

int tar_diff_clamp_mtimes(const char *dir, int64_t sec, struct kerror *e)
{
	struct timespec ts[2] = { { .tv_sec = sec }, { .tv_sec = sec } };
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", dir);
	int r = clamp_dir(fd, ts, 0, e);
	if (r == 0)
		futimens(fd, ts);
	return r;
}

int tar_diff_layer(struct store *s, const char *id, layer_sink sink, void *ctx,
		   struct kerror *e)
{
	_cleanup_strv_ char **lowers = NULL;
	_cleanup_free_ char *diff = store_layer_diff_path(s, id);
	_cleanup_free_ char *parent = NULL;
	int r;

	{
		struct layer_info li = { 0 };
		r = store_layer_get(s, id, &li, e);
		if (r < 0)
			return r;
		parent = steal_pointer(&li.parent);
		layer_info_release(&li);
	}
	for (int depth = 0; parent && depth < 4096; depth++) {
		struct layer_info li = { 0 };
		r = store_layer_get(s, parent, &li, e);
		if (r < 0)
			return r;
		strv_push(&lowers, store_layer_diff_path(s, parent));
		free(parent);
		parent = steal_pointer(&li.parent);
		layer_info_release(&li);
	}
	return tar_diff_write(diff, lowers, sink, ctx, e);
}
