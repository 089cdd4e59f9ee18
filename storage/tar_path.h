/* tar_path.h — private helpers of tar application (storage/tar_apply.c):
 * cleaning entry names, the set of paths one layer created, and opening
 * directories strictly beneath the root. */
#ifndef KILN_STORAGE_TAR_PATH_H
#define KILN_STORAGE_TAR_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define TAR_PATH_MAX 4095

/* Cleans an entry name: strips "./", collapses "//" and ".", resolves ".."
 * lexically, drops a trailing '/'.  *out is "" for the root itself.  Returns
 * -EINVAL with *why set ("absolute path refused", "path leaves the layer",
 * "name too long") when the name is refused. */
int tar_path_clean(const char *name, char **out, const char **why);

/* Paths created by the layer being applied: CREATED for entries, ANCESTOR
 * for the directories above them (so pruning knows where to descend). */
enum { PATHSET_CREATED = 1, PATHSET_ANCESTOR = 2 };
struct pathset {
	char **keys;
	unsigned char *flags;
	size_t cap, n;
};
void pathset_add(struct pathset *s, const char *path);
unsigned pathset_get(const struct pathset *s, const char *path);
void pathset_release(struct pathset *s);

/* openat2(rootfd, path, flags, RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS|
 * RESOLVE_NO_XDEV): symlinks staying inside the root are followed; one that
 * leaves it fails with -EXDEV.  Returns the fd or a negative errno. */
int tar_open_beneath(int rootfd, const char *path, int flags);
/* Opens directory path ("" is not allowed) beneath rootfd as O_PATH; with
 * create, missing components are made (0755).  Fd or negative errno. */
int tar_open_dir(int rootfd, const char *path, bool create);

#endif
