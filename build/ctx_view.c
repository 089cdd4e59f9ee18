/* The context as RUN --mount=type=bind (from the context) sees it: without
 * what .containerignore / .dockerignore excludes, as BuildKit, which is
 * sent only the rest.  The view of a source directory is a tree under the
 * build's tmp dir of hard links to the files kept (copies where a link
 * cannot be made: another file system, a rootless user's protected links),
 * with the directories, symlinks and special files made afresh; made for
 * each such mount.  The mount stays read-only, or writes go to a throw-away
 * overlay upper (run_mounts.c), so the context's files are never written
 * through their links. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/engine_state.h"
#include "run/run.h"

/* An ignored directory is left out only when no "!" pattern can bring
 * anything beneath it back (else it is made, with only what comes back). */
static bool skip_ignored(void *ctx, const char *rel, bool dir)
{
	const struct ignore_rules *ign = ctx;
	return ignore_match(ign, rel) && (!dir || ignore_dir_skippable(ign, rel));
}

int build_ctx_view(struct build *b, int srcfd, const char *rel, char **out, struct kerror *e)
{
	_cleanup_free_ char *tmpl = xasprintf("%s/ctxview-XXXXXX", b->tmp.path);
	_cleanup_close_ int dfd = -1;
	struct run_copy_opts o = { .skip = skip_ignored, .ctx = b->ctx.ign, .prefix = rel,
				   .link = true, .lenient = true };
	struct stat st;
	int r;

	if (!mkdtemp(tmpl))
		return kerror_sys(e, errno, "creating a view of the context");
	dfd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstat(srcfd, &st) < 0)
		return kerror_sys(e, errno, "creating a view of the context");
	r = run_copy_tree(srcfd, dfd, &o, e);
	if (r == 0 && fchmod(dfd, st.st_mode & 07777) < 0)
		r = kerror_sys(e, errno, "creating a view of the context");
	if (r == 0 && fchown(dfd, st.st_uid, st.st_gid) < 0 && errno != EPERM)
		r = kerror_sys(e, errno, "creating a view of the context");
	if (r < 0)
		return kerror_wrap(e, "bind mount source \"%s\"", rel[0] ? rel : "/");
	*out = steal_pointer(&tmpl);
	return 0;
}
