/* kiln build: for now only --dump-ast (the build engine is issue 7). */
#include <errno.h>
#include <string.h>

#include "build/build.h"
#include "cli/cli.h"

#define CONTAINERFILE_MAX (16 * 1024 * 1024)

static int dump_ast(const char *path, struct kerror *e)
{
	_cleanup_free_ char *data = NULL;
	_cleanup_containerfile_ struct containerfile *cf = NULL;
	struct buf out = { 0 };
	size_t len;
	int r;

	if (strcmp(path, "-") == 0)
		r = fs_read_fd(STDIN_FILENO, CONTAINERFILE_MAX, "stdin", &data, &len, e);
	else
		r = fs_read_file(path, CONTAINERFILE_MAX, &data, &len, e);
	if (r < 0)
		return r;
	r = containerfile_parse(data, len, strcmp(path, "-") ? path : "stdin", &cf, e);
	if (r < 0)
		return r;
	containerfile_dump_ast(cf, &out);
	if (out.data)
		fputs(out.data, stdout);
	buf_release(&out);
	return 0;
}

int cmd_build(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "dump-ast", required_argument, NULL, 'D' },
		{ "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ast = NULL;
	int opt;

	(void)c;
	while ((opt = cli_getopt(argc, argv, "f:h", opts, e)) != -1) {
		switch (opt) {
		case 'D': ast = optarg; break;
		case 'f': break;
		case 'h':
			return cli_usage("kiln build [OPTIONS] CONTEXT",
					 "      --dump-ast FILE   Print the parse tree of a Containerfile "
					 "(the reference parser's test format) and exit\n");
		default: return -EINVAL;
		}
	}
	if (ast)
		return dump_ast(ast, e);
	return kerror_set(e, ENOSYS, "kiln build is not implemented yet (only --dump-ast)");
}
