/* Unit tests for run/'s pure parts: Entrypoint/Cmd merging, env merging,
 * user resolution from passwd/group text, capability and signal names,
 * the plan's JSON round trip, cgroup v2 set-up against a fake tree, and
 * the k8s-file log format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <linux/filter.h>
#include <unistd.h>

#include "run/run.h"

static char *joined(char **v)
{
	struct buf b = { 0 };
	for (size_t i = 0; v && v[i]; i++)
		buf_printf(&b, "%s%s", i ? "|" : "", v[i]);
	buf_append(&b, "", 0);
	return b.data ? buf_steal(&b) : xstrdup("");
}

static void check_argv(char *const *ent, char *const *cmd, const char *user_ent, bool set,
		       char *const *user_cmd, const char *want)
{
	char **v = run_merge_argv(ent, cmd, user_ent, set, user_cmd);
	char *j = joined(v);
	assert_string_equal(j, want);
	free(j);
	strv_free(v);
}

static void test_merge_argv(void **state)
{
	(void)state;
	char *ent[] = { "/entry", "-x", NULL };
	char *cmd[] = { "default", "arg", NULL };
	char *user[] = { "mine", NULL };
	char *empty[] = { NULL };
	check_argv(ent, cmd, NULL, false, NULL, "/entry|-x|default|arg");
	check_argv(ent, cmd, NULL, false, user, "/entry|-x|mine");
	check_argv(NULL, cmd, NULL, false, NULL, "default|arg");
	check_argv(NULL, cmd, NULL, false, user, "mine");
	/* --entrypoint drops the image's Cmd too (Docker). */
	check_argv(ent, cmd, "/other", true, NULL, "/other");
	check_argv(ent, cmd, "/other", true, user, "/other|mine");
	/* --entrypoint "" clears it: the arguments run as they are. */
	check_argv(ent, cmd, "", true, user, "mine");
	check_argv(ent, cmd, "", true, NULL, "");
	check_argv(NULL, NULL, NULL, false, empty, "");
	check_argv(ent, NULL, NULL, false, empty, "/entry|-x");
}

static void test_merge_env(void **state)
{
	(void)state;
	char *img[] = { "PATH=/img/bin", "A=1", "B=2", NULL };
	char *defs[] = { "PATH=/default", "HOSTNAME=h", "HOME=/root", NULL };
	char *user[] = { "B=user", "C=3", "NOEQUALS", "=bad", "A=", NULL };
	char **v = run_merge_env(img, defs, user);
	char *j = joined(v);
	assert_string_equal(j, "PATH=/img/bin|A=|B=user|HOSTNAME=h|HOME=/root|C=3");
	free(j);
	strv_free(v);
	v = run_merge_env(NULL, defs, NULL);
	j = joined(v);
	assert_string_equal(j, "PATH=/default|HOSTNAME=h|HOME=/root");
	free(j);
	strv_free(v);
}

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
			     "# comment\n"
			     "daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n"
			     "app:x:1000:1000:App:/home/app:/bin/sh\n"
			     "broken:x:abc\n"
			     "nohome:x:1001:1001:::/bin/sh\n";
static const char group[] = "root:x:0:\n"
			    "wheel:x:10:app,other\n"
			    "app:x:1000:\n"
			    "audio:x:29:daemon,app\n"
			    "staff:x:50:\n";

