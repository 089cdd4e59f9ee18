/* kiln exec [-i] [-t] [-d] [-e K=V] [-u USER] [-w DIR] CONTAINER CMD [ARG...] */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/container.h"

static const char usage_opts[] =
	"  -d, --detach                  Run the exec session in detached mode\n"
	"  -e, --env stringArray         Set environment variables\n"
	"      --env-file stringArray    Read in a file of environment variables\n"
	"  -i, --interactive             Keep STDIN open even if not attached\n"
	"  -t, --tty                     Allocate a pseudo-TTY\n"
	"  -u, --user string             Sets the username or UID used\n"
	"  -w, --workdir string          Working directory inside the container\n";

enum { OPT_ENV_FILE = 256 };

static void add_env(char ***env, const char *kv)
{
	if (strchr(kv, '=')) {
		strv_push(env, xstrdup(kv));
		return;
	}
	const char *v = getenv(kv);
	if (v)
		strv_push(env, xasprintf("%s=%s", kv, v));
}

static int env_file(char ***env, const char *path, struct kerror *e)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r = fs_read_file(path, 4 * 1024 * 1024, &data, &len, e);
	if (r < 0)
		return r;
	char *save = NULL;
	for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(l);
		if (n && l[n - 1] == '\r')
			l[n - 1] = '\0';
		while (*l == ' ' || *l == '\t')
			l++;
		if (*l && *l != '#')
			add_env(env, l);
	}
	return 0;
}

int cmd_exec(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "env", required_argument, NULL, 'e' },
		{ "env-file", required_argument, NULL, OPT_ENV_FILE },
		{ "interactive", no_argument, NULL, 'i' },
		{ "tty", no_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_strv_ char **env = NULL;
	_cleanup_container_info_ struct container_info *ctr = NULL;
	struct run_exec_opts o = { 0 };
	struct store *s;
	int opt, r, code = 125;

	while ((opt = cli_getopt(argc, argv, "+de:itu:w:", opts, e)) != -1) {
		switch (opt) {
		case 'd': o.detach = true; break;
		case 'e': add_env(&env, optarg); break;
		case OPT_ENV_FILE:
			if ((r = env_file(&env, optarg, e)) < 0)
				return r;
			break;
		case 'i': o.interactive = true; break;
		case 't': o.tty = true; break;
		case 'u': o.user = optarg; break;
		case 'w': o.cwd = optarg; break;
		case 'H':
			cli_usage("kiln exec [options] CONTAINER COMMAND [ARG...]", usage_opts);
			return 0;
		default: return -EINVAL;
		}
	}
	if (argc - optind < 2)
		return kerror_set(e, EINVAL, "\"kiln exec\" requires at least 2 arguments");
	if (o.cwd && *o.cwd != '/')
		return kerror_set(e, EINVAL, "the working directory \"%s\" is invalid: it "
					     "needs to be an absolute path", o.cwd);
	r = container_get(c, argv[optind], &ctr, e);
	if (r < 0)
		return r;
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	o.argv = argv + optind + 1;
	o.env = env;
	/* Docker's actions name the command: "exec_start: sh -c …" */
	struct buf cmd = { 0 };
	for (char *const *a = o.argv; *a; a++)
		buf_printf(&cmd, "%s%s", a == o.argv ? "" : " ", *a);
	buf_append(&cmd, "", 1);
	_cleanup_free_ char *created = xasprintf("exec_create: %.512s", cmd.data);
	_cleanup_free_ char *started = xasprintf("exec_start: %.512s", cmd.data);
	buf_release(&cmd);
	store_container_event(s, ctr, created, NULL, NULL);
	store_container_event(s, ctr, started, NULL, NULL);
	r = run_exec(s, ctr, &o, &code, e);
	if (r == 0 && !o.detach) {
		char codes[16];
		snprintf(codes, sizeof(codes), "%d", code);
		store_container_event(s, ctr, "exec_die", "exitCode", codes);
	}
	c->exit_code = code;
	return r < 0 ? r : code;
}
