/* kiln's entry point: global options, then one subcommand. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/container.h"
#include "cli/registry_flags.h"
#include "run/run.h"

static const struct command commands[] = {
	{ "build", cmd_build, "Build an image from a Containerfile" },
	{ "builder", cmd_builder, "Manage the build cache" },
	{ "bud", cmd_build, "Build an image from a Containerfile (buildah's name)" },
	{ "commit", cmd_commit, "Create a new image from a container's changes" },
	{ "container", cmd_container, "Manage containers" },
	{ "copy", cmd_copy, "Copy an image from one location to another" },
	{ "cp", cmd_cp, "Copy files/folders between a container and the local filesystem" },
	{ "create", cmd_create, "Create but do not start a container" },
	{ "diff", cmd_diff, "Inspect changes to a container's filesystem" },
	{ "events", cmd_events, "Get real time events from the server" },
	{ "exec", cmd_exec, "Run a process in a running container" },
	{ "export", cmd_export, "Export a container's filesystem contents as a tar archive" },
	{ "generate-sigstore-key", cmd_generate_sigstore_key, "Generate a sigstore key pair", CMD_NO_USERNS },
	{ "history", cmd_history, "Show the history of an image" },
	{ "image", cmd_image, "Manage images" },
	{ "images", cmd_images, "List images in local storage" },
	{ "import", cmd_import, "Import a tarball to create a filesystem image" },
	{ "kill", cmd_kill, "Kill one or more running containers with a specific signal" },
	{ "logs", cmd_logs, "Fetch the logs of one or more containers" },
	{ "pause", cmd_pause, "Pause all the processes in one or more containers" },
	{ "attach", cmd_attach, "Attach to a running container" },
	{ "healthcheck", cmd_healthcheck, "Manage health checks on containers" },
	{ "mount", cmd_mount, "Mount a working container's root filesystem" },
	{ "pod", cmd_pod, "Manage pods" },
	{ "stats", cmd_stats, "Display a live stream of container resource usage statistics" },
	{ "top", cmd_top, "Display the running processes of a container" },
	{ "umount", cmd_unmount, "Unmount working container's root filesystem" },
	{ "unmount", cmd_unmount, "Unmount working container's root filesystem" },
	{ "manifest", cmd_manifest, "Manipulate manifest lists and image indexes" },
	{ "ps", cmd_ps, "List containers" },
	{ "rename", cmd_rename, "Rename an existing container" },
	{ "restart", cmd_restart, "Restart one or more containers" },
	{ "rm", cmd_rm, "Remove one or more containers" },
	{ "run", cmd_run, "Run a command in a new container" },
	{ "start", cmd_start, "Start one or more containers" },
	{ "stop", cmd_stop, "Stop one or more containers" },
	{ "wait", cmd_wait, "Block on one or more containers" },
	{ "info", cmd_info, "Display system-wide information" },
	{ "inspect", cmd_inspect_any, "Display the configuration of an object" },
	{ "list-tags", cmd_list_tags, "List the tags of a repository in a registry", CMD_NO_USERNS },
	{ "load", cmd_load, "Load image(s) from a tar archive or STDIN" },
	{ "login", cmd_login, "Log in to a container registry", CMD_NO_USERNS },
	{ "logout", cmd_logout, "Log out of a container registry", CMD_NO_USERNS },
	{ "pull", cmd_pull, "Pull an image from a registry" },
	{ "push", cmd_push, "Push an image to a specified destination" },
	{ "rmi", cmd_rmi, "Remove one or more images from local storage" },
	{ "save", cmd_save, "Save image(s) to an archive" },
	{ "tag", cmd_tag, "Add an additional name to a local image" },
	{ "system", cmd_system, "Manage kiln" },
	{ "unshare", cmd_unshare, "Run a command in a modified user namespace" },
	{ "unpause", cmd_unpause, "Unpause the processes in one or more containers" },
	{ "untag", cmd_untag, "Remove a name from a local image" },
	{ "version", cmd_version, "Display the kiln version information", CMD_NO_USERNS },
	{ "volume", cmd_volume, "Manage volumes" },
	{ "network", cmd_network, "Manage networks" },
	{ "port", cmd_port, "List port mappings or a specific mapping for the container" },
};

static int cmp_command(const void *a, const void *b)
{
	return strcmp((*(const struct command *const *)a)->name,
		      (*(const struct command *const *)b)->name);
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: kiln [options] COMMAND [ARG...]\n\n"
		     "Build, keep, move and run OCI container images.\n\n"
		     "Commands:\n");
	/* Sorted, names aligned (the table itself is in no particular order). */
	const struct command *sorted[ARRAY_SIZE(commands)];
	int width = 10;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		sorted[i] = &commands[i];
		if ((int)strlen(commands[i].name) > width)
			width = (int)strlen(commands[i].name);
	}
	qsort(sorted, ARRAY_SIZE(commands), sizeof(sorted[0]), cmp_command);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-*s %s\n", width, sorted[i]->name, sorted[i]->summary);
	fprintf(out, "\nOptions:\n"
		     "      --log-level string        Log messages at and above this level "
		     "(trace, debug, info, warn, error, fatal, panic) (default \"warn\")\n"
		     "      --root string             Path to the root directory in which data "
		     "is stored\n"
		     "      --runroot string          Path to the state directory\n"
		     "      --storage-driver string   Storage driver (overlay)\n"
		     "      --storage-conf string     storage.conf to read instead of the default\n"
		     "  -v, --version                 Print version information and quit\n");
}

