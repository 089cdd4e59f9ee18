/* build.h — the public header of kiln's build module.
 *
 * Sections:
 *   1. Containerfile parser: bytes → parse tree (pure, no I/O).
 *   2. Parse-tree dump (`kiln build --dump-ast`).
 *   3. Variable substitution (Docker's shell-word lexer), reusable.
 *   4. Build plan: stages, expanded instructions, environments, stage graph.
 *   5. .containerignore / .dockerignore matching.
 * The build engine appends its own sections below.
 *
 * Everything here follows kiln's error convention: 0 or a negative errno,
 * and a `struct kerror` (last argument) whose message for Containerfile
 * problems reads "FILENAME:LINE: <Docker's wording>".
 */
#ifndef KILN_BUILD_H
#define KILN_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* ======================================================================
 * 1. Containerfile parser
 * ====================================================================== */

/* Hostile-input bounds (all enforced with an error naming the line). */
#define CF_MAX_LINE 65535       /* bytes per physical line (Go bufio's limit) */
#define CF_MAX_HEREDOCS 128     /* heredocs on one instruction */
#define CF_MAX_ONBUILD_DEPTH 16 /* ONBUILD ONBUILD … nesting kept by the parser */

/* One here-document attached to a RUN/COPY/ADD (or ONBUILD of one). */
struct cf_heredoc {
	char *name;    /* delimiter word, quotes removed ("EOF") */
	char *content; /* body lines exactly as read, each with its "\n" */
	unsigned fd;   /* "3<<EOF" → 3; 0 when absent */
	bool expand;   /* delimiter unquoted: COPY/ADD bodies get $-expansion */
	bool chomp;    /* "<<-": leading tabs are removed from body lines */
};

/* One instruction, shaped like the reference parser's node:
 *   name     lowercased keyword ("run"); `keyword` is as written.
 *   flags    the leading "--x=y" words, quotes/escapes removed ("--" dropped).
 *   args     the argument list of the reference parser's node:
 *            - exec (JSON) form: one element per array item, `json` set;
 *            - RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK shell form, MAINTAINER,
 *              USER, WORKDIR, STOPSIGNAL: one element, the raw remainder;
 *            - FROM/EXPOSE and non-JSON ADD/COPY/VOLUME: whitespace-split words;
 *            - ENV/LABEL: key, value, sep triples (sep "=" or "" for the
 *              legacy `ENV k v`), values raw (quotes kept);
 *            - ARG: the words raw ("a=\"1 2\"", "b");
 *            - HEALTHCHECK: the type word ("CMD"/"NONE") then the command;
 *            - unknown instructions: a single "" (as the reference does).
 *   sub      ONBUILD: the wrapped instruction (args is then empty).
 * Lines are 1-based physical line numbers (start_line..end_line include
 * continuation lines and heredoc bodies). */
struct cf_node {
	char *keyword;
	char *name;
	char *original; /* the logical line after continuation joining */
	char **flags;
	size_t nflags;
	char **args;
	size_t *arg_lens; /* byte length of each arg (a JSON "\u0000" makes an
			   * arg hold a NUL; C code may treat args as strings) */
	size_t nargs;
	bool json;
	bool known; /* name is one of the 18 Dockerfile instructions */
	struct cf_node *sub;
	struct cf_heredoc *heredocs;
	size_t nheredocs;
	int start_line, end_line;
};

struct containerfile {
	char *filename;
	struct cf_node *nodes; /* in file order */
	size_t nnodes;
	char escape;    /* '\\' (default) or '`' */
	char *syntax;   /* `# syntax=` value or NULL */
	char *check;    /* `# check=` value or NULL */
	char **warnings; /* e.g. empty continuation lines; NULL-terminated or NULL */
	void *priv;     /* the allocation arena (internal) */
};

/* Parses a whole Containerfile held in memory.  `filename` is only used in
 * messages ("Containerfile:7: unterminated heredoc").  An empty file or one
 * with only comments is an error ("file with no instructions").  Unknown
 * instructions and unknown flags are kept (the reference parser keeps them);
 * build_plan_make() rejects them. */
int containerfile_parse(const char *data, size_t len, const char *filename,
			struct containerfile **out, struct kerror *e);
