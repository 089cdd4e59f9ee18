/* User mounts: -v/--volume, --mount and --tmpfs, normalised to one form
 * kept in the plan ("type=bind,source=/abs,target=/abs[,ro]" or
 * "type=tmpfs,target=/abs[,ro][,size=N][,mode=M]"), and mounted in the
 * child after pivot_root.  A target is resolved inside the container's root
 * with openat2(RESOLVE_IN_ROOT), so no symlink in the image or in a volume
 * can make a mount land outside it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "run/run_private.h"
#include "storage/volumes.h"

#define SPEC_MAX 4096

void run_mount_release(struct run_mount *m)
{
	free(m->type);
	free(m->source);
	free(m->target);
	free(m->data);
	free(m->volume);
	memset(m, 0, sizeof(*m));
}

static bool clean_abs(const char *p)
{
	return p && p[0] == '/' && strlen(p) < SPEC_MAX && !strchr(p, ',') && !strchr(p, '=');
}

static char *canon(const struct run_mount *m)
{
	struct buf b = { 0 };
	buf_printf(&b, "type=%s", m->type);
	if (m->source)
		buf_printf(&b, ",source=%s", m->source);
	buf_printf(&b, ",target=%s", m->target);
	if (m->volume)
		buf_printf(&b, ",volume=%s", m->volume);
	if (m->readonly)
		buf_printf(&b, ",ro");
	if (m->data && *m->data)
		buf_printf(&b, ",%s", m->data);
	return buf_steal(&b);
}

static int tmpfs_opt(struct buf *data, const char *o, struct kerror *e)
{
	const char *v = strchr(o, '=');
	if (v && (str_has_prefix(o, "size=") || str_has_prefix(o, "mode=") ||
		  str_has_prefix(o, "tmpfs-size=") || str_has_prefix(o, "tmpfs-mode="))) {
		const char *k = str_has_prefix(o, "tmpfs-") ? o + 6 : o;
		for (const char *c = v + 1; *c; c++)
			if (!strchr("0123456789kmgKMG%", *c))
				return kerror_set(e, EINVAL, "invalid tmpfs option \"%s\"", o);
		buf_printf(data, "%s%.*s", data->len ? "," : "", (int)strlen(k), k);
		return 0;
	}
	if (!strcmp(o, "rw") || !strcmp(o, "nosuid") || !strcmp(o, "nodev") ||
	    !strcmp(o, "noexec") || !strcmp(o, "exec") || !strcmp(o, "suid") ||
	    !strcmp(o, "dev") || !strcmp(o, "notmpcopyup") || !strcmp(o, "tmpcopyup"))
		return 0; /* kiln's tmpfs is always nosuid,nodev */
	return kerror_set(e, EINVAL, "invalid tmpfs option \"%s\"", o);
}

static int check_bind_source(const char *src, struct kerror *e)
{
	struct stat st;
	if (!src || src[0] != '/')
		return kerror_set(e, EINVAL, "bind mount source \"%s\" must be an absolute path "
					     "(named volumes are not supported yet)",
				  src ? src : "");
	if (stat(src, &st) < 0)
		return kerror_sys(e, errno, "statfs %s", src);
	return 0;
}

