/* run.h — the public header of kiln's runtime: from an image config and the
 * user's flags to a plan (spec.c), from a plan to a running container
 * (rootfs.c, spawn.c, seccomp.c, caps.c, cgroup.c), and the per-container
 * monitor (monitor.c, logs.c) with its lock and exit file (state.c).
 *
 * There is no daemon: the process that starts a container is its monitor.
 * It holds an flock on <runroot>/containers/<id>/lock for its whole life,
 * so a container recorded "running" whose lock is free lost its monitor
 * (run_state_refresh corrects it). */
#ifndef KILN_RUN_H
#define KILN_RUN_H

#include <sys/types.h>

#include "common/common.h"
#include "storage/storage.h"

/* ---- the plan --------------------------------------------------------- */

/* A health check (the image's Healthcheck or --health-*): test as in the
 * image config (["CMD", …], ["CMD-SHELL", cmd]; ["NONE"] is no check);
 * durations in ns with Docker's defaults filled in (30 s, 30 s, 0, 3). */
struct run_health {
	char **test;
	int64_t interval, timeout, start_period;
	int retries;
};

/* What the user asked for on the command line (cli/ fills it). */
struct run_flags {
	char **cmd;          /* arguments after IMAGE; NULL = the image's Cmd */
	char *entrypoint;    /* --entrypoint, valid when entrypoint_set ("" clears) */
	bool entrypoint_set;
	char **env;          /* KEY=VALUE, in order (-e, --env-file already merged) */
	char *workdir, *user, *hostname;
	bool tty, interactive, read_only, privileged, no_new_privs, seccomp_unconfined;
	bool network_host;
	/* --network: "host", "none", "pasta", "slirp4netns", "bridge" (the
	 * networks below); NULL = run_network_default() */
	char *network;
	char **publish;      /* -p specs as typed */
	/* --userns host|keep-id[:uid=,gid=]|auto[:size=]|nomap, --uidmap,
	 * --gidmap (CTR:HOST:LEN), --subuidname, --subgidname */
	char *userns, **uidmap, **gidmap, *subuidname, *subgidname;
	char **cap_add, **cap_drop; /* "CAP_X", "X" or "ALL" */
	int64_t memory;      /* bytes, 0 = unset */
	int64_t pids_limit;  /* 0 = unset, -1 = unlimited */
	int64_t cpu_shares;  /* 0 = unset */
	int64_t cpu_quota;   /* µs per 100 ms period (--cpus), 0 = unset */
	char *stop_signal;   /* name or number, NULL = the image's or SIGTERM */
	int stop_timeout;    /* seconds, -1 = unset (10) */
	char **mounts;       /* canonical mount strings (run_mount_from_*) */
	char **dns, **dns_search, **dns_options; /* --dns, --dns-search, --dns-option */
	char **add_hosts;    /* canonical "name:ip" (run_add_host_parse) */
	int64_t shm_size;    /* bytes, 0 = 64 MiB */
	char **ulimits;      /* canonical "name=soft:hard" (run_ulimit_parse) */
	char **group_add;    /* --group-add: names or numbers */
	bool init;           /* --init: a reaping init as pid 1 */
	int64_t memory_swap; /* bytes, 0 = unset, -1 = unlimited */
	char *log_driver;    /* k8s-file (default), json-file, none */
	int64_t log_max_size; /* --log-opt max-size, 0 = unlimited */
	char *rootfs;        /* --rootfs DIR: the root instead of an image */
	char *restart;       /* --restart no|always|on-failure[:N]|unless-stopped */
	/* --health-*: test NULL = the image's; no_healthcheck disables */
	char **health_test;  /* ["CMD-SHELL", cmd] */
	int64_t health_interval, health_timeout, health_start_period; /* ns, 0 = unset */
	int health_retries;  /* 0 = unset */
	bool no_healthcheck;
	char *pod;           /* the pod's id (cli/ resolved it) */
	/* Bridge networks (net_plan.c): --network NAME[,NAME] (network is
	 * then "bridge"); NULL: the default one, "kiln". */
	char **networks;
	char **net_aliases;  /* --network-alias */
	bool publish_all;    /* -P */
	char **expose;       /* --expose, "80/tcp" */
	char **default_caps; /* containers.conf default_capabilities, NULL: Podman's */
	char **default_env;  /* containers.conf env: under the image's and -e */
	char *infra_id;      /* the pod's infra container, to join */
	int64_t pod_ns;      /* CLONE_NEW* of the namespaces shared in the pod */
	char *runtime;       /* --runtime runc|crun|PATH; NULL: kiln's own */
};
void run_flags_release(struct run_flags *f);

