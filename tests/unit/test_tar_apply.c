/* Unit tests for storage/tar_apply.c: hostile layers are refused and write
 * nothing outside the root; well-formed ones are applied faithfully. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/common.h"
#include "storage/storage.h"

#define OV TAR_WHITEOUT_OVERLAY
#define DEL TAR_WHITEOUT_DELETE

/* ---- fixture: <base>/root (the layer) and <base>/sentinel (outside) ---- */

struct fx {
	char base[64];
	char *root, *sentinel, *pwned_up; /* pwned_up: <base>/../pwned-<name> */
	const char *name;                 /* basename of base */
	int rootfd;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	strcpy(f->base, "/tmp/kiln-tar-XXXXXX");
	assert_non_null(mkdtemp(f->base));
	f->name = strrchr(f->base, '/') + 1;
	f->root = xasprintf("%s/root", f->base);
	f->sentinel = xasprintf("%s/sentinel", f->base);
	f->pwned_up = xasprintf("/tmp/pwned-%s", f->name);
	assert_int_equal(mkdir(f->root, 0755), 0);
	assert_int_equal(mkdir(f->sentinel, 0755), 0);
	_cleanup_free_ char *keep = xasprintf("%s/keep", f->sentinel);
	struct kerror e = { 0 };
	assert_int_equal(fs_write_atomic(keep, "keep\n", 5, 0644, &e), 0);
	f->rootfd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->rootfd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct kerror e = { 0 };
	close(f->rootfd);
	fs_rm_rf(f->base, &e);
	unlink(f->pwned_up);
	kerror_release(&e);
	free(f->root);
	free(f->sentinel);
	free(f->pwned_up);
	free(f);
	return 0;
}

static char *rpath(struct fx *f, const char *rel)
{
	return xasprintf("%s/%s", f->root, rel);
}

/* ---- tar builder over libarchive's write API -------------------------- */

struct tb {
	struct archive *a;
	char *buf;
	size_t used, cap;
};

static struct tb *tb_new_filter(int filter)
{
	struct tb *t = xcalloc(1, sizeof(*t));
	t->cap = 4 << 20;
	t->buf = xmalloc(t->cap);
	t->a = archive_write_new();
	archive_write_set_format_pax(t->a);
	if (filter == 1)
		archive_write_add_filter_gzip(t->a);
	else if (filter == 2)
		archive_write_add_filter_zstd(t->a);
	archive_write_set_bytes_in_last_block(t->a, 1);
	assert_int_equal(archive_write_open_memory(t->a, t->buf, t->cap, &t->used), ARCHIVE_OK);
	return t;
}

static struct tb *tb_new(void)
{
	return tb_new_filter(0);
}

static struct archive_entry *ent(const char *name, mode_t type, mode_t perm)
{
	struct archive_entry *ae = archive_entry_new();
	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, type);
	archive_entry_set_perm(ae, perm);
	archive_entry_set_mtime(ae, 1000000000, 0);
	return ae;
}

static void tb_put(struct tb *t, struct archive_entry *ae, const char *data)
{
	size_t n = data ? strlen(data) : 0;
	archive_entry_set_size(ae, (la_int64_t)n);
	assert_int_equal(archive_write_header(t->a, ae), ARCHIVE_OK);
	if (n)
		assert_int_equal(archive_write_data(t->a, data, n), (la_ssize_t)n);
	archive_entry_free(ae);
}

static void tb_file(struct tb *t, const char *name, const char *data)
{
	tb_put(t, ent(name, AE_IFREG, 0644), data);
}

static void tb_dir(struct tb *t, const char *name)
{
	tb_put(t, ent(name, AE_IFDIR, 0755), NULL);
}

static void tb_sym(struct tb *t, const char *name, const char *target)
{
	struct archive_entry *ae = ent(name, AE_IFLNK, 0777);
	archive_entry_set_symlink(ae, target);
	tb_put(t, ae, NULL);
}

static void tb_hard(struct tb *t, const char *name, const char *target)
{
	struct archive_entry *ae = ent(name, AE_IFREG, 0644);
	archive_entry_set_hardlink(ae, target);
	tb_put(t, ae, NULL);
}

/* Closes the archive; returns the bytes (t->buf, t->used). */
static void tb_close(struct tb *t)
{
	assert_int_equal(archive_write_close(t->a), ARCHIVE_OK);
	archive_write_free(t->a);
	t->a = NULL;
}

static void tb_free(struct tb *t)
{
	if (t->a)
		archive_write_free(t->a);
	free(t->buf);
	free(t);
}

static int apply_bytes(struct fx *f, const void *buf, size_t len, enum tar_whiteout_mode m,
		       const char *prefix, struct tar_apply_stats *st, struct kerror *e)
{
	struct archive *a = archive_read_new();
	struct tar_apply_opts o = { .whiteouts = m, .xattr_prefix = prefix };
	int r;
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, buf, len), ARCHIVE_OK);
	r = tar_apply(a, f->rootfd, &o, st, e);
	archive_read_free(a);
	return r;
}

/* Applies and frees t. */
static int apply_tb(struct fx *f, struct tb *t, enum tar_whiteout_mode m, struct kerror *e)
{
	tb_close(t);
	int r = apply_bytes(f, t->buf, t->used, m, NULL, NULL, e);
	tb_free(t);
	return r;
}