int run_mount_from_volume(const char *spec, char **out, struct kerror *e)
{
	_cleanup_free_ char *copy = xstrdup(spec);
	struct run_mount m = { .type = xstrdup("bind") };
	char *parts[3] = { NULL, NULL, NULL };
	size_t n = 0;
	int r = 0;
	for (char *p = copy, *c; p && n < 3; p = c ? c + 1 : NULL) {
		c = strchr(p, ':');
		if (c)
			*c = '\0';
		parts[n++] = p;
		if (!c)
			break;
	}
	if (n == 1 && clean_abs(parts[0])) {
		/* -v /dst: an anonymous volume */
		parts[1] = parts[0];
		parts[0] = (char *)"";
		n = 2;
	}
	if (n < 2 || (!*parts[0] && parts[2]) || !*parts[1] || strlen(spec) > SPEC_MAX)
		r = kerror_set(e, EINVAL, "invalid volume specification \"%s\"", spec);
	else if (!clean_abs(parts[1]))
		r = kerror_set(e, EINVAL, "invalid container path \"%s\": it must be absolute",
			       parts[1]);
	if (r == 0 && parts[2]) {
		char *save = NULL;
		for (char *o = strtok_r(parts[2], ",", &save); o && r == 0;
		     o = strtok_r(NULL, ",", &save)) {
			if (!strcmp(o, "ro"))
				m.readonly = true;
			else if (!strcmp(o, "rw") || !strcmp(o, "z") || !strcmp(o, "Z") ||
				 !strcmp(o, "rbind") || !strcmp(o, "bind") || !strcmp(o, "private") ||
				 !strcmp(o, "rprivate"))
				; /* SELinux relabelling: accepted and ignored (SELinux is off) */
			else
				r = kerror_set(e, EINVAL, "invalid option \"%s\" in volume \"%s\"", o,
					       spec);
		}
	}
	if (r == 0 && parts[0][0] != '/') {
		/* a named (or anonymous) volume, resolved by run_volumes_resolve */
		free(m.type);
		m.type = xstrdup("volume");
		if (*parts[0] && !store_volume_name_valid(parts[0]))
			r = kerror_set(e, EINVAL, "invalid volume name \"%s\": only "
						  "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed",
				       parts[0]);
		if (r == 0) {
			if (*parts[0])
				m.source = xstrdup(parts[0]);
			m.target = xstrdup(parts[1]);
			*out = canon(&m);
		}
		run_mount_release(&m);
		return r;
	}
	if (r == 0)
		r = check_bind_source(parts[0], e);
	if (r == 0 && !clean_abs(parts[0]))
		r = kerror_set(e, EINVAL, "invalid volume source \"%s\"", parts[0]);
	if (r == 0) {
		m.source = xstrdup(parts[0]);
		m.target = xstrdup(parts[1]);
		*out = canon(&m);
	}
	run_mount_release(&m);
	return r;
}

int run_mount_from_tmpfs(const char *spec, char **out, struct kerror *e)
{
	_cleanup_free_ char *copy = xstrdup(spec);
	struct run_mount m = { .type = xstrdup("tmpfs") };
	struct buf data = { 0 };
	char *opts = strchr(copy, ':');
	int r = 0;
	if (opts)
		*opts++ = '\0';
	if (!clean_abs(copy))
		r = kerror_set(e, EINVAL, "invalid tmpfs destination \"%s\": it must be absolute",
			       copy);
	char *save = NULL;
	for (char *o = opts ? strtok_r(opts, ",", &save) : NULL; o && r == 0;
	     o = strtok_r(NULL, ",", &save)) {
		if (!strcmp(o, "ro"))
			m.readonly = true;
		else
			r = tmpfs_opt(&data, o, e);
	}
	if (r == 0) {
		m.target = xstrdup(copy);
		m.data = buf_steal(&data);
		*out = canon(&m);
	}
	buf_release(&data);
	run_mount_release(&m);
	return r;
}

int run_mount_from_mount(const char *spec, char **out, struct kerror *e)
{
	_cleanup_free_ char *copy = xstrdup(spec);
	struct run_mount m = { 0 };
	struct buf data = { 0 };
	char *save = NULL;
	int r = 0;
	if (strlen(spec) > SPEC_MAX)
		return kerror_set(e, EINVAL, "invalid --mount \"%s\"", spec);
	for (char *o = strtok_r(copy, ",", &save); o && r == 0; o = strtok_r(NULL, ",", &save)) {
		char *v = strchr(o, '=');
		if (v)
			*v++ = '\0';
		if (!strcmp(o, "type") && v)
			free(m.type), m.type = xstrdup(v);
		else if ((!strcmp(o, "source") || !strcmp(o, "src")) && v)
			free(m.source), m.source = xstrdup(v);
		else if ((!strcmp(o, "target") || !strcmp(o, "destination") ||
			  !strcmp(o, "dst")) && v)
			free(m.target), m.target = xstrdup(v);
		else if (!strcmp(o, "ro") || !strcmp(o, "readonly"))
			m.readonly = !v || !strcmp(v, "true") || !strcmp(v, "1");
		else if (!strcmp(o, "rw"))
			m.readonly = false;
		else if (!strcmp(o, "relabel") || !strcmp(o, "bind-propagation") ||
			 !strcmp(o, "z") || !strcmp(o, "Z") || !strcmp(o, "volume-nocopy"))
			;
		else if (v && str_has_prefix(o, "tmpfs-")) {
			_cleanup_free_ char *kv = xasprintf("%s=%s", o, v);
			r = tmpfs_opt(&data, kv, e);
		} else
			r = kerror_set(e, EINVAL, "unknown --mount option \"%s\"", o);
	}
	if (r == 0 && (!m.type || (strcmp(m.type, "bind") && strcmp(m.type, "tmpfs") &&
				   strcmp(m.type, "volume"))))
		r = kerror_set(e, EINVAL, "--mount type \"%s\" is not supported (bind, volume, "
					  "tmpfs)", m.type ? m.type : "");
	if (r == 0 && !strcmp(m.type, "volume") && m.source &&
	    !store_volume_name_valid(m.source))
		r = kerror_set(e, EINVAL, "invalid volume name \"%s\"", m.source);
	if (r == 0 && !clean_abs(m.target))
		r = kerror_set(e, EINVAL, "--mount needs an absolute target: \"%s\"", spec);
	if (r == 0 && !strcmp(m.type, "bind")) {
		r = check_bind_source(m.source, e);
		if (r == 0 && !clean_abs(m.source))
			r = kerror_set(e, EINVAL, "invalid bind source \"%s\"", m.source);
	}
	if (r == 0 && !strcmp(m.type, "tmpfs")) {
		free(m.source);
		m.source = NULL;
		m.data = buf_steal(&data);
	}
	if (r == 0)
		*out = canon(&m);
	buf_release(&data);
	run_mount_release(&m);
	return r;
}

