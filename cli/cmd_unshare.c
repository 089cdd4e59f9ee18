/* kiln unshare [CMD [ARG...]]: a command (default $SHELL) in kiln's user
 * namespace, where the store's files have their container owners (as
 * `podman unshare`).  main() joined the namespace before we got here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "run/run.h"

int cmd_unshare(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct store *s;
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "+h", opts, e)) != -1) {
		if (opt == 'h')
			return cli_usage("kiln unshare [options] [COMMAND [ARG...]]", "");
		return -EINVAL;
	}
	if (!getenv("KILN_ROOTLESS_UID") || !run_rootless())
		return kerror_set(e, EINVAL, "please use unshare with rootless");
	/* The store's paths, for scripts: podman's CONTAINERS_GRAPHROOT and
	 * CONTAINERS_RUNROOT. */
	if ((r = cli_store(c, &s, e)) < 0)
		return r;
	setenv("CONTAINERS_GRAPHROOT", store_root(s), 1);
	setenv("CONTAINERS_RUNROOT", store_runroot(s), 1);
	store_close(steal_pointer(&c->store));
	fflush(stdout);
	if (optind < argc) {
		execvp(argv[optind], argv + optind);
		c->exit_code = errno == ENOENT ? 127 : 126;
		return kerror_sys(e, errno, "%s", argv[optind]);
	}
	const char *sh = getenv("SHELL");
	if (!sh || !*sh)
		sh = "/bin/sh";
	execl(sh, sh, (char *)NULL);
	c->exit_code = errno == ENOENT ? 127 : 126;
	return kerror_sys(e, errno, "%s", sh);
}
