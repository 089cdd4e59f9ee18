/* api_private.h — shared inside api/ only. */
#ifndef KILN_API_PRIVATE_H
#define KILN_API_PRIVATE_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "api/api.h"
#include "run/run.h"

/* The API version kiln speaks at most and at least (Docker's negotiation:
 * the client uses min(its own, ours)). */
#define API_VERSION "1.47"
#define API_MIN_VERSION "1.24"

/* Read-only after api_serve set it up, but for the activity clock and
 * the live ttys. */
struct api_tty;
struct api_server {
	const struct api_opts *o;
	_Atomic int64_t last_active; /* CLOCK_MONOTONIC seconds */
	_Atomic int busy;            /* requests in flight */
	char *tmpdir;                /* where uploaded bodies are spooled */
	pthread_mutex_t tty_lock;    /* guards ttys (zero-initialised) */
	struct api_tty *ttys;        /* exec sessions' ptys, ttys.c */
	size_t n_ttys;
};

struct api_req;
typedef enum MHD_Result (*api_handler)(struct api_req *r);

struct api_route {
	const char *method;  /* "GET", "POST", … ("GET" also answers HEAD) */
	const char *pattern; /* "/containers/{}/json": {} one segment, {*} one or more */
	api_handler fn;
	bool spool;          /* large body: written to a file, not kept in memory */
};

#define API_MAX_PARAMS 2
struct api_req {
	struct api_server *srv;
	struct MHD_Connection *conn;
	const struct api_route *route;
	const char *method;
	char *path;                     /* without the /vX.Y prefix */
	char *params[API_MAX_PARAMS];   /* what {} and {*} matched, URL-decoded */
	struct buf body;                /* small bodies */
	int body_fd;                    /* spooled bodies (-1 otherwise) */
	char *body_path;
	uint64_t body_len;
	bool too_big;
};

/* ---- responses (respond.c) ----------------------------------------------- */
enum MHD_Result api_reply_buf(struct api_req *r, unsigned status, const char *ctype,
			      char *data, size_t len); /* takes data */
enum MHD_Result api_reply_json(struct api_req *r, unsigned status, json_t *j); /* takes j */
enum MHD_Result api_reply_error(struct api_req *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The status follows e's code (ENOENT 404, EEXIST/EBUSY 409, EINVAL 400,
 * else 500). */
enum MHD_Result api_reply_kerror(struct api_req *r, const struct kerror *e);
enum MHD_Result api_reply_empty(struct api_req *r, unsigned status);
/* A worker's failure: its "Error: …" line as the message, the status
 * guessed from the words kiln's CLI uses (no such / not known → 404, in
 * use / already / is running → 409, invalid / requires → 400). */
enum MHD_Result api_reply_worker_error(struct api_req *r, const char *err_text);
unsigned api_status_for_message(const char *msg);

const char *api_query(struct api_req *r, const char *key);
bool api_query_bool(struct api_req *r, const char *key);
const char *api_header(struct api_req *r, const char *key);
/* The request body as JSON (an empty body gives an empty object). */
int api_body_json(struct api_req *r, json_t **out, struct kerror *e);
/* A read-only store handle for this request, from the pool of kept ones
 * (store_pool.c); give it back with api_store_put (or declare it
 * _cleanup_api_store_), never with store_close: the pool counts the handles
 * out and closes its kept ones only when none is (see store_pool.c). */
int api_store(struct api_req *r, struct store **out, struct kerror *e);
int api_store_srv(struct api_server *srv, struct store **out, struct kerror *e);
void api_store_put(struct store *s);
void cleanup_api_storep(struct store **s);
#define _cleanup_api_store_ __attribute__((cleanup(cleanup_api_storep)))
/* Closes the kept handles if none is in use (the service is idle). */
void api_store_trim(void);

/* ---- workers (worker.c) -------------------------------------------------- */
struct api_worker {
	pid_t pid;         /* also its process group */
	int in, out, err;  /* our ends of its stdio pipes, -1 if not piped */
};
enum {
	WORKER_STDIN = 1,  /* pipe stdin (else /dev/null) */
	WORKER_MERGE = 2,  /* stderr into the stdout pipe */
};
/* Starts `kiln <global options> args…`. */
int api_worker_start(struct api_server *srv, char *const *args, int flags,
		     struct api_worker *w, struct kerror *e);
/* The same on the slave side of the pty master (its stdin, stdout and
 * stderr, and its controlling terminal in a session of its own, so that a
 * window size set on master reaches it as SIGWINCH): w->out, and w->in
 * when with_in, are copies of master; w->err is -1. */
int api_worker_start_pty(struct api_server *srv, char *const *args, int master, bool with_in,
			 struct api_worker *w, struct kerror *e);
/* Kills the worker's group (if kill) and reaps it; returns its exit code. */
int api_worker_finish(struct api_worker *w, bool kill);
/* Runs to completion: *out and *err get what it printed; returns the exit
 * status (or a negative errno when it could not start). */
int api_worker_run(struct api_server *srv, char *const *args, const char *in, size_t in_len,
		   char **out, char **err, struct kerror *e);
/* api_worker_run and a reply for the common cases: on failure the worker
 * error; else *out is returned to the caller (NULL allowed to drop it). */
int api_worker_simple(struct api_req *r, char *const *args, char **out, enum MHD_Result *res);

