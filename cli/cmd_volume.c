/* kiln volume create|ls|inspect|rm|prune, as docker volume prints them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cli/container.h"
#include "storage/volumes.h"

/* Names of the containers using each volume: a JSON object name → [ids]. */
static int volume_users(struct cli *c, json_t **out, struct kerror *e)
{
	struct container_info **list = NULL;
	struct store *s;
	size_t n = 0;
	int r = cli_store(c, &s, e);
	if (r == 0)
		r = store_container_list(s, &list, &n, e);
	if (r < 0)
		return r;
	*out = json_object();
	for (size_t i = 0; i < n; i++) {
		_cleanup_strv_ char **vols = run_plan_volumes(list[i]->plan);
		for (size_t k = 0; vols && vols[k]; k++) {
			json_t *a = json_object_get(*out, vols[k]);
			if (!a)
				json_object_set_new(*out, vols[k], a = json_array());
			json_array_append_new(a, json_string(list[i]->id));
		}
	}
	container_list_free(list, n);
	return 0;
}

static json_t *volume_json(struct store *s, const struct volume_info *v)
{
	char t[64];
	_cleanup_free_ char *mp = store_volume_path(s, v->name);
	format_rfc3339(v->created / 1000000000LL, 0, t, sizeof(t));
	return json_pack("{s:s, s:s, s:O, s:s, s:s, s:O, s:s}", "CreatedAt", t, "Driver",
			 "local", "Labels", v->labels, "Mountpoint", mp, "Name", v->name,
			 "Options", v->options, "Scope", "local");
}

/* KEY=VALUE (or KEY) into an object. */
static int add_kv(json_t *obj, const char *flag, const char *kv, struct kerror *e)
{
	const char *eq = strchr(kv, '=');
	if (eq == kv || !*kv)
		return kerror_set(e, EINVAL, "invalid argument \"%s\" for \"%s\" flag", kv, flag);
	_cleanup_free_ char *k = eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
	json_object_set_new(obj, k, json_string(eq ? eq + 1 : ""));
	return 0;
}

static int volume_create(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "driver", required_argument, NULL, 'd' }, { "label", required_argument, NULL, 'l' },
		{ "opt", required_argument, NULL, 'o' },    { "ignore", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },	    { NULL, 0, NULL, 0 },
	};
	_cleanup_json_ json_t *labels = json_object(), *options = json_object();
	_cleanup_free_ char *name = NULL;
	struct store *s;
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "d:l:o:h", opts, e)) != -1) {
		switch (opt) {
		case 'd':
			if (strcmp(optarg, "local"))
				return kerror_set(e, EINVAL, "volume driver \"%s\" is not supported "
							     "(local)", optarg);
			break;
		case 'l':
			if ((r = add_kv(labels, "--label", optarg, e)) < 0)
				return r;
			break;
		case 'o':
			/* kept for inspect; the local driver's mount options are not applied */
			if ((r = add_kv(options, "--opt", optarg, e)) < 0)
				return r;
			break;
		case 'i': break;
		case 'h':
			return cli_usage("kiln volume create [OPTIONS] [VOLUME]",
					 "  -d, --driver string   Specify volume driver name (default "
					 "\"local\")\n"
					 "  -l, --label list      Set metadata for a volume\n"
					 "  -o, --opt map         Set driver specific options\n");
		default: return -EINVAL;
		}
	}
	if (argc - optind > 1)
		return kerror_set(e, EINVAL, "\"kiln volume create\" requires at most 1 argument");
	if (optind < argc) {
		name = xstrdup(argv[optind]);
	} else {
		unsigned char b[32];
		struct buf hex = { 0 };
		if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
			return kerror_sys(e, errno, "generating a volume name");
		for (size_t i = 0; i < 32; i++)
			buf_printf(&hex, "%02x", b[i]);
		name = buf_steal(&hex);
	}
	r = cli_store(c, &s, e);
	if (r == 0)
		r = store_volume_create(s, name, labels, options, false, e);
	if (r == -EEXIST) /* docker: creating an existing volume returns it */
		r = 0;
	if (r == 0)
		printf("%s\n", name);
	return r;
}

struct vol_filter {
	char **names, **labels;
	int dangling; /* -1 any */
};

static int filter_parse(struct vol_filter *f, const char *spec, struct kerror *e)
{
	if (str_has_prefix(spec, "name="))
		strv_push(&f->names, xstrdup(spec + 5));
	else if (str_has_prefix(spec, "label="))
		strv_push(&f->labels, xstrdup(spec + 6));
	else if (!strcmp(spec, "dangling=true") || !strcmp(spec, "dangling=1"))
		f->dangling = 1;
	else if (!strcmp(spec, "dangling=false") || !strcmp(spec, "dangling=0"))
		f->dangling = 0;
	else
		return kerror_set(e, EINVAL, "invalid filter \"%s\"", spec);
	return 0;
}