static void apply_ok(struct fx *f, struct tb *t, enum tar_whiteout_mode m)
{
	struct kerror e = { 0 };
	int r = apply_tb(f, t, m, &e);
	if (r < 0)
		fail_msg("apply failed: %s", e.msg);
	kerror_release(&e);
}

/* ---- checks ------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted listing of dir: "a,b/,b/c" (directories end in '/', recursive). */
static void list_into(const char *dir, const char *rel, struct buf *out)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strv_push(&names, xstrdup(de->d_name)), n++;
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, names[i]);
		_cleanup_free_ char *r = *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
		struct stat st;
		assert_int_equal(lstat(p, &st), 0);
		buf_printf(out, "%s%s%s", out->len ? "," : "", r, S_ISDIR(st.st_mode) ? "/" : "");
		if (S_ISDIR(st.st_mode))
			list_into(p, r, out);
	}
	strv_free(names);
}

static char *tree(const char *dir)
{
	struct buf b = { 0 };
	buf_append(&b, "", 0);
	list_into(dir, "", &b);
	return b.data ? buf_steal(&b) : xstrdup("");
}

static void assert_tree(const char *dir, const char *expect)
{
	_cleanup_free_ char *t = tree(dir);
	if (strcmp(t, expect))
		fail_msg("tree of %s is \"%s\", expected \"%s\"", dir, t, expect);
}

/* Nothing appeared or changed outside root. */
static void check_outside(struct fx *f)
{
	_cleanup_free_ char *keep = xasprintf("%s/keep", f->sentinel);
	_cleanup_free_ char *data = NULL;
	size_t len;
	struct stat st;
	struct kerror e = { 0 };

	DIR *d = opendir(f->base);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 2); /* root and sentinel, nothing else */
	_cleanup_free_ char *top = tree(f->base);
	/* base holds root (whatever is inside) and sentinel/keep only. */
	assert_int_equal(strncmp(top, "root/", 5), 0);
	assert_non_null(strstr(top, "sentinel/,sentinel/keep"));
	assert_true(str_has_suffix(top, "sentinel/,sentinel/keep"));
	assert_int_equal(lstat(keep, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_nlink, 1);
	assert_int_equal(fs_read_file(keep, 100, &data, &len, &e), 0);
	assert_string_equal(data, "keep\n");
	assert_int_equal(access(f->pwned_up, F_OK), -1);
	assert_int_equal(access("/pwned", F_OK), -1);
}

static void expect_refused(struct fx *f, struct tb *t, enum tar_whiteout_mode m,
			   const char *substr)
{
	struct kerror e = { 0 };
	int r = apply_tb(f, t, m, &e);
	if (r >= 0)
		fail_msg("hostile layer applied (expected \"%s\")", substr);
	if (!e.msg || !strstr(e.msg, substr))
		fail_msg("error \"%s\" lacks \"%s\"", e.msg ? e.msg : "(null)", substr);
	kerror_release(&e);
	check_outside(f);
}

/* ---- escape attempts --------------------------------------------------- */

static void test_escape_dotdot(void **state)
{
	struct fx *f = *state;
	struct tb *t = tb_new();
	tb_file(t, "../sentinel/pwned", "x");
	expect_refused(f, t, OV, "entry \"../sentinel/pwned\": path leaves the layer");
	t = tb_new();
	tb_file(t, "a/../../pwned", "x");
	expect_refused(f, t, DEL, "entry \"a/../../pwned\": path leaves the layer");
	t = tb_new();
	tb_dir(t, "..");
	expect_refused(f, t, OV, "entry \"../\": path leaves the layer");
	t = tb_new();
	tb_dir(t, "./a/b/../../../");
	expect_refused(f, t, DEL, "path leaves the layer");
}

/* Entries that name the root as something else, or hardlink a directory,
 * are refused with a reason a user can act on. */
static void test_refused_root_and_dir_links(void **state)
{
	struct fx *f = *state;
	struct tb *t = tb_new();
	tb_sym(t, ".", f->sentinel);
	tb_file(t, "pwned", "x");
	expect_refused(f, t, OV, "entry \".\": the layer's root can only be a directory");
	t = tb_new();
	tb_file(t, ".", "x");
	expect_refused(f, t, DEL, "the layer's root can only be a directory");
	t = tb_new();
	tb_dir(t, "dir");
	tb_hard(t, "h", "dir");
	expect_refused(f, t, OV, "entry \"h\": hardlink target \"dir\" is a directory");
}

static void test_escape_absolute(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *abs = xasprintf("%s/pwned", f->sentinel);
	struct tb *t = tb_new();
	tb_file(t, abs, "x");
	expect_refused(f, t, OV, "absolute path refused");
	t = tb_new();
	tb_file(t, "/pwned", "x");
	expect_refused(f, t, DEL, "entry \"/pwned\": absolute path refused");
}

static void test_escape_symlink_root(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *through = xasprintf("a%s/pwned", f->sentinel);
	struct tb *t = tb_new();
	tb_sym(t, "a", "/");
	tb_file(t, through, "x");
	expect_refused(f, t, OV, "leaves the layer through a symlink");
	assert_tree(f->root, "a");
}

static void test_escape_symlink_dotdot(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *through = xasprintf("a/%s/sentinel/pwned", f->name);
	struct tb *t = tb_new();
	tb_sym(t, "a", "../..");
	tb_file(t, through, "x");
	expect_refused(f, t, OV, "leaves the layer through a symlink");
	t = tb_new();
	tb_sym(t, "up", "..");
	tb_file(t, "up/sentinel/pwned", "x");
	expect_refused(f, t, DEL, "entry \"up/sentinel/pwned\": parent \"up/sentinel\" leaves the layer through a symlink");
}

