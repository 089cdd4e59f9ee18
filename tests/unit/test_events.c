/* Unit tests for the event journal (storage/events.c): append, read with
 * since/until and filters, rotation, and concurrent appends from forked
 * processes landing as whole lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "storage/storage.h"

#include "tests/unit/store_fixture.h"

struct seen {
	struct buf text; /* "Type Action ID;" per event */
	size_t n;
	int64_t last;
	bool ordered;
};

static int collect(json_t *ev, void *ctx)
{
	struct seen *s = ctx;
	json_t *actor = json_object_get(ev, "Actor");
	int64_t t = json_integer_value(json_object_get(ev, "timeNano"));
	if (t < s->last)
		s->ordered = false;
	s->last = t;
	buf_printf(&s->text, "%s %s %s;", json_string_value(json_object_get(ev, "Type")),
		   json_string_value(json_object_get(ev, "Action")),
		   json_string_value(json_object_get(actor, "ID")));
	s->n++;
	return 0;
}

static char *read_all(struct fx *f, const struct event_query *q, size_t *n)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	struct seen s = { .ordered = true };
	if (store_events_read(f->root, q, collect, &s, &e) < 0)
		fail_msg("store_events_read: %s", e.msg);
	assert_true(s.ordered);
	buf_append(&s.text, "", 1);
	if (n)
		*n = s.n;
	return s.text.data;
}

static int64_t now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void test_append_read_shape(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	const char *attrs[] = { "name", "c1", "image", "bb", "empty", "", NULL };
	assert_int_equal(store_event_append(f->s, "container", "start", "abc", attrs, &e), 0);
	_cleanup_free_ char *path = xasprintf("%s/events.jsonl", f->root);
	_cleanup_free_ char *data = NULL;
	size_t len;
	assert_int_equal(fs_read_file(path, 65536, &data, &len, &e), 0);
	assert_true(len > 0 && data[len - 1] == '\n');
	json_auto_t *ev = json_loadb(data, len, 0, NULL);
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "status")), "start");
	assert_string_equal(json_string_value(json_object_get(ev, "id")), "abc");
	assert_string_equal(json_string_value(json_object_get(ev, "from")), "bb");
	assert_string_equal(json_string_value(json_object_get(ev, "scope")), "local");
	json_t *a = json_object_get(json_object_get(ev, "Actor"), "Attributes");
	assert_string_equal(json_string_value(json_object_get(a, "name")), "c1");
	assert_null(json_object_get(a, "empty"));
	assert_int_equal(json_integer_value(json_object_get(ev, "time")),
			 json_integer_value(json_object_get(ev, "timeNano")) / 1000000000LL);
	struct event_query q = { 0 };
	_cleanup_free_ char *all = read_all(f, &q, NULL);
	assert_string_equal(all, "container start abc;");
}

static void test_since_until_filters(void **state)
{
	struct fx *f = *state;
	store_event(f->s, "container", "create", "c0ffee", "name", "web", "image", "nginx", NULL);
	struct timespec nap = { 0, 5000000 };
	nanosleep(&nap, NULL);
	int64_t mid = now();
	store_event(f->s, "container", "start", "c0ffee", "name", "web", "image", "nginx",
		    "com.example.tier", "front", NULL);
	store_event(f->s, "image", "tag", "sha256:1234", "name", "nginx:1", NULL);
	store_event(f->s, "volume", "create", "data", "driver", "local", NULL);
	store_event(f->s, "network", "connect", "n1", "name", "net", "container", "c0ffee", NULL);
	store_event(f->s, "container", "exec_start: sh -c true", "c0ffee", "name", "web", NULL);
	nanosleep(&nap, NULL);
	int64_t end = now();
	store_event(f->s, "container", "die", "c0ffee", "name", "web", "exitCode", "0", NULL);

	struct event_query q = { .since = mid, .until = end };
	size_t n;
	_cleanup_free_ char *win = read_all(f, &q, &n);
	assert_int_equal(n, 5);
	assert_true(strncmp(win, "container start c0ffee;", 23) == 0);

	char *type_ctr[] = { "type=container", NULL };
	q = (struct event_query){ .filters = type_ctr };
	_cleanup_free_ char *ctrs = read_all(f, &q, &n);
	assert_int_equal(n, 4);

	/* values of one key are alternatives; keys all apply */
	char *two[] = { "event=create", "event=die", "container=web", NULL };
	q.filters = two;
	_cleanup_free_ char *cd = read_all(f, &q, NULL);
	assert_string_equal(cd, "container create c0ffee;container die c0ffee;");

	char *by_id[] = { "container=c0f", "event=start", NULL };
	q.filters = by_id;
	_cleanup_free_ char *bi = read_all(f, &q, NULL);
	assert_string_equal(bi, "container start c0ffee;");

	char *label[] = { "label=com.example.tier=front", NULL };
	q.filters = label;
	_cleanup_free_ char *lb = read_all(f, &q, NULL);
	assert_string_equal(lb, "container start c0ffee;");

	char *img[] = { "image=nginx:1", NULL };
	q.filters = img;
	_cleanup_free_ char *im = read_all(f, &q, NULL);
	assert_string_equal(im, "image tag sha256:1234;");

	char *ex[] = { "event=exec_start", NULL };
	q.filters = ex;
	_cleanup_free_ char *es = read_all(f, &q, &n);
	assert_int_equal(n, 1);

	char *net[] = { "container=c0ffee", "type=network", NULL };
	q.filters = net;
	_cleanup_free_ char *nc = read_all(f, &q, NULL);
	assert_string_equal(nc, "network connect n1;");

	_cleanup_kerror_ struct kerror e = { 0 };
	assert_int_equal(store_event_filter_check("type=image", &e), 0);
	assert_int_equal(store_event_filter_check("colour=red", &e), -EINVAL);
	kerror_release(&e);
	assert_int_equal(store_event_filter_check("type", &e), -EINVAL);
}

