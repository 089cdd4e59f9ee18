/* kiln mount / kiln unmount (umount): a container's root filesystem in
 * the host's mount namespace, counted as Podman counts it. */
#include <errno.h>
#include <string.h>

#include "cli/container.h"

static int list_mounted(struct cli *c, bool notrunc, struct kerror *e)
{
	struct container_info **list = NULL;
	struct store *s;
	size_t n = 0;
	int r = cli_store(c, &s, e);
	if (r == 0)
		r = store_container_list(s, &list, &n, e);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (run_mount_count(s, list[i]->id) <= 0)
			continue;
		_cleanup_free_ char *dir = run_merged_dir(s, list[i]->id);
		printf("%.*s  %s\n", notrunc ? DIGEST_HEX_LEN : 12, list[i]->id, dir);
	}
	container_list_free(list, n);
	return r;
}

int cmd_mount(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "no-trunc", no_argument, NULL, 'T' },
		{ "latest", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool notrunc = false;
	int opt, r = 0;
	while ((opt = cli_getopt(argc, argv, "lh", opts, e)) != -1) {
		switch (opt) {
		case 'T': notrunc = true; break;
		case 'l': break;
		case 'h':
			return cli_usage("kiln mount [options] [CONTAINER...]",
					 "      --no-trunc   Do not truncate output\n");
		default: return -EINVAL;
		}
	}
	if (optind >= argc)
		return list_mounted(c, notrunc, e);
	for (int i = optind; i < argc && r == 0; i++) {
		_cleanup_container_info_ struct container_info *ctr = NULL;
		_cleanup_free_ char *path = NULL;
		struct store *s;
		r = container_get(c, argv[i], &ctr, e);
		if (r == 0)
			r = cli_store(c, &s, e);
		if (r == 0)
			r = run_mount_rootfs(s, ctr, &path, e);
		if (r == 0)
			printf("%s\n", path);
	}
	return r;
}

int cmd_unmount(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false, force = false;
	struct container_info **list = NULL;
	struct store *s;
	size_t n = 0;
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "afh", opts, e)) != -1) {
		switch (opt) {
		case 'a': all = true; break;
		case 'f': force = true; break;
		case 'h':
			return cli_usage("kiln unmount [options] CONTAINER [CONTAINER...]",
					 "  -a, --all     Unmount all of the currently mounted "
					 "containers\n"
					 "  -f, --force   Force the complete unmount of the specified "
					 "mounted containers\n");
		default: return -EINVAL;
		}
	}
	if (!all && optind >= argc)
		return kerror_set(e, EINVAL, "when not specifying --all, at least 1 container "
					     "must be given");
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	if (all) {
		r = store_container_list(s, &list, &n, e);
		for (size_t i = 0; r == 0 && i < n; i++) {
			if (run_mount_count(s, list[i]->id) <= 0)
				continue;
			r = run_unmount_rootfs(s, list[i], true, e);
			if (r == 0)
				printf("%s\n", list[i]->id);
		}
		container_list_free(list, n);
		return r;
	}
	for (int i = optind; i < argc && r == 0; i++) {
		_cleanup_container_info_ struct container_info *ctr = NULL;
		r = container_get(c, argv[i], &ctr, e);
		if (r == 0) {
			r = run_unmount_rootfs(s, ctr, force, e);
			if (r == -EINVAL)
				r = 0; /* not mounted: nothing to do, as Podman */
		}
		if (r == 0)
			printf("%s\n", ctr->id);
	}
	return r;
}
