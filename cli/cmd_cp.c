/* kiln cp (both directions, "-" for tar streams), kiln export and kiln
 * diff.  The container's side always runs in a child whose root is the
 * container's filesystem (run_in_rootfs), so every path, symlinks
 * included, resolves inside it; tars are written with kiln's own writer
 * and extracted with the store's safe tar_apply. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/container.h"

struct tree_tar {
	struct tar_writer w;
	int fd;
};

static int fd_sink(void *ctx, const void *data, size_t n, struct kerror *e)
{
	if (fs_write_all(*(int *)ctx, data, n) < 0)
		return kerror_sys(e, errno, "writing the tar");
	return 0;
}

#define TREE_DEPTH_MAX 256

/* One entry (path on disk, name in the archive, NULL for a skipped root)
 * and, for a directory, its children. */
static int tar_entry_at(struct tree_tar *t, const char *path, const char *name, int depth,
			struct kerror *e)
{
	struct stat st;
	struct tar_entry te = { 0 };
	_cleanup_free_ char *dname = NULL, *link = NULL;
	int r = 0;
	if (lstat(path, &st) < 0)
		return kerror_sys(e, errno, "reading \"%s\"", path);
	te.mode = st.st_mode & 07777;
	te.uid = st.st_uid;
	te.gid = st.st_gid;
	te.mtime = st.st_mtim.tv_sec;
	if (S_ISDIR(st.st_mode)) {
		if (name) {
			te.name = dname = xasprintf("%s/", name);
			te.type = TAR_DIR;
			if ((r = tar_writer_add(&t->w, &te, e)) < 0)
				return r;
		}
		if (depth > TREE_DEPTH_MAX)
			return kerror_set(e, ELOOP, "\"%s\": directories nested too deeply", path);
		struct dirent **list = NULL;
		int n = scandir(path, &list, NULL, alphasort);
		if (n < 0)
			return kerror_sys(e, errno, "reading \"%s\"", path);
		for (int i = 0; i < n; i++) {
			const char *c = list[i]->d_name;
			if (r == 0 && strcmp(c, ".") && strcmp(c, "..")) {
				_cleanup_free_ char *cp = xasprintf("%s/%s", path, c);
				_cleanup_free_ char *cn = name ? xasprintf("%s/%s", name, c) : xstrdup(c);
				r = tar_entry_at(t, cp, cn, depth + 1, e);
			}
			free(list[i]);
		}
		free(list);
		return r;
	}
	if (!name)
		name = ".";
	te.name = name;
	if (S_ISLNK(st.st_mode)) {
		link = xcalloc(1, 4097);
		if (readlink(path, link, 4096) < 0)
			return kerror_sys(e, errno, "reading the link \"%s\"", path);
		te.type = TAR_SYMLINK;
		te.link = link;
		return tar_writer_add(&t->w, &te, e);
	}
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
		te.type = S_ISCHR(st.st_mode) ? TAR_CHR : S_ISBLK(st.st_mode) ? TAR_BLK : TAR_FIFO;
		return tar_writer_add(&t->w, &te, e);
	}
	if (!S_ISREG(st.st_mode))
		return 0; /* sockets are not copied */
	_cleanup_close_ int in = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return kerror_sys(e, errno, "opening \"%s\"", path);
	te.type = TAR_REG;
	te.size = st.st_size;
	if ((r = tar_writer_add(&t->w, &te, e)) < 0)
		return r;
	char buf[65536];
	int64_t left = st.st_size;
	while (left > 0) {
		ssize_t n = read(in, buf, left < (int64_t)sizeof(buf) ? (size_t)left : sizeof(buf));
		if (n <= 0)
			return kerror_sys(e, n < 0 ? errno : EIO, "reading \"%s\"", path);
		if ((r = tar_writer_data(&t->w, buf, (size_t)n, e)) < 0)
			return r;
		left -= n;
	}
	return 0;
}

/* Writes a tar of path to fd: entries named prefix/REL, or REL (and no
 * root entry) when prefix is "". */
