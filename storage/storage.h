/* storage.h — the public header of kiln's storage module: the local store
 * (blobs by digest, unpacked layers, images and their names, SQLite
 * metadata, locking), storage.conf, and safe tar application. */
#ifndef KILN_STORAGE_H
#define KILN_STORAGE_H

#include <sys/types.h>

#include "common/common.h"
#include "image/image.h"

struct archive;

/* ---- storage.conf --------------------------------------------------------
 * kiln reads its own storage.conf, in the containers-storage.conf(5)
 * format: $KILN_STORAGE_CONF if set, else (non-root)
 * $XDG_CONFIG_HOME/kiln/storage.conf, else /etc/kiln/storage.conf.  It
 * does not read /etc/containers/storage.conf: its graphroot is Podman's
 * store, whose layout is not kiln's. */
struct storage_conf {
	char *driver;    /* [storage] driver, NULL if unset */
	char *graphroot; /* [storage] graphroot */
	char *runroot;   /* [storage] runroot */
};
/* path NULL: the search above.  A missing file is not an error (fields stay
 * NULL); a malformed one is, naming the file and line. */
int storage_conf_load(const char *path, struct storage_conf *out, struct kerror *e);
/* Parses the contents of a storage.conf (what is the file's name, for
 * messages). */
int storage_conf_parse(const char *data, size_t len, const char *what,
		       struct storage_conf *out, struct kerror *e);
void storage_conf_release(struct storage_conf *c);

/* ---- tar application ----------------------------------------------------
 * Applies a layer tar onto a directory, refusing every entry that would
 * land outside it: ".." escapes, absolute names, parents reached through a
 * symlink that leaves the root (from an earlier entry or an earlier layer),
 * hardlinks whose target is outside the root, whiteouts naming "..".
 * Nothing is written outside rootfd's tree, whatever the input.
 *
 * Parents are opened with openat2(RESOLVE_BENEATH): a symlink met in a
 * parent is followed only while it stays inside the root, so one with an
 * absolute target is refused even if it would name a path inside it.  The
 * last component is never followed: what is there is replaced (a directory
 * over a directory is merged: metadata updated, children kept).  Symlink
 * targets are stored as they are.  A "./" directory entry (the root itself)
 * is left alone.  Whiteouts only hide lower layers: paths this layer wrote
 * survive its whiteouts and opaque markers, whatever the order.  xattrs:
 * trusted.*, security.* (but security.capability) and overlay ones are
 * skipped.  Errors read `entry "NAME": why`, e.g. `entry "a/passwd":
 * parent "a" leaves the layer through a symlink`; the tree is then left
 * half-applied (callers extract into tmp/ and discard it). */
enum tar_whiteout_mode {
	/* Layer directory in overlay format: ".wh.NAME" becomes a 0/0 char
	 * device, ".wh..wh..opq" sets <xattr_prefix>opaque="y" on the dir. */
	TAR_WHITEOUT_OVERLAY,
	/* Applied onto a full tree (vfs, flatten): whiteouts delete. */
	TAR_WHITEOUT_DELETE,
};

struct tar_apply_opts {
	enum tar_whiteout_mode whiteouts;
	const char *xattr_prefix; /* "trusted.overlay." (default when NULL) or "user.overlay." */
	bool ignore_chown_errors; /* rootless: EPERM on chown/mknod/xattr is skipped */
};

struct tar_apply_stats {
	uint64_t entries;
	uint64_t bytes; /* regular-file content written */
};

/* Reads every entry of an archive already opened for reading (any filter,
 * tar format) and applies it under rootfd. */
int tar_apply(struct archive *a, int rootfd, const struct tar_apply_opts *o,
	      struct tar_apply_stats *stats, struct kerror *e);
/* Convenience: opens fd (gzip, zstd, xz, bzip2 or plain tar; the built-in
 * decoders only, never an external program) and applies. */
int tar_apply_fd(int fd, int rootfd, const struct tar_apply_opts *o,
		 struct tar_apply_stats *stats, struct kerror *e);
/* Whether the regular file fd (read from offset 0, left there) holds a tar
 * stream, plain or compressed as tar_apply_fd reads: its first entry's
 * header decodes.  A compressed file that is no tar (or an empty one) is
 * not (Docker's test for ADD's extraction). */
bool tar_fd_is_tar(int fd);

