/* kiln import FILE|- [REFERENCE]: a tarball becomes a one-layer image. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

#include "build/build.h"
#include "cli/cli.h"

static const char import_usage[] = "kiln import [OPTIONS] file|- [REPOSITORY[:TAG]]";
static const char import_options[] =
	"  -c, --change list      Apply a Containerfile instruction to the created image "
	"(CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR)\n"
	"  -m, --message string   Set commit message for imported image\n"
	"  -q, --quiet            Suppress output\n";

/* The config of an imported image, as docker import writes it. */
static int import_config(const char *diff_id, const char *source, const char *message,
			 char *const *changes, char **out, struct kerror *e)
{
	struct platform host = { 0 };
	struct timespec ts;
	char created[64];
	_cleanup_free_ char *comment = message ? xstrdup(message)
					       : xasprintf("Imported from %s", source);
	json_t *cfg;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	format_rfc3339(ts.tv_sec, ts.tv_nsec, created, sizeof(created));
	platform_host(&host);
	cfg = json_pack("{s:s, s:s, s:s, s:{}, s:{s:s, s:[s]}, s:[{s:s, s:s}]}", "created", created,
			"architecture", host.architecture, "os", host.os, "config", "rootfs",
			"type", "layers", "diff_ids", diff_id, "history", "created", created,
			"comment", comment);
	if (host.variant)
		json_object_set_new(cfg, "variant", json_string(host.variant));
	platform_release(&host);
	r = build_apply_changes(cfg, changes, CHANGE_ALLOWED_IMPORT, e);
	if (r == 0)
		*out = json_dump_compact(cfg);
	json_decref(cfg);
	return r;
}

int cmd_import(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "change", required_argument, NULL, 'c' },
		{ "message", required_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *message = NULL, *source, *name = NULL;
	_cleanup_strv_ char **changes = NULL;
	_cleanup_free_ char *config = NULL, *fullname = NULL;
	_cleanup_close_ int fd = -1;
	struct staged_layer layer = { 0 };
	struct store_tmp t = { 0 };
	char id[DIGEST_HEX_LEN + 1];
	bool quiet = false;
	struct store *s;
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "c:m:qh", opts, e)) != -1) {
		switch (opt) {
		case 'c': strv_push(&changes, xstrdup(optarg)); break;
		case 'm': message = optarg; break;
		case 'q': quiet = true; break;
		case 'h': return cli_usage(import_usage, import_options);
		default: return -EINVAL;
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return kerror_set(e, EINVAL, "\"kiln import\" requires 1 or 2 arguments\n"
					     "See 'kiln import --help'.");
	source = argv[optind];
	if (argc - optind == 2) {
		_cleanup_ref_ struct image_ref *ref = NULL;
		name = argv[optind + 1];
		r = ref_parse_local(name, &ref, e);
		if (r < 0)
			return r;
		if (ref->digest)
			return kerror_set(e, EINVAL, "%s: an imported image cannot be named by digest",
					  name);
		fullname = ref_string(ref);
	}
	{
		/* Check the changes before reading anything. */
		_cleanup_free_ char *probe = NULL;
		r = import_config("sha256:" "0000000000000000000000000000000000000000000000000000000000000000",
				  source, message, changes, &probe, e);
		if (r < 0)
			return r;
	}
	if (strcmp(source, "-") == 0) {
		fd = dup(STDIN_FILENO);
	} else {
		fd = open(source, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return kerror_sys(e, errno, "opening \"%s\"", source);
	}
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	r = store_tmp_create(s, &t, e);
	if (r < 0)
		return r;
	r = store_stage_layer(s, &t, fd, NULL, &layer, e);
	if (r < 0) {
		kerror_wrap(e, "importing \"%s\"", source);
		goto out;
	}
	r = import_config(layer.diff_id, source, message, changes, &config, e);
	if (r < 0)
		goto out;
	{
		char *names[] = { fullname, NULL };
		struct image_commit ic = {
			.config = config,
			.config_len = strlen(config),
			.layers = &layer,
			.n_layers = 1,
			.names = fullname ? names : NULL,
		};
		r = store_image_commit(s, &ic, id, e);
	}
	if (r < 0) {
		kerror_wrap(e, "importing \"%s\"", source);
		goto out;
	}
	store_image_event(s, "import", id, fullname);
	if (!quiet)
		printf("sha256:%s\n", id);
out:
	staged_layer_release(&layer);
	store_tmp_release(&t);
	return r;
}
