/* container.h — shared by the container commands (cli/cmd_run.c,
 * cli/cmd_container.c, cli/cmd_container_logs.c) and `kiln inspect`. */
#ifndef KILN_CLI_CONTAINER_H
#define KILN_CLI_CONTAINER_H

#include "cli/cli.h"
#include "registry/registry.h"
#include "run/run.h"

/* run/create's command line (run_flags.c). */
struct run_cli {
	struct run_flags f;
	bool detach, rm, sig_proxy, rootfs;
	char *name, *cidfile, *pull, *pod, *runtime;
	struct pull_opts po;
	int image_at; /* argv index of IMAGE (or the rootfs dir) */
};
/* 0, 1 after --help (printed), or an error. */
int run_cli_parse(int argc, char **argv, bool is_run, struct run_cli *o, struct kerror *e);
void run_cli_release(struct run_cli *o);
/* A new random 64-hex ID; a random adjective_noun name. */
void cli_new_id(char id[DIGEST_HEX_LEN + 1]);
char *cli_random_name(void);
/* Starts the pod's infra container when it does not run. */
int pod_ensure_infra(struct cli *c, const char *infra_id, struct kerror *e);

/* --pod NAME|ID|new:NAME: resolves (or creates) the pod, and sets the
 * flags that put the container into it (o->f.pod, the shared namespaces). */
int pod_resolve_for_run(struct cli *c, struct run_cli *o, struct kerror *e);
/* "64m", "1g", "512" → bytes. */
int cli_parse_bytes(const char *flag, const char *v, int64_t *out, struct kerror *e);
/* Go durations ("1m30s", "500ms"; a bare number is seconds) → ns. */
int cli_parse_duration(const char *flag, const char *v, int64_t *out, struct kerror *e);

int cmd_run(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_create(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_start(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_ps(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_rm(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_stop(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_kill(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_wait(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_logs(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_container(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_exec(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_container_inspect(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_volume(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_network(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_port(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_commit(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_cp(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_export(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_diff(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_restart(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_rename(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_pause(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_mount(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_unmount(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_top(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_stats(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_system_restart_containers(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_attach(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_healthcheck(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_pod(struct cli *c, int argc, char **argv, struct kerror *e);
/* top's table for the containers (names or IDs) with the descriptors
 * (NULL: Podman's default set); with_name adds a NAME column (pod top). */
int top_print(struct cli *c, char *const *ctrs, size_t n_ctrs, char *const *descs, bool with_name,
	      struct kerror *e);
int cmd_unpause(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_container_prune(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_system_prune(struct cli *c, int argc, char **argv, struct kerror *e);

/* Volumes (cmd_volume.c): removes the unused volumes (all: named ones too,
 * else only anonymous), adding their bytes and names; removes the
 * anonymous volumes a removed container's plan mounted (rm -v). */
int volume_prune_run(struct cli *c, bool all, uint64_t *reclaimed, char ***removed,
		     struct kerror *e);
int volume_remove_anonymous(struct cli *c, const char *plan, struct kerror *e);

/* Looks a container up (ID, prefix, name) and corrects a stale state. */
int container_get(struct cli *c, const char *what, struct container_info **out,
		  struct kerror *e);
/* Docker-shaped `container inspect` JSON. */
int container_inspect_json(struct cli *c, const char *what, json_t **out, struct kerror *e);
/* Stops a running container: its stop signal, timeout seconds, SIGKILL;
 * returns once its monitor recorded the exit. */
int container_stop(struct cli *c, struct container_info *ctr, int timeout, struct kerror *e);

/* rm: stops it first when running and force (else EBUSY), undoes its
 * mounts, removes it, and its anonymous volumes with volumes. */
int container_remove(struct cli *c, struct container_info *ctr, bool force, bool volumes,
		     struct kerror *e);

/* Starts ctr under a detached monitor (closes and later reopens the
 * store: a connection must not cross the fork).  restarts: as
 * run_detached. */
int container_detach(struct cli *c, struct container_info *ctr, const struct run_plan *p,
		     bool remove, int restarts, int *code, struct kerror *e);

#endif