/* ---- the store -----------------------------------------------------------
 * Layout under root (see design.md): kiln.db (SQLite, WAL), blobs/sha256/,
 * layers/<chain-id-hex>/diff, tmp/.  Mutations take the store lock
 * (root/store.lock, bounded wait) around one DB transaction plus the renames
 * that go with it; the slow work (extracting, hashing) happens before, in a
 * private directory under tmp/ that a crashed process leaves for the next
 * store_open to remove. */

struct store_opts {
	const char *root;    /* graph root (required) */
	const char *runroot; /* state root (may be NULL) */
	const char *driver;  /* "overlay" (NULL = overlay) or "vfs": layers are stored
			      * the same; a container's root is a full copy, no overlay */
	bool read_only;      /* no tmp clean-up, no schema creation */
	int lock_timeout_ms; /* 0 = default (60 s) */
	bool ephemeral;      /* a throw-away store (kiln copy's): commits are not
			      * made durable and start no syncer */
};

struct store;
/* The schema version this kiln creates (the number of migrations). */
int store_schema_version(void);
int store_open(const struct store_opts *o, struct store **out, struct kerror *e);
void store_close(struct store *s);
void cleanup_storep(struct store **s);
#define _cleanup_store_ __attribute__((cleanup(cleanup_storep)))
/* Whether a handle may be kept open for later reads: not locked, not inside
 * a transaction, no statement left unfinished. */
bool store_reusable(struct store *s);
const char *store_root(const struct store *s);
const char *store_driver(const struct store *s);

/* Blobs: verified against their digest before they are kept. */
int store_blob_put(struct store *s, const void *data, size_t len, const char *expect,
		   char digest[DIGEST_STR_LEN + 1], struct kerror *e);
int store_blob_get(struct store *s, const char *digest, size_t max, char **data, size_t *len,
		   struct kerror *e);
bool store_blob_exists(struct store *s, const char *digest);
char *store_blob_path(const struct store *s, const char *digest);

/* A layer unpacked into a private directory, not yet in the store. */
struct staged_layer {
	char *dir;                    /* tmp dir holding diff/ */
	char diff_id[DIGEST_STR_LEN + 1];
	char chain_id[DIGEST_STR_LEN + 1];
	int64_t size;                 /* uncompressed tar bytes */
	/* The exact tar stream, compressed, kept so that save and push
	 * reproduce the DiffID (a re-tar of the tree would not). */
	char *blob_path;              /* tmp file, NULL if none */
	char blob_digest[DIGEST_STR_LEN + 1];
	int64_t blob_size;
	const char *blob_media_type;  /* MT_OCI_LAYER_ZSTD, MT_OCI_LAYER_GZIP, … */
};
void staged_layer_release(struct staged_layer *l);

/* A private working directory under tmp/ (removed by store_tmp_release, or
 * by a later store_open if this process dies). */
struct store_tmp {
	char *path;
	int lock_fd;
	struct store *holder; /* set by store_layer_hold: holds to drop */
};
int store_tmp_create(struct store *s, struct store_tmp *t, struct kerror *e);
void store_tmp_release(struct store_tmp *t);
/* Keeps the layer and its parents from rmi and prune (which skip held
 * layers) for as long as t lives: the hold ends with store_tmp_release, or
 * with the clean-up of t when its owner dies.  -ENOENT (e filled) if the
 * layer is gone already. */
int store_layer_hold(struct store *s, struct store_tmp *t, const char *layer_id,
		     struct kerror *e);

/* Unpacks a layer tar read from fd (gzip/zstd/xz/bzip2 or plain) on top of
 * parent_chain (NULL for a base layer) into t, computing its DiffID. */
int store_stage_layer(struct store *s, struct store_tmp *t, int fd, const char *parent_chain,
		      struct staged_layer *out, struct kerror *e);

struct image_info {
	char id[DIGEST_HEX_LEN + 1];  /* hex of the config digest */
	char *top_layer;              /* layer id (chain id hex) or NULL */
	char *manifest_digest;        /* NULL if none */
	char **names;                 /* full references, sorted */
	char **digests;               /* repo digests "name@sha256:…" */
	int64_t created;              /* from the config */
	int64_t created_nsec;
	int64_t stored;               /* when it was stored / last tagged */
	int64_t size;                 /* sum of its layers' sizes */
	char **layers;                /* layer ids, base first */
	char **diff_ids;              /* diff ids, base first */
};
void image_info_free(struct image_info *i);
void cleanup_image_infop(struct image_info **i);
#define _cleanup_image_info_ __attribute__((cleanup(cleanup_image_infop)))
void image_list_free(struct image_info **list, size_t n);

