/* kiln container SUBCOMMAND, and the helpers the container commands share. */
#include <errno.h>
#include <string.h>

#include "cli/container.h"

static const struct command container_commands[] = {
	{ "attach", cmd_attach, "Attach to a running container" },
	{ "commit", cmd_commit, "Create a new image from a container's changes" },
	{ "cp", cmd_cp, "Copy files/folders between a container and the local filesystem" },
	{ "create", cmd_create, "Create but do not start a container" },
	{ "diff", cmd_diff, "Inspect changes to a container's filesystem" },
	{ "exec", cmd_exec, "Run a process in a running container" },
	{ "export", cmd_export, "Export a container's filesystem contents as a tar archive" },
	{ "inspect", cmd_container_inspect, "Display the configuration of a container" },
	{ "kill", cmd_kill, "Kill one or more running containers with a specific signal" },
	{ "list", cmd_ps, "List containers" },
	{ "logs", cmd_logs, "Fetch the logs of one or more containers" },
	{ "mount", cmd_mount, "Mount a working container's root filesystem" },
	{ "stats", cmd_stats, "Display a live stream of container resource usage statistics" },
	{ "top", cmd_top, "Display the running processes of a container" },
	{ "umount", cmd_unmount, "Unmount working container's root filesystem" },
	{ "unmount", cmd_unmount, "Unmount working container's root filesystem" },
	{ "pause", cmd_pause, "Pause all the processes in one or more containers" },
	{ "prune", cmd_container_prune, "Remove all stopped containers" },
	{ "ls", cmd_ps, "List containers" },
	{ "ps", cmd_ps, "List containers" },
	{ "rename", cmd_rename, "Rename an existing container" },
	{ "restart", cmd_restart, "Restart one or more containers" },
	{ "rm", cmd_rm, "Remove one or more containers" },
	{ "run", cmd_run, "Run a command in a new container" },
	{ "start", cmd_start, "Start one or more containers" },
	{ "stop", cmd_stop, "Stop one or more containers" },
	{ "unpause", cmd_unpause, "Unpause the processes in one or more containers" },
	{ "wait", cmd_wait, "Block on one or more containers" },
};

int cmd_container(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return CLI_DISPATCH(c, argc, argv, "container", "Manage containers", container_commands, e);
}

int container_get(struct cli *c, const char *what, struct container_info **out,
		  struct kerror *e)
{
	struct store *s;
	int r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	r = store_container_get(s, what, out, e);
	if (r < 0)
		return r;
	r = run_state_refresh(s, *out, e);
	if (r < 0) {
		container_info_free(*out);
		*out = NULL;
	}
	return r;
}

int container_detach(struct cli *c, struct container_info *ctr, const struct run_plan *p,
		     bool remove, int restarts, int *code, struct kerror *e)
{
	struct store *s;
	int r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *root = xstrdup(store_root(s));
	_cleanup_free_ char *runroot = xstrdup(store_runroot(s));
	_cleanup_free_ char *driver = xstrdup(store_driver(s));
	struct store_opts so = { .root = root, .runroot = runroot, .driver = driver };
	/* No SQLite connection may cross the monitor's fork. */
	store_close(c->store);
	c->store = NULL;
	return run_detached(&so, ctr, p, remove, restarts, code, e);
}
