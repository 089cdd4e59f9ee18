/* kiln image tree [IMAGE]: layers and the images that share them. */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"

struct forest {
	struct image_info **images;
	size_t n;
	struct store *s;
	bool no_trunc;
};

/* "Top Layer of: [a b]" for the images whose top layer is id. */
static void top_of(const struct forest *f, const char *id, struct buf *b)
{
	bool any = false;
	for (size_t i = 0; i < f->n; i++) {
		if (!f->images[i]->top_layer || strcmp(f->images[i]->top_layer, id))
			continue;
		buf_printf(b, any ? " " : " Top Layer of: [");
		if (f->images[i]->names[0]) {
			for (size_t k = 0; f->images[i]->names[k]; k++)
				buf_printf(b, "%s%s", k ? " " : "", f->images[i]->names[k]);
		} else {
			buf_printf(b, "%.12s", f->images[i]->id);
		}
		any = true;
	}
	if (any)
		buf_printf(b, "]");
}

static void layer_line(const struct forest *f, const char *id, struct buf *b)
{
	struct layer_info li = { 0 };
	char sz[32] = "?";
	if (store_layer_get(f->s, id, &li, NULL) == 0)
		format_size((uint64_t)li.size, sz, sizeof(sz));
	layer_info_release(&li);
	buf_printf(b, "ID: %.*s Size: %s", f->no_trunc ? 64 : 12, id, sz);
	top_of(f, id, b);
	buf_printf(b, "\n");
}

/* Children of parent (NULL: base layers), from the images' chains. */
static char **children(const struct forest *f, const char *parent)
{
	char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < f->n; i++) {
		char **l = f->images[i]->layers;
		for (size_t k = 0; l && l[k]; k++) {
			bool is_child = parent ? (k > 0 && !strcmp(l[k - 1], parent)) : k == 0;
			bool seen = false;
			if (!is_child)
				continue;
			for (size_t j = 0; out[j]; j++)
				seen = seen || !strcmp(out[j], l[k]);
			if (!seen)
				strv_push(&out, xstrdup(l[k]));
		}
	}
	return out;
}

static void print_subtree(const struct forest *f, const char *parent, const char *indent,
			  struct buf *b, int depth)
{
	_cleanup_strv_ char **kids = children(f, parent);
	for (size_t i = 0; kids[i]; i++) {
		bool last = !kids[i + 1];
		buf_printf(b, "%s%s ", indent, last ? "└──" : "├──");
		layer_line(f, kids[i], b);
		if (depth < 4096) {
			_cleanup_free_ char *next = xasprintf("%s%s", indent, last ? "    " : "│   ");
			print_subtree(f, kids[i], next, b, depth + 1);
		}
	}
}

int cmd_image_tree(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "whatrequires", no_argument, NULL, 'w' },
		{ "no-trunc", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct forest f = { 0 };
	bool whatrequires = false;
	struct buf b = { 0 };
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "h", opts, e)) != -1) {
		switch (opt) {
		case 'w': whatrequires = true; break;
		case 'T': f.no_trunc = true; break;
		case 'h':
			return cli_usage("kiln image tree [OPTIONS] [IMAGE]",
					 "      --no-trunc       Don't truncate IDs\n"
					 "      --whatrequires   Show the images that depend on IMAGE\n");
		default: return -EINVAL;
		}
	}
	if (argc - optind > 1)
		return kerror_set(e, EINVAL, "\"kiln image tree\" requires at most 1 argument");
	r = cli_store(c, &f.s, e);
	if (r == 0)
		r = store_image_list(f.s, &f.images, &f.n, e);
	for (size_t i = 0; r == 0 && i < f.n; i++) {
		struct image_info *full = NULL;
		r = store_image_lookup(f.s, f.images[i]->id, &full, e);
		if (r == 0) {
			image_info_free(f.images[i]);
			f.images[i] = full;
		}
	}
	if (r < 0)
		goto out;
	if (optind == argc) {
		/* Everything: a forest from the base layers up. */
		buf_printf(&b, "Layers\n");
		print_subtree(&f, NULL, "", &b, 0);
	} else {
		_cleanup_image_info_ struct image_info *img = NULL;
		char sz[32];
		r = store_image_lookup(f.s, argv[optind], &img, e);
		if (r < 0)
			goto out;
		format_size((uint64_t)img->size, sz, sizeof(sz));
		buf_printf(&b, "Image ID: %.*s\nTags:     [", f.no_trunc ? 64 : 12, img->id);
		for (size_t k = 0; img->names[k]; k++)
			buf_printf(&b, "%s%s", k ? " " : "", img->names[k]);
		buf_printf(&b, "]\nSize:     %s\n", sz);
		if (whatrequires) {
			buf_printf(&b, "Image Layers\n└── ");
			layer_line(&f, img->top_layer, &b);
			print_subtree(&f, img->top_layer, "    ", &b, 0);
		} else {
			buf_printf(&b, "Image Layers\n");
			for (size_t k = 0; img->layers[k]; k++) {
				buf_printf(&b, "%s ", img->layers[k + 1] ? "├──" : "└──");
				layer_line(&f, img->layers[k], &b);
			}
		}
	}
	fputs(b.data ? b.data : "", stdout);
out:
	buf_release(&b);
	image_list_free(f.images, f.n);
	return r;
}
