/* --jobs N: stages that do not depend on each other are built at once.
 * Before the build's own pass, the stages other than the target are built
 * wave by wave (a wave: the stages whose dependencies are all in earlier
 * waves), up to N at a time, each in a forked child with a store handle of
 * its own.  A child builds its stage (its dependencies are cache hits by
 * then), commits it as an untagged image and records its cache rows; the
 * build's own pass then finds every step of those stages in the cache.  So
 * the parallel part needs the cache (--layers, no --no-cache); without it,
 * or when no wave holds two stages, nothing is forked.  A child that fails
 * only costs time: the build's own pass runs that stage again and reports
 * the error with its step. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build/engine_state.h"

/* Builds stage idx and what it needs; never returns. */
static _Noreturn void child_main(struct build *b, size_t idx, const bool *need)
{
	struct build_opts co = *b->o;
	struct store_opts so = { .root = store_root(b->s), .runroot = store_runroot(b->s),
				 .driver = store_driver(b->s) };
	struct store *s = NULL;
	struct kerror e = { 0 };
	char id[DIGEST_HEX_LEN + 1];
	int r;

	co.no_step_lines = true; /* the step lines are the build's own pass's */
	b->o = &co;
	/* the parent's DB handle is not used across fork: a handle of our own */
	r = store_open(&so, &s, &e);
	if (r == 0) {
		b->s = s;
		b->nrows = 0;
		r = build_enter_mount_ns(&e);
	}
	for (size_t j = 0; r == 0 && j <= idx; j++)
		if (need[j])
			r = build_stage(b, j, &e);
	if (r == 0)
		r = build_commit_state(b, &b->st[idx], NULL, id, &e);
	if (r == 0)
		r = store_build_cache_put(s, b->rows, b->nrows, &e);
	build_nets_release(b); /* its address claim, its pasta */
	_exit(r < 0 ? 1 : 0);
}

/* need[j]: stage j is idx or one of its dependencies, transitively. */
static void closure(const struct build_plan *p, size_t idx, bool *need)
{
	if (need[idx])
		return;
	need[idx] = true;
	for (size_t k = 0; k < p->stages[idx].ndeps; k++)
		if (p->stages[idx].deps[k] < p->nstages)
			closure(p, p->stages[idx].deps[k], need);
}

static size_t depth_of(const struct build_plan *p, size_t idx, size_t *depth)
{
	if (depth[idx])
		return depth[idx];
	size_t d = 1;
	for (size_t k = 0; k < p->stages[idx].ndeps; k++) {
		size_t dep = p->stages[idx].deps[k];
		if (dep < p->nstages && dep != idx) {
			size_t dd = depth_of(p, dep, depth) + 1;
			d = dd > d ? dd : d;
		}
	}
	return depth[idx] = d;
}

void build_prebuild_stages(struct build *b)
{
	const struct build_plan *p = b->plan;
	size_t n = p->nstages, maxd = 0;
	int jobs = b->o->jobs;
	bool wide = false;

	if (jobs < 2 || !b->o->layers || b->o->no_cache || n < 3)
		return;
	_cleanup_free_ size_t *depth = xcalloc(n, sizeof(*depth));
	_cleanup_free_ size_t *width = xcalloc(n + 2, sizeof(*width));
	for (size_t i = 0; i < n; i++)
		if (p->stages[i].needed && i != p->target) {
			size_t d = depth_of(p, i, depth);
			maxd = d > maxd ? d : maxd;
			wide |= ++width[d] > 1;
		}
	if (!wide)
		return;
	fflush(NULL);
	for (size_t d = 1; d <= maxd; d++) {
		size_t running = 0;
		for (size_t i = 0; i <= n; i++) {
			/* start stage i of this wave, or (i == n) drain */
			while (running > 0 && (i == n || running >= (size_t)jobs)) {
				int st;
				if (waitpid(-1, &st, 0) > 0 || errno != EINTR)
					running--;
			}
			if (i == n || !p->stages[i].needed || i == p->target || depth[i] != d)
				continue;
			_cleanup_free_ bool *need = xcalloc(n, sizeof(*need));
			closure(p, i, need);
			pid_t pid = fork();
			if (pid == 0)
				child_main(b, i, need);
			if (pid > 0)
				running++;
		}
	}
}
