/* Unit tests for run/oci_bundle.c: the runtime-spec config.json a plan
 * becomes for --runtime runc|crun|PATH, checked for its shape (the fields
 * runc reads, with their JSON types) and its content. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "run/run.h"

static char *argv_[] = { "sh", "-c", "exit 3", NULL };
static char *env_[] = { "PATH=/bin", "FOO=bar", NULL };

static void base_plan(struct run_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->argv = argv_;
	p->env = env_;
	p->cwd = "/work";
	p->hostname = "box";
	p->uid = 1000;
	p->gid = 1001;
	p->caps = run_caps_default();
	p->no_new_privs = true;
	p->seccomp = true;
	p->runtime = "runc";
}

static const json_t *find_mount(const json_t *mounts, const char *dst)
{
	for (size_t i = 0; i < json_array_size(mounts); i++)
		if (!strcmp(json_str(json_array_get(mounts, i), "destination") ?: "", dst))
			return json_array_get(mounts, i);
	return NULL;
}

static bool has_string(const json_t *a, const char *s)
{
	for (size_t i = 0; i < json_array_size(a); i++)
		if (!strcmp(json_string_value(json_array_get(a, i)) ?: "", s))
			return true;
	return false;
}

static bool has_ns(const json_t *linux_, const char *type)
{
	const json_t *ns = json_object_get(linux_, "namespaces");
	for (size_t i = 0; i < json_array_size(ns); i++)
		if (!strcmp(json_str(json_array_get(ns, i), "type") ?: "", type))
			return true;
	return false;
}

static void test_shape(void **state)
{
	(void)state;
	struct run_plan p;
	struct kerror e = { 0 };
	json_t *cfg = NULL;
	char *mounts[] = { "type=bind,source=/srv/data,target=/data,ro",
			   "type=tmpfs,target=/scratch,size=1m", NULL };
	char *ulimits[] = { "nofile=1024:2048", "nproc=-1:-1", NULL };
	gid_t gids[] = { 10, 20 };
	base_plan(&p);
	p.mounts = mounts;
	p.ulimits = ulimits;
	p.gids = gids;
	p.n_gids = 2;
	p.read_only = true;
	p.memory = 64 << 20;
	p.pids_limit = 50;

	assert_int_equal(run_oci_config(&p, "/merged", "/ud", &cfg, &e), 0);
	assert_string_equal(json_str(cfg, "ociVersion"), "1.0.2");
	assert_string_equal(json_str(cfg, "hostname"), "box");

	const json_t *proc = json_object_get(cfg, "process");
	assert_true(json_is_object(proc));
	assert_true(json_is_false(json_object_get(proc, "terminal")));
	assert_true(json_is_true(json_object_get(proc, "noNewPrivileges")));
	assert_string_equal(json_str(proc, "cwd"), "/work");
	const json_t *args = json_object_get(proc, "args");
	assert_int_equal(json_array_size(args), 3);
	assert_string_equal(json_string_value(json_array_get(args, 2)), "exit 3");
	assert_true(has_string(json_object_get(proc, "env"), "FOO=bar"));
	const json_t *user = json_object_get(proc, "user");
	assert_int_equal(json_integer_value(json_object_get(user, "uid")), 1000);
	assert_int_equal(json_integer_value(json_object_get(user, "gid")), 1001);
	assert_int_equal(json_array_size(json_object_get(user, "additionalGids")), 2);
	const json_t *caps = json_object_get(proc, "capabilities");
	static const char *const sets[] = { "bounding", "effective", "permitted" };
	for (size_t i = 0; i < 3; i++) {
		const json_t *set = json_object_get(caps, sets[i]);
		assert_int_equal(json_array_size(set), 11); /* Podman's default set */
		assert_true(has_string(set, "CAP_CHOWN"));
		assert_false(has_string(set, "CAP_SYS_ADMIN"));
	}
	/* rlimits: the unlimited one is left out (no uint64 max in jansson) */
	const json_t *rl = json_object_get(proc, "rlimits");
	assert_int_equal(json_array_size(rl), 1);
	assert_string_equal(json_str(json_array_get(rl, 0), "type"), "RLIMIT_NOFILE");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rl, 0), "soft")), 1024);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rl, 0), "hard")), 2048);

	const json_t *root = json_object_get(cfg, "root");
	assert_string_equal(json_str(root, "path"), "/merged");
	assert_true(json_is_true(json_object_get(root, "readonly")));

	const json_t *m = json_object_get(cfg, "mounts");
	static const char *const want[] = { "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue",
					    "/sys", "/etc/hosts", "/etc/hostname",
					    "/etc/resolv.conf", "/tmp", "/data", "/scratch" };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const json_t *one = find_mount(m, want[i]);
		assert_non_null(one);
		assert_true(json_is_string(json_object_get(one, "type")));
		assert_true(json_is_string(json_object_get(one, "source")));
		assert_true(json_is_array(json_object_get(one, "options")));
	}
	const json_t *bind = find_mount(m, "/data");
	assert_string_equal(json_str(bind, "type"), "bind");
	assert_string_equal(json_str(bind, "source"), "/srv/data");
	assert_true(has_string(json_object_get(bind, "options"), "rbind"));
	assert_true(has_string(json_object_get(bind, "options"), "ro"));
	const json_t *tmp = find_mount(m, "/scratch");
	assert_string_equal(json_str(tmp, "type"), "tmpfs");
	assert_true(has_string(json_object_get(tmp, "options"), "size=1m"));
	assert_string_equal(json_str(find_mount(m, "/etc/hosts"), "source"), "/ud/hosts");

	const json_t *lx = json_object_get(cfg, "linux");
	assert_true(has_ns(lx, "pid") && has_ns(lx, "mount") && has_ns(lx, "ipc") &&
		    has_ns(lx, "uts") && has_ns(lx, "network"));
	assert_false(has_ns(lx, "user"));
	assert_true(has_string(json_object_get(lx, "maskedPaths"), "/proc/kcore"));
	assert_true(has_string(json_object_get(lx, "readonlyPaths"), "/proc/sysrq-trigger"));
	const json_t *res = json_object_get(lx, "resources");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "memory"),
							    "limit")),
			 64 << 20);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "pids"),
							    "limit")),
			 50);
	/* the default seccomp profile, in runtime-spec's form */
	const json_t *sc = json_object_get(lx, "seccomp");
	assert_string_equal(json_str(sc, "defaultAction"), "SCMP_ACT_ALLOW");
	const json_t *calls = json_object_get(sc, "syscalls");
	bool unshare = false, clone_ns = false, clone3 = false;
	for (size_t i = 0; i < json_array_size(calls); i++) {
		const json_t *c = json_array_get(calls, i);
		const char *name = json_string_value(json_array_get(json_object_get(c, "names"), 0));
		int err = (int)json_integer_value(json_object_get(c, "errnoRet"));
		const json_t *arg = json_array_get(json_object_get(c, "args"), 0);
		assert_string_equal(json_str(c, "action"), "SCMP_ACT_ERRNO");
		if (!strcmp(name, "unshare"))
			unshare = err == EPERM && !arg;
		if (!strcmp(name, "clone3"))
			clone3 = err == ENOSYS;
		if (!strcmp(name, "clone") && arg &&
		    json_integer_value(json_object_get(arg, "value")) == CLONE_NEWUSER &&
		    json_integer_value(json_object_get(arg, "valueTwo")) == CLONE_NEWUSER)
			clone_ns = !strcmp(json_str(arg, "op"), "SCMP_CMP_MASKED_EQ");
	}
	assert_true(unshare && clone_ns && clone3);
	json_decref(cfg);
}

