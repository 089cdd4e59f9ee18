/* Private to run/: the pieces of the child's set-up shared by its files. */
#ifndef KILN_RUN_PRIVATE_H
#define KILN_RUN_PRIVATE_H

#include "run/run.h"

/* In the child, in its own mount namespace: mounts the overlay of the
 * plan's layers (lower dirs relative to <root>/layers, so the option string
 * stays under a page) on its merged dir in the run dir and pivots into it;
 * then /proc, /dev, /sys, the generated /etc files (bind mounts from the
 * run dir, rundir.c), masked and read-only paths, --read-only. */
int rootfs_enter(struct store *s, const char *id, const struct run_plan *p,
		 struct kerror *e);
/* Mounts the container's overlay (or --rootfs bind) on its merged dir;
 * changes the working directory (to the layers dir). */
int rootfs_mount_overlay(struct store *s, const char *id, const struct run_plan *p,
			 struct kerror *e);
bool rootfs_is_mountpoint(const char *path);
/* Podman's masked and read-only paths. */
const char *const *rootfs_masked_paths(size_t *n);
const char *const *rootfs_readonly_paths(size_t *n);
/* "CHOWN" for bit 0…; NULL past the last known one. */
const char *run_cap_name(int bit);

/* External OCI runtimes (oci_runtime.c): creates the container with
 * RUNTIME create from a bundle in its run dir (oci_bundle.c), joins its
 * network, starts it; the container's init is our child (we are a
 * subreaper), so out->pid is waited on as with run_spawn. */
int oci_spawn(struct store *s, const char *id, const struct run_plan *p,
	      const struct run_stdio *io, struct run_proc *out, int *exit_code,
	      struct kerror *e);
/* After the container's exit: RUNTIME delete, the rootfs unmounted. */
void oci_cleanup(struct store *s, const char *id, const struct run_plan *p);

/* The overlay option string ("lowerdir=…,upperdir=…,workdir=…"); init,
 * if not NULL, is the top lower dir. */
char *rootfs_overlay_options(const char *init, char *const *layers, const char *upper,
			     const char *work);

/* The run dir (rundir.c): before every start, the generated hosts,
 * hostname and resolv.conf written there, its merged/ and init/ made. */
int run_prepare_start(struct store *s, const struct container_info *c,
		      const struct run_plan *p, struct kerror *e);
/* Writes a small file in place (created 0644, truncated, no symlink). */
int run_write_small(const char *path, const char *data, struct kerror *e);
/* The init layer's path if it is there and fits an option string, or NULL. */
char *run_init_layer(struct store *s, const char *id);

/* k8s-file writer: complete lines as "F", a line cut by the buffer limit
 * or by the end of the stream as "P". */
struct log_writer {
	int fd;
	struct buf pending[2]; /* stdout, stderr */
	int64_t max_size;      /* --log-opt max-size: truncated beyond it, as conmon */
	int64_t size;          /* the file's current size */
};
void log_writer_feed(struct log_writer *w, bool is_stderr, const char *data, size_t n);
void log_writer_flush(struct log_writer *w);

/* Before pivot_root: detached clones of the bind sources (trees[i], -1
 * for a tmpfs), read-only ones made so.  After it: each mounted on its
 * target resolved inside the root (RESOLVE_IN_ROOT, no magic links),
 * created if missing; the trees are closed. */
int mounts_clone_sources(char *const *mounts, int *trees, struct kerror *e);
int mounts_apply(char *const *mounts, int *trees, struct kerror *e);
/* After pivot_root: moves a detached tree onto target, resolved and created
 * (an empty file if file) as for mounts_apply. */
int mounts_move_tree(int tree, const char *target, bool file, struct kerror *e);
/* After pivot_root: if the volume's tree (a detached clone of its _data
 * dir) is empty and target is a directory in the container's root, copies
 * target's content (owners, modes, links) into it. */
int volume_copy_up(int tree, const char *target, struct kerror *e);

/* pasta's pid file, in the container's run dir (or a build's). */
#define PASTA_PID_FILE "pasta.pid"

/* When pasta is ready (pasta_ready.c): without published ports, once the
 * namespace of ctr (the container's init) has a default route for each
 * family the host has one for; with ports (or no such family), once pasta
 * wrote its pid file dir/PASTA_PID_FILE, which pasta_ready_open removes.  open
 * comes before pasta starts (no route may be missed); wait returns 0 when
 * ready, 1 when pasta exited first (its status says why). */
struct pasta_ready {
	pid_t ctr;
	unsigned want; /* RUN_ROUTE_* */
	int nl;        /* a route netlink socket in the namespace, or -1 */
	char *pidfile;
};
void pasta_ready_init(struct pasta_ready *w);
int pasta_ready_open(struct pasta_ready *w, pid_t ctr, int nsfd, bool ports, const char *dir,
		     struct kerror *e);
int pasta_ready_wait(struct pasta_ready *w, pid_t tool, struct kerror *e);
void pasta_ready_release(struct pasta_ready *w);

