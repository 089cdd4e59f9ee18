/* kiln load, first half: one pass over the archive (a tar from a file or a
 * pipe, any whole-archive compression, or a directory).  Small and JSON
 * entries are kept in memory; every other regular file is streamed straight
 * into a staged layer while its raw bytes are hashed, so nothing is
 * extracted twice and stdin needs no spooling.  Blob names are checked
 * against what their bytes hash to as they pass. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storage/archive_load.h"

#define CHUNK (256 * 1024)
#define SMALL_FILE 4096                   /* kept in memory whatever it holds */
#define META_TOTAL_MAX (64 * 1024 * 1024) /* all in-memory entries together */
#define ENTRIES_MAX 100000
#define PATH_MAX_LEN 4096
#define DIR_DEPTH_MAX 8
#define LINK_HOPS_MAX 4

/* ---- paths -------------------------------------------------------------- */

char *archive_path_clean(const char *base, const char *path)
{
	_cleanup_strv_ char **parts = NULL;
	_cleanup_free_ char *joined = NULL;
	struct buf out = { 0 };
	char *save = NULL, *tok;

	if (!path || !*path || strlen(path) > PATH_MAX_LEN)
		return NULL;
	if (path[0] == '/' && !base)
		return NULL;
	if (base && path[0] != '/') {
		const char *sl = strrchr(base, '/');
		joined = sl ? xasprintf("%.*s/%s", (int)(sl - base), base, path) : xstrdup(path);
	} else {
		/* An absolute link target means the archive's root. */
		joined = xstrdup(path);
	}
	for (tok = strtok_r(joined, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (strcmp(tok, ".") == 0)
			continue;
		if (strcmp(tok, "..") == 0) {
			/* Entry names never climb; a link target may, within
			 * the archive ("../<diffid>.tar" of the classic layout). */
			size_t n = strv_len(parts);
			if (!base || n == 0)
				return NULL;
			free(parts[n - 1]);
			parts[n - 1] = NULL;
			if (n == 1)
				strv_free(steal_pointer(&parts));
			continue;
		}
		strv_push(&parts, xstrdup(tok));
	}
	if (!parts)
		return NULL;
	for (size_t i = 0; parts[i]; i++)
		buf_printf(&out, "%s%s", i ? "/" : "", parts[i]);
	return buf_steal(&out);
}

static struct load_entry *find_exact(struct load_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->ents[i].name, name) == 0)
			return &c->ents[i];
	return NULL;
}

struct load_entry *load_find(struct load_ctx *c, const char *path)
{
	_cleanup_free_ char *name = archive_path_clean(NULL, path);
	struct load_entry *ent = name ? find_exact(c, name) : NULL;

	for (int hop = 0; ent && ent->kind == ENTRY_LINK; hop++)
		ent = hop < LINK_HOPS_MAX ? find_exact(c, ent->link) : NULL;
	return ent;
}

struct load_entry *load_find_blob(struct load_ctx *c, const char *digest)
{
	_cleanup_free_ char *path = NULL;
	struct load_entry *ent;

	if (!digest_is_sha256(digest))
		return NULL;
	path = xasprintf("blobs/sha256/%s", digest_hex(digest));
	ent = load_find(c, path);
	return ent ? ent : load_find(c, digest_hex(digest));
}

/* The digest a name claims: blobs/sha256/<hex>, or <hex> at the top. */
static bool claimed_digest(const char *name, char out[DIGEST_STR_LEN + 1])
{
	const char *hex = str_has_prefix(name, "blobs/sha256/") ? name + strlen("blobs/sha256/")
			  : strchr(name, '/') == NULL		? name
								: NULL;
	if (!hex || strlen(hex) != DIGEST_HEX_LEN)
		return false;
	snprintf(out, DIGEST_STR_LEN + 1, "sha256:%s", hex);
	return digest_is_sha256(out);
}

/* ---- one entry ---------------------------------------------------------- */

/* The raw bytes of the entry being read; every byte read is hashed. */
struct raw_src {
	ssize_t (*read)(void *ctx, void *buf, size_t cap, struct kerror *e);
	void *ctx;
	struct digester *d;
	char *buf;
	int64_t total;
	/* bytes read ahead (the peek) to hand out first */
	const char *pending;
	size_t pending_len;
};

