/* kiln copy [OPTIONS] SOURCE DESTINATION: skopeo copy between transports
 * (docker://, oci:, oci-archive:, docker-archive:, dir:) without storing
 * the image in the store. */
#include <errno.h>
#include <string.h>

#include "cli/registry_flags.h"

static const char copy_usage[] = "kiln copy [OPTIONS] SOURCE-IMAGE DESTINATION-IMAGE";
static const char copy_options[] =
	"  -a, --all                  copy a manifest list with all its images (registries only)\n"
	"      --dest-authfile string  path of the authentication file for the destination registry\n"
	"      --dest-cert-dir string  use certificates at this path for the destination registry\n"
	"      --dest-creds user[:pass]  credentials for the destination registry\n"
	"      --dest-tls-verify      require HTTPS and verify certificates when talking to the destination\n"
	"      --digestfile string    write the digest of the pushed image to the specified file\n"
	"  -f, --format string        MANIFEST TYPE (oci, v2s2) to use in the destination\n"
	"      --platform string      platform to copy out of a manifest list (os/arch[/variant])\n"
	"  -q, --quiet                suppress output information when copying images\n"
	"      --remove-signatures    do not copy signatures from the source image\n"
	"      --src-authfile string  path of the authentication file for the source registry\n"
	"      --src-cert-dir string  use certificates at this path for the source registry\n"
	"      --src-creds user[:pass]  credentials for the source registry\n"
	"      --src-tls-verify       require HTTPS and verify certificates when talking to the source\n"
	SIGN_PULL_HELP
	SIGN_PUSH_HELP
	REGISTRY_OPTIONS_HELP;

int cmd_copy(struct cli *c, int argc, char **argv, struct kerror *e)
{
	enum { OPT_SRC_TLS = 256, OPT_DST_TLS, OPT_DIGESTFILE, OPT_PLATFORM, OPT_REMOVE_SIGS,
	       OPT_SRC_CREDS, OPT_DST_CREDS, OPT_SRC_AUTHFILE, OPT_DST_AUTHFILE, OPT_SRC_CERT,
	       OPT_DST_CERT };
	static const struct option opts[] = {
		{ "remove-signatures", no_argument, NULL, OPT_REMOVE_SIGS },
		{ "all", no_argument, NULL, 'a' },
		{ "src-creds", required_argument, NULL, OPT_SRC_CREDS },
		{ "dest-creds", required_argument, NULL, OPT_DST_CREDS },
		{ "src-authfile", required_argument, NULL, OPT_SRC_AUTHFILE },
		{ "dest-authfile", required_argument, NULL, OPT_DST_AUTHFILE },
		{ "src-cert-dir", required_argument, NULL, OPT_SRC_CERT },
		{ "dest-cert-dir", required_argument, NULL, OPT_DST_CERT },
		{ "src-tls-verify", optional_argument, NULL, OPT_SRC_TLS },
		{ "dest-tls-verify", optional_argument, NULL, OPT_DST_TLS },
		{ "digestfile", required_argument, NULL, OPT_DIGESTFILE },
		{ "format", required_argument, NULL, 'f' },
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		REGISTRY_LONGOPTS,
		SIGN_PULL_LONGOPTS,
		SIGN_PUSH_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct pull_opts po = { .reg = REGISTRY_OPTS_INIT, .progress = registry_progress_stderr };
	struct push_opts pu = { .reg = REGISTRY_OPTS_INIT, .progress = registry_progress_stderr,
				.compression = COMPRESSION_UNKNOWN };
	const char *digestfile = NULL;
	char digest[DIGEST_STR_LEN + 1];
	const char *src_creds = NULL, *dst_creds = NULL, *src_authfile = NULL;
	const char *dst_authfile = NULL, *src_cert = NULL, *dst_cert = NULL;
	int src_tls = -1, dst_tls = -1;
	struct tty_progress tp;
	bool all = false;
	bool b;
	int opt, r;

	(void)c;
	while ((opt = cli_getopt(argc, argv, "af:qh", opts, e)) != -1) {
		r = registry_flag(opt, optarg, &po.reg, e);
		if (r < 0)
			return r;
		if (r > 0) {
			registry_flag(opt, optarg, &pu.reg, e);
			continue;
		}
		if (sign_flag(opt, optarg, &po, &pu))
			continue;
		switch (opt) {
		case OPT_SRC_TLS:
		case OPT_DST_TLS:
			r = cli_parse_bool(opt == OPT_SRC_TLS ? "--src-tls-verify" : "--dest-tls-verify",
					   optarg, &b, e);
			if (r < 0)
				return r;
			*(opt == OPT_SRC_TLS ? &src_tls : &dst_tls) = b;
			break;
		case OPT_DIGESTFILE: digestfile = optarg; break;
		case OPT_REMOVE_SIGS: pu.remove_signatures = true; break;
		/* skopeo's per-side flags: applied after the shared ones. */
		case OPT_SRC_CREDS: src_creds = optarg; break;
		case OPT_DST_CREDS: dst_creds = optarg; break;
		case OPT_SRC_AUTHFILE: src_authfile = optarg; break;
		case OPT_DST_AUTHFILE: dst_authfile = optarg; break;
		case OPT_SRC_CERT: src_cert = optarg; break;
		case OPT_DST_CERT: dst_cert = optarg; break;
		case OPT_PLATFORM: po.platform = optarg; break;
		case 'f':
			if (!strcmp(optarg, "oci"))
				pu.format = PUSH_FORMAT_OCI;
			else if (!strcmp(optarg, "v2s2") || !strcmp(optarg, "docker"))
				pu.format = PUSH_FORMAT_V2S2;
			else
				return kerror_set(e, EINVAL, "unknown format \"%s\": must be oci or "
							     "v2s2", optarg);
			break;
		case 'q': po.progress = NULL; pu.progress = NULL; break;
		case 'a': all = true; break;
		case 'h': return cli_usage(copy_usage, copy_options);
		default: return -EINVAL;
		}
	}
	if (argc - optind != 2)
		return kerror_set(e, EINVAL, "\"kiln copy\" requires exactly 2 arguments");
	if (src_tls >= 0)
		po.reg.tls_verify = src_tls;
	if (dst_tls >= 0)
		pu.reg.tls_verify = dst_tls;
	po.reg.creds = src_creds ? src_creds : po.reg.creds;
	pu.reg.creds = dst_creds ? dst_creds : pu.reg.creds;
	po.reg.authfile = src_authfile ? src_authfile : po.reg.authfile;
	pu.reg.authfile = dst_authfile ? dst_authfile : pu.reg.authfile;
	po.reg.cert_dir = src_cert ? src_cert : po.reg.cert_dir;
	pu.reg.cert_dir = dst_cert ? dst_cert : pu.reg.cert_dir;
	bool bars = progress_use_tty(&tp, &po.progress, &po.bytes, &po.progress_ctx);
	if (bars) {
		pu.progress = po.progress;
		pu.bytes = po.bytes;
		pu.progress_ctx = po.progress_ctx;
	}
	r = (all ? registry_copy_all : registry_copy)(argv[optind], argv[optind + 1], &po, &pu,
						      digest, e);
	if (bars)
		tty_progress_release(&tp);
	if (r == 0 && digestfile)
		r = fs_write_atomic(digestfile, digest, strlen(digest), 0644, e);
	return r;
}