/* Starts pasta or slirp4netns (p->network) for the network namespace of
 * pid, publishing p->ports; their messages go to logdir/network.log.
 * net_user_begin only starts the tool (so that the container's own set-up
 * runs while it configures the namespace); net_user_finish waits until the
 * namespace is configured and the ports are published, and must follow
 * every successful begin (it also releases *n on failure).  What the
 * container's life keeps: *keep_fd, a descriptor to hold open
 * (slirp4netns exits when it closes), and *keep_pid, pasta (our child,
 * in the foreground, killed with us), for net_user_end; -1 and 0 when
 * none.  begin fails with a clear message when /dev/net/tun is unusable. */
struct net_user_pending {
	pid_t tool;       /* the started tool (its parent, for slirp4netns) */
	bool pasta;
	pid_t ctr;        /* the container's first process */
	int exit_w;       /* slirp4netns: --exit-fd's other end; pasta: portfwd_start's */
	int ready_r;      /* slirp4netns: --ready-fd's other end */
	struct pasta_ready ready;
	char *logdir, *log;
};
int net_user_begin(const struct run_plan *p, pid_t pid, const char *logdir,
		   struct net_user_pending *n, struct kerror *e);
int net_user_finish(const struct run_plan *p, struct net_user_pending *n, int *keep_fd,
		    pid_t *keep_pid, struct kerror *e);
/* Both at once. */
int net_user_start(const struct run_plan *p, pid_t pid, const char *logdir, int *keep_fd,
		   pid_t *keep_pid, struct kerror *e);
/* Closes keep_fd and kills keep_pid (either may be unset), which may stay
 * a zombie for a while: a caller that goes on (a monitor that restarts the
 * container) reaps it with waitpid before it starts the next. */
void net_user_end(int keep_fd, pid_t keep_pid);
/* Binds the TCP ports among ports (canonical strings) on the host and forks
 * the process that forwards them into ctr's network namespace, on its
 * loopback (portfwd.c); *exit_w is the socket to keep for the container's
 * life: net_user_end stops the forwarder through it (as does our death).
 * hold (if >= 0) stays open in the forwarder while it lives. */
int portfwd_start(char *const *ports, pid_t ctr, int hold, int *exit_w, struct kerror *e);
/* Stops the forwarder of that socket and waits for it (its ports are free
 * then); closes keep, which may also be slirp4netns' --exit-fd pipe. */
void portfwd_stop(int keep);

/* Stops the container's pasta (its pid file in the container's run dir),
 * which does not notice that a namespace given by descriptor went away:
 * called when the container ended, by its monitor or by whoever finds the
 * monitor dead. */
void net_user_stop(struct store *s, const char *id);
/* A build's namespace (build_net.c): pasta for nsfd, no ports, its pid
 * file and log in dir; net_user_pasta_stop kills the pasta of dir. */
int net_user_pasta_ns(int nsfd, const char *dir, struct kerror *e);
void net_user_pasta_stop(const char *dir);

/* Brings lo up in the calling thread's network namespace. */
void run_loopback_up(void);

/* A build's network namespace (build_net.c, used by build_exec.c). */
struct run_build_net {
	int fd;                 /* the namespace */
	pid_t owner;            /* the process that made it */
	char *dir;              /* its files: hosts, resolv.conf, pasta's */
	char *hosts_path, *resolv_path;
	char *hosts, *resolv;   /* their texts, written again before each step */
	bool linked;            /* link holds a claimed address (root, private) */
	struct net_build_link *link;
};

/* Writes n's /etc files again (a step may have changed them). */
int run_build_net_write_etc(const struct run_build_net *n, struct kerror *e);

/* setgroups(2), where clearing the list is not an error when the user
 * namespace forbids setgroups (a one-id rootless mapping). */
int run_setgroups(size_t n, const gid_t *gids);

/* execve of argv[0] along env's PATH (the container's); returns only on
 * failure: 127 (not found) or 126 (cannot execute), with e filled. */
int run_execvpe(char *const *argv, char *const *env, struct kerror *e);

/* One descriptor passed with SCM_RIGHTS on sock (close-on-exec); -1 if none. */
int run_recv_fd(int sock);
/* Sends fd over sock with SCM_RIGHTS; 0 or a negative errno. */
int run_send_fd(int sock, int fd);

/* The monitor's side of kiln attach (attach.c). */
#define ATTACH_MAX_CLIENTS 16
struct attach_hub {
	int listen_fd; /* -1: none */
	int clients[ATTACH_MAX_CLIENTS];
	size_t n;
};
/* Listens on <rundir>/attach; the fd or a negative errno. */
int attach_listen(const char *rundir, struct kerror *e);
void attach_accept(struct attach_hub *h);
/* Sends output to every client (one that cannot take it is dropped). */
void attach_broadcast(struct attach_hub *h, bool is_stderr, const char *data, size_t n);
/* Reads one packet of client i: stdin data to the pty or *stdin_w, stdin
 * close, window size. */
void attach_client_input(struct attach_hub *h, size_t i, int pty, int *stdin_w);
void attach_close(struct attach_hub *h, const char *rundir);

/* Sets the plan's ulimits (canonical strings) on the calling process. */
int ulimits_apply(char *const *ulimits, struct kerror *e);

/* --init: the calling process (pid 1 of the container) forks the command
 * and stays as a reaper, forwarding signals to it, exiting with its status
 * (it never returns).  Returns 0 in the command's process, which then
 * execs; a negative errno when the fork failed. */
int init_run(struct kerror *e);

#endif
