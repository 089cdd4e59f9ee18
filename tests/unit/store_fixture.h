/* For unit tests that need a store: a fresh one per test in a temporary
 * directory (<base>/root is the store, <base> holds the test's own files),
 * as cmocka setup/teardown.  Include after cmocka.h, common.h, storage.h. */
#ifndef KILN_TEST_STORE_FIXTURE_H
#define KILN_TEST_STORE_FIXTURE_H

struct fx {
	char base[64];
	char *root;
	struct store *s;
	int n_files; /* for tests that number the files they make in base */
};

/* Opens the fixture's store (again); timeout_ms: the store lock's. */
static inline struct store *open_store(struct fx *f, int timeout_ms)
{
	struct store_opts o = { .root = f->root, .lock_timeout_ms = timeout_ms };
	struct store *s = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };
	if (store_open(&o, &s, &e) < 0)
		fail_msg("store_open: %s", e.msg);
	return s;
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	strcpy(f->base, "/tmp/kiln-unit-XXXXXX");
	assert_non_null(mkdtemp(f->base));
	f->root = xasprintf("%s/root", f->base);
	f->s = open_store(f, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	_cleanup_kerror_ struct kerror e = { 0 };
	store_close(f->s);
	assert_int_equal(fs_rm_rf(f->base, &e), 0);
	free(f->root);
	free(f);
	return 0;
}

#endif
