/* The event journal: <root>/events.jsonl, one JSON object a line in
 * Docker's event shape, appended by every command that changes something
 * and read by `kiln events` and the API's /events.  A file rather than a
 * table: appending is one write() with no lock and no transaction (a
 * command's real work is never slowed or failed by its event), readers
 * follow it by watching its size, and rotation bounds it.  See
 * docs/architecture.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "storage/store_private.h"

#define EVENTS_FILE "events.jsonl"
#define EVENTS_OLD "events.1.jsonl"
#define EVENTS_POLL_MS 100

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Past STORE_EVENTS_ROTATE bytes the journal becomes events.1.jsonl (the
 * previous one is dropped).  Only the writer that still holds the current
 * file renames it, under flock so two writers crossing the limit together
 * do not rotate twice. */
static void maybe_rotate(const char *root, int fd)
{
	struct stat st, cur;
	if (fstat(fd, &st) < 0 || st.st_size < STORE_EVENTS_ROTATE)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return;
	_cleanup_free_ char *path = xasprintf("%s/" EVENTS_FILE, root);
	_cleanup_free_ char *old = xasprintf("%s/" EVENTS_OLD, root);
	if (stat(path, &cur) == 0 && cur.st_ino == st.st_ino && cur.st_dev == st.st_dev &&
	    rename(path, old) < 0)
		log_debug("events: rotating %s: %s", path, strerror(errno));
	flock(fd, LOCK_UN);
}

int store_event_append(struct store *s, const char *type, const char *action, const char *id,
		       const char *const *attrs, struct kerror *e)
{
	if (s->read_only)
		return 0;
	int64_t t = now_ns();
	json_t *a = json_object();
	for (size_t i = 0; attrs && attrs[i] && attrs[i + 1]; i += 2)
		if (*attrs[i + 1])
			json_object_set_new(a, attrs[i], json_string(attrs[i + 1]));
	json_auto_t *ev = json_object();
	/* Docker's older fields first (status/id/from), kept for its clients. */
	if (!strcmp(type, "container") || !strcmp(type, "image")) {
		json_object_set_new(ev, "status", json_string(action));
		json_object_set_new(ev, "id", json_string(id));
		const char *from = json_string_value(json_object_get(a, "image"));
		if (from && !strcmp(type, "container"))
			json_object_set_new(ev, "from", json_string(from));
	}
	json_object_set_new(ev, "Type", json_string(type));
	json_object_set_new(ev, "Action", json_string(action));
	json_object_set_new(ev, "Actor", json_pack("{s:s, s:o}", "ID", id ? id : "", "Attributes", a));
	json_object_set_new(ev, "scope", json_string("local"));
	json_object_set_new(ev, "time", json_integer(t / 1000000000LL));
	json_object_set_new(ev, "timeNano", json_integer(t));
	_cleanup_free_ char *line = json_dumps(ev, JSON_COMPACT);
	if (!line)
		return kerror_set(e, ENOMEM, "encoding event");
	size_t len = strlen(line);
	/* One write() under PIPE_BUF-ish size: O_APPEND makes concurrent
	 * writers land whole lines one after another. */
	if (len + 1 > STORE_EVENT_MAX_LINE)
		return kerror_set(e, E2BIG, "event %s %s is too large (%zu bytes)", type, action, len);
	line[len] = '\n';
	_cleanup_free_ char *path = xasprintf("%s/" EVENTS_FILE, s->root);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return kerror_sys(e, errno, "opening %s", path);
	ssize_t n = write(fd, line, len + 1);
	if (n != (ssize_t)len + 1)
		return kerror_sys(e, n < 0 ? errno : EIO, "writing %s", path);
	maybe_rotate(s->root, fd);
	return 0;
}

void store_event(struct store *s, const char *type, const char *action, const char *id, ...)
{
	if (!s)
		return;
	const char *attrs[32];
	size_t n = 0;
	va_list ap;
	va_start(ap, id);
	for (const char *k; n + 2 < ARRAY_SIZE(attrs) && (k = va_arg(ap, const char *));) {
		attrs[n++] = k;
		const char *v = va_arg(ap, const char *);
		attrs[n++] = v ? v : "";
	}
	va_end(ap);
	attrs[n] = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };
	if (store_event_append(s, type, action, id, attrs, &e) < 0)
		log_debug("event %s %s not recorded: %s", type, action, e.msg);
}