static void test_torn_and_foreign_lines(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_free_ char *path = xasprintf("%s/events.jsonl", f->root);
	const char junk[] = "not json\n{\"Type\":\"x\"\n[1,2]\n";
	assert_int_equal(fs_write_atomic(path, junk, sizeof(junk) - 1, 0600, &e), 0);
	store_event(f->s, "pod", "create", "p1", "name", "pod1", NULL);
	struct event_query q = { 0 };
	_cleanup_free_ char *all = read_all(f, &q, NULL);
	/* the unterminated object swallowed nothing it should not: the junk
	 * lines are skipped, the real event read */
	assert_non_null(strstr(all, "pod create p1;"));
}

static void test_too_large_refused(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	char *big = xcalloc(1, STORE_EVENT_MAX_LINE + 10);
	memset(big, 'a', STORE_EVENT_MAX_LINE + 5);
	const char *attrs[] = { "name", big, NULL };
	assert_int_equal(store_event_append(f->s, "container", "start", "x", attrs, &e), -E2BIG);
	free(big);
	/* the void wrapper never fails the caller */
	store_event(f->s, "container", "start", "y", NULL);
}

static void test_rotation(void **state)
{
	struct fx *f = *state;
	char pad[1500];
	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = 0;
	size_t want = STORE_EVENTS_ROTATE / 1000 + 50;
	for (size_t i = 0; i < want; i++) {
		char id[32];
		snprintf(id, sizeof(id), "%zu", i);
		store_event(f->s, "container", "start", id, "pad", pad, NULL);
	}
	_cleanup_free_ char *old = xasprintf("%s/events.1.jsonl", f->root);
	struct stat st;
	assert_int_equal(stat(old, &st), 0);
	_cleanup_free_ char *cur = xasprintf("%s/events.jsonl", f->root);
	assert_int_equal(stat(cur, &st), 0);
	assert_true(st.st_size < STORE_EVENTS_ROTATE);
	/* both halves are read, oldest first, nothing lost */
	struct event_query q = { 0 };
	size_t n;
	_cleanup_free_ char *all = read_all(f, &q, &n);
	assert_int_equal(n, want);
}

#define WRITERS 8
#define PER_WRITER 200

static void test_concurrent_appends(void **state)
{
	struct fx *f = *state;
	pid_t kids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		kids[w] = fork();
		assert_true(kids[w] >= 0);
		if (kids[w] == 0) {
			char pad[2000];
			memset(pad, 'a' + w, sizeof(pad) - 1);
			pad[sizeof(pad) - 1] = 0;
			for (int i = 0; i < PER_WRITER; i++) {
				char id[32];
				snprintf(id, sizeof(id), "w%d-%d", w, i);
				store_event(f->s, "container", "start", id, "pad", pad, NULL);
			}
			_exit(0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int st;
		assert_int_equal(waitpid(kids[w], &st, 0), kids[w]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	/* every line parses (none interleaved); rotation may have dropped the
	 * oldest generation, so count what the two files hold */
	size_t lines = 0;
	const char *names[] = { "events.1.jsonl", "events.jsonl" };
	for (size_t k = 0; k < 2; k++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", f->root, names[k]);
		_cleanup_free_ char *data = NULL;
		size_t len;
		_cleanup_kerror_ struct kerror e = { 0 };
		if (fs_read_file(p, 64u << 20, &data, &len, &e) < 0)
			continue;
		for (char *line = data, *nl; line < data + len; line = nl + 1) {
			nl = memchr(line, '\n', data + len - line);
			assert_non_null(nl);
			json_auto_t *ev = json_loadb(line, nl - line, 0, NULL);
			assert_non_null(ev);
			const char *pad = json_string_value(json_object_get(
				json_object_get(json_object_get(ev, "Actor"), "Attributes"), "pad"));
			assert_non_null(pad);
			assert_int_equal(strspn(pad, (char[]){ pad[0], 0 }), 1999);
			lines++;
		}
	}
	/* 8 × 200 × ~2.2 KB is past one rotation: at least the newest file's
	 * worth survives, and no more than was written */
	assert_true(lines > 0 && lines <= WRITERS * PER_WRITER);
}

static void test_follow_sees_new_events(void **state)
{
	struct fx *f = *state;
	store_event(f->s, "image", "pull", "old", NULL);
	pid_t kid = fork();
	assert_true(kid >= 0);
	if (kid == 0) {
		struct timespec nap = { 0, 300 * 1000000L };
		nanosleep(&nap, NULL);
		store_event(f->s, "image", "pull", "new", NULL);
		_exit(0);
	}
	/* only_new: "old" is skipped; follow until 1.5 s from now */
	struct event_query q = { .follow = true, .only_new = true, .until = now() + 1500000000LL };
	size_t n;
	_cleanup_free_ char *got = read_all(f, &q, &n);
	waitpid(kid, NULL, 0);
	assert_string_equal(got, "image pull new;");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_read_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_since_until_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_and_foreign_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_appends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_sees_new_events, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