void containerfile_free(struct containerfile *cf);
void cleanup_containerfilep(struct containerfile **cf);
#define _cleanup_containerfile_ __attribute__((cleanup(cleanup_containerfilep)))

/* ======================================================================
 * 2. Parse-tree dump
 * ====================================================================== */

/* Appends the reference parser's s-expression dump, one instruction per
 * line, each line ending in "\n":
 *   (<name> [<flags as Go %q of []string>] <args, Go-quoted, space-separated>)
 * e.g.  (from "busybox" "AS" "b")
 *       (run ["--mount=type=cache,target=/c"] "make")
 *       (env "A" "1" "=" "B" "two words" "")
 *       (onbuild (run "echo" "hi"))
 * Heredoc bodies, comments and directives are not part of the dump.
 * Never fails for a tree made by containerfile_parse (returns 0). */
int containerfile_dump_ast(const struct containerfile *cf, struct buf *out);
/* Go strconv.Quote of n bytes, appended to out. */
void go_quote(struct buf *out, const char *s, size_t n);

/* ======================================================================
 * 3. Variable substitution (shell words, Docker's rules)
 * ====================================================================== */

/* Looks a variable up: returns its value (borrowed, valid until the call
 * returns) or NULL when unset.  name is not NUL-terminated. */
typedef const char *(*shell_lookup_fn)(void *ctx, const char *name, size_t len);

struct shell_opts {
	char escape;            /* '\\' or '`' (0 = '\\') */
	shell_lookup_fn lookup; /* NULL: every variable is unset */
	void *ctx;
	bool raw_quotes;  /* keep the quote characters in the result */
	bool raw_escapes; /* keep the escape characters in the result */
	bool skip_quotes; /* quotes are ordinary characters (heredoc bodies) */
	bool skip_unset;  /* leave "$x" / "${x…}" as written when x is unset */
};

/* Expands one word: $v ${v} ${v:-w} ${v-w} ${v:+w} ${v+w} ${v:?m} ${v?m}
 * ${v#p} ${v##p} ${v%p} ${v%%p} ${v/p/r} ${v//p/r}, quotes (' literal,
 * " allows $) and escapes; unset → "".  Errors use BuildKit's wording,
 * e.g. `failed to process "${x": syntax error: missing '}'`.
 * Bounded: ${…} nesting ≤ 64, result ≤ SHELL_MAX_OUT bytes. */
#define SHELL_MAX_OUT (4u << 20)
int shell_expand(const char *word, const struct shell_opts *o, char **out,
		 struct kerror *e);
/* As shell_expand, then split into words on unquoted whitespace produced by
 * the text or by expansions (quoted text never splits; empty words are
 * dropped).  *out is a NULL-terminated strv. */
int shell_expand_words(const char *word, const struct shell_opts *o, char ***out,
		       struct kerror *e);

/* An ordered KEY=VALUE list (later set of the same key replaces in place). */
struct kvlist {
	char **keys;
	char **vals;
	size_t n, cap;
};
void kvlist_set(struct kvlist *l, const char *key, const char *val);
const char *kvlist_get(const struct kvlist *l, const char *key, size_t keylen);
void kvlist_release(struct kvlist *l);
/* shell_lookup_fn over a struct kvlist (ctx = the list). */
const char *kvlist_lookup(void *ctx, const char *name, size_t len);

/* ======================================================================
 * 4. Build plan
 * ====================================================================== */

enum cf_kind {
	CF_FROM, CF_RUN, CF_CMD, CF_LABEL, CF_MAINTAINER, CF_EXPOSE, CF_ENV,
	CF_ADD, CF_COPY, CF_ENTRYPOINT, CF_VOLUME, CF_USER, CF_WORKDIR, CF_ARG,
	CF_ONBUILD, CF_STOPSIGNAL, CF_HEALTHCHECK, CF_SHELL,
};

struct plan_kv {
	char *key;
	char *value; /* NULL: ARG without value (and none supplied) */
	bool legacy; /* ENV/LABEL `k v` form */
};

enum plan_mount_type { MOUNT_BIND, MOUNT_CACHE, MOUNT_TMPFS, MOUNT_SECRET, MOUNT_SSH };
enum plan_sharing { SHARING_SHARED, SHARING_PRIVATE, SHARING_LOCKED };

