/* The container's root filesystem: the overlay, pivot_root, and the
 * kernel filesystems mounted the way Podman mounts them.  Everything after
 * pivot_root resolves paths inside the container's root, so a symlink in
 * the image cannot point a mount at the host. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "run/run_private.h"

#define OPTS_MAX 4000 /* under the one-page limit of mount(2) data */

/* Podman's masked and read-only paths (containers/common). */
static const char *const masked[] = {
	"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/sched_debug",
	"/proc/scsi", "/proc/timer_list", "/proc/timer_stats", "/sys/dev/block",
	"/sys/devices/virtual/powercap", "/sys/firmware", "/sys/fs/selinux", "/proc/interrupts",
};
static const char *const readonly[] = {
	"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

const char *const *rootfs_masked_paths(size_t *n)
{
	*n = ARRAY_SIZE(masked);
	return masked;
}

const char *const *rootfs_readonly_paths(size_t *n)
{
	*n = ARRAY_SIZE(readonly);
	return readonly;
}

char *rootfs_overlay_options(const char *init, char *const *layers, const char *upper,
			     const char *work)
{
	struct buf b = { 0 };
	size_t n = strv_len(layers);
	buf_printf(&b, "lowerdir=%s", init ? init : "");
	for (size_t i = n; i-- > 0;)
		buf_printf(&b, "%s%s/diff", i + 1 == n && !init ? "" : ":", layers[i]);
	/* volatile: no syncs of the upper dir, above all none when the
	 * container's mount namespace goes away (that umount would flush the
	 * host filesystem on every run). */
	buf_printf(&b, ",upperdir=%s,workdir=%s,volatile%s", upper, work, fs_overlay_extra_opts());
	return buf_steal(&b);
}

static int do_mount(const char *src, const char *dst, const char *type, unsigned long flags,
		    const char *data, struct kerror *e)
{
	if (mount(src, dst, type, flags, data) < 0)
		return kerror_sys(e, errno, "mounting %s on \"%s\"", type ? type : src, dst);
	return 0;
}

static void ensure_dir(const char *path)
{
	mkdir(path, 0755);
}

bool rootfs_is_mountpoint(const char *path)
{
	struct statx stx;
	return statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) == 0 &&
	       (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

int rootfs_mount_overlay(struct store *s, const char *id, const struct run_plan *p,
			 struct kerror *e)
{
	_cleanup_free_ char *layers = xasprintf("%s/layers", store_root(s));
	_cleanup_free_ char *cdir = store_container_dir(s, id);
	_cleanup_free_ char *upper = xasprintf("../containers/%s/upper", id);
	_cleanup_free_ char *work = xasprintf("../containers/%s/work", id);
	_cleanup_free_ char *merged = run_merged_dir(s, id);
	_cleanup_free_ char *init = NULL;
	_cleanup_free_ char *opts = NULL;

	if (p->rootfs_copy) {
		_cleanup_free_ char *copy = xasprintf("%s/rootfs", cdir);
		if (mount(copy, merged, NULL, MS_BIND | MS_REC, NULL) < 0)
			return kerror_sys(e, errno, "bind-mounting the rootfs \"%s\"", copy);
		return 0;
	}
	if (p->rootfs) {
		/* --rootfs: the directory itself is the root (writes land in
		 * it), as Podman does without ":O". */
		if (mount(p->rootfs, merged, NULL, MS_BIND | MS_REC, NULL) < 0)
			return kerror_sys(e, errno, "bind-mounting the rootfs \"%s\"", p->rootfs);
		return 0;
	}
	for (size_t i = 0; p->layers[i]; i++)
		if (strlen(p->layers[i]) != DIGEST_HEX_LEN || strchr(p->layers[i], '/'))
			return kerror_set(e, EINVAL, "invalid layer id \"%s\"", p->layers[i]);
	init = run_init_layer(s, id);
	if (!p->layers[0] && !init) {
		/* An image without layers: one empty lower dir. */
		_cleanup_free_ char *empty = xasprintf("%s/empty", cdir);
		ensure_dir(empty);
		opts = xasprintf("lowerdir=../containers/%s/empty,upperdir=%s,workdir=%s,volatile%s",
				 id, upper, work, fs_overlay_extra_opts());
	} else {
		opts = rootfs_overlay_options(init, p->layers, upper, work);
	}
	if (strlen(opts) > OPTS_MAX)
		return kerror_set(e, E2BIG, "the image has too many layers (%zu) for one overlay "
					    "mount", strv_len(p->layers));
	/* A volatile mount that was not unmounted cleanly (a crash) leaves
	 * work/incompat/volatile, which refuses the next mount; a container's
	 * upper dir is not worth more than that. */
	{
		_cleanup_free_ char *inc = xasprintf("%s/work/work/incompat", cdir);
		struct kerror ie = { 0 };
		if (access(inc, F_OK) == 0)
			fs_rm_rf(inc, &ie);
		kerror_release(&ie);
	}
	/* Relative lower dirs are resolved from the current directory. */
	if (chdir(layers) < 0)
		return kerror_sys(e, errno, "entering \"%s\"", layers);
	return do_mount("overlay", merged, "overlay", 0, opts, e);
}

/* A directory of the new root, for a mount on it before pivot_root: created
 * if absent, never reached through a symlink (an image's /proc -> /etc
 * cannot redirect the mount).  Returns an O_PATH fd. */
static int root_subdir(int rootfd, const char *name, struct kerror *e)
{
	int fd;
	mkdirat(rootfd, name, 0755);
	fd = openat(rootfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return kerror_sys(e, errno, "opening /%s in the container's root", name);
	return fd;
}

/* /proc and /sys are mounted before pivot_root: in a user namespace the
 * kernel allows a new proc or sysfs only while one is fully visible in the
 * mount namespace (the host's, still there before the pivot).  sysfs needs
 * a network namespace of our own user namespace's; with the host network
 * in a user namespace, the host's /sys is bound read-only instead. */
static int mount_kernel_fs(const char *merged, bool network_host, struct kerror *e)
{
	_cleanup_close_ int rootfd = open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int proc = -1, sys = -1;
	char path[64];

	if (rootfd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", merged);
	if ((proc = root_subdir(rootfd, "proc", e)) < 0)
		return proc;
	if ((sys = root_subdir(rootfd, "sys", e)) < 0)
		return sys;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", proc);
	if (mount("proc", path, "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL) < 0)
		return kerror_sys(e, errno, "mounting proc on \"/proc\"");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", sys);
	if (mount("sysfs", path, "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL) == 0)
		return 0;
	if (!network_host || !fs_in_user_namespace())
		return kerror_sys(e, errno, "mounting sysfs on \"/sys\"");
	if (mount("/sys", path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return kerror_sys(e, errno, "binding the host's /sys on \"/sys\"");
	/* The bind's atime flag is locked: keep relatime.  (The fd is the
	 * directory under the new mount: remount by name.) */
	_cleanup_free_ char *sysdir = xasprintf("%s/sys", merged);
	if (mount(NULL, sysdir, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV |
		  MS_NOEXEC | MS_RELATIME, NULL) < 0)
		return kerror_sys(e, errno, "making the host's /sys read-only");
	return 0;
}

static int pivot(const char *merged, struct kerror *e)
{
	if (chdir(merged) < 0)
		return kerror_sys(e, errno, "entering \"%s\"", merged);
	/* pivot_root(".", "."): the old root ends up on top of the new one
	 * and is detached right away. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return kerror_sys(e, errno, "pivot_root into \"%s\"", merged);
	if (umount2(".", MNT_DETACH) < 0)
		return kerror_sys(e, errno, "detaching the old root");
	if (chdir("/") < 0)
		return kerror_sys(e, errno, "entering the new root");
	return 0;
}

static const struct { const char *name; unsigned maj, min; } devs[] = {
	{ "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
	{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};
#define N_DEVS ARRAY_SIZE(devs)

/* In a user namespace mknod of a device is refused: the host's nodes are
 * bound instead (as rootless Podman does), cloned before pivot_root. */
static int clone_dev_trees(int *trees, struct kerror *e)
{
	for (size_t i = 0; i < N_DEVS; i++) {
		trees[i] = open_tree(AT_FDCWD, devs[i].name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (trees[i] < 0)
			return kerror_sys(e, errno, "cloning the host's %s", devs[i].name);
	}
	return 0;
}

static int bind_tree(int tree, const char *path, struct kerror *e);

static int make_dev(int *dev_trees, int64_t shm_size, struct kerror *e)
{
	char shm_opts[64];
	static const struct { const char *target, *name; } links[] = {
		{ "/proc/self/fd", "/dev/fd" }, { "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" }, { "/proc/self/fd/2", "/dev/stderr" },
		{ "pts/ptmx", "/dev/ptmx" }, { "/proc/kcore", "/dev/core" },
	};
	int r;

	ensure_dir("/dev");
	r = do_mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME,
		     "mode=755,size=65536k", e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < N_DEVS; i++) {
		if (dev_trees[i] >= 0) {
			if ((r = bind_tree(dev_trees[i], devs[i].name, e)) < 0)
				return r;
			continue;
		}
		if (mknod(devs[i].name, S_IFCHR | 0666, makedev(devs[i].maj, devs[i].min)) < 0)
			return kerror_sys(e, errno, "creating \"%s\"", devs[i].name);
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlink(links[i].target, links[i].name) < 0)
			return kerror_sys(e, errno, "creating \"%s\"", links[i].name);
	mkdir("/dev/pts", 0755);
	mkdir("/dev/shm", 01777);
	mkdir("/dev/mqueue", 0755);
	r = do_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		     "newinstance,ptmxmode=0666,mode=0620,gid=5", e);
	if (r == -EINVAL && fs_in_user_namespace()) {
		/* gid 5 is not mapped (a single-id user namespace). */
		kerror_release(e);
		r = do_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
			     "newinstance,ptmxmode=0666,mode=0620", e);
	}
	snprintf(shm_opts, sizeof(shm_opts), "mode=1777,size=%lldk",
		 shm_size > 0 ? (long long)((shm_size + 1023) / 1024) : 65536LL);
	if (r == 0)
		r = do_mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV,
			     shm_opts, e);
	if (r == 0)
		r = do_mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV,
			     NULL, e);
	return r;
}

/* Moves a detached bind mount (open_tree clone) over path, creating an
 * empty file there if there is none.  The clone was taken before
 * pivot_root: a file of the old root cannot be bind-mounted after it. */
static int bind_tree(int tree, const char *path, struct kerror *e)
{
	struct stat st;
	/* Only a missing mount point is created: opening an image's file
	 * for writing would copy it up for nothing. */
	if (lstat(path, &st) < 0) {
		int t = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
		if (t >= 0)
			close(t);
	}
	if (move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return kerror_sys(e, errno, "mounting \"%s\"", path);
	return 0;
}

static int mask_paths(struct kerror *e)
{
	for (size_t i = 0; i < ARRAY_SIZE(masked); i++) {
		struct stat st;
		if (lstat(masked[i], &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (mount("tmpfs", masked[i], "tmpfs", MS_RDONLY, "size=0k") < 0)
				return kerror_sys(e, errno, "masking \"%s\"", masked[i]);
		} else if (mount("/dev/null", masked[i], NULL, MS_BIND, NULL) < 0) {
			return kerror_sys(e, errno, "masking \"%s\"", masked[i]);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(readonly); i++) {
		if (access(readonly[i], F_OK) < 0)
			continue;
		if (mount(readonly[i], readonly[i], NULL, MS_BIND | MS_REC, NULL) < 0 ||
		    mount(NULL, readonly[i], NULL,
			  MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL) < 0)
			return kerror_sys(e, errno, "making \"%s\" read-only", readonly[i]);
	}
	return 0;
}

static int mkdir_p_inside(const char *path)
{
	/* After pivot_root: "/" is the container's root, so a symlink on the
	 * way resolves inside it. */
	struct kerror e = { 0 };
	int r = fs_mkdir_p(path, 0755, &e);
	kerror_release(&e);
	return r;
}

int rootfs_enter(struct store *s, const char *id, const struct run_plan *p,
		 struct kerror *e)
{
	static const char *const etc[] = { "/etc/hosts", "/etc/hostname", "/etc/resolv.conf" };
	static const char *const gen[] = { "hosts", "hostname", "resolv.conf" };
	_cleanup_free_ char *merged = run_merged_dir(s, id);
	int r;

	int trees[3] = { -1, -1, -1 };
	int dev_trees[N_DEVS];

	for (size_t i = 0; i < N_DEVS; i++)
		dev_trees[i] = -1;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return kerror_sys(e, errno, "making the mounts private");
	for (size_t i = 0; i < 3; i++) {
		_cleanup_free_ char *src = run_etc_file(s, id, gen[i]);
		trees[i] = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (trees[i] < 0)
			return kerror_sys(e, errno, "cloning the mount of %s", etc[i]);
	}
	size_t n_mounts = strv_len(p->mounts);
	_cleanup_free_ int *mtrees = xcalloc(n_mounts + 1, sizeof(int));
	r = mounts_clone_sources(p->mounts, mtrees, e);
	/* kiln mount put the root filesystem in place already: the container
	 * shares that mount (as in Podman). */
	if (r == 0 && !rootfs_is_mountpoint(merged))
		r = rootfs_mount_overlay(s, id, p, e);
	if (r == 0)
		r = mount_kernel_fs(merged, p->network_host, e);
	if (r == 0 && fs_in_user_namespace())
		r = clone_dev_trees(dev_trees, e);
	if (r == 0)
		r = pivot(merged, e);
	/* In a user namespace of its own, the child kept our ids until here,
	 * which own the store's paths it had to reach (as their owner: our
	 * ids need not be mapped in it); inside, it becomes the namespace's
	 * root before it creates anything. */
	if (r == 0 && p->uid_map &&
	    (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 || run_setgroups(0, NULL) < 0))
		r = kerror_sys(e, errno, "becoming root of the container's user namespace");
	if (r == 0)
		r = make_dev(dev_trees, p->shm_size, e);
	/* The generated files over the image's, their mount points resolved
	 * inside the root (an image's /etc may be a symlink, or missing);
	 * the init layer usually has them already. */
	for (size_t i = 0; i < 3; i++) {
		if (r == 0)
			r = mounts_move_tree(trees[i], etc[i], true, e);
		close(trees[i]);
	}
	if (r < 0)
		return r;
	r = mask_paths(e);
	if (r == 0)
		r = mounts_apply(p->mounts, mtrees, e);
	if (r < 0)
		return r;
	if (mkdir_p_inside(p->cwd) < 0 && errno != EEXIST)
		return kerror_sys(e, errno, "creating the working directory \"%s\"", p->cwd);
	if (p->read_only) {
		/* Podman's --read-only-tmpfs: writable /tmp, /var/tmp, /run. */
		static const char *const tmp[] = { "/tmp", "/var/tmp", "/run" };
		for (size_t i = 0; i < ARRAY_SIZE(tmp); i++) {
			mkdir_p_inside(tmp[i]);
			r = do_mount("tmpfs", tmp[i], "tmpfs", MS_NOSUID | MS_NODEV,
				     "mode=1777", e);
			if (r < 0)
				return r;
		}
		if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
			return kerror_sys(e, errno, "making the root read-only");
	}
	return 0;
}
