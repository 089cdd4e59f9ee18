/* The build context: a directory, a tar on stdin or a tarball (extracted
 * into the build's tmp dir), and its .containerignore / .dockerignore. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build/engine.h"

#define IGNORE_MAX (1024 * 1024)

static int extract(int fd, const char *name, const char *tmpdir, char **out, struct kerror *e)
{
	_cleanup_free_ char *dir = xasprintf("%s/context", tmpdir);
	_cleanup_close_ int dfd = -1;
	struct tar_apply_opts o = { .whiteouts = TAR_WHITEOUT_DELETE };
	int r;

	if (mkdir(dir, 0755) < 0 || (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return kerror_sys(e, errno, "creating \"%s\"", dir);
	r = tar_apply_fd(fd, dfd, &o, NULL, e);
	if (r < 0)
		return kerror_wrap(e, "extracting the build context %s", name);
	*out = steal_pointer(&dir);
	return 0;
}

int build_context_open(const char *spec, const char *tmpdir, struct build_context *out,
		       struct kerror *e)
{
	struct stat st;
	int r;

	memset(out, 0, sizeof(*out));
	if (strcmp(spec, "-") == 0) {
		r = extract(STDIN_FILENO, "from stdin", tmpdir, &out->dir, e);
		out->extracted = true;
	} else if (stat(spec, &st) < 0) {
		return kerror_sys(e, errno, "the build context \"%s\"", spec);
	} else if (S_ISDIR(st.st_mode)) {
		char *real = realpath(spec, NULL);
		if (!real)
			return kerror_sys(e, errno, "the build context \"%s\"", spec);
		out->dir = real;
		r = 0;
	} else {
		_cleanup_close_ int fd = open(spec, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return kerror_sys(e, errno, "opening \"%s\"", spec);
		_cleanup_free_ char *name = xasprintf("\"%s\" (not a directory: a tar?)", spec);
		r = extract(fd, name, tmpdir, &out->dir, e);
		out->extracted = true;
	}
	if (r < 0)
		return r;
	static const char *const names[] = { ".containerignore", ".dockerignore" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", out->dir, names[i]);
		_cleanup_free_ char *data = NULL;
		size_t len;
		if (access(p, F_OK) < 0)
			continue;
		r = fs_read_file(p, IGNORE_MAX, &data, &len, e);
		if (r == 0)
			r = ignore_parse(data, len, &out->ign, e);
		if (r < 0) {
			build_context_release(out);
			return kerror_wrap(e, "reading \"%s\"", p);
		}
		out->ign_file = steal_pointer(&p);
		break;
	}
	return 0;
}

void build_context_release(struct build_context *c)
{
	free(c->dir);
	free(c->ign_file);
	if (c->ign)
		ignore_free(c->ign);
	memset(c, 0, sizeof(*c));
}
