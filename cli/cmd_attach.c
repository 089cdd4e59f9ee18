/* kiln attach [--no-stdin] [--detach-keys KEYS] [--sig-proxy] CONTAINER:
 * the stdio of a container started detached, through its monitor. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli/container.h"

int cmd_attach(struct cli *c, int argc, char **argv, struct kerror *e)
{
	enum { OPT_NO_STDIN = 256, OPT_DETACH_KEYS, OPT_SIG_PROXY };
	static const struct option opts[] = {
		{ "no-stdin", no_argument, NULL, OPT_NO_STDIN },
		{ "detach-keys", required_argument, NULL, OPT_DETACH_KEYS },
		{ "sig-proxy", optional_argument, NULL, OPT_SIG_PROXY },
		{ "latest", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_container_info_ struct container_info *ctr = NULL;
	struct run_attach_opts o = { .sig_proxy = true };
	struct run_plan p = { 0 };
	const char *keys = "ctrl-p,ctrl-q";
	bool detached = false;
	struct store *s;
	int opt, r, fd;

	while ((opt = cli_getopt(argc, argv, "lh", opts, e)) != -1) {
		switch (opt) {
		case OPT_NO_STDIN: o.no_stdin = true; break;
		case OPT_DETACH_KEYS: keys = optarg; break;
		case OPT_SIG_PROXY:
			if ((r = cli_parse_bool("--sig-proxy", optarg, &o.sig_proxy, e)) < 0)
				return r;
			break;
		case 'l': break;
		case 'h':
			return cli_usage("kiln attach [options] CONTAINER",
					 "      --detach-keys string   Override the key sequence for "
					 "detaching a container (default \"ctrl-p,ctrl-q\")\n"
					 "      --no-stdin             Do not attach STDIN\n"
					 "      --sig-proxy            Proxy received signals to the "
					 "process (default true)\n");
		default: return -EINVAL;
		}
	}
	if (argc - optind != 1)
		return kerror_set(e, EINVAL, "\"kiln attach\" requires exactly 1 argument");
	r = run_detach_keys_parse(keys, o.detach_keys, &o.n_detach_keys, e);
	if (r == 0)
		r = container_get(c, argv[optind], &ctr, e);
	if (r == 0)
		r = cli_store(c, &s, e);
	if (r == 0)
		r = run_plan_from_json(ctr->plan, &p, e);
	if (r < 0)
		return r;
	o.tty = p.tty;
	/* stdin only where the container has one (-i), as Docker */
	if (!p.interactive)
		o.no_stdin = true;
	run_plan_release(&p);
	store_container_event(s, ctr, "attach", NULL, NULL);
	r = run_attach(s, ctr, &o, &detached, e);
	if (r < 0 || detached)
		return r;
	/* the container ended: its code, once its monitor recorded it */
	r = run_lock(s, ctr->id, true, &fd, e);
	if (r < 0)
		return r;
	close(fd);
	container_info_free(ctr);
	ctr = NULL;
	r = container_get(c, argv[optind], &ctr, e);
	if (r < 0)
		return r;
	return ctr->exit_code < 0 ? 0 : ctr->exit_code;
}
