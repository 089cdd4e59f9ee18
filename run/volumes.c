/* Volumes in containers: named and anonymous volumes resolved into binds
 * of their _data directory, and the first-mount copy of the image's
 * content into an empty volume. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "run/run_private.h"
#include "storage/volumes.h"

static char *anon_name(void)
{
	unsigned char b[32];
	char hex[65];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		memset(b, 0, sizeof(b)); /* not reached for 32 bytes once seeded */
	for (size_t i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	return xstrdup(hex);
}

/* Every canonical mount string has ",target=T" followed by ',' or its end. */
static bool target_taken(char *const *mounts, const char *target)
{
	size_t n = strlen(target);
	for (size_t i = 0; mounts && mounts[i]; i++) {
		const char *t = strstr(mounts[i], ",target=");
		if (t && !strncmp(t + 8, target, n) && (t[8 + n] == ',' || !t[8 + n]))
			return true;
	}
	return false;
}

/* "type=volume[,source=N],target=T[,ro]" → name (NULL: anonymous), target, ro. */
static void volume_fields(const char *spec, char **name, char **target, bool *ro)
{
	_cleanup_free_ char *copy = xstrdup(spec);
	char *save = NULL;
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (str_has_prefix(o, "source="))
			*name = xstrdup(o + 7);
		else if (str_has_prefix(o, "target="))
			*target = xstrdup(o + 7);
		else if (!strcmp(o, "ro"))
			*ro = true;
	}
}

static int make_bind(struct store *s, const char *name, bool anonymous, const char *target,
		     bool ro, char **out, struct kerror *e)
{
	int r = store_volume_create(s, name, NULL, NULL, anonymous, e);
	if (r < 0 && r != -EEXIST)
		return r;
	_cleanup_free_ char *path = store_volume_path(s, name);
	if (!fs_exists(path) && (r = fs_mkdir_p(path, 0755, e)) < 0)
		return r;
	*out = xasprintf("type=bind,source=%s,target=%s,volume=%s%s", path, target, name,
			 ro ? ",ro" : "");
	return 0;
}

int run_volumes_resolve(struct store *s, char ***mounts, const json_t *img_volumes,
			struct kerror *e)
{
	int r = 0;
	for (size_t i = 0; *mounts && (*mounts)[i] && r == 0; i++) {
		char *spec = (*mounts)[i], *name = NULL, *target = NULL, *bind = NULL;
		bool ro = false, anon;
		if (!str_has_prefix(spec, "type=volume,"))
			continue;
		volume_fields(spec, &name, &target, &ro);
		anon = !name;
		if (anon)
			name = anon_name();
		if (!target)
			r = kerror_set(e, EINVAL, "invalid volume mount \"%s\"", spec);
		else
			r = make_bind(s, name, anon, target, ro, &bind, e);
		if (r == 0) {
			free((*mounts)[i]);
			(*mounts)[i] = bind;
		}
		free(name);
		free(target);
	}
	const char *dst;
	json_t *v;
	if (r == 0 && json_is_object(img_volumes)) {
		json_object_foreach((json_t *)img_volumes, dst, v) {
			char *bind = NULL, *name;
			if (dst[0] != '/' || strlen(dst) > 4000 || strchr(dst, ',') ||
			    strchr(dst, '=') || target_taken(*mounts, dst))
				continue;
			name = anon_name();
			r = make_bind(s, name, true, dst, false, &bind, e);
			free(name);
			if (r < 0)
				break;
			strv_push(mounts, bind);
		}
	}
	return r;
}

char **run_plan_volumes(const char *plan_json)
{
	struct run_plan p = { 0 };
	char **out = NULL;
	if (!plan_json || run_plan_from_json(plan_json, &p, NULL) < 0)
		return NULL;
	for (size_t i = 0; p.mounts && p.mounts[i]; i++) {
		struct run_mount m;
		if (run_mount_parse(p.mounts[i], &m, NULL) < 0)
			continue;
		if (m.volume)
			strv_push(&out, xstrdup(m.volume));
		run_mount_release(&m);
	}
	run_plan_release(&p);
	return out;
}

/* ---- copy-up (in the child, after pivot_root) ----------------------------- */

static bool dir_empty(int fd)
{
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	struct dirent *de;
	bool empty = true;
	if (!d) {
		if (dup >= 0)
			close(dup);
		return false;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = false;
			break;
		}
	closedir(d);
	return empty;
}

int volume_copy_up(int tree, const char *target, struct kerror *e)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int dst = openat(tree, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int src = -1;
	struct stat st;
	if (root < 0 || dst < 0)
		return kerror_sys(e, errno, "volume copy-up for \"%s\"", target);
	if (!dir_empty(dst))
		return 0;
	src = fs_open_in_root(root, target, O_RDONLY | O_DIRECTORY);
	if (src < 0)
		return 0; /* nothing in the image there */
	int r = run_copy_tree(src, dst, NULL, e);
	if (r < 0)
		return kerror_wrap(e, "volume copy-up for \"%s\"", target);
	if (fstat(src, &st) == 0 &&
	    (fchown(dst, st.st_uid, st.st_gid) < 0 || fchmod(dst, st.st_mode & 07777) < 0))
		r = kerror_sys(e, errno, "volume copy-up: owner of \"%s\"", target);
	return r;
}


void run_volumes_remove_anonymous(struct store *s, const char *plan_json)
{
	if (!plan_json || !strstr(plan_json, "volume="))
		return; /* keeps `run --rm` free of this work without volumes */
	_cleanup_strv_ char **vols = run_plan_volumes(plan_json);
	struct container_info **list = NULL;
	size_t n = 0;
	if (!vols || store_container_list(s, &list, &n, NULL) < 0)
		return;
	for (size_t i = 0; vols[i]; i++) {
		struct volume_info *v = NULL;
		bool used = false;
		for (size_t k = 0; k < n && !used; k++) {
			if (!strstr(list[k]->plan, vols[i]))
				continue;
			_cleanup_strv_ char **theirs = run_plan_volumes(list[k]->plan);
			for (size_t j = 0; theirs && theirs[j]; j++)
				used |= !strcmp(theirs[j], vols[i]);
		}
		if (!used && store_volume_get(s, vols[i], &v, NULL) == 0 && v->anonymous) {
			struct kerror e = { 0 };
			if (store_volume_remove(s, vols[i], &e) < 0)
				log_warn("removing volume %.12s: %s", vols[i], e.msg);
			kerror_release(&e);
		}
		volume_info_free(v);
	}
	container_list_free(list, n);
}
