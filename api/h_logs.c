/* /containers/{id}/logs, read in the request's thread: the container's
 * k8s-file log is opened while the request is answered, so a --rm
 * container that ends and is removed a moment later (docker-py's run
 * asks for the logs right after the start) still has its whole log read
 * through the descriptor.  stdout=/stderr= pick the streams, tail= the last
 * lines, since=/until= a window (unix seconds or RFC 3339), timestamps=
 * the log's own stamps; follow= goes on until the container is no longer
 * running (or removed), as `kiln logs -f`.  Framed in Docker's 8-byte
 * headers unless the container has a tty. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_private.h"

/* What a log may hold before the first reply (tail= counts its lines). */
#define LOG_READ_MAX ((size_t)1 << 30)

struct logs {
	struct store *s;
	char id[DIGEST_HEX_LEN + 1];
	int fd;        /* the log, -1 when there is none */
	int conn_fd;
	bool out, err, stamps, follow, tty;
	int64_t since, until; /* ns, 0: none */
	long skip;            /* lines still to skip (tail=) */
	struct buf pending;   /* an incomplete last line */
	struct buf ready;     /* framed output not yet sent */
	size_t sent;
	bool done;
};

/* The complete lines of l->pending, filtered and framed into l->ready. */
static void take_lines(struct logs *l)
{
	size_t start = 0;
	for (size_t i = 0; i < l->pending.len; i++) {
		if (l->pending.data[i] != '\n')
			continue;
		const char *raw = l->pending.data + start;
		size_t n = i - start;
		struct log_line ll;
		start = i + 1;
		if (l->skip > 0) {
			l->skip--;
			continue;
		}
		if (!run_log_parse(raw, n, &ll) || !(ll.is_stderr ? l->err : l->out))
			continue;
		int64_t t = ll.sec * 1000000000LL + ll.nsec;
		if ((l->since && t < l->since) || (l->until && t > l->until))
			continue;
		struct buf b = { 0 };
		if (l->stamps) {
			const char *sp = memchr(raw, ' ', n);
			buf_append(&b, raw, sp ? (size_t)(sp - raw) : 0);
			buf_append(&b, " ", 1);
		}
		buf_append(&b, ll.text, ll.len);
		if (!ll.partial)
			buf_append(&b, "\n", 1);
		if (l->tty)
			buf_append(&l->ready, b.data, b.len);
		else
			api_frame(&l->ready, ll.is_stderr ? 2 : 1, b.data, b.len);
		buf_release(&b);
	}
	memmove(l->pending.data, l->pending.data + start, l->pending.len - start);
	l->pending.len -= start;
}

/* Reads what the log has now; true if anything came. */
static bool drain(struct logs *l)
{
	bool got = false;
	for (;;) {
		char tmp[65536];
		ssize_t n = l->fd >= 0 ? read(l->fd, tmp, sizeof(tmp)) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_append(&l->pending, tmp, (size_t)n);
		got = true;
	}
	if (got)
		take_lines(l);
	return got;
}

/* Whether the container may still write to its log. */
static bool still_running(struct logs *l)
{
	_cleanup_container_info_ struct container_info *c = NULL;
	return store_container_get(l->s, l->id, &c, NULL) == 0 && c->state == CTR_RUNNING;
}

