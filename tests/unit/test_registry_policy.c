/* Unit tests for the registry side of the trust policy: which policy file a
 * pull uses, the refusal without one, and non-registry transports checked
 * against their path scope. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/signing.h"

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/kiln-regpol.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	unsetenv("KILN_SIGNATURE_POLICY");
	return 0;
}

static char *write_policy(const struct fixture *f, const char *name, const char *json)
{
	char *path = xasprintf("%s/%s", f->dir, name);
	assert_int_equal(fs_write_atomic(path, json, strlen(json), 0644, NULL), 0);
	return path;
}

static void test_load(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *acc = write_policy(f, "acc.json",
		"{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}");
	_cleanup_free_ char *rej = write_policy(f, "rej.json", "{\"default\":[{\"type\":\"reject\"}]}");
	_cleanup_free_ char *bad = write_policy(f, "bad.json", "{\"default\":[]}");
	_cleanup_free_ char *missing = xasprintf("%s/none.json", f->dir);
	struct pull_opts o = { .reg = REGISTRY_OPTS_INIT };
	struct sign_policy *p = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };

	o.signature_policy = acc;
	assert_int_equal(pull_policy_load(&o, &p, &e), 0);
	assert_int_equal(p->dflt.v[0].kind, SIGN_REQ_INSECURE_ACCEPT_ANYTHING);
	sign_policy_free(p);

	/* The flag wins over the environment; the environment over the defaults. */
	setenv("KILN_SIGNATURE_POLICY", rej, 1);
	assert_int_equal(pull_policy_load(&o, &p, &e), 0);
	assert_int_equal(p->dflt.v[0].kind, SIGN_REQ_INSECURE_ACCEPT_ANYTHING);
	sign_policy_free(p);
	o.signature_policy = NULL;
	assert_int_equal(pull_policy_load(&o, &p, &e), 0);
	assert_int_equal(p->dflt.v[0].kind, SIGN_REQ_REJECT);
	sign_policy_free(p);

	/* Missing: refused with a message naming the file. */
	o.signature_policy = missing;
	assert_int_equal(pull_policy_load(&o, &p, &e), -ENOENT);
	assert_null(p);
	assert_non_null(strstr(e.msg, "no trust policy"));
	assert_non_null(strstr(e.msg, missing));
	kerror_release(&e);

	/* Invalid: refused by the parser. */
	o.signature_policy = bad;
	assert_true(pull_policy_load(&o, &p, &e) < 0);
	assert_null(p);
	kerror_release(&e);
}

static void test_local(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *lay = xasprintf("%s/lay", f->dir);
	_cleanup_free_ char *json = xasprintf(
		"{\"default\":[{\"type\":\"reject\"}],\"transports\":{"
		"\"oci\":{\"%s\":[{\"type\":\"insecureAcceptAnything\"}]},"
		"\"dir\":{\"\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"/k\"}]},"
		"\"docker-archive\":{\"\":[{\"type\":\"insecureAcceptAnything\"}]}}}", lay);
	_cleanup_free_ char *pol = write_policy(f, "p.json", json);
	struct pull_opts o = { .reg = REGISTRY_OPTS_INIT, .signature_policy = pol };
	_cleanup_kerror_ struct kerror e = { 0 };

	assert_int_equal(mkdir(lay, 0755), 0);
	/* The exact path scope accepts; another path falls to the reject default. */
	assert_int_equal(pull_policy_check_local(&o, "oci", lay, &e), 0);
	assert_int_equal(pull_policy_check_local(&o, "oci", f->dir, &e), -EACCES);
	assert_non_null(strstr(e.msg, "reject"));
	kerror_release(&e);
	/* signedBy is not met: the layout has no signature-N. */
	assert_int_equal(pull_policy_check_local(&o, "dir", lay, &e), -EACCES);
	assert_non_null(strstr(e.msg, "signedBy"));
	kerror_release(&e);
	/* The transport's own default. */
	assert_int_equal(pull_policy_check_local(&o, "docker-archive", "/x.tar", &e), 0);
	assert_int_equal(pull_policy_check_local(&o, "oci-archive", "/x.tar", &e), -EACCES);
	kerror_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