static void test_escape_symlink_chain(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *through = xasprintf("a/%s/sentinel/pwned", f->name);
	struct tb *t = tb_new();
	tb_sym(t, "a", "b");
	tb_sym(t, "b", "../..");
	tb_file(t, through, "x");
	expect_refused(f, t, OV, "leaves the layer through a symlink");
	/* Deeper: d/l -> ../../sentinel */
	t = tb_new();
	tb_dir(t, "d");
	tb_sym(t, "d/l", "../../sentinel");
	tb_sym(t, "m", "d/l");
	tb_file(t, "m/pwned", "x");
	expect_refused(f, t, DEL, "entry \"m/pwned\": parent \"m\" leaves the layer through a symlink");
}

static void test_escape_hardlink(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *abs = xasprintf("%s/keep", f->sentinel);
	struct tb *t = tb_new();
	tb_hard(t, "l", "../sentinel/keep");
	expect_refused(f, t, OV, "entry \"l\": hardlink target \"../sentinel/keep\": path leaves the layer");
	t = tb_new();
	tb_hard(t, "l", abs);
	expect_refused(f, t, DEL, "absolute path refused");
	t = tb_new();
	tb_sym(t, "s", "../sentinel");
	tb_hard(t, "l", "s/keep");
	expect_refused(f, t, OV, "hardlink target \"s/keep\": parent \"s\" leaves the layer through a symlink");
	t = tb_new();
	tb_hard(t, "l", "missing");
	expect_refused(f, t, OV, "hardlink target \"missing\" is missing");
	_cleanup_free_ char *l = rpath(f, "l");
	assert_int_equal(access(l, F_OK), -1);
}

static void test_escape_planted_symlink(void **state)
{
	struct fx *f = *state;
	enum tar_whiteout_mode modes[] = { OV, DEL };
	struct tb *t = tb_new();
	tb_sym(t, "a", f->sentinel);
	tb_sym(t, "b", "../sentinel");
	apply_ok(f, t, OV);
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		t = tb_new();
		tb_file(t, "a/pwned", "x");
		expect_refused(f, t, modes[i], "entry \"a/pwned\": parent \"a\" leaves the layer through a symlink");
		t = tb_new();
		tb_dir(t, "b/sub");
		expect_refused(f, t, modes[i], "parent \"b\" leaves the layer through a symlink");
		t = tb_new();
		tb_file(t, "a/.wh.keep", "");
		expect_refused(f, t, modes[i], "entry \"a/.wh.keep\": parent \"a\" leaves the layer");
		t = tb_new();
		tb_file(t, "b/.wh..wh..opq", "");
		expect_refused(f, t, modes[i], "parent \"b\" leaves the layer");
	}
}

static void test_escape_whiteouts(void **state)
{
	struct fx *f = *state;
	enum tar_whiteout_mode modes[] = { OV, DEL };
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		struct tb *t = tb_new();
		tb_file(t, ".wh..", "");
		expect_refused(f, t, modes[i], "entry \".wh..\": invalid whiteout");
		t = tb_new();
		tb_file(t, "d/.wh...", "");
		expect_refused(f, t, modes[i], "entry \"d/.wh...\": invalid whiteout");
		t = tb_new();
		tb_file(t, ".wh.", "");
		expect_refused(f, t, modes[i], "invalid whiteout");
		t = tb_new();
		tb_file(t, "../.wh.sentinel", "");
		expect_refused(f, t, modes[i], "entry \"../.wh.sentinel\": path leaves the layer");
		t = tb_new();
		tb_file(t, "../.wh..wh..opq", "");
		expect_refused(f, t, modes[i], "path leaves the layer");
	}
}

static void test_escape_replaced_by_symlink(void **state)
{
	struct fx *f = *state;
	struct tb *t = tb_new();
	tb_dir(t, "a");
	tb_file(t, "a/f", "x");
	tb_sym(t, "a", f->sentinel);
	tb_file(t, "a/pwned", "x");
	expect_refused(f, t, OV, "entry \"a/pwned\": parent \"a\" leaves the layer through a symlink");
	/* The same with a directory replaced by a relative escaping symlink. */
	t = tb_new();
	tb_dir(t, "b/c");
	tb_file(t, "b/c/f", "x");
	tb_sym(t, "b", "..");
	tb_file(t, "b/sentinel/pwned", "x");
	expect_refused(f, t, DEL, "leaves the layer through a symlink");
}

/* Raw ustar header (libarchive's writer cannot put a NUL in a PAX path). */
static void raw_header(char *h, const char *name, char type, size_t size)
{
	unsigned sum = 0;
	memset(h, 0, 512);
	strcpy(h, name);
	strcpy(h + 100, "0000644");
	strcpy(h + 108, "0000000");
	strcpy(h + 116, "0000000");
	snprintf(h + 124, 12, "%011zo", size);
	strcpy(h + 136, "00000000000");
	h[156] = type;
	memcpy(h + 257, "ustar\0" "00", 8);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
}

static size_t pax_with_nul(char *buf, const char *rec, size_t rl)
{
	memset(buf, 0, 4096);
	raw_header(buf, "PaxHeader", 'x', rl);
	memcpy(buf + 512, rec, rl);
	raw_header(buf + 1024, "plain", '0', 0);
	return 4096;
}

