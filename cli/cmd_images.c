/* kiln images / kiln image ls */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static const char images_usage[] = "kiln images [OPTIONS] [REPOSITORY[:TAG]]";
static const char images_options[] =
	"  -a, --all             Show all images (default hides intermediate images)\n"
	"      --digests         Show digests\n"
	"  -f, --filter filter   Filter output based on conditions provided (dangling=, "
	"reference=, label=, before=, since=, until=)\n"
	"      --format string   Format output using a Go template, or \"json\"\n"
	"      --no-trunc        Don't truncate output\n"
	"  -q, --quiet           Only show image IDs\n"
	"      --sort string     Sort by created, id, repository, size or tag (default "
	"\"created\")\n";

static const char *sort_key;

struct row {
	json_t *row;
	int64_t size;
	size_t pos; /* created order, to keep the sort stable */
};

static int cmp_rows(const void *a, const void *b)
{
	const struct row *ra = a, *rb = b;
	json_t *x = ra->row, *y = rb->row;
	int r;
	if (!strcmp(sort_key, "size"))
		r = ra->size < rb->size ? -1 : ra->size > rb->size;
	else if (!strcmp(sort_key, "id"))
		r = strcmp(json_str(x, "ID"), json_str(y, "ID"));
	else if (!strcmp(sort_key, "tag"))
		r = strcmp(json_str(x, "Tag"), json_str(y, "Tag"));
	else if ((r = strcmp(json_str(x, "Repository"), json_str(y, "Repository"))) == 0)
		r = strcmp(json_str(x, "Tag"), json_str(y, "Tag"));
	return r ? r : (ra->pos < rb->pos ? -1 : 1);
}

/* Sorts rows (created order is the list's own); sizes[i] is row i's size. */
static void sort_rows(json_t *rows, const int64_t *sizes, const char *key)
{
	size_t n = json_array_size(rows);
	struct row *v;
	if (!key || !strcmp(key, "created") || n < 2)
		return;
	sort_key = key;
	v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = (struct row){ json_incref(json_array_get(rows, i)), sizes[i], i };
	qsort(v, n, sizeof(*v), cmp_rows);
	json_array_clear(rows);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(rows, v[i].row);
	free(v);
}

/* One row of `kiln images` as the template sees it (docker's field names). */
static json_t *row_json(const struct image_info *i, const char *name, bool no_trunc, int64_t now)
{
	char id[DIGEST_STR_LEN + 1], size[32], age[64], created[64];
	_cleanup_free_ char *repo = NULL, *tag = NULL;

	if (name) {
		_cleanup_ref_ struct image_ref *r = NULL;
		if (ref_parse(name, &r, NULL) == 0) {
			struct image_ref bare = { r->domain, r->path, NULL, NULL };
			repo = ref_familiar(&bare);
			tag = xstrdup(r->tag ? r->tag : "<none>");
		}
	}
	if (no_trunc)
		snprintf(id, sizeof(id), "sha256:%s", i->id);
	else
		snprintf(id, sizeof(id), "%.12s", i->id);
	format_size((uint64_t)i->size, size, sizeof(size));
	format_age(i->created, now, age, sizeof(age));
	format_go_time(i->created, created, sizeof(created));
	/* The digest this repository knows the image by ("<repo>@sha256:…"). */
	const char *digest = NULL;
	for (size_t k = 0; name && i->digests && i->digests[k]; k++) {
		const char *at = strchr(i->digests[k], '@');
		_cleanup_free_ char *full = xstrndup(name, strcspn(name, "@"));
		char *colon = strrchr(full, ':');
		if (colon && !strchr(colon, '/'))
			*colon = '\0';
		if (at && (size_t)(at - i->digests[k]) == strlen(full) &&
		    strncmp(i->digests[k], full, strlen(full)) == 0)
			digest = at + 1;
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Containers",
			 "N/A", "CreatedAt", created, "CreatedSince", age, "Digest",
			 digest ? digest : "<none>", "ID", id, "Repository",
			 repo ? repo : "<none>", "SharedSize", "N/A", "Size", size, "Tag",
			 tag ? tag : "<none>", "UniqueSize", "N/A", "VirtualSize", size);
}

static bool matches_filter(const char *name, const char *want)
{
	_cleanup_ref_ struct image_ref *r = NULL;
	_cleanup_strv_ char **cands = NULL;
	if (!want)
		return true;
	if (!name || ref_parse(name, &r, NULL) < 0)
		return false;
	cands = ref_local_candidates(want, NULL);
	for (size_t k = 0; cands && cands[k]; k++) {
		_cleanup_ref_ struct image_ref *w = NULL;
		if (ref_parse(cands[k], &w, NULL) < 0)
			continue;
		bool has_tag = strchr(want, ':') && !strchr(want, '@') &&
			       strrchr(want, ':') > strrchr(want, '/') ? true : false;
		if (strcmp(w->domain, r->domain) == 0 && strcmp(w->path, r->path) == 0 &&
		    (!has_tag || (r->tag && w->tag && strcmp(r->tag, w->tag) == 0)))
			return true;
	}
	return false;
}

