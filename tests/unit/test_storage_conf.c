/* Unit tests for storage/conf.c: storage.conf parsing and the search path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/storage.h"

static int parse(const char *doc, struct storage_conf *c, struct kerror *e)
{
	return storage_conf_parse(doc, strlen(doc), "test.conf", c, e);
}

static void test_values(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	struct storage_conf c = { 0 };
	const char *doc =
		"# kiln storage\n"
		"[storage]\n"
		"driver = \"overlay\"\n"
		"graphroot = \"/var/lib/kiln\"\n"
		"runroot = '/run/kiln'\n"
		"rootless_storage_path = \"$HOME/.local/share/kiln\"\n"
		"driver_priority = [\"overlay\", \"vfs\"]\n"
		"transient_store = false\n"
		"[storage.options]\n"
		"additionalimagestores = []\n"
		"pull_options = {enable_partial_images = \"false\", use_hard_links = \"false\"}\n"
		"[storage.options.overlay]\n"
		"mount_program = \"/usr/bin/fuse-overlayfs\"\n"
		"mountopt = \"nodev,metacopy=on\"\n"
		"[storage.options.thinpool]\n"
		"size = 10\n";
	assert_int_equal(parse(doc, &c, &e), 0);
	assert_string_equal(c.driver, "overlay");
	assert_string_equal(c.graphroot, "/var/lib/kiln");
	assert_string_equal(c.runroot, "/run/kiln");
	storage_conf_release(&c);
	assert_null(c.driver);

	/* no [storage] table, or empty strings: everything stays unset */
	assert_int_equal(parse("[other]\nx = 1\n", &c, &e), 0);
	assert_null(c.driver);
	assert_null(c.graphroot);
	assert_int_equal(parse("[storage]\ndriver = \"\"\nrunroot = \"/r\"\n", &c, &e), 0);
	assert_null(c.driver);
	assert_string_equal(c.runroot, "/r");
	storage_conf_release(&c);
}

static void test_errors(void **state)
{
	(void)state;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct storage_conf c = { 0 };

	assert_int_equal(parse("[storage]\ndriver = 1\n", &c, &e), -EINVAL);
	assert_string_equal(e.msg, "\"test.conf\": [storage] driver must be a string");
	assert_int_equal(parse("[storage]\ndriver = 'vfs'\ngraphroot = ['/a']\n", &c, &e), -EINVAL);
	assert_string_equal(e.msg, "\"test.conf\": [storage] graphroot must be a string");
	assert_null(c.driver); /* nothing leaks out on failure */
	assert_int_equal(parse("[storage.runroot]\n", &c, &e), -EINVAL);
	assert_string_equal(e.msg, "\"test.conf\": [storage] runroot must be a string");
	assert_int_equal(parse("storage = 'x'\n", &c, &e), -EINVAL);
	assert_string_equal(e.msg, "\"test.conf\": storage must be a table");
	assert_int_equal(parse("[storage]\ngraphroot = \"relative/dir\"\n", &c, &e), -EINVAL);
	assert_string_equal(e.msg, "\"test.conf\": [storage] graphroot must be an absolute path");
	assert_int_equal(parse("[storage]\nrunroot = \"/a\\u0000b\"\n", &c, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "contains a NUL byte"));
	assert_int_equal(parse("[storage]\ndriver = \"overlay\"\ndriver = \"vfs\"\n", &c, &e),
			 -EINVAL);
	assert_string_equal(e.msg, "parsing \"test.conf\": line 3: duplicate key \"driver\"");
}


static void write_file(const char *path, const char *data)
{
	struct kerror e = { 0 };
	assert_int_equal(fs_write_atomic(path, data, strlen(data), 0644, &e), 0);
}

static void test_load(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	struct storage_conf c = { 0 };
	char dir[] = "/tmp/kiln-conf-XXXXXX";

	assert_non_null(mkdtemp(dir));
	_cleanup_free_ char *a = xasprintf("%s/a.conf", dir);
	_cleanup_free_ char *missing = xasprintf("%s/nope/storage.conf", dir);
	_cleanup_free_ char *xdg_dir = xasprintf("%s/xdg/kiln", dir);
	_cleanup_free_ char *xdg_conf = xasprintf("%s/storage.conf", xdg_dir);
	_cleanup_free_ char *xdg = xasprintf("%s/xdg", dir);

	/* an explicit path */
	write_file(a, "[storage]\ndriver = \"vfs\"\ngraphroot = \"/g\"\n");
	assert_int_equal(storage_conf_load(a, &c, &e), 0);
	assert_string_equal(c.driver, "vfs");
	assert_string_equal(c.graphroot, "/g");
	assert_null(c.runroot);
	storage_conf_release(&c);

	/* a missing file is not an error */
	assert_int_equal(storage_conf_load(missing, &c, &e), 0);
	assert_null(c.driver);
	assert_null(e.msg);

	/* $KILN_STORAGE_CONF wins over the other places */
	assert_int_equal(fs_mkdir_p(xdg_dir, 0755, &e), 0);
	write_file(xdg_conf, "[storage]\ndriver = \"overlay\"\n");
	setenv("XDG_CONFIG_HOME", xdg, 1);
	setenv("KILN_STORAGE_CONF", a, 1);
	assert_int_equal(storage_conf_load(NULL, &c, &e), 0);
	assert_string_equal(c.driver, "vfs");
	storage_conf_release(&c);
	setenv("KILN_STORAGE_CONF", missing, 1);
	assert_int_equal(storage_conf_load(NULL, &c, &e), 0);
	assert_null(c.driver);

	/* a malformed file names the file and the line */
	write_file(a, "[storage]\n\ndriver = overlay\n");
	setenv("KILN_STORAGE_CONF", a, 1);
	assert_int_equal(storage_conf_load(NULL, &c, &e), -EINVAL);
	assert_non_null(strstr(e.msg, a));
	assert_non_null(strstr(e.msg, "line 3: invalid value \"overlay\""));
	kerror_release(&e);
	unsetenv("KILN_STORAGE_CONF");

	/* rootless: $XDG_CONFIG_HOME/kiln/storage.conf (as root, checked in a
	 * child that becomes nobody) */
	assert_int_equal(chmod(dir, 0755), 0);
	bool root = geteuid() == 0;
	pid_t pid = root ? fork() : 0;
	assert_true(pid >= 0);
	if (pid == 0) {
		if (root && setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		bool ok = storage_conf_load(NULL, &c, &e) == 0 && c.driver &&
			  !strcmp(c.driver, "overlay");
		storage_conf_release(&c);
		if (root)
			_exit(ok ? 0 : 1);
		assert_true(ok);
	} else {
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(fs_rm_rf(dir, &e), 0);
}

static void test_too_big(void **state)
{
	(void)state;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct storage_conf c = { 0 };
	char dir[] = "/tmp/kiln-conf-XXXXXX";
	assert_non_null(mkdtemp(dir));
	_cleanup_free_ char *p = xasprintf("%s/big.conf", dir);
	size_t n = 1024 * 1024 + 1;
	_cleanup_free_ char *data = xmalloc(n);
	memset(data, '\n', n);
	assert_int_equal(fs_write_atomic(p, data, n, 0644, &e), 0);
	assert_int_equal(storage_conf_load(p, &c, &e), -EFBIG);
	assert_int_equal(fs_rm_rf(dir, &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_too_big),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
