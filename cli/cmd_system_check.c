/* kiln system check [--repair] [--quick], kiln system reset [-f]. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "cli/cli.h"
#include "cli/container.h"

/* Exit code of a check that found problems it did not repair (fsck's
 * "errors left uncorrected" is 4; podman exits 1 on any failure, kiln's
 * own errors 125: 1 keeps "found problems" apart from "could not check"). */
#define EXIT_CHECK_PROBLEMS 1

int cmd_system_check(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "repair", no_argument, NULL, 'r' },
		{ "quick", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_check_opts o = { 0 };
	struct store_check_report rep = { 0 };
	struct store *s;
	size_t left = 0;
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "rqh", opts, e)) != -1) {
		switch (opt) {
		case 'r': o.repair = true; break;
		case 'q': o.quick = true; break;
		case 'h':
			return cli_usage("kiln system check [OPTIONS]",
					 "  -q, --quick    Skip re-hashing blobs and layer contents\n"
					 "  -r, --repair   Remove or rebuild what is damaged\n");
		default: return -EINVAL;
		}
	}
	if (optind < argc)
		return kerror_set(e, EINVAL, "\"kiln system check\" accepts no arguments");
	r = cli_store(c, &s, e);
	if (r == 0)
		r = store_check(s, &o, &rep, e);
	if (r < 0) {
		store_check_report_release(&rep);
		return r;
	}
	for (size_t i = 0; i < rep.n; i++) {
		printf("%s%s\n", rep.problems[i], rep.repaired[i] ? " (repaired)" : "");
		if (!rep.repaired[i])
			left++;
	}
	if (rep.n == 0)
		printf("No problems found\n");
	else
		printf("%zu problem%s found, %zu repaired\n", rep.n, rep.n == 1 ? "" : "s",
		       rep.n - left);
	store_check_report_release(&rep);
	if (left) {
		c->exit_code = EXIT_CHECK_PROBLEMS;
		return kerror_set(e, EUCLEAN, "the store has %zu problem%s%s", left,
				  left == 1 ? "" : "s",
				  o.repair ? "" : ": run `kiln system check --repair` to fix them");
	}
	return 0;
}

/* Detaches every mount under dir (a container's rootfs, a volume), deepest
 * first, so that removing the tree never reaches through a mount. */
static void umount_under(const char *dir)
{
	_cleanup_free_ char *data = NULL;
	_cleanup_strv_ char **mounts = xcalloc(1, sizeof(char *));
	size_t len, plen = strlen(dir);

	if (fs_read_file("/proc/self/mounts", 16 << 20, &data, &len, NULL) < 0)
		return;
	for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
		char *sp = strchr(line, ' '), *end;
		if (!sp || !(end = strchr(sp + 1, ' ')))
			continue;
		*end = '\0';
		if (strncmp(sp + 1, dir, plen) == 0 && sp[1 + plen] == '/')
			strv_push(&mounts, xstrdup(sp + 1));
	}
	for (size_t n = strv_len(mounts); n > 0; n--)
		umount2(mounts[n - 1], MNT_DETACH);
}

/* Deletes what dir holds, not dir itself (it may be a mount point, or
 * have been given with --root). */
static int wipe(const char *dir, struct kerror *e)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return errno == ENOENT ? 0 : kerror_sys(e, errno, "opening \"%s\"", dir);
	umount_under(dir);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    fs_rm_rf_at(dirfd(d), de->d_name, e) < 0)
			return kerror_wrap(e, "removing \"%s/%s\"", dir, de->d_name);
	return 0;
}

int cmd_system_reset(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ char *root = NULL, *runroot = NULL;
	bool force = false;
	struct store *s;
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "fh", opts, e)) != -1) {
		switch (opt) {
		case 'f': force = true; break;
		case 'h':
			return cli_usage("kiln system reset [OPTIONS]",
					 "  -f, --force   Do not prompt for confirmation\n");
		default: return -EINVAL;
		}
	}
	if (optind < argc)
		return kerror_set(e, EINVAL, "\"kiln system reset\" accepts no arguments");
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	root = xstrdup(store_root(s));
	runroot = xstrdup(store_runroot(s));
	if (!force) {
		_cleanup_free_ char *w = xasprintf(
			"WARNING! This will remove:\n  - all containers\n  - all images\n"
			"  - all build cache\n  - all volumes\n"
			"  - the store %s and the state in %s",
			root, runroot);
		if (!cli_confirm(w))
			return 0;
	}
	/* Containers first, the way `kiln rm -af` does it (running ones are
	 * killed, their monitors reap them); a failure here does not stop
	 * the wipe. */
	{
		_cleanup_kerror_ struct kerror ue = { 0 }, re = { 0 };
		char *unpause[] = { (char *)"unpause", (char *)"-a", NULL };
		char *rm[] = { (char *)"rm", (char *)"-af", NULL };
		FILE *saved = stdout;
		stdout = fopen("/dev/null", "w");
		optind = 0;
		cmd_unpause(c, 2, unpause, &ue);
		optind = 0;
		if (cmd_rm(c, 2, rm, &re) < 0)
			fprintf(stderr, "Warning: removing the containers: %s\n", re.msg);
		/* Pods and user-defined networks own host state (bridges, nft
		 * rules, address claims) that wiping the store would leak. */
		{
			_cleanup_kerror_ struct kerror pe = { 0 }, ne = { 0 };
			char *pod_rm[] = { (char *)"pod", (char *)"rm", (char *)"-af", NULL };
			char *net_prune[] = { (char *)"network", (char *)"prune", (char *)"-f", NULL };
			optind = 0;
			if (cmd_pod(c, 3, pod_rm, &pe) < 0)
				fprintf(stderr, "Warning: removing the pods: %s\n", pe.msg);
			optind = 0;
			if (cmd_network(c, 3, net_prune, &ne) < 0)
				fprintf(stderr, "Warning: removing the networks: %s\n", ne.msg);
		}
		if (stdout)
			fclose(stdout);
		stdout = saved;
	}
	/* A syncer still running holds the store open (a store on its own
	 * filesystem could not be unmounted after the reset). */
	{
		_cleanup_kerror_ struct kerror we = { 0 };
		store_sync_wait(c->store, &we);
	}
	store_close(c->store);
	c->store = NULL;
	r = wipe(root, e);
	if (r == 0 && strcmp(runroot, root) != 0)
		r = wipe(runroot, e);
	return r;
}
