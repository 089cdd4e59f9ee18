/* Unit tests for volumes (storage/volumes.c, run/volumes.c, the -v and
 * --mount parsers) and for a container's changes (run/changes.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/common.h"
#include "run/run.h"
#include "storage/storage.h"
#include "storage/volumes.h"

#include "tests/unit/store_fixture.h"

static void test_names(void **state)
{
	(void)state;
	assert_true(store_volume_name_valid("a"));
	assert_true(store_volume_name_valid("my_vol.1-x"));
	assert_false(store_volume_name_valid(""));
	assert_false(store_volume_name_valid(NULL));
	assert_false(store_volume_name_valid("_x"));
	assert_false(store_volume_name_valid("a/b"));
	assert_false(store_volume_name_valid(".."));
	assert_false(store_volume_name_valid("a b"));
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[299] = '\0';
	assert_false(store_volume_name_valid(longname));
}

static void test_crud(void **state)
{
	struct fx *f = *state;
	struct kerror e = { 0 };
	struct volume_info *v = NULL, **list = NULL;
	size_t n = 0;
	json_t *labels = json_pack("{s:s}", "k", "v");
	assert_int_equal(store_volume_create(f->s, "b", labels, NULL, false, &e), 0);
	assert_int_equal(store_volume_create(f->s, "a", NULL, NULL, true, &e), 0);
	assert_int_equal(store_volume_create(f->s, "a", NULL, NULL, false, &e), -EEXIST);
	assert_int_equal(store_volume_create(f->s, "../x", NULL, NULL, false, &e), -EINVAL);
	kerror_release(&e);
	json_decref(labels);
	_cleanup_free_ char *p = store_volume_path(f->s, "b");
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(store_volume_get(f->s, "b", &v, &e), 0);
	assert_string_equal(json_string_value(json_object_get(v->labels, "k")), "v");
	assert_false(v->anonymous);
	assert_true(v->created > 0);
	volume_info_free(v);
	assert_int_equal(store_volume_list(f->s, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0]->name, "a");
	assert_true(list[0]->anonymous);
	volume_list_free(list, n);
	assert_int_equal(store_volume_remove(f->s, "b", &e), 0);
	assert_int_not_equal(stat(p, &st), 0);
	assert_int_equal(store_volume_remove(f->s, "b", &e), -ENOENT);
	assert_int_equal(store_volume_get(f->s, "b", &v, &e), -ENOENT);
	assert_string_equal(e.msg, "no such volume b");
	kerror_release(&e);
}

static void test_parse(void **state)
{
	(void)state;
	struct kerror e = { 0 };
	char *m = NULL;
	assert_int_equal(run_mount_from_volume("data:/x:ro", &m, &e), 0);
	assert_string_equal(m, "type=volume,source=data,target=/x,ro");
	free(m);
	assert_int_equal(run_mount_from_volume("/anon", &m, &e), 0);
	assert_string_equal(m, "type=volume,target=/anon");
	free(m);
	assert_int_equal(run_mount_from_mount("type=volume,src=v,dst=/y,volume-nocopy", &m, &e), 0);
	assert_string_equal(m, "type=volume,source=v,target=/y");
	free(m);
	assert_int_equal(run_mount_from_volume("./rel:/x", &m, &e), -EINVAL);
	assert_int_equal(run_mount_from_volume("a$b:/x", &m, &e), -EINVAL);
	assert_int_equal(run_mount_from_volume("v:rel", &m, &e), -EINVAL);
	assert_int_equal(run_mount_from_mount("type=volume,source=../x,target=/x", &m, &e), -EINVAL);
	assert_int_equal(run_mount_from_mount("type=nfs,target=/x", &m, &e), -EINVAL);
	kerror_release(&e);
}

static void test_resolve(void **state)
{
	struct fx *f = *state;
	struct kerror e = { 0 };
	char **mounts = NULL;
	strv_push(&mounts, xstrdup("type=volume,source=named,target=/a,ro"));
	strv_push(&mounts, xstrdup("type=volume,target=/b"));
	strv_push(&mounts, xstrdup("type=tmpfs,target=/t"));
	json_t *img = json_pack("{s:{}, s:{}, s:{}}", "/a", "/c", "/t");
	assert_int_equal(run_volumes_resolve(f->s, &mounts, img, &e), 0);
	json_decref(img);
	assert_int_equal(strv_len(mounts), 4); /* /c added; /a and /t covered */
	_cleanup_free_ char *p = store_volume_path(f->s, "named");
	_cleanup_free_ char *want = xasprintf("type=bind,source=%s,target=/a,volume=named,ro", p);
	assert_string_equal(mounts[0], want);
	struct run_mount m;
	assert_int_equal(run_mount_parse(mounts[1], &m, &e), 0);
	assert_string_equal(m.type, "bind");
	assert_string_equal(m.target, "/b");
	assert_int_equal(strlen(m.volume), 64);
	struct volume_info *v = NULL;
	assert_int_equal(store_volume_get(f->s, m.volume, &v, &e), 0);
	assert_true(v->anonymous);
	volume_info_free(v);
	run_mount_release(&m);
	assert_true(strstr(mounts[3], ",target=/c,volume=") != NULL);
	/* the plan's volumes */
	char *argv[] = { (char *)"true", NULL }, *layers[] = { NULL };
	struct run_plan plan = { .argv = argv, .env = argv, .cwd = (char *)"/",
				 .hostname = (char *)"h", .user = (char *)"", .layers = layers };
	plan.mounts = mounts;
	json_t *pj = run_plan_to_json(&plan);
	_cleanup_free_ char *txt = json_dump_compact(pj);
	json_decref(pj);
	_cleanup_strv_ char **names = run_plan_volumes(txt);
	assert_int_equal(strv_len(names), 3);
	assert_string_equal(names[0], "named");
	strv_free(mounts);
	kerror_release(&e);
}

