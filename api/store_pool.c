/* Read-only store handles for the requests' own reads, kept open between
 * requests.  Opening a store (SQLite open, schema check, four fds) cost
 * more than a whole /images/json; a kept handle costs nothing and still
 * sees every commit at once (each read is its own WAL snapshot), so the
 * store stays the single source of truth.
 *
 * Handles are closed again when the service is idle: while any connection
 * of the process holds kiln.db open, SQLite defers the close of another
 * connection's fd (its "unused fd" list, because closing any fd of a file
 * drops the process's POSIX locks on it).  Handles closed one by one under
 * load therefore piled up as open kiln.db fds; closing them all at a quiet
 * moment releases every one.  One pool per process (one service). */
#include <pthread.h>

#include "api/api_private.h"

/* Handles kept at most; a burst beyond it closes the extras. */
#define POOL_MAX 16

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store *pool[POOL_MAX];
static size_t pool_n;
static int pool_out; /* handles handed out and not yet back */

int api_store_srv(struct api_server *srv, struct store **out, struct kerror *e)
{
	pthread_mutex_lock(&pool_lock);
	pool_out++;
	if (pool_n > 0) {
		*out = pool[--pool_n];
		pthread_mutex_unlock(&pool_lock);
		return 0;
	}
	pthread_mutex_unlock(&pool_lock);
	struct store_opts so = srv->o->store;
	so.read_only = true;
	int rc = store_open(&so, out, e);
	if (rc < 0) {
		pthread_mutex_lock(&pool_lock);
		pool_out--;
		pthread_mutex_unlock(&pool_lock);
	}
	return rc;
}

int api_store(struct api_req *r, struct store **out, struct kerror *e)
{
	return api_store_srv(r->srv, out, e);
}

void api_store_put(struct store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&pool_lock);
	pool_out--;
	/* A handle left inside a transaction (or holding statements) is
	 * closed rather than kept: the next reader would see an old snapshot. */
	if (pool_n < POOL_MAX && store_reusable(s)) {
		pool[pool_n++] = s;
		s = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	store_close(s);
}

void cleanup_api_storep(struct store **s)
{
	api_store_put(*s);
	*s = NULL;
}

void api_store_trim(void)
{
	struct store *idle[POOL_MAX];
	size_t n = 0;
	pthread_mutex_lock(&pool_lock);
	/* Only when none is out: closing some while another stays open would
	 * leave their fds deferred (see above). */
	if (pool_out == 0) {
		n = pool_n;
		for (size_t i = 0; i < n; i++)
			idle[i] = pool[i];
		pool_n = 0;
	}
	pthread_mutex_unlock(&pool_lock);
	for (size_t i = 0; i < n; i++)
		store_close(idle[i]);
}