static ssize_t raw_read(struct raw_src *r, struct kerror *e)
{
	ssize_t n = r->read(r->ctx, r->buf, CHUNK, e);
	if (n > 0) {
		digester_update(r->d, r->buf, (size_t)n);
		r->total += n;
	}
	return n;
}

static ssize_t raw_source(void *ctx, const void **out, struct kerror *e)
{
	struct raw_src *r = ctx;
	ssize_t n;

	if (r->pending) {
		*out = r->pending;
		n = (ssize_t)r->pending_len;
		r->pending = NULL;
		return n;
	}
	n = raw_read(r, e);
	*out = r->buf;
	return n;
}

static struct load_entry *new_entry(struct load_ctx *c, char *name, struct kerror *e)
{
	struct load_entry *ent;

	if (find_exact(c, name)) {
		kerror_set(e, EINVAL, "entry \"%s\" appears twice", name);
		free(name);
		return NULL;
	}
	if (c->n >= ENTRIES_MAX) {
		kerror_set(e, E2BIG, "more than %d entries", ENTRIES_MAX);
		free(name);
		return NULL;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->ents = xrealloc(c->ents, c->cap * sizeof(*c->ents));
	}
	ent = &c->ents[c->n++];
	memset(ent, 0, sizeof(*ent));
	ent->name = name;
	return ent;
}

static bool looks_like_json(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')
			continue;
		return p[i] == '{' || p[i] == '[';
	}
	return false;
}

static int read_to_memory(struct load_ctx *c, struct load_entry *ent, struct raw_src *r,
			  struct kerror *e)
{
	struct buf b = { 0 };
	ssize_t n;

	buf_append(&b, r->pending, r->pending_len);
	r->pending = NULL;
	while ((n = raw_read(r, e)) > 0) {
		if (b.len + (size_t)n > ARCHIVE_META_MAX) {
			buf_release(&b);
			return kerror_set(e, EFBIG, "entry \"%s\" is larger than %d bytes",
					  ent->name, ARCHIVE_META_MAX);
		}
		buf_append(&b, r->buf, (size_t)n);
	}
	if (n < 0) {
		buf_release(&b);
		return (int)n;
	}
	if (c->meta_bytes + b.len > META_TOTAL_MAX) {
		buf_release(&b);
		return kerror_set(e, EFBIG, "more than %d bytes of metadata", META_TOTAL_MAX);
	}
	c->meta_bytes += b.len;
	ent->len = b.len;
	ent->data = b.data ? buf_steal(&b) : xstrdup("");
	ent->kind = ENTRY_META;
	return 0;
}

/* Reads one regular file of the archive: in memory, or staged as a layer. */
static int take_file(struct load_ctx *c, char *name, int64_t size, struct raw_src *r,
		     struct kerror *e)
{
	_cleanup_digester_ struct digester *d = digester_new();
	_cleanup_free_ char *buf = xmalloc(CHUNK);
	char claimed[DIGEST_STR_LEN + 1];
	struct load_entry *ent = new_entry(c, name, e);
	ssize_t n;
	int ret;

	if (!ent)
		return -EINVAL;
	ent->size = size;
	r->d = d;
	r->buf = buf;
	n = raw_read(r, e); /* the peek */
	if (n < 0)
		return (int)n;
	r->pending = buf;
	r->pending_len = (size_t)n;
	if (size <= SMALL_FILE || (size <= ARCHIVE_META_MAX && looks_like_json(buf, (size_t)n))) {
		/* read_to_memory copies the peek out before reading on */
		ret = read_to_memory(c, ent, r, e);
		if (ret < 0)
			return ret;
	} else {
		struct kerror serr = { 0 };
		ent->kind = ENTRY_LAYER;
		if (store_stage_layer_cb(c->s, &c->t, raw_source, r, NULL, &ent->layer, &serr) < 0) {
			/* Maybe not a layer at all: only an error if referenced. */
			ent->kind = ENTRY_BAD;
			ent->err = xstrdup(serr.msg ? serr.msg : "not a layer");
			kerror_release(&serr);
		}
		while ((n = raw_read(r, e)) > 0) /* the digest covers every byte */
			;
		if (n < 0)
			return (int)n;
	}
	digester_final(d, ent->digest);
	if (claimed_digest(ent->name, claimed) && strcmp(claimed, ent->digest) != 0)
		return kerror_set(e, EBADMSG, "blob %s: content hashes to %s: the archive is corrupt",
				  claimed, ent->digest);
	return 0;
}

