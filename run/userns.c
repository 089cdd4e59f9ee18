/* Rootless: the user namespace every kiln command of one user shares.
 *
 * A "pause" process, created on first use, holds the namespace (as
 * Podman's pause process does): root inside maps to the user, 1..N to the
 * user's range in /etc/subuid and /etc/subgid (written by the setuid
 * newuidmap/newgidmap), or only root to the user when there is no range.
 * Each later command joins it with one setns(2), which is cheap.  One
 * namespace for all commands matters: the store holds files owned by
 * subordinate ids, and a container's namespaces are owned by it, so stop,
 * exec and rm from another command must be in the same one. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <linux/nsfs.h>

#include "run/run_private.h"

#define PAUSE_NAME "kiln-pause"

int run_subid_find(const char *text, const char *name, unsigned long id,
		   struct run_subid *out)
{
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%lu", id);
	if (!text)
		return 0;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len > 0 && len < 512 && line[0] != '#') {
			_cleanup_free_ char *copy = xstrndup(line, len);
			char *c1 = strchr(copy, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
			char *end1, *end2;
			if (c2) {
				*c1 = *c2 = '\0';
				errno = 0;
				unsigned long start = strtoul(c1 + 1, &end1, 10);
				unsigned long count = strtoul(c2 + 1, &end2, 10);
				if (!errno && end1 != c1 + 1 && !*end1 && end2 != c2 + 1 &&
				    (!*end2 || *end2 == '\r') && count > 0 &&
				    start <= 0xfffffffeUL && count <= 0xffffffffUL - start &&
				    ((name && strcmp(copy, name) == 0) || strcmp(copy, idbuf) == 0)) {
					out->start = start;
					out->count = count;
					return 1;
				}
			}
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return 0;
}

int run_setgroups(size_t n, const gid_t *gids)
{
	if (setgroups(n, gids) == 0)
		return 0;
	if (errno == EPERM && n == 0 && fs_in_user_namespace())
		return 0;
	return -1;
}

bool run_rootless(void)
{
	return fs_rootless();
}

/* The user's first range in file; 0 when none. */
static int subid_lookup(const char *file, const char *name, unsigned long id,
			struct run_subid *out)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	struct kerror e = { 0 };
	int r = fs_read_file(file, 4 << 20, &text, &len, &e);
	kerror_release(&e);
	if (r < 0)
		return 0;
	return run_subid_find(text, name, id, out);
}