/* ---- filters -------------------------------------------------------------- */

static const char *const filter_keys[] = { "type", "event", "container", "image", "label",
					   "volume", "network", "pod", NULL };

int store_event_filter_check(const char *f, struct kerror *e)
{
	const char *eq = strchr(f, '=');
	if (!eq)
		return kerror_set(e, EINVAL, "invalid filter \"%s\": expected KEY=VALUE", f);
	for (size_t i = 0; filter_keys[i]; i++)
		if (strlen(filter_keys[i]) == (size_t)(eq - f) && !strncmp(f, filter_keys[i], eq - f))
			return 0;
	return kerror_set(e, EINVAL, "invalid filter \"%.*s\"", (int)(eq - f), f);
}

static const char *attr(const json_t *ev, const char *k)
{
	return json_string_value(json_object_get(json_object_get(json_object_get(ev, "Actor"),
								  "Attributes"), k));
}

/* An ID matches by its prefix, as Docker's filters do; names exactly. */
static bool id_or_name(const json_t *ev, const char *v)
{
	const char *id = json_string_value(json_object_get(json_object_get(ev, "Actor"), "ID"));
	const char *name = attr(ev, "name");
	return (id && *v && !strncmp(id, v, strlen(v))) || (name && !strcmp(name, v));
}

static bool one_matches(const json_t *ev, const char *key, const char *v)
{
	const char *type = json_string_value(json_object_get(ev, "Type"));
	type = type ? type : "";
	if (!strcmp(key, "type"))
		return !strcmp(type, v);
	if (!strcmp(key, "event")) {
		const char *a = json_string_value(json_object_get(ev, "Action"));
		/* "exec_start: sh -c …" matches event=exec_start */
		return a && (!strcmp(a, v) || (!strncmp(a, v, strlen(v)) && a[strlen(v)] == ':'));
	}
	if (!strcmp(key, "label")) {
		const char *eq = strchr(v, '=');
		_cleanup_free_ char *k = eq ? xstrndup(v, eq - v) : xstrdup(v);
		const char *have = attr(ev, k);
		return have && (!eq || !strcmp(have, eq + 1));
	}
	if (!strcmp(key, "image")) {
		if (!strcmp(type, "image"))
			return id_or_name(ev, v);
		const char *img = attr(ev, "image");
		return img && !strcmp(img, v);
	}
	if (!strcmp(key, "container") && !strcmp(type, "network")) {
		const char *c = attr(ev, "container");
		return c && !strncmp(c, v, strlen(v));
	}
	/* container, volume, network, pod: that type's events, by ID or name */
	return !strcmp(type, key) && id_or_name(ev, v);
}

/* Docker's rule: values of one key are alternatives, keys all apply. */
bool store_event_match(const json_t *ev, char *const *filters)
{
	for (size_t i = 0; filters && filters[i]; i++) {
		const char *eq = strchr(filters[i], '=');
		if (!eq)
			continue;
		size_t kl = eq - filters[i];
		bool seen_before = false, any = false;
		for (size_t j = 0; filters[j]; j++) {
			if (strncmp(filters[j], filters[i], kl + 1))
				continue;
			if (j < i) {
				seen_before = true;
				break;
			}
			_cleanup_free_ char *key = xstrndup(filters[i], kl);
			any = any || one_matches(ev, key, filters[j] + kl + 1);
		}
		if (!seen_before && !any)
			return false;
	}
	return true;
}

/* ---- reading -------------------------------------------------------------- */

struct reader {
	const struct event_query *q;
	store_event_fn fn;
	void *ctx;
	struct buf pending; /* an incomplete last line */
	bool stop;
};

static int64_t event_time(const json_t *ev)
{
	return json_integer_value(json_object_get(ev, "timeNano"));
}

static void take_line(struct reader *r, const char *line, size_t len)
{
	json_auto_t *ev = json_loadb(line, len, 0, NULL);
	if (!json_is_object(ev))
		return; /* a torn or foreign line: skipped */
	int64_t t = event_time(ev);
	if ((r->q->since && t < r->q->since) || (r->q->until && t > r->q->until))
		return;
	if (!store_event_match(ev, r->q->filters))
		return;
	if (r->fn(ev, r->ctx))
		r->stop = true;
}

