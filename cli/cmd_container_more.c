/* kiln restart, rename, pause, unpause, container prune, system prune. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "build/build.h"
#include "cli/container.h"
#include "storage/volumes.h"

typedef int (*one_fn)(struct cli *c, const char *arg, void *ctx, struct kerror *e);

/* Each argument in turn; failures printed, 125 if any (the last one's
 * error is the command's when it is the only failure). */
static int each(struct cli *c, int argc, char **argv, const char *cmd, one_fn fn, void *ctx,
		struct kerror *e)
{
	int failed = 0;
	if (optind >= argc)
		return kerror_set(e, EINVAL, "\"kiln %s\" requires at least 1 argument", cmd);
	for (int i = optind; i < argc; i++) {
		struct kerror one = { 0 };
		int r = fn(c, argv[i], ctx, &one);
		if (r < 0) {
			if (i + 1 == argc && !failed) {
				*e = one;
				return r;
			}
			fprintf(stderr, "Error: %s\n", one.msg);
			failed = 1;
		}
		kerror_release(&one);
	}
	return failed ? kerror_set(e, EIO, "some containers failed") : 0;
}

static int restart_one(struct cli *c, const char *arg, void *ctx, struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	struct run_plan p = { 0 };
	struct store *s;
	int code = 0, r = container_get(c, arg, &ctr, e);
	if (r == 0)
		r = container_stop(c, ctr, *(int *)ctx, e);
	if (r == 0)
		r = cli_store(c, &s, e);
	if (r == 0)
		r = run_plan_from_json(ctr->plan, &p, e);
	if (r == 0)
		r = container_detach(c, ctr, &p, false, 0, &code, e);
	run_plan_release(&p);
	if (r < 0) {
		c->exit_code = code ? code : 125;
	} else {
		/* Docker's: after the stop's and the start's events (through
		 * the CLI's current store: starting may reopen it) */
		struct kerror e2 = { 0 };
		if (cli_store(c, &s, &e2) == 0)
			store_container_event(s, ctr, "restart", NULL, NULL);
		kerror_release(&e2);
		printf("%s\n", arg);
	}
	return r;
}

int cmd_restart(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "time", required_argument, NULL, 't' },
					      { "timeout", required_argument, NULL, 't' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	int opt, timeout = -1;
	while ((opt = cli_getopt(argc, argv, "t:h", opts, e)) != -1) {
		if (opt == 't') {
			char *end;
			long t = strtol(optarg, &end, 10);
			if (!*optarg || *end)
				return kerror_set(e, EINVAL, "invalid argument \"%s\" for \"-t, "
							     "--time\" flag", optarg);
			timeout = t < 0 ? 0 : (int)t;
		} else if (opt == 'h') {
			return cli_usage("kiln restart [options] CONTAINER [CONTAINER...]",
					 "  -t, --time int   Seconds to wait for stop before killing "
					 "the container (default 10)\n");
		} else {
			return -EINVAL;
		}
	}
	return each(c, argc, argv, "restart", restart_one, &timeout, e);
}

static bool name_ok(const char *n)
{
	size_t len = strlen(n);
	if (len < 1 || len > 128)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = n[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9');
		if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
			return false;
	}
	return true;
}

int cmd_rename(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	_cleanup_container_info_ struct container_info *ctr = NULL;
	struct store *s;
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "h", opts, e)) != -1) {
		if (opt == 'h')
			return cli_usage("kiln rename CONTAINER NAME", "");
		return -EINVAL;
	}
	if (argc - optind != 2)
		return kerror_set(e, EINVAL, "\"kiln rename\" requires exactly 2 arguments");
	const char *name = argv[optind + 1];
	if (name[0] == '/')
		name++;
	if (!name_ok(name))
		return kerror_set(e, EINVAL, "Invalid container name (%s), only "
					     "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
				  argv[optind + 1]);
	r = container_get(c, argv[optind], &ctr, e);
	if (r == 0)
		r = cli_store(c, &s, e);
	if (r == 0 && strcmp(ctr->name, name))
		r = store_container_rename(s, ctr->id, name, e);
	return r;
}

static int pause_one(struct cli *c, const char *arg, void *ctx, struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	struct store *s;
	int r = container_get(c, arg, &ctr, e);
	if (r == 0)
		r = cli_store(c, &s, e);
	if (r == 0)
		r = ctx ? run_pause(s, ctr, e) : run_unpause(s, ctr, e);
	if (r == 0)
		printf("%s\n", arg);
	return r;
}

