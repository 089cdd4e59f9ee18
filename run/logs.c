/* The container log in the k8s-file format Podman uses:
 * "<RFC3339Nano> stdout F text". */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run/run_private.h"

#define LINE_MAX_BYTES (16 * 1024)

char *run_log_path(struct store *s, const char *id)
{
	_cleanup_free_ char *dir = store_container_dir(s, id);
	return xasprintf("%s/ctr.log", dir);
}

static void emit(struct log_writer *w, bool is_stderr, bool partial, const char *text,
		 size_t n)
{
	struct timespec ts;
	char stamp[64];
	struct buf b = { 0 };
	clock_gettime(CLOCK_REALTIME, &ts);
	format_rfc3339(ts.tv_sec, ts.tv_nsec, stamp, sizeof(stamp));
	buf_printf(&b, "%s %s %s ", stamp, is_stderr ? "stderr" : "stdout", partial ? "P" : "F");
	buf_append(&b, text, n);
	buf_append(&b, "\n", 1);
	if (w->max_size > 0 && w->size + (int64_t)b.len > w->max_size) {
		/* conmon's rotation: the file starts over (O_APPEND writes
		 * follow the new end). */
		if (ftruncate(w->fd, 0) == 0)
			w->size = 0;
	}
	w->size += (int64_t)b.len;
	if (fs_write_all(w->fd, b.data, b.len) < 0) {
		/* a full disk loses log lines, never the container */
	}
	buf_release(&b);
}

void log_writer_feed(struct log_writer *w, bool is_stderr, const char *data, size_t n)
{
	struct buf *p = &w->pending[is_stderr];
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;
		if (p->len + take >= LINE_MAX_BYTES) {
			size_t room = LINE_MAX_BYTES - p->len;
			buf_append(p, data, room);
			emit(w, is_stderr, true, p->data, p->len);
			p->len = 0;
			data += room;
			n -= room;
			continue;
		}
		buf_append(p, data, take);
		if (!nl)
			return;
		emit(w, is_stderr, false, p->data ? p->data : "", p->len);
		p->len = 0;
		data += take + 1;
		n -= take + 1;
	}
}

void log_writer_flush(struct log_writer *w)
{
	for (int i = 0; i < 2; i++) {
		if (w->pending[i].len)
			emit(w, i == 1, true, w->pending[i].data, w->pending[i].len);
		buf_release(&w->pending[i]);
	}
}

bool run_log_parse(const char *line, size_t len, struct log_line *out)
{
	const char *sp1 = memchr(line, ' ', len), *sp2, *sp3;
	char stamp[64];
	if (!sp1 || (size_t)(sp1 - line) >= sizeof(stamp))
		return false;
	memcpy(stamp, line, (size_t)(sp1 - line));
	stamp[sp1 - line] = '\0';
	if (parse_rfc3339(stamp, &out->sec, &out->nsec) != 0)
		return false;
	sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line));
	if (!sp2)
		return false;
	if ((size_t)(sp2 - sp1 - 1) == 6 && !memcmp(sp1 + 1, "stdout", 6))
		out->is_stderr = false;
	else if ((size_t)(sp2 - sp1 - 1) == 6 && !memcmp(sp1 + 1, "stderr", 6))
		out->is_stderr = true;
	else
		return false;
	sp3 = sp2 + 2;
	if (sp3 > line + len || (sp2[1] != 'F' && sp2[1] != 'P'))
		return false;
	out->partial = sp2[1] == 'P';
	if (sp3 == line + len) {
		out->text = sp3;
		out->len = 0;
		return true;
	}
	if (*sp3 != ' ')
		return false;
	out->text = sp3 + 1;
	out->len = len - (size_t)(sp3 + 1 - line);
	return true;
}
