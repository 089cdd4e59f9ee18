/* COPY and ADD into a mounted snapshot: sources resolved inside their root
 * (the context, a stage, an image; symlinks cannot leave it), wildcards,
 * directory-contents semantics, --chown with names from the image's own
 * /etc/passwd and /etc/group, --chmod (octal), --exclude, --parents, ADD's
 * local tar extraction, heredoc sources. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "build/engine.h"

#define CHUNK (256 * 1024)
#define MAX_DEPTH 256
#define ETC_MAX (4 * 1024 * 1024)

/* Does a ".." in p climb above the directory p is relative to? */
static bool climbs_out(const char *p)
{
	long depth = 0;

	for (p += strspn(p, "/"); *p; p += strspn(p, "/")) {
		size_t n = strcspn(p, "/");
		if (n == 2 && !strncmp(p, "..", 2)) {
			if (--depth < 0)
				return true;
		} else if (!(n == 1 && p[0] == '.')) {
			depth++;
		}
		p += n;
	}
	return false;
}

/* A source that is missing inside the context: when the name (through "..",
 * a leading "/" or a symlink) points outside it, say so, since that is why
 * it was not found (sources resolve with the context as their root). */
static int source_missing(int rootfd, const char *arg, int err, struct kerror *e)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
	int fd;

	if (err != ENOENT)
		return kerror_sys(e, err, "source \"%s\"", arg);
	fd = climbs_out(arg) ? -1 : (int)syscall(SYS_openat2, rootfd, arg[0] ? arg : ".", &how,
						  sizeof(how));
	if (fd >= 0)
		close(fd);
	if (climbs_out(arg) || (fd < 0 && errno == EXDEV))
		return kerror_set(e, ENOENT, "source \"%s\": not found in the build context (it "
					     "points outside, and sources resolve inside it)", arg);
	return kerror_set(e, ENOENT, "source \"%s\": not found in the build context", arg);
}

/* Lexical clean relative to a root: "/a/../../b/./c/" → "b/c"; "" = root. */
static char *clean_rel(const char *p)
{
	char *copy = xstrdup(p), *save = NULL;
	char **parts = NULL;
	size_t n = 0;
	struct buf b = { 0 };

	for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (!strcmp(t, "."))
			continue;
		if (!strcmp(t, "..")) {
			if (n)
				n--;
			continue;
		}
		parts = xrealloc(parts, (n + 1) * sizeof(*parts));
		parts[n++] = t;
	}
	buf_append(&b, "", 1);
	b.len = 0;
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? "/" : "", parts[i]);
	free(parts);
	free(copy);
	return buf_steal(&b);
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts "<type byte><name>" strings by name. */
static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a + 1, *(char *const *)b + 1);
}

/* rel is relative to the context; --exclude patterns match the part of it
 * below the source being copied (rel + xbase), as BuildKit's: "*.log"
 * drops src/x.log from "COPY src /d/", the source itself is never
 * excluded by them. */
static bool ignored(const struct copy_source *src, const struct copy_list *l, const char *rel,
		    size_t xbase)
{
	if (!rel[0])
		return false;
	if (src->ign && ignore_match(src->ign, rel))
		return true;
	return l->excludes && strlen(rel) > xbase && ignore_match(l->excludes, rel + xbase);
}

/* Where the part of rel that --exclude sees starts (see ignored()). */
static size_t exclude_base(const char *rel)
{
	return rel[0] ? strlen(rel) + 1 : 0;
}

/* Matches pattern components against the tree, depth first. */
static void glob_walk(int rootfd, const char *prefix, char **comps, size_t nc, size_t xbase,
		      const struct copy_source *src, const struct copy_list *l, char ***out)
{
	_cleanup_close_ int fd = fs_open_in_root(rootfd, prefix, O_RDONLY | O_DIRECTORY);
	DIR *d;
	struct dirent *de;
	char **names = NULL;

	if (fd < 0 || !(d = fdopendir(fd)))
		return;
	fd = -1;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fnmatch(comps[0], de->d_name, 0) == 0)
			strv_push(&names, xstrdup(de->d_name));
	}
	closedir(d);
	if (names)
		qsort(names, strv_len(names), sizeof(char *), cmp_str);
	for (size_t i = 0; names && names[i]; i++) {
		_cleanup_free_ char *p = prefix[0] ? xasprintf("%s/%s", prefix, names[i])
						   : xstrdup(names[i]);
		if (ignored(src, l, p, xbase))
			continue;
		if (nc == 1)
			strv_push(out, steal_pointer(&p));
		else
			glob_walk(rootfd, p, comps + 1, nc - 1, xbase, src, l, out);
	}
	strv_free(names);
}

