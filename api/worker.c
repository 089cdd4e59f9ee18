/* Workers: the kiln binary run with the service's global options and the
 * CLI command that does what a request asks.  Each worker leads its own
 * process group, so a disconnected client's worker is killed with all its
 * children (a pull's helpers, an exec's relay). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "api/api_private.h"

extern char **environ;

/* What a worker may print before it is cut short. */
#define WORKER_OUT_MAX (256u << 20)

/* Spawns `kiln <global options> args…` with fa's stdio: in a process group
 * of its own, or with setsid in a session of its own (its controlling
 * terminal then comes from fa). */
static int spawn(struct api_server *srv, char *const *args, posix_spawn_file_actions_t *fa,
		 bool setsid, pid_t *pid, struct kerror *e)
{
	posix_spawnattr_t at;
	sigset_t none, def;
	_cleanup_strv_ char **argv = NULL;
	int r;

	api_arg(&argv, srv->o->self);
	for (char *const *a = srv->o->worker_args; a && *a; a++)
		api_arg(&argv, *a);
	for (char *const *a = args; *a; a++)
		api_arg(&argv, *a);
	/* The service blocks SIGINT/SIGTERM and ignores SIGPIPE; a worker is
	 * an ordinary command again. */
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	/* a session leader leads its process group too */
	if (!setsid)
		posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					      (setsid ? POSIX_SPAWN_SETSID : POSIX_SPAWN_SETPGROUP));
	r = posix_spawn(pid, srv->o->self, fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	if (r != 0) {
		*pid = -1;
		return kerror_sys(e, r, "starting a worker (%s)", srv->o->self);
	}
	return 0;
}

int api_worker_start(struct api_server *srv, char *const *args, int flags,
		     struct api_worker *w, struct kerror *e)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	int r;

	*w = (struct api_worker){ .pid = -1, .in = -1, .out = -1, .err = -1 };
	if (((flags & WORKER_STDIN) && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
	    (!(flags & WORKER_MERGE) && pipe2(err, O_CLOEXEC) < 0)) {
		r = kerror_sys(e, errno, "creating pipes");
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	if (flags & WORKER_STDIN)
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, (flags & WORKER_MERGE) ? out[1] : err[1], 2);
	r = spawn(srv, args, &fa, false, &w->pid, e);
	posix_spawn_file_actions_destroy(&fa);
	if (r < 0)
		goto fail;
	if (in[0] >= 0)
		close(in[0]);
	close(out[1]);
	if (err[1] >= 0)
		close(err[1]);
	w->in = in[1];
	w->out = out[0];
	w->err = err[0];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0) close(in[i]);
		if (out[i] >= 0) close(out[i]);
		if (err[i] >= 0) close(err[i]);
	}
	return r;
}

int api_worker_start_pty(struct api_server *srv, char *const *args, int master, bool with_in,
			 struct api_worker *w, struct kerror *e)
{
	posix_spawn_file_actions_t fa;
	char pts[64];
	int r;

	*w = (struct api_worker){ .pid = -1, .in = -1, .out = -1, .err = -1 };
	if (ptsname_r(master, pts, sizeof(pts)) != 0)
		return kerror_sys(e, errno, "naming the worker's pty");
	w->out = fcntl(master, F_DUPFD_CLOEXEC, 3);
	if (with_in && w->out >= 0)
		w->in = fcntl(master, F_DUPFD_CLOEXEC, 3);
	if (w->out < 0 || (with_in && w->in < 0)) {
		r = kerror_sys(e, errno, "duplicating the pty");
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	/* opened after setsid and without O_NOCTTY: its controlling tty */
	posix_spawn_file_actions_addopen(&fa, 0, pts, O_RDWR, 0);
	posix_spawn_file_actions_adddup2(&fa, 0, 1);
	posix_spawn_file_actions_adddup2(&fa, 0, 2);
	r = spawn(srv, args, &fa, true, &w->pid, e);
	posix_spawn_file_actions_destroy(&fa);
	if (r == 0)
		return 0;
fail:
	if (w->in >= 0)
		close(w->in);
	if (w->out >= 0)
		close(w->out);
	w->in = w->out = -1;
	return r;
}

int api_worker_finish(struct api_worker *w, bool kill_it)
{
	int st = 0;
	if (w->in >= 0) close(w->in);
	if (w->out >= 0) close(w->out);
	if (w->err >= 0) close(w->err);
	w->in = w->out = w->err = -1;
	if (w->pid <= 0)
		return -1;
	if (kill_it)
		kill(-w->pid, SIGKILL);
	while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
		;
	w->pid = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int api_worker_run(struct api_server *srv, char *const *args, const char *in, size_t in_len,
		   char **out, char **err, struct kerror *e)
{
	struct api_worker w;
	struct buf bo = { 0 }, be = { 0 };
	size_t in_off = 0;
	int r = api_worker_start(srv, args, in ? WORKER_STDIN : 0, &w, e);
	if (r < 0)
		return r;
	if (w.in >= 0 && in_len == 0) {
		close(w.in);
		w.in = -1;
	}
	while (w.out >= 0 || w.err >= 0) {
		struct pollfd p[3] = { { w.out, POLLIN, 0 }, { w.err, POLLIN, 0 },
				       { w.in, POLLOUT, 0 } };
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			int *fd = i ? &w.err : &w.out;
			struct buf *b = i ? &be : &bo;
			if (*fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char tmp[65536];
			ssize_t n = read(*fd, tmp, sizeof(tmp));
			if (n > 0 && b->len < WORKER_OUT_MAX)
				buf_append(b, tmp, (size_t)n);
			else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
				close(*fd);
				*fd = -1;
			}
		}
		if (w.in >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(w.in, in + in_off, in_len - in_off);
			if (n > 0)
				in_off += (size_t)n;
			if (n < 0 || in_off == in_len) {
				close(w.in);
				w.in = -1;
			}
		}
	}
	r = api_worker_finish(&w, false);
	buf_append(&bo, "", 1);
	buf_append(&be, "", 1);
	if (out)
		*out = buf_steal(&bo);
	else
		buf_release(&bo);
	if (err)
		*err = buf_steal(&be);
	else
		buf_release(&be);
	return r;
}

int api_worker_simple(struct api_req *r, char *const *args, char **out, enum MHD_Result *res)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_free_ char *o = NULL, *err = NULL;
	int st = api_worker_run(r->srv, args, NULL, 0, &o, &err, &e);
	if (st < 0) {
		*res = api_reply_kerror(r, &e);
		return -1;
	}
	if (st != 0) {
		*res = api_reply_worker_error(r, err);
		return -1;
	}
	if (out)
		*out = steal_pointer(&o);
	return 0;
}
