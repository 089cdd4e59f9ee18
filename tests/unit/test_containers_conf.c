/* containers.conf: the files Podman reads, merged key by key, then kiln's
 * own, CONTAINERS_CONF / CONTAINERS_CONF_OVERRIDE / KILN_CONTAINERS_CONF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "run/run.h"

static char dir[] = "/tmp/kiln-test-cconf.XXXXXX";

static void put(const char *rel, const char *text)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
	_cleanup_free_ char *d = xstrdup(p);
	*strrchr(d, '/') = '\0';
	assert_int_equal(fs_mkdir_p(d, 0755, &e), 0);
	assert_int_equal(fs_write_atomic(p, text, strlen(text), 0644, &e), 0);
}

static const char *ctr_str(const json_t *c, const char *key)
{
	return json_str(json_object_get(c, "containers"), key);
}

static const char *env0(const json_t *c)
{
	return json_string_value(
		json_array_get(json_object_get(json_object_get(c, "containers"), "env"), 0));
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	unsetenv("KILN_CONTAINERS_CONF");
	unsetenv("CONTAINERS_CONF");
	unsetenv("CONTAINERS_CONF_OVERRIDE");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	_cleanup_kerror_ struct kerror e = { 0 };
	unsetenv("KILN_CONTAINERS_CONF");
	unsetenv("CONTAINERS_CONF");
	unsetenv("CONTAINERS_CONF_OVERRIDE");
	return fs_rm_rf(dir, &e);
}

static void test_env_files(void **state)
{
	(void)state;
	_cleanup_kerror_ struct kerror e = { 0 };
	json_t *c = NULL;
	put("base.conf", "[containers]\nenv = [\"A=base\"]\nlog_driver = \"k8s-file\"\n"
			 "[network]\ndefault_subnet = \"10.9.0.0/24\"\n");
	put("over.conf", "[containers]\nenv = [\"A=over\"]\n");
	_cleanup_free_ char *base = xasprintf("%s/base.conf", dir);
	_cleanup_free_ char *over = xasprintf("%s/over.conf", dir);

	/* CONTAINERS_CONF, then the override on top: tables merged key by
	 * key, arrays replaced whole */
	setenv("CONTAINERS_CONF", base, 1);
	setenv("CONTAINERS_CONF_OVERRIDE", over, 1);
	assert_int_equal(run_containers_conf_load(&c, &e), 0);
	assert_string_equal(env0(c), "A=over");
	assert_string_equal(ctr_str(c, "log_driver"), "k8s-file");
	/* Podman's [network] is not kiln's */
	assert_null(json_object_get(c, "network"));
	json_decref(c);

	/* KILN_CONTAINERS_CONF: that file alone, [network] included */
	setenv("KILN_CONTAINERS_CONF", base, 1);
	assert_int_equal(run_containers_conf_load(&c, &e), 0);
	assert_string_equal(env0(c), "A=base");
	assert_string_equal(json_str(json_object_get(c, "network"), "default_subnet"),
			    "10.9.0.0/24");
	json_decref(c);

	/* a named file must exist; a bad one is named in the error */
	setenv("KILN_CONTAINERS_CONF", "/nonexistent/containers.conf", 1);
	assert_true(run_containers_conf_load(&c, &e) < 0);
	assert_null(c);
	assert_non_null(strstr(e.msg, "/nonexistent/containers.conf"));
	kerror_release(&e);
	unsetenv("KILN_CONTAINERS_CONF");
	put("bad.conf", "[containers\n");
	_cleanup_free_ char *bad = xasprintf("%s/bad.conf", dir);
	setenv("CONTAINERS_CONF_OVERRIDE", bad, 1);
	assert_true(run_containers_conf_load(&c, &e) < 0);
	assert_null(c);
	assert_non_null(strstr(e.msg, "bad.conf"));
	unsetenv("CONTAINERS_CONF");
	unsetenv("CONTAINERS_CONF_OVERRIDE");
}

/* In a child that is rootless (a new user namespace): the user's
 * containers.conf, its drop-ins in name order, then kiln's user file. */
static int rootless_child(void)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	json_t *c = NULL;
	if (unshare(CLONE_NEWUSER) < 0)
		return 77;
	_cleanup_free_ char *xdg = xasprintf("%s/xdg", dir);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	if (!fs_rootless())
		return 3;
	if (run_containers_conf_load(&c, &e) < 0 || !c) {
		fprintf(stderr, "%s\n", e.msg ?: "no config");
		return 1;
	}
	const json_t *t = json_object_get(c, "containers");
	if (strcmp(env0(c) ?: "", "A=20-b") || json_integer_value(json_object_get(t, "pids_limit")) != 42 ||
	    strcmp(json_str(t, "log_driver") ?: "", "none") ||
	    strcmp(json_str(t, "shm_size") ?: "", "9m") ||
	    strcmp(json_str(json_object_get(c, "network"), "default_subnet") ?: "", "10.9.9.0/24"))
	{
		fprintf(stderr, "env %s pids %lld\n", env0(c), json_integer_value(json_object_get(t, "pids_limit")));
		return 2;
	}
	json_decref(c);
	return 0;
}

static void test_rootless_user_files(void **state)
{
	(void)state;
	put("xdg/containers/containers.conf",
	    "[containers]\nenv = [\"A=user\"]\npids_limit = 42\nshm_size = \"1m\"\n"
	    "[network]\ndefault_subnet = \"10.88.0.0/16\"\n");
	put("xdg/containers/containers.conf.d/20-b.conf", "[containers]\nenv = [\"A=20-b\"]\n");
	put("xdg/containers/containers.conf.d/10-a.conf",
	    "[containers]\nenv = [\"A=10-a\"]\nlog_driver = \"json-file\"\n");
	put("xdg/containers/containers.conf.d/99-z.conf.bak", "[containers\n");
	put("xdg/kiln/containers.conf", "[containers]\nlog_driver = \"none\"\nshm_size = \"9m\"\n"
					"[network]\ndefault_subnet = \"10.9.9.0/24\"\n");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(rootless_child());
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_files),
		cmocka_unit_test(test_rootless_user_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