static void write_file(const char *path, const char *data)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	assert_int_equal(fs_write_atomic(path, data, strlen(data), 0644, &e), 0);
}

static void test_changes(void **state)
{
	struct fx *f = *state;
	struct kerror e = { 0 };
	const char *layer = "1111111111111111111111111111111111111111111111111111111111111111";
	_cleanup_free_ char *ld = store_layer_diff_path(f->s, layer);
	_cleanup_free_ char *cd = store_container_dir(f->s, "c1");
	_cleanup_free_ char *up = xasprintf("%s/upper", cd);
	char p[512];
	/* the image: /etc/passwd, /bin/ls, /var/x */
	snprintf(p, sizeof(p), "%s/etc", ld);
	assert_int_equal(fs_mkdir_p(p, 0755, &e), 0);
	snprintf(p, sizeof(p), "%s/etc/passwd", ld);
	write_file(p, "root\n");
	snprintf(p, sizeof(p), "%s/bin", ld);
	assert_int_equal(fs_mkdir_p(p, 0755, &e), 0);
	snprintf(p, sizeof(p), "%s/bin/ls", ld);
	write_file(p, "ls");
	/* the container: changed passwd, generated hosts, deleted ls, new dir */
	snprintf(p, sizeof(p), "%s/etc", up);
	assert_int_equal(fs_mkdir_p(p, 0755, &e), 0);
	snprintf(p, sizeof(p), "%s/etc/hosts", up);
	write_file(p, "127.0.0.1 localhost\n");
	snprintf(p, sizeof(p), "%s/etc/hostname", up);
	write_file(p, "c1\n");
	snprintf(p, sizeof(p), "%s/bin", up);
	assert_int_equal(fs_mkdir_p(p, 0755, &e), 0);
	snprintf(p, sizeof(p), "%s/bin/ls", up);
	bool root = geteuid() == 0 && mknod(p, S_IFCHR | 0, makedev(0, 0)) == 0;
	snprintf(p, sizeof(p), "%s/new/sub", up);
	assert_int_equal(fs_mkdir_p(p, 0755, &e), 0);
	snprintf(p, sizeof(p), "%s/new/sub/f", up);
	write_file(p, "x");

	char *layers[] = { (char *)layer, NULL };
	struct run_change *ch = NULL;
	size_t n = 0;
	/* only generated files under /etc: /etc is not reported */
	assert_int_equal(run_changes(f->s, "c1", layers, &ch, &n, &e), 0);
	struct buf b = { 0 };
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%c %s\n", ch[i].kind, ch[i].path);
	_cleanup_free_ char *got = buf_steal(&b);
	if (root)
		assert_string_equal(got, "C /bin\nD /bin/ls\nA /new\nA /new/sub\nA /new/sub/f\n");
	run_changes_free(ch, n);

	snprintf(p, sizeof(p), "%s/etc/passwd", up);
	write_file(p, "root\nme\n");
	assert_int_equal(run_changes(f->s, "c1", layers, &ch, &n, &e), 0);
	assert_true(n >= 2);
	assert_string_equal(ch[root ? 2 : 0].path, "/etc");
	assert_int_equal(ch[root ? 3 : 1].kind, 'C');
	run_changes_free(ch, n);

	/* the copy for commit leaves the generated files out */
	_cleanup_free_ char *dest = xasprintf("%s/copy", f->base);
	assert_int_equal(run_upper_copy(f->s, "c1", dest, &e), 0);
	snprintf(p, sizeof(p), "%s/etc/passwd", dest);
	assert_true(fs_exists(p));
	snprintf(p, sizeof(p), "%s/etc/hosts", dest);
	assert_false(fs_exists(p));
	snprintf(p, sizeof(p), "%s/new/sub/f", dest);
	assert_true(fs_exists(p));
	if (root) {
		struct stat st;
		snprintf(p, sizeof(p), "%s/bin/ls", dest);
		assert_int_equal(lstat(p, &st), 0);
		assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
	}
	kerror_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_crud, setup, teardown),
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