/* $XDG_RUNTIME_DIR when it is the user's own directory (runuser and su keep
 * root's), else /tmp/kiln-run-UID as Podman's /tmp/podman-run-UID. */
static char *rootless_run_dir(void)
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	if (x && x[0] == '/' && stat(x, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (st.st_uid == fs_host_uid() || (geteuid() == 0 && st.st_uid == 0 && getenv("KILN_ROOTLESS_UID"))))
		return xasprintf("%s/kiln", x);
	return xasprintf("/tmp/kiln-run-%u", fs_host_uid());
}

static char *default_root(bool run)
{
	const char *x;
	if (!run_rootless())
		return xstrdup(run ? "/run/kiln" : "/var/lib/kiln");
	if (run)
		return rootless_run_dir();
	x = getenv("XDG_DATA_HOME");
	if (x && *x)
		return xasprintf("%s/kiln", x);
	x = getenv("HOME");
	return xasprintf("%s/.local/share/kiln", x && *x ? x : "/tmp");
}

int cli_store(struct cli *c, struct store **out, struct kerror *e)
{
	if (!c->store) {
		struct storage_conf conf = { 0 };
		struct store_opts o = { 0 };
		_cleanup_free_ char *root = NULL, *runroot = NULL, *driver = NULL;
		int r = storage_conf_load(c->storage_conf, &conf, e);
		if (r < 0)
			return r;
		root = xstrdup(c->root ? c->root : conf.graphroot ? conf.graphroot : "");
		if (!*root) {
			free(root);
			root = default_root(false);
		}
		runroot = c->runroot ? xstrdup(c->runroot)
			  : conf.runroot ? xstrdup(conf.runroot)
					 : default_root(true);
		driver = xstrdup(c->driver ? c->driver : conf.driver ? conf.driver : "overlay");
		storage_conf_release(&conf);
		o.root = root;
		o.runroot = runroot;
		o.driver = driver;
		/* How long to wait for the store lock, in seconds (default 60). */
		const char *lt = getenv("KILN_LOCK_TIMEOUT");
		if (lt && *lt) {
			char *end;
			double secs = strtod(lt, &end);
			if (*end || !(secs > 0) || secs > 86400)
				return kerror_set(e, EINVAL, "invalid KILN_LOCK_TIMEOUT \"%s\": "
						  "seconds between 0 and 86400 expected", lt);
			o.lock_timeout_ms = (int)(secs * 1000);
			if (o.lock_timeout_ms < 1)
				o.lock_timeout_ms = 1;
		}
		r = store_open(&o, &c->store, e);
		if (r < 0)
			return r;
	}
	*out = c->store;
	return 0;
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
	       struct kerror *e)
{
	int opt;
	opterr = 0;
	opt = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (opt == '?' || opt == ':') {
		const char *bad = argv[optind - 1];
		if (optopt && strchr(shortopts, optopt) && optopt != '?')
			kerror_set(e, EINVAL, "flag needs an argument: '%c' in -%c", optopt, optopt);
		else if (optopt)
			kerror_set(e, EINVAL, "unknown shorthand flag: '%c' in -%c", optopt, optopt);
		else if (bad && strchr(bad, '=') == NULL && str_has_prefix(bad, "--") &&
			 optind <= argc && longopts) {
			bool known = false;
			for (const struct option *o = longopts; o->name; o++)
				if (strcmp(o->name, bad + 2) == 0)
					known = true;
			if (known)
				kerror_set(e, EINVAL, "flag needs an argument: %s", bad);
			else
				kerror_set(e, EINVAL, "unknown flag: %s", bad);
		} else {
			kerror_set(e, EINVAL, "unknown flag: %s", bad ? bad : "?");
		}
		return '?';
	}
	return opt;
}

