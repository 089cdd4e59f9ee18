/* Private to registry/: parallel layer fetches staged from the stream. */
#ifndef KILN_REGISTRY_FETCH_H
#define KILN_REGISTRY_FETCH_H

#include "registry/client.h"

struct fetch_job {
	const struct descriptor *desc;
	const char *parent_chain; /* for the chain id, NULL for the base */
	struct staged_layer out;
	int result;
	struct kerror err;
};

/* Fetches and stages every job, parallel at once; started is called (from
 * the calling thread) when a job starts.  On failure, what failed first is
 * in e, nothing new starts and the others are cancelled.  bytes (may be
 * NULL; bytes_ctx its context) gets each blob's progress, from the calling
 * thread, as data arrives. */
int fetch_layers(struct reg_client *c, struct store *s, struct store_tmp *t, const char *repo,
		 const char *scope, struct fetch_job *jobs, size_t n, int parallel,
		 void (*started)(void *ctx, struct fetch_job *j), void *ctx, registry_bytes bytes,
		 void *bytes_ctx, struct kerror *e);

#endif