static void test_escape_pax_nul_and_long(void **state)
{
	struct fx *f = *state;
	struct kerror e = { 0 };
	char buf[4096];
	static const char r1[] = "20 path=../pwned\0aa\n";
	static const char r2[] = "20 path=a\0../../pwn\n";

	/* libarchive cuts a PAX value at the NUL: what is left is judged. */
	size_t n = pax_with_nul(buf, r1, sizeof(r1) - 1);
	assert_true(apply_bytes(f, buf, n, OV, NULL, NULL, &e) < 0);
	assert_non_null(strstr(e.msg, "entry \"../pwned\": path leaves the layer"));
	kerror_release(&e);
	check_outside(f);
	n = pax_with_nul(buf, r2, sizeof(r2) - 1);
	assert_int_equal(apply_bytes(f, buf, n, DEL, NULL, NULL, &e), 0);
	assert_tree(f->root, "a");
	check_outside(f);

	/* Very long names. */
	struct buf p = { 0 };
	for (int i = 0; i < 2100; i++)
		buf_append(&p, "a/", 2);
	buf_append(&p, "x", 2);
	struct tb *t = tb_new();
	tb_file(t, p.data, "x");
	expect_refused(f, t, OV, "name too long");
	buf_release(&p);
	char comp[400];
	memset(comp, 'c', sizeof(comp) - 1);
	comp[sizeof(comp) - 1] = '\0';
	t = tb_new();
	tb_file(t, comp, "x");
	expect_refused(f, t, DEL, "name too long");
}

/* ---- positive tests ---------------------------------------------------- */

static void test_regular_files(void **state)
{
	struct fx *f = *state;
	struct tb *t = tb_new();
	struct archive_entry *ae = ent("./etc/conf", AE_IFREG, 0640);
	struct tar_apply_stats st = { 0 };
	struct kerror e = { 0 };
	archive_entry_set_uid(ae, 1000);
	archive_entry_set_gid(ae, 2000);
	archive_entry_set_mtime(ae, 1234567890, 500000000);
	tb_put(t, ae, "hello world\n");
	ae = ent("bin/su", AE_IFREG, 04755);
	archive_entry_set_uid(ae, 1000);
	archive_entry_set_gid(ae, 1000);
	tb_put(t, ae, "#!\n");
	ae = ent("shared", AE_IFDIR, 03775);
	archive_entry_set_gid(ae, 50);
	tb_put(t, ae, NULL);
	tb_dir(t, "./");
	tb_close(t);
	assert_int_equal(apply_bytes(f, t->buf, t->used, OV, NULL, &st, &e), 0);
	tb_free(t);
	assert_int_equal(st.entries, 4);
	assert_int_equal(st.bytes, 15);

	_cleanup_free_ char *conf = rpath(f, "etc/conf"), *su = rpath(f, "bin/su"),
			    *sh = rpath(f, "shared"), *etc = rpath(f, "etc");
	_cleanup_free_ char *data = NULL;
	size_t len;
	struct stat s;
	assert_int_equal(fs_read_file(conf, 100, &data, &len, &e), 0);
	assert_string_equal(data, "hello world\n");
	assert_int_equal(stat(conf, &s), 0);
	assert_int_equal(s.st_mode & 07777, 0640);
	assert_int_equal(s.st_uid, 1000);
	assert_int_equal(s.st_gid, 2000);
	assert_int_equal(s.st_mtim.tv_sec, 1234567890);
	assert_int_equal(s.st_mtim.tv_nsec, 500000000);
	assert_int_equal(stat(su, &s), 0);
	assert_int_equal(s.st_mode & 07777, 04755); /* setuid survives chown */
	assert_int_equal(s.st_uid, 1000);
	assert_int_equal(stat(sh, &s), 0);
	assert_int_equal(s.st_mode & 07777, 03775);
	assert_int_equal(stat(etc, &s), 0); /* implicit parent */
	assert_int_equal(s.st_mode & 07777, 0755);
	assert_int_equal(s.st_uid, 0);
}

static void test_dir_merge_and_replace(void **state)
{
	struct fx *f = *state;
	struct tb *t = tb_new();
	tb_dir(t, "d");
	tb_file(t, "d/old", "1");
	tb_file(t, "f", "file");
	tb_dir(t, "x");
	tb_file(t, "x/y", "1");
	apply_ok(f, t, DEL);
	t = tb_new();
	tb_put(t, ent("d/", AE_IFDIR, 0700), NULL);
	tb_file(t, "d/new", "2");
	tb_dir(t, "f");      /* file -> dir */
	tb_file(t, "x", "now a file"); /* dir -> file */
	apply_ok(f, t, DEL);
	assert_tree(f->root, "d/,d/new,d/old,f/,x");
	_cleanup_free_ char *d = rpath(f, "d");
	struct stat s;
	assert_int_equal(stat(d, &s), 0);
	assert_int_equal(s.st_mode & 07777, 0700);
}

