/* --runtime runc|crun|PATH: running a container with an external OCI
 * runtime.  The root is kiln's overlay mounted as for `kiln mount`; the
 * bundle (config.json from oci_bundle.c) lives in the container's run dir
 * and the runtime's state under <runroot>/oci-runtime.  RUNTIME create
 * passes our stdio to the container's init; as a subreaper we inherit
 * that init once create returns, so the monitor waits on it, signals it
 * and joins its network namespace exactly as with kiln's own runtime
 * (conmon's scheme, without conmon). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "run/run_private.h"

static bool is_executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int run_oci_runtime_path(const char *name, char **path, struct kerror *e)
{
	if (name[0] == '/') {
		if (!is_executable(name))
			return kerror_set(e, ENOENT, "OCI runtime \"%s\" is not an executable file",
					  name);
		*path = xstrdup(name);
		return 0;
	}
	if (*name && !strchr(name, '/')) {
		const char *env = getenv("PATH");
		_cleanup_free_ char *copy = xstrdup(env ? env : "/usr/local/sbin:/usr/local/bin:"
							       "/usr/sbin:/usr/bin:/sbin:/bin");
		char *save = NULL;
		for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			_cleanup_free_ char *full = xasprintf("%s/%s", d, name);
			if (*d == '/' && is_executable(full)) {
				*path = steal_pointer(&full);
				return 0;
			}
		}
	}
	return kerror_set(e, ENOENT, "unknown OCI runtime \"%s\": not found in $PATH (runc, "
				     "crun, or an absolute path to an OCI runtime)", name);
}

int run_oci_check(const struct run_plan *p, struct kerror *e)
{
	const char *what = p->init		   ? "--init"
			   : p->infra || p->infra_id ? "--pod"
			   : p->uid_map		   ? "a user namespace (--userns, --uidmap)"
						   : NULL;
	if (what)
		return kerror_set(e, ENOTSUP, "%s is not supported with --runtime %s (only with "
					      "kiln's own runtime)", what, p->runtime);
	/* A rootless runtime needs its own user namespace set-up (not done). */
	if (run_rootless())
		return kerror_set(e, ENOTSUP, "--runtime %s is supported for root only (rootless "
					      "kiln runs containers with its own runtime)", p->runtime);
	return 0;
}

/* Runs RUNTIME --root STATE [--log LOG] args…; stdio from io (-1:
 * /dev/null, io NULL: all /dev/null); keep (-1: none) becomes its fd 3.
 * The exit status, or a negative errno when it could not run. */