struct run_plan {
	char **argv, **env;
	char *cwd, *hostname, *user; /* user: as asked, for inspect */
	uid_t uid;
	gid_t gid;
	gid_t *gids;                 /* supplementary groups */
	size_t n_gids;
	char **layers;               /* layer ids, base first */
	uint64_t caps;               /* bounding = effective for root */
	bool tty, interactive, read_only, network_host, no_new_privs, seccomp;
	int64_t memory, pids_limit, cpu_shares, cpu_quota;
	int stop_signal, stop_timeout;
	char **mounts;               /* canonical mount strings */
	char **dns, **dns_search, **dns_options, **add_hosts; /* as run_flags */
	int64_t shm_size, memory_swap, log_max_size;
	char **ulimits;              /* "name=soft:hard" */
	bool init;
	char *log_driver;            /* "k8s-file", "json-file" or "none" */
	char *rootfs;                /* NULL: the overlay of layers */
	char *restart;               /* "no", "always", "unless-stopped", "on-failure" */
	int restart_max;             /* on-failure:N, 0 = no limit */
	struct run_health health;    /* test NULL: none */
	char *pod;                   /* pod id, NULL */
	char *network;               /* as in run_flags, resolved */
	char **ports;                /* canonical "IP:HOST:CTR/PROTO" (run_port_parse) */
	char *userns;                /* --userns as given ("" = none/host) */
	char **uid_map, **gid_map;   /* "INNER OUTER COUNT": a user namespace of its own */
	bool rootfs_copy;            /* the root is containers/<id>/rootfs, a full copy
				      * (vfs driver, or ids shifted for uid_map) */
	char **networks;             /* network "bridge": the networks joined */
	char **net_aliases;          /* extra names on user-defined networks */
	char **expose;               /* --expose additions, "80/tcp" */
	/* A pod's member joins its infra's namespaces (infra_id: the infra
	 * container, pod_ns: CLONE_NEW* flags of the shared ones); the infra
	 * itself (infra) execs nothing: kiln's process holds them. */
	char *infra_id;
	int64_t pod_ns;
	bool infra;
	/* An external OCI runtime ("runc", "crun" or an absolute path)
	 * that runs the container from a bundle (oci_bundle.c); NULL: kiln's. */
	char *runtime;
};
void run_plan_release(struct run_plan *p);

/* Generated /etc files (etcfiles.c), for every network mode. */
struct run_etc_opts {
	char *const *dns, *const *dns_search, *const *dns_options;
	char *const *add_hosts;   /* "name:ip" */
	char *const *extra;       /* more hosts lines ("ip\tname…"), may be NULL */
	const char *hostname, *name;
	const char *ip;           /* the container's address, NULL: 127.0.1.1 */
	bool network_host;        /* hosts: the host's file plus ours */
};
/* resolv.conf: the host's text (may be NULL) with its nameserver, search
 * or options lines replaced by the given ones ("--dns-search ." clears). */
char *run_etc_resolv(const char *host, const struct run_etc_opts *o);
/* hosts: localhost (or, with host networking, the host's file), the
 * --add-host entries, extra, then "<ip> <hostname> <name>". */
char *run_etc_hosts(const char *host, const struct run_etc_opts *o);
/* kiln's containers.conf (containers_conf.c): $KILN_CONTAINERS_CONF, else
 * $XDG_CONFIG_HOME/kiln/containers.conf when rootless, else
 * /etc/kiln/containers.conf; *out NULL when there is none. */
int run_containers_conf_load(json_t **out, struct kerror *e);
/* Its [containers] defaults into what the flags left unset:
 * default_capabilities, env, default_ulimits, pids_limit, log_driver,
 * log_size_max, dns_servers, dns_searches, dns_options, shm_size, init. */
int run_flags_apply_conf(struct run_flags *f, const json_t *conf, struct kerror *e);
/* --add-host "name:ip" or "name=ip" → canonical "name:ip". */
int run_add_host_parse(const char *spec, char **out, struct kerror *e);
int run_dns_server_check(const char *ip, struct kerror *e);
/* --ulimit "name=soft[:hard]" (nofile, nproc, core, …; -1 unlimited) →
 * canonical "name=soft:hard". */
int run_ulimit_parse(const char *spec, char **out, struct kerror *e);
/* --restart → policy ("no", "always", "unless-stopped", "on-failure") and
 * on-failure's maximum (0 = unlimited). */
int run_restart_parse(const char *spec, char **policy, int *max, struct kerror *e);

/* User mounts (mounts.c).  The run_mount_from_* parsers turn a flag's
 * value into the canonical string the plan keeps:
 *   -v/--volume SRC:DST[:ro|rw|z|Z,...]  (SRC an absolute host path)
 *   --tmpfs DST[:ro,size=N,mode=M]
 *   --mount type=bind|tmpfs,source=…,target=…[,ro][,tmpfs-size=…]
 * A bind source must exist.  -v NAME:/dst, -v /dst (anonymous) and
 * --mount type=volume give "type=volume[,source=NAME],target=…", which
 * run_volumes_resolve turns into a bind of the volume's _data directory
 * carrying ",volume=NAME" before the plan is built. */
struct run_mount {
	char *type, *source, *target, *data; /* data: tmpfs "size=…,mode=…" */
	char *volume;                        /* a volume's name (its bind), or NULL */
	bool readonly;
};
int run_mount_from_volume(const char *spec, char **out, struct kerror *e);
int run_mount_from_tmpfs(const char *spec, char **out, struct kerror *e);
int run_mount_from_mount(const char *spec, char **out, struct kerror *e);
int run_mount_parse(const char *canonical, struct run_mount *out, struct kerror *e);
void run_mount_release(struct run_mount *m);

