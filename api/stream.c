/* Chunked replies fed by a worker's output (pull progress, build output,
 * logs, save).  The reader blocks (a thread per connection), watching the
 * client's socket too: a client that goes away ends the stream, and the
 * free callback kills the worker. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_private.h"

struct stream {
	struct api_worker w;
	struct api_stream_opts o;
	int conn_fd;
	struct buf pending;  /* output ready to send */
	size_t sent;         /* of pending */
	struct buf line;     /* an incomplete stdout line */
	struct buf err;      /* stderr, when not multiplexed */
	bool done;
};

void api_frame(struct buf *out, int stream, const void *data, size_t len)
{
	unsigned char h[8] = { (unsigned char)stream, 0, 0, 0, (unsigned char)(len >> 24),
			       (unsigned char)(len >> 16), (unsigned char)(len >> 8),
			       (unsigned char)len };
	if (!len)
		return;
	buf_append(out, h, 8);
	buf_append(out, data, len);
}

static void take_stdout(struct stream *s, const char *data, size_t n)
{
	if (s->o.mux) {
		api_frame(&s->pending, 1, data, n);
		return;
	}
	if (!s->o.line) {
		buf_append(&s->pending, data, n);
		return;
	}
	buf_append(&s->line, data, n);
	size_t start = 0;
	for (size_t i = 0; i < s->line.len; i++)
		if (s->line.data[i] == '\n') {
			s->o.line(&s->pending, s->line.data + start, i - start, s->o.ctx);
			start = i + 1;
		}
	memmove(s->line.data, s->line.data + start, s->line.len - start);
	s->line.len -= start;
}

/* Reads what the worker has; false once it has nothing more to say. */
static bool pump(struct stream *s)
{
	for (;;) {
		struct pollfd p[3] = { { s->w.out, POLLIN, 0 }, { s->w.err, POLLIN, 0 },
				       { s->conn_fd, POLLRDHUP, 0 } };
		if (s->w.out < 0 && s->w.err < 0)
			return false;
		int n = poll(p, 3, 1000);
		if (n < 0 && errno != EINTR)
			return false;
		if (p[2].revents & (POLLRDHUP | POLLHUP | POLLERR))
			return false; /* the client left */
		bool got = false;
		for (int i = 0; i < 2; i++) {
			int *fd = i ? &s->w.err : &s->w.out;
			if (*fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char tmp[65536];
			ssize_t k = read(*fd, tmp, sizeof(tmp));
			if (k > 0) {
				got = true;
				if (i == 0)
					take_stdout(s, tmp, (size_t)k);
				else if (s->o.mux)
					api_frame(&s->pending, 2, tmp, (size_t)k);
				else if (s->err.len < 65536)
					buf_append(&s->err, tmp, (size_t)k);
			} else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
				close(*fd);
				*fd = -1;
			}
		}
		if (got || (s->w.out < 0 && s->w.err < 0))
			return s->pending.len > 0 || s->w.out >= 0 || s->w.err >= 0;
	}
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	(void)pos;
	while (s->sent == s->pending.len) {
		s->pending.len = s->sent = 0;
		if (s->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (!pump(s)) {
			if (s->w.out >= 0 || s->w.err >= 0)
				return MHD_CONTENT_READER_END_WITH_ERROR; /* client gone */
			if (s->line.len && s->o.line)
				s->o.line(&s->pending, s->line.data, s->line.len, s->o.ctx);
			s->line.len = 0;
			int st = api_worker_finish(&s->w, false);
			buf_append(&s->err, "", 1);
			if (s->o.end)
				s->o.end(&s->pending, st, s->err.data, s->o.ctx);
			s->done = true;
		}
	}
	size_t n = s->pending.len - s->sent;
	if (n > max)
		n = max;
	memcpy(buf, s->pending.data + s->sent, n);
	s->sent += n;
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	if (s->w.pid > 0)
		api_worker_finish(&s->w, true);
	buf_release(&s->pending);
	buf_release(&s->line);
	buf_release(&s->err);
	if (s->o.cleanup)
		s->o.cleanup(s->o.ctx);
	free(s->o.ctx);
	free(s);
}

enum MHD_Result api_reply_worker_stream(struct api_req *r, struct api_worker *w,
					const struct api_stream_opts *o)
{
	struct stream *s = xcalloc(1, sizeof(*s));
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	s->w = *w;
	s->o = *o;
	s->conn_fd = ci ? ci->connect_fd : -1;
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, reader, s, stream_free);
	if (!resp) {
		stream_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", o->ctype);
	MHD_add_response_header(resp, "Api-Version", API_VERSION);
	enum MHD_Result res = MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	return res;
}
