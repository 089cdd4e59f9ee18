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

static const struct command healthcheck_commands[] = {
	{ "run", healthcheck_run, "Run the health check of a container" },
};

int cmd_healthcheck(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return CLI_DISPATCH(c, argc, argv, "healthcheck", "Manage health checks on containers",
			    healthcheck_commands, e);
}
