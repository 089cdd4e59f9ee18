/* api.h — the public header of kiln's api module: a Docker Engine API
 * server (`kiln system service`) over libmicrohttpd, on a unix socket or
 * tcp://127.0.0.1:PORT.
 *
 * The service keeps no state of its own: the store is the single source of
 * truth.  Quick reads (lists, ping, version) call the storage library in
 * the request's thread, each request with a read-only store handle of its
 * own while it runs (kept open between requests, closed when idle).
 * Everything that changes the store or runs a container is done by a
 * worker: the kiln binary itself, run with the service's global options
 * and the CLI command that does the same thing (see docs/architecture.md
 * for why).  A client that disconnects kills its worker's process group. */
#ifndef KILN_API_H
#define KILN_API_H

#include "common/common.h"
#include "storage/storage.h"

struct api_opts {
	const char *uri;          /* unix:///path or tcp://HOST:PORT */
	int idle_timeout;         /* seconds without a request before exiting; 0 = never */
	const char *self;         /* the kiln binary the workers run */
	char *const *worker_args; /* global options for workers (--root …), may be NULL */
	struct store_opts store;  /* the store the quick reads open */
	const char *version;      /* kiln's version, for /version and /info */
};

/* The default URI: unix://<runroot>/kiln.sock (/run/kiln for root,
 * $XDG_RUNTIME_DIR/kiln otherwise).  New string. */
char *api_default_uri(const char *runroot);

/* Serves until SIGINT/SIGTERM or the idle timeout.  Returns 0 then, or a
 * negative errno when the socket cannot be set up. */
int api_serve(const struct api_opts *o, struct kerror *e);

#endif
