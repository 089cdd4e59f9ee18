/* /containers/{id}/attach and /containers/{id}/resize.
 *
 * The API starts containers detached: their output goes to their log and
 * their monitor listens on an attach socket (run/attach.c) for stdin and
 * window sizes.  Attaching follows the log (from its end, or its start with
 * logs=1, or its start when the container had not started yet: docker run
 * attaches before it starts) until the container exited or was removed;
 * the log is opened as soon as it exists and read through the fd, so a
 * --rm container's removal does not cut the tail.  With stdin=1 and a
 * container created with OpenStdin, what the client sends goes through the
 * attach socket, held here until the container runs; the client's
 * half-close ends the container's stdin (not a tty's); the detach keys
 * (detachKeys=, default ctrl-p,ctrl-q) end the attachment, not the
 * container. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api/api_private.h"

/* What a client may send before the container reads it. */
#define STDIN_HELD_MAX (1u << 20)

struct attach_ctx {
	char id[DIGEST_HEX_LEN + 1];
	bool tty, logs, stream;
	bool fresh; /* not started when attached: its whole log is this run's */
	bool in;    /* the client's stdin goes to the container */
	char keys[16];
	size_t n_keys;
};

struct attach_state {
	struct attach_ctx *a;
	int sock;           /* the client */
	int ctl;            /* the monitor's attach socket, -1 */
	struct buf in;      /* stdin not yet sent */
	size_t matched;     /* detach keys seen so far (held back) */
	bool in_eof, eof_sent, detached;
};

/* Sends the complete k8s-file lines of pending (framed unless tty);
 * keeps the rest.  False when the client is gone. */
static bool send_lines(int sock, struct buf *pending, bool tty)
{
	size_t start = 0;
	struct buf out = { 0 };
	for (size_t i = 0; i < pending->len; i++) {
		if (pending->data[i] != '\n')
			continue;
		struct log_line l;
		if (run_log_parse(pending->data + start, i - start, &l)) {
			struct buf t = { 0 };
			buf_append(&t, l.text, l.len);
			if (!l.partial)
				buf_append(&t, "\n", 1);
			if (tty)
				buf_append(&out, t.data, t.len);
			else
				api_frame(&out, l.is_stderr ? 2 : 1, t.data, t.len);
			buf_release(&t);
		}
		start = i + 1;
	}
	memmove(pending->data, pending->data + start, pending->len - start);
	pending->len -= start;
	bool ok = out.len == 0 || api_send_all(sock, out.data, out.len);
	buf_release(&out);
	return ok;
}

/* Client bytes: the detach keys are watched for (a partial match is held
 * back, and passed on when the next byte breaks it). */
static void take_input(struct attach_state *st, const char *data, size_t n)
{
	const struct attach_ctx *a = st->a;
	for (size_t i = 0; i < n && !st->detached; i++) {
		char ch = data[i];
		if (a->n_keys && ch == a->keys[st->matched]) {
			if (++st->matched == a->n_keys)
				st->detached = true;
			continue;
		}
		if (st->matched) {
			buf_append(&st->in, a->keys, st->matched);
			st->matched = 0;
			if (a->n_keys && ch == a->keys[0]) {
				st->matched = 1;
				continue;
			}
		}
		buf_append(&st->in, &ch, 1);
	}
}

/* Reads what the client sent (never blocks). */
static void read_client(struct attach_state *st)
{
	char tmp[16384];
	ssize_t k = recv(st->sock, tmp, sizeof(tmp), MSG_DONTWAIT);
	if (k > 0)
		take_input(st, tmp, (size_t)k);
	else if (k == 0 || (errno != EINTR && errno != EAGAIN))
		st->in_eof = true; /* its half-close (or its going away) */
}

/* Passes held stdin on once the monitor listens. */
static void feed(struct attach_state *st, struct store *s, bool running)
{
	if (st->ctl < 0 && running && (st->in.len || st->in_eof)) {
		_cleanup_kerror_ struct kerror e = { 0 };
		int fd = run_attach_connect(s, st->a->id, &e);
		if (fd >= 0)
			st->ctl = fd;
	}
	if (st->ctl < 0)
		return;
	run_attach_drain(st->ctl); /* its output comes through the log */
	if (st->in.len) {
		if (run_attach_stdin(st->ctl, st->in.data, st->in.len) < 0)
			st->in_eof = true;
		st->in.len = 0;
	}
	if (st->in_eof && !st->eof_sent) {
		if (!st->a->tty)
			run_attach_stdin_close(st->ctl);
		st->eof_sent = true;
	}
}

