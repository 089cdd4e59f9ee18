/* kiln tag SOURCE TARGET, kiln untag IMAGE [NAME...] */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"
#include "run/run.h"

int cmd_tag(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	_cleanup_image_info_ struct image_info *img = NULL;
	struct store *s;
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "h", opts, e)) != -1) {
		if (opt == 'h')
			return cli_usage("kiln tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]...", "");
		return -EINVAL;
	}
	if (argc - optind < 2)
		return kerror_set(e, EINVAL, "\"kiln tag\" requires at least 2 arguments\n"
					     "See 'kiln tag --help'.");
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	r = store_image_lookup(s, argv[optind], &img, e);
	if (r < 0)
		return r;
	for (int i = optind + 1; i < argc; i++) {
		_cleanup_ref_ struct image_ref *ref = NULL;
		_cleanup_free_ char *name = NULL;
		r = ref_parse_local(argv[i], &ref, e);
		if (r < 0)
			return r;
		if (ref->digest)
			return kerror_set(e, EINVAL, "%s: a tag cannot contain a digest", argv[i]);
		name = ref_string(ref);
		r = store_image_tag(s, img->id, name, e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The image's name that the user's string designates, or NULL. */
static const char *matching_name(const struct image_info *img, const char *what)
{
	_cleanup_strv_ char **cands = ref_local_candidates(what, NULL);
	for (size_t k = 0; cands && cands[k]; k++)
		for (size_t i = 0; img->names[i]; i++)
			if (strcmp(img->names[i], cands[k]) == 0)
				return img->names[i];
	return NULL;
}

int cmd_untag(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	_cleanup_image_info_ struct image_info *img = NULL;
	struct store *s;
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "h", opts, e)) != -1) {
		if (opt == 'h')
			return cli_usage("kiln untag IMAGE [IMAGE...]", "");
		return -EINVAL;
	}
	if (argc - optind < 1)
		return kerror_set(e, EINVAL, "\"kiln untag\" requires at least 1 argument");
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	r = store_image_lookup(s, argv[optind], &img, e);
	if (r < 0)
		return r;
	if (argc - optind == 1) {
		for (size_t i = 0; img->names[i]; i++) {
			r = store_image_untag(s, img->id, img->names[i], e);
			if (r < 0)
				return r;
		}
		return 0;
	}
	for (int i = optind + 1; i < argc; i++) {
		const char *name = matching_name(img, argv[i]);
		if (!name)
			return kerror_set(e, ENOENT, "%s: tag not known", argv[i]);
		r = store_image_untag(s, img->id, name, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static void print_untagged(const char *name)
{
	_cleanup_ref_ struct image_ref *r = NULL;
	_cleanup_free_ char *fam = NULL;
	if (ref_parse(name, &r, NULL) == 0)
		fam = ref_familiar(r);
	printf("Untagged: %s\n", fam ? fam : name);
}

/* Containers pin their image: refused unless forced, and then the
 * containers go first (running ones are refused even so). */
static int image_containers(struct store *s, const struct image_info *img, const char *what,
			    bool force, struct kerror *e)
{
	for (;;) {
		_cleanup_free_ char *ctr = NULL;
		_cleanup_container_info_ struct container_info *ci = NULL;
		int r = store_image_container(s, img->id, &ctr, e);
		if (r < 0 || !ctr)
			return r;
		if (!force)
			return kerror_set(e, EBUSY,
					  "conflict: unable to remove repository reference \"%s\" "
					  "(must force) - container %.12s is using its referenced "
					  "image %.12s",
					  what, ctr, img->id);
		r = store_container_get(s, ctr, &ci, e);
		if (r == 0)
			r = run_state_refresh(s, ci, e);
		if (r < 0)
			return r;
		if (ci->state == CTR_RUNNING)
			return kerror_set(e, EBUSY,
					  "image %.12s is in use by running container %.12s: stop "
					  "it first",
					  img->id, ctr);
		run_rootfs_release(s, ci);
		r = store_container_remove(s, ctr, e);
		if (r < 0)
			return r;
	}
}

static int remove_one(struct store *s, const char *what, bool force, bool force_ctr,
		      struct kerror *e)
{
	_cleanup_image_info_ struct image_info *img = NULL;
	const char *name;
	int r;

	r = store_image_lookup(s, what, &img, e);
	if (r < 0)
		return r;
	name = matching_name(img, what);
	if (name && strv_len(img->names) > 1) {
		r = store_image_untag(s, img->id, name, e);
		if (r == 0)
			print_untagged(name);
		return r;
	}
	if (!name && strv_len(img->names) > 1 && !force)
		return kerror_set(e, EBUSY,
				  "conflict: unable to delete %.12s (must be forced) - image is "
				  "referenced in multiple repositories",
				  img->id);
	r = image_containers(s, img, what, force_ctr, e);
	if (r < 0)
		return r;
	r = store_image_remove(s, img->id, e);
	if (r < 0)
		return r;
	for (size_t i = 0; img->names[i]; i++)
		print_untagged(img->names[i]);
	printf("Deleted: sha256:%s\n", img->id);
	return 0;
}

int cmd_rmi(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' }, { "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },  { NULL, 0, NULL, 0 },
	};
	bool force = false, all = false;
	struct store *s;
	int opt, r, failed = 0;

	while ((opt = cli_getopt(argc, argv, "fah", opts, e)) != -1) {
		switch (opt) {
		case 'f': force = true; break;
		case 'a': all = true; break;
		case 'h':
			return cli_usage("kiln rmi [OPTIONS] IMAGE [IMAGE...]",
					 "  -a, --all     Remove all images\n"
					 "  -f, --force   Force removal of the image\n");
		default: return -EINVAL;
		}
	}
	if (argc - optind < 1 && !all)
		return kerror_set(e, EINVAL, "\"kiln rmi\" requires at least 1 argument\n"
					     "See 'kiln rmi --help'.");
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	if (all) {
		struct image_info **list = NULL;
		size_t n = 0;
		r = store_image_list(s, &list, &n, e);
		for (size_t i = 0; r == 0 && i < n; i++) {
			struct kerror one = { 0 };
			if (remove_one(s, list[i]->id, true, force, &one) < 0) {
				fprintf(stderr, "Error: %s\n", one.msg);
				failed = 1;
			}
			kerror_release(&one);
		}
		image_list_free(list, n);
		if (r < 0)
			return r;
	}
	/* Like docker: try every argument, report each failure, exit 1. */
	for (int i = optind; i < argc; i++) {
		struct kerror one = { 0 };
		if (remove_one(s, argv[i], force, force, &one) < 0) {
			fprintf(stderr, "Error: %s\n", one.msg);
			failed = 1;
		}
		kerror_release(&one);
	}
	return failed;
}
