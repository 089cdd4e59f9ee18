/* Commits that do not wait for the disk: the batch of rows a commit
 * records, the detached syncer that makes the files durable and deletes
 * them, and the recovery of rows whose syncer never finished. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/store_private.h"

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x4000U
#endif

extern char **environ;

static bool background;

void store_background_sync(bool on)
{
	background = on;
}

static int open_sync_lock(struct store *s)
{
	return openat(s->root_fd, "sync.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

/* "<boot id>/<mount id>": files written under another value may have lost
 * their unsynced pages (a reboot, or the filesystem unmounted and an older
 * copy of it mounted).  Without a unique mount ID (Linux < 6.8) every
 * value differs from every other: the recovery then assumes the worst. */
static void mount_identity(struct store *s, char *out, size_t n)
{
	char boot[64] = "";
	struct statx sx;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	if (f) {
		if (!fgets(boot, sizeof(boot), f))
			boot[0] = '\0';
		fclose(f);
		boot[strcspn(boot, "\n")] = '\0';
	}
	if (!boot[0] || statx(s->root_fd, "", AT_EMPTY_PATH, STATX_MNT_ID_UNIQUE, &sx) < 0 ||
	    !(sx.stx_mask & STATX_MNT_ID_UNIQUE))
		snprintf(out, n, "unknown");
	else
		snprintf(out, n, "%s/%" PRIu64, boot, (uint64_t)sx.stx_mnt_id);
}

int sync_batch_begin(struct store *s, struct sync_batch *b, struct kerror *e)
{
	unsigned char rnd[16];

	memset(b, 0, sizeof(*b));
	b->lock_fd = -1;
	/* Deleted right after use: nothing to make durable, and a syncer
	 * would still be opening the DB while the store is removed. */
	if (s->ephemeral)
		return 0;
	b->lock_fd = open_sync_lock(s);
	if (b->lock_fd < 0)
		return kerror_sys(e, errno, "opening \"%s/sync.lock\"", s->root);
	/* Shared: batches do not exclude each other, only a recovery. */
	while (flock(b->lock_fd, LOCK_SH) < 0)
		if (errno != EINTR) {
			int r = kerror_sys(e, errno, "locking \"%s/sync.lock\"", s->root);
			close(b->lock_fd);
			b->lock_fd = -1;
			return r;
		}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)random();
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(b->token + 2 * i, 3, "%02x", rnd[i]);
	mount_identity(s, b->mount, sizeof(b->mount));
	return 0;
}

int sync_batch_record(struct store *s, struct sync_batch *b, const char *layer,
		      const char *image, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	if (s->ephemeral)
		return 0;
	r = db_prepare(s, "INSERT INTO unsynced (batch, mount, layer, image) VALUES (?, ?, ?, ?)",
			   &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, b->token, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b->mount, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, layer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, image, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, "recording what the commit wrote", e);
	b->recorded = true;
	return 0;
}

static int delete_batch(struct store *s, const char *token, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "DELETE FROM unsynced WHERE batch = ?", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
	/* Losing this delete in a power cut costs a needless recovery only. */
	db_sync_normal(s, true);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = db_error(s, "forgetting synced files", e);
	db_sync_normal(s, false);
	return r;
}

/* Without a background syncer (a library user, the unit tests, a failed
 * fork): the sync the commit skipped, now. */
static void sync_inline(struct store *s, struct sync_batch *b)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	if (syncfs(s->root_fd) < 0)
		log_warn("syncing the store \"%s\": %s", s->root, strerror(errno));
	else if (delete_batch(s, b->token, &e) < 0)
		log_warn("%s", e.msg);
}

/* How long a command waits for its syncer to hold the DB open: that takes
 * about 2 ms; the bound only keeps a syncer stuck in its start from
 * holding up the command. */
#define SYNCER_READY_TIMEOUT_MS 10000

/* Until the syncer closes its end of the pipe (it holds the DB open) or
 * dies: nothing is ever written, so the only event is the hang-up. */
static void wait_syncer_ready(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, SYNCER_READY_TIMEOUT_MS) < 0 && errno == EINTR)
		;
}

/* Double fork: the syncer is nobody's child (no zombie in a long-running
 * caller) and in a session of its own; between fork and exec only
 * async-signal-safe calls.  It gets the batch's lock as fd 3 and the write
 * end of a pipe as fd 4, which it closes once it has the DB (and its WAL
 * and shm files) open: the command waits for that, so that nothing of the
 * store is created after the command exits (`kiln pull X && rm -rf STORE`
 * would then fail with "Directory not empty"). */