/* RUN --mount, values expanded except `from`; defaults filled in. */
struct plan_mount {
	enum plan_mount_type type;
	char *target; /* secret: /run/secrets/<id>; ssh: /run/buildkit/ssh_agent.N */
	char *source; /* NULL = root of `from` */
	char *from;   /* stage name / image / NULL = build context */
	int from_stage; /* stage index when `from` names a stage, else -1 */
	char *id;     /* cache/secret/ssh */
	char *env;    /* secret env= */
	char *size;   /* tmpfs size= as written */
	bool readonly, required;
	enum plan_sharing sharing;
	uint32_t mode; /* cache 0755, secret 0400, ssh 0600 */
	bool mode_set;
	uint32_t uid, gid;
};

/* COPY/ADD source given as a heredoc: file `name` with `data`. */
struct plan_inline {
	char *name;
	char *data; /* chomped and, when expand, variable-expanded */
};

struct plan_healthcheck {
	char **test;  /* ["NONE"] / ["CMD", …] / ["CMD-SHELL", "<cmd>"] */
	int64_t interval, timeout, start_period, start_interval; /* ns, 0 = default */
	int retries; /* 0 = default */
};

/* One instruction of a stage, ready for the engine. */
struct plan_step {
	enum cf_kind kind;
	const struct cf_node *node; /* source: borrowed, valid while the containerfile lives;
				    * every other field is owned by the plan */
	int line, end_line;
	bool from_onbuild; /* inserted from the base image's OnBuild triggers */

	/* RUN/CMD/ENTRYPOINT/SHELL: the command as written (never expanded);
	 * json false → one string to run with the stage SHELL.
	 * EXPOSE: expanded port specs; VOLUME: expanded paths;
	 * USER/WORKDIR/STOPSIGNAL/MAINTAINER: one expanded word;
	 * COPY/ADD: expanded sources (heredoc sources are in `inlines`). */
	char **argv;
	size_t argc;
	bool json;

	struct plan_kv *kvs; /* ENV, LABEL, ARG (expanded) */
	size_t nkvs;

	/* COPY/ADD */
	char *dest;
	struct plan_inline *inlines;
	size_t ninlines;
	char *from;     /* COPY --from as written (stage, index or image) */
	int from_stage; /* resolved stage index or -1 */
	char *chown, *chmod, *checksum;
	bool link, parents, keep_git_dir;
	int unpack; /* ADD --unpack: -1 unset, 0, 1 */
	char **excludes;
	size_t nexcludes;

	/* RUN */
	struct plan_mount *mounts;
	size_t nmounts;
	char *network;  /* NULL = default */
	char *security; /* NULL = sandbox */
	char **devices;
	size_t ndevices;
	struct cf_heredoc *heredocs; /* RUN: script bodies (raw) */
	size_t nheredocs;

	struct plan_healthcheck *healthcheck;
	char *trigger; /* ONBUILD: the trigger instruction text ("RUN echo hi") */

	/* Environment in effect when this step runs (snapshots shared between
	 * steps): env = ENV variables ("K=V", what the image config gets),
	 * args = ARGs in scope that have a value ("K=V").  RUN sees both, ENV
	 * winning; expansion used the same. */
	char **env;
	char **args;
};

struct build_stage {
	size_t index;
	char *name;      /* lowercased `AS` name or NULL */
	char *base;      /* expanded FROM image, or the stage name */
	int base_stage;  /* index of the stage it builds on, or -1 */
	bool scratch;
	char *platform;  /* expanded --platform or NULL */
	int line;
	struct plan_step *steps; /* steps[0] is the FROM */
	size_t nsteps;
	size_t *deps;    /* stages needed: base stage, COPY --from, RUN --mount from */
	size_t ndeps;
	bool needed;     /* part of what --target (or the last stage) needs */
};

struct build_plan {
	struct build_stage *stages;
	size_t nstages;
	size_t target;      /* index of the stage to build */
	char **global_args; /* ARGs before the first FROM, resolved ("K=V") */
	char **unused_args; /* --build-arg names never declared (Docker warns) */
	char escape;
	void *priv;
};

