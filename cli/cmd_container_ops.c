/* kiln stop, kill, wait, rm, start. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli/container.h"

/* Waits up to timeout_ms for pid to exit (pidfd); true if it did. */
static bool wait_exit(pid_t pid, int timeout_ms)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd pf;
	bool gone;
	if (fd < 0)
		return errno == ESRCH;
	pf.fd = fd;
	pf.events = POLLIN;
	gone = poll(&pf, 1, timeout_ms) > 0;
	close(fd);
	return gone;
}

/* Blocks until the container's monitor released its lock, then reloads. */
static int wait_monitor(struct cli *c, struct container_info **ctr, struct kerror *e)
{
	struct store *s;
	_cleanup_free_ char *id = xstrdup((*ctr)->id);
	int fd, r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	r = run_lock(s, id, true, &fd, e);
	if (r < 0)
		return r;
	close(fd);
	container_info_free(*ctr);
	*ctr = NULL;
	return container_get(c, id, ctr, e);
}

/* A container event from the CLI (sig > 0 adds Docker's signal attribute);
 * never fails the command. */
static void container_event(struct cli *c, const struct container_info *ctr, const char *action,
			    int sig)
{
	struct store *s;
	struct kerror e = { 0 };
	char num[16];
	snprintf(num, sizeof(num), "%d", sig);
	if (cli_store(c, &s, &e) == 0)
		store_container_event(s, ctr, action, sig > 0 ? "signal" : NULL, num);
	kerror_release(&e);
}

int container_stop(struct cli *c, struct container_info *ctr, int timeout, struct kerror *e)
{
	struct run_plan p = { 0 };
	struct container_info *cur = ctr;
	int sig = SIGTERM, r;

	{
		/* no restart policy brings it back (its monitor may also be
		 * waiting to restart it right now) */
		struct store *s;
		struct kerror e2 = { 0 };
		if (cli_store(c, &s, &e2) == 0)
			run_mark_stopped(s, ctr->id, true);
		kerror_release(&e2);
	}
	if (ctr->state != CTR_RUNNING || ctr->pid <= 0)
		return 0;
	{
		/* a frozen process would not see the signal: thaw first, as docker */
		struct store *s;
		struct kerror e2 = { 0 };
		if (cli_store(c, &s, &e2) == 0 && run_is_paused(s, ctr->id))
			run_unpause(s, ctr, &e2);
		kerror_release(&e2);
	}
	if (run_plan_from_json(ctr->plan, &p, NULL) == 0) {
		sig = p.stop_signal > 0 ? p.stop_signal : SIGTERM;
		if (timeout < 0)
			timeout = p.stop_timeout;
	}
	run_plan_release(&p);
	if (timeout < 0)
		timeout = 10;
	container_event(c, ctr, "kill", sig);
	if (kill(ctr->pid, sig) < 0 && errno != ESRCH)
		return kerror_sys(e, errno, "sending signal %d to container %s", sig, ctr->name);
	if (!wait_exit(ctr->pid, timeout * 1000)) {
		log_warn("StopSignal %s failed to stop container %s in %d seconds, resorting to "
			 "SIGKILL", strsignal(sig), ctr->name, timeout);
		kill(ctr->pid, SIGKILL);
	}
	/* The monitor records the exit; wait for it. */
	struct container_info *copy = xcalloc(1, sizeof(*copy));
	memcpy(copy, cur, sizeof(*copy));
	copy->name = xstrdup(cur->name);
	copy->image_name = xstrdup(cur->image_name);
	copy->plan = xstrdup(cur->plan);
	r = wait_monitor(c, &copy, e);
	if (r == 0) {
		cur->state = copy->state;
		cur->exit_code = copy->exit_code;
		cur->pid = copy->pid;
		cur->finished = copy->finished;
		container_event(c, cur, "stop", 0);
	}
	container_info_free(copy);
	return r;
}

static int parse_time(const char *v, int *out, struct kerror *e)
{
	char *end;
	long t = strtol(v, &end, 10);
	if (!*v || *end)
		return kerror_set(e, EINVAL, "invalid argument \"%s\" for \"-t, --time\" flag", v);
	*out = t < 0 ? 0 : (int)t;
	return 0;
}

/* Runs fn on each argument; errors are printed, the command exits 125 if
 * any failed (Docker/Podman print each failure). */
typedef int (*each_fn)(struct cli *c, const char *arg, void *ctx, struct kerror *e);
static int for_each(struct cli *c, int argc, char **argv, const char *cmd, each_fn fn,
		    void *ctx, struct kerror *e)
{
	int failed = 0;
	if (optind >= argc)
		return kerror_set(e, EINVAL, "\"kiln %s\" requires at least 1 argument", cmd);
	for (int i = optind; i < argc; i++) {
		struct kerror one = { 0 };
		if (fn(c, argv[i], ctx, &one) < 0) {
			if (i + 1 == argc && !failed) {
				*e = one;
				return -(one.code ? one.code : EINVAL);
			}
			fprintf(stderr, "Error: %s\n", one.msg);
			failed = 1;
		}
		kerror_release(&one);
	}
	if (failed)
		return kerror_set(e, EIO, "some containers failed");
	return 0;
}

