/* kiln save [-o FILE] [--format FORMAT] IMAGE...: images to an archive. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const char save_usage[] = "kiln save [OPTIONS] IMAGE [IMAGE...]";
static const char save_options[] =
	"      --format string   Save image to docker-archive, oci-archive (OCI-compliant\n"
	"                        archive), oci-dir (OCI layout directory) or docker-dir\n"
	"                        (directory with v2s2 manifest) (default \"docker-archive\")\n"
	"  -m, --multi-image-archive   Accepted for Podman compatibility (always on)\n"
	"  -o, --output string   Write to a file, instead of STDOUT\n"
	"  -q, --quiet           Suppress the output\n";

int cmd_save(struct cli *c, int argc, char **argv, struct kerror *e)
{
	enum { OPT_FORMAT = 256 };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "multi-image-archive", no_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum archive_format fmt = ARCHIVE_DOCKER;
	const char *output = NULL;
	struct store *s;
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "o:mqh", opts, e)) != -1) {
		switch (opt) {
		case 'o': output = optarg; break;
		case OPT_FORMAT:
			r = archive_format_parse(optarg, &fmt, e);
			if (r < 0)
				return r;
			break;
		case 'm':
		case 'q': break;
		case 'h': return cli_usage(save_usage, save_options);
		default: return -EINVAL;
		}
	}
	if (argc - optind < 1)
		return kerror_set(e, EINVAL, "\"kiln save\" requires at least 1 argument\n"
					     "See 'kiln save --help'.");
	if (output && !*output)
		output = NULL;
	if (!output && archive_format_is_dir(fmt))
		return kerror_set(e, EINVAL, "--format %s needs a directory given with -o",
				  fmt == ARCHIVE_OCI_DIR ? "oci-dir" : "docker-dir");
	if (!output && isatty(STDOUT_FILENO))
		return kerror_set(e, EINVAL,
				  "cowardly refusing to save to a terminal. Use the -o flag or "
				  "redirect");
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	if (output)
		r = store_archive_save_path(s, argv + optind, fmt, output, e);
	else {
		fflush(stdout);
		r = store_archive_save_fd(s, argv + optind, fmt, STDOUT_FILENO, e);
	}
	for (int i = optind; r == 0 && i < argc; i++)
		store_image_event(s, "save", argv[i], argv[i]);
	return r;
}
