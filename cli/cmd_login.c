/* kiln login / kiln logout: credentials in the containers auth.json. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli/registry_flags.h"

static const char login_usage[] = "kiln login [OPTIONS] [REGISTRY]";
static const char login_options[] =
	"      --get-login            Return the current login user for the registry\n"
	"  -p, --password string      Password for registry\n"
	"      --password-stdin       Take the password from stdin\n"
	"  -u, --username string      Username for registry\n" REGISTRY_OPTIONS_HELP;

/* "https://host/v1/" → "host". */
static const char *server_arg(const char *s)
{
	if (str_has_prefix(s, "https://"))
		s += 8;
	else if (str_has_prefix(s, "http://"))
		s += 7;
	return s;
}

static char *read_password(struct kerror *e)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (fs_read_fd(STDIN_FILENO, 64 * 1024, "stdin", &data, &len, e) < 0)
		return NULL;
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = 0;
	return steal_pointer(&data);
}

int cmd_login(struct cli *c, int argc, char **argv, struct kerror *e)
{
	enum { OPT_GET_LOGIN = 256, OPT_PASSWORD_STDIN };
	static const struct option opts[] = {
		{ "username", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'p' },
		{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
		{ "get-login", no_argument, NULL, OPT_GET_LOGIN },
		{ "help", no_argument, NULL, 'h' },
		REGISTRY_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct registry_opts ro = REGISTRY_OPTS_INIT;
	const char *user = NULL, *pass = NULL, *server;
	_cleanup_free_ char *stdin_pass = NULL;
	bool get_login = false, pass_stdin = false;
	int opt, r;

	(void)c;
	while ((opt = cli_getopt(argc, argv, "u:p:h", opts, e)) != -1) {
		r = registry_flag(opt, optarg, &ro, e);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		switch (opt) {
		case 'u': user = optarg; break;
		case 'p': pass = optarg; break;
		case OPT_PASSWORD_STDIN: pass_stdin = true; break;
		case OPT_GET_LOGIN: get_login = true; break;
		case 'h': return cli_usage(login_usage, login_options);
		default: return -EINVAL;
		}
	}
	if (argc - optind > 1)
		return kerror_set(e, EINVAL, "login accepts only one registry to login to");
	server = argc - optind == 1 ? server_arg(argv[optind]) : "docker.io";
	if (get_login) {
		_cleanup_free_ char *who = NULL;
		r = registry_get_login(&ro, server, &who, e);
		if (r < 0)
			return r;
		printf("%s\n", who);
		return 0;
	}
	if (pass_stdin && pass)
		return kerror_set(e, EINVAL, "can't specify both --password-stdin and --password");
	if (pass_stdin) {
		if (!user)
			return kerror_set(e, EINVAL, "must provide --username with --password-stdin");
		stdin_pass = read_password(e);
		if (!stdin_pass)
			return -EIO;
		pass = stdin_pass;
	}
	if (!user && ro.creds) {
		/* --creds user:pass stands for -u and -p. */
		static char ubuf[512];
		const char *colon = strchr(ro.creds, ':');
		snprintf(ubuf, sizeof(ubuf), "%.*s", colon ? (int)(colon - ro.creds) : 511, ro.creds);
		user = ubuf;
		pass = colon ? colon + 1 : "";
		ro.creds = NULL;
	}
	if (!user || !pass)
		return kerror_set(e, EINVAL, "username and password are required (-u and -p, or "
					     "--password-stdin)");
	r = registry_login(&ro, server, user, pass, e);
	if (r < 0)
		return r;
	printf("Login Succeeded!\n");
	return 0;
}

int cmd_logout(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "authfile", required_argument, NULL, RFLAG_AUTHFILE },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct registry_opts ro = REGISTRY_OPTS_INIT;
	const char *server;
	bool all = false;
	int opt, r;

	(void)c;
	while ((opt = cli_getopt(argc, argv, "ah", opts, e)) != -1) {
		switch (opt) {
		case RFLAG_AUTHFILE: ro.authfile = optarg; break;
		case 'a': all = true; break;
		case 'h': return cli_usage("kiln logout [OPTIONS] [REGISTRY]",
					   "  -a, --all               Remove the cached credentials "
					   "for all registries in the auth file\n"
					   "      --authfile string   Path of the authentication file\n");
		default: return -EINVAL;
		}
	}
	if (argc - optind > 1)
		return kerror_set(e, EINVAL, "logout accepts only one registry to logout from");
	if (all) {
		r = registry_logout(&ro, NULL, e);
		if (r < 0)
			return r;
		printf("Removed login credentials for all registries\n");
		return 0;
	}
	server = argc - optind == 1 ? server_arg(argv[optind]) : "docker.io";
	r = registry_logout(&ro, server, e);
	if (r < 0)
		return r;
	printf("Removed login credentials for %s\n", server);
	return 0;
}

int cmd_image_exists(struct cli *c, int argc, char **argv, struct kerror *e)
{
	_cleanup_image_info_ struct image_info *i = NULL;
	struct store *s;
	int r;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return cli_usage("kiln image exists IMAGE", "");
	if (argc != 2)
		return kerror_set(e, EINVAL, "\"kiln image exists\" requires exactly 1 argument");
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	r = store_image_lookup(s, argv[1], &i, e);
	if (r == -ENOENT) {
		/* Podman: exit 1, nothing printed. */
		kerror_release(e);
		c->exit_code = 1;
		fflush(stdout);
		_exit(1);
	}
	return r;
}
