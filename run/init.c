/* --init: kiln's own process stays as the container's pid 1 (no binary of
 * its own to bind into the root: the process is already there, after
 * pivot_root, with its code mapped).  It forks the command, forwards the
 * signals it gets to it, reaps every orphan that lands on it, and exits
 * with the command's status when the command ends, as tini/catatonit. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run/run_private.h"

static _Noreturn void init_loop(pid_t child, const sigset_t *set)
{
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(set, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		for (;;) {
			int status;
			pid_t w = waitpid(-1, &status, WNOHANG);
			if (w <= 0)
				break;
			if (w != child)
				continue;
			if (WIFEXITED(status))
				_exit(WEXITSTATUS(status));
			_exit(128 + WTERMSIG(status));
		}
	}
}

int init_run(struct kerror *e)
{
	sigset_t all, old;
	pid_t child;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	child = fork();
	if (child < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return kerror_sys(e, errno, "forking the container's command under --init");
	}
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return 0; /* the caller execs */
	}
	prctl(PR_SET_NAME, "kiln-init", 0, 0, 0);
	/* The exec error pipe (close-on-exec) must see EOF when the command
	 * execs: our copy of every descriptor goes, stdio included, so the
	 * monitor sees the end of the output when the command's ends. */
	for (int fd = 0; fd < 1024; fd++)
		close(fd);
	init_loop(child, &all);
}