/* Runs newuidmap/newgidmap PID 0 ID 1 1 START COUNT. */
static int run_map_tool(const char *tool, pid_t pid, unsigned long id,
			const struct run_subid *r, struct kerror *e)
{
	char a[5][24];
	snprintf(a[0], sizeof(a[0]), "%d", (int)pid);
	snprintf(a[1], sizeof(a[1]), "%lu", id);
	snprintf(a[2], sizeof(a[2]), "%lu", r->start);
	snprintf(a[3], sizeof(a[3]), "%lu", r->count);
	char *argv[] = { (char *)tool, a[0], "0", a[1], "1", "1", a[2], a[3], NULL };
	int status;
	pid_t c = fork();
	if (c < 0)
		return kerror_sys(e, errno, "running %s", tool);
	if (c == 0) {
		execvp(tool, argv);
		_exit(127);
	}
	while (waitpid(c, &status, 0) < 0)
		if (errno != EINTR)
			return kerror_sys(e, errno, "waiting for %s", tool);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return kerror_set(e, ENOENT, "%s not found: install the uidmap package", tool);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return kerror_set(e, EPERM, "%s %s 0 %lu 1 1 %lu %lu failed (exit status %d)",
				  tool, a[0], id, r->start, r->count,
				  WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

static int write_proc(pid_t pid, const char *file, const char *text, struct kerror *e)
{
	_cleanup_free_ char *p = xasprintf("/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return kerror_sys(e, errno, "writing \"%s\"", p);
	return 0;
}

/* Writes the maps of pid's new user namespace. */
static int map_ids(pid_t pid, struct kerror *e)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	struct passwd *pw = getpwuid(uid);
	const char *name = pw ? pw->pw_name : NULL;
	struct run_subid su = { 0 }, sg = { 0 };
	bool has_u = subid_lookup("/etc/subuid", name, uid, &su) > 0;
	bool has_g = subid_lookup("/etc/subgid", name, gid, &sg) > 0;
	int r;

	/* subgid is looked up by user name, or by uid. */
	if (!has_g)
		has_g = subid_lookup("/etc/subgid", name, uid, &sg) > 0;
	if (has_u && has_g) {
		if ((r = run_map_tool("newuidmap", pid, uid, &su, e)) < 0 ||
		    (r = run_map_tool("newgidmap", pid, gid, &sg, e)) < 0)
			return r;
		return 0;
	}
	log_warn("no subordinate ids for user %s in /etc/subuid and /etc/subgid: only one id "
		 "is mapped (root in the container is you); images with files owned by other "
		 "ids may fail to pull or run",
		 name ? name : "?");
	char line[64];
	snprintf(line, sizeof(line), "0 %u 1\n", (unsigned)uid);
	if ((r = write_proc(pid, "uid_map", line, e)) < 0 ||
	    (r = write_proc(pid, "setgroups", "deny", e)) < 0)
		return r;
	snprintf(line, sizeof(line), "0 %u 1\n", (unsigned)gid);
	return write_proc(pid, "gid_map", line, e);
}

/* The pause process: holds the namespace until killed. */
static _Noreturn void pause_main(int ready_w, int go_r)
{
	char b = 0;
	sigset_t all;
	if (unshare(CLONE_NEWUSER) < 0)
		_exit(1);
	if (write(ready_w, "u", 1) != 1 || read(go_r, &b, 1) != 1 || b != 'g')
		_exit(1);
	setsid();
	prctl(PR_SET_NAME, PAUSE_NAME, 0, 0, 0);
	if (chdir("/") < 0)
		_exit(1);
	int null = open("/dev/null", O_RDWR);
	for (int fd = 0; fd < 3 && null >= 0; fd++)
		dup2(null, fd);
	/* ready_w among them: it closes when the exec is done (or failed). */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	/* A process of its own name rather than a copy of the command that
	 * happened to create it (ps, pgrep -f): sleep keeps the namespace. */
	execl("/bin/sleep", PAUSE_NAME, "infinity", (char *)NULL);
	close_range(3, ~0U, 0);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGTERM);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (;;)
		pause();
}

/* Joins the namespace of the pause process in pidfile, if it is alive and
 * ours.  1 joined, 0 not there, < 0 error. */