/* Adds an image: config blob, staged layers in order (chain ids must
 * follow), names (full references) moved onto it.  One transaction: after a
 * crash the image is either fully there or absent.  Layers already present
 * are reused and their staged copy discarded. */
struct image_commit {
	const char *config; size_t config_len;
	const char *manifest; size_t manifest_len; /* may be NULL */
	struct staged_layer *layers; size_t n_layers;
	char *const *names;
};
int store_image_commit(struct store *s, const struct image_commit *c,
		       char id[DIGEST_HEX_LEN + 1], struct kerror *e);

/* Looks an image up by ID, unique ID prefix (at least 3 hex chars; any
 * length after "sha256:"), full
 * name, or short name (localhost/NAME, then docker.io/library/NAME).
 * -ENOENT with "No such image: X" when absent. */
int store_image_lookup(struct store *s, const char *what, struct image_info **out,
		       struct kerror *e);
int store_image_list(struct store *s, struct image_info ***out, size_t *n, struct kerror *e);
/* Moves name (a full reference) onto the image. */
int store_image_tag(struct store *s, const char *id, const char *name, struct kerror *e);
/* Removes name from the image; -ENOENT if it does not carry it. */
int store_image_untag(struct store *s, const char *id, const char *name, struct kerror *e);
/* Removes the image and every layer and blob nothing else uses. */
int store_image_remove(struct store *s, const char *id, struct kerror *e);
struct layer_info {
	char *id, *parent, *diff_id;
	int64_t size;                  /* uncompressed tar bytes */
	char *blob_digest;             /* compressed tar blob, NULL if none */
	char *blob_media_type;
	int64_t blob_size;
};
int store_layer_get(struct store *s, const char *id, struct layer_info *out, struct kerror *e);
void layer_info_release(struct layer_info *l);
/* Streams the layer's exact uncompressed tar (sha256 = its DiffID, checked:
 * a mismatch fails after the last byte) to sink; a sink returning < 0
 * stops with that error. */
typedef int (*layer_sink)(void *ctx, const void *data, size_t n, struct kerror *e);
int store_layer_read_tar(struct store *s, const char *id, layer_sink sink, void *ctx,
			 struct kerror *e);
/* Garbage collection, under the store lock: layer rows no image reaches,
 * layer directories without a row (left by a crash), and blobs nothing
 * references (configs, manifests, layer blobs). */
struct gc_stats {
	uint64_t layers, blobs, bytes;
	uint64_t containers; /* container directories without a row */
};
int store_gc(struct store *s, struct gc_stats *st, struct kerror *e);

/* Consistency check (kiln system check), under the store lock: tmp/
 * leftovers; every layer row (its parent present, its ID the ChainID of
 * parent + diff ID, its directory present, its blob present and, unless
 * quick, hashing to its digest and unpacking to its diff ID); layer
 * directories without a row; every image (config and manifest blobs, its
 * whole layer chain sound); names, repo digests and signatures of missing images;
 * layers no image uses; containers whose image is missing; blobs and
 * container directories nothing references.  Each problem is one line in
 * the report.  With repair: leftovers and orphans are removed, a missing
 * layer directory is rebuilt from the layer's sound blob, an image whose
 * config or layers are damaged is removed (with its containers), a lost
 * manifest is forgotten; what is sound is not touched.  Returns 0 whether
 * or not problems were found (see rep->n). */
struct store_check_opts {
	bool quick;  /* existence only: no re-hashing of blobs or layers */
	bool repair;
};
struct store_check_report {
	char **problems; /* one line each */
	bool *repaired;  /* per problem */
	size_t n;
};
int store_check(struct store *s, const struct store_check_opts *o,
		struct store_check_report *rep, struct kerror *e);
void store_check_report_release(struct store_check_report *r);

/* Commits return before their files reach the disk: a detached syncer
 * (this program re-executed as `kiln STORE_SYNCER_ARG ROOT BATCH`) syncs
 * the store behind them.  A program that turns this on routes that argv
 * to store_syncer_main; off (the default), commits sync before returning. */
#define STORE_SYNCER_ARG "__store-syncer"
void store_background_sync(bool on);
int store_syncer_main(int argc, char **argv);
/* Waits until no syncer of the store runs: what was committed is on disk. */
int store_sync_wait(struct store *s, struct kerror *e);