static bool filter_match(const struct vol_filter *f, const struct volume_info *v, json_t *users)
{
	bool ok = !f->names;
	for (size_t i = 0; f->names && f->names[i]; i++)
		if (strstr(v->name, f->names[i]))
			ok = true;
	if (!ok)
		return false;
	for (size_t i = 0; f->labels && f->labels[i]; i++) {
		const char *eq = strchr(f->labels[i], '=');
		_cleanup_free_ char *k = eq ? xstrndup(f->labels[i], (size_t)(eq - f->labels[i]))
					    : xstrdup(f->labels[i]);
		json_t *val = json_object_get(v->labels, k);
		if (!val || (eq && strcmp(json_string_value(val) ?: "", eq + 1)))
			return false;
	}
	if (f->dangling >= 0 && (json_object_get(users, v->name) != NULL) == (f->dangling == 1))
		return false;
	return true;
}

static void filter_release(struct vol_filter *f)
{
	strv_free(f->names);
	strv_free(f->labels);
}

static int volume_ls(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },	      { "format", required_argument, NULL, 'F' },
		{ "filter", required_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vol_filter f = { .dangling = -1 };
	struct volume_info **list = NULL;
	_cleanup_json_ json_t *users = NULL, *items = json_array();
	const char *format = NULL;
	bool quiet = false;
	struct store *s;
	size_t n = 0;
	int opt, r = 0;
	while (r == 0 && (opt = cli_getopt(argc, argv, "qf:h", opts, e)) != -1) {
		switch (opt) {
		case 'q': quiet = true; break;
		case 'F': format = optarg; break;
		case 'f': r = filter_parse(&f, optarg, e); break;
		case 'h':
			filter_release(&f);
			return cli_usage("kiln volume ls [OPTIONS]",
					 "  -f, --filter filter   Provide filter values (e.g. "
					 "'dangling=true')\n"
					 "      --format string   Format output using a custom template\n"
					 "  -q, --quiet           Only display volume names\n");
		default: r = -EINVAL;
		}
	}
	if (r == 0)
		r = cli_store(c, &s, e);
	if (r == 0)
		r = volume_users(c, &users, e);
	if (r == 0)
		r = store_volume_list(s, &list, &n, e);
	if (r < 0) {
		filter_release(&f);
		return r;
	}
	struct buf tbl = { 0 };
	buf_printf(&tbl, "DRIVER\tVOLUME NAME\n");
	for (size_t i = 0; i < n; i++) {
		if (!filter_match(&f, list[i], users))
			continue;
		if (quiet)
			printf("%s\n", list[i]->name);
		buf_printf(&tbl, "local\t%s\n", list[i]->name);
		json_array_append_new(items, volume_json(s, list[i]));
	}
	if (!quiet) {
		static const char *const headers[] = { "Name", "VOLUME NAME", NULL };
		r = template_print_listing(stdout, format, items, headers, tbl.data, e);
	}
	buf_release(&tbl);
	volume_list_free(list, n);
	filter_release(&f);
	return r;
}

static int volume_inspect(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "all", no_argument, NULL, 'a' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	_cleanup_json_ json_t *all = json_array();
	const char *format = NULL;
	bool every = false;
	struct store *s;
	int opt, r, failed = 0;
	while ((opt = cli_getopt(argc, argv, "f:ah", opts, e)) != -1) {
		switch (opt) {
		case 'f': format = optarg; break;
		case 'a': every = true; break;
		case 'h':
			return cli_usage("kiln volume inspect [OPTIONS] VOLUME [VOLUME...]",
					 "  -f, --format string   Format the output using the given "
					 "Go template\n");
		default: return -EINVAL;
		}
	}
	if (optind >= argc && !every)
		return kerror_set(e, EINVAL, "\"kiln volume inspect\" requires at least 1 argument");
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	if (every) {
		struct volume_info **list = NULL;
		size_t n = 0;
		if ((r = store_volume_list(s, &list, &n, e)) < 0)
			return r;
		for (size_t i = 0; i < n; i++)
			json_array_append_new(all, volume_json(s, list[i]));
		volume_list_free(list, n);
	}
	for (int i = optind; i < argc; i++) {
		struct kerror one = { 0 };
		struct volume_info *v = NULL;
		if (store_volume_get(s, argv[i], &v, &one) < 0) {
			fprintf(stderr, "Error: %s\n", one.msg);
			kerror_release(&one);
			failed = 1;
			continue;
		}
		json_array_append_new(all, volume_json(s, v));
		volume_info_free(v);
	}
	if ((r = template_print_inspect(stdout, format, all, e)) < 0)
		return r;
	return failed;
}

