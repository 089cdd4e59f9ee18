/* kiln system service [URI]: the Docker-compatible API (api/). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"

int cmd_service(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct api_opts o = { .idle_timeout = 5 };
	_cleanup_free_ char *uri = NULL, *self = NULL, *root = NULL, *runroot = NULL,
			    *driver = NULL;
	_cleanup_strv_ char **wargs = NULL;
	struct store *s;
	int opt, r;
	while ((opt = cli_getopt(argc, argv, "t:h", opts, e)) != -1) {
		switch (opt) {
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (!*optarg || *end || v < 0)
				return kerror_set(e, EINVAL, "invalid --time \"%s\"", optarg);
			o.idle_timeout = (int)v;
			break;
		}
		case 'h':
			return cli_usage("kiln system service [options] [URI]",
					 "  -t, --time int   Time until the service session expires in "
					 "seconds; 0 for no timeout (default 5)\n");
		default: return -EINVAL;
		}
	}
	if (argc - optind > 1)
		return kerror_set(e, EINVAL, "too many arguments: one URI at most");
	/* Opening the store here creates it, and gives the paths. */
	if ((r = cli_store(c, &s, e)) < 0)
		return r;
	uri = optind < argc ? xstrdup(argv[optind]) : api_default_uri(store_runroot(s));
	self = realpath("/proc/self/exe", NULL);
	if (!self)
		return kerror_sys(e, errno, "resolving /proc/self/exe");
	strv_push(&wargs, xasprintf("--root=%s", store_root(s)));
	strv_push(&wargs, xasprintf("--runroot=%s", store_runroot(s)));
	strv_push(&wargs, xasprintf("--storage-driver=%s", store_driver(s)));
	if (c->storage_conf)
		strv_push(&wargs, xasprintf("--storage-conf=%s", c->storage_conf));
	o.uri = uri;
	o.self = self;
	o.worker_args = wargs;
	o.version = KILN_VERSION;
	root = xstrdup(store_root(s));
	runroot = xstrdup(store_runroot(s));
	driver = xstrdup(store_driver(s));
	o.store.root = root;
	o.store.runroot = runroot;
	o.store.driver = driver;
	/* Not held while serving: the requests take handles of their own, and
	 * one kept open for the service's life would keep SQLite from ever
	 * closing theirs (see api/store_pool.c). */
	store_close(c->store);
	c->store = NULL;
	return api_serve(&o, e);
}