static int attach_session(struct api_server *srv, void *ctx, int sock)
{
	struct attach_ctx *a = ctx;
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_api_store_ struct store *s = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	struct attach_state st = { .a = a, .sock = sock, .ctl = -1, .in_eof = !a->in };
	struct buf pending = { 0 };
	bool started = false;
	int ret = 1;
	if (api_store_srv(srv, &s, &e) < 0)
		return -1;
	path = run_log_path(s, a->id);
	for (;;) {
		bool gone = false, stopped = false, running = false;
		{
			_cleanup_container_info_ struct container_info *c = NULL;
			_cleanup_kerror_ struct kerror e2 = { 0 };
			int rc = store_container_get(s, a->id, &c, &e2);
			gone = rc == -ENOENT;
			if (rc == 0 && c->state != CTR_CREATED)
				started = true;
			running = rc == 0 && c->state == CTR_RUNNING;
			stopped = rc == 0 && started && c->state == CTR_EXITED;
		}
		if (fd < 0) {
			/* Created here if absent: the monitor appends to it (no
			 * O_TRUNC), and a --rm container that lives a few ms is
			 * gone before a poll could open it. */
			fd = open(path, O_RDONLY | O_CLOEXEC | (a->fresh ? O_CREAT : 0), 0600);
			if (fd >= 0 && !a->logs && !a->fresh)
				lseek(fd, 0, SEEK_END);
		}
		for (;;) {
			char tmp[65536];
			ssize_t n = fd >= 0 ? read(fd, tmp, sizeof(tmp)) : 0;
			if (n <= 0)
				break;
			buf_append(&pending, tmp, (size_t)n);
			if (!send_lines(sock, &pending, a->tty)) {
				ret = -1;
				goto out;
			}
		}
		/* logs=1 without stream=1: what the log has, then the end */
		if (gone || stopped || st.detached || !a->stream)
			break;
		feed(&st, s, running);
		/* docker half-closes at once without stdin, which may look like
		 * a hang-up (see hijack.c): a failed send says the client left */
		bool want = !st.in_eof && st.in.len < STDIN_HELD_MAX;
		struct pollfd p = { want ? sock : -1, POLLIN, 0 };
		if (poll(&p, 1, 20) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)))
			read_client(&st);
	}
out:
	if (st.ctl >= 0)
		close(st.ctl);
	buf_release(&st.in);
	buf_release(&pending);
	return ret;
}

static int load(struct api_req *r, struct container_info **c, struct run_plan *p,
		enum MHD_Result *res)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_api_store_ struct store *s = NULL;
	if (api_store(r, &s, &e) < 0 || store_container_get(s, r->params[0], c, &e) < 0 ||
	    run_plan_from_json((*c)->plan, p, &e) < 0) {
		*res = api_reply_kerror(r, &e);
		return -1;
	}
	return 0;
}

enum MHD_Result api_container_attach(struct api_req *r)
{
	_cleanup_container_info_ struct container_info *c = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct run_plan p = { 0 };
	enum MHD_Result res;
	if (load(r, &c, &p, &res) < 0)
		return res;
	bool tty = p.tty, interactive = p.interactive;
	run_plan_release(&p);
	if (!api_query_bool(r, "stream") && !api_query_bool(r, "logs"))
		return api_reply_error(r, 400, "attach without stream or logs is not supported");
	const char *keys = api_query(r, "detachKeys");
	struct attach_ctx *a = xcalloc(1, sizeof(*a));
	if (run_detach_keys_parse(keys ? keys : "ctrl-p,ctrl-q", a->keys, &a->n_keys, &e) < 0) {
		free(a);
		return api_reply_error(r, 400, "%s", e.msg);
	}
	snprintf(a->id, sizeof(a->id), "%s", c->id);
	a->tty = tty;
	a->logs = api_query_bool(r, "logs");
	a->stream = api_query_bool(r, "stream");
	a->fresh = c->state == CTR_CREATED;
	/* as Docker: stdin only where the container keeps one open */
	a->in = interactive && api_query_bool(r, "stdin") && api_query_bool(r, "stream");
	return api_reply_hijack(r, NULL, 0, a->tty, attach_session, a, NULL);
}

/* A number query parameter in [0, 65535]. */
static int dimension(struct api_req *r, const char *key, unsigned *out)
{
	const char *v = api_query(r, key);
	char *end;
	if (!v || !*v) {
		*out = 0;
		return 0;
	}
	long n = strtol(v, &end, 10);
	if (*end || n < 0 || n > 65535)
		return -EINVAL;
	*out = (unsigned)n;
	return 0;
}

enum MHD_Result api_container_resize(struct api_req *r)
{
	_cleanup_container_info_ struct container_info *c = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_api_store_ struct store *s = NULL;
	struct run_plan p = { 0 };
	enum MHD_Result res;
	unsigned h, w;
	if (dimension(r, "h", &h) < 0 || dimension(r, "w", &w) < 0)
		return api_reply_error(r, 400, "invalid window size");
	if (load(r, &c, &p, &res) < 0)
		return res;
	bool tty = p.tty;
	run_plan_release(&p);
	if (c->state != CTR_RUNNING)
		return api_reply_error(r, 409, "Container %s is not running", c->id);
	if (!tty)
		return api_reply_empty(r, 200); /* nothing to size */
	if (api_store(r, &s, &e) < 0 || run_attach_resize(s, c->id, h, w, &e) < 0)
		return api_reply_error(r, 409, "resizing container %s: %s", c->id, e.msg);
	return api_reply_empty(r, 200);
}