int run_mount_parse(const char *c, struct run_mount *out, struct kerror *e)
{
	_cleanup_free_ char *copy = xstrdup(c);
	struct buf data = { 0 };
	char *save = NULL;
	memset(out, 0, sizeof(*out));
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		char *v = strchr(o, '=');
		if (v)
			*v++ = '\0';
		if (!strcmp(o, "type") && v && !out->type)
			out->type = xstrdup(v);
		else if (!strcmp(o, "source") && v && !out->source)
			out->source = xstrdup(v);
		else if (!strcmp(o, "target") && v && !out->target)
			out->target = xstrdup(v);
		else if (!strcmp(o, "volume") && v && !out->volume)
			out->volume = xstrdup(v);
		else if (!strcmp(o, "ro") && !v)
			out->readonly = true;
		else if ((!strcmp(o, "size") || !strcmp(o, "mode")) && v)
			buf_printf(&data, "%s%s=%s", data.len ? "," : "", o, v);
	}
	out->data = buf_steal(&data);
	if (!out->type || !clean_abs(out->target) ||
	    (strcmp(out->type, "bind") && strcmp(out->type, "tmpfs")) ||
	    (!strcmp(out->type, "bind") && !clean_abs(out->source))) {
		run_mount_release(out);
		return kerror_set(e, EINVAL, "invalid mount \"%s\" in the plan", c);
	}
	return 0;
}

