/* kiln top CONTAINER [descriptors]: the container's processes with
 * Podman's descriptors (run/top.c), also for kiln pod top; other ps
 * options run the container's own ps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/container.h"

int top_print(struct cli *c, char *const *ctrs, size_t n_ctrs, char *const *descs, bool with_name,
	      struct kerror *e)
{
	struct buf out = { 0 };
	int r = 0;

	for (size_t k = 0; k < n_ctrs && r == 0; k++) {
		_cleanup_container_info_ struct container_info *ctr = NULL;
		struct run_top t;
		r = container_get(c, ctrs[k], &ctr, e);
		if (r < 0)
			break;
		if (ctr->state != CTR_RUNNING || ctr->pid <= 0) {
			r = kerror_set(e, EINVAL, "top can only be used on running containers");
			break;
		}
		r = run_top(ctr->pid, descs, &t, e);
		if (r < 0)
			break;
		if (k == 0) {
			for (size_t j = 0; j < t.cols; j++)
				buf_printf(&out, "%s%s", t.titles[j], j + 1 < t.cols ? "\t" : "");
			buf_printf(&out, "%s\n", with_name ? "\tNAME" : "");
		}
		for (size_t i = 0; i < t.rows; i++) {
			for (size_t j = 0; j < t.cols; j++)
				buf_printf(&out, "%s%s", t.cells[i * t.cols + j],
					   j + 1 < t.cols ? "\t" : "");
			if (with_name)
				buf_printf(&out, "\t%s", ctr->name);
			buf_printf(&out, "\n");
		}
		run_top_release(&t);
	}
	if (r == 0)
		table_print(stdout, out.data ? out.data : "");
	buf_release(&out);
	return r;
}

static int top_ps_in_container(struct cli *c, const char *what, char *const *args,
			      struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	_cleanup_strv_ char **argv = xcalloc(1, sizeof(char *));
	struct store *s;
	int status, r = container_get(c, what, &ctr, e);
	if (r == 0)
		r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	if (ctr->state != CTR_RUNNING)
		return kerror_set(e, EINVAL, "top can only be used on running containers");
	strv_push(&argv, xstrdup("ps"));
	for (size_t i = 0; args[i]; i++)
		strv_push(&argv, xstrdup(args[i]));
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return kerror_sys(e, errno, "forking");
	if (pid == 0) {
		/* the exec joins the container's namespaces: in a child */
		struct run_exec_opts xo = { .argv = argv };
		struct kerror ce = { 0 };
		int code = 125;
		if (run_exec(s, ctr, &xo, &code, &ce) < 0)
			fprintf(stderr, "Error: unknown descriptors and ps failed in the container: "
					"%s\n", ce.msg ? ce.msg : "");
		_exit(code);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return kerror_sys(e, errno, "waiting for ps");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return kerror_set(e, EINVAL, "unknown descriptor: %s (and ps in the container failed)",
			  args[0]);
}

int cmd_top(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "latest", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	while ((opt = cli_getopt(argc, argv, "+lh", opts, e)) != -1) {
		switch (opt) {
		case 'l': break;
		case 'h':
			return cli_usage("kiln top [options] CONTAINER [FORMAT-DESCRIPTORS]",
					 "Descriptors: pid ppid user group comm args etime time tty "
					 "vsz rss pcpu nice state hpid huser uid gid\n");
		default: return -EINVAL;
		}
	}
	if (optind >= argc)
		return kerror_set(e, EINVAL, "\"kiln top\" requires at least 1 argument");
	for (int i = optind + 1; i < argc; i++) {
		_cleanup_free_ char *copy = xstrdup(argv[i]);
		char *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (run_top_descriptor(t) < 0)
				/* ps options ("-ef", "aux"): the container's own ps, as
				 * Podman falls back to */
				return top_ps_in_container(c, argv[optind], argv + optind + 1, e);
	}
	return top_print(c, argv + optind, 1, argv + optind + 1, false, e);
}