static int try_join(const char *pidfile, struct kerror *e)
{
	_cleanup_free_ char *text = NULL, *comm = NULL, *nsp = NULL, *commp = NULL;
	_cleanup_close_ int fd = -1;
	size_t len;
	struct kerror ie = { 0 };
	char *end;
	long pid;
	uid_t owner = (uid_t)-1;

	if (fs_read_file(pidfile, 64, &text, &len, &ie) < 0) {
		kerror_release(&ie);
		return 0;
	}
	pid = strtol(text, &end, 10);
	if (pid <= 1 || (*end && *end != '\n'))
		return 0;
	/* Its argv[0] (the exec'd sleep) or its name (without /bin/sleep). */
	commp = xasprintf("/proc/%ld/cmdline", pid);
	if (fs_read_file(commp, 256, &comm, &len, &ie) < 0 || strcmp(comm, PAUSE_NAME) != 0) {
		kerror_release(&ie);
		free(steal_pointer(&comm));
		free(commp);
		commp = xasprintf("/proc/%ld/comm", pid);
	}
	if (!comm && (fs_read_file(commp, 64, &comm, &len, &ie) < 0 ||
		      strncmp(comm, PAUSE_NAME, strlen(PAUSE_NAME)) != 0)) {
		kerror_release(&ie);
		return 0;
	}
	nsp = xasprintf("/proc/%ld/ns/user", pid);
	fd = open(nsp, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* A recycled pid of someone else's process is not our namespace. */
	if (ioctl(fd, NS_GET_OWNER_UID, &owner) < 0 || owner != getuid())
		return 0;
	if (setns(fd, CLONE_NEWUSER) < 0)
		return kerror_sys(e, errno, "joining the user namespace of %s (pid %ld)",
				  PAUSE_NAME, pid);
	return 1;
}

/* Forks the pause process, maps its namespace, records its pid. */
static int create_pause(const char *pidfile, struct kerror *e)
{
	int ready[2], go[2];
	char b, num[24];
	pid_t pid;
	int r;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return kerror_sys(e, errno, "creating a pipe");
	if (pipe2(go, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return kerror_sys(e, errno, "creating a pipe");
	}
	/* Our child for as long as this command lives (it never exits on its
	 * own), then init's. */
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		pause_main(ready[1], go[0]);
	}
	close(ready[1]);
	close(go[0]);
	if (pid < 0) {
		r = kerror_sys(e, errno, "forking the user namespace's holder");
		goto out;
	}
	if (read(ready[0], &b, 1) != 1) {
		r = kerror_set(e, EPERM, "creating a user namespace failed (are unprivileged user "
					 "namespaces disabled?)");
		goto out;
	}
	if ((r = map_ids(pid, e)) < 0)
		goto out;
	if (write(go[1], "g", 1) != 1) {
		r = kerror_sys(e, errno, "starting the user namespace's holder");
		goto out;
	}
	/* Its end of the pipe closes with its exec: until then try_join
	 * could see neither name (the command line still ours, the name no
	 * longer kiln-pause but sleep during the exec). */
	while (read(ready[0], &b, 1) < 0 && errno == EINTR)
		;
	snprintf(num, sizeof(num), "%d\n", (int)pid);
	r = fs_write_atomic(pidfile, num, strlen(num), 0600, e);
out:
	if (r < 0 && pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	close(ready[0]);
	close(go[1]);
	return r;
}

/* A private directory of the user's: created 0700, refused when someone
 * else owns it (a planted /tmp/kiln-run-UID). */
static int private_dir(const char *dir, struct kerror *e)
{
	struct stat st;
	int r = fs_mkdir_p(dir, 0700, e);
	if (r < 0)
		return r;
	if (lstat(dir, &st) < 0)
		return kerror_sys(e, errno, "checking \"%s\"", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid())
		return kerror_set(e, EPERM, "\"%s\" is not a directory owned by uid %u", dir,
				  (unsigned)getuid());
	return 0;
}

int run_userns_join(const char *state_dir, struct kerror *e)
{
	_cleanup_free_ char *pidfile = xasprintf("%s/pause.pid", state_dir);
	_cleanup_free_ char *lockfile = xasprintf("%s/pause.lock", state_dir);
	_cleanup_close_ int lfd = -1;
	char num[24], gnum[24];
	int r;

	snprintf(num, sizeof(num), "%u", (unsigned)getuid());
	snprintf(gnum, sizeof(gnum), "%u", (unsigned)getgid());

	if ((r = try_join(pidfile, e)) != 0)
		goto joined;
	if ((r = private_dir(state_dir, e)) < 0)
		return r;
	lfd = open(lockfile, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0 || flock(lfd, LOCK_EX) < 0)
		return kerror_sys(e, errno, "locking \"%s\"", lockfile);
	/* Another command may have created it while we waited. */
	if ((r = try_join(pidfile, e)) == 0) {
		if ((r = create_pause(pidfile, e)) < 0)
			return r;
		r = try_join(pidfile, e);
		if (r == 0)
			r = kerror_set(e, EIO, "the user namespace's holder vanished");
	}
joined:
	if (r < 0)
		return r;
	/* Commands and programs started from here (kiln unshare, the
	 * monitor, nested kiln) know they are rootless and whose. */
	setenv("KILN_ROOTLESS_UID", num, 1);
	setenv("KILN_ROOTLESS_GID", gnum, 1);
	return 0;
}
