/* Remote look-ups without pulling: kiln list-tags docker://REPO and
 * kiln inspect --remote docker://REF (skopeo's list-tags and inspect). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/registry_flags.h"

static const char list_tags_usage[] = "kiln list-tags [OPTIONS] docker://REPOSITORY";
static const char inspect_usage[] = "kiln inspect --remote [OPTIONS] docker://IMAGE";
static const char inspect_options[] =
	"      --config               Output configuration\n"
	"  -f, --format string        Format the output using the given Go template\n"
	"  -n, --no-tags              Do not list the available tags from the repository\n"
	"      --platform string      Platform of the image to inspect in a manifest list\n"
	"      --raw                  Output raw manifest or configuration\n"
	REGISTRY_OPTIONS_HELP;

static int need_docker(const char *arg, struct kerror *e)
{
	if (!str_has_prefix(arg, "docker://"))
		return kerror_set(e, EINVAL, "invalid source \"%s\": only the docker:// transport "
					     "is supported", arg);
	return 0;
}

int cmd_list_tags(struct cli *c, int argc, char **argv, struct kerror *e)
{
	enum { OPT_PAGE = 256 };
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "page-size", required_argument, NULL, OPT_PAGE }, /* hidden: tests */
		REGISTRY_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct registry_opts o = REGISTRY_OPTS_INIT;
	_cleanup_free_ char *name = NULL, *text = NULL;
	_cleanup_strv_ char **tags = NULL;
	_cleanup_json_ json_t *j = NULL;
	int opt, r, page = 0;

	(void)c;
	while ((opt = cli_getopt(argc, argv, "h", opts, e)) != -1) {
		r = registry_flag(opt, optarg, &o, e);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (opt == OPT_PAGE) {
			page = atoi(optarg);
			continue;
		}
		if (opt == 'h')
			return cli_usage(list_tags_usage, REGISTRY_OPTIONS_HELP);
		return -EINVAL;
	}
	if (argc - optind != 1)
		return kerror_set(e, EINVAL, "\"kiln list-tags\" requires exactly 1 argument");
	r = need_docker(argv[optind], e);
	if (r < 0)
		return r;
	r = registry_list_tags(&o, argv[optind], page, &name, &tags, e);
	if (r < 0)
		return r;
	j = json_pack("{s:s,s:o}", "Repository", name, "Tags", json_from_strv(tags));
	text = json_dump_pretty(j);
	printf("%s\n", text);
	return 0;
}

/* skopeo inspect's shape. */
static json_t *inspect_json(const struct remote_image *ri, char **tags)
{
	json_t *cfg = ri->config->json, *exec = config_exec(ri->config);
	json_t *layers = json_array(), *ldata = json_array(), *j;
	json_t *labels = exec ? json_object_get(exec, "Labels") : NULL;
	json_t *env = exec ? json_object_get(exec, "Env") : NULL;
	const char *created = json_str(cfg, "created");
	const char *variant = json_str(cfg, "variant");

	for (size_t i = 0; i < ri->m->n_layers; i++) {
		const struct descriptor *d = &ri->m->layers[i];
		json_array_append_new(layers, json_string(d->digest));
		json_array_append_new(ldata, json_pack("{s:s,s:s,s:I,s:O}", "MIMEType",
						       d->media_type ? d->media_type : "",
						       "Digest", d->digest, "Size",
						       (json_int_t)d->size, "Annotations",
						       d->annotations ? d->annotations : json_null()));
	}
	j = json_object();
	json_object_set_new(j, "Name", json_string(ri->name));
	json_object_set_new(j, "Digest", json_string(ri->digest));
	json_object_set_new(j, "RepoTags", tags ? json_from_strv(tags) : json_array());
	json_object_set_new(j, "Created", created ? json_string(created) : json_null());
	json_object_set_new(j, "DockerVersion", json_string(json_str(cfg, "docker_version")
								    ? json_str(cfg, "docker_version")
								    : ""));
	json_object_set(j, "Labels", json_is_object(labels) ? labels : json_null());
	json_object_set_new(j, "Architecture", json_string(config_architecture(ri->config)
								   ? config_architecture(ri->config)
								   : ""));
	if (variant && *variant)
		json_object_set_new(j, "Variant", json_string(variant));
	json_object_set_new(j, "Os", json_string(config_os(ri->config) ? config_os(ri->config)
								       : ""));
	json_object_set_new(j, "Layers", layers);
	json_object_set_new(j, "LayersData", ldata);
	json_object_set(j, "Env", json_is_array(env) ? env : json_null());
	return j;
}

static int cmd_inspect_remote(struct cli *c, int argc, char **argv, struct kerror *e)
{
	enum { OPT_REMOTE = 256, OPT_RAW, OPT_CONFIG, OPT_PLATFORM };
	static const struct option opts[] = {
		{ "remote", no_argument, NULL, OPT_REMOTE },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "config", no_argument, NULL, OPT_CONFIG },
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "no-tags", no_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		REGISTRY_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct registry_opts o = REGISTRY_OPTS_INIT;
	struct remote_image ri;
	bool raw = false, config = false, no_tags = false;
	const char *platform = NULL, *format = NULL;
	_cleanup_strv_ char **tags = NULL;
	_cleanup_json_ json_t *j = NULL;
	int opt, r;

	(void)c;
	while ((opt = cli_getopt(argc, argv, "nf:h", opts, e)) != -1) {
		r = registry_flag(opt, optarg, &o, e);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		switch (opt) {
		case OPT_REMOTE: break;
		case OPT_RAW: raw = true; break;
		case OPT_CONFIG: config = true; break;
		case OPT_PLATFORM: platform = optarg; break;
		case 'n': no_tags = true; break;
		case 'f': format = optarg; break;
		case 'h': return cli_usage(inspect_usage, inspect_options);
		default: return -EINVAL;
		}
	}
	if (argc - optind != 1)
		return kerror_set(e, EINVAL, "\"kiln inspect --remote\" requires exactly 1 argument");
	r = need_docker(argv[optind], e);
	if (r < 0)
		return r;
	r = registry_inspect_remote(&o, argv[optind], platform, raw && !config, &ri, e);
	if (r < 0)
		return r;
	if (raw && !config) {
		fwrite(ri.raw, 1, ri.raw_len, stdout);
		goto done;
	}
	if (config) {
		if (raw) {
			fwrite(ri.config->raw, 1, ri.config->raw_len, stdout);
		} else {
			_cleanup_free_ char *text = json_dump_pretty(ri.config->json);
			printf("%s\n", text);
		}
		goto done;
	}
	if (!no_tags) {
		_cleanup_free_ char *name = NULL;
		_cleanup_free_ char *repo = xasprintf("docker://%s", ri.name);
		r = registry_list_tags(&o, repo, 0, &name, &tags, e);
		if (r < 0)
			goto done;
	}
	j = inspect_json(&ri, tags);
	if (format) {
		struct buf b = { 0 };
		r = template_render(format, j, &b, e);
		if (r == 0)
			printf("%s\n", b.data ? b.data : "");
		buf_release(&b);
	} else {
		_cleanup_free_ char *text = json_dump_pretty(j);
		printf("%s\n", text);
	}
done:
	remote_image_release(&ri);
	return r;
}

/* `kiln inspect`: --remote before any "--" sends it to the registry. */
int cmd_inspect_any(struct cli *c, int argc, char **argv, struct kerror *e)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--remote"))
			return cmd_inspect_remote(c, argc, argv, e);
	return cmd_inspect(c, argc, argv, e);
}