static void test_user_resolve(void **state)
{
	(void)state;
	struct run_user u;
	struct kerror e = { 0 };

	assert_int_equal(run_user_resolve(NULL, passwd, group, &u, &e), 0);
	assert_int_equal(u.uid, 0);
	assert_int_equal(u.gid, 0);
	assert_string_equal(u.home, "/root");
	run_user_release(&u);

	assert_int_equal(run_user_resolve("app", passwd, group, &u, &e), 0);
	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 1000);
	assert_string_equal(u.home, "/home/app");
	/* the primary group first (a user was asked for), then memberships */
	assert_int_equal(u.n_gids, 3);
	assert_int_equal(u.gids[0], 1000);
	assert_int_equal(u.gids[1], 10);
	assert_int_equal(u.gids[2], 29);
	run_user_release(&u);

	/* An explicit group replaces the primary one and the memberships
	 * (it is the one supplementary group, as Podman has it). */
	assert_int_equal(run_user_resolve("app:staff", passwd, group, &u, &e), 0);
	assert_int_equal(u.gid, 50);
	assert_int_equal(u.n_gids, 1);
	assert_int_equal(u.gids[0], 50);
	run_user_release(&u);
	assert_int_equal(run_user_resolve("app:77", passwd, group, &u, &e), 0);
	assert_int_equal(u.gid, 77);
	run_user_release(&u);

	/* Numbers need no entry; one that has an entry takes its gid and home. */
	assert_int_equal(run_user_resolve("4242", passwd, group, &u, &e), 0);
	assert_int_equal(u.uid, 4242);
	assert_int_equal(u.gid, 0);
	assert_string_equal(u.home, "/");
	run_user_release(&u);
	assert_int_equal(run_user_resolve("1000:5", passwd, group, &u, &e), 0);
	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 5);
	run_user_release(&u);
	assert_int_equal(run_user_resolve("nohome", passwd, group, &u, &e), 0);
	assert_string_equal(u.home, "/");
	run_user_release(&u);

	assert_int_equal(run_user_resolve("ghost", passwd, group, &u, &e), -ENOENT);
	assert_string_equal(e.msg, "unable to find user ghost: no matching entries in passwd file");
	assert_int_equal(run_user_resolve("app:nogroup", passwd, group, &u, &e), -ENOENT);
	assert_string_equal(e.msg, "unable to find group nogroup: no matching entries in group file");
	assert_int_equal(run_user_resolve("app", NULL, NULL, &u, &e), -ENOENT);
	assert_int_equal(run_user_resolve(":5", passwd, group, &u, &e), -EINVAL);
	/* "broken" has too few fields: never matched. */
	assert_int_equal(run_user_resolve("broken", passwd, group, &u, &e), -ENOENT);
	kerror_release(&e);
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(run_cap_parse("CAP_CHOWN"), 0);
	assert_int_equal(run_cap_parse("sys_admin"), 21);
	assert_int_equal(run_cap_parse("NOPE"), -1);
	/* Podman's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL
	 * NET_BIND_SERVICE SETFCAP SETGID SETPCAP SETUID SYS_CHROOT. */
	assert_int_equal(run_caps_default(), 0x800405fbULL);
	assert_int_equal(run_signal_parse("SIGTERM"), SIGTERM);
	assert_int_equal(run_signal_parse("kill"), SIGKILL);
	assert_int_equal(run_signal_parse("10"), 10);
	assert_int_equal(run_signal_parse("RTMIN+1"), SIGRTMIN + 1);
	assert_int_equal(run_signal_parse("0"), -1);
	assert_int_equal(run_signal_parse("SIGNOPE"), -1);
	assert_int_equal(run_signal_parse(""), -1);
}

static void test_plan_json(void **state)
{
	(void)state;
	struct run_plan p = { 0 }, q = { 0 };
	struct kerror e = { 0 };
	gid_t gids[] = { 10, 29 };
	p.argv = xcalloc(1, sizeof(char *));
	strv_push(&p.argv, xstrdup("sh"));
	p.env = xcalloc(1, sizeof(char *));
	strv_push(&p.env, xstrdup("A=1"));
	p.layers = xcalloc(1, sizeof(char *));
	p.cwd = xstrdup("/w");
	p.hostname = xstrdup("h");
	p.uid = 1000;
	p.gid = 1000;
	p.gids = gids;
	p.n_gids = 2;
	p.caps = run_caps_default();
	p.read_only = true;
	p.pids_limit = 50;
	p.stop_signal = SIGINT;
	p.stop_timeout = 3;
	p.dns = xcalloc(1, sizeof(char *));
	strv_push(&p.dns, xstrdup("10.0.0.1"));
	p.ulimits = xcalloc(1, sizeof(char *));
	strv_push(&p.ulimits, xstrdup("nofile=10:20"));
	p.init = true;
	p.shm_size = 1 << 20;
	p.restart = xstrdup("on-failure");
	p.restart_max = 4;
	p.health.test = xcalloc(1, sizeof(char *));
	strv_push(&p.health.test, xstrdup("CMD-SHELL"));
	strv_push(&p.health.test, xstrdup("true"));
	p.health.interval = 2000000000;
	p.health.retries = 5;
	json_t *j = run_plan_to_json(&p);
	char *text = json_dump_compact(j);
	json_decref(j);
	p.gids = NULL;
	assert_int_equal(run_plan_from_json(text, &q, &e), 0);
	assert_string_equal(q.argv[0], "sh");
	assert_string_equal(q.env[0], "A=1");
	assert_string_equal(q.cwd, "/w");
	assert_int_equal(q.uid, 1000);
	assert_int_equal(q.n_gids, 2);
	assert_int_equal(q.gids[1], 29);
	assert_int_equal(q.caps, run_caps_default());
	assert_true(q.read_only);
	assert_false(q.tty);
	assert_int_equal(q.pids_limit, 50);
	assert_int_equal(q.stop_signal, SIGINT);
	assert_int_equal(q.stop_timeout, 3);
	assert_string_equal(q.dns[0], "10.0.0.1");
	assert_string_equal(q.ulimits[0], "nofile=10:20");
	assert_true(q.init);
	assert_int_equal(q.shm_size, 1 << 20);
	assert_string_equal(q.restart, "on-failure");
	assert_int_equal(q.restart_max, 4);
	assert_string_equal(q.health.test[1], "true");
	assert_int_equal(q.health.interval, 2000000000);
	assert_int_equal(q.health.retries, 5);
	assert_string_equal(q.log_driver, "k8s-file");
	assert_null(q.pod);
	assert_null(q.rootfs);
	free(text);
	run_plan_release(&p);
	run_plan_release(&q);
	assert_int_equal(run_plan_from_json("{\"argv\":[]}", &q, &e), -EINVAL);
	assert_int_equal(run_plan_from_json("not json", &q, &e), -EINVAL);
	kerror_release(&e);
}

