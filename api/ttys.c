/* The ptys of live exec sessions with a tty.  The worker (`kiln exec -t`)
 * runs on the slave side, as its controlling terminal: a window size set
 * on the master reaches it as SIGWINCH, and kiln exec passes it on to the
 * pty it made in the container, as it does for a terminal of its own.
 * /exec/{id}/resize finds the master here by exec ID. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "api/api_private.h"

struct api_tty {
	char id[DIGEST_HEX_LEN + 1];
	int fd;
};

int api_pty_open(int *master, struct kerror *e)
{
	char pts[64];
	struct termios t;
	_cleanup_close_ int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, pts, sizeof(pts)) != 0)
		return kerror_sys(e, errno, "allocating a pty");
	/* raw: the bytes go through as the client sent them (kiln exec -i
	 * makes it raw too; without -i nobody else would) */
	_cleanup_close_ int slave = open(pts, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0 || tcgetattr(slave, &t) < 0)
		return kerror_sys(e, errno, "opening the pty \"%s\"", pts);
	cfmakeraw(&t);
	if (tcsetattr(slave, TCSANOW, &t) < 0)
		return kerror_sys(e, errno, "setting the pty \"%s\" raw", pts);
	*master = steal_fd(&m);
	return 0;
}

void api_tty_add(struct api_server *srv, const char *id, int master)
{
	int fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return; /* not resizable, the session still works */
	pthread_mutex_lock(&srv->tty_lock);
	srv->ttys = xrealloc(srv->ttys, (srv->n_ttys + 1) * sizeof(*srv->ttys));
	struct api_tty *t = &srv->ttys[srv->n_ttys++];
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->fd = fd;
	pthread_mutex_unlock(&srv->tty_lock);
}

void api_tty_remove(struct api_server *srv, const char *id)
{
	pthread_mutex_lock(&srv->tty_lock);
	for (size_t i = 0; i < srv->n_ttys; i++)
		if (!strcmp(srv->ttys[i].id, id)) {
			close(srv->ttys[i].fd);
			srv->ttys[i] = srv->ttys[--srv->n_ttys];
			break;
		}
	pthread_mutex_unlock(&srv->tty_lock);
}

int api_tty_resize(struct api_server *srv, const char *id, unsigned rows, unsigned cols)
{
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	int r = -ENOENT;
	pthread_mutex_lock(&srv->tty_lock);
	for (size_t i = 0; i < srv->n_ttys; i++)
		if (!strcmp(srv->ttys[i].id, id)) {
			r = ioctl(srv->ttys[i].fd, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
			break;
		}
	pthread_mutex_unlock(&srv->tty_lock);
	return r;
}