static void test_overlay_whiteouts(void **state)
{
	struct fx *f = *state;
	struct tb *t = tb_new();
	tb_file(t, ".wh.gone", "");
	tb_file(t, "d/.wh.x", "");           /* parent created */
	tb_dir(t, "o");
	tb_file(t, "o/.wh..wh..opq", "");
	tb_file(t, "p/.wh..wh..opq", "");    /* opaque dir not listed */
	tb_file(t, "kept", "mine");
	tb_file(t, ".wh.kept", "");          /* same layer: the file stays */
	tb_file(t, ".wh.later", "");
	tb_file(t, "later", "new");          /* replaces the whiteout */
	tb_file(t, ".wh..wh.plnk", "");      /* AUFS metadata: skipped */
	tb_file(t, ".wh.foo", "");
	tb_file(t, "foo/.wh.bar", "");       /* parent is a whiteout: ignored */
	apply_ok(f, t, OV);
	assert_tree(f->root, "d/,d/x,foo,gone,kept,later,o/,p/");
	const char *wh[] = { "gone", "d/x", "foo" };
	for (size_t i = 0; i < ARRAY_SIZE(wh); i++) {
		_cleanup_free_ char *p = rpath(f, wh[i]);
		struct stat s;
		assert_int_equal(lstat(p, &s), 0);
		assert_true(S_ISCHR(s.st_mode));
		assert_int_equal(s.st_rdev, makedev(0, 0));
	}
	_cleanup_free_ char *o = rpath(f, "o"), *p = rpath(f, "p"), *k = rpath(f, "kept");
	char v[8];
	assert_int_equal(getxattr(o, "trusted.overlay.opaque", v, sizeof(v)), 1);
	assert_int_equal(v[0], 'y');
	assert_int_equal(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)), 1);
	struct stat s;
	assert_int_equal(lstat(k, &s), 0);
	assert_true(S_ISREG(s.st_mode));

	/* Rootless prefix. */
	tb_close(t = tb_new());
	tb_free(t);
	struct kerror e = { 0 };
	t = tb_new();
	tb_file(t, "u/.wh..wh..opq", "");
	tb_close(t);
	assert_int_equal(apply_bytes(f, t->buf, t->used, OV, "user.overlay.", NULL, &e), 0);
	tb_free(t);
	_cleanup_free_ char *u = rpath(f, "u");
	assert_int_equal(getxattr(u, "user.overlay.opaque", v, sizeof(v)), 1);
	assert_int_equal(getxattr(u, "trusted.overlay.opaque", v, sizeof(v)), -1);
}

/* layer.md's worked examples, applied onto one tree (vfs-style). */
static void test_delete_worked_examples(void **state)
{
	struct fx *f = *state;
	struct tb *t = tb_new();
	tb_file(t, "file1", "1");
	tb_file(t, "a/file2", "2");
	tb_dir(t, "b");
	tb_file(t, "c/file3", "3");
	apply_ok(f, t, DEL);
	t = tb_new();
	tb_file(t, ".wh.file1", "");
	tb_file(t, "a/.wh.file2", "");
	tb_file(t, ".wh.b", "");
	tb_file(t, "file4", "4");
	apply_ok(f, t, DEL);
	assert_tree(f->root, "a/,c/,c/file3,file4");
}

static void test_delete_opaque(void **state)
{
	struct fx *f = *state;
	struct tb *t = tb_new();
	tb_file(t, "bin/my-app-binary", "1");
	tb_file(t, "bin/my-app-tools", "2");
	tb_file(t, "bin/tools/my-app-tool-one", "3");
	tb_file(t, "a/b/c/bar", "bar");
	tb_file(t, "z/b/c/bar", "bar");
	tb_file(t, "w/old", "old");
	tb_file(t, "w/gone", "gone");
	tb_file(t, "r/x", "x");
	tb_file(t, "r/y", "y");
	apply_ok(f, t, DEL);
	t = tb_new();
	tb_dir(t, "bin/");
	tb_file(t, "bin/.wh..wh..opq", "");
	/* opq before the siblings */
	tb_dir(t, "a/");
	tb_file(t, "a/.wh..wh..opq", "");
	tb_dir(t, "a/b/");
	tb_dir(t, "a/b/c/");
	tb_file(t, "a/b/c/foo", "foo");
	/* opq after the siblings: they stay */
	tb_dir(t, "z/");
	tb_dir(t, "z/b/");
	tb_dir(t, "z/b/c/");
	tb_file(t, "z/b/c/foo", "foo");
	tb_file(t, "z/.wh..wh..opq", "");
	/* whiteout after a same-layer file: the file stays */
	tb_file(t, "w/old", "new");
	tb_file(t, "w/.wh.old", "");
	tb_file(t, "w/.wh.gone", "");
	/* rm -rf style: whiteout of a dir then of a child of it */
	tb_file(t, ".wh.r", "");
	tb_file(t, "r/.wh.x", "");
	/* a whiteout of a directory this layer also lists: its lower
	 * content goes, the directory stays */
	tb_file(t, ".wh.bin", "");
	apply_ok(f, t, DEL);
	assert_tree(f->root, "a/,a/b/,a/b/c/,a/b/c/foo,bin/,w/,w/old,z/,z/b/,z/b/c/,z/b/c/foo");
	_cleanup_free_ char *old = rpath(f, "w/old"), *data = NULL;
	struct kerror e = { 0 };
	size_t len;
	assert_int_equal(fs_read_file(old, 10, &data, &len, &e), 0);
	assert_string_equal(data, "new");
}

static void test_opaque_root_delete(void **state)
{
	struct fx *f = *state;
	struct tb *t = tb_new();
	tb_file(t, "x", "1");
	tb_file(t, "y/z", "1");
	apply_ok(f, t, DEL);
	t = tb_new();
	tb_file(t, "y/new", "1");
	tb_file(t, ".wh..wh..opq", "");
	apply_ok(f, t, DEL);
	assert_tree(f->root, "y/,y/new");
	check_outside(f);
}