static char *read_str(const char *dir, const char *file)
{
	char *path = xasprintf("%s/%s", dir, file), *data = NULL;
	size_t len;
	struct kerror e = { 0 };
	if (fs_read_file(path, 4096, &data, &len, &e) < 0)
		data = NULL;
	kerror_release(&e);
	free(path);
	return data;
}

static void test_cgroup_v2_fake(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/kiln-cg-XXXXXX";
	char *root = mkdtemp(tmpl);
	struct kerror e = { 0 };
	struct cg_limits l = { .memory = 64 << 20, .pids_limit = 50, .cpu_shares = 512,
			       .cpu_quota = 50000 };
	char *path = NULL, *v;
	assert_non_null(root);
	char *mid = xasprintf("%s/user.slice", root);
	char *deep = xasprintf("%s/user.slice/session", root);
	assert_int_equal(mkdir(mid, 0755), 0);
	assert_int_equal(mkdir(deep, 0755), 0);
	assert_int_equal(cg_v2_create(root, "/user.slice/session", "kiln-abc", &l, &path, &e), 0);
	char *want = xasprintf("%s/user.slice/session/kiln-abc", root);
	assert_string_equal(path, want);
	v = read_str(path, "memory.max");
	assert_string_equal(v, "67108864");
	free(v);
	v = read_str(path, "pids.max");
	assert_string_equal(v, "50");
	free(v);
	v = read_str(path, "cpu.max");
	assert_string_equal(v, "50000 100000");
	free(v);
	v = read_str(path, "cpu.weight");
	assert_string_equal(v, "20");
	free(v);
	/* Every level from the root down hands the controllers on. */
	v = read_str(root, "cgroup.subtree_control");
	assert_string_equal(v, "+memory +pids +cpu");
	free(v);
	v = read_str(mid, "cgroup.subtree_control");
	assert_string_equal(v, "+memory +pids +cpu");
	free(v);
	v = read_str(deep, "cgroup.subtree_control");
	assert_string_equal(v, "+memory +pids +cpu");
	free(v);
	free(path);
	path = NULL;
	/* pids only, unlimited */
	struct cg_limits p = { .pids_limit = -1 };
	assert_int_equal(cg_v2_create(root, "", "kiln-p", &p, &path, &e), 0);
	v = read_str(path, "pids.max");
	assert_string_equal(v, "max");
	free(v);
	v = read_str(root, "cgroup.subtree_control");
	assert_string_equal(v, "+pids");
	free(v);
	free(path);
	path = NULL;
	assert_int_equal(cg_v2_create(root, "", "../escape", &p, &path, &e), -EINVAL);
	assert_int_equal(cg_v2_create(root, "/a/../..", "x", &p, &path, &e), -EINVAL);
	assert_int_equal(cg_shares_to_weight(1024), 39);
	assert_int_equal(cg_shares_to_weight(2), 1);
	assert_int_equal(cg_shares_to_weight(262144), 10000);
	assert_true(cg_limits_any(&p));
	struct cg_limits none = { 0 };
	assert_false(cg_limits_any(&none));
	fs_rm_rf(root, &e);
	kerror_release(&e);
	free(mid);
	free(deep);
	free(want);
}