/* Volumes (volumes.c).  Creates the named volumes the mounts ask for when
 * absent, an anonymous volume (random 64-hex name) for each "-v /dst" and
 * for each of the image's Volumes (img_volumes: the config's "Volumes"
 * object, may be NULL) that no other mount covers, and rewrites those
 * mounts as binds.  The first time a volume is mounted while empty, the
 * child copies the image's content at its target into it (Docker's rule). */
int run_volumes_resolve(struct store *s, char ***mounts, const json_t *img_volumes,
			struct kerror *e);
/* The volume names a plan (JSON text) mounts, NULL-terminated (may be NULL). */
char **run_plan_volumes(const char *plan_json);
/* After its container was removed (rm -v, --rm): removes the anonymous
 * volumes the plan mounted that no remaining container mounts. */
void run_volumes_remove_anonymous(struct store *s, const char *plan_json);

/* Docker's merging: an --entrypoint replaces the image's Entrypoint and
 * drops its Cmd; arguments replace Cmd.  Result is a new vector, possibly
 * empty (the caller reports "no command specified"). */
char **run_merge_argv(char *const *img_entrypoint, char *const *img_cmd,
		      const char *entrypoint, bool entrypoint_set, char *const *cmd);
/* Image Env, then the engine's additions where absent (PATH, HOSTNAME,
 * container, TERM, HOME), then the user's (a user KEY replaces an earlier
 * one in place).  "KEY" entries without '=' are dropped. */
char **run_merge_env(char *const *img_env, char *const *extra_defaults, char *const *user_env);

/* Resolves "user[:group]" (names or numbers) against the container's
 * /etc/passwd and /etc/group text (either may be NULL).  A name that is not
 * there is an error ("unable to find user X: no matching entries in passwd
 * file").  home gets the passwd home ("/" if unknown).  gids: supplementary
 * groups from /etc/group membership, unless a group was given. */
struct run_user {
	uid_t uid;
	gid_t gid;
	gid_t *gids;
	size_t n_gids;
	char *home;
};
int run_user_resolve(const char *spec, const char *passwd, const char *group,
		     struct run_user *out, struct kerror *e);
void run_user_release(struct run_user *u);
/* --group-add: adds the groups (names from the group text, or numbers) to
 * u's supplementary groups. */
int run_user_add_groups(struct run_user *u, char *const *groups, const char *group,
			struct kerror *e);

/* Capability names ("CAP_CHOWN", "chown", "ALL") to a bit; -1 if unknown. */
int run_cap_parse(const char *name);
/* Podman's default set. */
uint64_t run_caps_default(void);
/* Signal name ("SIGTERM", "TERM", "15") to a number; -1 if unknown. */
int run_signal_parse(const char *name);

/* Builds the plan from the image (config's "config" object, may be NULL,
 * and layers) and the flags.  id gives the default hostname. */
int run_plan_build(struct store *s, const struct image_info *img, const json_t *cfg,
		   const struct run_flags *f, const char *id, struct run_plan *out,
		   struct kerror *e);
json_t *run_plan_to_json(const struct run_plan *p);
int run_plan_from_json(const char *text, struct run_plan *out, struct kerror *e);

/* Networks (net_user.c, ports.c).  The default: pasta rootless (else
 * slirp4netns), "private" for root. */
const char *run_network_default(void);
/* pasta or slirp4netns: a user-mode network stack for the namespace. */
bool run_network_user_mode(const char *network);
/* Parses one -p/--publish value ([ip:][hostPort:]containerPort[/proto],
 * ranges allowed, IPv6 in brackets) and appends one canonical
 * "IP:HOST:CTR/PROTO" per port to *out; an empty host port becomes a free
 * port of the host's. */
int run_port_parse(const char *spec, char ***out, struct kerror *e);
struct run_port {
	char host_ip[64]; /* "" = all addresses */
	unsigned host_port, ctr_port;
	bool udp;
};
/* Splits a canonical string; -EINVAL if malformed. */
int run_port_split(const char *canonical, struct run_port *out);
/* Whether the canonical strings have a port of the protocol. */
bool run_ports_have(char *const *ports, bool udp);
/* The families with a default route (not a reject route) in the texts of
 * /proc/net/route and /proc/net/ipv6_route (either may be NULL), as
 * RUN_ROUTE_* bits (pasta_ready.c). */
#define RUN_ROUTE_V4 1u
#define RUN_ROUTE_V6 2u
unsigned run_default_route_families(const char *route, const char *ipv6_route);
/* ---- bridge networking (net.c, net_networks.c, net_plan.c, net_info.c) -----
 * Root's default (network mode "bridge") is the bridge network "kiln" (bridge kiln0, subnet
 * 10.91.0.0/24 or [network] default_subnet of $KILN_CONTAINERS_CONF /
 * /etc/kiln/containers.conf); user-defined networks get their own bridge
 * (kiln1, kiln2, …) and /24.  Addresses are rows of the store
 * (store_net_attach), NAT and published ports elements of the nftables
 * table "ip kiln" (nft.c). */
