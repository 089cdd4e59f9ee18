/* kiln pull [OPTIONS] IMAGE: an image from a registry into the store. */
#include <errno.h>
#include <string.h>

#include "cli/registry_flags.h"

static const char pull_usage[] = "kiln pull [OPTIONS] IMAGE";
static const char pull_options[] =
	"  -a, --all-tags             All tagged images in the repository will be pulled\n"
	"      --arch string          Use ARCH instead of the architecture of the machine\n"
	"      --os string            Use OS instead of the running OS\n"
	"      --platform string      Specify the platform for selecting the image (os/arch[/variant])\n"
	"  -q, --quiet                Suppress output information when pulling images\n"
	SIGN_PULL_HELP
	REGISTRY_OPTIONS_HELP;

/* --all-tags: every tag of the repository (no tag or digest given), in
 * tags/list order; the ID of each printed. */
static int pull_all_tags(struct store *s, const char *input, const struct pull_opts *o,
			 struct kerror *e)
{
	_cleanup_ref_ struct image_ref *ref = NULL;
	_cleanup_free_ char *name = NULL, *repo = NULL;
	_cleanup_strv_ char **tags = NULL;
	char id[DIGEST_HEX_LEN + 1];
	int r;

	if (str_has_prefix(input, "docker://"))
		input += 9;
	r = ref_parse(input, &ref, e);
	if (r < 0)
		return r;
	if (ref->tag || ref->digest)
		return kerror_set(e, EINVAL, "tag can't be used with --all-tags/-a");
	repo = ref_name(ref);
	r = registry_list_tags(&o->reg, repo, 0, &name, &tags, e);
	for (size_t i = 0; r == 0 && tags && tags[i]; i++) {
		_cleanup_free_ char *one = xasprintf("%s:%s", name, tags[i]);
		r = registry_pull(s, one, o, id, e);
		if (r == 0)
			printf("%s\n", id);
	}
	return r;
}

int cmd_pull(struct cli *c, int argc, char **argv, struct kerror *e)
{
	enum { OPT_PLATFORM = 256, OPT_ARCH, OPT_OS, OPT_VARIANT };
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "arch", required_argument, NULL, OPT_ARCH },
		{ "os", required_argument, NULL, OPT_OS },
		{ "variant", required_argument, NULL, OPT_VARIANT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "all-tags", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		REGISTRY_LONGOPTS,
		SIGN_PULL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct pull_opts o = { .reg = REGISTRY_OPTS_INIT, .progress = registry_progress_stderr };
	const char *arch = NULL, *os = NULL, *variant = NULL;
	_cleanup_free_ char *platform = NULL;
	char id[DIGEST_HEX_LEN + 1];
	bool quiet = false, all_tags = false;
	struct tty_progress tp;
	struct store *s;
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "aqh", opts, e)) != -1) {
		r = registry_flag(opt, optarg, &o.reg, e);
		if (r < 0)
			return r;
		if (r > 0 || sign_flag(opt, optarg, &o, NULL))
			continue;
		switch (opt) {
		case OPT_PLATFORM: free(platform); platform = xstrdup(optarg); break;
		case OPT_ARCH: arch = optarg; break;
		case OPT_OS: os = optarg; break;
		case OPT_VARIANT: variant = optarg; break;
		case 'q': quiet = true; break;
		case 'a': all_tags = true; break;
		case 'h': return cli_usage(pull_usage, pull_options);
		default: return -EINVAL;
		}
	}
	if (argc - optind != 1)
		return kerror_set(e, EINVAL, "\"kiln pull\" requires exactly 1 argument\n"
					     "See 'kiln pull --help'.");
	if (!platform && (arch || os || variant)) {
		struct platform host = { 0 };
		platform_host(&host);
		platform = xasprintf("%s/%s%s%s", os ? os : host.os,
				     arch ? arch : host.architecture, variant ? "/" : "",
				     variant ? variant : "");
		platform_release(&host);
	}
	o.platform = platform;
	if (quiet)
		o.progress = NULL;
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	bool bars = progress_use_tty(&tp, &o.progress, &o.bytes, &o.progress_ctx);
	if (all_tags) {
		r = pull_all_tags(s, argv[optind], &o, e);
		if (bars)
			tty_progress_release(&tp);
		return r;
	}
	{
		struct transport_ref t;
		r = transport_parse(argv[optind], &t, e);
		if (r == 0 && t.kind != TRANSPORT_NONE && t.kind != TRANSPORT_DOCKER)
			r = transport_pull(s, &t, &o, id, e);
		else if (r == 0)
			r = registry_pull(s, argv[optind], &o, id, e);
		transport_ref_release(&t);
	}
	if (bars)
		tty_progress_release(&tp);
	if (r < 0)
		return r;
	{
		_cleanup_free_ char *name = image_event_name(argv[optind], false);
		store_image_event(s, "pull", name, name);
	}
	printf("%s\n", id);
	return 0;
}