static int pause_cmd(struct cli *c, int argc, char **argv, bool pause, struct kerror *e)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	bool all = false;
	int opt, r = 0;
	while ((opt = cli_getopt(argc, argv, "ah", opts, e)) != -1) {
		if (opt == 'a')
			all = true;
		else if (opt == 'h')
			return cli_usage(pause ? "kiln pause CONTAINER [CONTAINER...]"
					       : "kiln unpause CONTAINER [CONTAINER...]",
					 "  -a, --all   All running containers\n");
		else
			return -EINVAL;
	}
	if (all) {
		struct container_info **list = NULL;
		struct store *s;
		size_t n = 0;
		r = cli_store(c, &s, e);
		if (r == 0)
			r = store_container_list(s, &list, &n, e);
		for (size_t i = 0; r == 0 && i < n; i++) {
			if (list[i]->state != CTR_RUNNING ||
			    run_is_paused(s, list[i]->id) == pause)
				continue;
			r = pause_one(c, list[i]->id, pause ? (void *)1 : NULL, e);
		}
		container_list_free(list, n);
		return r;
	}
	return each(c, argc, argv, pause ? "pause" : "unpause", pause_one,
		    pause ? (void *)1 : NULL, e);
}

int cmd_pause(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return pause_cmd(c, argc, argv, true, e);
}

int cmd_unpause(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return pause_cmd(c, argc, argv, false, e);
}

/* Removes every container that does not run; prints docker's section. */
static int prune_containers(struct cli *c, uint64_t *bytes, struct kerror *e)
{
	struct container_info **list = NULL;
	struct store *s;
	size_t n = 0;
	bool header = false;
	int r = cli_store(c, &s, e);
	if (r == 0)
		r = store_container_list(s, &list, &n, e);
	for (size_t i = 0; r == 0 && i < n; i++) {
		_cleanup_container_info_ struct container_info *cur = NULL;
		if (container_get(c, list[i]->id, &cur, NULL) < 0 || cur->state == CTR_RUNNING)
			continue;
		_cleanup_free_ char *dir = store_container_dir(s, cur->id);
		uint64_t b = 0;
		fs_disk_usage(dir, &b, NULL);
		run_rootfs_release(s, cur);
		r = store_container_remove(s, cur->id, e);
		if (r == -ENOENT) {
			kerror_release(e);
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		*bytes += b;
		if (!header)
			printf("Deleted Containers:\n");
		header = true;
		printf("%s\n", cur->id);
	}
	if (header)
		printf("\n");
	container_list_free(list, n);
	return r;
}

int cmd_container_prune(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	bool force = false;
	uint64_t bytes = 0;
	char sz[32];
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "fh", opts, e)) != -1) {
		if (opt == 'f')
			force = true;
		else if (opt == 'h')
			return cli_usage("kiln container prune [OPTIONS]",
					 "  -f, --force   Do not prompt for confirmation\n");
		else
			return -EINVAL;
	}
	if (!force && !cli_confirm("WARNING! This will remove all stopped containers."))
		return 0;
	r = prune_containers(c, &bytes, e);
	if (r < 0)
		return r;
	format_size(bytes, sz, sizeof(sz));
	printf("Total reclaimed space: %s\n", sz);
	return 0;
}

int cmd_system_prune(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' },
					      { "force", no_argument, NULL, 'f' },
					      { "volumes", no_argument, NULL, 'V' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	bool all = false, force = false, volumes = false;
	_cleanup_strv_ char **removed = NULL;
	uint64_t bytes = 0;
	struct store *s;
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "afh", opts, e)) != -1) {
		switch (opt) {
		case 'a': all = true; break;
		case 'f': force = true; break;
		case 'V': volumes = true; break;
		case 'h':
			return cli_usage("kiln system prune [OPTIONS]",
					 "  -a, --all       Remove all unused images not just "
					 "dangling ones\n"
					 "  -f, --force     Do not prompt for confirmation\n"
					 "      --volumes   Prune anonymous volumes\n");
		default: return -EINVAL;
		}
	}
	if (!force) {
		struct buf w = { 0 };
		buf_printf(&w, "WARNING! This will remove:\n  - all stopped containers\n");
		if (volumes)
			buf_printf(&w, "  - all anonymous volumes not used by at least one "
				       "container\n");
		buf_printf(&w, all ? "  - all images without at least one container associated "
				     "to them\n"
				   : "  - all dangling images\n");
		buf_printf(&w, "  - unused build cache\n");
		_cleanup_free_ char *t = buf_steal(&w);
		if (!cli_confirm(t))
			return 0;
	}
	r = prune_containers(c, &bytes, e);
	if (r == 0 && volumes)
		r = volume_prune_run(c, false, &bytes, &removed, e);
	if (r == 0 && removed) {
		printf("Deleted Volumes:\n");
		for (size_t i = 0; removed[i]; i++)
			printf("%s\n", removed[i]);
		printf("\n");
	}
	if (r == 0)
		r = cli_store(c, &s, e);
	if (r == 0)
		r = build_prune(s, false, 0, &(struct build_prune_stats){ 0 }, e);
	if (r < 0)
		return r;
	/* images last: the containers that held them are gone; image prune
	 * prints its own section and the reclaimed total (images only). */
	char *args[] = { (char *)"prune", (char *)"-f", all ? (char *)"-a" : NULL, NULL };
	fflush(stdout);
	optind = 0;
	return cmd_image_prune(c, all ? 3 : 2, args, e);
}