static int tar_path(const char *path, const char *prefix, int fd, struct kerror *e)
{
	struct tree_tar t = { .fd = fd };
	t.w.sink = fd_sink;
	t.w.ctx = &t.fd;
	int r = tar_entry_at(&t, path, *prefix ? prefix : NULL, 0, e);
	if (r == 0)
		r = tar_writer_close(&t.w, e);
	return r;
}

/* Extracts the tar on fd into dir (the store's safe tar_apply: nothing is
 * written through a symlink leaving dir); with from, the archive goes to a
 * private directory inside dir first and its "from" is then renamed to
 * dir/to. */
static int untar(int fd, const char *dir, const char *from, const char *to, struct kerror *e)
{
	struct tar_apply_opts o = { .whiteouts = TAR_WHITEOUT_DELETE };
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int dfd = -1;
	int r;
	if (from) {
		tmp = xasprintf("%s/.kiln-cp-XXXXXX", dir);
		if (!mkdtemp(tmp))
			return kerror_sys(e, errno, "creating a directory in \"%s\"", dir);
	}
	dfd = open(tmp ? tmp : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		r = kerror_sys(e, errno, "opening \"%s\"", tmp ? tmp : dir);
	else
		r = tar_apply_fd(fd, dfd, &o, NULL, e);
	if (r == 0 && from) {
		_cleanup_free_ char *src = xasprintf("%s/%s", tmp, from);
		_cleanup_free_ char *dst = xasprintf("%s/%s", dir, to);
		if (rename(src, dst) < 0)
			r = kerror_sys(e, errno, "moving the copy to \"%s\"", dst);
	}
	if (tmp) {
		struct kerror e2 = { 0 };
		fs_rm_rf(tmp, &e2);
		kerror_release(&e2);
	}
	return r;
}

/* "CTR:PATH" → container and path (Docker: a ':' before any '/'). */
static bool split_ctr(const char *arg, char **ctr, char **path)
{
	const char *colon = strchr(arg, ':'), *slash = strchr(arg, '/');
	if (!colon || colon == arg || (slash && slash < colon))
		return false;
	*ctr = xstrndup(arg, (size_t)(colon - arg));
	*path = xstrdup(colon + 1);
	return true;
}

static bool wants_contents(const char *p)
{
	size_t n = strlen(p);
	return n >= 2 && !strcmp(p + n - 2, "/.");
}

static char *base_of(const char *p)
{
	_cleanup_free_ char *c = xstrdup(p);
	size_t n = strlen(c);
	while (n > 1 && c[n - 1] == '/')
		c[--n] = '\0';
	return xstrdup(basename(c));
}

static char *dir_of(const char *p)
{
	_cleanup_free_ char *c = xstrdup(p);
	size_t n = strlen(c);
	while (n > 1 && c[n - 1] == '/')
		c[--n] = '\0';
	return xstrdup(dirname(c));
}

/* ---- container → host ------------------------------------------------------- */

struct out_ctx {
	const char *path, *prefix;
	int fd;
};

static int out_fn(void *ctx, struct kerror *e)
{
	struct out_ctx *o = ctx;
	_cleanup_free_ char *p = *o->path == '/' ? xstrdup(o->path) : xasprintf("/%s", o->path);
	struct stat st;
	if (lstat(p, &st) < 0)
		return kerror_set(e, ENOENT, "could not find the file %s in container", o->path);
	return tar_path(p, o->prefix, o->fd, e);
}

static int cp_out(struct cli *c, struct container_info *ctr, const char *src, const char *dst,
		  struct kerror *e)
{
	struct store *s;
	struct stat st;
	_cleanup_free_ char *prefix = NULL, *xdir = NULL;
	int r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	if (!strcmp(dst, "-")) {
		struct out_ctx o = { .path = src, .fd = STDOUT_FILENO };
		prefix = wants_contents(src) ? xstrdup("") : base_of(src);
		o.prefix = prefix;
		return run_in_rootfs(s, ctr, true, false, out_fn, &o, e);
	}
	bool exists = stat(dst, &st) == 0;
	if (exists && S_ISDIR(st.st_mode)) {
		xdir = xstrdup(dst);
		prefix = wants_contents(src) ? xstrdup("") : base_of(src);
	} else {
		xdir = dir_of(dst);
		prefix = base_of(dst);
		if (stat(xdir, &st) < 0 || !S_ISDIR(st.st_mode))
			return kerror_set(e, ENOENT, "\"%s\" could not be found on the host", xdir);
	}
	FILE *tmp = tmpfile();
	if (!tmp)
		return kerror_sys(e, errno, "creating a temporary file");
	struct out_ctx o = { .path = src, .prefix = prefix, .fd = fileno(tmp) };
	r = run_in_rootfs(s, ctr, true, false, out_fn, &o, e);
	if (r == 0 && lseek(fileno(tmp), 0, SEEK_SET) < 0)
		r = kerror_sys(e, errno, "rewinding the temporary file");
	if (r == 0) {
		_cleanup_free_ char *cwd = getcwd(NULL, 0);
		r = untar(fileno(tmp), xdir, NULL, NULL, e);
		if (cwd)
			(void)!chdir(cwd);
	}
	fclose(tmp);
	return r;
}

/* ---- host → container ------------------------------------------------------- */

struct in_ctx {
	const char *dst;
	const char *name; /* the archive's first component; NULL for a "-" stream */
	int fd;
};

static int in_fn(void *ctx, struct kerror *e)
{
	struct in_ctx *o = ctx;
	_cleanup_free_ char *d = *o->dst == '/' ? xstrdup(o->dst) : xasprintf("/%s", o->dst);
	struct stat st;
	if (stat(d, &st) == 0 && S_ISDIR(st.st_mode))
		return untar(o->fd, d, NULL, NULL, e);
	if (!o->name)
		return kerror_set(e, ENOTDIR, "destination \"%s\" must be a directory", o->dst);
	if (!o->name[0]) {
		/* "SRC/." onto a path that does not exist: it becomes the dir */
		if (mkdir(d, 0755) < 0)
			return kerror_sys(e, errno, "creating \"%s\"", o->dst);
		return untar(o->fd, d, NULL, NULL, e);
	}
	_cleanup_free_ char *parent = dir_of(d), *to = base_of(d);
	if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode))
		return kerror_set(e, ENOENT, "\"%s\" could not be found in the container", parent);
	return untar(o->fd, parent, o->name, to, e);
}