#define RUN_NET_DEFAULT "kiln"
#define RUN_NET_DEFAULT_BRIDGE "kiln0"
/* Serialises the creation of bridges and of the nft table host-wide. */
#define RUN_NET_LOCK "/run/kiln-network.lock"

/* Joins the networks of the plan for the network namespace of pid (the
 * container's init, or a pod's infra process): a veth pair per network
 * (eth0, eth1, … inside), its address, the default route via the first
 * network's gateway, the published ports, the container's /etc/hosts and
 * its peers'.  id names the attachments (a container ID).  On failure
 * everything done is undone. */
int run_net_setup(struct store *s, const char *id, const struct run_plan *p, pid_t pid,
		  struct kerror *e);
/* Undoes run_net_setup for id: ports, veths, addresses, peers' hosts
 * entries.  Idempotent; cheap when id has nothing set up. */
void run_net_teardown(struct store *s, const char *id);
/* The same once the namespace's processes are gone (the monitor, after the
 * exit): the veths are left to the kernel, which removes them with the
 * namespace. */
void run_net_release(struct store *s, const char *id);
/* network connect/disconnect of a running container: p->networks already
 * holds network (connect) at the index its interface is named after. */
int run_net_connect(struct store *s, const char *id, const struct run_plan *p, pid_t pid,
		    const char *network, struct kerror *e);
void run_net_disconnect(struct store *s, const char *id, const char *network);
/* The default bridge network's row ("kiln"), created on first use. */
int run_net_default_network(struct store *s, struct network_info **out, struct kerror *e);
/* kiln network create: req has name, and optionally subnet, gateway,
 * internal, labels; the rest (free subnet, bridge name, id) is filled in
 * and the bridge created. */
int run_network_create(struct store *s, struct network_info *req, struct kerror *e);
/* kiln network rm: -EBUSY when containers use it unless force (which
 * tears their attachments down). */
int run_network_remove(struct store *s, const struct network_info *n, bool force,
		       struct kerror *e);
/* Takes the host-wide network lock (blocking). */
int run_net_lock(int *fd, struct kerror *e);

/* IPv4 addresses (netlink.c). */
/* "a.b.c.d/n" → network address and prefix; false when malformed. */
bool net_parse_cidr(const char *s, uint32_t *addr, int *prefix);
bool net_parse_ip(const char *s, uint32_t *addr);
/* Dotted quad into buf (16 bytes). */
const char *net_ip_str(uint32_t ip, char buf[16]);

/* --expose port[-port][/proto] → "80/tcp" (net_plan.c). */
int run_port_from_expose(const char *spec, char **out, struct kerror *e);
/* Docker's "0.0.0.0:8080->80/tcp" (net_info.c). */
char *run_port_format(const struct run_port *p);

/* Shown by the container commands (net_info.c), from the plan's JSON:
 * "0.0.0.0:8080->80/tcp, …" (ps); {"80/tcp": [{"HostIp", "HostPort"}]}
 * with --expose'd ports as null (inspect, kiln port); inspect's
 * NetworkSettings with the addresses held now; HostConfig.NetworkMode. */
char *run_ports_text(const json_t *plan);
json_t *run_ports_json(const json_t *plan);
json_t *run_net_settings(struct store *s, const char *id, const json_t *plan);
const char *run_network_mode(const json_t *plan);
/* HostConfig.NetworkMode: the plan's network mode ("private", a namespace
 * with only lo, shows as "none"; bridge: run_network_mode's). */
const char *run_host_network_mode(const json_t *plan);

/* User namespaces of containers (idmap.c): fills p->userns, p->uid_map,
 * p->gid_map (and p->uid/gid for keep-id without -u) from the flags. */
int run_userns_plan(const struct run_flags *f, struct run_plan *p, struct kerror *e);
/* Map lines to id_shift entries (new array); -EINVAL if malformed. */
int run_id_shifts(char *const *map, struct id_shift **out, size_t *n);

/* Copies the tree under the directory src into the (empty) directory dst
 * (copy_tree.c): every entry with its type, mode, owner and symlink target,
 * never following a link.  A volume's first mount, a build's cache mount
 * seeded from= a stage, the context view of a build's bind mount. */
struct run_copy_opts {
	/* rel: the entry's path (prefix/…); true leaves it (a directory with
	 * all beneath it) out */
	bool (*skip)(void *ctx, const char *rel, bool dir);
	void *ctx;
	const char *prefix;  /* src's own path for skip and messages ("" none) */
	bool link;           /* regular files hard-linked where the kernel lets us */
	bool lenient;        /* owners we may not give and nodes we may not make
			      * are left out, not errors */
};
int run_copy_tree(int src, int dst, const struct run_copy_opts *o, struct kerror *e);

/* ---- cgroups ------------------------------------------------------------ */