static void test_hardlinks_and_symlinks(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *keep = xasprintf("%s/keep", f->sentinel);
	_cleanup_free_ char *rootf = rpath(f, "f"), *rootdd = rpath(f, "dd");
	/* Planted: f -> sentinel/keep, dd -> sentinel. */
	assert_int_equal(symlink(keep, rootf), 0);
	assert_int_equal(symlink(f->sentinel, rootdd), 0);
	struct tb *t = tb_new();
	tb_file(t, "data", "content");
	tb_hard(t, "./sub/link", "./data");
	tb_sym(t, "s", "/etc/passwd");
	tb_hard(t, "hs", "s");    /* links the symlink, does not follow it */
	tb_file(t, "f", "new");   /* replaces the symlink */
	tb_dir(t, "dd");          /* replaces the symlink, no merge through it */
	tb_file(t, "dd/in", "1");
	tb_hard(t, "data", "data"); /* self link: no-op */
	apply_ok(f, t, OV);
	check_outside(f);
	_cleanup_free_ char *data = rpath(f, "data"), *link = rpath(f, "sub/link"),
			    *s = rpath(f, "s"), *hs = rpath(f, "hs");
	struct stat a, b;
	char target[64] = { 0 };
	assert_int_equal(stat(data, &a), 0);
	assert_int_equal(stat(link, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_nlink, 2);
	assert_int_equal(lstat(s, &a), 0);
	assert_int_equal(lstat(hs, &b), 0);
	assert_true(S_ISLNK(b.st_mode));
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(readlink(s, target, sizeof(target) - 1), 11);
	assert_string_equal(target, "/etc/passwd");
	assert_int_equal(lstat(rootf, &a), 0);
	assert_true(S_ISREG(a.st_mode));
	assert_int_equal(lstat(rootdd, &a), 0);
	assert_true(S_ISDIR(a.st_mode));
}

static void test_symlink_parent_inside(void **state)
{
	struct fx *f = *state;
	struct tb *t = tb_new();
	tb_dir(t, "usr/lib");
	tb_sym(t, "lib", "usr/lib");
	tb_file(t, "lib/libc.so", "elf");
	tb_sym(t, "usr/lib64", "../usr/./lib");
	tb_file(t, "usr/lib64/ld.so", "elf");
	tb_file(t, "a/1", "1");
	tb_file(t, "b/1", "1");
	tb_file(t, "a/2", "2");
	apply_ok(f, t, OV);
	assert_tree(f->root, "a/,a/1,a/2,b/,b/1,lib,usr/,usr/lib/,usr/lib/ld.so,usr/lib/libc.so,usr/lib64");
}

static void test_devices(void **state)
{
	struct fx *f = *state;
	struct tb *t = tb_new();
	struct archive_entry *ae = ent("dev/null", AE_IFCHR, 0666);
	archive_entry_set_rdevmajor(ae, 1);
	archive_entry_set_rdevminor(ae, 3);
	tb_put(t, ae, NULL);
	tb_put(t, ent("fifo", AE_IFIFO, 0600), NULL);
	apply_ok(f, t, OV);
	_cleanup_free_ char *n = rpath(f, "dev/null"), *fi = rpath(f, "fifo");
	struct stat s;
	assert_int_equal(lstat(n, &s), 0);
	assert_true(S_ISCHR(s.st_mode));
	assert_int_equal(s.st_rdev, makedev(1, 3));
	assert_int_equal(s.st_mode & 07777, 0666);
	assert_int_equal(lstat(fi, &s), 0);
	assert_true(S_ISFIFO(s.st_mode));
}

static void test_compressed_fd(void **state)
{
	struct fx *f = *state;
	for (int filter = 1; filter <= 2; filter++) {
		struct tb *t = tb_new_filter(filter);
		struct tar_apply_stats st = { 0 };
		struct kerror e = { 0 };
		_cleanup_free_ char *name = xasprintf("file%d", filter);
		tb_file(t, name, "compressed");
		tb_close(t);
		int fd = memfd_create("layer", MFD_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(fs_write_all(fd, t->buf, t->used), 0);
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		tb_free(t);
		assert_true(tar_fd_is_tar(fd));
		assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
		if (tar_apply_fd(fd, f->rootfd, NULL, &st, &e) < 0)
			fail_msg("%s", e.msg);
		close(fd);
		assert_int_equal(st.entries, 1);
		assert_int_equal(st.bytes, 10);
	}
	assert_tree(f->root, "file1,file2");
	/* Garbage is an error, not a crash. */
	struct kerror e = { 0 };
	int fd = memfd_create("junk", MFD_CLOEXEC);
	assert_int_equal(fs_write_all(fd, "\x1f\x8b garbage garbage", 18), 0);
	lseek(fd, 0, SEEK_SET);
	assert_true(tar_apply_fd(fd, f->rootfd, NULL, NULL, &e) < 0);
	assert_false(tar_fd_is_tar(fd));
	close(fd);
	kerror_release(&e);
	/* gzip of something that is no tar, and an empty file: not tars */
	struct archive *a = archive_write_new();
	char buf[4096];
	size_t used = 0;
	archive_write_set_format_raw(a);
	archive_write_add_filter_gzip(a);
	assert_int_equal(archive_write_open_memory(a, buf, sizeof(buf), &used), ARCHIVE_OK);
	struct archive_entry *ae = ent("x", AE_IFREG, 0644);
	archive_entry_set_size(ae, 12);
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, "not a tar\n\n\n", 12), 12);
	archive_entry_free(ae);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	fd = memfd_create("plain", MFD_CLOEXEC);
	assert_int_equal(fs_write_all(fd, buf, used), 0);
	assert_false(tar_fd_is_tar(fd));
	close(fd);
	fd = memfd_create("empty", MFD_CLOEXEC);
	assert_false(tar_fd_is_tar(fd));
	close(fd);
}