/* What the engine knows about a base image (optional callback). */
struct build_base_info {
	char **env;     /* image config Env ("K=V"), may be NULL */
	char **onbuild; /* image config OnBuild triggers, may be NULL */
};

struct build_plan_opts {
	char *const *build_args; /* "K=V" (NULL-terminated or NULL) */
	const char *target;      /* stage name or NULL = last stage */
	const char *target_platform; /* "os/arch[/variant]", NULL = linux/amd64 */
	const char *build_platform;  /* NULL = target_platform */
	/* Called once per stage whose base is an image (not scratch, not a
	 * stage) to learn its Env (used for expansion) and OnBuild triggers
	 * (parsed and inserted right after FROM).  May be NULL.  Fills *out
	 * with owned strvs. */
	int (*base_info)(void *ctx, const char *image, const char *platform,
			 struct build_base_info *out, struct kerror *e);
	void *base_ctx;
};

/* Turns a parse tree into a plan: validates every instruction and flag
 * (unknown instruction/flag → "FILE:LINE: unknown instruction: FOO" /
 * "FILE:LINE: unknown flag: foo"), expands variables where Docker does,
 * resolves stage references, checks for cycles and --target. */
int build_plan_make(const struct containerfile *cf, const struct build_plan_opts *o,
		    struct build_plan **out, struct kerror *e);
void build_plan_free(struct build_plan *p);
void cleanup_build_planp(struct build_plan **p);
#define _cleanup_build_plan_ __attribute__((cleanup(cleanup_build_planp)))
/* Stage index by name (case-insensitive) or decimal index; -1 if none. */
int build_plan_find_stage(const struct build_plan *p, const char *name);
/* Go time.ParseDuration subset used by HEALTHCHECK ("1m30s", "500ms"). */
int parse_go_duration(const char *s, int64_t *ns);

/* ======================================================================
 * 5. .containerignore / .dockerignore
 * ====================================================================== */

/* Docker's pattern semantics: one pattern per line, "#" in column 1 is a
 * comment, whitespace trimmed, paths cleaned ("/a/../b" → "b"), "*" "?"
 * "[…]" within one path component, "**" any number of components, "!p"
 * re-includes, the last matching pattern wins, and a pattern matching a
 * directory matches everything beneath it. */
struct ignore_rules;
int ignore_parse(const char *data, size_t len, struct ignore_rules **out,
		 struct kerror *e);
/* path: relative to the context root, cleaned, "/"-separated. */
bool ignore_match(const struct ignore_rules *r, const char *path);
/* True when dir is ignored and no "!" pattern can re-include anything
 * beneath it, so a walker may skip the whole tree. */
bool ignore_dir_skippable(const struct ignore_rules *r, const char *dir);
/* Number of rules and whether any is an exception ("!"). */
size_t ignore_count(const struct ignore_rules *r);
bool ignore_has_exceptions(const struct ignore_rules *r);
void ignore_free(struct ignore_rules *r);
void cleanup_ignore_rulesp(struct ignore_rules **r);
#define _cleanup_ignore_rules_ __attribute__((cleanup(cleanup_ignore_rulesp)))


/* ======================================================================
 * 6. Image config from metadata instructions (build/config_apply.c)
 * ====================================================================== */

/* Applies one metadata step (CMD ENTRYPOINT ENV LABEL EXPOSE VOLUME USER
 * WORKDIR STOPSIGNAL HEALTHCHECK SHELL ONBUILD MAINTAINER) to an image
 * config JSON, with Docker's rules (shell-form commands wrapped in shell,
 * default ["/bin/sh","-c"]; ENTRYPOINT resets a Cmd that *cmd_set says
 * was not set in this build; relative WORKDIR joins the previous one).
 * -ENOTSUP (e untouched) for other instructions. */
int build_apply_config_step(json_t *image_config, const struct plan_step *st,
			    char *const *shell, bool *cmd_set, struct kerror *e);
/* `--change` strings ("CMD [\"sh\"]", "ENV A=1", …) parsed with the
 * Containerfile rules and applied in order; allowed is a bit set of
 * (1u << CF_*) kinds. */