/* Reads what fd has now; complete lines go to the callback. */
static int drain(struct reader *r, int fd, const char *path, struct kerror *e)
{
	char chunk[16384];
	while (!r->stop) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kerror_sys(e, errno, "reading %s", path);
		if (n == 0)
			return 0;
		buf_append(&r->pending, chunk, n);
		size_t start = 0;
		for (size_t i = 0; i < r->pending.len && !r->stop; i++)
			if (r->pending.data[i] == '\n') {
				take_line(r, r->pending.data + start, i - start);
				start = i + 1;
			}
		memmove(r->pending.data, r->pending.data + start, r->pending.len - start);
		r->pending.len -= start;
		/* no line is that long: a corrupt journal, not a reason to grow */
		if (r->pending.len > 4 * STORE_EVENT_MAX_LINE)
			r->pending.len = 0;
	}
	return 0;
}

static int open_journal(const char *path, int *fd, struct kerror *e)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 && errno != ENOENT)
		return kerror_sys(e, errno, "opening %s", path);
	return 0;
}

int store_events_read(const char *root, const struct event_query *q, store_event_fn fn, void *ctx,
		      struct kerror *e)
{
	struct reader r = { .q = q, .fn = fn, .ctx = ctx };
	_cleanup_free_ char *path = xasprintf("%s/" EVENTS_FILE, root);
	_cleanup_free_ char *old = xasprintf("%s/" EVENTS_OLD, root);
	int fd = -1, rc;
	/* the rotated half first, unless asked only for what comes next */
	if (!q->only_new) {
		if ((rc = open_journal(old, &fd, e)) < 0)
			goto out;
		if (fd >= 0) {
			rc = drain(&r, fd, old, e);
			close(fd);
			fd = -1;
			r.pending.len = 0;
			if (rc < 0)
				goto out;
		}
	}
	if ((rc = open_journal(path, &fd, e)) < 0)
		goto out;
	if (fd >= 0 && q->only_new)
		lseek(fd, 0, SEEK_END);
	if (fd >= 0 && (rc = drain(&r, fd, path, e)) < 0)
		goto out;
	while (q->follow && !r.stop) {
		if (q->until && now_ns() > q->until)
			break;
		if (q->should_stop && q->should_stop(ctx))
			break;
		struct timespec nap = { 0, EVENTS_POLL_MS * 1000000L };
		nanosleep(&nap, NULL);
		struct stat cur, mine;
		if (stat(path, &cur) < 0) {
			if (errno != ENOENT) {
				rc = kerror_sys(e, errno, "checking %s", path);
				goto out;
			}
			continue;
		}
		if (fd >= 0 && fstat(fd, &mine) == 0 && mine.st_ino == cur.st_ino &&
		    mine.st_dev == cur.st_dev) {
			if (cur.st_size < lseek(fd, 0, SEEK_CUR))
				lseek(fd, 0, SEEK_SET); /* truncated under us */
			if ((rc = drain(&r, fd, path, e)) < 0)
				goto out;
			continue;
		}
		/* rotated (or created): finish the old file, then the new one */
		if (fd >= 0) {
			if ((rc = drain(&r, fd, path, e)) < 0)
				goto out;
			close(fd);
			r.pending.len = 0;
		}
		if ((rc = open_journal(path, &fd, e)) < 0)
			goto out;
		if (fd >= 0 && (rc = drain(&r, fd, path, e)) < 0)
			goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	buf_release(&r.pending);
	return rc;
}

void store_container_event(struct store *s, const struct container_info *c, const char *action,
			   const char *key, const char *value)
{
	const char *image = c->image_name && *c->image_name ? c->image_name : c->image_id;
	store_event(s, "container", action, c->id, "image", image, "name", c->name ? c->name : "",
		    key ? key : NULL, value, NULL);
}

void store_image_event(struct store *s, const char *action, const char *id, const char *name)
{
	bool hex = strlen(id) == DIGEST_HEX_LEN && strspn(id, "0123456789abcdef") == DIGEST_HEX_LEN;
	_cleanup_free_ char *full = hex ? xasprintf("sha256:%s", id) : xstrdup(id);
	store_event(s, "image", action, full, "name", name ? name : "", NULL);
}
