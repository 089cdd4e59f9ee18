/* kiln image sign --sign-by FINGERPRINT [--all] [--directory DIR]
 * docker://IMAGE...: simple signatures for images already in a registry,
 * written to the lookaside staging (podman image sign). */
#include <errno.h>
#include <string.h>

#include "cli/registry_flags.h"

static const char sign_usage[] = "kiln image sign [OPTIONS] IMAGE [IMAGE...]";
static const char sign_options[] =
	"  -a, --all                  Sign all the manifests of the multi-architecture image\n"
	"  -d, --directory string     Define an alternate directory to store signatures\n"
	"      --registries.d DIR     Use registries.d files in DIR for signature storage\n"
	"      --sign-by string       Name of the signing key (fingerprint)\n"
	"      --sign-by-sigstore-private-key FILE  Sign with this sigstore private key (.sig attachment)\n"
	"      --sign-passphrase-file FILE  Read the signing key's passphrase from FILE\n"
	REGISTRY_OPTIONS_HELP;

int cmd_image_sign(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "directory", required_argument, NULL, 'd' },
		{ "registries.d", required_argument, NULL, SFLAG_REGISTRIES_D },
		{ "sign-by", required_argument, NULL, SFLAG_SIGN_BY },
		{ "sign-by-sigstore-private-key", required_argument, NULL, SFLAG_SIGSTORE_KEY },
		{ "sign-passphrase-file", required_argument, NULL, SFLAG_PASSPHRASE },
		{ "help", no_argument, NULL, 'h' },
		REGISTRY_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct image_sign_opts o = { .reg = REGISTRY_OPTS_INIT };
	int opt, r;

	(void)c;
	while ((opt = cli_getopt(argc, argv, "ad:h", opts, e)) != -1) {
		r = registry_flag(opt, optarg, &o.reg, e);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		switch (opt) {
		case 'a': o.all = true; break;
		case 'd': o.directory = optarg; break;
		case SFLAG_REGISTRIES_D: o.registries_d = optarg; break;
		case SFLAG_SIGN_BY: o.sign_by = optarg; break;
		case SFLAG_SIGSTORE_KEY: o.sigstore_key = optarg; break;
		case SFLAG_PASSPHRASE: o.passphrase_file = optarg; break;
		case 'h': return cli_usage(sign_usage, sign_options);
		default: return -EINVAL;
		}
	}
	if (argc - optind < 1)
		return kerror_set(e, EINVAL, "\"kiln image sign\" requires at least 1 argument\n"
					     "See 'kiln image sign --help'.");
	if (!o.sign_by && !o.sigstore_key)
		return kerror_set(e, EINVAL, "no signing key: --sign-by or "
					     "--sign-by-sigstore-private-key is required");
	for (int i = optind; i < argc; i++) {
		if (!str_has_prefix(argv[i], "docker://"))
			return kerror_set(e, EINVAL, "%s: only docker:// images can be signed",
					  argv[i]);
		r = registry_sign_image(&o, argv[i], e);
		if (r < 0)
			return r;
	}
	return 0;
}
