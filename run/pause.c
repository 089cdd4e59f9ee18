/* pause/unpause: every process of the container moved into a freezer
 * cgroup of its own (v1 "freezer" controller, v2 cgroup.freeze) and
 * frozen; unpause thaws them and moves them back to the cgroup they came
 * from, so nothing is left behind.  <runroot>/containers/<id>/paused holds
 * the frozen cgroup's path and the original one while paused. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "run/run.h"

#define CG_ROOT "/sys/fs/cgroup"

static bool v2(void)
{
	struct statfs fs;
	return statfs(CG_ROOT, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

/* The cgroup of pid for the freezer (v1) or the unified hierarchy (v2). */
static char *pid_cgroup(pid_t pid, bool unified)
{
	char path[64];
	_cleanup_free_ char *data = NULL;
	size_t len;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (fs_read_file(path, 64 * 1024, &data, &len, NULL) < 0)
		return NULL;
	for (char *line = data; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2) {
			*c2 = '\0';
			if (unified ? !strcmp(line, "0") && c1[1] == '\0'
				    : !strcmp(c1 + 1, "freezer"))
				return xstrdup(c2 + 1);
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static char *cg_dir(bool unified, const char *rel)
{
	return xasprintf(CG_ROOT "%s%s", unified ? "" : "/freezer", strcmp(rel, "/") ? rel : "");
}

static int write_str(const char *dir, const char *file, const char *v, struct kerror *e)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || fs_write_all(fd, v, strlen(v)) < 0)
		return kerror_sys(e, errno, "writing \"%s\" to \"%s\"", v, p);
	return 0;
}

/* Moves every process in the pid namespace of init into dir. */
static int move_ns_procs(pid_t init, const char *dir, struct kerror *e)
{
	char p[64], want[128], got[128];
	ssize_t n;
	snprintf(p, sizeof(p), "/proc/%d/ns/pid", (int)init);
	if ((n = readlink(p, want, sizeof(want) - 1)) < 0)
		return kerror_sys(e, errno, "reading the container's pid namespace");
	want[n] = '\0';
	/* init first: its children fork from it */
	snprintf(got, sizeof(got), "%d", (int)init);
	int r = write_str(dir, "cgroup.procs", got, e);
	DIR *d = opendir("/proc");
	struct dirent *de;
	if (!d)
		return r < 0 ? r : kerror_sys(e, errno, "reading /proc");
	while (r == 0 && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid == init)
			continue;
		snprintf(p, sizeof(p), "/proc/%ld/ns/pid", pid);
		if ((n = readlink(p, got, sizeof(got) - 1)) < 0)
			continue;
		got[n] = '\0';
		if (strcmp(got, want))
			continue;
		snprintf(got, sizeof(got), "%ld", pid);
		struct kerror e2 = { 0 };
		if (write_str(dir, "cgroup.procs", got, &e2) < 0 && e2.code != ESRCH)
			r = kerror_set(e, e2.code, "%s", e2.msg);
		kerror_release(&e2);
	}
	closedir(d);
	return r;
}

static char *marker(struct store *s, const char *id)
{
	_cleanup_free_ char *rd = store_container_rundir(s, id);
	return xasprintf("%s/paused", rd);
}

bool run_is_paused(struct store *s, const char *id)
{
	_cleanup_free_ char *m = marker(s, id);
	return access(m, F_OK) == 0;
}

static bool frozen(const char *dir, bool unified)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, unified ? "cgroup.events" : "freezer.state");
	_cleanup_free_ char *data = NULL;
	size_t len;
	if (fs_read_file(p, 4096, &data, &len, NULL) < 0)
		return false;
	return unified ? strstr(data, "frozen 1") != NULL : str_has_prefix(data, "FROZEN");
}

int run_pause(struct store *s, const struct container_info *c, struct kerror *e)
{
	bool unified = v2();
	_cleanup_free_ char *orig = NULL, *dir = NULL, *m = marker(s, c->id), *rec = NULL;
	int r;
	if (c->state != CTR_RUNNING || c->pid <= 0)
		return kerror_set(e, EINVAL, "\"%s\" is not running, can't pause: container state "
					     "improper", c->id);
	if (access(m, F_OK) == 0)
		return kerror_set(e, EINVAL, "\"%s\" is already paused: container state improper",
				  c->id);
	orig = pid_cgroup(c->pid, unified);
	if (!orig)
		return kerror_set(e, ENOTSUP, "no %s cgroup for the container",
				  unified ? "unified" : "freezer");
	{
		_cleanup_free_ char *base = cg_dir(unified, orig);
		dir = xasprintf("%s/kiln-pause-%s", base, c->id);
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return kerror_sys(e, errno, "creating the cgroup \"%s\"", dir);
	rec = xasprintf("%s\n%s\n", dir, orig);
	r = fs_write_atomic(m, rec, strlen(rec), 0644, e);
	if (r == 0)
		r = move_ns_procs(c->pid, dir, e);
	if (r == 0)
		r = unified ? write_str(dir, "cgroup.freeze", "1", e)
			    : write_str(dir, "freezer.state", "FROZEN", e);
	for (int i = 0; r == 0 && i < 200 && !frozen(dir, unified); i++) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (r < 0) {
		struct kerror e2 = { 0 };
		run_unpause(s, c, &e2);
		kerror_release(&e2);
	} else {
		store_container_event(s, c, "pause", NULL, NULL);
	}
	return r;
}

/* Moves every process of dir to back; returns how many there were. */
static int move_back(const char *dir, const char *back)
{
	_cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", dir);
	_cleanup_free_ char *list = NULL;
	size_t len;
	int n = 0;
	if (fs_read_file(procs, 1024 * 1024, &list, &len, NULL) < 0)
		return 0;
	for (char *save = NULL, *l = strtok_r(list, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct kerror e2 = { 0 };
		write_str(back, "cgroup.procs", l, &e2);
		kerror_release(&e2);
		n++;
	}
	return n;
}

int run_unpause(struct store *s, const struct container_info *c, struct kerror *e)
{
	bool unified = v2();
	_cleanup_free_ char *m = marker(s, c->id), *data = NULL;
	size_t len;
	int r = fs_read_file(m, 8192, &data, &len, NULL);
	if (r < 0)
		return kerror_set(e, EINVAL, "\"%s\" is not paused, can't unpause: container state "
					     "improper", c->id);
	char *nl = strchr(data, '\n');
	if (!nl)
		return kerror_set(e, EINVAL, "invalid pause record \"%s\"", m);
	*nl = '\0';
	const char *dir = data;
	char *orig = nl + 1, *nl2 = strchr(orig, '\n');
	if (nl2)
		*nl2 = '\0';
	/* Thaw in place, then back to where they were (again while a fork
	 * lands a new process there), then the empty cgroup goes. */
	_cleanup_free_ char *back = cg_dir(unified, orig);
	if (access(dir, F_OK) == 0) {
		r = unified ? write_str(dir, "cgroup.freeze", "0", e)
			    : write_str(dir, "freezer.state", "THAWED", e);
		if (r < 0)
			return r;
		for (int i = 0; i < 200 && frozen(dir, unified); i++) {
			struct timespec ts = { 0, 2 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		for (int i = 0; i < 100 && (move_back(dir, back) > 0 || rmdir(dir) < 0); i++) {
			struct timespec ts = { 0, 1000 * 1000 };
			if (errno == ENOENT)
				break;
			nanosleep(&ts, NULL);
		}
	}
	rmdir(dir);
	unlink(m);
	store_container_event(s, c, "unpause", NULL, NULL);
	return 0;
}