static void test_host_network_no_userdata(void **state)
{
	(void)state;
	struct run_plan p;
	struct kerror e = { 0 };
	json_t *cfg = NULL;
	base_plan(&p);
	p.network_host = true;
	p.seccomp = false;
	assert_int_equal(run_oci_config(&p, "/merged", NULL, &cfg, &e), 0);
	const json_t *lx = json_object_get(cfg, "linux");
	assert_false(has_ns(lx, "network"));
	assert_true(has_ns(lx, "pid"));
	assert_null(find_mount(json_object_get(cfg, "mounts"), "/etc/hosts"));
	assert_null(find_mount(json_object_get(cfg, "mounts"), "/tmp"));
	assert_true(json_is_false(json_object_get(json_object_get(cfg, "root"), "readonly")));
	assert_null(json_object_get(json_object_get(lx, "resources"), "memory"));
	/* seccomp=unconfined, --privileged: no filter */
	assert_null(json_object_get(lx, "seccomp"));
	json_decref(cfg);
}

static void test_bad_mount_and_checks(void **state)
{
	(void)state;
	struct run_plan p;
	struct kerror e = { 0 };
	json_t *cfg = NULL;
	char *mounts[] = { "type=nonsense", NULL };
	char *path = NULL;
	base_plan(&p);
	p.mounts = mounts;
	assert_true(run_oci_config(&p, "/merged", NULL, &cfg, &e) < 0);
	assert_null(cfg);
	kerror_release(&e);

	base_plan(&p);
	/* (refused as a whole when the test runs rootless) */
	assert_int_equal(run_oci_check(&p, &e), run_rootless() ? -ENOTSUP : 0);
	kerror_release(&e);
	p.init = true;
	assert_int_equal(run_oci_check(&p, &e), -ENOTSUP);
	assert_non_null(strstr(e.msg, "--init"));
	kerror_release(&e);

	assert_int_equal(run_oci_runtime_path("no-such-runtime-xyz", &path, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "no-such-runtime-xyz"));
	kerror_release(&e);
	assert_int_equal(run_oci_runtime_path("/nonexistent/runc", &path, &e), -ENOENT);
	kerror_release(&e);
	assert_int_equal(run_oci_runtime_path("sh", &path, &e), 0);
	assert_true(path[0] == '/');
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_host_network_no_userdata),
		cmocka_unit_test(test_bad_mount_and_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
