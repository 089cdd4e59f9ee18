/* Fuzz target for tar_apply: the input is applied as a plain tar onto a
 * directory made once per process (<base>/root, emptied after every run);
 * afterwards nothing may have appeared beside it, and <base>/sentinel/keep
 * must be untouched.  Whiteout mode alternates with the input's length. */
#include <archive.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "storage/storage.h"

static char base[] = "/tmp/kiln-fuzz-tar-XXXXXX";
static int basefd = -1;

static void die(const char *why)
{
	fprintf(stderr, "fuzz_tar_apply: %s\n", why);
	abort();
}

static void cleanup(void)
{
	struct kerror e = { 0 };
	fs_rm_rf(base, &e);
	kerror_release(&e);
}

static void init(void)
{
	struct kerror e = { 0 };
	_cleanup_free_ char *keep = NULL;

	if (!mkdtemp(base))
		die("mkdtemp");
	basefd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	keep = xasprintf("%s/sentinel/keep", base);
	if (basefd < 0 || mkdirat(basefd, "sentinel", 0755) < 0 ||
	    fs_write_atomic(keep, "keep\n", 5, 0644, &e) < 0)
		die("setting up the sentinel");
	atexit(cleanup);
}

/* Dies unless directory dir (under base) holds exactly names a and b. */
static void expect_only(const char *dir, const char *a, const char *b)
{
	int fd = openat(basefd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d)
		die("opening a directory outside the root");
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, a) && strcmp(de->d_name, b))
			die("something was written outside the root");
}

static void check_outside(void)
{
	struct stat st;

	expect_only(".", "root", "sentinel");
	expect_only("sentinel", "keep", "keep");
	if (fstatat(basefd, "sentinel/keep", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_size != 5 || st.st_nlink != 1)
		die("the sentinel changed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tar_apply_opts o = { .whiteouts = size & 1 ? TAR_WHITEOUT_DELETE
							   : TAR_WHITEOUT_OVERLAY };
	struct kerror e = { 0 };
	_cleanup_close_ int rootfd = -1;
	struct archive *a;

	if (basefd < 0)
		init();
	if (mkdirat(basefd, "root", 0755) < 0 ||
	    (rootfd = openat(basefd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die("making the root");
	a = archive_read_new();
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, data, size) == ARCHIVE_OK)
		tar_apply(a, rootfd, &o, NULL, &e);
	archive_read_free(a);
	kerror_release(&e);
	check_outside();
	if (fs_rm_rf_at(basefd, "root", &e) < 0)
		die(e.msg);
	return 0;
}