struct cg_limits {
	int64_t memory, pids_limit, cpu_shares, cpu_quota; /* as in run_plan */
	int64_t memory_swap; /* memory + swap, -1 unlimited, 0 unset */
};
bool cg_limits_any(const struct cg_limits *l);
/* cgroup v2: creates <root>/<parent>/<name>, enables the controllers the
 * limits need in each ancestor's cgroup.subtree_control below root, writes
 * memory.max, pids.max, cpu.max, cpu.weight.  *path gets the new dir.
 * root is "/sys/fs/cgroup" on a real host, a fake tree in tests. */
int cg_v2_create(const char *root, const char *parent, const char *name,
		 const struct cg_limits *l, char **path, struct kerror *e);
/* Docker's shares → cgroup v2 weight conversion. */
uint64_t cg_shares_to_weight(uint64_t shares);

/* A container's cgroups (v2: one dir; v1: one per controller used). */
struct cgroup {
	char *paths[4];
	size_t n;
};
/* Creates the cgroups for the limits under the caller's own cgroups on the
 * host (v2 or v1 hybrid); nothing when there are no limits. */
int cgroup_create(const char *id, const struct cg_limits *l, struct cgroup *out,
		  struct kerror *e);
int cgroup_add_pid(const struct cgroup *cg, pid_t pid, struct kerror *e);
/* Removes the directories (the processes must be gone). */
void cgroup_remove(struct cgroup *cg);

/* ---- starting a container ------------------------------------------------ */

/* The container's standard streams: fds the child gets as 0, 1, 2 (-1:
 * /dev/null), or with tty a pty whose master comes back in *pty_master. */
struct run_stdio {
	int in, out, err;
};

struct run_proc {
	pid_t pid;
	int pty_master; /* -1 without a tty */
	struct cgroup cg;
	int net_fd;     /* slirp4netns' exit fd: close once the container is gone */
	pid_t net_pid;  /* pasta: killed (net_user_end) once the container is gone */
};

/* Creates the container's directory with its upper and work dirs (the
 * generated /etc files and the mount point are made at each start, in its
 * run dir). */
int run_prepare_dirs(struct store *s, const char *id, const struct run_plan *p,
		     struct kerror *e);
/* Clones the container's init into its namespaces, sets it up and execs
 * the plan's argv.  Returns once the exec happened; a failure before it
 * comes back as an error with e->code and *exit_code 125, 126 (cannot
 * execute) or 127 (not found).  Signals in `blocked` stay blocked in the
 * caller (for its signalfd) and are unblocked in the child. */
int run_spawn(struct store *s, const char *id, const struct run_plan *p,
	      const struct run_stdio *io, struct run_proc *out, int *exit_code,
	      struct kerror *e);

/* Builds and loads the default seccomp filter with libseccomp (in the
 * child). */
int run_seccomp_load(struct kerror *e);
/* The default filter as a BPF program, from the cache in cache_dir (the
 * runroot) or compiled and cached there.  run_seccomp_install loads it
 * with seccomp(2) (needs no_new_privs or CAP_SYS_ADMIN). */
struct sock_filter;
struct run_bpf {
	struct sock_filter *insns;
	unsigned short len;
};
int run_seccomp_filter(const char *cache_dir, struct run_bpf *out, struct kerror *e);
int run_seccomp_install(const struct run_bpf *b, struct kerror *e);
void run_bpf_release(struct run_bpf *b);
/* The default profile as runtime-spec's linux.seccomp (new reference),
 * for an external OCI runtime. */
json_t *run_seccomp_oci(void);
/* Where the cache of the current profile lives in dir (new string). */
char *run_seccomp_cache_path(const char *dir);
/* Applies the capability set: bounding set dropped to caps; permitted and
 * effective set to caps (root) — called before switching user. */
int run_caps_bound(uint64_t caps, struct kerror *e);
int run_caps_apply(uint64_t caps, struct kerror *e);

/* ---- monitor and state --------------------------------------------------- */

/* Takes the monitor lock of a container (creating its run dir); returns the
 * fd.  wait: block until free. -EWOULDBLOCK when held and !wait. */
int run_lock(struct store *s, const char *id, bool wait, int *fd, struct kerror *e);
/* If c is "running" but its monitor is gone, records it as exited with the
 * code from the exit file (or -1) and updates c.  Returns 0 in all normal
 * cases. */
int run_state_refresh(struct store *s, struct container_info *c, struct kerror *e);
/* The monitor writes the exit code here before the DB. */
int run_exit_file_write(struct store *s, const char *id, int code);
/* A --rm container's row is removed with its exit: the code stays in
 * <runroot>/exits/<id> for whoever waits on it (the API's wait, which
 * has to answer with it); take reads and removes it, -1 if absent.  The
 * files are tiny and the runroot is a tmpfs. */
int run_removed_exit_write(struct store *s, const char *id, int code);
int run_removed_exit_take(struct store *s, const char *id);

struct run_monitor_opts {
	bool detach;   /* stdout/stderr to the log file, stdin /dev/null */
	bool remove;   /* --rm: remove the container after it exited */
	int ready_fd;  /* detached: where to report the start (-1 none) */
	bool no_sig_proxy; /* --sig-proxy=false: signals are not forwarded */
	int restarts;  /* restarts already made: >0 when a foreground run hands
			* its restart policy over (the first start is a
			* restart, after the back-off) */
};
/* Runs the container as its monitor: lock, spawn, record running, relay,
 * forward signals, wait, record the exit.  *exit_code gets the
 * container's code (or 125/126/127 when it could not start). */
