/* Hijacked connections (attach, exec start): after "101 Switching
 * Protocols" the socket carries the process's stdin one way and its
 * output the other, in Docker's stream frames unless there is a tty. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api/api_private.h"

struct hijack {
	struct api_server *srv;
	char **args;
	int flags;
	bool tty;
	api_hijack_fn before;
	void *ctx;
	api_hijack_done_fn done;
	int pty; /* the worker's pty master, -1 */
	bool pty_in;
};

static void hijack_free(struct hijack *h)
{
	if (h->pty >= 0)
		close(h->pty);
	strv_free(h->args);
	free(h->ctx);
	free(h);
}

bool api_send_all(int sock, const void *data, size_t n)
{
	const char *p = data;
	while (n) {
		ssize_t k = send(sock, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

static int relay(struct hijack *h, struct api_worker *w, int sock, const char *extra,
		  size_t extra_len)
{
	bool client_ok = true, sock_in = w->in >= 0;
	if (w->in >= 0 && extra_len && fs_write_all(w->in, extra, extra_len) < 0) {
		close(w->in);
		w->in = -1;
	}
	/* The client's side: read while it sends stdin; a half-close
	 * (docker closes its writing side when stdin ends, or at once
	 * without stdin) only ends stdin.  libmicrohttpd may hand over one
	 * end of a socketpair it forwards, which reports a half-close as a
	 * hang-up: so only a failed send means the client left. */
	bool watch = true;
	while (client_ok && (w->out >= 0 || w->err >= 0)) {
		struct pollfd p[3] = { { w->out, POLLIN, 0 }, { w->err, POLLIN, 0 },
				       { watch ? sock : -1, POLLIN | POLLRDHUP, 0 } };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			int *fd = i ? &w->err : &w->out;
			if (*fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char tmp[32768];
			ssize_t k = read(*fd, tmp, sizeof(tmp));
			if (k > 0) {
				struct buf b = { 0 };
				if (h->tty)
					buf_append(&b, tmp, (size_t)k);
				else
					api_frame(&b, i ? 2 : 1, tmp, (size_t)k);
				client_ok = api_send_all(sock, b.data, b.len);
				buf_release(&b);
			} else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
				close(*fd);
				*fd = -1;
			}
		}
		short rev = p[2].revents;
		if (rev & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) {
			char tmp[32768];
			ssize_t k = sock_in ? recv(sock, tmp, sizeof(tmp), MSG_DONTWAIT) : 0;
			if (k > 0) {
				if (w->in >= 0 && fs_write_all(w->in, tmp, (size_t)k) < 0) {
					close(w->in);
					w->in = -1;
				}
			} else if (k == 0) {
				watch = false;
				if (w->in >= 0) {
					close(w->in);
					w->in = -1;
				}
			} else if (errno != EINTR && errno != EAGAIN) {
				watch = false;
				if (w->in >= 0) {
					close(w->in);
					w->in = -1;
				}
			}
		}
	}
	return api_worker_finish(w, !client_ok);
}

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra,
		       size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct hijack *h = cls;
	struct api_worker w;
	_cleanup_kerror_ struct kerror e = { 0 };
	(void)conn;
	(void)req_cls;
	/* without args, before() is the whole session */
	if ((!h->before || h->before(h->srv, h->ctx, sock) == 0) && h->args) {
		int r = h->pty >= 0 ? api_worker_start_pty(h->srv, h->args, h->pty, h->pty_in, &w, &e)
				    : api_worker_start(h->srv, h->args, h->flags, &w, &e);
		if (r == 0) {
			int code = relay(h, &w, sock, extra, extra_len);
			if (h->done)
				h->done(h->srv, h->ctx, code);
		} else {
			if (!h->tty) {
				struct buf b = { 0 };
				api_frame(&b, 2, e.msg, strlen(e.msg));
				api_send_all(sock, b.data, b.len);
				buf_release(&b);
			} else {
				api_send_all(sock, e.msg, strlen(e.msg));
			}
			if (h->done)
				h->done(h->srv, h->ctx, 126);
		}
	}
	shutdown(sock, SHUT_RDWR);
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
	hijack_free(h);
}

static enum MHD_Result reply(struct api_req *r, struct hijack *h)
{
	bool tty = h->tty;
	struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade, h);
	if (!resp) {
		hijack_free(h);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Upgrade", "tcp");
	MHD_add_response_header(resp, "Content-Type", tty ? "application/vnd.docker.raw-stream"
							  : "application/vnd.docker.multiplexed-stream");
	enum MHD_Result res = MHD_queue_response(r->conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	return res;
}

enum MHD_Result api_reply_hijack(struct api_req *r, char **args, int flags, bool tty,
				 api_hijack_fn before, void *ctx, api_hijack_done_fn done)
{
	struct hijack *h = xcalloc(1, sizeof(*h));
	*h = (struct hijack){ r->srv, args, flags, tty, before, ctx, done, -1, false };
	return reply(r, h);
}

enum MHD_Result api_reply_hijack_pty(struct api_req *r, char **args, int master, bool with_in,
				     api_hijack_fn before, void *ctx, api_hijack_done_fn done)
{
	struct hijack *h = xcalloc(1, sizeof(*h));
	*h = (struct hijack){ r->srv, args, 0, true, before, ctx, done, master, with_in };
	return reply(r, h);
}
