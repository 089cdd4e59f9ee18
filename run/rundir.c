/* A container's run directory, <runroot>/containers/<id>, set up again at
 * every start: the runroot is a tmpfs (/run/kiln) that a reboot empties.
 * Besides the monitor's lock and exit files it holds
 * - hosts, hostname, resolv.conf, generated at each start and bind-mounted
 *   over the rootfs's files (as Podman does from its run dir): writable by
 *   the container, never in its upper dir, so never in diff, commit or
 *   export, and none of them costs an inode on the store's disk;
 * - merged/, the overlay's mount point;
 * - init/, the overlay's top lower layer: etc/ with the image's /etc's
 *   mode, owner and times and empty files as mount points for those three,
 *   so that an image without them needs no copy-up of /etc into the upper
 *   dir (Docker's init layer, on the tmpfs). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/run_private.h"

static const char *const etc_files[] = { "hosts", "hostname", "resolv.conf" };

char *run_merged_dir(struct store *s, const char *id)
{
	_cleanup_free_ char *rd = store_container_rundir(s, id);
	return xasprintf("%s/merged", rd);
}

char *run_etc_file(struct store *s, const char *id, const char *name)
{
	_cleanup_free_ char *rd = store_container_rundir(s, id);
	return xasprintf("%s/%s", rd, name);
}

char *run_init_layer(struct store *s, const char *id)
{
	_cleanup_free_ char *rd = store_container_rundir(s, id);
	_cleanup_free_ char *etc = xasprintf("%s/init/etc", rd);
	/* The path goes into the overlay's options as it is: none of the
	 * characters that separate or escape them. */
	if (access(etc, F_OK) < 0 || strpbrk(rd, ",:\\"))
		return NULL;
	return xasprintf("%s/init", rd);
}

int run_write_small(const char *path, const char *data, struct kerror *e)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
				      0644);
	if (fd < 0 || fs_write_all(fd, data, strlen(data)) < 0)
		return kerror_sys(e, errno, "writing \"%s\"", path);
	return 0;
}

/* The image's /etc as overlay shows it: the top-most layer that has it
 * decides.  1 (and its stat) for a plain directory, 0 when no layer has
 * it, -1 for a symlink, a whiteout or anything else. */
static int image_etc(const char *root, char *const *layers, struct stat *st)
{
	for (size_t i = strv_len(layers); i-- > 0;) {
		_cleanup_free_ char *p = xasprintf("%s/layers/%s/diff/etc", root, layers[i]);
		if (lstat(p, st) == 0)
			return S_ISDIR(st->st_mode) ? 1 : -1;
		if (errno != ENOENT)
			return -1;
	}
	return 0;
}

/* init/etc with empty mount points.  Best effort: without it (an image
 * whose /etc is a symlink, a chown refused) the mount points are made
 * through the overlay, in the upper dir. */
static void init_layer(struct store *s, const char *rd, const struct run_plan *p)
{
	_cleanup_free_ char *init = xasprintf("%s/init", rd);
	_cleanup_free_ char *etc = xasprintf("%s/init/etc", rd);
	struct stat st = { .st_mode = S_IFDIR | 0755 };
	int has = image_etc(store_root(s), p->layers, &st);
	_cleanup_close_ int fd = -1;

	if (has < 0 || access(etc, F_OK) == 0)
		return;
	if (mkdir(init, 0755) < 0 && errno != EEXIST)
		return;
	if (mkdir(etc, 0700) < 0)
		goto fail;
	fd = open(etc, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	for (size_t i = 0; i < ARRAY_SIZE(etc_files); i++) {
		int f = openat(fd, etc_files[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (f < 0)
			goto fail;
		close(f);
	}
	if (fchown(fd, st.st_uid, st.st_gid) < 0 || fchmod(fd, st.st_mode & 07777) < 0)
		goto fail;
	if (has) {
		struct timespec t[2] = { st.st_atim, st.st_mtim };
		futimens(fd, t);
	}
	return;
fail:
	log_debug("no init layer for %s: %m", rd);
	{
		_cleanup_kerror_ struct kerror e = { 0 };
		fs_rm_rf(init, &e);
	}
}

int run_prepare_start(struct store *s, const struct container_info *c,
		      const struct run_plan *p, struct kerror *e)
{
	_cleanup_free_ char *rd = store_container_rundir(s, c->id);
	_cleanup_free_ char *merged = xasprintf("%s/merged", rd);
	_cleanup_free_ char *hosts = NULL, *resolv = NULL, *hostname = NULL;
	_cleanup_free_ char *host_resolv = NULL, *host_hosts = NULL;
	struct run_etc_opts eo = { .dns = p->dns, .dns_search = p->dns_search,
				   .dns_options = p->dns_options, .add_hosts = p->add_hosts,
				   .hostname = p->hostname, .name = c->name,
				   .network_host = p->network_host };
	const char *data[ARRAY_SIZE(etc_files)];
	size_t len;
	int r = fs_mkdir_p(rd, 0700, e);

	if (r < 0)
		return r;
	if (mkdir(merged, 0700) < 0 && errno != EEXIST)
		return kerror_sys(e, errno, "creating \"%s\"", merged);
	/* The host's resolver configuration, as Podman copies it, with the
	 * --dns* flags applied. */
	fs_read_file("/etc/resolv.conf", 64 * 1024, &host_resolv, &len, NULL);
	if (p->network_host)
		fs_read_file("/etc/hosts", 1024 * 1024, &host_hosts, &len, NULL);
	resolv = run_etc_resolv(host_resolv, &eo);
	hosts = run_etc_hosts(host_hosts, &eo);
	hostname = xasprintf("%s\n", p->hostname);
	data[0] = hosts;
	data[1] = hostname;
	data[2] = resolv;
	for (size_t i = 0; i < ARRAY_SIZE(etc_files) && r == 0; i++) {
		_cleanup_free_ char *f = xasprintf("%s/%s", rd, etc_files[i]);
		/* in place: the network code rewrites hosts in place too
		 * (a bind mount pins the inode) */
		r = run_write_small(f, data[i], e);
	}
	if (r == 0 && !p->rootfs && !p->rootfs_copy)
		init_layer(s, rd, p);
	return r;
}