void copy_list_release(struct copy_list *l)
{
	strv_free(l->paths);
	if (l->excludes)
		ignore_free(l->excludes);
	memset(l, 0, sizeof(*l));
}

int copy_list_make(const struct plan_step *st, const struct copy_source *src,
		   struct copy_list *out, struct kerror *e)
{
	_cleanup_close_ int rootfd = open(src->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char **v = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (rootfd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", src->root);
	if (st->nexcludes) {
		struct buf b = { 0 };
		for (size_t i = 0; i < st->nexcludes; i++)
			buf_printf(&b, "%s\n", st->excludes[i]);
		r = ignore_parse(b.data, b.len, &out->excludes, e);
		buf_release(&b);
		if (r < 0)
			return kerror_wrap(e, "--exclude");
	}
	for (size_t i = 0; i < st->argc; i++) {
		_cleanup_free_ char *rel = clean_rel(st->argv[i]);
		if (str_has_prefix(st->argv[i], "http://") || str_has_prefix(st->argv[i], "https://")) {
			copy_list_release(out);
			strv_free(v);
			return kerror_set(e, ENOTSUP, "source \"%s\": remote sources are not "
						      "supported yet", st->argv[i]);
		}
		if (has_glob(rel)) {
			char **comps = NULL, *save = NULL;
			_cleanup_free_ char *copy = xstrdup(rel);
			size_t before = strv_len(v), xbase = 0;
			bool literal = true;
			for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
				/* --exclude sees the matches below the
				 * components before the first wildcard. */
				literal = literal && !has_glob(t);
				if (literal)
					xbase += strlen(t) + 1;
				strv_push(&comps, xstrdup(t));
			}
			out->wildcard = true;
			if (comps)
				glob_walk(rootfd, "", comps, strv_len(comps), xbase, src, out, &v);
			strv_free(comps);
			if (strv_len(v) == before) {
				copy_list_release(out);
				strv_free(v);
				return kerror_set(e, ENOENT, "no source files were specified: "
							     "\"%s\" matches nothing",
						  st->argv[i]);
			}
			continue;
		}
		{
			_cleanup_close_ int fd = fs_open_in_root(rootfd, rel, O_PATH);
			if (fd < 0 || (rel[0] && src->ign && ignore_match(src->ign, rel))) {
				int err = fd < 0 ? errno : ENOENT;
				copy_list_release(out);
				strv_free(v);
				return source_missing(rootfd, st->argv[i], err, e);
			}
		}
		strv_push(&v, steal_pointer(&rel));
	}
	out->paths = v;
	out->n = strv_len(v);
	return 0;
}

/* ---- hashing ----------------------------------------------------------- */

/* A readable fd for fd: fd itself when it was opened for reading, else a
 * reopen of the O_PATH fd through /proc, which *owned receives (the
 * caller closes it; initialise it to -1). */
static int readable_fd(int fd, int *owned)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_PATH))
		return fd;
	_cleanup_free_ char *proc = xasprintf("/proc/self/fd/%d", fd);
	*owned = open(proc, O_RDONLY | O_CLOEXEC);
	return *owned;
}

/* Opens a directory entry for hashing or copying: regular files are opened
 * for reading at once (no later reopen), everything else O_PATH (never
 * opening a device or a FIFO). */
