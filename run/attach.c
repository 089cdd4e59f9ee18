/* kiln attach: a detached container's monitor listens on a SOCK_SEQPACKET
 * socket, <runroot>/containers/<id>/attach (as conmon's attach socket).
 * Every packet starts with one byte saying what it is:
 *   monitor → client: 1 stdout data, 2 stderr data
 *   client → monitor: 1 stdin data, 2 stdin closed, 3 window size (rows,
 *                     cols as two uint16)
 * The socket is bound relative to the run dir (a sockaddr_un holds 108
 * bytes; a run dir may be longer) and connected to through
 * /proc/self/fd/N/attach (no chdir: the API service connects from many
 * threads at once). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "run/run_private.h"

#define PKT_MAX (16384 + 1)

/* Binds "attach" inside dir, coming back to the current directory
 * afterwards (the monitor is single-threaded). */
static int bind_in(const char *dir, int fd, struct kerror *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "attach");
	if (chdir(dir) < 0)
		return kerror_sys(e, errno, "entering \"%s\"", dir);
	unlink("attach");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0)
		r = kerror_sys(e, errno, "creating the attach socket in \"%s\"", dir);
	if (cwd >= 0 && fchdir(cwd) < 0 && r == 0)
		r = kerror_sys(e, errno, "returning to the working directory");
	return r;
}

static int connect_in(const char *dir, int fd, struct kerror *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int d = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return kerror_sys(e, errno, "opening \"%s\"", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/attach", d);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return kerror_sys(e, errno, "connecting to the attach socket in \"%s\"", dir);
	return 0;
}

int attach_listen(const char *rundir, struct kerror *e)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return kerror_sys(e, errno, "creating the attach socket");
	int r = bind_in(rundir, fd, e);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

