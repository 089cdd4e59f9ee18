/* kiln pod: groups of containers sharing network, IPC and UTS namespaces. */
#include <errno.h>
#include <string.h>

#include "cli/container.h"

int pod_resolve_for_run(struct cli *c, struct run_cli *o, struct kerror *e)
{
	(void)c;
	return kerror_set(e, ENOTSUP, "pod \"%s\": pods are not supported yet", o->pod);
}

int cmd_pod(struct cli *c, int argc, char **argv, struct kerror *e)
{
	(void)c;
	(void)argc;
	(void)argv;
	return kerror_set(e, ENOTSUP, "pods are not supported yet");
}
