/* The executor's state, shared by build/executor.c (stages and steps) and
 * build/commit.c (image config, history, commit).  Private to build/. */
#ifndef KILN_BUILD_ENGINE_STATE_H
#define KILN_BUILD_ENGINE_STATE_H

#include "build/engine.h"

struct run_build_net;

/* One layer of a stage's state. */
struct blayer {
	char *diff; /* its diff dir */
	char chain_id[DIGEST_STR_LEN + 1];
	char diff_id[DIGEST_STR_LEN + 1];
	int64_t size;
	struct staged_layer staged; /* dir set when this build made it */
};

struct bstate {
	json_t *cfg;             /* the whole image config, history included */
	struct blayer **layers;  /* base first; owned by build.all */
	size_t n;
	size_t base_n;           /* layers of the FROM image (what --squash keeps) */
	char key[DIGEST_HEX_LEN + 1];
	bool cmd_set;
	int64_t created;         /* ns of the last step */
	char *from_mount;        /* read-only view for COPY --from, lazily */
	bool done, made_layers;
};

struct build {
	struct store *s;
	const struct build_opts *o;
	struct build_plan *plan;
	struct containerfile *cf;
	struct store_tmp tmp;
	struct build_context ctx;
	char **pulled;           /* images pulled by this build (--pull=always pulls once) */
	struct digest_memo *memo; /* COPY source digests of a context directory */
	struct bstate *st;       /* per stage */
	struct blayer **all;     /* every layer object, for release */
	size_t nall;
	struct build_cache_entry *rows;
	size_t nrows;
	char **mounts;           /* read-only mounts to undo */
	size_t step_no, step_total;
	int exit_code;
	int net_mode;            /* enum run_build_net_mode of --network */
	bool net_resolved;       /* net_mode's DEFAULT resolved (run_build_net_resolve) */
	/* The network namespaces of RUN steps (private, none), made on the
	 * first step that needs each (run_build_net_open). */
	struct run_build_net *nets[2];
};

/* executor.c: frees the RUN steps' network namespaces (a --jobs child
 * its own, before it exits). */
void build_nets_release(struct build *b);

/* executor.c: the root of `from` (NULL: the context dir; a stage; an
 * image, pulled as --pull says), mounted read-only when needed; feeds the
 * stage key or image ID into d when d is not NULL. */
int build_from_root(struct build *b, const char *from, int from_stage, struct digester *d,
		    const char **root, struct kerror *e);

/* commit.c: an RFC 3339 time for a config from ns since the epoch. */
json_t *build_time_json(int64_t ns);
/* cache_remote.c: --cache-from: a local miss looked up as REPO:<key> in
 * each repository (0 and *hit filled when one has this state's layers plus
 * one; -ENOENT otherwise).  --cache-to: every layer step this build ran is
 * pushed as REPO:<key> (failures are warnings). */
int cache_remote_get(struct build *b, const struct bstate *s, const char *key,
		     struct build_cache_entry *hit);
void cache_remote_put(struct build *b);

/* executor.c: builds stage idx (its dependencies built before). */
int build_stage(struct build *b, size_t idx, struct kerror *e);
/* jobs.c: --jobs N: independent stages other than the target built ahead,
 * in parallel child processes, into the store and the cache (best effort). */
void build_prebuild_stages(struct build *b);

/* add_url.c: ADD's http(s) sources downloaded into *dir (under tmp/), their
 * file names in *names; *dir NULL when the step has no URL source (and no
 * --checksum, which only URLs may have). */
int add_url_fetch(struct build *b, const struct plan_step *st, char **dir, char ***names,
		  struct kerror *e);

/* run_mounts.c: RUN --mount set up on the step's merged root. */
struct run_mounts {
	char *merged;
	char **mounted; /* host paths, in mount order */
	char **stubs;   /* mount points created (relative to the root), in order */
	int *locks;
	size_t nlocks;
};
int run_mounts_setup(struct build *b, const struct plan_step *st, const char *merged,
		     struct run_mounts *m, struct kerror *e);
/* The bytes of secret id from --secret; -ENOENT (e untouched) if not given. */
int run_secret_data(const struct build *b, const char *id, char **data, size_t *len,
		    struct kerror *e);
/* Secrets mounted with env=VAR: "VAR=value" appended to env. */
int run_secret_env(struct build *b, const struct plan_step *st, char ***env, struct kerror *e);
/* A read-only file holding data (mode, root-owned) at target. */
int run_mounts_add_file(struct build *b, struct run_mounts *m, const char *target,
			const char *data, uint32_t mode, struct kerror *e);
/* ctx_view.c: the directory srcfd of the context (rel: its path there,
 * "" for the root) without what the context's ignore rules exclude, as a
 * new tree under the build's tmp dir (*out). */
int build_ctx_view(struct build *b, int srcfd, const char *rel, char **out, struct kerror *e);
/* Unmounts, removes the mount points it created, drops the locks. */
void run_mounts_teardown(struct run_mounts *m);

/* output.c */
int build_output(struct build *b, const struct bstate *s, struct kerror *e);
/* --squash (all false: the layers over the FROM image) / --squash-all. */
int build_squash(struct build *b, struct bstate *s, bool all, struct kerror *e);

/* commit.c */
int64_t build_now_ns(const struct build *b);
void build_history_add(struct build *b, struct bstate *s, const struct plan_step *st,
		       int64_t created, bool empty, const char *created_by);
/* Commits a stage's state as an image (names may be NULL). */
int build_commit_state(struct build *b, struct bstate *s, char *const *names,
		       char id[DIGEST_HEX_LEN + 1], struct kerror *e);

#endif