int cmd_images(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },	{ "quiet", no_argument, NULL, 'q' },
		{ "no-trunc", no_argument, NULL, 'T' }, { "digests", no_argument, NULL, 'D' },
		{ "format", required_argument, NULL, 'F' }, { "help", no_argument, NULL, 'h' },
		{ "filter", required_argument, NULL, 'f' }, { "sort", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct image_filter filt = IMAGE_FILTER_INIT;
	const char *sort = NULL;
	bool quiet = false, no_trunc = false, digests = false;
	const char *format = NULL, *filter = NULL;
	struct image_info **list = NULL;
	struct store *s;
	size_t n = 0;
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "aqhf:", opts, e)) != -1) {
		switch (opt) {
		case 'a': break; /* no intermediate images exist yet */
		case 'q': quiet = true; break;
		case 'T': no_trunc = true; break;
		case 'D': digests = true; break;
		case 'F': format = optarg; break;
		case 'S':
			if (strcmp(optarg, "created") && strcmp(optarg, "id") &&
			    strcmp(optarg, "repository") && strcmp(optarg, "size") &&
			    strcmp(optarg, "tag")) {
				image_filter_release(&filt);
				return kerror_set(e, EINVAL, "invalid option for --sort, options are: "
							     "[created id repository size tag]");
			}
			sort = optarg;
			break;
		case 'f':
			if (image_filter_parse(&filt, optarg, e) < 0) {
				image_filter_release(&filt);
				return -EINVAL;
			}
			break;
		case 'h': image_filter_release(&filt); return cli_usage(images_usage, images_options);
		default: image_filter_release(&filt); return -EINVAL;
		}
	}
	if (argc - optind > 1) {
		image_filter_release(&filt);
		return kerror_set(e, EINVAL, "\"kiln images\" requires at most 1 argument");
	}
	if (optind < argc)
		filter = argv[optind];
	r = cli_store(c, &s, e);
	if (r == 0)
		r = image_filter_resolve(c, &filt, e);
	if (r == 0)
		r = store_image_list(s, &list, &n, e);
	if (r < 0) {
		image_filter_release(&filt);
		return r;
	}

	int64_t now = (int64_t)time(NULL);
	_cleanup_json_ json_t *rows = json_array();
	_cleanup_free_ int64_t *sizes = NULL;
	size_t nrows = 0;
	for (size_t i = 0; i < n; i++) {
		bool keep;
		r = image_filter_match(c, &filt, list[i], &keep, e);
		if (r < 0)
			break;
		if (!keep)
			continue;
		for (size_t k = 0; list[i]->names[k]; k++) {
			if (!matches_filter(list[i]->names[k], filter))
				continue;
			json_array_append_new(rows, row_json(list[i], list[i]->names[k], no_trunc, now));
		}
		if (!list[i]->names[0] && !filter)
			json_array_append_new(rows, row_json(list[i], NULL, no_trunc, now));
		sizes = xrealloc(sizes, (json_array_size(rows) + 1) * sizeof(*sizes));
		while (nrows < json_array_size(rows))
			sizes[nrows++] = list[i]->size;
	}
	image_list_free(list, n);
	image_filter_release(&filt);
	if (r < 0)
		return r;
	sort_rows(rows, sizes, sort);

	if (quiet)
		return template_print_list(stdout, "{{.ID}}", rows, e);
	if (format) {
		static const char *const headers[] = {
			"ID", "IMAGE ID", "CreatedSince", "CREATED", "CreatedAt", "CREATED AT",
			"Repository", "REPOSITORY", "Tag", "TAG", "Digest", "DIGEST", "Size", "SIZE",
			NULL,
		};
		return template_print_table(stdout, format, rows, headers, e);
	}

	struct buf b = { 0 };
	size_t i;
	json_t *row;
	buf_printf(&b, digests ? "REPOSITORY\tTAG\tDIGEST\tIMAGE ID\tCREATED\tSIZE\n"
			       : "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n");
	json_array_foreach(rows, i, row) {
		buf_printf(&b, "%s\t%s\t", json_str(row, "Repository"), json_str(row, "Tag"));
		if (digests)
			buf_printf(&b, "%s\t", json_str(row, "Digest"));
		buf_printf(&b, "%s\t%s\t%s\n", json_str(row, "ID"), json_str(row, "CreatedSince"),
			   json_str(row, "Size"));
	}
	table_print(stdout, b.data);
	buf_release(&b);
	return 0;
}