static int cp_in(struct cli *c, struct container_info *ctr, const char *src, const char *dst,
		 struct kerror *e)
{
	struct store *s;
	struct stat st;
	_cleanup_free_ char *name = NULL;
	int r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	if (!strcmp(src, "-")) {
		struct in_ctx o = { .dst = dst, .name = NULL, .fd = STDIN_FILENO };
		return run_in_rootfs(s, ctr, true, true, in_fn, &o, e);
	}
	if (lstat(src, &st) < 0)
		return kerror_sys(e, errno, "\"%s\" could not be found on the host", src);
	name = wants_contents(src) ? xstrdup("") : base_of(src);
	FILE *tmp = tmpfile();
	if (!tmp)
		return kerror_sys(e, errno, "creating a temporary file");
	r = tar_path(src, name, fileno(tmp), e);
	if (r == 0 && lseek(fileno(tmp), 0, SEEK_SET) < 0)
		r = kerror_sys(e, errno, "rewinding the temporary file");
	if (r == 0) {
		struct in_ctx o = { .dst = dst, .name = name, .fd = fileno(tmp) };
		r = run_in_rootfs(s, ctr, true, true, in_fn, &o, e);
	}
	fclose(tmp);
	return r;
}

int cmd_cp(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "archive", no_argument, NULL, 'a' },
					      { "follow-link", no_argument, NULL, 'L' },
					      { "quiet", no_argument, NULL, 'q' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	_cleanup_container_info_ struct container_info *ctr = NULL;
	_cleanup_free_ char *sc = NULL, *sp = NULL, *dc = NULL, *dp = NULL;
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "aLqh", opts, e)) != -1) {
		if (opt == 'h')
			return cli_usage("kiln cp [options] CONTAINER:SRC_PATH DEST_PATH|-\n"
					 "       kiln cp [options] SRC_PATH|- CONTAINER:DEST_PATH",
					 "  -a, --archive       Archive mode (copy all uid/gid "
					 "information)\n"
					 "  -L, --follow-link   Always follow symbol link in SRC_PATH\n");
		if (opt == '?')
			return -EINVAL;
	}
	if (argc - optind != 2)
		return kerror_set(e, EINVAL, "\"kiln cp\" requires exactly 2 arguments");
	bool from = split_ctr(argv[optind], &sc, &sp);
	bool to = split_ctr(argv[optind + 1], &dc, &dp);
	if (from == to)
		return kerror_set(e, EINVAL, from ? "copying between containers is not supported"
						  : "must specify at least one container source");
	r = container_get(c, from ? sc : dc, &ctr, e);
	if (r < 0)
		return r;
	if (from && !*sp)
		return kerror_set(e, EINVAL, "no source path in the container");
	if (to && !*dp)
		return kerror_set(e, EINVAL, "no destination path in the container");
	return from ? cp_out(c, ctr, sp, argv[optind + 1], e) : cp_in(c, ctr, argv[optind], dp, e);
}

