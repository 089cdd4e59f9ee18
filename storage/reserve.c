/* The space reserve: a file of RESERVE_BYTES in the store, allocated while
 * the disk has room and freed when a removal finds the disk (nearly) full,
 * so that rmi, rm and prune can still run: SQLite needs room for the WAL
 * frames of a DELETE, a removal its tmp/ directory.  A full disk is found
 * with statvfs before the removal starts rather than by retrying after
 * ENOSPC: half-done removals are never retried from the middle. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "storage/store_private.h"

#define RESERVE_NAME "reserve"
#define RESERVE_BYTES (4 << 20)

static uint64_t free_bytes(struct store *s)
{
	struct statvfs sv;
	if (fstatvfs(s->root_fd, &sv) < 0)
		return UINT64_MAX;
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

void store_reserve_ensure(struct store *s)
{
	struct stat sb;
	int fd, r;

	if (fstatat(s->root_fd, RESERVE_NAME, &sb, AT_SYMLINK_NOFOLLOW) == 0 ||
	    errno != ENOENT || free_bytes(s) < 4 * (uint64_t)RESERVE_BYTES)
		return;
	fd = openat(s->root_fd, RESERVE_NAME, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return; /* another kiln is creating it */
	r = posix_fallocate(fd, 0, RESERVE_BYTES);
	close(fd);
	if (r != 0) {
		log_debug("allocating the store's space reserve: %s", strerror(r));
		unlinkat(s->root_fd, RESERVE_NAME, 0);
	}
}

void store_reserve_release(struct store *s)
{
	if (s->root_fd < 0 || s->read_only || free_bytes(s) >= 2 * (uint64_t)RESERVE_BYTES)
		return;
	if (unlinkat(s->root_fd, RESERVE_NAME, 0) == 0)
		log_debug("the disk is full: released the store's space reserve");
}