static int runtime_exec(const char *rt, const char *state, const char *log,
			const char *const *args, const struct run_stdio *io, int keep)
{
	const char *argv[16];
	size_t n = 0;
	int status;
	argv[n++] = rt;
	argv[n++] = "--root";
	argv[n++] = state;
	if (log) {
		argv[n++] = "--log";
		argv[n++] = log;
	}
	for (size_t i = 0; args[i] && n < ARRAY_SIZE(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int src[3] = { io ? io->in : -1, io ? io->out : -1, io ? io->err : -1 };
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* the sources out of 0-2 first, so the dup2s cannot clobber */
		for (int i = 0; i < 3; i++) {
			if (src[i] < 0)
				src[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
			src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10);
		}
		if (keep >= 0)
			keep = fcntl(keep, F_DUPFD_CLOEXEC, 10);
		for (int i = 0; i < 3; i++)
			if (src[i] < 0 || dup2(src[i], i) < 0)
				_exit(125);
		if (keep >= 0 && dup2(keep, 3) < 0)
			_exit(125);
		close_range(keep >= 0 ? 4 : 3, ~0U, 0);
		execv(rt, (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *state_dir(struct store *s)
{
	return xasprintf("%s/oci-runtime", store_runroot(s));
}

/* The last error the runtime logged (runc's text format: msg="…"), for
 * the CLI's message and the 126/127 codes. */
static void runtime_error(const char *log, const char *rt, int status, int *exit_code,
			  struct kerror *e)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	char *msg = NULL, *line, *save = NULL;
	if (fs_read_file(log, 1024 * 1024, &text, &len, NULL) == 0)
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (strstr(line, "level=error") || strstr(line, "\"error\""))
				msg = line;
	if (msg && strstr(msg, "msg=\"")) {
		/* msg="…" with \" escapes, up to the closing quote */
		char *w = msg = strstr(msg, "msg=\"") + 5;
		for (const char *r = msg; *r && *r != '"'; r++) {
			if (*r == '\\' && r[1])
				r++;
			*w++ = *r;
		}
		*w = '\0';
	}
	*exit_code = 125;
	if (msg && (strstr(msg, "not found") || strstr(msg, "no such file")))
		*exit_code = 127;
	else if (msg && strstr(msg, "permission denied"))
		*exit_code = 126;
	if (msg)
		kerror_set(e, EIO, "OCI runtime %s: %s", rt, msg);
	else
		kerror_set(e, EIO, "OCI runtime %s: create failed with status %d", rt, status);
}

static void oci_ctr(struct container_info *ci, const char *id, const struct run_plan *p)
{
	_cleanup_json_ json_t *j = run_plan_to_json(p);
	memset(ci, 0, sizeof(*ci));
	snprintf(ci->id, sizeof(ci->id), "%s", id);
	ci->plan = json_dump_compact(j);
}

static int write_bundle(struct store *s, const char *id, const struct run_plan *p,
			const char *rootfs, const char *bundle, struct kerror *e)
{
	_cleanup_free_ char *rundir = store_container_rundir(s, id);
	_cleanup_free_ char *cfgpath = xasprintf("%s/config.json", bundle);
	_cleanup_free_ char *text = NULL;
	_cleanup_json_ json_t *cfg = NULL;
	int r = fs_mkdir_p(bundle, 0700, e);
	if (r == 0)
		r = run_oci_config(p, rootfs, rundir, &cfg, e);
	if (r < 0)
		return r;
	text = json_dumps(cfg, JSON_INDENT(1));
	return fs_write_atomic(cfgpath, text, strlen(text), 0600, e);
}

void oci_cleanup(struct store *s, const char *id, const struct run_plan *p)
{
	_cleanup_free_ char *rt = NULL, *state = state_dir(s);
	_cleanup_kerror_ struct kerror e = { 0 };
	struct container_info ci;
	if (run_oci_runtime_path(p->runtime, &rt, &e) == 0)
		runtime_exec(rt, state, NULL, (const char *const[]){ "delete", "--force", id, NULL },
			     NULL, -1);
	oci_ctr(&ci, id, p);
	if (run_mount_count(s, id) > 0)
		run_unmount_rootfs(s, &ci, false, &e);
	free(ci.plan);
}

void run_oci_delete(struct store *s, const struct container_info *c)
{
	_cleanup_json_ json_t *plan = NULL;
	_cleanup_free_ char *rt = NULL, *state = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };
	const char *name;
	if (!c->plan || !strstr(c->plan, "\"runtime\"") ||
	    json_parse(c->plan, strlen(c->plan), &plan, &e) < 0)
		return;
	name = json_str(plan, "runtime");
	if (!name || run_oci_runtime_path(name, &rt, &e) < 0)
		return;
	state = state_dir(s);
	/* only a container the runtime still knows */
	if (runtime_exec(rt, state, NULL, (const char *const[]){ "state", c->id, NULL }, NULL,
			 -1) == 0)
		runtime_exec(rt, state, NULL,
			     (const char *const[]){ "delete", "--force", c->id, NULL }, NULL, -1);
}

/* -t: the runtime sends the pty's master over a socket we listen on,
 * console.sock in the bundle, named through /proc/self/fd/DIR (the run
 * dir's path can be longer than a socket address allows). */
static int console_listen(int dir, struct kerror *e)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;
	snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d/console.sock", dir);
	unlinkat(dir, "console.sock", 0);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kerror_sys(e, errno, "creating the console socket");
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0) {
		int err = errno;
		close(fd);
		return kerror_sys(e, err, "listening on the console socket");
	}
	return fd;
}

/* After create: the connection waits in the backlog with the fd sent. */
static int console_take(int lfd, struct kerror *e)
{
	_cleanup_close_ int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	int fd = c >= 0 ? run_recv_fd(c) : -1;
	if (fd < 0)
		return kerror_set(e, EIO, "the OCI runtime sent no terminal");
	return fd;
}

static int read_pid(const char *path, pid_t *pid, struct kerror *e)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = fs_read_file(path, 64, &text, &len, e);
	if (r < 0)
		return r;
	long v = strtol(text, NULL, 10);
	if (v <= 1)
		return kerror_set(e, EIO, "the OCI runtime wrote no valid pid to \"%s\"", path);
	*pid = (pid_t)v;
	return 0;
}