static int stop_one(struct cli *c, const char *arg, void *ctx, struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	int r = container_get(c, arg, &ctr, e);
	if (r == 0)
		r = container_stop(c, ctr, *(int *)ctx, e);
	if (r == 0)
		printf("%s\n", arg);
	return r;
}

int cmd_stop(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "time", required_argument, NULL, 't' },
					      { "timeout", required_argument, NULL, 't' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	int opt, r, timeout = -1;
	while ((opt = cli_getopt(argc, argv, "t:h", opts, e)) != -1) {
		if (opt == 't') {
			if ((r = parse_time(optarg, &timeout, e)) < 0)
				return r;
		} else if (opt == 'h')
			return cli_usage("kiln stop [options] CONTAINER [CONTAINER...]",
					 "  -t, --time int   Seconds to wait for stop before killing "
					 "the container (default 10)\n");
		else
			return -EINVAL;
	}
	return for_each(c, argc, argv, "stop", stop_one, &timeout, e);
}

static int kill_one(struct cli *c, const char *arg, void *ctx, struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	int r = container_get(c, arg, &ctr, e);
	if (r < 0)
		return r;
	if (ctr->state != CTR_RUNNING || ctr->pid <= 0)
		return kerror_set(e, EINVAL, "can only kill running containers. %.12s is in state "
					     "%s: container state improper",
				  ctr->id, ctr_state_name(ctr->state));
	container_event(c, ctr, "kill", *(int *)ctx);
	if (kill(ctr->pid, *(int *)ctx) < 0)
		return kerror_sys(e, errno, "sending a signal to container %s", ctr->name);
	printf("%s\n", arg);
	return 0;
}

int cmd_kill(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "signal", required_argument, NULL, 's' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	int opt, sig = SIGKILL;
	while ((opt = cli_getopt(argc, argv, "s:h", opts, e)) != -1) {
		if (opt == 's') {
			if ((sig = run_signal_parse(optarg)) < 0)
				return kerror_set(e, EINVAL, "invalid signal: %s", optarg);
		} else if (opt == 'h')
			return cli_usage("kiln kill [options] CONTAINER [CONTAINER...]",
					 "  -s, --signal string   Signal to send to the container "
					 "(default \"KILL\")\n");
		else
			return -EINVAL;
	}
	return for_each(c, argc, argv, "kill", kill_one, &sig, e);
}

static int wait_one(struct cli *c, const char *arg, void *ctx, struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	int r = container_get(c, arg, &ctr, e);
	(void)ctx;
	if (r == 0 && ctr->state == CTR_RUNNING)
		r = wait_monitor(c, &ctr, e);
	if (r == 0)
		printf("%d\n", ctr->exit_code);
	return r;
}

int cmd_wait(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	int opt;
	while ((opt = cli_getopt(argc, argv, "h", opts, e)) != -1) {
		if (opt == 'h')
			return cli_usage("kiln wait CONTAINER [CONTAINER...]", "");
		return -EINVAL;
	}
	return for_each(c, argc, argv, "wait", wait_one, NULL, e);
}

struct rm_opts {
	bool force, volumes;
};

int container_remove(struct cli *c, struct container_info *ctr, bool force, bool volumes,
		     struct kerror *e)
{
	struct store *s;
	int r;
	if (ctr->state == CTR_RUNNING) {
		if (!force)
			return kerror_set(e, EBUSY,
					  "cannot remove container %s as it is running - running "
					  "or paused containers cannot be removed without force: "
					  "container state improper",
					  ctr->id);
		r = container_stop(c, ctr, 0, e);
		if (r < 0)
			return r;
	}
	r = cli_store(c, &s, e);
	if (r == 0) {
		run_rootfs_release(s, ctr);
		r = store_container_remove(s, ctr->id, e);
	}
	if (r == 0 && volumes)
		r = volume_remove_anonymous(c, ctr->plan, e);
	return r;
}

static int rm_one(struct cli *c, const char *arg, void *ctx, struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	struct rm_opts *o = ctx;
	int r = container_get(c, arg, &ctr, e);
	if (r == 0)
		r = container_remove(c, ctr, o->force, o->volumes, e);
	if (r == 0)
		printf("%s\n", arg);
	return r;
}