int run_monitor(struct store *s, struct container_info *c, const struct run_plan *p,
		const struct run_monitor_opts *o, int *exit_code, struct kerror *e);
/* Forks a detached monitor (setsid, double fork) and waits until the
 * container started; returns its error otherwise.  The caller must have
 * closed its store first: an SQLite connection must not cross a fork (the
 * child's locks would be the parent's ghosts), so the monitor opens the
 * store described by so itself. */
int run_detached(const struct store_opts *so, struct container_info *c,
		 const struct run_plan *p, bool remove, int restarts, int *exit_code,
		 struct kerror *e);
/* Whether the plan's restart policy restarts a container that exited with
 * code after `restarts` restarts (Docker's rules; not after kiln stop). */
bool run_restart_wanted(struct store *s, const struct container_info *c,
			const struct run_plan *p, int code, int restarts);

/* ---- external OCI runtimes (oci_bundle.c, oci_runtime.c) -----------------
 * --runtime runc|crun|PATH: kiln mounts the container's root as usual,
 * writes an OCI runtime-spec bundle (<runroot>/containers/<id>/bundle)
 * and hands it to the runtime (state under <runroot>/oci-runtime); the
 * monitor supervises the container's init as with kiln's own runtime. */

/* A bare name is looked up in $PATH, else it must be an absolute path to
 * an executable; *path gets the file.  -ENOENT when there is none. */
int run_oci_runtime_path(const char *name, char **path, struct kerror *e);
/* -ENOTSUP naming what the plan asks that the OCI path does not do. */
int run_oci_check(const struct run_plan *p, struct kerror *e);
/* The plan's config.json: rootfs the mounted root, userdata the directory
 * of the generated hosts, hostname and resolv.conf (NULL: none). */
int run_oci_config(const struct run_plan *p, const char *rootfs, const char *userdata,
		   json_t **out, struct kerror *e);
/* Before a removal: RUNTIME delete --force of a container it still knows. */
void run_oci_delete(struct store *s, const struct container_info *c);

/* ---- exec (exec.c) ---------------------------------------------------------- */

/* kiln exec: argv in the running container c, with its namespaces (one
 * setns of the calling process on a pidfd of its init), cgroups,
 * capability set, no_new_privs and seccomp filter; env: -e additions over
 * the plan's; user/cwd: NULL for the plan's.  tty: a pty from the
 * container's devpts, relayed; detach: returns once the exec happened.
 * *exit_code: the process's status, or 125/126/127 with an error.  The
 * calling process stays in the container's namespaces afterwards. */
struct run_exec_opts {
	char *const *argv;
	char *const *env;
	const char *user, *cwd;
	bool tty, interactive, detach;
};
int run_exec(struct store *s, const struct container_info *c, const struct run_exec_opts *o,
	     int *exit_code, struct kerror *e);

/* kiln attach (attach.c): the stdio of a container started detached,
 * through its monitor's attach socket, until it ends or the detach keys
 * come (*detached).  sig_proxy: SIGINT, SIGTERM… go to the container. */
struct run_attach_opts {
	bool no_stdin, tty, sig_proxy;
	char detach_keys[16];
	size_t n_detach_keys;
};
int run_attach(struct store *s, const struct container_info *c, const struct run_attach_opts *o,
	       bool *detached, struct kerror *e);
/* "ctrl-p,ctrl-q" → bytes ("" → none). */
int run_detach_keys_parse(const char *spec, char *out, size_t *n, struct kerror *e);
/* The same attach socket for the API service: a connected SOCK_SEQPACKET
 * socket (its packets: see attach.c; the monitor drops a client that does
 * not read its output, so read or drain it), or a negative errno when the
 * container has no monitor listening (not running, or not detached). */
int run_attach_connect(struct store *s, const char *id, struct kerror *e);
/* Container stdin through it (blocking); 0 or a negative errno. */
int run_attach_stdin(int sock, const void *data, size_t n);
/* The end of stdin (the container's stdin pipe closes; not for a tty). */
void run_attach_stdin_close(int sock);
/* Discards the output packets waiting on it. */
void run_attach_drain(int sock);
/* Sets the window size of a detached container's tty (ignored without
 * one). */
int run_attach_resize(struct store *s, const char *id, unsigned rows, unsigned cols,
		      struct kerror *e);

/* k8s-file log lines: "<RFC3339Nano> stdout|stderr F|P <text>". */
struct log_line {
	int64_t sec;
	long nsec;
	bool is_stderr, partial;
	const char *text;
	size_t len;
};
/* Parses one line (without its '\n'); false if malformed. */
bool run_log_parse(const char *line, size_t len, struct log_line *out);
char *run_log_path(struct store *s, const char *id);

/* ---- a container's filesystem (changes.c, view.c) ----------------------- */

