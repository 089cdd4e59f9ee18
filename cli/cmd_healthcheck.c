/* kiln healthcheck run CONTAINER: the container's health check once, now;
 * prints "unhealthy" and exits 1 when it fails (as Podman). */
#include <errno.h>
#include <string.h>

#include "cli/container.h"

static int healthcheck_run(struct cli *c, int argc, char **argv, struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	struct run_plan p = { 0 };
	struct store *s;
	bool ok = false;
	int r;
	if (cli_wants_usage(argc, argv, "kiln healthcheck run CONTAINER"))
		return 0;
	if (argc != 2)
		return kerror_set(e, EINVAL, "\"kiln healthcheck run\" requires exactly 1 argument");
	r = container_get(c, argv[1], &ctr, e);
	if (r == 0)
		r = cli_store(c, &s, e);
	if (r == 0)
		r = run_plan_from_json(ctr->plan, &p, e);
	if (r < 0)
		return r;
	if (!p.health.test)
		r = kerror_set(e, EINVAL, "container %s has no defined healthcheck", ctr->name);
	else if (ctr->state != CTR_RUNNING)
		r = kerror_set(e, EINVAL, "container %s is not running", ctr->name);
	else
		r = run_health_check(s, ctr, &p, &ok, e);
	run_plan_release(&p);
	if (r < 0)
		return r;
	if (!ok) {
		printf("unhealthy\n");
		return 1;
	}
	return 0;
}

int cmd_healthcheck(struct cli *c, int argc, char **argv, struct kerror *e)
{
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return healthcheck_run(c, argc - 1, argv + 1, e);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: kiln healthcheck COMMAND\n\nManage health checks on containers\n\n"
		       "Commands:\n  run         Run the health check of a container\n");
		return 0;
	}
	return kerror_set(e, EINVAL, "unrecognized command `kiln healthcheck %s`",
			  argc >= 2 ? argv[1] : "");
}