/* Removes a volume no container uses. */
static int remove_unused(struct cli *c, json_t *users, const char *name, struct kerror *e)
{
	struct store *s;
	json_t *u = json_object_get(users, name);
	int r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	if (u) {
		struct buf ids = { 0 };
		size_t i;
		json_t *id;
		json_array_foreach(u, i, id)
			buf_printf(&ids, "%s%s", i ? " " : "", json_string_value(id));
		_cleanup_free_ char *t = buf_steal(&ids);
		return kerror_set(e, EBUSY, "remove %s: volume is in use - [%s]", name, t);
	}
	return store_volume_remove(s, name, e);
}

static int volume_rm(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	_cleanup_json_ json_t *users = NULL;
	bool force = false;
	int opt, r, failed = 0;
	while ((opt = cli_getopt(argc, argv, "fh", opts, e)) != -1) {
		if (opt == 'f')
			force = true;
		else if (opt == 'h')
			return cli_usage("kiln volume rm [OPTIONS] VOLUME [VOLUME...]",
					 "  -f, --force   Do not error if a volume does not exist\n");
		else
			return -EINVAL;
	}
	if (optind >= argc)
		return kerror_set(e, EINVAL, "\"kiln volume rm\" requires at least 1 argument");
	if ((r = volume_users(c, &users, e)) < 0)
		return r;
	for (int i = optind; i < argc; i++) {
		struct kerror one = { 0 };
		r = remove_unused(c, users, argv[i], &one);
		if (r == 0)
			printf("%s\n", argv[i]);
		else if (!(r == -ENOENT && force)) {
			if (i + 1 == argc && !failed) {
				*e = one;
				return r;
			}
			fprintf(stderr, "Error: %s\n", one.msg);
			failed = 1;
		}
		kerror_release(&one);
	}
	return failed ? kerror_set(e, EIO, "some volumes could not be removed") : 0;
}

int volume_prune_run(struct cli *c, bool all, uint64_t *reclaimed, char ***removed,
		     struct kerror *e)
{
	struct volume_info **list = NULL;
	_cleanup_json_ json_t *users = NULL;
	struct store *s;
	size_t n = 0;
	int r = cli_store(c, &s, e);
	if (r == 0)
		r = volume_users(c, &users, e);
	if (r == 0)
		r = store_volume_list(s, &list, &n, e);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (json_object_get(users, list[i]->name) || (!all && !list[i]->anonymous))
			continue;
		_cleanup_free_ char *dir = xasprintf("%s/volumes/%s", store_root(s), list[i]->name);
		uint64_t b = 0;
		fs_disk_usage(dir, &b, NULL);
		r = store_volume_remove(s, list[i]->name, e);
		if (r == -ENOENT) {
			kerror_release(e);
			r = 0;
			continue;
		}
		if (r == 0) {
			*reclaimed += b;
			strv_push(removed, xstrdup(list[i]->name));
		}
	}
	volume_list_free(list, n);
	return r;
}

static int volume_prune(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { "all", no_argument, NULL, 'a' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	_cleanup_strv_ char **removed = NULL;
	bool force = false, all = false;
	uint64_t bytes = 0;
	char sz[32];
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "fah", opts, e)) != -1) {
		if (opt == 'f')
			force = true;
		else if (opt == 'a')
			all = true;
		else if (opt == 'h')
			return cli_usage("kiln volume prune [OPTIONS]",
					 "  -a, --all     Remove all unused volumes, not just "
					 "anonymous ones\n"
					 "  -f, --force   Do not prompt for confirmation\n");
		else
			return -EINVAL;
	}
	if (!force && !cli_confirm(all ? "WARNING! This will remove all local volumes not used by "
				     "at least one container."
				   : "WARNING! This will remove anonymous local volumes not used "
				     "by at least one container."))
		return 0;
	r = volume_prune_run(c, all, &bytes, &removed, e);
	if (r < 0)
		return r;
	if (removed) {
		printf("Deleted Volumes:\n");
		for (size_t i = 0; removed[i]; i++)
			printf("%s\n", removed[i]);
		printf("\n");
	}
	format_size(bytes, sz, sizeof(sz));
	printf("Total reclaimed space: %s\n", sz);
	return 0;
}

static const struct command volume_commands[] = {
	{ "create", volume_create, "Create a volume" },
	{ "inspect", volume_inspect, "Display detailed information on one or more volumes" },
	{ "list", volume_ls, "List volumes" },
	{ "ls", volume_ls, "List volumes" },
	{ "prune", volume_prune, "Remove unused volumes" },
	{ "remove", volume_rm, "Remove one or more volumes" },
	{ "rm", volume_rm, "Remove one or more volumes" },
};

int cmd_volume(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return CLI_DISPATCH(c, argc, argv, "volume", "Manage volumes", volume_commands, e);
}

/* rm -v: the container's anonymous volumes no other container uses. */
int volume_remove_anonymous(struct cli *c, const char *plan, struct kerror *e)
{
	struct store *s;
	int r = cli_store(c, &s, e);
	if (r == 0)
		run_volumes_remove_anonymous(s, plan);
	return r;
}
