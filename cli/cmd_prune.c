/* kiln image prune: dangling (or, with -a, unused) images, then garbage;
 * kiln builder prune: the build cache. */
#include <errno.h>
#include <string.h>

#include "build/build.h"
#include "cli/cli.h"

static uint64_t store_bytes(struct store *s)
{
	uint64_t a = 0, b = 0;
	_cleanup_free_ char *layers = xasprintf("%s/layers", store_root(s));
	_cleanup_free_ char *blobs = xasprintf("%s/blobs", store_root(s));
	fs_disk_usage(layers, &a, NULL);
	fs_disk_usage(blobs, &b, NULL);
	return a + b;
}

int cmd_image_prune(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },	   { "force", no_argument, NULL, 'f' },
		{ "filter", required_argument, NULL, 'F' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct image_filter filt = IMAGE_FILTER_INIT;
	struct image_info **list = NULL;
	bool all = false, force = false;
	struct gc_stats gc;
	struct store *s;
	size_t n = 0;
	uint64_t before;
	int opt, r;
	char sz[32];

	while ((opt = cli_getopt(argc, argv, "afh", opts, e)) != -1) {
		switch (opt) {
		case 'a': all = true; break;
		case 'f': force = true; break;
		case 'F':
			if (image_filter_parse(&filt, optarg, e) < 0) {
				image_filter_release(&filt);
				return -EINVAL;
			}
			break;
		case 'h':
			image_filter_release(&filt);
			return cli_usage("kiln image prune [OPTIONS]",
					 "  -a, --all             Remove all unused images, not just "
					 "dangling ones\n"
					 "      --filter filter   Provide filter values (e.g. "
					 "'until=<timestamp>', 'label=k=v')\n"
					 "  -f, --force           Do not prompt for confirmation\n");
		default: image_filter_release(&filt); return -EINVAL;
		}
	}
	if (!force && !cli_confirm(all ? "WARNING! This will remove all images without at least "
				     "one container associated to them."
				   : "WARNING! This will remove all dangling images.")) {
		image_filter_release(&filt);
		return 0;
	}
	if (!all)
		filt.dangling = 1;
	r = cli_store(c, &s, e);
	if (r == 0)
		r = image_filter_resolve(c, &filt, e);
	if (r == 0)
		r = store_image_list(s, &list, &n, e);
	if (r < 0) {
		image_filter_release(&filt);
		return r;
	}
	before = store_bytes(s);
	bool header = false;
	for (size_t i = 0; i < n && r == 0; i++) {
		bool match;
		r = image_filter_match(c, &filt, list[i], &match, e);
		if (r < 0 || !match)
			continue;
		r = store_image_remove(s, list[i]->id, e);
		/* Removed meanwhile by another kiln, or pinned by a container
		 * (-a spares the images containers use). */
		if (r == -ENOENT || r == -EBUSY) {
			kerror_release(e);
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		if (!header) {
			printf("Deleted Images:\n");
			header = true;
		}
		for (size_t k = 0; list[i]->names[k]; k++) {
			_cleanup_free_ char *fam = image_familiar(list[i]->names[k]);
			printf("untagged: %s\n", fam);
		}
		printf("deleted: sha256:%s\n", list[i]->id);
	}
	image_list_free(list, n);
	image_filter_release(&filt);
	if (r == 0)
		r = store_gc(s, &gc, e);
	if (r < 0)
		return r;
	uint64_t after = store_bytes(s);
	format_size(before > after ? before - after : 0, sz, sizeof(sz));
	if (header)
		printf("\n");
	printf("Total reclaimed space: %s\n", sz);
	return 0;
}

/* kiln builder prune [-a] [-f]: Docker's command for the build cache (rows
 * of removed layers, or all rows with -a; COPY digest memos; RUN cache
 * mounts no build holds).  Images stay: `image prune` removes those. */
static int builder_prune(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct build_prune_stats st;
	bool all = false, force = false;
	struct store *s;
	char sz[32];
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "afh", opts, e)) != -1) {
		switch (opt) {
		case 'a': all = true; break;
		case 'f': force = true; break;
		case 'h':
			return cli_usage("kiln builder prune [OPTIONS]",
					 "  -a, --all     Remove all build cache, not just the "
					 "unused part\n"
					 "  -f, --force   Do not prompt for confirmation\n");
		default: return -EINVAL;
		}
	}
	if (argc > optind)
		return kerror_set(e, EINVAL, "\"kiln builder prune\" accepts no arguments");
	if (!force && !cli_confirm(all ? "WARNING! This will remove all build cache."
				       : "WARNING! This will remove all dangling build cache."))
		return 0;
	r = cli_store(c, &s, e);
	if (r == 0)
		r = build_prune(s, all, 0, &st, e);
	if (r < 0)
		return r;
	format_size(st.bytes, sz, sizeof(sz));
	printf("Total reclaimed space: %s\n", sz);
	return 0;
}

static const struct command builder_commands[] = {
	{ "build", cmd_build, "Build an image from a Containerfile" },
	{ "prune", builder_prune, "Remove build cache" },
};

int cmd_builder(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return CLI_DISPATCH(c, argc, argv, "builder", "Manage the build cache", builder_commands,
			    e);
}
