/* Health checks: the plan's test run in the container (an exec), its
 * result kept in <runroot>/containers/<id>/health.json as Docker's
 * State.Health ({Status, FailingStreak, Log[≤5]}), under an flock.  The
 * monitor runs it every interval; `kiln healthcheck run` runs it once. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run/run.h"

#define HEALTH_OUTPUT_MAX 4096 /* as Docker keeps */
#define HEALTH_LOG_MAX 5

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static char *health_path(struct store *s, const char *id, const char *name)
{
	_cleanup_free_ char *rd = store_container_rundir(s, id);
	return xasprintf("%s/%s", rd, name);
}

static int health_lock(struct store *s, const char *id)
{
	_cleanup_free_ char *path = health_path(s, id, "health.lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
			;
	return fd;
}

json_t *run_health_read(struct store *s, const char *id)
{
	_cleanup_free_ char *path = health_path(s, id, "health.json");
	_cleanup_free_ char *data = NULL;
	json_t *j = NULL;
	size_t len;
	if (fs_read_file(path, 1 << 20, &data, &len, NULL) < 0)
		return NULL;
	if (json_parse(data, len, &j, NULL) < 0 || !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static void health_write(struct store *s, const char *id, json_t *j)
{
	_cleanup_free_ char *path = health_path(s, id, "health.json");
	_cleanup_free_ char *text = json_dump_compact(j);
	_cleanup_kerror_ struct kerror e = { 0 };
	fs_write_atomic(path, text, strlen(text), 0600, &e);
}

void run_health_reset(struct store *s, const char *id)
{
	_cleanup_close_ int lock = health_lock(s, id);
	_cleanup_json_ json_t *j = json_pack("{s:s, s:i, s:[]}", "Status", "starting",
					     "FailingStreak", 0, "Log");
	health_write(s, id, j);
}

/* Runs the test with its output in a pipe, killed after the timeout.
 * *code: its exit status, -1 on a timeout. */
static int run_test(struct store *s, const struct container_info *c, const struct run_plan *p,
		    int *code, struct buf *output, struct kerror *e)
{
	char **t = p->health.test;
	char *shell[] = { "/bin/sh", "-c", NULL, NULL };
	int pipefd[2];
	pid_t pid;
	int64_t deadline = now_ns() + p->health.timeout;
	int status;

	if (!t || !t[0] || !t[1])
		return kerror_set(e, EINVAL, "container %s has no defined healthcheck", c->name);
	if (!strcmp(t[0], "CMD-SHELL"))
		shell[2] = t[1];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return kerror_sys(e, errno, "creating a pipe");
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return kerror_sys(e, errno, "forking the health check");
	}
	if (pid == 0) {
		struct kerror ce = { 0 };
		struct run_exec_opts xo = { .argv = shell[2] ? shell : t + 1 };
		int xc = 125, null = open("/dev/null", O_RDONLY);
		/* its own group: a timeout kills the exec'd command too */
		setpgid(0, 0);
		if (null >= 0)
			dup2(null, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		if (run_exec(s, c, &xo, &xc, &ce) < 0 && ce.msg)
			dprintf(2, "%s\n", ce.msg);
		_exit(xc);
	}
	setpgid(pid, pid);
	close(pipefd[1]);
	for (;;) {
		int64_t left = (deadline - now_ns()) / 1000000;
		struct pollfd pf = { pipefd[0], POLLIN, 0 };
		if (left <= 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			*code = -1;
			break;
		}
		int n = poll(&pf, 1, left > 1000 ? 1000 : (int)left);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0) {
			char buf[1024];
			ssize_t k = read(pipefd[0], buf, sizeof(buf));
			if (k <= 0) {
				*code = 0;
				break;
			}
			if (output->len < HEALTH_OUTPUT_MAX)
				buf_append(output, buf,
					   (size_t)k < HEALTH_OUTPUT_MAX - output->len
						   ? (size_t)k
						   : HEALTH_OUTPUT_MAX - output->len);
		}
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (*code != -1)
		*code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}

int run_health_check(struct store *s, const struct container_info *c, const struct run_plan *p,
		     bool *healthy, struct kerror *e)
{
	struct buf out = { 0 };
	char start[64], end[64];
	int64_t t0 = now_ns(), t1;
	int code = 1;
	int r;

	if (c->state != CTR_RUNNING || c->pid <= 0)
		return kerror_set(e, EINVAL, "container %s is not running", c->name);
	r = run_test(s, c, p, &code, &out, e);
	if (r < 0) {
		buf_release(&out);
		return r;
	}
	t1 = now_ns();
	format_rfc3339(t0 / 1000000000LL, (long)(t0 % 1000000000LL), start, sizeof(start));
	format_rfc3339(t1 / 1000000000LL, (long)(t1 % 1000000000LL), end, sizeof(end));
	if (code == -1) {
		buf_release(&out);
		buf_printf(&out, "Health check exceeded timeout (%llds)",
			   (long long)(p->health.timeout / 1000000000LL));
	}

	_cleanup_close_ int lock = health_lock(s, c->id);
	_cleanup_json_ json_t *j = run_health_read(s, c->id);
	if (!j)
		j = json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log");
	const char *status = json_str(j, "Status") ? json_str(j, "Status") : "starting";
	int64_t streak = json_int(j, "FailingStreak", 0);
	bool in_start = t0 - c->started < p->health.start_period;
	if (code == 0) {
		status = "healthy";
		streak = 0;
	} else if (!(in_start && !strcmp(status, "starting"))) {
		/* failures in the start period do not count until a first
		 * success, as Docker */
		streak++;
		if (streak >= p->health.retries)
			status = "unhealthy";
	}
	_cleanup_free_ char *st = xstrdup(status);
	json_t *log = json_object_get(j, "Log");
	if (!json_is_array(log)) {
		log = json_array();
		json_object_set_new(j, "Log", log);
	}
	json_array_append_new(log, json_pack("{s:s, s:s, s:i, s:s%}", "Start", start, "End", end,
					     "ExitCode", code, "Output",
					     out.data ? out.data : "", out.len));
	while (json_array_size(log) > HEALTH_LOG_MAX)
		json_array_remove(log, 0);
	bool changed = strcmp(json_str(j, "Status") ? json_str(j, "Status") : "", st) != 0;
	json_object_set_new(j, "Status", json_string(st));
	json_object_set_new(j, "FailingStreak", json_integer(streak));
	health_write(s, c->id, j);
	if (changed) {
		/* Docker's event when the status changes: "health_status: healthy" */
		_cleanup_free_ char *action = xasprintf("health_status: %s", st);
		store_container_event(s, c, action, NULL, NULL);
	}
	buf_release(&out);
	*healthy = code == 0;
	return 0;
}
