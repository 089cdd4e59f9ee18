/* kiln system df, and the `kiln system` dispatcher. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/container.h"

struct df_image {
	const struct image_info *img;
	uint64_t size, shared, unique;
};

static int layer_users(struct image_info **list, size_t n, const char *layer)
{
	int users = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; list[i]->layers && list[i]->layers[k]; k++)
			if (strcmp(list[i]->layers[k], layer) == 0) {
				users++;
				break;
			}
	return users;
}

static uint64_t layer_bytes(const struct layer_usage *u, size_t nu, const char *id)
{
	for (size_t i = 0; i < nu; i++)
		if (strcmp(u[i].id, id) == 0)
			return u[i].bytes;
	return 0;
}

static int cmd_df(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct image_info **list = NULL;
	struct layer_usage *usage = NULL;
	size_t n = 0, nu = 0;
	bool verbose = false;
	const char *format = NULL;
	struct store *s;
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "vh", opts, e)) != -1) {
		switch (opt) {
		case 'v': verbose = true; break;
		case 'F': format = optarg; break;
		case 'h':
			return cli_usage("kiln system df [OPTIONS]",
					 "      --format string   Format output using a Go template\n"
					 "  -v, --verbose         Show detailed information on space usage\n");
		default: return -EINVAL;
		}
	}
	r = cli_store(c, &s, e);
	if (r == 0)
		r = store_image_list(s, &list, &n, e);
	if (r < 0)
		return r;
	/* The list has no layer chains: look each image up for them. */
	for (size_t i = 0; i < n && r == 0; i++) {
		struct image_info *full = NULL;
		r = store_image_lookup(s, list[i]->id, &full, e);
		if (r == 0) {
			image_info_free(list[i]);
			list[i] = full;
		}
	}
	if (r == 0)
		r = store_layers_usage(s, &usage, &nu, e);
	if (r < 0) {
		image_list_free(list, n);
		return r;
	}

	/* Shared layers are counted once in the total. */
	uint64_t total = 0;
	for (size_t k = 0; k < nu; k++)
		total += usage[k].bytes;
	struct df_image *per = xcalloc(n ? n : 1, sizeof(*per));
	for (size_t i = 0; i < n; i++) {
		char cfg[DIGEST_STR_LEN + 1];
		snprintf(cfg, sizeof(cfg), "sha256:%s", list[i]->id);
		uint64_t own = store_blob_usage(s, cfg) + store_blob_usage(s, list[i]->manifest_digest);
		total += own;
		per[i].img = list[i];
		per[i].unique = own;
		for (size_t k = 0; list[i]->layers[k]; k++) {
			uint64_t b = layer_bytes(usage, nu, list[i]->layers[k]);
			if (layer_users(list, n, list[i]->layers[k]) > 1)
				per[i].shared += b;
			else
				per[i].unique += b;
		}
		per[i].size = per[i].shared + per[i].unique;
	}

	char tot[32], rec[64];
	format_size_precision(total, 4, tot, sizeof(tot));
	snprintf(rec, sizeof(rec), "%s (%d%%)", tot, total ? 100 : 0);
	_cleanup_json_ json_t *rows = json_pack(
		"[{s:s, s:I, s:I, s:s, s:s}, {s:s, s:I, s:I, s:s, s:s},"
		" {s:s, s:I, s:I, s:s, s:s}, {s:s, s:I, s:I, s:s, s:s}]",
		"Type", "Images", "TotalCount", (json_int_t)n, "Active", (json_int_t)0, "Size", tot,
		"Reclaimable", rec, "Type", "Containers", "TotalCount", (json_int_t)0, "Active",
		(json_int_t)0, "Size", "0B", "Reclaimable", "0B", "Type", "Local Volumes",
		"TotalCount", (json_int_t)0, "Active", (json_int_t)0, "Size", "0B", "Reclaimable",
		"0B", "Type", "Build Cache", "TotalCount", (json_int_t)0, "Active", (json_int_t)0,
		"Size", "0B", "Reclaimable", "0B");
	/* Exact byte counts for scripts (and for the tests). */
	for (size_t i = 0; i < json_array_size(rows); i++)
		json_object_set_new(json_array_get(rows, i), "SizeBytes",
				    json_integer(i == 0 ? (json_int_t)total : 0));

	if (format && !verbose) {
		static const char *const headers[] = {
			"Type", "TYPE", "TotalCount", "TOTAL", "Active", "ACTIVE", "Size", "SIZE",
			"Reclaimable", "RECLAIMABLE", NULL,
		};
		r = template_print_table(stdout, format, rows, headers, e);
	} else if (!verbose) {
		struct buf b = { 0 };
		size_t i;
		json_t *row;
		buf_printf(&b, "TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE\n");
		json_array_foreach(rows, i, row)
			buf_printf(&b, "%s\t%lld\t%lld\t%s\t%s\n", json_str(row, "Type"),
				   (long long)json_int(row, "TotalCount", 0),
				   (long long)json_int(row, "Active", 0), json_str(row, "Size"),
				   json_str(row, "Reclaimable"));
		table_print(stdout, b.data);
		buf_release(&b);
	} else {
		struct buf b = { 0 };
		int64_t now = (int64_t)time(NULL);
		printf("Images space usage:\n\n");
		buf_printf(&b, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\t"
			       "CONTAINERS\n");
		for (size_t i = 0; i < n; i++) {
			char age[64], a[32], sh[32], un[32];
			format_age(list[i]->created, now, age, sizeof(age));
			format_size_precision(per[i].size, 4, a, sizeof(a));
			format_size_precision(per[i].shared, 4, sh, sizeof(sh));
			format_size_precision(per[i].unique, 4, un, sizeof(un));
			size_t names = strv_len(list[i]->names);
			for (size_t k = 0; k < (names ? names : 1); k++) {
				_cleanup_free_ char *repo = NULL, *tag = NULL;
				if (names) {
					repo = image_familiar(list[i]->names[k]);
					char *colon = strrchr(repo, ':');
					if (colon && !strchr(colon, '/')) {
						tag = xstrdup(colon + 1);
						*colon = '\0';
					}
				}
				buf_printf(&b, "%s\t%s\t%.12s\t%s\t%s\t%s\t%s\t0\n",
					   repo ? repo : "<none>", tag ? tag : "<none>", list[i]->id,
					   age, a, sh, un);
			}
		}
		table_print(stdout, b.data);
		buf_release(&b);
		printf("\nContainers space usage:\n\n");
		table_print(stdout, "CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES\n");
		printf("\nLocal Volumes space usage:\n\n");
		table_print(stdout, "VOLUME NAME\tLINKS\tSIZE\n");
		printf("\nBuild cache usage: 0B\n\n");
		table_print(stdout, "CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED\n");
	}
	free(per);
	free(usage);
	image_list_free(list, n);
	return r;
}

int cmd_system(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct command system_commands[] = {
		{ "check", cmd_system_check, "Check the store's consistency" },
		{ "df", cmd_df, "Show kiln disk usage" },
		{ "events", cmd_events, "Get real time events from the server" },
		{ "info", cmd_info, "Display system-wide information" },
		{ "prune", cmd_system_prune, "Remove unused data" },
		{ "reset", cmd_system_reset, "Reset kiln storage back to the initial state" },
		{ "restart-containers", cmd_system_restart_containers,
		  "Start the containers whose restart policy asks for it (after a reboot)" },
		{ "service", cmd_service, "Run an API service (Docker-compatible)" },
	};
	return CLI_DISPATCH(c, argc, argv, "system", "Manage kiln", system_commands, e);
}
