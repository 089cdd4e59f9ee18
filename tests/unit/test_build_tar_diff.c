/* tar_diff: an overlay upper dir becomes a deterministic layer tar with
 * whiteouts, opaque markers (only over a lower dir), hardlinks, symlinks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "storage/storage.h"

static int to_buf(void *ctx, const void *data, size_t n, struct kerror *e)
{
	(void)e;
	buf_append(ctx, data, n);
	return 0;
}

static void put(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

static void test_layer_tar(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/kiln-tardiff-XXXXXX";
	char *root = mkdtemp(tmpl);
	struct kerror e = { 0 };
	struct buf a = { 0 }, b = { 0 };
	assert_non_null(root);
	char *up = xasprintf("%s/up", root), *low = xasprintf("%s/low", root);
	char *p;
	mkdir(up, 0755);
	mkdir(low, 0755);
	p = xasprintf("%s/opq", low); mkdir(p, 0755); free(p);
	p = xasprintf("%s/opq", up); mkdir(p, 0700); free(p);
	p = xasprintf("%s/newopq", up); mkdir(p, 0755); free(p);
	p = xasprintf("%s/z", up); put(p, "zz"); free(p);
	p = xasprintf("%s/a", up); put(p, "aaa"); free(p);
	{
		char *from = xasprintf("%s/a", up), *to = xasprintf("%s/opq/hl", up);
		assert_int_equal(link(from, to), 0);
		free(from);
		free(to);
	}
	p = xasprintf("%s/link", up); assert_int_equal(symlink("a", p), 0); free(p);
	bool wh = false;
	p = xasprintf("%s/gone", up);
	if (mknod(p, S_IFCHR, makedev(0, 0)) == 0)
		wh = true;
	free(p);
	{
		p = xasprintf("%s/opq", up);
		bool x1 = setxattr(p, "trusted.overlay.opaque", "y", 1, 0) == 0;
		free(p);
		p = xasprintf("%s/newopq", up);
		bool x2 = setxattr(p, "trusted.overlay.opaque", "y", 1, 0) == 0;
		free(p);
		if (!x1 || !x2)
			wh = false; /* not root: skip the whiteout checks */
	}
	char *lowers[] = { low, NULL };
	assert_int_equal(tar_diff_write(up, lowers, to_buf, &a, &e), 0);
	assert_int_equal(tar_diff_write(up, lowers, to_buf, &b, &e), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);

	struct archive *ar = archive_read_new();
	struct archive_entry *ent;
	struct buf names = { 0 };
	archive_read_support_format_tar(ar);
	assert_int_equal(archive_read_open_memory(ar, a.data, a.len), ARCHIVE_OK);
	while (archive_read_next_header(ar, &ent) == ARCHIVE_OK) {
		const char *hl = archive_entry_hardlink(ent);
		buf_printf(&names, "%s%s%s;", archive_entry_pathname(ent), hl ? ">" : "",
			   hl ? hl : "");
	}
	archive_read_free(ar);
	buf_append(&names, "", 1);
	if (wh)
		assert_string_equal(names.data, "a;.wh.gone;link;newopq/;opq/;opq/.wh..wh..opq;"
						"opq/hl>a;z;");
	else
		assert_non_null(strstr(names.data, "opq/hl>a;"));
	buf_release(&names);
	buf_release(&a);
	buf_release(&b);
	fs_rm_rf(root, &e);
	free(up);
	free(low);
	kerror_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layer_tar),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