static int take_link(struct load_ctx *c, char *name, const char *target, bool hard,
		     struct kerror *e)
{
	char *clean = hard ? archive_path_clean(NULL, target) : archive_path_clean(name, target);
	struct load_entry *ent;

	if (!clean) {
		kerror_set(e, EINVAL, "link \"%s\" points outside the archive", name);
		free(name);
		return -EINVAL;
	}
	ent = new_entry(c, name, e);
	if (!ent) {
		free(clean);
		return -EINVAL;
	}
	ent->kind = ENTRY_LINK;
	ent->link = clean;
	return 0;
}

/* ---- a tar -------------------------------------------------------------- */

static ssize_t tar_read(void *ctx, void *buf, size_t cap, struct kerror *e)
{
	struct archive *a = ctx;
	la_ssize_t n = archive_read_data(a, buf, cap);
	if (n < 0)
		return kerror_set(e, EIO, "reading the archive: %s", archive_error_string(a));
	return n;
}

static int read_tar(struct load_ctx *c, int fd, struct kerror *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	int r = 0, n = 0;

	/* Built-in decoders only: filter_all would run external programs
	 * chosen by the input's first bytes. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, CHUNK) != ARCHIVE_OK) {
		r = kerror_set(e, EINVAL, "reading the archive: %s",
			       archive_error_string(a) ?: "not a tar archive");
		goto out;
	}
	for (;;) {
		const char *path;
		char *name;
		int h = archive_read_next_header(a, &ent);
		if (h == ARCHIVE_EOF)
			break;
		if (h != ARCHIVE_OK && h != ARCHIVE_WARN) {
			r = kerror_set(e, EINVAL, "reading the archive: %s",
				       archive_error_string(a) ?: "not a tar archive");
			goto out;
		}
		n++;
		path = archive_entry_pathname(ent);
		if (archive_entry_filetype(ent) == AE_IFDIR && path &&
		    (!strcmp(path, ".") || !strcmp(path, "./") || !strcmp(path, "/")))
			continue;
		name = archive_path_clean(NULL, path);
		if (!name) {
			r = kerror_set(e, EINVAL, "archive entry \"%s\": invalid path",
				       path ? path : "");
			goto out;
		}
		if (archive_entry_hardlink(ent)) {
			r = take_link(c, name, archive_entry_hardlink(ent), true, e);
		} else if (archive_entry_filetype(ent) == AE_IFLNK) {
			r = take_link(c, name, archive_entry_symlink(ent), false, e);
		} else if (archive_entry_filetype(ent) == AE_IFREG) {
			struct raw_src src = { .read = tar_read, .ctx = a };
			r = take_file(c, name, archive_entry_size(ent), &src, e);
		} else {
			free(name); /* directories and the rest carry nothing */
		}
		if (r < 0)
			goto out;
	}
	if (n == 0)
		r = kerror_set(e, EINVAL, "the archive is empty");
out:
	archive_read_free(a);
	return r;
}

/* ---- a directory -------------------------------------------------------- */

