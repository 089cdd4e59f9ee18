/* kiln build: for now only --dump-ast (the build engine is issue 7). */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"

int cmd_build(struct cli *c, int argc, char **argv, struct kerror *e)
{
	(void)c;
	(void)argc;
	(void)argv;
	return kerror_set(e, ENOSYS, "kiln build is not implemented yet");
}