void attach_accept(struct attach_hub *h)
{
	int fd = accept4(h->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (h->n >= ATTACH_MAX_CLIENTS) {
		close(fd);
		return;
	}
	h->clients[h->n++] = fd;
}

static void drop(struct attach_hub *h, size_t i)
{
	close(h->clients[i]);
	h->clients[i] = h->clients[--h->n];
}

void attach_broadcast(struct attach_hub *h, bool is_stderr, const char *data, size_t n)
{
	char pkt[PKT_MAX];
	while (n > 0) {
		size_t k = n < PKT_MAX - 1 ? n : PKT_MAX - 1;
		pkt[0] = is_stderr ? 2 : 1;
		memcpy(pkt + 1, data, k);
		for (size_t i = h->n; i-- > 0;)
			/* a client that does not keep up loses its attachment,
			 * never the container's output */
			if (send(h->clients[i], pkt, k + 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
				drop(h, i);
		data += k;
		n -= k;
	}
}

void attach_client_input(struct attach_hub *h, size_t i, int pty, int *stdin_w)
{
	char pkt[PKT_MAX];
	ssize_t n = recv(h->clients[i], pkt, sizeof(pkt), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(h, i);
		return;
	}
	int to = pty >= 0 ? pty : *stdin_w;
	if (pkt[0] == 1 && n > 1 && to >= 0) {
		if (fs_write_all(to, pkt + 1, (size_t)n - 1) < 0 && to == *stdin_w) {
			close(*stdin_w);
			*stdin_w = -1;
		}
	} else if (pkt[0] == 2 && pty < 0 && *stdin_w >= 0) {
		close(*stdin_w);
		*stdin_w = -1;
	} else if (pkt[0] == 3 && n == 5 && pty >= 0) {
		struct winsize ws = { 0 };
		uint16_t rc[2];
		memcpy(rc, pkt + 1, sizeof(rc));
		ws.ws_row = rc[0];
		ws.ws_col = rc[1];
		ioctl(pty, TIOCSWINSZ, &ws);
	}
}

void attach_close(struct attach_hub *h, const char *rundir)
{
	while (h->n > 0)
		drop(h, h->n - 1);
	if (h->listen_fd >= 0) {
		_cleanup_free_ char *path = xasprintf("%s/attach", rundir);
		close(h->listen_fd);
		h->listen_fd = -1;
		unlink(path);
	}
}

/* ---- the client ------------------------------------------------------------ */

/* Docker's --detach-keys: "ctrl-p,ctrl-q", letters, "ctrl-@"…"ctrl-_". */
int run_detach_keys_parse(const char *spec, char *out, size_t *n, struct kerror *e)
{
	_cleanup_free_ char *copy = xstrdup(spec);
	char *save = NULL;
	*n = 0;
	if (!*spec)
		return 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*n >= 16)
			goto bad;
		if (strlen(t) == 1)
			out[(*n)++] = t[0];
		else if (str_has_prefix(t, "ctrl-") && strlen(t) == 6) {
			char c = t[5];
			if (c >= 'a' && c <= 'z')
				out[(*n)++] = (char)(c - 'a' + 1);
			else if (c >= '@' && c <= '_')
				out[(*n)++] = (char)(c - '@');
			else if (c == '[')
				out[(*n)++] = 27;
			else
				goto bad;
		} else
			goto bad;
	}
	return 0;
bad:
	return kerror_set(e, EINVAL, "invalid detach keys \"%s\"", spec);
}

static void send_size(int sock, unsigned rows, unsigned cols)
{
	char pkt[5] = { 3 };
	uint16_t rc[2] = { (uint16_t)rows, (uint16_t)cols };
	memcpy(pkt + 1, rc, sizeof(rc));
	send(sock, pkt, sizeof(pkt), MSG_NOSIGNAL);
}

static void send_winsize(int sock)
{
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		send_size(sock, ws.ws_row, ws.ws_col);
}

/* ---- the API's side ---------------------------------------------------------- */

int run_attach_connect(struct store *s, const char *id, struct kerror *e)
{
	_cleanup_free_ char *rundir = store_container_rundir(s, id);
	_cleanup_close_ int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return kerror_sys(e, errno, "creating a socket");
	int r = connect_in(rundir, sock, e);
	if (r < 0)
		return r;
	return steal_fd(&sock);
}

int run_attach_stdin(int sock, const void *data, size_t n)
{
	char pkt[PKT_MAX];
	const char *p = data;
	while (n > 0) {
		size_t k = n < PKT_MAX - 1 ? n : PKT_MAX - 1;
		pkt[0] = 1;
		memcpy(pkt + 1, p, k);
		ssize_t w;
		do
			w = send(sock, pkt, k + 1, MSG_NOSIGNAL);
		while (w < 0 && errno == EINTR);
		if (w < 0)
			return -errno;
		p += k;
		n -= k;
	}
	return 0;
}

void run_attach_stdin_close(int sock)
{
	char end = 2;
	send(sock, &end, 1, MSG_NOSIGNAL);
}

void run_attach_drain(int sock)
{
	char pkt[PKT_MAX];
	while (recv(sock, pkt, sizeof(pkt), MSG_DONTWAIT) > 0)
		;
}

int run_attach_resize(struct store *s, const char *id, unsigned rows, unsigned cols,
		      struct kerror *e)
{
	if (rows > 65535 || cols > 65535)
		return kerror_set(e, EINVAL, "invalid window size %ux%u", rows, cols);
	_cleanup_close_ int sock = run_attach_connect(s, id, e);
	if (sock < 0)
		return sock;
	send_size(sock, rows, cols);
	return 0;
}

int run_attach(struct store *s, const struct container_info *c, const struct run_attach_opts *o,
	       bool *detached, struct kerror *e)
{
	_cleanup_free_ char *rundir = store_container_rundir(s, c->id);
	_cleanup_close_ int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct termios saved;
	bool raw = false, in_open = !o->no_stdin;
	size_t matched = 0;
	sigset_t set, old;
	int r;

	*detached = false;
	if (sock < 0)
		return kerror_sys(e, errno, "creating a socket");
	if (c->state != CTR_RUNNING)
		return kerror_set(e, EINVAL, "you can only attach to running containers");
	r = connect_in(rundir, sock, e);
	if (r < 0)
		return kerror_wrap(e, "attaching to %s (only a container started detached "
				      "or with -t can be attached to)",
				   c->name);
	if (o->tty && isatty(0) && in_open && tcgetattr(0, &saved) == 0) {
		struct termios t = saved;
		cfmakeraw(&t);
		raw = tcsetattr(0, TCSANOW, &t) == 0;
		send_winsize(sock);
	}
	/* the signals to proxy and SIGWINCH come through a signalfd-free
	 * loop: blocked, then polled with sigtimedwait */
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	if (o->sig_proxy) {
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGHUP);
		sigaddset(&set, SIGQUIT);
		sigaddset(&set, SIGUSR1);
		sigaddset(&set, SIGUSR2);
	}
	sigprocmask(SIG_BLOCK, &set, &old);
	for (;;) {
		struct pollfd pf[2] = { { sock, POLLIN, 0 }, { in_open ? 0 : -1, POLLIN, 0 } };
		struct timespec zero = { 0, 0 };
		siginfo_t si;
		int sig;
		while ((sig = sigtimedwait(&set, &si, &zero)) > 0) {
			if (sig == SIGWINCH)
				send_winsize(sock);
			else if (c->pid > 0)
				kill(c->pid, sig);
		}
		if (poll(pf, 2, 200) < 0 && errno != EINTR)
			break;
		if (pf[0].revents) {
			char pkt[PKT_MAX];
			ssize_t n = recv(sock, pkt, sizeof(pkt), 0);
			if (n <= 0)
				break; /* the container ended */
			if (n > 1 && (pkt[0] == 1 || pkt[0] == 2))
				fs_write_all(pkt[0] == 2 && !o->tty ? 2 : 1, pkt + 1, (size_t)n - 1);
		}
		if (pf[1].revents) {
			char buf[PKT_MAX];
			ssize_t n = read(0, buf + 1, sizeof(buf) - 1);
			if (n <= 0) {
				char end = 2;
				in_open = false;
				if (!o->tty)
					send(sock, &end, 1, MSG_NOSIGNAL);
				continue;
			}
			/* the detach sequence ends the attachment, not the
			 * container; a partial match is held back */
			size_t keep = 0;
			for (ssize_t i = 0; i < n && o->n_detach_keys; i++) {
				char ch = buf[1 + i];
				if (ch == o->detach_keys[matched]) {
					if (++matched == o->n_detach_keys) {
						*detached = true;
						goto out;
					}
				} else {
					matched = ch == o->detach_keys[0] ? 1 : 0;
				}
			}
			keep = matched;
			if ((size_t)n > keep) {
				buf[0] = 1;
				send(sock, buf, (size_t)n - keep + 1, MSG_NOSIGNAL);
			}
		}
	}
out:
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}