/* Bytes on disk per layer: its directory plus its stored tar blob. */
struct layer_usage {
	char id[DIGEST_HEX_LEN + 1];
	uint64_t bytes;
};
int store_layers_usage(struct store *s, struct layer_usage **out, size_t *n, struct kerror *e);
/* Bytes on disk of a blob (0 if absent). */
uint64_t store_blob_usage(struct store *s, const char *digest);

/* A full copy of the image's root file system in dest (created): layers
 * (ids, base first) applied in order, whiteouts and opaque directories
 * applied, overlay's markers dropped; owners shifted through uids/gids
 * (NULL: kept; ids outside them become 65534).  Devices that cannot be
 * created (no privilege) are skipped. */
struct id_shift {
	unsigned inner, outer, count; /* inner (container) ids → outer ids */
};
int store_layers_flatten(struct store *s, char *const *layers, const char *dest,
			 const struct id_shift *uids, size_t n_uids, const struct id_shift *gids,
			 size_t n_gids, struct kerror *e);

/* How store_merge_dir lays one layer directory over another. */
struct store_merge_opts {
	/* Keep whiteouts (0/0 char devices) and opaque markers, as a layer
	 * made of several must (a squash); otherwise apply them: delete what
	 * they hide and drop them (a root file system). */
	bool keep_whiteouts;
	/* An owner or a device the process may not set is skipped rather than
	 * an error (a copy made without privilege). */
	bool lenient;
	/* Owners mapped through these (NULL: kept; ids outside become 65534). */
	const struct id_shift *uids, *gids;
	size_t n_uids, n_gids;
};
/* Lays the layer directory sdir over ddir (both open directories): what
 * sdir has replaces what ddir has under the same name, directories merge
 * (an opaque one replaces), files are copied with mode, owner, times and
 * xattrs other than overlay's; sdir's own owner and mode are the caller's
 * to apply.  Nesting is bounded; a failure leaves ddir half merged. */
int store_merge_dir(int sdir, int ddir, const struct store_merge_opts *o, struct kerror *e);

/* Overlay's markers in a layer directory (overlay_marks.c): a whiteout (a
 * 0/0 character device); an opaque directory (trusted.overlay.opaque or
 * user.overlay.opaque "y"), by path (not followed) or open directory. */
struct stat;
bool store_is_whiteout(const struct stat *st);
bool store_is_opaque(const char *path);
bool store_is_opaque_fd(int dirfd);

/* Path of a layer's diff directory. */
char *store_layer_diff_path(const struct store *s, const char *layer_id);


/* ---- archives (save/load) -----------------------------------------------
 * docker-archive (Docker >= 25's hybrid: an OCI layout plus manifest.json
 * and repositories, readable as docker-archive and as oci-archive),
 * oci-archive, an OCI layout directory (oci-dir) and containers/image's
 * dir: layout (docker-dir).  Saved archives are deterministic: sorted
 * entries, mtime 0, uid/gid 0; layers are the exact tars kept by the store
 * (uncompressed, named by DiffID). */

/* A source of bytes for store_stage_layer_cb: points *buf at the next
 * chunk and returns its length, 0 at the end, or a negative errno (e
 * filled). */
typedef ssize_t (*layer_source)(void *ctx, const void **buf, struct kerror *e);
/* As store_stage_layer, reading the (possibly gzip/zstd/xz/bzip2
 * compressed) layer from a callback: a layer streamed out of an archive. */
int store_stage_layer_cb(struct store *s, struct store_tmp *t, layer_source read, void *ctx,
			 const char *parent_chain, struct staged_layer *out, struct kerror *e);
/* As store_stage_layer_cb for a layer blob as a registry serves it (desc:
 * its descriptor): the compressed bytes themselves become the layer's blob
 * (no zstd copy), checked against desc's size as they arrive and against
 * its digest at the end.  A mismatch fails naming the blob, and nothing is
 * kept. */
int store_stage_layer_blob(struct store *s, struct store_tmp *t, layer_source read, void *ctx,
			   const char *parent_chain, const struct descriptor *desc,
			   struct staged_layer *out, struct kerror *e);
/* Signatures the image was pulled with, for the manifest digest they sign
 * (containers/image's tagged form; at most STORE_MAX_SIGNATURE bytes
 * each), kept until the image is removed so push and copy can carry them.
 * Adding one already kept is a no-op; one transaction. */
#define STORE_MAX_SIGNATURE (4u * 1024 * 1024)
struct store_sig {
	char *data; /* NUL-terminated after len bytes */
	size_t len;
};
int store_signatures_add(struct store *s, const char *id, const char *manifest_digest,
			 const struct store_sig *v, size_t n, struct kerror *e);
