#include <errno.h>
#include "cli/registry_flags.h"
int cmd_push(struct cli *c, int argc, char **argv, struct kerror *e)
{
	(void)c; (void)argc; (void)argv;
	return kerror_set(e, ENOTSUP, "push: not yet");
}
