/* Private to the build engine (build/context.c, snapshot.c, copy.c,
 * cache.c, executor.c). */
#ifndef KILN_BUILD_ENGINE_H
#define KILN_BUILD_ENGINE_H

#include <sys/stat.h>

#include "build/build.h"
#include "storage/storage.h"

/* ---- snapshot.c ---------------------------------------------------------- */

/* Moves this process into a private mount namespace (mounts made by the
 * build vanish with it). */
int build_enter_mount_ns(struct kerror *e);

struct snapshot {
	char *dir;    /* holds diff/ (the upper dir, the future layer), work/, merged/ */
	char *merged; /* the mounted view */
	bool mounted;
};
/* Mounts an overlay of lowers (diff dirs, top first; none = scratch) with a
 * fresh upper under tmpdir.  base: lower paths below it are passed
 * relative to it (a shorter option string). */
int snapshot_mount(const char *base, const char *tmpdir, char *const *lowers,
		   struct snapshot *out, struct kerror *e);
/* Unmounts; dir then holds diff/ only. */
int snapshot_unmount(struct snapshot *s, struct kerror *e);
/* Unmounts if needed and removes dir. */
void snapshot_release(struct snapshot *s);
/* A read-only view of lowers (COPY --from): a new mount point under tmpdir. */
int rootfs_mount_ro(const char *base, const char *tmpdir, char *const *lowers, char **out,
		    struct kerror *e);

/* ---- context.c ----------------------------------------------------------- */

struct build_context {
	char *dir;                 /* absolute path of the context directory */
	struct ignore_rules *ign;  /* NULL if no ignore file */
	char *ign_file;            /* which ignore file was read, or NULL */
	bool extracted;            /* a tar extracted under the build's tmp dir */
};
/* spec: a directory, "-" (a tar on stdin) or a tarball path; tars are
 * extracted under tmpdir. */
int build_context_open(const char *spec, const char *tmpdir, struct build_context *out,
		       struct kerror *e);
void build_context_release(struct build_context *c);

/* ---- digest_memo.c ------------------------------------------------------- */

/* Content digests of context files memoised by (dev, inode, size, mtime,
 * ctime, mode); see digest_memo.c for why this cannot make a key lie. */
struct digest_memo;
/* Loads STORE/build-memo/<digest of ctx_dir> (missing or bad: empty). */
struct digest_memo *digest_memo_open(const char *store_root, const char *ctx_dir);
/* Reads the coarse clock that bounds which files may be recorded. */
void digest_memo_begin(struct digest_memo *m);
bool digest_memo_get(struct digest_memo *m, const struct stat *st,
		     char hex[DIGEST_HEX_LEN + 1]);
/* before/after: the file's stat before and after its content was read. */
void digest_memo_put(struct digest_memo *m, const struct stat *before,
		     const struct stat *after, const char *hex);
int digest_memo_save(struct digest_memo *m, struct kerror *e);
void digest_memo_free(struct digest_memo *m);

/* ---- chmod.c ------------------------------------------------------------- */

#define CHMOD_MAX_CLAUSES 32
struct chmod_clause {
	uint32_t who;  /* the bits the who letters cover (u 04700, g 02070, o 01007) */
	char op;       /* '+', '-', '=' */
	uint32_t perm; /* r/w/x/s/t bits */
	bool cond_x;   /* X */
};
struct chmod_spec {
	int octal; /* the octal mode, -1 for symbolic clauses */
	struct chmod_clause c[CHMOD_MAX_CLAUSES];
	size_t n;
};
/* "0755" or "u+x,g-w,o=r,a+X"; an error names the value. */
int chmod_parse(const char *s, struct chmod_spec *out, struct kerror *e);
/* The new permission bits (07777) for a file whose st_mode is mode. */
uint32_t chmod_apply(const struct chmod_spec *cs, uint32_t mode);

/* ---- copy.c -------------------------------------------------------------- */

/* Where COPY/ADD sources come from. */
struct copy_source {
	const char *root;                /* directory */
	const struct ignore_rules *ign;  /* context ignore rules or NULL */
	bool hash_content;               /* false: the source is identified by its
					  * cache key already (a stage, an image) */
	struct digest_memo *memo;        /* NULL: always read the files */
};
/* The expanded sources of a step (wildcards resolved, paths cleaned). */
struct copy_list {
	char **paths;    /* relative to the source root, "" for the root itself */
	size_t n;
	bool wildcard;
	struct ignore_rules *excludes;
};
void copy_list_release(struct copy_list *l);
int copy_list_make(const struct plan_step *st, const struct copy_source *src,
		   struct copy_list *out, struct kerror *e);
/* Feeds every copied file's path, type, mode, size, content digest and
 * link target into d (never mtimes; a regular file's content digest may
 * come from src->memo). */
int copy_list_hash(const struct copy_list *l, const struct copy_source *src,
		   struct digester *d, struct kerror *e);
/* Performs the COPY/ADD into the root merged (the mounted snapshot, or for
 * --link the bare layer dir); upper (NULL: none) is the snapshot's upper
 * dir, written directly for new directories; etc_root: where --chown names
 * are looked up (the image's /etc/passwd and /etc/group). */
int copy_apply(const struct plan_step *st, const struct copy_list *l,
	       const struct copy_source *src, const char *merged, const char *upper,
	       const char *etc_root, const char *workdir, struct kerror *e);
/* WORKDIR: creates path (absolute) inside merged if missing; *created. */
int copy_mkdir_workdir(const char *merged, const char *path, bool *created, struct kerror *e);
/* Resolves "user[:group]" against merged's /etc/passwd and /etc/group. */
int copy_resolve_chown(const char *merged, const char *spec, uid_t *uid, gid_t *gid,
		       struct kerror *e);

#endif