bool cli_confirm(const char *warning)
{
	char line[16];
	fprintf(stderr, "%s\nAre you sure you want to continue? [y/N] ", warning);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}

int cli_usage(const char *usage_text, const char *options)
{
	printf("Usage: %s\n", usage_text);
	if (options && *options)
		printf("\nOptions:\n%s", options);
	return 0;
}

bool cli_wants_usage(int argc, char **argv, const char *usage_text)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cli_usage(usage_text, NULL);
			return true;
		}
	return false;
}

int cli_parse_bool(const char *flag, const char *v, bool *out, struct kerror *e)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "t") || !strcmp(v, "TRUE"))
		*out = true;
	else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "f") || !strcmp(v, "FALSE"))
		*out = false;
	else
		return kerror_set(e, EINVAL, "invalid argument \"%s\" for \"%s\" flag: "
					     "strconv.ParseBool: parsing \"%s\": invalid syntax",
				  v, flag, v);
	return 0;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* "--help" among the leading flags, or a lone "-h": usage only, no user
 * namespace.  (A command's own arguments, "run IMAGE httpd -h /www", and
 * run's -h HOSTNAME are not help.) */
static bool wants_help(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "-h"))
		return true;
	for (int i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help"))
			return true;
	}
	return false;
}

enum { OPT_ROOT = 256, OPT_RUNROOT, OPT_DRIVER, OPT_LOG_LEVEL, OPT_STORAGE_CONF };

int main(int argc, char **argv)
{
	static const struct option globals[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "runroot", required_argument, NULL, OPT_RUNROOT },
		{ "storage-driver", required_argument, NULL, OPT_DRIVER },
		{ "storage-conf", required_argument, NULL, OPT_STORAGE_CONF },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { 0 };
	struct kerror e = { 0 };
	const struct command *cmd;
	int opt, r;

	/* The syncer a commit started (storage/syncer.c). */
	if (argc >= 2 && strcmp(argv[1], STORE_SYNCER_ARG) == 0)
		return store_syncer_main(argc, argv);
	store_background_sync(true);
	log_set_level(LOG_WARN);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+hv", globals, NULL)) != -1) {
		switch (opt) {
		case OPT_ROOT: free(c.root); c.root = xstrdup(optarg); break;
		case OPT_RUNROOT: free(c.runroot); c.runroot = xstrdup(optarg); break;
		case OPT_DRIVER: free(c.driver); c.driver = xstrdup(optarg); break;
		case OPT_STORAGE_CONF: free(c.storage_conf); c.storage_conf = xstrdup(optarg); break;
		case OPT_LOG_LEVEL: {
			enum log_level l;
			if (log_level_parse(optarg, &l) < 0) {
				fprintf(stderr, "Error: invalid log level \"%s\": must be one of trace, "
						"debug, info, warn, error, fatal, panic\n", optarg);
				return EXIT_KILN;
			}
			log_set_level(l);
			break;
		}
		case 'h': usage(stdout); return 0;
		case 'v': printf("kiln version %s\n", KILN_VERSION); return 0;
		default:
			fprintf(stderr, "Error: unknown flag: %s\nSee 'kiln --help'.\n", argv[optind - 1]);
			return EXIT_KILN;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_KILN;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "Error: unrecognized command `kiln %s`\nTry 'kiln --help' for more "
				"information\n", argv[optind]);
		return EXIT_KILN;
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* full getopt reset for the subcommand */
	if (geteuid() != 0 && !(cmd->flags & CMD_NO_USERNS) && !wants_help(argc, argv)) {
		_cleanup_free_ char *state = rootless_run_dir();
		if (run_userns_join(state, &e) < 0) {
			fprintf(stderr, "Error: rootless: %s\n", e.msg);
			kerror_release(&e);
			return EXIT_KILN;
		}
	}
	r = cmd->fn(&c, argc, argv, &e);
	fflush(stdout);
	if (r < 0) {
		fprintf(stderr, "Error: %s\n", e.msg ? e.msg : strerror(-r));
		r = c.exit_code ? c.exit_code : EXIT_KILN;
	}
	kerror_release(&e);
	store_close(c.store);
	free(c.root);
	free(c.runroot);
	free(c.driver);
	free(c.storage_conf);
	return r;
}
