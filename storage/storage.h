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
 * Nothing is written outside rootfd's tree, whatever the input. */
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
/* Convenience: opens fd (gzip, zstd, xz, bzip2 or plain tar) and applies. */
int tar_apply_fd(int fd, int rootfd, const struct tar_apply_opts *o,
		 struct tar_apply_stats *stats, struct kerror *e);

#endif