/* ---- streaming (stream.c) ------------------------------------------------- */
/* Replies with a chunked body fed by the worker's stdout (its stderr, if
 * piped, in Docker's multiplexed frames when mux).  fmt: how each stdout
 * line becomes output (NULL: bytes as they come). */
typedef void (*api_line_fn)(struct buf *out, const char *line, size_t len, void *ctx);
typedef void (*api_end_fn)(struct buf *out, int status, const char *err, void *ctx);
struct api_stream_opts {
	const char *ctype;
	bool mux;            /* stdout/stderr framed (8-byte headers) */
	api_line_fn line;    /* per stdout line; NULL: raw */
	api_end_fn end;      /* after the worker exited; may be NULL */
	void (*cleanup)(void *ctx); /* when the stream ends, however; may be NULL */
	void *ctx;           /* freed with free() after cleanup */
};
enum MHD_Result api_reply_worker_stream(struct api_req *r, struct api_worker *w,
					const struct api_stream_opts *o);
/* Docker's stream framing: 8-byte header (stream, 0, 0, 0, big-endian
 * length) then the bytes. */
void api_frame(struct buf *out, int stream, const void *data, size_t len);

/* ---- upgrade (hijack.c) --------------------------------------------------- */
/* Switches the connection to a raw stream (101, Upgrade: tcp) and relays it
 * to a worker started then with args (taken): the socket → worker stdin
 * (when flags has WORKER_STDIN), worker stdout/stderr → socket (framed
 * unless tty).  before(ctx, sock), when set, runs first in the connection's
 * thread; a non-zero return ends the connection.  Without args, before()
 * is the whole session.  ctx is freed with free(). */
bool api_send_all(int sock, const void *data, size_t n);
typedef int (*api_hijack_fn)(struct api_server *srv, void *ctx, int sock);
/* done(ctx, exit code) after the worker was reaped; may be NULL. */
typedef void (*api_hijack_done_fn)(struct api_server *srv, void *ctx, int code);
enum MHD_Result api_reply_hijack(struct api_req *r, char **args, int flags, bool tty,
				 api_hijack_fn before, void *ctx, api_hijack_done_fn done);
/* The same with a tty: the worker runs on the slave side of master (taken;
 * see api_worker_start_pty), the client's bytes go to master when with_in,
 * and master's output to the client, raw.  done() also comes (with 126)
 * when the worker cannot start. */
enum MHD_Result api_reply_hijack_pty(struct api_req *r, char **args, int master, bool with_in,
				     api_hijack_fn before, void *ctx, api_hijack_done_fn done);

/* ---- exec ttys (ttys.c) ----------------------------------------------------
 * /exec/{id}/resize comes on a connection of its own while the session's
 * pty is held by the thread relaying it: the live ones are listed here by
 * exec ID (nothing outlives the service). */
/* A pty master (O_CLOEXEC) whose slave is in raw mode. */
int api_pty_open(int *master, struct kerror *e);
/* Lists a copy of master under id / drops it. */
void api_tty_add(struct api_server *srv, const char *id, int master);
void api_tty_remove(struct api_server *srv, const char *id);
/* Sets the window size of id's pty; -ENOENT when it has none. */
int api_tty_resize(struct api_server *srv, const char *id, unsigned rows, unsigned cols);

/* Summaries as /images/json and /containers/json give them. */
int api_images_summary(struct store *s, bool all, json_t **out, struct kerror *e);
int api_containers_summary(struct store *s, bool all, bool size, json_t **out, struct kerror *e);
int api_volumes_list(struct api_req *r, json_t **out, struct kerror *e);
/* ?filters= as a JSON object (empty when absent). */
int api_filters(struct api_req *r, json_t **out, struct kerror *e);
/* One filter's values, in either of Docker's encodings ({"v": true} or
 * ["v"]); never NULL. */
char **api_filter_values(const json_t *vals);

/* ---- handlers ------------------------------------------------------------ */
extern const struct api_route api_system_routes[], api_image_routes[],
	api_container_routes[], api_volume_routes[], api_network_routes[],
	api_exec_routes[], api_archive_routes[];

/* /events (h_events.c), routed with the system endpoints. */
enum MHD_Result api_events(struct api_req *r);
/* Routed with the container endpoints: /containers/{id}/top (h_top.c),
 * /containers/{id}/attach and /containers/{id}/resize (h_attach.c). */
enum MHD_Result api_container_top(struct api_req *r);
/* /containers/{id}/logs (h_logs.c). */
enum MHD_Result api_container_logs(struct api_req *r);
enum MHD_Result api_container_attach(struct api_req *r);
enum MHD_Result api_container_resize(struct api_req *r);

/* Helpers shared by the handlers (util.c). */
int64_t api_now_mono(void);
json_t *api_labels_json(const json_t *labels);
/* The labels of the image with this ID (its config digest's hex), from
 * its config or a cache of earlier answers (labels_cache.c); new object. */
json_t *api_image_labels(struct store *s, const char *id);
/* argv builder: append a copy. */
void api_arg(char ***v, const char *s);
void api_argf(char ***v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* X-Registry-Auth (base64url JSON {username,password}) to a temporary
 * auth.json path for --authfile; NULL when absent. */
char *api_authfile_from_header(struct api_req *r, const char *registry, struct kerror *e);

#endif
