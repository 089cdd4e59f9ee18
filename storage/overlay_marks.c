/* Overlay's markers in a layer directory, read the same way everywhere:
 * a whiteout is a 0/0 character device; an opaque directory carries
 * trusted.overlay.opaque, or rootless user.overlay.opaque, = "y". */
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "storage/storage.h"

bool store_is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

bool store_is_opaque(const char *path)
{
	char v[4];
	ssize_t n = lgetxattr(path, "trusted.overlay.opaque", v, sizeof(v));
	if (n < 0)
		n = lgetxattr(path, "user.overlay.opaque", v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

bool store_is_opaque_fd(int dirfd)
{
	char v[4];
	ssize_t n = fgetxattr(dirfd, "trusted.overlay.opaque", v, sizeof(v));
	if (n < 0)
		n = fgetxattr(dirfd, "user.overlay.opaque", v, sizeof(v));
	return n == 1 && v[0] == 'y';
}