static void test_log_parse(void **state)
{
	(void)state;
	struct log_line l;
	const char *a = "2026-11-27T10:00:00.123456789Z stdout F hello world";
	assert_true(run_log_parse(a, strlen(a), &l));
	assert_false(l.is_stderr);
	assert_false(l.partial);
	assert_int_equal(l.nsec, 123456789);
	assert_int_equal(l.len, 11);
	assert_memory_equal(l.text, "hello world", 11);
	const char *b = "2026-11-27T10:00:00Z stderr P ";
	assert_true(run_log_parse(b, strlen(b), &l));
	assert_true(l.is_stderr);
	assert_true(l.partial);
	assert_int_equal(l.len, 0);
	const char *c = "2026-11-27T10:00:00Z stderr F";
	assert_true(run_log_parse(c, strlen(c), &l));
	assert_int_equal(l.len, 0);
	const char *bad[] = { "", "garbage", "2026-11-27T10:00:00Z other F x",
			      "2026-11-27T10:00:00Z stdout X x", "notatime stdout F x",
			      "2026-11-27T10:00:00Z stdout Fx" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_false(run_log_parse(bad[i], strlen(bad[i]), &l));
}

/* The seccomp cache: compiled once, read back identical, and a damaged
 * file is compiled again. */
static void test_seccomp_cache(void **state)
{
	(void)state;
	char dir[] = "/tmp/kiln-test-seccomp.XXXXXX";
	struct run_bpf a = { 0 }, b = { 0 };
	struct kerror e = { 0 };
	assert_non_null(mkdtemp(dir));
	assert_int_equal(run_seccomp_filter(dir, &a, &e), 0);
	assert_true(a.len > 10);
	char *path = run_seccomp_cache_path(dir);
	assert_int_equal(access(path, R_OK), 0);
	assert_int_equal(run_seccomp_filter(dir, &b, &e), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.insns, b.insns, a.len * sizeof(struct sock_filter));
	run_bpf_release(&b);
	/* flip one byte of the program: the checksum refuses it */
	FILE *f = fopen(path, "r+");
	assert_non_null(f);
	fseek(f, 20, SEEK_SET);
	fputc(0x5a, f);
	fclose(f);
	assert_int_equal(run_seccomp_filter(dir, &b, &e), 0);
	assert_memory_equal(a.insns, b.insns, a.len * sizeof(struct sock_filter));
	run_bpf_release(&a);
	run_bpf_release(&b);
	unlink(path);
	free(path);
	rmdir(dir);
	kerror_release(&e);
}

static void test_etc_files(void **state)
{
	(void)state;
	char *dns[] = { "1.1.1.1", NULL }, *search[] = { "a.example", "b.example", NULL };
	char *opts[] = { "ndots:3", NULL }, *hosts[] = { "db:10.0.0.5", "v6:fd00::1", NULL };
	struct run_etc_opts o = { .hostname = "h", .name = "n" };
	const char *host = "# comment\nnameserver 9.9.9.9\nsearch old.example\noptions rotate\n";
	char *t = run_etc_resolv(host, &o);
	assert_string_equal(t, host);
	free(t);
	o.dns = dns;
	o.dns_search = search;
	o.dns_options = opts;
	t = run_etc_resolv(host, &o);
	assert_string_equal(t, "# comment\nsearch a.example b.example\nnameserver 1.1.1.1\n"
			       "options ndots:3\n");
	free(t);
	char *dot[] = { ".", NULL };
	o.dns_search = dot;
	t = run_etc_resolv(NULL, &o);
	assert_null(strstr(t, "search"));
	free(t);
	o.add_hosts = hosts;
	o.ip = "10.88.0.2";
	t = run_etc_hosts(NULL, &o);
	assert_non_null(strstr(t, "127.0.0.1\tlocalhost"));
	assert_non_null(strstr(t, "10.0.0.5\tdb\n"));
	assert_non_null(strstr(t, "fd00::1\tv6\n"));
	assert_non_null(strstr(t, "10.88.0.2\th n\n"));
	free(t);
	o.network_host = true;
	o.ip = NULL;
	t = run_etc_hosts("1.2.3.4 hosty", &o);
	assert_true(str_has_prefix(t, "1.2.3.4 hosty\n"));
	assert_non_null(strstr(t, "127.0.1.1\th n\n"));
	free(t);
	/* no name (a build step): no trailing blank */
	o.network_host = false;
	o.name = NULL;
	o.ip = "10.91.0.254";
	t = run_etc_hosts(NULL, &o);
	assert_non_null(strstr(t, "\n10.91.0.254\th\n"));
	free(t);
}

/* kiln build --network values (Docker's spellings too) */
static void test_build_net_parse(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int mode; /* -1: refused */
	} cases[] = {
		{ NULL, RUN_BUILD_NET_DEFAULT },    { "", RUN_BUILD_NET_DEFAULT },
		{ "default", RUN_BUILD_NET_DEFAULT }, { "private", RUN_BUILD_NET_PRIVATE },
		{ "bridge", RUN_BUILD_NET_PRIVATE }, { "none", RUN_BUILD_NET_NONE },
		{ "host", RUN_BUILD_NET_HOST },     { "kiln", -1 },
		{ "container:x", -1 },              { "Host", -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum run_build_net_mode m = RUN_BUILD_NET_HOST;
		struct kerror e = { 0 };
		int r = run_build_net_parse(cases[i].in, &m, &e);
		if (cases[i].mode < 0) {
			assert_int_equal(r, -EINVAL);
			assert_non_null(strstr(e.msg, cases[i].in));
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(m, cases[i].mode);
		}
		kerror_release(&e);
	}
	/* root: the default is the private network */
	if (geteuid() == 0)
		assert_int_equal(run_build_net_resolve(RUN_BUILD_NET_DEFAULT), RUN_BUILD_NET_PRIVATE);
	assert_int_equal(run_build_net_resolve(RUN_BUILD_NET_NONE), RUN_BUILD_NET_NONE);
}

static void test_flag_parsers(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	char *out = NULL;
	int max;
	assert_int_equal(run_add_host_parse("db:10.0.0.1", &out, &e), 0);
	assert_string_equal(out, "db:10.0.0.1");
	free(out);
	assert_int_equal(run_add_host_parse("db=::1", &out, &e), 0);
	assert_string_equal(out, "db:::1");
	free(out);
	assert_true(run_add_host_parse("db", &out, &e) < 0);
	kerror_release(&e);
	assert_true(run_add_host_parse("d b:1.2.3.4", &out, &e) < 0);
	kerror_release(&e);
	assert_true(run_add_host_parse("db:1.2.3", &out, &e) < 0);
	kerror_release(&e);
	assert_int_equal(run_ulimit_parse("nofile=10:20", &out, &e), 0);
	assert_string_equal(out, "nofile=10:20");
	free(out);
	assert_int_equal(run_ulimit_parse("RLIMIT_NPROC=7", &out, &e), 0);
	assert_string_equal(out, "nproc=7:7");
	free(out);
	assert_int_equal(run_ulimit_parse("core=-1", &out, &e), 0);
	assert_string_equal(out, "core=-1:-1");
	free(out);
	const char *bad[] = { "nofile", "nofile=", "nofile=a", "nofile=20:10", "x=1", "nofile=1:",
			      "nofile=99999999999999999999999", "nofile=-2" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_true(run_ulimit_parse(bad[i], &out, &e) < 0);
		kerror_release(&e);
	}
	assert_int_equal(run_restart_parse("on-failure:3", &out, &max, &e), 0);
	assert_string_equal(out, "on-failure");
	assert_int_equal(max, 3);
	free(out);
	assert_int_equal(run_restart_parse(NULL, &out, &max, &e), 0);
	assert_string_equal(out, "no");
	free(out);
	assert_int_equal(run_restart_parse("unless-stopped", &out, &max, &e), 0);
	free(out);
	assert_true(run_restart_parse("on-failure:", &out, &max, &e) < 0);
	kerror_release(&e);
	assert_true(run_restart_parse("on-failurex", &out, &max, &e) < 0);
	kerror_release(&e);
	assert_true(run_restart_parse("sometimes", &out, &max, &e) < 0);
	kerror_release(&e);
}

static void test_subid_find(void **state)
{
	const char *text = "# comment\nalice:100000:65536\n1001:200000:1000\nbad:x:1\n"
			   "zero:5:0\nover:4294967290:100\nbob:300000:65536\r\n";
	struct run_subid r;
	(void)state;
	assert_int_equal(run_subid_find(text, "alice", 1000, &r), 1);
	assert_int_equal(r.start, 100000);
	assert_int_equal(r.count, 65536);
	/* by uid when the name is not listed */
	assert_int_equal(run_subid_find(text, "carol", 1001, &r), 1);
	assert_int_equal(r.start, 200000);
	assert_int_equal(run_subid_find(text, "bob", 5, &r), 1);
	assert_int_equal(r.count, 65536);
	/* malformed, empty and overflowing ranges are skipped */
	assert_int_equal(run_subid_find(text, "bad", 5, &r), 0);
	assert_int_equal(run_subid_find(text, "zero", 5, &r), 0);
	assert_int_equal(run_subid_find(text, "over", 5, &r), 0);
	assert_int_equal(run_subid_find(NULL, "alice", 5, &r), 0);
	assert_int_equal(run_subid_find("alice:1:", "alice", 5, &r), 0);
}

static void test_ports(void **state)
{
	struct kerror e = { 0 };
	char **v = NULL;
	struct run_port p;
	(void)state;
	assert_int_equal(run_port_parse("8080:80", &v, &e), 0);
	assert_int_equal(run_port_parse("127.0.0.1:9000-9001:90-91/udp", &v, &e), 0);
	assert_int_equal(run_port_parse("[::1]:7000:70", &v, &e), 0);
	assert_int_equal(run_port_parse("80", &v, &e), 0); /* a free host port */
	assert_int_equal(strv_len(v), 5);
	assert_string_equal(v[0], ":8080:80/tcp");
	assert_string_equal(v[1], "127.0.0.1:9000:90/udp");
	assert_string_equal(v[2], "127.0.0.1:9001:91/udp");
	assert_string_equal(v[3], "[::1]:7000:70/tcp");
	assert_int_equal(run_port_split(v[2], &p), 0);
	assert_string_equal(p.host_ip, "127.0.0.1");
	assert_int_equal(p.host_port, 9001);
	assert_int_equal(p.ctr_port, 91);
	assert_true(p.udp);
	assert_int_equal(run_port_split(v[3], &p), 0);
	assert_string_equal(p.host_ip, "::1");
	assert_int_equal(run_port_split(v[4], &p), 0);
	assert_true(p.host_port > 0);
	assert_int_equal(p.ctr_port, 80);
	static const char *const bad[] = { "", "0", "65536", "a:80", "80/sctp", "1.2.3:80:80",
					   "9000-9002:90-91", "90-80", "[::1:80:80", "8080:",
					   ":80x" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(run_port_parse(bad[i], &v, &e), -EINVAL);
		kerror_release(&e);
	}
	assert_int_equal(strv_len(v), 5);
	assert_int_equal(run_port_split("x", &p), -EINVAL);
	assert_int_equal(run_port_split(":0:80/tcp", &p), -EINVAL);
	assert_int_equal(run_port_split(":80:80/icmp", &p), -EINVAL);
	strv_free(v);
}

/* What ps, inspect and kiln port show of a plan's mappings; --expose. */
static void test_net_ports(void **state)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	struct run_port p;
	char *x = NULL;
	(void)state;
	assert_int_equal(run_port_split("[::1]:53:5353/udp", &p), 0);
	_cleanup_free_ char *t6 = run_port_format(&p);
	assert_string_equal(t6, "[::1]:53->5353/udp");
	assert_int_equal(run_port_split(":8080:80/tcp", &p), 0);
	_cleanup_free_ char *t4 = run_port_format(&p);
	assert_string_equal(t4, "0.0.0.0:8080->80/tcp");

	assert_int_equal(run_port_from_expose("80", &x, &e), 0);
	assert_string_equal(x, "80/tcp");
	free(x);
	assert_int_equal(run_port_from_expose("8000-8001/udp", &x, &e), 0);
	assert_string_equal(x, "8000-8001/udp");
	free(x);
	static const char *const bad[] = { "http", "", "0", "80/sctp", "90-80", "1-5000",
					   "-1", "80-", "99999" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		x = NULL;
		assert_true(run_port_from_expose(bad[i], &x, &e) < 0);
		assert_null(x);
		kerror_release(&e);
	}

	_cleanup_json_ json_t *plan = json_pack("{s:[s, s, s], s:[s, s]}", "ports", ":8080:80/tcp",
						 "garbage", "127.0.0.1:8081:80/tcp", "expose",
						 "443/tcp", "80/tcp");
	_cleanup_free_ char *text = run_ports_text(plan);
	assert_string_equal(text, "0.0.0.0:8080->80/tcp, 127.0.0.1:8081->80/tcp");
	_cleanup_json_ json_t *pj = run_ports_json(plan);
	_cleanup_free_ char *dump = json_dump_compact(pj);
	assert_string_equal(dump, "{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8080\"},"
				  "{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8081\"}],"
				  "\"443/tcp\":null}");
}

