/* Unit tests for build/copy.c: COPY/ADD sources resolve inside the build
 * context, and one that points outside says so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/engine.h"

struct fx {
	char dir[64];  /* holds ctx/ and outside/secret */
	char *ctx;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/kiln-copy-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->ctx = xasprintf("%s/ctx", f->dir);
	_cleanup_free_ char *out = xasprintf("%s/outside", f->dir);
	_cleanup_free_ char *secret = xasprintf("%s/outside/secret", f->dir);
	_cleanup_free_ char *abs_link = xasprintf("%s/abs", f->ctx);
	_cleanup_free_ char *rel_link = xasprintf("%s/rel", f->ctx);
	_cleanup_free_ char *ok = xasprintf("%s/ok", f->ctx);
	struct kerror e = { 0 };
	assert_int_equal(fs_mkdir_p(f->ctx, 0755, &e), 0);
	assert_int_equal(fs_mkdir_p(out, 0755, &e), 0);
	assert_int_equal(fs_write_atomic(secret, "s\n", 2, 0644, &e), 0);
	assert_int_equal(fs_write_atomic(ok, "ok\n", 3, 0644, &e), 0);
	assert_int_equal(symlink(out, abs_link), 0);
	assert_int_equal(symlink("../outside", rel_link), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct kerror e = { 0 };
	fs_rm_rf(f->dir, &e);
	kerror_release(&e);
	free(f->ctx);
	free(f);
	return 0;
}

/* Makes the copy list of "COPY src /dst"; returns its result, error in e. */
static int list_of(struct fx *f, const char *src, struct kerror *e)
{
	char *argv[] = { (char *)src, NULL };
	struct plan_step st = { .kind = CF_COPY, .argv = argv, .argc = 1, .dest = "/dst",
				.from_stage = -1 };
	struct copy_source cs = { .root = f->ctx, .hash_content = true };
	struct copy_list l = { 0 };
	int r = copy_list_make(&st, &cs, &l, e);
	copy_list_release(&l);
	return r;
}

static void expect(struct fx *f, const char *src, const char *msg)
{
	struct kerror e = { 0 };
	if (list_of(f, src, &e) >= 0)
		fail_msg("\"%s\" was accepted", src);
	if (!e.msg || !strstr(e.msg, msg))
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", src, e.msg ? e.msg : "", msg);
	kerror_release(&e);
}

static void test_sources_outside(void **state)
{
	struct fx *f = *state;
	struct kerror e = { 0 };
	static const char out[] = "not found in the build context (it points outside";
	assert_int_equal(list_of(f, "ok", &e), 0);
	expect(f, "../outside/secret", out);
	expect(f, "a/../../outside/secret", out);
	expect(f, "abs/secret", out);
	expect(f, "rel/secret", out);
	expect(f, "/outside/secret", out);
	expect(f, "missing", "source \"missing\": not found in the build context");
	kerror_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sources_outside, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