int mounts_clone_sources(char *const *mounts, int *trees, struct kerror *e)
{
	size_t n = strv_len(mounts);
	for (size_t i = 0; i < n; i++) {
		struct run_mount m;
		int r = run_mount_parse(mounts[i], &m, e);
		trees[i] = -1;
		if (r < 0)
			return r;
		if (!strcmp(m.type, "bind")) {
			trees[i] = open_tree(AT_FDCWD, m.source,
					     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
			if (trees[i] < 0) {
				r = kerror_sys(e, errno, "cloning the mount of \"%s\"", m.source);
				run_mount_release(&m);
				return r;
			}
			/* a volume is made read-only after its first-mount copy */
			if (m.readonly && !m.volume) {
				struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
				if (syscall(SYS_mount_setattr, trees[i], "",
					    AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0) {
					r = kerror_sys(e, errno, "making \"%s\" read-only",
						       m.source);
					run_mount_release(&m);
					return r;
				}
			}
		}
		run_mount_release(&m);
	}
	return 0;
}

/* The target inside the root ("/" after pivot_root), created if missing
 * (a directory, or an empty file for a file source); an O_PATH fd.  Every
 * lookup is an openat2 with RESOLVE_IN_ROOT from the root, so "..",
 * absolute and relative symlinks all stay inside it; a dangling symlink on
 * the way is followed by creating its target inside the root, as runc's
 * securejoin does. */
static int open_target_at(int root, const char *target, bool file, int depth, struct kerror *e)
{
	int fd = fs_open_in_root(root, target, O_PATH);
	if (fd >= 0 || errno != ENOENT)
		goto done;
	if (depth > 40)
		return kerror_set(e, ELOOP, "mount target \"%s\": too many levels of symbolic "
					    "links", target);
	{
		_cleanup_free_ char *parent = xstrdup(target);
		char *slash = strrchr(parent, '/');
		const char *last = target + (slash - parent) + 1;
		_cleanup_close_ int pfd = -1;
		struct stat st;
		*slash = '\0';
		pfd = *parent ? open_target_at(root, parent, false, depth + 1, e)
			      : fcntl(root, F_DUPFD_CLOEXEC, 3);
		if (pfd < 0)
			return pfd < -1 ? pfd : kerror_sys(e, errno, "resolving the root");
		if (!*last || !strcmp(last, ".") || !strcmp(last, ".."))
			return kerror_set(e, EINVAL, "invalid mount target \"%s\"", target);
		int r = 0;
		if (file) {
			int t = openat(pfd, last, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
							  O_CLOEXEC, 0644);
			if (t >= 0)
				close(t);
			else
				r = -errno;
		} else if (mkdirat(pfd, last, 0755) < 0) {
			r = -errno;
		}
		if (r == -EEXIST && fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode)) {
			char link[4096];
			ssize_t n = readlinkat(pfd, last, link, sizeof(link) - 1);
			if (n <= 0)
				return kerror_sys(e, errno, "reading the link \"%s\"", target);
			link[n] = '\0';
			_cleanup_free_ char *next = link[0] == '/' ? xstrdup(link)
								  : xasprintf("%s/%s", parent, link);
			int t = open_target_at(root, next, file, depth + 1, e);
			if (t < 0)
				return t;
			close(t);
		}
		fd = fs_open_in_root(root, target, O_PATH);
	}
done:
	if (fd < 0)
		return kerror_sys(e, errno, "mount target \"%s\" in the container", target);
	return fd;
}

static int open_target(const char *target, bool file, struct kerror *e)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return kerror_sys(e, errno, "opening the container's root");
	return open_target_at(root, target, file, 0, e);
}

int mounts_move_tree(int tree, const char *target, bool file, struct kerror *e)
{
	_cleanup_close_ int tfd = open_target(target, file, e);
	if (tfd < 0)
		return tfd;
	if (move_mount(tree, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return kerror_sys(e, errno, "bind-mounting on \"%s\"", target);
	return 0;
}

int mounts_apply(char *const *mounts, int *trees, struct kerror *e)
{
	size_t n = strv_len(mounts);
	for (size_t i = 0; i < n; i++) {
		struct run_mount m;
		_cleanup_close_ int tfd = -1, fsfd = -1, mfd = -1;
		int r = run_mount_parse(mounts[i], &m, e);
		if (r < 0)
			return r;
		if (trees[i] >= 0) {
			struct stat st;
			bool file = fstat(trees[i], &st) == 0 && !S_ISDIR(st.st_mode);
			if (m.volume && !file)
				r = volume_copy_up(trees[i], m.target, e);
			if (r == 0 && m.volume && m.readonly) {
				struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
				if (syscall(SYS_mount_setattr, trees[i], "",
					    AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
					r = kerror_sys(e, errno, "making \"%s\" read-only", m.target);
			}
			if (r == 0)
				r = mounts_move_tree(trees[i], m.target, file, e);
			close(trees[i]);
			trees[i] = -1;
		} else {
			tfd = open_target(m.target, false, e);
			if (tfd < 0) {
				r = tfd;
				goto next;
			}
			fsfd = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
			if (fsfd < 0) {
				r = kerror_sys(e, errno, "creating a tmpfs");
				goto next;
			}
			char *save = NULL;
			for (char *o = m.data ? strtok_r(m.data, ",", &save) : NULL; o;
			     o = strtok_r(NULL, ",", &save)) {
				char *v = strchr(o, '=');
				if (!v)
					continue;
				*v++ = '\0';
				if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, o, v, 0) < 0) {
					r = kerror_sys(e, errno, "tmpfs option %s=%s", o, v);
					goto next;
				}
			}
			if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
				r = kerror_sys(e, errno, "creating the tmpfs for \"%s\"", m.target);
				goto next;
			}
			mfd = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC,
					   MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
						   (m.readonly ? MOUNT_ATTR_RDONLY : 0));
			if (mfd < 0 || move_mount(mfd, "", tfd, "",
						  MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
				r = kerror_sys(e, errno, "mounting a tmpfs on \"%s\"", m.target);
		}
next:
		run_mount_release(&m);
		if (r < 0)
			return r;
	}
	return 0;
}