static ssize_t fd_read(void *ctx, void *buf, size_t cap, struct kerror *e)
{
	int fd = *(int *)ctx;
	ssize_t n;
	do
		n = read(fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return kerror_sys(e, errno, "reading the directory");
	return n;
}

static int read_dir(struct load_ctx *c, int dfd, const char *prefix, int depth,
		    struct kerror *e)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int r = 0;

	if (depth > DIR_DEPTH_MAX)
		return kerror_set(e, ELOOP, "\"%s\" is nested too deeply", prefix);
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return kerror_sys(e, errno, "reading \"%s\"", prefix);
	}
	while (r == 0 && (de = readdir(d))) {
		_cleanup_free_ char *name = NULL;
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		name = *prefix ? xasprintf("%s/%s", prefix, de->d_name) : xstrdup(de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return kerror_sys(e, errno, "reading \"%s\"", name);
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				return kerror_sys(e, errno, "opening \"%s\"", name);
			r = read_dir(c, sub, name, depth + 1, e);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX_LEN + 1];
			ssize_t n = readlinkat(dirfd(d), de->d_name, target, PATH_MAX_LEN);
			if (n < 0)
				return kerror_sys(e, errno, "reading the link \"%s\"", name);
			target[n] = 0;
			r = take_link(c, steal_pointer(&name), target, false, e);
		} else if (S_ISREG(st.st_mode)) {
			_cleanup_close_ int fd =
				openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			struct raw_src src = { .read = fd_read, .ctx = &fd };
			if (fd < 0)
				return kerror_sys(e, errno, "opening \"%s\"", name);
			r = take_file(c, steal_pointer(&name), st.st_size, &src, e);
		}
	}
	return r;
}

/* ---- staging on demand and the API -------------------------------------- */

struct mem_src {
	const char *data;
	size_t len;
};

static ssize_t mem_source(void *ctx, const void **out, struct kerror *e)
{
	struct mem_src *m = ctx;
	size_t n = m->len;
	(void)e;
	*out = m->data;
	m->data += n;
	m->len = 0;
	return (ssize_t)n;
}

int load_stage_entry(struct load_ctx *c, struct load_entry *ent, struct kerror *e)
{
	if (ent->kind == ENTRY_LAYER)
		return 0;
	if (ent->kind == ENTRY_BAD)
		return kerror_set(e, EINVAL, "layer \"%s\": %s", ent->name, ent->err);
	if (ent->kind == ENTRY_META) {
		struct mem_src m = { ent->data, ent->len };
		int r = store_stage_layer_cb(c->s, &c->t, mem_source, &m, NULL, &ent->layer, e);
		if (r < 0)
			return kerror_wrap(e, "layer \"%s\"", ent->name);
		ent->kind = ENTRY_LAYER;
		return 0;
	}
	return kerror_set(e, EINVAL, "layer \"%s\" is not a file", ent->name);
}

static void ctx_release(struct load_ctx *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct load_entry *ent = &c->ents[i];
		free(ent->name);
		free(ent->data);
		free(ent->link);
		free(ent->err);
		free(ent->committed_chain);
		staged_layer_release(&ent->layer);
	}
	free(c->ents);
	store_tmp_release(&c->t);
}

void loaded_images_free(struct loaded_image *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		strv_free(l[i].names);
		strv_free(l[i].refs);
	}
	free(l);
}

static int load_common(struct store *s, int fd, const char *dir, archive_check_fn check,
		       void *check_ctx, struct loaded_image **out, size_t *n, struct kerror *e)
{
	struct load_ctx c = { .s = s, .check = check, .check_ctx = check_ctx };
	int r;

	*out = NULL;
	*n = 0;
	r = store_tmp_create(s, &c.t, e);
	if (r < 0)
		return r;
	if (dir) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = dfd < 0 ? kerror_sys(e, errno, "opening \"%s\"", dir)
			    : read_dir(&c, dfd, "", 0, e);
	} else {
		r = read_tar(&c, fd, e);
	}
	if (r == 0)
		r = archive_resolve_and_commit(&c, out, n, e);
	ctx_release(&c);
	return r;
}

int store_archive_load_fd(struct store *s, int fd, struct loaded_image **out, size_t *n,
			  struct kerror *e)
{
	return load_common(s, fd, NULL, NULL, NULL, out, n, e);
}

int store_archive_load_fd_checked(struct store *s, int fd, archive_check_fn check, void *ctx,
				  struct loaded_image **out, size_t *n, struct kerror *e)
{
	return load_common(s, fd, NULL, check, ctx, out, n, e);
}

int store_archive_load_dir(struct store *s, const char *dir, struct loaded_image **out,
			   size_t *n, struct kerror *e)
{
	return load_common(s, -1, dir, NULL, NULL, out, n, e);
}