static void test_xattrs(void **state)
{
	struct fx *f = *state;
	struct tb *t = tb_new();
	struct archive_entry *ae = ent("x", AE_IFREG, 0644);
	archive_entry_xattr_add_entry(ae, "user.bin", "v\0bin", 5);
	archive_entry_xattr_add_entry(ae, "trusted.overlay.opaque", "y", 1);
	archive_entry_xattr_add_entry(ae, "user.overlay.whiteout", "y", 1);
	archive_entry_xattr_add_entry(ae, "security.selinux", "x", 1);
	tb_put(t, ae, "data");
	ae = ent("d", AE_IFDIR, 0755);
	archive_entry_xattr_add_entry(ae, "user.dir", "d", 1);
	archive_entry_xattr_add_entry(ae, "trusted.overlay.opaque", "y", 1);
	tb_put(t, ae, NULL);
	apply_ok(f, t, OV);
	_cleanup_free_ char *x = rpath(f, "x"), *d = rpath(f, "d");
	char v[16];
	assert_int_equal(getxattr(x, "user.bin", v, sizeof(v)), 5);
	assert_memory_equal(v, "v\0bin", 5);
	assert_int_equal(getxattr(x, "trusted.overlay.opaque", v, sizeof(v)), -1);
	assert_int_equal(getxattr(x, "user.overlay.whiteout", v, sizeof(v)), -1);
	assert_int_equal(getxattr(d, "user.dir", v, sizeof(v)), 1);
	assert_int_equal(getxattr(d, "trusted.overlay.opaque", v, sizeof(v)), -1);
}

static void test_dir_mtimes(void **state)
{
	struct fx *f = *state;
	struct tb *t = tb_new();
	struct archive_entry *ae = ent("d", AE_IFDIR, 0755);
	archive_entry_set_mtime(ae, 100000, 0);
	tb_put(t, ae, NULL);
	ae = ent("d/sub", AE_IFDIR, 0555);
	archive_entry_set_mtime(ae, 200000, 7);
	tb_put(t, ae, NULL);
	tb_file(t, "d/sub/f", "x");
	tb_file(t, "d/g", "x");
	tb_file(t, "d/.wh.h", "");
	apply_ok(f, t, OV);
	_cleanup_free_ char *d = rpath(f, "d"), *sub = rpath(f, "d/sub");
	struct stat s;
	assert_int_equal(stat(d, &s), 0);
	assert_int_equal(s.st_mtim.tv_sec, 100000);
	assert_int_equal(stat(sub, &s), 0);
	assert_int_equal(s.st_mtim.tv_sec, 200000);
	assert_int_equal(s.st_mtim.tv_nsec, 7);
}

/* ---- modes and owners of new files --------------------------------------
 * Regular files are created with their final mode and left unchowned when
 * the kernel already gives them what the header says: every case where it
 * does not (umask, default ACL, setgid directory, other owners, setuid)
 * must still end as the header says. */

struct want {
	const char *name;
	mode_t type, perm;
	uid_t uid;
	gid_t gid;
};

static void put_wants(struct tb *t, const struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = ent(w[i].name, w[i].type, w[i].perm);
		archive_entry_set_uid(ae, w[i].uid);
		archive_entry_set_gid(ae, w[i].gid);
		archive_entry_set_mtime(ae, 1500000000 + (time_t)i, 1000 + (long)i);
		tb_put(t, ae, w[i].type == AE_IFREG ? "data" : NULL);
	}
}

/* The last entry of each name is what must be there. */
static void check_wants(struct fx *f, const struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool later = false;
		for (size_t j = i + 1; j < n; j++)
			later |= !strcmp(w[i].name, w[j].name);
		if (later)
			continue;
		_cleanup_free_ char *p = rpath(f, w[i].name);
		struct stat s;
		assert_int_equal(lstat(p, &s), 0);
		if ((s.st_mode & 07777) != w[i].perm || s.st_uid != w[i].uid || s.st_gid != w[i].gid)
			fail_msg("%s: %04o %u:%u, want %04o %u:%u", w[i].name, s.st_mode & 07777,
				 s.st_uid, s.st_gid, w[i].perm, w[i].uid, w[i].gid);
		assert_int_equal(s.st_mtim.tv_sec, 1500000000 + (time_t)i);
		if (w[i].type == AE_IFREG)
			assert_int_equal(s.st_mtim.tv_nsec, 1000 + (long)i);
	}
}

/* A default ACL user::rwx group::r-x other::--- (the kernel's xattr form). */
static bool set_default_acl(const char *dir)
{
	struct {
		uint32_t version;
		struct { uint16_t tag, perm; uint32_t id; } e[3];
	} acl = { 2, { { 0x01, 7, UINT32_MAX }, { 0x04, 5, UINT32_MAX }, { 0x20, 0, UINT32_MAX } } };
	return setxattr(dir, "system.posix_acl_default", &acl, sizeof(acl), 0) == 0;
}

