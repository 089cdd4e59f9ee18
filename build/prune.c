/* The build cache's garbage: cache rows whose layer is gone (all rows with
 * `all`), the COPY digest memos (STORE/build-memo/, one per context
 * directory: only a speed-up, rebuilt by the next build) and the RUN
 * --mount=type=cache directories (STORE/build-mounts/cache/<id>) that no
 * running build holds.  A cache directory is used under a flock of its
 * <id>.lock file (shared for sharing=shared, exclusive otherwise) whose
 * mtime the use refreshes; prune takes the lock exclusively without
 * waiting, so a directory in use is never removed.  Lock files stay (a few
 * bytes each): removing one while another build opens it would let two
 * builds hold locks on different files for the same directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build/engine.h"

#define AUTO_GC_EVERY (24 * 3600)      /* seconds between automatic runs */
#define AUTO_GC_AGE (30 * 24 * 3600)   /* unused this long: removed by them */

static bool old_enough(const struct stat *st, int64_t max_age, int64_t now)
{
	return max_age <= 0 || st->st_mtime < now - max_age;
}

static void prune_memos(const char *root, int64_t max_age, int64_t now,
			struct build_prune_stats *out)
{
	_cleanup_free_ char *dir = xasprintf("%s/build-memo", root);
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, 0) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		/* an interrupted write's temp file goes after an hour whatever the age */
		bool tmp = strstr(de->d_name, ".tmp-") != NULL;
		if (!old_enough(&st, tmp && max_age > 3600 ? 3600 : max_age, now))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0) {
			out->bytes += (uint64_t)st.st_blocks * 512;
			out->memos++;
		}
	}
	closedir(d);
}

static void prune_cache_mounts(const char *root, int64_t max_age, int64_t now,
			       struct build_prune_stats *out)
{
	_cleanup_free_ char *dir = xasprintf("%s/build-mounts/cache", root);
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		_cleanup_free_ char *lock = xasprintf("%s.lock", de->d_name);
		_cleanup_close_ int fd = openat(dirfd(d), lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		struct stat lst;
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
			continue; /* in use */
		/* last use: the lock's mtime (refreshed by each use), else the dir's */
		if (fstat(fd, &lst) == 0 && lst.st_size == 0 && lst.st_mtime > st.st_mtime)
			st.st_mtime = lst.st_mtime;
		if (!old_enough(&st, max_age, now))
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, de->d_name);
		uint64_t bytes = 0;
		struct kerror ie = { 0 };
		fs_disk_usage(path, &bytes, NULL);
		if (fs_rm_rf(path, &ie) == 0) {
			out->bytes += bytes;
			out->mounts++;
		} else {
			log_warn("removing the build cache mount \"%s\": %s", path, ie.msg);
		}
		kerror_release(&ie);
	}
	closedir(d);
}

int build_prune(struct store *s, bool all, int64_t max_age, struct build_prune_stats *out,
		struct kerror *e)
{
	int64_t now = time(NULL);
	memset(out, 0, sizeof(*out));
	int r = store_build_cache_prune(s, all, e);
	if (r < 0)
		return r;
	prune_memos(store_root(s), all ? 0 : max_age, now, out);
	prune_cache_mounts(store_root(s), all ? 0 : max_age, now, out);
	return 0;
}

void build_gc_auto(struct store *s)
{
	_cleanup_free_ char *stamp = xasprintf("%s/build-mounts/gc-stamp", store_root(s));
	_cleanup_free_ char *dir = xasprintf("%s/build-mounts", store_root(s));
	struct stat st;
	int64_t now = time(NULL);
	struct build_prune_stats stats;
	struct kerror ie = { 0 };

	if (stat(stamp, &st) == 0 && st.st_mtime > now - AUTO_GC_EVERY)
		return;
	/* rows of removed layers stay until a prune: the DB is not touched here */
	if (fs_mkdir_p(dir, 0700, &ie) == 0 && fs_write_atomic(stamp, "", 0, 0600, &ie) == 0) {
		prune_memos(store_root(s), AUTO_GC_AGE, now, &stats);
		prune_cache_mounts(store_root(s), AUTO_GC_AGE, now, &stats);
	}
	kerror_release(&ie);
}