/* The paths (relative to the root) kiln generates in an upper dir:
 * etc/hosts, etc/hostname, etc/resolv.conf; diff and commit leave them out. */
bool run_upper_generated(const char *rel);
/* docker diff: 'A', 'C' or 'D' and an absolute path, sorted by path, from
 * the container's upper dir against its image's layers (ids, base first). */
struct run_change {
	char kind;
	char *path;
};
int run_changes(struct store *s, const char *id, char *const *layers, struct run_change **out,
		size_t *n, struct kerror *e);
void run_changes_free(struct run_change *c, size_t n);
/* Copies the container's upper dir into dest (created): whiteouts, opaque
 * and other xattrs, owners, modes, times; not the generated files. */
int run_upper_copy(struct store *s, const char *id, const char *dest, struct kerror *e);
/* Runs fn in a child whose root is the container's filesystem: the running
 * container's own mount namespace when live and it runs, else a private
 * overlay of its layers and upper dir (read-write when writable, only for
 * a container that does not run).  fn's error comes back in e. */
typedef int (*run_rootfs_fn)(void *ctx, struct kerror *e);
int run_in_rootfs(struct store *s, const struct container_info *c, bool live, bool writable,
		  run_rootfs_fn fn, void *ctx, struct kerror *e);

/* pause/unpause (pause.c): the container's processes frozen in a freezer
 * cgroup of their own (v1 freezer or v2 cgroup.freeze) and put back on
 * unpause.  The DB state stays "running"; run_is_paused tells. */
int run_pause(struct store *s, const struct container_info *c, struct kerror *e);
int run_unpause(struct store *s, const struct container_info *c, struct kerror *e);
bool run_is_paused(struct store *s, const char *id);

/* ---- rootless (userns.c) ------------------------------------------------
 * A normal user's kiln commands all run in one user namespace, held by a
 * "kiln-pause" process created on first use: root inside is the user, ids
 * 1..N are the user's range from /etc/subuid and /etc/subgid (mapped with
 * newuidmap/newgidmap), or only root is mapped when the user has no range
 * (with a warning).  run_userns_join joins it (creating it when absent or
 * dead; state_dir holds pause.pid and pause.lock) and sets
 * KILN_ROOTLESS_UID=<uid> in the environment.  Single-threaded callers
 * only (setns(CLONE_NEWUSER)). */
int run_userns_join(const char *state_dir, struct kerror *e);
/* One "name:start:count" range of /etc/subuid or /etc/subgid text: the
 * first line whose name is name or the decimal id.  1 found, 0 not. */
struct run_subid {
	unsigned long start, count;
};
int run_subid_find(const char *text, const char *name, unsigned long id,
		   struct run_subid *out);
/* True for a rootless kiln: not root, or root of a user namespace. */
bool run_rootless(void);

/* ---- health checks (health.c) and restarts -------------------------------- */

/* Runs the plan's health check once in the running container c and
 * records it (Docker's rules: retries, start period, the last 5 results).
 * *healthy: the check passed.  An error when c has no check or is not
 * running. */
int run_health_check(struct store *s, const struct container_info *c, const struct run_plan *p,
		     bool *healthy, struct kerror *e);
/* State.Health as recorded ({Status, FailingStreak, Log}), NULL if none. */
json_t *run_health_read(struct store *s, const char *id);
/* A fresh "starting" state (at each start). */
void run_health_reset(struct store *s, const char *id);
/* kiln stop marks the container as stopped by the user (kept in its
 * directory, so across reboots): no restart policy brings it back until
 * its next start, which clears the mark. */
void run_mark_stopped(struct store *s, const char *id, bool stopped);
bool run_stopped_by_user(struct store *s, const char *id);
/* How many times the monitor restarted the container (since its start). */
int run_restart_count(struct store *s, const char *id);

/* ---- processes and resource use (procs.c) --------------------------------- */

struct run_procinfo {
	pid_t host_pid, host_ppid;
	pid_t pid, ppid;         /* as the container sees them */
	uid_t uid;
	gid_t gid;
	char comm[64];
	char state;
	char *args;              /* the command line, NULL for a kernel-less zombie */
	int tty_nr, nice;
	uint64_t utime, stime, cutime, cstime, start_ticks; /* clock ticks */
	uint64_t vsz, rss_pages;
};
/* Every process in the pid namespace of init (a host pid), sorted by its
 * pid in the container. */
int run_container_procs(pid_t init, struct run_procinfo **out, size_t *n, struct kerror *e);
void run_procs_free(struct run_procinfo *p, size_t n);

/* ---- top (top.c) ------------------------------------------------------------ */
/* A running container's processes as a table of text: one column per
 * descriptor (Podman's: pid ppid user group comm args etime time tty vsz
 * rss pcpu nice state hpid huser uid gid, and ps's AIX codes), titles as
 * kiln top prints them. */
struct run_top {
	size_t cols, rows;
	char **titles; /* cols */
	char **cells;  /* rows × cols, row by row */
};
/* descs: words of descriptors ("pid,user" or one a word); NULL or empty:
 * user pid ppid pcpu etime tty time args.  EINVAL names an unknown one. */