/* The signatures kept for (id, manifest_digest), in the order added. */
int store_signatures_get(struct store *s, const char *id, const char *manifest_digest,
			 struct store_sig **out, size_t *n, struct kerror *e);
void store_sigs_free(struct store_sig *v, size_t n);
/* Records "name@sha256:…" as a repo digest of the image (RepoDigests). */
int store_image_add_repo_digest(struct store *s, const char *id, const char *repo_digest,
				struct kerror *e);

enum archive_format {
	ARCHIVE_DOCKER,     /* "docker-archive" (default) */
	ARCHIVE_OCI,        /* "oci-archive" */
	ARCHIVE_OCI_DIR,    /* "oci-dir" */
	ARCHIVE_DOCKER_DIR, /* "docker-dir": one image only */
};
/* Parses podman's --format names. */
int archive_format_parse(const char *name, enum archive_format *out, struct kerror *e);
bool archive_format_is_dir(enum archive_format f);

/* Writes the images (IDs, ID prefixes or names as the user typed them; one
 * named by one of its names is saved with that name as its tag, one named
 * by ID untagged) as a tar to fd.  Tar formats only. */
int store_archive_save_fd(struct store *s, char *const *images, enum archive_format fmt, int fd,
			  struct kerror *e);
/* Writes them to path: a temporary file (or directory, for the dir
 * formats) beside it, renamed over path once complete. */
int store_archive_save_path(struct store *s, char *const *images, enum archive_format fmt,
			    const char *path, struct kerror *e);
/* One image to an OCI layout (ARCHIVE_OCI or ARCHIVE_OCI_DIR) whose index
 * descriptor carries only ref.name = ref_name, as skopeo and umoci write
 * and look up oci:DIR:TAG. */
int store_archive_save_oci_ref(struct store *s, const char *image, enum archive_format fmt,
			       const char *path, const char *ref_name, struct kerror *e);

/* What one load added: the image and the names it received. */
struct loaded_image {
	char id[DIGEST_HEX_LEN + 1];
	char **names; /* full references, NULL if none */
	char **refs;  /* an OCI index's bare ref.name annotations (tags), NULL if none */
};
void loaded_images_free(struct loaded_image *l, size_t n);
/* Loads every image of an archive read from fd (docker-archive classic or
 * >= 25, oci-archive; the whole archive possibly gzip/zstd/xz/bzip2
 * compressed, layers inside too).  Every blob is checked against its
 * digest, every layer against the config's DiffIDs, before anything is
 * stored; then one store_image_commit per image.  Names come from RepoTags
 * or the index's io.containerd.image.name / ref.name annotations. */
int store_archive_load_fd(struct store *s, int fd, struct loaded_image **out, size_t *n,
			  struct kerror *e);
/* Called when the archive is read and resolved, before anything is
 * committed, with the transport it is read as: "docker-archive" (it has a
 * manifest.json) or "oci-archive"; a negative return refuses the load. */
typedef int (*archive_check_fn)(void *ctx, const char *transport, struct kerror *e);
/* store_archive_load_fd with a check (the trust policy of `load`). */
int store_archive_load_fd_checked(struct store *s, int fd, archive_check_fn check, void *ctx,
				  struct loaded_image **out, size_t *n, struct kerror *e);
/* The same from a directory: an OCI layout, a docker-dir (dir:) layout or
 * an unpacked docker-archive. */
int store_archive_load_dir(struct store *s, const char *dir, struct loaded_image **out,
			   size_t *n, struct kerror *e);

/* ---- containers ----------------------------------------------------------
 * One row per container: its image, its runtime plan (run/'s JSON), its
 * state.  Container files live under <root>/containers/<id>/ (upper, work,
 * ctr.log); runtime state (the monitor's lock, the exit file, the mount
 * point, the generated /etc files) under <runroot>/containers/<id>/.  Each
 * call is one transaction. */
enum ctr_state { CTR_CREATED, CTR_RUNNING, CTR_EXITED };
const char *ctr_state_name(enum ctr_state st); /* "created", "running", "exited" */

