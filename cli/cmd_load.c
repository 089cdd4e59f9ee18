/* kiln load [-i FILE|DIR] [-q]: images from a docker-archive, an
 * oci-archive or a layout directory; prints what docker load prints. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/registry_flags.h"

static const char load_usage[] = "kiln load [OPTIONS]";
static const char load_options[] =
	"  -i, --input string   Read from tar archive file (or OCI/dir layout directory),\n"
	"                       instead of STDIN\n"
	"  -q, --quiet          Suppress the load output\n"
	SIGN_PULL_HELP;

static void print_loaded(const struct loaded_image *l)
{
	if (!l->names || !l->names[0]) {
		printf("Loaded image ID: sha256:%s\n", l->id);
		return;
	}
	for (size_t i = 0; l->names[i]; i++) {
		_cleanup_ref_ struct image_ref *ref = NULL;
		_cleanup_free_ char *fam = NULL;
		if (ref_parse(l->names[i], &ref, NULL) == 0)
			fam = ref_familiar(ref);
		printf("Loaded image: %s\n", fam ? fam : l->names[i]);
	}
}

struct load_check {
	struct pull_opts po;
	const char *path;
};

/* podman load checks the trust policy for the archive's transport. */
static int check_policy(void *ctx, const char *transport, struct kerror *e)
{
	struct load_check *lc = ctx;
	return registry_policy_check_local(&lc->po, transport, lc->path, e);
}

int cmd_load(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		SIGN_PULL_LONGOPTS,
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *input = NULL;
	struct loaded_image *loaded = NULL;
	size_t n = 0;
	_cleanup_close_ int fd = -1;
	struct store *s;
	struct stat st;
	int opt, r;

	struct load_check lc = { .po = { .reg = REGISTRY_OPTS_INIT } };

	while ((opt = cli_getopt(argc, argv, "i:qh", opts, e)) != -1) {
		if (sign_flag(opt, optarg, &lc.po, NULL))
			continue;
		switch (opt) {
		case 'i': input = optarg; break;
		case 'q': break; /* docker load -q still names what it loaded */
		case 'h': return cli_usage(load_usage, load_options);
		default: return -EINVAL;
		}
	}
	if (argc - optind > 0)
		return kerror_set(e, EINVAL, "\"kiln load\" accepts no arguments\n"
					     "See 'kiln load --help'.");
	if (input && strcmp(input, "-") != 0) {
		fd = open(input, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return kerror_sys(e, errno, "opening \"%s\"", input);
		if (fstat(fd, &st) < 0)
			return kerror_sys(e, errno, "reading \"%s\"", input);
	} else {
		if (isatty(STDIN_FILENO))
			return kerror_set(e, EINVAL, "requested load from stdin, but stdin is empty");
		fd = dup(STDIN_FILENO);
		st.st_mode = 0;
	}
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	lc.path = input && strcmp(input, "-") != 0 ? input : NULL;
	if (S_ISDIR(st.st_mode)) {
		/* A layout directory: oci, or dir: (a docker-dir). */
		_cleanup_free_ char *idx = xasprintf("%s/index.json", input);
		r = registry_policy_check_local(&lc.po, fs_exists(idx) ? "oci" : "dir", input, e);
		if (r == 0)
			r = store_archive_load_dir(s, input, &loaded, &n, e);
	} else {
		r = store_archive_load_fd_checked(s, fd, check_policy, &lc, &loaded, &n, e);
	}
	for (size_t i = 0; i < n; i++) {
		print_loaded(&loaded[i]);
		store_image_event(s, "load", loaded[i].id,
				  loaded[i].names ? loaded[i].names[0] : NULL);
	}
	loaded_images_free(loaded, n);
	if (r < 0)
		return kerror_wrap(e, "loading %s", input && strcmp(input, "-") ? input : "stdin");
	return 0;
}