static void test_cidr(void **state)
{
	uint32_t a;
	int p;
	char buf[16];
	(void)state;
	assert_true(net_parse_cidr("10.91.0.0/24", &a, &p));
	assert_int_equal(a, 0x0a5b0000);
	assert_int_equal(p, 24);
	assert_string_equal(net_ip_str(a + 1, buf), "10.91.0.1");
	assert_false(net_parse_cidr("10.91.0.0", &a, &p));
	assert_false(net_parse_cidr("10.91.0.0/33", &a, &p));
	assert_false(net_parse_cidr("10.91.0.0/", &a, &p));
	assert_false(net_parse_cidr("10.91.0.0/2x", &a, &p));
	assert_false(net_parse_cidr("10.91.0/24", &a, &p));
	assert_false(net_parse_cidr("01234567890123456789012345678901234/8", &a, &p));
	assert_false(net_parse_cidr(NULL, &a, &p));
	assert_false(net_parse_ip("256.1.1.1", &a));
}

/* pasta's readiness: which families have a default route, from the texts
 * of /proc/net/route and /proc/net/ipv6_route (a fresh namespace's ::/0
 * reject route on lo does not count). */
static void test_default_routes(void **state)
{
	const char *v4_hdr = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask"
			     "\t\tMTU\tWindow\tIRTT\n";
	const char *v4_net = "eth0\t0000020A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
	const char *v4_def = "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
	const char *v6_lo = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
			    "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200"
			    "       lo\n";
	const char *v6_net = "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 "
			     "00000000000000000000000000000000 00000100 00000001 00000000 00000001"
			     "     eth0\n";
	const char *v6_def = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
			     "fd000000000000000000000000000001 00000400 00000003 00000000 00000003"
			     "     eth0\n";
	char *v4 = xasprintf("%s%s%s", v4_hdr, v4_net, v4_def);
	char *v6 = xasprintf("%s%s%s", v6_net, v6_lo, v6_def);
	char *v4_only_net = xasprintf("%s%s", v4_hdr, v4_net);
	char *v6_lo_net = xasprintf("%s%s", v6_lo, v6_net);
	(void)state;
	assert_int_equal(run_default_route_families(v4, v6), RUN_ROUTE_V4 | RUN_ROUTE_V6);
	assert_int_equal(run_default_route_families(v4, v6_lo_net), RUN_ROUTE_V4);
	assert_int_equal(run_default_route_families(v4_only_net, v6), RUN_ROUTE_V6);
	assert_int_equal(run_default_route_families(v4_hdr, v6_lo), 0);
	assert_int_equal(run_default_route_families(NULL, NULL), 0);
	assert_int_equal(run_default_route_families("", "garbage\n"), 0);
	free(v4);
	free(v6);
	free(v4_only_net);
	free(v6_lo_net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_argv),    cmocka_unit_test(test_merge_env),
		cmocka_unit_test(test_user_resolve),  cmocka_unit_test(test_names),
		cmocka_unit_test(test_plan_json),     cmocka_unit_test(test_cgroup_v2_fake),
		cmocka_unit_test(test_log_parse),     cmocka_unit_test(test_seccomp_cache),
		cmocka_unit_test(test_etc_files),     cmocka_unit_test(test_flag_parsers),
		cmocka_unit_test(test_build_net_parse),
		cmocka_unit_test(test_subid_find),    cmocka_unit_test(test_ports),
		cmocka_unit_test(test_net_ports),     cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_default_routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