int run_top(pid_t init, char *const *descs, struct run_top *t, struct kerror *e);
void run_top_release(struct run_top *t);
/* Its index when d is a descriptor (or alias), else -1. */
int run_top_descriptor(const char *d);

struct run_stats {
	uint64_t cpu_ns;               /* CPU time used */
	uint64_t mem_usage, mem_limit; /* bytes; limit: the host's without one */
	uint64_t net_rx, net_tx, blk_read, blk_write;
	size_t pids;
};
/* The container's figures: from its own cgroups (v1 memory/cpuacct, v2)
 * when it has them, else summed over its processes (/proc). */
int run_container_stats(const char *id, pid_t init, struct run_stats *out, struct kerror *e);

/* ---- mount / unmount (mount.c) ---------------------------------------------- */

/* kiln mount: the container's overlay mounted on its merged dir in the
 * host's mount namespace, counted (each mount needs an unmount); *path
 * gets the dir.  A container started meanwhile uses that mount. */
int run_mount_rootfs(struct store *s, const struct container_info *c, char **path,
		     struct kerror *e);
/* Drops one count (force: all) and unmounts at zero.  -EINVAL if it was
 * not mounted. */
int run_unmount_rootfs(struct store *s, const struct container_info *c, bool force,
		       struct kerror *e);
/* The mount count (0: not mounted). */
int run_mount_count(struct store *s, const char *id);
/* The container's merged dir, the mount point of its root filesystem:
 * <runroot>/containers/<id>/merged (rundir.c). */
char *run_merged_dir(struct store *s, const char *id);
/* <runroot>/containers/<id>/NAME: the generated hosts, hostname and
 * resolv.conf that a running container sees as its /etc's. */
char *run_etc_file(struct store *s, const char *id, const char *name);
/* Before a container's removal: undoes every kiln mount of it. */
void run_rootfs_release(struct store *s, const struct container_info *c);

/* ---- build steps (build_exec.c, build_net.c) ----------------------------- */


/* The network of a build's RUN steps (kiln build --network, RUN --network). */
enum run_build_net_mode {
	RUN_BUILD_NET_DEFAULT, /* private; rootless without pasta: host (with a warning) */
	RUN_BUILD_NET_PRIVATE, /* own namespace with outbound access: root, the default
				* bridge network "kiln" (NAT); rootless, pasta */
	RUN_BUILD_NET_NONE,    /* own namespace with only lo */
	RUN_BUILD_NET_HOST,    /* the host's */
};
/* "private", "bridge" (Docker's name) → PRIVATE; "default", "" → DEFAULT;
 * "none", "host"; anything else -EINVAL (a network name: not supported). */
int run_build_net_parse(const char *s, enum run_build_net_mode *out, struct kerror *e);
/* DEFAULT resolved for this user: PRIVATE, or HOST rootless without pasta. */
enum run_build_net_mode run_build_net_resolve(enum run_build_net_mode m);

/* One network namespace (mode PRIVATE or NONE) made for a build and shared
 * by its RUN steps: a step's processes end with the step, so sharing shows
 * a step nothing of the one before, and a step pays no set-up (it joins
 * with one setns).  Its /etc/hosts and /etc/resolv.conf (the host's
 * resolver configuration; hosts: localhost, the step's hostname with the
 * namespace's address, host.containers.internal) are files in dir (the
 * build's private tmp dir), bound over the image's for each step, so they
 * never end up in a layer.  Root's private namespace holds a veth pair on
 * the default network (address claimed host-wide, not in the store: a
 * killed build leaves nothing behind). */
struct run_build_net;
int run_build_net_open(struct store *s, enum run_build_net_mode mode, const char *dir,
		       struct run_build_net **out, struct kerror *e);
/* Drops the address claim and the namespace (only in the process that
 * opened it: a forked child's copy is just closed). */
void run_build_net_free(struct run_build_net *n);

/* A RUN step of a build: argv in rootfs (a mounted snapshot), in new mount,
 * PID, IPC and UTS namespaces, in net's network namespace (NULL: the
 * host's), with /proc, /dev, /sys and /etc/hosts and /etc/resolv.conf
 * (net's files, or the host's) bound in.  Mount points the image lacks are
 * created for the run and removed after it.  cwd is created if absent; user
 * resolved in the image's /etc/passwd and /etc/group.  *exit_code: the
 * command's status (128+signal), or 125/126/127 with an error when it could
 * not start. */
struct run_build_exec {
	const char *rootfs;
	char *const *argv;
	char *const *env;
	const char *cwd;
	const char *user;
	const struct run_build_net *net;
	int out_fd, err_fd; /* -1: inherit */
	/* Podman's confinement of a RUN step: the default capability set
	 * (run_caps_default) and the default seccomp filter, compiled or read
	 * from its cache in seccomp_cache_dir.  false: all of root's powers
	 * (RUN --security=insecure). */
	bool confine;
	const char *seccomp_cache_dir;
};
int run_build_exec(const struct run_build_exec *x, int *exit_code, struct kerror *e);

#endif