static ssize_t logs_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct logs *l = cls;
	(void)pos;
	while (l->sent == l->ready.len) {
		l->ready.len = l->sent = 0;
		if (l->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (drain(l))
			continue;
		if (!l->follow || !still_running(l)) {
			/* the monitor flushes the log before it records the exit */
			drain(l);
			l->done = true;
			continue;
		}
		struct pollfd p = { l->conn_fd, POLLRDHUP, 0 };
		if (poll(&p, 1, 50) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return MHD_CONTENT_READER_END_WITH_ERROR; /* the client left */
	}
	size_t n = l->ready.len - l->sent;
	if (n > max)
		n = max;
	memcpy(buf, l->ready.data + l->sent, n);
	l->sent += n;
	return (ssize_t)n;
}

static void logs_free(void *cls)
{
	struct logs *l = cls;
	if (l->fd >= 0)
		close(l->fd);
	api_store_put(l->s);
	buf_release(&l->pending);
	buf_release(&l->ready);
	free(l);
}

/* since=/until=: unix seconds ("1700000000.5") or RFC 3339; 0 or absent:
 * none. */
static int time_param(struct api_req *r, const char *key, int64_t *out)
{
	const char *v = api_query(r, key);
	int64_t sec;
	long ns;
	char *end;
	*out = 0;
	if (!v || !*v || !strcmp(v, "0"))
		return 0;
	double d = strtod(v, &end);
	if (end != v && !*end && d >= 0) {
		*out = (int64_t)(d * 1e9);
		return 0;
	}
	if (parse_rfc3339(v, &sec, &ns) == 0) {
		*out = sec * 1000000000LL + ns;
		return 0;
	}
	return -EINVAL;
}

static long count_lines(const char *data, size_t len)
{
	long n = 0;
	for (size_t i = 0; i < len; i++)
		n += data[i] == '\n';
	return n;
}

enum MHD_Result api_container_logs(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_container_info_ struct container_info *c = NULL;
	struct run_plan p = { 0 };
	struct logs *l = xcalloc(1, sizeof(*l));
	const char *tail = api_query(r, "tail");
	_cleanup_free_ char *path = NULL;
	enum MHD_Result res;
	l->fd = -1;
	if (api_store(r, &l->s, &e) < 0 || store_container_get(l->s, r->params[0], &c, &e) < 0 ||
	    run_plan_from_json(c->plan, &p, &e) < 0) {
		res = api_reply_kerror(r, &e);
		goto fail;
	}
	/* opened first: from here on a removal cannot take it away */
	path = run_log_path(l->s, c->id);
	l->fd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(l->id, sizeof(l->id), "%s", c->id);
	l->tty = p.tty;
	bool none = p.log_driver && !strcmp(p.log_driver, "none");
	run_plan_release(&p);
	if (none) {
		res = api_reply_error(r, 501, "configured logging driver does not support reading");
		goto fail;
	}
	l->out = api_query_bool(r, "stdout");
	l->err = api_query_bool(r, "stderr");
	if (!l->out && !l->err) {
		res = api_reply_error(r, 400, "you must choose at least one stream");
		goto fail;
	}
	l->stamps = api_query_bool(r, "timestamps");
	l->follow = api_query_bool(r, "follow");
	if (time_param(r, "since", &l->since) < 0 || time_param(r, "until", &l->until) < 0) {
		res = api_reply_error(r, 400, "invalid since or until");
		goto fail;
	}
	if (tail && *tail && strcmp(tail, "all")) {
		char *end;
		long n = strtol(tail, &end, 10);
		if (*end) {
			res = api_reply_error(r, 400, "invalid tail \"%s\"", tail);
			goto fail;
		}
		if (n >= 0 && l->fd >= 0) {
			/* the whole log now, to count its lines */
			_cleanup_free_ char *data = NULL;
			size_t len = 0;
			if (fs_read_fd(l->fd, LOG_READ_MAX, path, &data, &len, &e) < 0) {
				res = api_reply_kerror(r, &e);
				goto fail;
			}
			long total = count_lines(data, len);
			l->skip = total > n ? total - n : 0;
			buf_append(&l->pending, data, len);
			take_lines(l);
		}
	}
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	l->conn_fd = ci ? ci->connect_fd : -1;
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, logs_reader, l, logs_free);
	if (!resp) {
		logs_free(l);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", l->tty ? "application/vnd.docker.raw-stream"
							      : "application/vnd.docker.multiplexed-stream");
	MHD_add_response_header(resp, "Api-Version", API_VERSION);
	res = MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	return res;
fail:
	logs_free(l);
	return res;
}