/* ---- export ------------------------------------------------------------------ */

static int export_fn(void *ctx, struct kerror *e)
{
	return tar_diff_write("/", NULL, fd_sink, ctx, e);
}

int cmd_export(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "output", required_argument, NULL, 'o' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	_cleanup_container_info_ struct container_info *ctr = NULL;
	const char *output = NULL;
	struct store *s;
	int opt, r, fd;
	while ((opt = cli_getopt(argc, argv, "o:h", opts, e)) != -1) {
		if (opt == 'o')
			output = optarg;
		else if (opt == 'h')
			return cli_usage("kiln export [options] CONTAINER",
					 "  -o, --output string   Write to a file, instead of STDOUT\n");
		else
			return -EINVAL;
	}
	if (argc - optind != 1)
		return kerror_set(e, EINVAL, "\"kiln export\" requires exactly 1 argument");
	if (!output && isatty(STDOUT_FILENO))
		return kerror_set(e, EINVAL, "cowardly refusing to save to a terminal. Use the -o "
					     "flag or redirect");
	r = container_get(c, argv[optind], &ctr, e);
	if (r == 0)
		r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	fd = output ? open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
		    : STDOUT_FILENO;
	if (fd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", output);
	r = run_in_rootfs(s, ctr, false, false, export_fn, &fd, e);
	if (output)
		close(fd);
	return r;
}

/* ---- diff --------------------------------------------------------------------- */

int cmd_diff(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	_cleanup_container_info_ struct container_info *ctr = NULL;
	struct run_change *ch = NULL;
	struct run_plan p = { 0 };
	const char *format = NULL;
	struct store *s;
	size_t n = 0;
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "h", opts, e)) != -1) {
		if (opt == 'f')
			format = optarg;
		else if (opt == 'h')
			return cli_usage("kiln diff [options] CONTAINER",
					 "      --format string   Change the output format (json)\n");
		else
			return -EINVAL;
	}
	if (argc - optind != 1)
		return kerror_set(e, EINVAL, "\"kiln diff\" requires exactly 1 argument");
	if (format && strcmp(format, "json"))
		return kerror_set(e, EINVAL, "unknown --format \"%s\" (json)", format);
	r = container_get(c, argv[optind], &ctr, e);
	if (r == 0)
		r = cli_store(c, &s, e);
	if (r == 0)
		r = run_plan_from_json(ctr->plan, &p, e);
	if (r == 0)
		r = run_changes(s, ctr->id, p.layers, &ch, &n, e);
	run_plan_release(&p);
	if (r < 0)
		return r;
	if (format) {
		_cleanup_json_ json_t *j = json_object();
		const char *keys[] = { "added", "changed", "deleted" };
		for (size_t i = 0; i < n; i++) {
			const char *k = keys[ch[i].kind == 'A' ? 0 : ch[i].kind == 'C' ? 1 : 2];
			json_t *a = json_object_get(j, k);
			if (!a)
				json_object_set_new(j, k, a = json_array());
			json_array_append_new(a, json_string(ch[i].path));
		}
		_cleanup_free_ char *t = json_dump_pretty(j);
		printf("%s\n", t);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%c %s\n", ch[i].kind, ch[i].path);
	}
	run_changes_free(ch, n);
	return 0;
}