struct container_info {
	char id[DIGEST_HEX_LEN + 1];
	char *name;
	char image_id[DIGEST_HEX_LEN + 1];
	char *image_name;     /* as the user typed it, normalised */
	int64_t created;      /* ns since the epoch */
	char *plan;           /* JSON text */
	enum ctr_state state;
	int pid;              /* host pid of the container's init, 0 if none */
	int exit_code;        /* -1 unknown */
	int64_t started, finished; /* ns, 0 if never */
};
void container_info_free(struct container_info *c);
void cleanup_container_infop(struct container_info **c);
#define _cleanup_container_info_ __attribute__((cleanup(cleanup_container_infop)))
void container_list_free(struct container_info **list, size_t n);

/* Inserts the row; -EEXIST with Docker's "the container name X is already
 * in use by Y" when the name is taken. */
int store_container_create(struct store *s, const struct container_info *c, struct kerror *e);
/* By full ID, unique ID prefix or name; -ENOENT "no container with name or
 * ID \"X\" found". */
int store_container_get(struct store *s, const char *what, struct container_info **out,
			struct kerror *e);
/* Newest first. */
int store_container_list(struct store *s, struct container_info ***out, size_t *n,
			 struct kerror *e);
/* Writes state, pid, exit_code, started, finished of c (by c->id). */
int store_container_update(struct store *s, const struct container_info *c, struct kerror *e);
/* Deletes the row and the container's directories (root and runroot). */
int store_container_remove(struct store *s, const char *id, struct kerror *e);
/* Renames; -EEXIST with Docker's message when the name is taken. */
int store_container_rename(struct store *s, const char *id, const char *name, struct kerror *e);
/* The ID of a container using the image (newest), or NULL if none. */
int store_image_container(struct store *s, const char *image_id, char **ctr_id,
			  struct kerror *e);
/* ---- pods ----------------------------------------------------------------
 * One row per pod: its infra container (holding the shared namespaces) and
 * its settings (cli/'s JSON).  Its containers name it in their plans. */
struct pod_info {
	char id[DIGEST_HEX_LEN + 1];
	char *name;
	int64_t created;  /* ns since the epoch */
	char *infra_id;   /* "" without an infra */
	char *config;     /* JSON text */
};
void pod_info_free(struct pod_info *p);
void cleanup_pod_infop(struct pod_info **p);
#define _cleanup_pod_info_ __attribute__((cleanup(cleanup_pod_infop)))
void pod_list_free(struct pod_info **list, size_t n);
/* -EEXIST when the name is taken. */
int store_pod_create(struct store *s, const struct pod_info *p, struct kerror *e);
/* By ID, unique ID prefix or name; -ENOENT. */
int store_pod_get(struct store *s, const char *what, struct pod_info **out, struct kerror *e);
/* Newest first. */
int store_pod_list(struct store *s, struct pod_info ***out, size_t *n, struct kerror *e);
int store_pod_remove(struct store *s, const char *id, struct kerror *e);

/* <root>/containers/<id> and <runroot>/containers/<id> (new strings). */
char *store_container_dir(const struct store *s, const char *id);
char *store_container_rundir(const struct store *s, const char *id);
/* Makes <root>/containers/<id> out of a removed container's directory kept
 * for that (containers/.spare: its empty work/ and nothing else), which
 * saves a create two directories and a removal two deletions on the
 * store's disk.  0 when it did; -ENOENT when there was none to take. */
int store_container_dir_take_spare(struct store *s, const char *id);
const char *store_runroot(const struct store *s);
/* Replaces the container's plan (network connect/disconnect). */
int store_container_set_plan(struct store *s, const char *id, const char *plan,
			     struct kerror *e);

/* ---- networks (networks.c) -----------------------------------------------
 * A network is a Linux bridge with an IPv4 subnet; its row says how to
 * (re)create it.  An attachment is a container's address on a network,
 * held while its network is set up. */
struct network_info {
	char *name, *id;       /* id: 64 hex */
	char *driver;          /* "bridge" */
	char *bridge;          /* interface name, e.g. "kiln0" */
	char *subnet, *gateway; /* "10.91.0.0/24", "10.91.0.1" */
	bool internal, dns;
	json_t *labels;        /* object */
	int64_t created;       /* ns since the epoch */
};
void network_info_free(struct network_info *n);
void cleanup_network_infop(struct network_info **n);
#define _cleanup_network_info_ __attribute__((cleanup(cleanup_network_infop)))
void network_list_free(struct network_info **l, size_t n);
/* -EEXIST ("network name X already used") when the name is taken. */
int store_network_create(struct store *s, const struct network_info *n, struct kerror *e);
/* By name or unique ID prefix (3+ characters); -ENOENT. */
int store_network_get(struct store *s, const char *what, struct network_info **out,
		      struct kerror *e);