int oci_spawn(struct store *s, const char *id, const struct run_plan *p,
	      const struct run_stdio *io, struct run_proc *out, int *exit_code,
	      struct kerror *e)
{
	_cleanup_free_ char *rt = NULL, *merged = NULL, *state = state_dir(s);
	_cleanup_free_ char *rundir = store_container_rundir(s, id);
	_cleanup_free_ char *bundle = xasprintf("%s/bundle", rundir);
	_cleanup_free_ char *pidfile = xasprintf("%s/pid", bundle);
	_cleanup_free_ char *log = xasprintf("%s/runtime.log", bundle);
	_cleanup_close_ int console_fd = -1, bundle_fd = -1;
	bool user_net = run_network_user_mode(p->network);
	bool bridge = p->networks && p->networks[0];
	struct container_info ci;
	pid_t pid = 0;
	int r, st;

	*exit_code = 125;
	memset(out, 0, sizeof(*out));
	out->pty_master = -1;
	out->net_fd = -1;
	if ((r = run_oci_check(p, e)) < 0 || (r = run_oci_runtime_path(p->runtime, &rt, e)) < 0)
		return r;
	oci_ctr(&ci, id, p);
	r = run_mount_rootfs(s, &ci, &merged, e);
	free(ci.plan);
	if (r < 0)
		return r;
	r = write_bundle(s, id, p, merged, bundle, e);
	if (r < 0)
		goto fail;
	unlink(pidfile);
	unlink(log);
	/* The container's init becomes ours once create's processes exit. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		r = kerror_sys(e, errno, "becoming a subreaper");
		goto fail;
	}
	if (p->tty && (bundle_fd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = kerror_sys(e, errno, "opening \"%s\"", bundle);
		goto fail;
	}
	if (p->tty && (r = console_fd = console_listen(bundle_fd, e)) < 0)
		goto fail;
	st = runtime_exec(rt, state, log,
			  (const char *const[]){ "create", "--bundle", bundle, "--pid-file",
						 pidfile, p->tty ? "--console-socket" : id,
						 p->tty ? "/proc/self/fd/3/console.sock" : NULL,
						 p->tty ? id : NULL, NULL },
			  io, bundle_fd);
	if (st != 0) {
		runtime_error(log, rt, st, exit_code, e);
		r = -EIO;
		goto fail;
	}
	r = read_pid(pidfile, &pid, e);
	if (r == 0 && p->tty && (r = out->pty_master = console_take(console_fd, e)) < 0)
		out->pty_master = -1;
	if (r == 0 && user_net)
		r = net_user_start(p, pid, rundir, &out->net_fd, &out->net_pid, e);
	if (r == 0 && bridge)
		r = run_net_setup(s, id, p, pid, e);
	if (r < 0)
		goto fail;
	st = runtime_exec(rt, state, log, (const char *const[]){ "start", id, NULL }, NULL, -1);
	if (st != 0) {
		r = kerror_set(e, EIO, "%s start failed (status %d)", rt, st);
		goto fail;
	}
	out->pid = pid;
	return 0;

fail:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	net_user_end(out->net_fd, out->net_pid);
	out->net_fd = -1;
	out->net_pid = 0;
	if (out->pty_master >= 0)
		close(out->pty_master);
	out->pty_master = -1;
	oci_cleanup(s, id, p);
	return r;
}