#define CHANGE_ALLOWED_IMPORT                                                              \
	((1u << CF_CMD) | (1u << CF_ENTRYPOINT) | (1u << CF_ENV) | (1u << CF_WORKDIR) |      \
	 (1u << CF_USER) | (1u << CF_LABEL) | (1u << CF_EXPOSE) | (1u << CF_VOLUME) |        \
	 (1u << CF_STOPSIGNAL) | (1u << CF_ONBUILD))
int build_apply_changes(json_t *image_config, char *const *changes, unsigned allowed,
			struct kerror *e);

/* ======================================================================
 * 7. The build engine (build/executor.c and friends)
 * ====================================================================== */

struct store;
struct pull_opts;

/* --pull: when FROM (and COPY --from, RUN --mount from=) images are pulled. */
enum build_pull { BUILD_PULL_MISSING, BUILD_PULL_ALWAYS, BUILD_PULL_NEVER };

enum build_output { BUILD_OUTPUT_NONE, BUILD_OUTPUT_LOCAL, BUILD_OUTPUT_TAR };
enum build_squash { BUILD_SQUASH_NONE, BUILD_SQUASH_NEW, BUILD_SQUASH_ALL };

struct build_opts {
	const char *context;      /* directory, "-" (tar on stdin) or a tarball */
	const char *file;         /* -f: path, "-" = stdin; NULL = CONTEXT/Containerfile
				   * or CONTEXT/Dockerfile */
	char *const *tags;        /* full references (normalised by the caller) */
	char *const *build_args;  /* "K=V" */
	const char *target;       /* --target or NULL */
	char *const *labels;      /* --label "K=V" */
	const char *iidfile;      /* NULL = none */
	bool no_cache;
	bool layers;              /* --layers (default true): use and fill the cache */
	bool quiet;               /* only the image ID (RUN output shown if it fails) */
	bool no_step_lines;       /* the step lines are another pass's (--jobs) */
	/* --network for RUN steps: private (bridge, default), none or host
	 * (run_build_net_parse); NULL: the default, private */
	const char *network;
	int64_t timestamp;        /* --timestamp / SOURCE_DATE_EPOCH, -1 = none */
	enum build_pull pull;
	const struct pull_opts *pull_opts; /* registry options; NULL = defaults */
	char *const *secrets;     /* --secret "id=x,src=FILE" / "id=x,env=VAR" */
	enum build_squash squash; /* --squash / --squash-all */
	enum build_output output; /* --output type=local|tar */
	const char *output_dest;  /* its dest= ("-" = stdout for tar) */
	bool docker_format;       /* --format docker (default oci) */
	char *const *volumes;     /* --volume "SRC:DST[:OPTS]" for RUN steps */
	char *const *ssh;         /* --ssh "default" | "ID=PATH" */
	char *const *annotations; /* --annotation "K=V" (kept in an OCI manifest) */
	int jobs;                 /* --jobs: stages built at once (0, 1: one) */
	char *const *cache_from;  /* --cache-from repositories (tags: cache keys) */
	char *const *cache_to;    /* --cache-to repositories */
	FILE *out;                /* step lines (stdout) */
};

/* Builds the image: parses the whole Containerfile first, then runs the
 * needed stages in order (each step an overlay snapshot over the parent's
 * layers, cached by build/cache.c's keys), commits the target stage's image
 * with tags in one transaction, then records the cache rows.  Non-target
 * stages that made layers are committed untagged (so the cache can reuse
 * them).  Moves the process into a private mount namespace.  On failure
 * nothing is tagged and tmp/ is cleaned; *exit_code is the failed RUN's
 * status, or 125. */
int build_run(struct store *s, const struct build_opts *o, char id[DIGEST_HEX_LEN + 1],
	      int *exit_code, struct kerror *e);

/* `kiln builder prune` (build/prune.c): cache rows whose layer is gone
 * (all: every row), COPY digest memos and RUN cache-mount directories no
 * running build holds, those unused for max_age seconds (0 or all: any). */
struct build_prune_stats {
	uint64_t bytes;       /* reclaimed on disk */
	size_t memos, mounts; /* files and directories removed */
};
int build_prune(struct store *s, bool all, int64_t max_age, struct build_prune_stats *out,
		struct kerror *e);
/* Best effort, at most once a day (a stamp file): memos and cache mounts
 * unused for 30 days go, so they do not grow forever.  Called by build_run. */
void build_gc_auto(struct store *s);

#endif
