/* kiln history IMAGE: the config's history, newest first, as docker shows it. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static const char history_options[] =
	"      --format string   Format output using a Go template\n"
	"  -H, --human           Print sizes and dates in human readable format (default true)\n"
	"      --no-trunc        Don't truncate output\n"
	"  -q, --quiet           Only show image IDs\n";

/* docker's stringutils.Ellipsis: at most max characters, the last one "…". */
static char *ellipsis(const char *s, size_t max)
{
	size_t chars = 0, cut = 0;
	for (size_t i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (chars == max - 1)
			cut = i;
		chars++;
	}
	if (chars <= max)
		return xstrdup(s);
	return xasprintf("%.*s…", (int)cut, s);
}

int cmd_history(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' }, { "human", required_argument, NULL, 'H' },
		{ "no-trunc", no_argument, NULL, 'T' },     { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },	    { NULL, 0, NULL, 0 },
	};
	_cleanup_image_info_ struct image_info *img = NULL;
	_cleanup_config_ struct image_config *cfg = NULL;
	_cleanup_json_ json_t *rows = json_array();
	bool no_trunc = false, quiet = false, human = true;
	const char *format = NULL;
	struct store *s;
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "qhH:", opts, e)) != -1) {
		switch (opt) {
		case 'F': format = optarg; break;
		case 'H':
			if (cli_parse_bool("human", optarg, &human, e) < 0)
				return -EINVAL;
			break;
		case 'T': no_trunc = true; break;
		case 'q': quiet = true; break;
		case 'h': return cli_usage("kiln history [OPTIONS] IMAGE", history_options);
		default: return -EINVAL;
		}
	}
	if (argc - optind != 1)
		return kerror_set(e, EINVAL, "\"kiln history\" requires exactly 1 argument\n"
					     "See 'kiln history --help'.");
	r = cli_store(c, &s, e);
	if (r == 0)
		r = store_image_lookup(s, argv[optind], &img, e);
	if (r == 0)
		r = image_load_config(c, img, &cfg, e);
	if (r < 0)
		return r;

	json_t *hist = json_object_get(cfg->json, "history");
	size_t nh = json_array_size(hist), layer = 0, nlayers = strv_len(img->layers);
	int64_t now = (int64_t)time(NULL);
	/* Sizes: the n-th non-empty history entry is the n-th layer. */
	for (size_t i = 0; i < nh; i++) {
		json_t *h = json_array_get(hist, i);
		bool empty = json_is_true(json_object_get(h, "empty_layer"));
		int64_t size = 0, sec = 0;
		long ns = 0;
		const char *created = json_str(h, "created");
		const char *by = json_str(h, "created_by");
		const char *comment = json_str(h, "comment");
		char age[64], when[64], sz[32], id[DIGEST_STR_LEN + 1];

		if (!empty && layer < nlayers) {
			struct layer_info li = { 0 };
			if (store_layer_get(s, img->layers[layer], &li, NULL) == 0)
				size = li.size;
			layer_info_release(&li);
			layer++;
		}
		if (created)
			parse_rfc3339(created, &sec, &ns);
		format_age(sec, now, age, sizeof(age));
		format_rfc3339(sec, 0, when, sizeof(when));
		if (human)
			format_size((uint64_t)size, sz, sizeof(sz));
		else
			snprintf(sz, sizeof(sz), "%lld", (long long)size);
		if (i + 1 == nh)
			snprintf(id, sizeof(id), no_trunc ? "sha256:%s" : "%.12s", img->id);
		else
			snprintf(id, sizeof(id), "<missing>");
		_cleanup_free_ char *by1 = xstrdup(by ? by : "");
		for (char *p = by1; *p; p++)
			if (*p == '\t')
				*p = ' ';
		_cleanup_free_ char *shown = no_trunc ? xstrdup(by1) : ellipsis(by1, 45);
		json_array_insert_new(rows, 0,
				      json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id,
						"CreatedSince", human ? age : when, "CreatedAt", when,
						"CreatedBy", shown, "Size", sz, "Comment",
						comment ? comment : ""));
	}
	if (quiet)
		return template_print_list(stdout, "{{.ID}}", rows, e);
	if (format) {
		static const char *const headers[] = {
			"ID", "IMAGE", "CreatedSince", "CREATED", "CreatedAt", "CREATED AT",
			"CreatedBy", "CREATED BY", "Size", "SIZE", "Comment", "COMMENT", NULL,
		};
		return template_print_table(stdout, format, rows, headers, e);
	}
	struct buf b = { 0 };
	size_t i;
	json_t *row;
	buf_printf(&b, "IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT\n");
	json_array_foreach(rows, i, row)
		buf_printf(&b, "%s\t%s\t%s\t%s\t%s\n", json_str(row, "ID"), json_str(row, "CreatedSince"),
			   json_str(row, "CreatedBy"), json_str(row, "Size"), json_str(row, "Comment"));
	table_print(stdout, b.data);
	buf_release(&b);
	return 0;
}
