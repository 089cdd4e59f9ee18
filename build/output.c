/* The end products other than the image's layers as built:
 *   --squash      the layers this build added over the FROM image merged
 *                 into one (whiteouts and opaque directories of later
 *                 layers applied to earlier ones, kept where they hide
 *                 something of the base);
 *   --squash-all  the whole root file system as one layer;
 *   --output      the root file system written to a directory (type=local)
 *                 or a tar file (type=tar). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/engine_state.h"

static char **lowers_range(const struct bstate *s, size_t from, size_t to)
{
	char **v = xcalloc(to - from + 1, sizeof(*v));
	for (size_t i = 0; i < to - from; i++)
		v[i] = xstrdup(s->layers[to - 1 - i]->diff);
	return v;
}

static int fd_sink(void *ctx, const void *data, size_t n, struct kerror *e)
{
	int r = fs_write_all(*(int *)ctx, data, n);
	return r < 0 ? kerror_sys(e, -r, "writing the tar") : 0;
}

/* A read-only view of the state's layers (undone with the build). */
static int view_of(struct build *b, const struct bstate *s, char **out, struct kerror *e)
{
	_cleanup_strv_ char **lowers = lowers_range(s, 0, s->n);
	char *dir = NULL;
	int r = rootfs_mount_ro(store_root(b->s), b->tmp.path, lowers, &dir, e);
	if (r < 0)
		return r;
	if (s->n) {
		size_t n = strv_len(b->mounts);
		b->mounts = xrealloc(b->mounts, (n + 2) * sizeof(char *));
		b->mounts[n] = xstrdup(dir);
		b->mounts[n + 1] = NULL;
	}
	*out = dir;
	return 0;
}

/* The state's root as a tar written to fd. */
static int tar_root(struct build *b, const struct bstate *s, int fd, struct kerror *e)
{
	_cleanup_free_ char *view = NULL;
	int r = view_of(b, s, &view, e);
	if (r == 0)
		r = tar_diff_write(view, NULL, fd_sink, &fd, e);
	return r;
}

int build_output(struct build *b, const struct bstate *s, struct kerror *e)
{
	const char *dest = b->o->output_dest;
	int r;

	if (b->o->output == BUILD_OUTPUT_TAR) {
		_cleanup_close_ int fd = strcmp(dest, "-")
						 ? open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
						 : dup(STDOUT_FILENO);
		if (fd < 0)
			return kerror_sys(e, errno, "opening \"%s\"", dest);
		r = tar_root(b, s, fd, e);
		return r < 0 ? kerror_wrap(e, "--output %s", dest) : 0;
	}
	{
		_cleanup_free_ char *tmp = xasprintf("%s/output-XXXXXX", b->tmp.path);
		_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
		_cleanup_close_ int dfd = -1;
		struct tar_apply_opts o = { .whiteouts = TAR_WHITEOUT_DELETE };
		if (fd < 0)
			return kerror_sys(e, errno, "creating \"%s\"", tmp);
		r = fs_mkdir_p(dest, 0755, e);
		if (r == 0)
			r = tar_root(b, s, fd, e);
		if (r < 0)
			return kerror_wrap(e, "--output %s", dest);
		dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || lseek(fd, 0, SEEK_SET) < 0)
			return kerror_sys(e, errno, "opening \"%s\"", dest);
		r = tar_apply_fd(fd, dfd, &o, NULL, e);
		return r < 0 ? kerror_wrap(e, "--output %s", dest) : 0;
	}
}

/* Replaces layers [from, n) of s by one layer. */
static int squash_range(struct build *b, struct bstate *s, size_t from, struct kerror *e)
{
	_cleanup_free_ char *dir = xasprintf("%s/squash-XXXXXX", b->tmp.path);
	_cleanup_free_ char *diff = NULL;
	_cleanup_close_ int dfd = -1;
	_cleanup_strv_ char **lowers = lowers_range(s, 0, from);
	struct blayer *l;
	/* The result is a layer over lowers: what it hides stays hidden. */
	const struct store_merge_opts keep = { .keep_whiteouts = true };
	int r = 0;

	if (s->n <= from || s->n == from + 1)
		return 0; /* nothing new, or one layer already */
	if (!mkdtemp(dir))
		return kerror_sys(e, errno, "creating \"%s\"", dir);
	diff = xasprintf("%s/diff", dir);
	if (mkdir(diff, 0755) < 0 || (dfd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return kerror_sys(e, errno, "creating \"%s\"", diff);
	for (size_t i = from; from > 0 && r == 0 && i < s->n; i++) {
		_cleanup_close_ int sfd = open(s->layers[i]->diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sfd < 0)
			return kerror_sys(e, errno, "opening \"%s\"", s->layers[i]->diff);
		r = store_merge_dir(sfd, dfd, &keep, e);
	}
	if (from == 0) {
		/* Nothing below: the merged view itself (no whiteouts left). */
		_cleanup_free_ char *view = NULL;
		r = view_of(b, s, &view, e);
		if (r == 0) {
			_cleanup_close_ int vfd = open(view, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (vfd < 0)
				r = kerror_sys(e, errno, "opening \"%s\"", view);
			else
				r = store_merge_dir(vfd, dfd, &keep, e);
		}
	}
	if (r < 0)
		return kerror_wrap(e, "squashing the layers");
	l = xcalloc(1, sizeof(*l));
	r = store_stage_layer_dir(b->s, dir, lowers, from ? s->layers[from - 1]->chain_id : NULL,
				  &l->staged, e);
	if (r < 0) {
		free(l);
		return kerror_wrap(e, "squashing the layers");
	}
	memcpy(l->diff_id, l->staged.diff_id, sizeof(l->diff_id));
	memcpy(l->chain_id, l->staged.chain_id, sizeof(l->chain_id));
	l->size = l->staged.size;
	l->diff = steal_pointer(&diff);
	b->all = xrealloc(b->all, (b->nall + 1) * sizeof(*b->all));
	b->all[b->nall++] = l;
	s->n = from;
	s->layers[s->n++] = l;
	/* History: one entry with a layer for the squashed ones. */
	{
		json_t *h = json_object_get(s->cfg, "history");
		size_t i, nonempty = 0, last = (size_t)-1;
		json_t *ent;
		json_array_foreach(h, i, ent) {
			if (json_is_true(json_object_get(ent, "empty_layer")))
				continue;
			if (nonempty++ >= from) {
				json_object_set_new(ent, "empty_layer", json_true());
				last = i;
			}
		}
		if (last != (size_t)-1)
			json_object_del(json_array_get(h, last), "empty_layer");
	}
	return 0;
}

int build_squash(struct build *b, struct bstate *s, bool all, struct kerror *e)
{
	return squash_range(b, s, all ? 0 : s->base_n, e);
}