static bool spawn_syncer(struct store *s, struct sync_batch *b)
{
	char *argv[] = { "kiln", STORE_SYNCER_ARG, s->root, b->token, NULL };
	sigset_t none;
	int ready[2];
	int status;
	pid_t pid;

	sigemptyset(&none);
	if (pipe2(ready, O_CLOEXEC) < 0)
		return false;
	pid = fork();
	if (pid < 0) {
		close(ready[0]);
		close(ready[1]);
		return false;
	}
	if (pid == 0) {
		setsid();
		pid_t g = fork();
		if (g != 0)
			_exit(g < 0 ? 1 : 0);
		/* Above 4 first: either may be 3 or 4 already. */
		int lock = fcntl(b->lock_fd, F_DUPFD, 5);
		int w = fcntl(ready[1], F_DUPFD, 5);
		if (lock < 0 || w < 0 || dup2(lock, 3) < 0 || dup2(w, 4) < 0)
			_exit(1);
		close_range(5, ~0U, 0);
		fs_stdio_to_devnull();
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve("/proc/self/exe", argv, environ);
		_exit(127);
	}
	close(ready[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	bool started = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (started)
		wait_syncer_ready(ready[0]);
	close(ready[0]);
	return started;
}

void sync_batch_end(struct store *s, struct sync_batch *b, bool committed)
{
	if (b->lock_fd < 0)
		return;
	if (committed && b->recorded && !(background && spawn_syncer(s, b)))
		sync_inline(s, b);
	close(b->lock_fd);
	b->lock_fd = -1;
}

int store_syncer_main(int argc, char **argv)
{
	struct store *s;
	_cleanup_kerror_ struct kerror e = { 0 };
	int r;

	if (argc != 4)
		return 2;
	/* `ps` shows it by name, not as "exe" (/proc/self/exe). */
	prctl(PR_SET_NAME, "kiln-syncer");
	s = xcalloc(1, sizeof(*s));
	s->root = xstrdup(argv[2]);
	s->lock_fd = -1;
	s->lock_timeout_ms = 60000;
	s->existing_db = true;
	s->root_fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* The DB (its first read opens the WAL and shm files) is open before
	 * the command, waiting on fd 4, exits: a store removed afterwards
	 * (`rm -rf` right after the command) has nothing created under the
	 * remover; what follows only writes to open files.  A failure leaves
	 * the rows: with the lock (fd 3) gone at exit, the next command
	 * re-verifies them. */
	r = s->root_fd < 0 ? -errno : db_open(s, &e);
	close(4);
	if (r == 0 && syncfs(s->root_fd) < 0)
		r = -errno;
	if (r == 0)
		r = delete_batch(s, argv[3], &e);
	store_close(s);
	return r < 0 ? 1 : 0;
}

int store_sync_wait(struct store *s, struct kerror *e)
{
	_cleanup_close_ int fd = open_sync_lock(s);
	if (fd < 0)
		return kerror_sys(e, errno, "opening \"%s/sync.lock\"", s->root);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return kerror_sys(e, errno, "waiting for the store's syncer");
	return 0;
}

struct unsynced_rows {
	struct unsynced_set set;
	size_t n;
	int64_t max_rowid;
};

static void unsynced_rows_release(struct unsynced_rows *u)
{
	strv_free(u->set.layers);
	free(u->set.rebuild);
}

static int load_rows(struct store *s, const char *mount, struct unsynced_rows *u,
		     struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "SELECT rowid, mount, layer FROM unsynced ORDER BY rowid", &st, e);

	u->set.layers = xcalloc(1, sizeof(char *));
	if (r < 0)
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(st, 1);
		const char *layer = (const char *)sqlite3_column_text(st, 2);
		u->max_rowid = sqlite3_column_int64(st, 0);
		if (!layer)
			continue;
		strv_push(&u->set.layers, xstrdup(layer));
		u->set.rebuild = xrealloc(u->set.rebuild, (u->n + 1) * sizeof(bool));
		u->set.rebuild[u->n++] = !m || strcmp(m, mount) != 0 || strcmp(m, "unknown") == 0;
	}
	return 0;
}

static bool rows_exist(struct store *s)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	return db_prepare(s, "SELECT 1 FROM unsynced LIMIT 1", &st, NULL) == 0 &&
	       sqlite3_step(st) == SQLITE_ROW;
}

/* Under sync.lock exclusive: no commit is between its transaction and its
 * syncer, no syncer lives, so every row is an orphan. */
static int recover_locked(struct store *s, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *del = NULL;
	struct unsynced_rows u = { 0 };
	struct store_check_report rep = { 0 };
	char mount[80];
	int r;

	mount_identity(s, mount, sizeof(mount));
	r = load_rows(s, mount, &u, e);
	/* What is still in the page cache goes to the disk first: then the
	 * check reads what a later power cut would leave. */
	if (r == 0 && syncfs(s->root_fd) < 0)
		r = kerror_sys(e, errno, "syncing the store \"%s\"", s->root);
	if (r == 0) {
		log_info("re-verifying %zu layers written before an interrupted sync", u.n);
		r = store_check_unsynced(s, &u.set, &rep, e);
	}
	/* The images that go are what the user sees; the rest is detail. */
	for (size_t i = 0; r == 0 && i < rep.n; i++)
		if (strncmp(rep.problems[i], "image ", 6) == 0)
			log_warn("removed after an interrupted sync (pull or load it again): %s",
				 rep.problems[i]);
		else
			log_info("after an interrupted sync: %s", rep.problems[i]);
	store_check_report_release(&rep);
	/* The repair's removals and rebuilds are on the disk before the rows
	 * that made this recovery happen go. */
	if (r == 0 && syncfs(s->root_fd) < 0)
		r = kerror_sys(e, errno, "syncing the store \"%s\"", s->root);
	if (r == 0)
		r = db_prepare(s, "DELETE FROM unsynced WHERE rowid <= ?", &del, e);
	if (r == 0) {
		sqlite3_bind_int64(del, 1, u.max_rowid);
		if (sqlite3_step(del) != SQLITE_DONE)
			r = db_error(s, "forgetting re-verified files", e);
	}
	unsynced_rows_release(&u);
	return r;
}

void store_recover_unsynced(struct store *s)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_close_ int fd = -1;

	if (!rows_exist(s))
		return;
	fd = open_sync_lock(s);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		/* Held shared: syncers live, their rows are theirs (orphans
		 * among them wait for a quiet moment).  Held exclusive: another
		 * command is recovering; wait for it before using the layers. */
		if (flock(fd, LOCK_SH | LOCK_NB) < 0)
			while (flock(fd, LOCK_SH) < 0 && errno == EINTR)
				;
		return;
	}
	if (recover_locked(s, &e) < 0)
		log_warn("re-verifying what an interrupted sync left: %s", e.msg);
}