int store_network_list(struct store *s, struct network_info ***out, size_t *n,
		       struct kerror *e);
int store_network_remove(struct store *s, const char *name, struct kerror *e);

struct net_attach {
	char ctr_id[DIGEST_HEX_LEN + 1];
	char *network;
	uint32_t ip;           /* host byte order */
	char *ifname;          /* host end of the veth */
	char *ctr_ifname;      /* "eth0" */
	json_t *aliases;       /* array of names */
	json_t *ports;         /* array of the port mappings installed */
};
void net_attach_release(struct net_attach *a);
void net_attach_list_free(struct net_attach *l, size_t n);
/* Records the attachment with the lowest address of [first, last] no other
 * attachment of the network holds (one transaction); a->ip gets it. */
int store_net_attach(struct store *s, struct net_attach *a, uint32_t first, uint32_t last,
		     struct kerror *e);
int store_net_attach_set_ports(struct store *s, const char *ctr_id, const char *network,
			       const json_t *ports, struct kerror *e);
/* Filtered by container and/or network (NULL: any), oldest first. */
int store_net_attach_list(struct store *s, const char *ctr_id, const char *network,
			  struct net_attach **out, size_t *n, struct kerror *e);
/* Removes the container's attachments (network NULL: all of them). */
int store_net_detach(struct store *s, const char *ctr_id, const char *network,
		     struct kerror *e);


/* ---- tar writing -----------------------------------------------------------
 * Deterministic ustar output (PAX records for long names, large sizes and
 * xattrs) to a sink; a regular entry's data follows tar_writer_add in one or
 * more tar_writer_data calls, padded automatically. */
enum tar_type { TAR_REG = '0', TAR_HARDLINK = '1', TAR_SYMLINK = '2', TAR_CHR = '3',
		TAR_BLK = '4', TAR_DIR = '5', TAR_FIFO = '6' };
struct tar_xattr {
	const char *name;
	const char *value;
	size_t len;
};
struct tar_entry {
	const char *name;  /* directories end in '/' by convention */
	char type;         /* enum tar_type */
	uint32_t mode, uid, gid;
	int64_t mtime, size;
	const char *link;  /* symlink or hardlink target */
	const struct tar_xattr *xattrs; /* ends with a NULL name, may be NULL */
};
struct tar_writer {
	layer_sink sink;
	void *ctx;
	uint64_t written, left, entry_size;
};
int tar_writer_add(struct tar_writer *w, const struct tar_entry *t, struct kerror *e);
int tar_writer_data(struct tar_writer *w, const void *data, size_t n, struct kerror *e);
/* A layer_sink writing entry data (ctx = the tar_writer). */
int tar_writer_sink(void *ctx, const void *data, size_t n, struct kerror *e);
/* The end-of-archive marker (two zero blocks). */
int tar_writer_close(struct tar_writer *w, struct kerror *e);


/* ---- layer diffs (tar_diff.c) --------------------------------------------
 * The tar of an overlay layer directory (a build step's upper dir), written
 * deterministically: entries sorted bytewise, depth first, no root entry;
 * 0/0 char-device whiteouts as ".wh.NAME"; an opaque directory
 * (trusted.overlay.opaque or user.overlay.opaque "y") gets
 * "DIR/.wh..wh..opq" when DIR is a directory in one of lowers (diff dirs,
 * NULL-terminated, may be NULL); xattrs as sorted PAX records (overlay's
 * and trusted.* dropped); hardlinks as typeflag 1 to the first name; mtimes
 * kept.  The same tree always gives the same bytes. */
int tar_diff_write(const char *diff_dir, char *const *lowers, layer_sink sink, void *ctx,
		   struct kerror *e);
/* Registers a directory holding diff/ as a staged layer: its DiffID and
 * size come from streaming tar_diff_write through sha256 (nothing kept);
 * out->dir = a copy of layer_dir, no blob. */
int store_stage_layer_dir(struct store *s, const char *layer_dir, char *const *lowers,
			  const char *parent_chain, struct staged_layer *out, struct kerror *e);
/* Sets the mtime (and atime) of everything under dir, dir included, to sec:
 * reproducible layers (--timestamp). */
int tar_diff_clamp_mtimes(const char *dir, int64_t sec, struct kerror *e);
/* tar_diff_write of a stored layer, its parents' diff dirs as lowers. */
int tar_diff_layer(struct store *s, const char *id, layer_sink sink, void *ctx,
		   struct kerror *e);