int cmd_rm(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { "volumes", no_argument, NULL, 'v' },
					      { "all", no_argument, NULL, 'a' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct rm_opts o = { 0 };
	bool all = false;
	int opt;
	while ((opt = cli_getopt(argc, argv, "fvah", opts, e)) != -1) {
		switch (opt) {
		case 'f': o.force = true; break;
		case 'v': o.volumes = true; break;
		case 'a': all = true; break;
		case 'h':
			return cli_usage("kiln rm [options] CONTAINER [CONTAINER...]",
					 "  -a, --all       Remove all containers\n"
					 "  -f, --force     Force removal of a running container\n"
					 "  -v, --volumes   Remove anonymous volumes associated with the container\n");
		default: return -EINVAL;
		}
	}
	if (all) {
		struct container_info **list = NULL;
		struct store *s;
		size_t n = 0;
		int r = cli_store(c, &s, e);
		if (r == 0)
			r = store_container_list(s, &list, &n, e);
		for (size_t i = 0; r == 0 && i < n; i++)
			r = rm_one(c, list[i]->id, &o, e);
		container_list_free(list, n);
		return r;
	}
	return for_each(c, argc, argv, "rm", rm_one, &o, e);
}

struct start_opts {
	bool attach;
	int code;
};

static int start_one(struct cli *c, const char *arg, void *ctx, struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	struct start_opts *o = ctx;
	struct run_plan p = { 0 };
	struct store *s;
	int r = container_get(c, arg, &ctr, e);
	if (r < 0)
		return r;
	if (ctr->state == CTR_RUNNING) {
		if (!o->attach)
			printf("%s\n", arg);
		return 0;
	}
	r = cli_store(c, &s, e);
	if (r == 0)
		r = run_plan_from_json(ctr->plan, &p, e);
	if (r < 0)
		return r;
	if (p.infra_id) {
		/* a pod member: its pod's infra first (the store reopens) */
		r = pod_ensure_infra(c, p.infra_id, e);
		if (r == 0)
			r = cli_store(c, &s, e);
		if (r < 0) {
			run_plan_release(&p);
			return r;
		}
	}
	/* created with --rm */
	_cleanup_free_ char *dir = store_container_dir(s, ctr->id);
	_cleanup_free_ char *mark = xasprintf("%s/autoremove", dir);
	bool remove = fs_exists(mark);
	if (o->attach) {
		struct run_monitor_opts mo = { .ready_fd = -1, .remove = remove };
		r = run_monitor(s, ctr, &p, &mo, &o->code, e);
	} else {
		r = container_detach(c, ctr, &p, remove, 0, &o->code, e);
		if (r == 0)
			printf("%s\n", arg);
	}
	run_plan_release(&p);
	if (r < 0)
		c->exit_code = o->code;
	return r;
}

int cmd_start(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "attach", no_argument, NULL, 'a' },
					      { "interactive", no_argument, NULL, 'i' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct start_opts o = { 0 };
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "aih", opts, e)) != -1) {
		switch (opt) {
		case 'a': o.attach = true; break;
		case 'i': break;
		case 'h':
			return cli_usage("kiln start [options] CONTAINER [CONTAINER...]",
					 "  -a, --attach        Attach container's STDOUT and STDERR\n"
					 "  -i, --interactive   Attach container's STDIN\n");
		default: return -EINVAL;
		}
	}
	r = for_each(c, argc, argv, "start", start_one, &o, e);
	if (r < 0)
		return r;
	return o.attach ? o.code : 0;
}

/* kiln system restart-containers (for a boot unit or cron @reboot): the
 * containers whose policy is "always", or "unless-stopped" and that no
 * stop ended, are started again when their monitor is gone. */
int cmd_system_restart_containers(struct cli *c, int argc, char **argv, struct kerror *e)
{
	struct container_info **list = NULL;
	struct store *s;
	size_t n = 0;
	int r, failed = 0;
	if (cli_wants_usage(argc, argv, "kiln system restart-containers"))
		return 0;
	if (argc > 1)
		return kerror_set(e, EINVAL, "\"kiln system restart-containers\" takes no arguments");
	r = cli_store(c, &s, e);
	if (r == 0)
		r = store_container_list(s, &list, &n, e);
	for (size_t i = 0; r == 0 && i < n; i++) {
		_cleanup_container_info_ struct container_info *ctr = NULL;
		struct run_plan p = { 0 };
		struct kerror one = { 0 };
		int code, fd;
		if (container_get(c, list[i]->id, &ctr, NULL) < 0 || ctr->state == CTR_RUNNING)
			continue;
		if (run_plan_from_json(ctr->plan, &p, NULL) < 0)
			continue;
		r = cli_store(c, &s, e);
		if (r < 0) {
			run_plan_release(&p);
			break;
		}
		bool want = !strcmp(p.restart, "always") ||
			    (!strcmp(p.restart, "unless-stopped") && !run_stopped_by_user(s, ctr->id));
		/* a live monitor (waiting to restart it) has it in hand */
		if (want && run_lock(s, ctr->id, false, &fd, NULL) == 0)
			close(fd);
		else
			want = false;
		if (want) {
			if (container_detach(c, ctr, &p, false, 0, &code, &one) < 0) {
				fprintf(stderr, "Error: restarting %s: %s\n", ctr->name, one.msg);
				failed = 1;
			} else {
				printf("%s\n", ctr->id);
			}
		}
		kerror_release(&one);
		run_plan_release(&p);
	}
	container_list_free(list, n);
	return r < 0 ? r : failed;
}