static int open_entry(int dfd, const struct dirent *de)
{
	if (de->d_type == DT_REG) {
		int fd = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	return openat(dfd, de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
}

static void hash_meta(struct digester *d, const char *rel, const struct stat *st,
		      const char *link)
{
	char hdr[128];
	int n = snprintf(hdr, sizeof(hdr), "%o %lld ", (unsigned)st->st_mode,
			 S_ISREG(st->st_mode) ? (long long)st->st_size : 0LL);
	digester_update(d, rel, strlen(rel) + 1);
	digester_update(d, hdr, (size_t)n);
	if (link)
		digester_update(d, link, strlen(link) + 1);
}

static int hash_node(int fd, const char *rel, size_t xbase, const struct copy_source *src,
		     const struct copy_list *l, struct digester *d, char *buf, int depth,
		     struct kerror *e)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return kerror_sys(e, errno, "reading \"%s\"", rel);
	if (S_ISLNK(st.st_mode)) {
		char target[4097];
		ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
		if (n < 0)
			return kerror_sys(e, errno, "reading the link \"%s\"", rel);
		target[n] = '\0';
		hash_meta(d, rel, &st, target);
		return 0;
	}
	hash_meta(d, rel, &st, NULL);
	if (S_ISREG(st.st_mode)) {
		char hex[DIGEST_HEX_LEN + 1];
		if (!digest_memo_get(src->memo, &st, hex)) {
			_cleanup_close_ int owned = -1;
			int rfd = readable_fd(fd, &owned);
			_cleanup_digester_ struct digester *fdg = digester_new();
			char full[DIGEST_STR_LEN + 1];
			struct stat after;
			if (rfd < 0)
				return kerror_sys(e, errno, "reading \"%s\"", rel);
			/* up to the size fstat gave (no read just to see EOF); a
			 * file written meanwhile changes its ctime, so the memo
			 * does not keep this digest */
			for (off_t done = 0; done < st.st_size;) {
				ssize_t n = read(rfd, buf, CHUNK);
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0)
					return kerror_sys(e, errno, "reading \"%s\"", rel);
				if (n == 0)
					break;
				digester_update(fdg, buf, (size_t)n);
				done += n;
			}
			digester_final(fdg, full);
			memcpy(hex, digest_hex(full), DIGEST_HEX_LEN + 1);
			if (fstat(rfd, &after) == 0)
				digest_memo_put(src->memo, &st, &after, hex);
		}
		digester_update(d, hex, DIGEST_HEX_LEN);
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (depth > MAX_DEPTH)
		return kerror_set(e, ELOOP, "\"%s\": directories nested too deeply", rel);
	{
		_cleanup_close_ int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *dir;
		struct dirent *de;
		char **names = NULL;
		int r = 0;
		if (dfd < 0 || !(dir = fdopendir(dfd)))
			return kerror_sys(e, errno, "reading \"%s\"", rel);
		dfd = -1;
		/* Names carry their d_type in front: "<type byte><name>". */
		while ((de = readdir(dir)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				strv_push(&names, xasprintf("%c%s", de->d_type ? de->d_type : 0xff,
							    de->d_name));
		if (names)
			qsort(names, strv_len(names), sizeof(char *), cmp_name);
		for (size_t i = 0; r == 0 && names && names[i]; i++) {
			const char *name = names[i] + 1;
			_cleanup_free_ char *crel = rel[0] ? xasprintf("%s/%s", rel, name)
							   : xstrdup(name);
			if (ignored(src, l, crel, xbase))
				continue;
			/* A memoised regular file needs no open at all. */
			if ((unsigned char)names[i][0] == DT_REG && src->memo) {
				struct stat cst;
				char hex[DIGEST_HEX_LEN + 1];
				if (fstatat(dirfd(dir), name, &cst, AT_SYMLINK_NOFOLLOW) == 0 &&
				    S_ISREG(cst.st_mode) && digest_memo_get(src->memo, &cst, hex)) {
					hash_meta(d, crel, &cst, NULL);
					digester_update(d, hex, DIGEST_HEX_LEN);
					continue;
				}
			}
			struct dirent fake = { .d_type = (unsigned char)names[i][0] };
			snprintf(fake.d_name, sizeof(fake.d_name), "%s", name);
			_cleanup_close_ int cfd = open_entry(dirfd(dir), &fake);
			if (cfd < 0) {
				r = kerror_sys(e, errno, "reading \"%s\"", crel);
				break;
			}
			r = hash_node(cfd, crel, xbase, src, l, d, buf, depth + 1, e);
		}
		closedir(dir);
		strv_free(names);
		return r;
	}
}

int copy_list_hash(const struct copy_list *l, const struct copy_source *src,
		   struct digester *d, struct kerror *e)
{
	_cleanup_close_ int rootfd = open(src->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *buf = xmalloc(CHUNK);
	int r = 0;

	if (rootfd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", src->root);
	digest_memo_begin(src->memo);
	for (size_t i = 0; r == 0 && i < l->n; i++) {
		digester_update(d, l->paths[i], strlen(l->paths[i]) + 1);
		if (!src->hash_content)
			continue;
		_cleanup_close_ int fd = fs_open_in_root(rootfd, l->paths[i], O_PATH);
		if (fd < 0)
			return kerror_sys(e, errno, "source \"%s\"", l->paths[i]);
		r = hash_node(fd, l->paths[i], exclude_base(l->paths[i]), src, l, d, buf, 0, e);
	}
	return r;
}

/* ---- applying ----------------------------------------------------------- */

struct copy_ctx {
	const struct copy_source *src;
	const struct copy_list *l;
	uid_t uid;
	gid_t gid;
	const struct chmod_spec *chmod; /* NULL: keep the source's mode */
	char *buf;
	bool no_cfr; /* copy_file_range failed once (other file system): skip it */
	uid_t euid;  /* who we are: a file we create is owned so already */
	gid_t egid;
	mode_t umask;
	size_t xbase; /* exclude_base() of the source being copied */
};

/* What a copy_node call knows about its destination directory. */
enum {
	DEST_EMPTY = 1, /* made by this copy: nothing to replace in it */
	DEST_OWNED = 2, /* and without setgid: new entries get euid:egid */
};

/* Opens (creating what is missing, owned uid:gid, 0755) the directory at
 * path (absolute, inside the root).  *created: the last one was made. */
static int mkdir_in(int rootfd, const char *path, uid_t uid, gid_t gid, int *out,
		    bool *created, struct kerror *e)
{
	_cleanup_free_ char *rel = clean_rel(path);
	size_t len = strlen(rel);
	int fd = fs_open_in_root(rootfd, rel, O_RDONLY | O_DIRECTORY);

	if (created)
		*created = false;
	if (fd >= 0) {
		*out = fd;
		return 0;
	}
	if (errno != ENOENT)
		return kerror_sys(e, errno, "destination \"%s\"", path);
	/* Walk down, making each missing component. */
	for (size_t i = 0; i <= len; i++) {
		if (rel[i] != '/' && rel[i] != '\0')
			continue;
		char save = rel[i];
		rel[i] = '\0';
		fd = fs_open_in_root(rootfd, rel, O_RDONLY | O_DIRECTORY);
		if (fd < 0 && errno == ENOENT) {
			char *slash = strrchr(rel, '/');
			_cleanup_free_ char *parent = slash ? xstrndup(rel, (size_t)(slash - rel))
							    : xstrdup("");
			const char *name = slash ? slash + 1 : rel;
			_cleanup_close_ int pfd = fs_open_in_root(rootfd, parent, O_RDONLY | O_DIRECTORY);
			if (pfd < 0 || mkdirat(pfd, name, 0755) < 0) {
				rel[i] = save;
				return kerror_sys(e, errno, "creating \"%s\"", path);
			}
			if (fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
			    fchmodat(pfd, name, 0755, 0) < 0) {
				rel[i] = save;
				return kerror_sys(e, errno, "creating \"%s\"", path);
			}
			if (created && save == '\0')
				*created = true;
			fd = fs_open_in_root(rootfd, rel, O_RDONLY | O_DIRECTORY);
		}
		rel[i] = save;
		if (fd < 0)
			return kerror_sys(e, errno, "destination \"%s\"", path);
		if (save == '\0') {
			*out = fd;
			return 0;
		}
		close(fd);
	}
	return kerror_set(e, EINVAL, "destination \"%s\"", path);
}

static int remove_existing(int ddir, const char *name, bool keep_dir, bool *is_dir,
			   struct kerror *e)
{
	struct stat st;
	*is_dir = false;
	if (fstatat(ddir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (S_ISDIR(st.st_mode)) {
		if (keep_dir) {
			*is_dir = true;
			return 0;
		}
		return fs_rm_rf_at(ddir, name, e);
	}
	if (unlinkat(ddir, name, 0) < 0)
		return kerror_sys(e, errno, "replacing \"%s\"", name);
	return 0;
}

/* Copies size bytes (what fstat said: a file that grows meanwhile is cut
 * there, one that shrinks ends early), without the read that finds EOF. */
static int copy_data(int in, int out, off_t size, char *buf, bool *no_cfr, const char *rel,
		     struct kerror *e)
{
	off_t done = 0;
	while (!*no_cfr && done < size) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)(size - done), 0);
		if (n > 0) {
			done += n;
			continue;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return kerror_sys(e, errno, "copying \"%s\"", rel);
		*no_cfr = true;
		break;
	}
	while (done < size) {
		size_t want = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
		ssize_t n = read(in, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kerror_sys(e, errno, "copying \"%s\"", rel);
		if (n == 0)
			return 0;
		int r = fs_write_all(out, buf, (size_t)n);
		if (r < 0)
			return kerror_sys(e, -r, "copying \"%s\"", rel);
		done += n;
	}
	return 0;
}

static uint32_t mode_of(const struct copy_ctx *c, const struct stat *st)
{
	return c->chmod ? chmod_apply(c->chmod, st->st_mode) : (uint32_t)(st->st_mode & 07777);
}

static int copy_node(struct copy_ctx *c, int sfd, const char *rel, int ddir, const char *dname,
		     int depth, int dest, struct kerror *e);

/* dest: DEST_* flags of dfd. */
static int copy_children(struct copy_ctx *c, int sfd, const char *rel, int dfd, int depth,
			 int dest, struct kerror *e)
{
	_cleanup_close_ int rfd = openat(sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir;
	struct dirent *de;
	int r = 0;

	if (depth > MAX_DEPTH)
		return kerror_set(e, ELOOP, "\"%s\": directories nested too deeply", rel);
	if (rfd < 0 || !(dir = fdopendir(rfd)))
		return kerror_sys(e, errno, "reading \"%s\"", rel);
	rfd = -1;
	while (r == 0 && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_free_ char *crel = rel[0] ? xasprintf("%s/%s", rel, de->d_name)
						   : xstrdup(de->d_name);
		if (ignored(c->src, c->l, crel, c->xbase)) {
			bool skip = true;
			struct stat st;
			if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISDIR(st.st_mode) && c->src->ign && !ignore_dir_skippable(c->src->ign, crel))
				skip = false;
			if (skip)
				continue;
		}
		_cleanup_close_ int cfd = open_entry(dirfd(dir), de);
		if (cfd < 0)
			r = kerror_sys(e, errno, "reading \"%s\"", crel);
		else
			r = copy_node(c, cfd, crel, dfd, de->d_name, depth + 1, dest, e);
	}
	closedir(dir);
	return r;
}

/* Copies the node sfd (an O_PATH fd) to ddir/dname.  dest: DEST_* flags
 * of ddir (a fresh directory needs no look for an entry to replace, and
 * entries created in it already have the owner and mode asked for). */
static int copy_node(struct copy_ctx *c, int sfd, const char *rel, int ddir, const char *dname,
		     int depth, int dest, struct kerror *e)
{
	struct stat st;
	struct timespec ts[2];
	bool is_dir = false;
	bool same_owner = (dest & DEST_OWNED) && c->uid == c->euid && c->gid == c->egid;
	int r;

	if (fstat(sfd, &st) < 0)
		return kerror_sys(e, errno, "reading \"%s\"", rel);
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	if (!(dest & DEST_EMPTY)) {
		r = remove_existing(ddir, dname, S_ISDIR(st.st_mode), &is_dir, e);
		if (r < 0)
			return r;
	}
	uint32_t mode = mode_of(c, &st);
	/* the mode given at creation is exact: no fchmod needed */
	bool exact = !(mode & 07000) && !(mode & c->umask);
	if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int dfd = -1;
		if (!is_dir && mkdirat(ddir, dname, 0700) < 0)
			return kerror_sys(e, errno, "creating \"%s\"", rel);
		dfd = openat(ddir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			return kerror_sys(e, errno, "opening \"%s\"", rel);
		if (fchown(dfd, c->uid, c->gid) < 0 || fchmod(dfd, mode) < 0)
			return kerror_sys(e, errno, "setting the owner of \"%s\"", rel);
		int sub = is_dir ? 0 : DEST_EMPTY | (mode & S_ISGID ? 0 : DEST_OWNED);
		r = copy_children(c, sfd, rel, dfd, depth, sub, e);
		if (r == 0)
			futimens(dfd, ts);
		return r;
	}
	if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int owned = -1, out = -1;
		int in = readable_fd(sfd, &owned);
		if (in < 0)
			return kerror_sys(e, errno, "reading \"%s\"", rel);
		out = openat(ddir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			     exact ? mode : 0600);
		if (out < 0)
			return kerror_sys(e, errno, "creating \"%s\"", rel);
		r = copy_data(in, out, st.st_size, c->buf, &c->no_cfr, rel, e);
		if (r < 0)
			return r;
		if ((!same_owner && fchown(out, c->uid, c->gid) < 0) ||
		    (!exact && fchmod(out, mode) < 0))
			return kerror_sys(e, errno, "setting the owner of \"%s\"", rel);
		futimens(out, ts);
		return 0;
	}
	if (S_ISLNK(st.st_mode)) {
		char target[4097];
		ssize_t n = readlinkat(sfd, "", target, sizeof(target) - 1);
		if (n < 0)
			return kerror_sys(e, errno, "reading the link \"%s\"", rel);
		target[n] = '\0';
		if (symlinkat(target, ddir, dname) < 0)
			return kerror_sys(e, errno, "creating \"%s\"", rel);
	} else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
		if (mknodat(ddir, dname, st.st_mode & ~07777u, st.st_rdev) < 0)
			return kerror_sys(e, errno, "creating \"%s\"", rel);
		fchmodat(ddir, dname, mode, 0);
	} else {
		return 0; /* sockets are not copied */
	}
	if (fchownat(ddir, dname, c->uid, c->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return kerror_sys(e, errno, "setting the owner of \"%s\"", rel);
	utimensat(ddir, dname, ts, AT_SYMLINK_NOFOLLOW);
	return 0;
}

/* ADD: a local file that is a tar (plain or gzip/bzip2/xz/zstd). */
static bool is_archive(int fd)
{
	unsigned char h[512];
	ssize_t n = pread(fd, h, sizeof(h), 0);
	/* a compression's magic: a tar only if what it holds decodes as one
	 * (a compressed file that is no tar is copied as it is, as Docker) */
	if ((n >= 2 && h[0] == 0x1f && h[1] == 0x8b) || (n >= 3 && !memcmp(h, "BZh", 3)) ||
	    (n >= 6 && !memcmp(h, "\xfd" "7zXZ\0", 6)) ||
	    (n >= 4 && !memcmp(h, "\x28\xb5\x2f\xfd", 4)))
		return tar_fd_is_tar(fd);
	return n == 512 && !memcmp(h + 257, "ustar", 5);
}

static char *join_dest(const char *workdir, const char *dest)
{
	if (dest[0] == '/')
		return xstrdup(dest);
	return xasprintf("%s/%s", workdir && workdir[0] ? workdir : "/", dest);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* --parents: the part of the source to keep ("a/./b/c" keeps "b/c"'s
 * parents from the marker on; without one, all of them). */
static char *parents_dir(const char *arg, const char *rel)
{
	const char *mark = strstr(arg, "/./");
	_cleanup_free_ char *kept = mark ? clean_rel(mark + 3) : clean_rel(rel);
	char *slash = strrchr(kept, '/');
	(void)rel;
	return slash ? xstrndup(kept, (size_t)(slash - kept)) : xstrdup("");
}

/* The fast path for a directory this copy just made through the overlay
 * (it was nowhere in the lower layers, so it lives in the upper dir alone):
 * its contents are written straight into the upper dir, without overlay's
 * per-file work.  Nothing has looked inside it through the overlay, so the
 * overlay caches nothing about its children.  Swaps *dfd for the upper
 * directory's fd and returns DEST_* flags; keeps *dfd (returns 0) when the
 * upper directory cannot be matched to it. */
static int to_upper(const char *merged, const char *upper, int *dfd)
{
	char proc[64], path[PATH_MAX];
	size_t ml = strlen(merged);
	struct stat a, b;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", *dfd);
	ssize_t n = readlink(proc, path, sizeof(path) - 1);
	if (n <= 0 || (size_t)n < ml || memcmp(path, merged, ml) ||
	    (path[ml] != '/' && path[ml] != '\0'))
		return 0;
	path[n] = '\0';
	_cleanup_close_ int ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ufd < 0)
		return 0;
	struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS };
	const char *rel = path[ml] ? path + ml + 1 : ".";
	int fd = (int)syscall(SYS_openat2, ufd, rel, &how, sizeof(how));
	if (fd < 0)
		return 0;
	/* a pure upper directory: the overlay shows the upper inode's number */
	if (fstat(fd, &a) < 0 || fstat(*dfd, &b) < 0 || a.st_ino != b.st_ino) {
		close(fd);
		return 0;
	}
	close(*dfd);
	*dfd = fd;
	return DEST_EMPTY | DEST_OWNED;
}

int copy_apply(const struct plan_step *st, const struct copy_list *l,
	       const struct copy_source *src, const char *merged, const char *upper,
	       const char *etc_root, const char *workdir, struct kerror *e)
{
	_cleanup_close_ int rootfd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int srcfd = open(src->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *dest = join_dest(workdir, st->dest);
	_cleanup_free_ char *buf = xmalloc(CHUNK);
	struct chmod_spec cm;
	struct copy_ctx c = { .src = src, .l = l, .buf = buf,
			      .euid = geteuid(), .egid = getegid() };
	bool dir_mode = str_has_suffix(st->dest, "/") || l->n + st->ninlines > 1 || l->wildcard;
	int r;

	if (rootfd < 0 || srcfd < 0)
		return kerror_sys(e, errno, "opening the copy's source or destination");
	c.umask = umask(022);
	umask(c.umask);
	if (st->chown) {
		r = copy_resolve_chown(etc_root, st->chown, &c.uid, &c.gid, e);
		if (r < 0)
			return r;
	}
	if (st->chmod) {
		if (chmod_parse(st->chmod, &cm, e) < 0)
			return kerror_wrap(e, "--chmod");
		c.chmod = &cm;
	}
	if (!dir_mode) {
		/* One source onto an existing directory goes inside it. */
		_cleanup_free_ char *rel = clean_rel(dest);
		_cleanup_close_ int fd = fs_open_in_root(rootfd, rel, O_RDONLY | O_DIRECTORY);
		if (fd >= 0)
			dir_mode = true;
	}
	for (size_t i = 0; i < l->n; i++) {
		const char *rel = l->paths[i];
		_cleanup_close_ int sfd = fs_open_in_root(srcfd, rel, O_PATH);
		_cleanup_close_ int ddir = -1;
		_cleanup_free_ char *target = NULL;
		struct stat sst;

		if (sfd < 0 || fstat(sfd, &sst) < 0)
			return kerror_sys(e, errno, "source \"%s\"", rel);
		c.xbase = exclude_base(rel);
		if (st->parents) {
			_cleanup_free_ char *pd = parents_dir(i < st->argc ? st->argv[i] : rel, rel);
			target = pd[0] ? xasprintf("%s/%s", dest, pd) : xstrdup(dest);
		} else {
			target = xstrdup(dest);
		}
		if (S_ISDIR(sst.st_mode)) {
			if (st->parents && rel[0]) {
				char *t = xasprintf("%s/%s", target, base_name(rel));
				free(target);
				target = t;
			}
			bool created;
			int dest = 0;
			r = mkdir_in(rootfd, target, c.uid, c.gid, &ddir, &created, e);
			if (r == 0 && created && upper)
				dest = to_upper(merged, upper, &ddir);
			if (r == 0)
				r = copy_children(&c, sfd, rel, ddir, 0, dest, e);
			if (r < 0)
				return r;
			continue;
		}
		if (st->kind == CF_ADD && st->unpack != 0 && S_ISREG(sst.st_mode)) {
			_cleanup_free_ char *proc = xasprintf("/proc/self/fd/%d", sfd);
			_cleanup_close_ int in = open(proc, O_RDONLY | O_CLOEXEC);
			if (in >= 0 && is_archive(in)) {
				struct tar_apply_opts o = { .whiteouts = TAR_WHITEOUT_DELETE };
				r = mkdir_in(rootfd, target, c.uid, c.gid, &ddir, NULL, e);
				if (r == 0)
					r = tar_apply_fd(in, ddir, &o, NULL, e);
				if (r < 0)
					return kerror_wrap(e, "extracting \"%s\"", rel);
				continue;
			}
		}
		{
			_cleanup_free_ char *parent = NULL;
			const char *name;
			if (dir_mode) {
				parent = xstrdup(target);
				name = base_name(rel);
			} else {
				_cleanup_free_ char *t = clean_rel(target);
				char *slash = strrchr(t, '/');
				parent = slash ? xasprintf("/%.*s", (int)(slash - t), t) : xstrdup("/");
				name = base_name(target);
				if (!name[0])
					return kerror_set(e, EINVAL, "destination \"%s\"", st->dest);
			}
			r = mkdir_in(rootfd, parent, c.uid, c.gid, &ddir, NULL, e);
			if (r == 0)
				r = copy_node(&c, sfd, rel, ddir, name, 0, 0, e);
			if (r < 0)
				return r;
		}
	}
	for (size_t i = 0; i < st->ninlines; i++) {
		const struct plan_inline *in = &st->inlines[i];
		_cleanup_free_ char *path = dir_mode ? xasprintf("%s/%s", dest, in->name)
						     : xstrdup(dest);
		_cleanup_free_ char *t = clean_rel(path);
		char *slash = strrchr(t, '/');
		_cleanup_free_ char *parent = slash ? xasprintf("/%.*s", (int)(slash - t), t)
						    : xstrdup("/");
		const char *name = slash ? slash + 1 : t;
		_cleanup_close_ int ddir = -1, fd = -1;
		bool is_dir;
		r = mkdir_in(rootfd, parent, c.uid, c.gid, &ddir, NULL, e);
		if (r == 0)
			r = remove_existing(ddir, name, false, &is_dir, e);
		if (r < 0)
			return r;
		fd = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 || fs_write_all(fd, in->data, strlen(in->data)) < 0 ||
		    fchown(fd, c.uid, c.gid) < 0 ||
		    fchmod(fd, c.chmod ? chmod_apply(c.chmod, S_IFREG | 0644) : 0644) < 0)
			return kerror_sys(e, errno, "writing \"%s\"", path);
	}
	return 0;
}

int copy_mkdir_workdir(const char *merged, const char *path, bool *created, struct kerror *e)
{
	_cleanup_close_ int rootfd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = -1;
	int r;
	if (rootfd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", merged);
	r = mkdir_in(rootfd, path, 0, 0, &fd, created, e);
	if (fd >= 0)
		close(fd);
	return r;
}

/* The id of name in a passwd/group text (field 3), -1 if absent. */
static long lookup_id(const char *text, const char *name)
{
	size_t nl = strlen(name);
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		if (!strncmp(line, name, nl) && line[nl] == ':') {
			const char *p = strchr(line + nl + 1, ':');
			if (p && (!end || p < end))
				return strtol(p + 1, NULL, 10);
		}
		line = end ? end + 1 : NULL;
	}
	return -1;
}

static char *read_in_root(const char *merged, const char *rel)
{
	_cleanup_close_ int rootfd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return rootfd >= 0 ? fs_read_in_root(rootfd, rel, ETC_MAX) : NULL;
}

static bool numeric(const char *s, long *v)
{
	char *end;
	if (!*s)
		return false;
	*v = strtol(s, &end, 10);
	return *end == '\0' && *v >= 0;
}

int copy_resolve_chown(const char *merged, const char *spec, uid_t *uid, gid_t *gid,
		       struct kerror *e)
{
	const char *colon = strchr(spec, ':');
	_cleanup_free_ char *user = colon ? xstrndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
	const char *group = colon ? colon + 1 : NULL;
	long u, g;

	if (!numeric(user, &u)) {
		_cleanup_free_ char *pw = read_in_root(merged, "etc/passwd");
		u = pw ? lookup_id(pw, user) : -1;
		if (u < 0)
			return kerror_set(e, ENOENT, "--chown=%s: unable to find user %s: no "
						     "matching entries in passwd file", spec, user);
	}
	if (!group || !*group) {
		g = u;
	} else if (!numeric(group, &g)) {
		_cleanup_free_ char *gr = read_in_root(merged, "etc/group");
		g = gr ? lookup_id(gr, group) : -1;
		if (g < 0)
			return kerror_set(e, ENOENT, "--chown=%s: unable to find group %s: no "
						     "matching entries in group file", spec, group);
	}
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}