/* ---- build cache (build_cache.c) -----------------------------------------
 * key: a step's cache key (hex); layer: the chain id hex of the layer it
 * produced, "" for a step without a layer; created: ns since the epoch
 * recorded in its history entry. */
struct build_cache_entry {
	char key[DIGEST_HEX_LEN + 1];
	char layer[DIGEST_HEX_LEN + 1];
	char diff_id[DIGEST_STR_LEN + 1]; /* filled by get when layer is set */
	int64_t size;
	int64_t created;
};
/* -ENOENT (e untouched) on a miss, also when the row's layer is gone. */
int store_build_cache_get(struct store *s, const char *key, struct build_cache_entry *out,
			  struct kerror *e);
/* Inserts or replaces n rows in one transaction. */
int store_build_cache_put(struct store *s, const struct build_cache_entry *v, size_t n,
			  struct kerror *e);
/* Drops rows whose layer is gone (all: every row). */
int store_build_cache_prune(struct store *s, bool all, struct kerror *e);


/* ---- manifest lists (manifest_lists.c) -------------------------------------
 * kiln manifest's lists: a name (full reference), a random ID, the list's
 * exact bytes (OCI index or Docker list) and a JSON object saying where each
 * instance comes from (digest → {"image": ID} or {"ref": "docker://…"}). */
struct mlist_rec {
	char *name;
	char id[DIGEST_HEX_LEN + 1];
	char *doc;
	size_t doc_len;
	char *sources;
	int64_t created;
};
void mlist_rec_release(struct mlist_rec *m);
/* By full name or ID; -ENOENT "X: image is not a manifest list". */
int store_mlist_get(struct store *s, const char *name_or_id, struct mlist_rec *out,
		    struct kerror *e);
/* create: inserts (fills id and created; -EEXIST when the name is taken);
 * else updates doc and sources of the row with m's name and id. */
int store_mlist_put(struct store *s, struct mlist_rec *m, bool create, struct kerror *e);
int store_mlist_remove(struct store *s, const char *name_or_id, struct kerror *e);

/* ---- the event journal (events.c) ------------------------------------------
 * <root>/events.jsonl: one JSON line per event in Docker's shape
 * ({"status","id","from","Type","Action","Actor":{"ID","Attributes"},
 * "scope","time","timeNano"}), appended with one O_APPEND write (lines are
 * below STORE_EVENT_MAX_LINE, so concurrent writers never interleave);
 * past STORE_EVENTS_ROTATE bytes it is renamed to events.1.jsonl. */
#define STORE_EVENT_MAX_LINE 4000
#define STORE_EVENTS_ROTATE (1 << 20)
/* attrs: key, value pairs, NULL-terminated (empty values are left out).
 * A read-only store records nothing. */
int store_event_append(struct store *s, const char *type, const char *action, const char *id,
		       const char *const *attrs, struct kerror *e);
/* The same for callers that must not fail because of an event: the
 * variadic key, value pairs end with NULL; errors are logged at debug. */
void store_event(struct store *s, const char *type, const char *action, const char *id, ...)
	__attribute__((sentinel));
/* Filters are "key=value": type, event, container, image, label (key or
 * key=value), volume, network, pod.  Values of one key are alternatives;
 * different keys must all match. */
int store_event_filter_check(const char *filter, struct kerror *e);
bool store_event_match(const json_t *ev, char *const *filters);
/* Returns non-zero to stop reading. */
typedef int (*store_event_fn)(json_t *ev, void *ctx);
struct event_query {
	int64_t since, until;   /* ns since the epoch; 0 = unbounded */
	char *const *filters;   /* NULL-terminated, may be NULL */
	bool follow;            /* at the end, wait for more (until `until`) */
	bool only_new;          /* start at the end of the journal */
	bool (*should_stop)(void *ctx); /* polled while following; may be NULL */
};
/* Reads the journal of the store at root, oldest first. */
int store_events_read(const char *root, const struct event_query *q, store_event_fn fn, void *ctx,
		      struct kerror *e);
struct container_info;
/* A container event with its image and name (and key=value when key). */
void store_container_event(struct store *s, const struct container_info *c, const char *action,
			   const char *key, const char *value);
/* An image event: id is an image ID (named "sha256:HEX", as Docker) or a
 * reference (pull, push); name may be NULL. */
void store_image_event(struct store *s, const char *action, const char *id, const char *name);

#endif