static void test_new_file_modes_owners(void **state)
{
	struct fx *f = *state;
	const struct want w[] = {
		{ "m644", AE_IFREG, 0644, 0, 0 },
		{ "m666", AE_IFREG, 0666, 0, 0 }, /* umask 022 takes 022 away */
		{ "m755", AE_IFREG, 0755, 0, 0 },
		{ "m600", AE_IFREG, 0600, 0, 0 },
		{ "m000", AE_IFREG, 0000, 0, 0 },
		{ "m4755", AE_IFREG, 04755, 0, 0 },
		{ "m2755", AE_IFREG, 02755, 0, 0 },
		{ "m1644", AE_IFREG, 01644, 0, 0 },
		{ "u1000", AE_IFREG, 0644, 1000, 1000 },
		{ "u0", AE_IFREG, 0644, 0, 0 },
		{ "g1000", AE_IFREG, 0755, 0, 1000 },
		{ "s4755", AE_IFREG, 04755, 1000, 1000 },
		/* a setgid directory gives its group to what is created in it */
		{ "sg", AE_IFDIR, 02775, 0, 1000 },
		{ "sg/a", AE_IFREG, 0644, 0, 1000 },
		{ "sg/b", AE_IFREG, 0644, 0, 0 },
		{ "sg/c", AE_IFREG, 0755, 0, 1000 },
		/* made implicitly, then made setgid by its entry between files */
		{ "late/x", AE_IFREG, 0644, 0, 0 },
		{ "late", AE_IFDIR, 02755, 0, 1000 },
		{ "late/y", AE_IFREG, 0644, 0, 0 },
		{ "late/z", AE_IFREG, 0644, 0, 1000 },
		/* what one directory gives is not taken for another's */
		{ "sg2", AE_IFDIR, 02755, 0, 1000 },
		{ "plain/p", AE_IFREG, 0644, 0, 0 },
		{ "sg2/q", AE_IFREG, 0644, 0, 0 },
		/* a file replaced by one with another mode and owner */
		{ "m644", AE_IFREG, 0600, 1000, 0 },
		/* default ACL (set below): creation keeps only user::rwx group::r-x */
		{ "acl/a600", AE_IFREG, 0600, 0, 0 },
		{ "acl/a666", AE_IFREG, 0666, 0, 0 },
		{ "acl/a644", AE_IFREG, 0644, 0, 0 },
		{ "acl/a750", AE_IFREG, 0750, 0, 0 },
	};
	const struct want w077[] = {
		{ "um/a", AE_IFREG, 0644, 0, 0 },
		{ "um/b", AE_IFREG, 0755, 0, 0 },
		{ "um/c", AE_IFREG, 0600, 0, 0 },
		{ "um/d", AE_IFREG, 0700, 0, 0 },
	};
	_cleanup_free_ char *acl = rpath(f, "acl");
	mode_t old = umask(022);
	struct tb *t = tb_new();
	size_t n = ARRAY_SIZE(w);

	assert_int_equal(mkdir(acl, 0755), 0);
	if (!set_default_acl(acl)) /* no ACLs here: that part is left out */
		n -= 4;
	put_wants(t, w, n);
	apply_ok(f, t, OV);
	check_wants(f, w, n);
	umask(077);
	put_wants(t = tb_new(), w077, ARRAY_SIZE(w077));
	apply_ok(f, t, OV);
	umask(old);
	check_wants(f, w077, ARRAY_SIZE(w077));
}

/* security.capability is set after the owner (a chown clears it), whether
 * the owner needed a chown or not. */
static void test_capability_after_owner(void **state)
{
	struct fx *f = *state;
	/* cap_net_bind_service+ep (VFS_CAP_REVISION_2) */
	const unsigned char cap[20] = { 0x01, 0, 0, 0x02, 0x00, 0x04 };
	const char *names[] = { "same", "other" };
	struct tb *t = tb_new();
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct archive_entry *ae = ent(names[i], AE_IFREG, 0755);
		archive_entry_set_uid(ae, i ? 1000 : 0);
		archive_entry_set_gid(ae, i ? 1000 : 0);
		archive_entry_xattr_add_entry(ae, "security.capability", cap, sizeof(cap));
		tb_put(t, ae, "x");
	}
	apply_ok(f, t, OV);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		_cleanup_free_ char *p = rpath(f, names[i]);
		unsigned char got[32];
		struct stat s;
		assert_int_equal(getxattr(p, "security.capability", got, sizeof(got)), 20);
		assert_memory_equal(got, cap, sizeof(cap));
		assert_int_equal(stat(p, &s), 0);
		assert_int_equal(s.st_uid, i ? 1000 : 0);
		assert_int_equal(s.st_mode & 07777, 0755);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_escape_dotdot),
		T(test_escape_absolute),
		T(test_refused_root_and_dir_links),
		T(test_escape_symlink_root),
		T(test_escape_symlink_dotdot),
		T(test_escape_symlink_chain),
		T(test_escape_hardlink),
		T(test_escape_planted_symlink),
		T(test_escape_whiteouts),
		T(test_escape_replaced_by_symlink),
		T(test_escape_pax_nul_and_long),
		T(test_regular_files),
		T(test_dir_merge_and_replace),
		T(test_overlay_whiteouts),
		T(test_delete_worked_examples),
		T(test_delete_opaque),
		T(test_opaque_root_delete),
		T(test_hardlinks_and_symlinks),
		T(test_symlink_parent_inside),
		T(test_devices),
		T(test_compressed_fd),
		T(test_xattrs),
		T(test_dir_mtimes),
		T(test_new_file_modes_owners),
		T(test_capability_after_owner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
