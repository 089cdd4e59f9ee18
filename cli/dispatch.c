/* Command groups ("kiln network COMMAND", "kiln volume COMMAND", …): one
 * table of sub-commands each, one dispatcher. */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"

static void list_commands(FILE *out, const char *group, const char *title,
			  const struct command *cmds, size_t n)
{
	int width = 10;
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(cmds[i].name) + 1 > width)
			width = (int)strlen(cmds[i].name) + 1;
	fprintf(out, "Usage: kiln %s COMMAND\n\n%s\n\nCommands:\n", group, title);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %-*s %s\n", width, cmds[i].name, cmds[i].summary);
}

int cli_dispatch(struct cli *c, int argc, char **argv, const char *group, const char *title,
		 const struct command *cmds, size_t n, struct kerror *e)
{
	if (argc < 2) {
		list_commands(stderr, group, title, cmds, n);
		return kerror_set(e, EINVAL, "missing command 'kiln %s COMMAND'", group);
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		list_commands(stdout, group, title, cmds, n);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(cmds[i].name, argv[1])) {
			optind = 0; /* the sub-command parses its own flags */
			return cmds[i].fn(c, argc - 1, argv + 1, e);
		}
	return kerror_set(e, EINVAL, "unrecognized command `kiln %s %s`", group, argv[1]);
}
