/* kiln push [OPTIONS] IMAGE [DESTINATION]: an image to a registry. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/registry_flags.h"

static const char push_usage[] = "kiln push [OPTIONS] IMAGE [DESTINATION]";
static const char push_options[] =
	"      --chunk-size bytes            Upload blobs larger than this in chunks (default: [engine]\n"
	"                                    chunk_size of kiln's containers.conf, else 64MiB)\n"
	"      --compression-format string   Compression format to use (gzip, zstd) (default \"gzip\")\n"
	"      --compression-level int       Compression level to use\n"
	"      --digestfile string           Write the digest of the pushed image to the specified file\n"
	"      --force-compression           Recompress layers even when they have the format\n"
	"  -f, --format string               Manifest type (oci, v2s2, or docker) to use in the destination\n"
	"  -q, --quiet                       Suppress output information when pushing images\n"
	"      --remove-signatures           Discard any pre-existing signatures in the image\n"
	"      --registries.d DIR            Use registries.d files in DIR for signature storage\n"
	SIGN_PUSH_HELP
	REGISTRY_OPTIONS_HELP;

int cmd_push(struct cli *c, int argc, char **argv, struct kerror *e)
{
	enum { OPT_COMPRESSION = 256, OPT_DIGESTFILE, OPT_CHUNK, OPT_FORCE, OPT_REMOVE_SIGS,
	       OPT_LEVEL };
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "compression-format", required_argument, NULL, OPT_COMPRESSION },
		{ "compression-level", required_argument, NULL, OPT_LEVEL },
		{ "digestfile", required_argument, NULL, OPT_DIGESTFILE },
		{ "chunk-size", required_argument, NULL, OPT_CHUNK },
		{ "force-compression", no_argument, NULL, OPT_FORCE },
		{ "remove-signatures", no_argument, NULL, OPT_REMOVE_SIGS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		REGISTRY_LONGOPTS,
		SIGN_PUSH_LONGOPTS,
		{ "registries.d", required_argument, NULL, SFLAG_REGISTRIES_D },
		{ NULL, 0, NULL, 0 },
	};
	struct push_opts o = { .reg = REGISTRY_OPTS_INIT, .progress = registry_progress_stderr,
			       .compression = COMPRESSION_UNKNOWN };
	const char *digestfile = NULL;
	char digest[DIGEST_STR_LEN + 1];
	struct tty_progress tp;
	struct store *s;
	char *end;
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "f:qh", opts, e)) != -1) {
		r = registry_flag(opt, optarg, &o.reg, e);
		if (r < 0)
			return r;
		if (r > 0 || sign_flag(opt, optarg, NULL, &o))
			continue;
		switch (opt) {
		case 'f':
			if (!strcmp(optarg, "oci"))
				o.format = PUSH_FORMAT_OCI;
			else if (!strcmp(optarg, "v2s2") || !strcmp(optarg, "docker"))
				o.format = PUSH_FORMAT_V2S2;
			else
				return kerror_set(e, EINVAL, "unknown format \"%s\": must be oci, v2s2 "
							     "or docker", optarg);
			break;
		case OPT_COMPRESSION:
			if (!strcmp(optarg, "gzip"))
				o.compression = COMPRESSION_GZIP;
			else if (!strcmp(optarg, "zstd"))
				o.compression = COMPRESSION_ZSTD;
			else
				return kerror_set(e, EINVAL, "unsupported compression format \"%s\": "
							     "gzip or zstd", optarg);
			break;
		case OPT_LEVEL:
			o.compression_level = (int)strtol(optarg, &end, 10);
			if (*end || o.compression_level < 1 || o.compression_level > 22)
				return kerror_set(e, EINVAL, "invalid --compression-level \"%s\": gzip "
							     "takes 1-9, zstd 1-22", optarg);
			break;
		case OPT_DIGESTFILE: digestfile = optarg; break;
		case OPT_CHUNK:
			o.chunk_size = strtoll(optarg, &end, 10);
			if (*end || o.chunk_size <= 0)
				return kerror_set(e, EINVAL, "invalid --chunk-size \"%s\"", optarg);
			break;
		case OPT_FORCE: o.force_compression = true; break;
		case OPT_REMOVE_SIGS: o.remove_signatures = true; break;
		case 'q': o.progress = NULL; break;
		case 'h': return cli_usage(push_usage, push_options);
		default: return -EINVAL;
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return kerror_set(e, EINVAL, "\"kiln push\" requires 1 or 2 arguments\n"
					     "See 'kiln push --help'.");
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	bool bars = progress_use_tty(&tp, &o.progress, &o.bytes, &o.progress_ctx);
	{
		const char *dest = argc - optind == 2 ? argv[optind + 1] : NULL;
		struct transport_ref t = { 0 };
		r = dest ? transport_parse(dest, &t, e) : 0;
		if (r == 0 && t.kind != TRANSPORT_NONE && t.kind != TRANSPORT_DOCKER)
			r = transport_push(s, argv[optind], &t, &o, digest, e);
		else if (r == 0)
			r = registry_push(s, argv[optind], dest, &o, digest, e);
		transport_ref_release(&t);
	}
	if (bars)
		tty_progress_release(&tp);
	if (r < 0)
		return r;
	{
		const char *ref = argc - optind == 2 ? argv[optind + 1] : argv[optind];
		_cleanup_free_ char *name = image_event_name(ref, false);
		store_image_event(s, "push", name, name);
	}
	if (digestfile)
		return fs_write_atomic(digestfile, digest, strlen(digest), 0644, e);
	return 0;
}
