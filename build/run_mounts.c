/* RUN --mount: cache, bind, tmpfs and secret mounts set up in the build's
 * mount namespace on paths inside the step's merged snapshot (run_build_exec
 * bind-mounts the root recursively, so they are seen by the command), and
 * removed afterwards with any mount point the step had to create, so none
 * of it reaches the layer.
 *
 * Targets are resolved inside the root (openat2 RESOLVE_IN_ROOT; a symlink
 * in the image cannot send a mount outside it) and mounted by the host path
 * that the resolved descriptor names.
 *
 *   cache   STORE/build-mounts/cache/<digest of id>, persistent; sharing
 *           locked: an exclusive flock for the step; private: a fresh empty
 *           directory when another build holds it; shared: no lock.
 *   bind    from the context, a stage or an image; read-only unless rw, and
 *           then writes go to a throw-away overlay upper.
 *   tmpfs   size= when given.
 *   secret  --secret id=…,src=FILE|env=VAR, copied to the build's tmp dir
 *           with the mount's mode/uid/gid and bind-mounted read-only; never
 *           in the cache key, the layer or history. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/engine_state.h"
#include "run/run.h"

#define SECRET_MAX (500 * 1024)

/* The host path an fd names; must lie under root. */
static int fd_path(int fd, const char *root, char **out, struct kerror *e)
{
	char proc[64], p[4096];
	ssize_t n;
	size_t rl = strlen(root);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, p, sizeof(p) - 1);
	if (n < 0)
		return kerror_sys(e, errno, "resolving a mount path");
	p[n] = '\0';
	if (strncmp(p, root, rl) || (p[rl] && p[rl] != '/'))
		return kerror_set(e, EXDEV, "mount path \"%s\" is outside \"%s\"", p, root);
	*out = xstrdup(p);
	return 0;
}

/* Creates the missing components of target (file when as_file) inside the
 * root; records what it made in m->stubs for removal. */
static int make_target(struct run_mounts *m, int rootfd, const char *target, bool as_file,
		       char **host, struct kerror *e)
{
	_cleanup_free_ char *rel = NULL;
	char *save = NULL;
	struct buf b = { 0 };
	_cleanup_free_ char *copy = xstrdup(target);
	int r = 0;

	buf_append(&b, "", 1);
	b.len = 0;
	char *tok = strtok_r(copy, "/", &save);
	while (tok) {
		char *next = strtok_r(NULL, "/", &save);
		if (!strcmp(tok, ".") || !strcmp(tok, "..")) {
			buf_release(&b);
			return kerror_set(e, EINVAL, "mount target \"%s\": . and .. are not allowed",
					  target);
		}
		size_t plen = b.len;
		buf_printf(&b, "%s%s", plen ? "/" : "", tok);
		_cleanup_close_ int fd = fs_open_in_root(rootfd, b.data, O_PATH);
		if (fd < 0 && errno == ENOENT) {
			_cleanup_free_ char *parent = xstrndup(b.data, plen);
			_cleanup_close_ int pfd = fs_open_in_root(rootfd, parent, O_RDONLY | O_DIRECTORY);
			if (pfd < 0) {
				r = kerror_sys(e, errno, "mount target \"%s\"", target);
				break;
			}
			if (!next && as_file) {
				int f = openat(pfd, tok, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
				if (f < 0) {
					r = kerror_sys(e, errno, "creating \"%s\"", target);
					break;
				}
				close(f);
			} else if (mkdirat(pfd, tok, 0755) < 0) {
				r = kerror_sys(e, errno, "creating \"%s\"", target);
				break;
			}
			strv_push(&m->stubs, xstrdup(b.data));
		} else if (fd < 0) {
			r = kerror_sys(e, errno, "mount target \"%s\"", target);
			break;
		}
		tok = next;
	}
	if (r == 0) {
		_cleanup_close_ int fd = fs_open_in_root(rootfd, b.len ? b.data : "", O_PATH);
		rel = NULL;
		if (fd < 0)
			r = kerror_sys(e, errno, "mount target \"%s\"", target);
		else
			r = fd_path(fd, m->merged, host, e);
	}
	buf_release(&b);
	return r;
}

static int do_mount(struct run_mounts *m, const char *src, const char *dst, const char *type,
		    unsigned long flags, const char *data, struct kerror *e)
{
	if (mount(src, dst, type, flags, data) < 0)
		return kerror_sys(e, errno, "mounting on \"%s\"", dst);
	strv_push(&m->mounted, xstrdup(dst));
	if ((flags & MS_BIND) && (flags & MS_RDONLY) &&
	    mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | (flags & MS_REC), NULL) < 0)
		return kerror_sys(e, errno, "making \"%s\" read-only", dst);
	return 0;
}

static int cache_mount(struct build *b, struct run_mounts *m, const struct plan_mount *pm,
		       const char *dst, struct kerror *e)
{
	const char *id = pm->id ? pm->id : pm->target;
	char d[DIGEST_STR_LEN + 1];
	_cleanup_free_ char *base = xasprintf("%s/build-mounts/cache", store_root(b->s));
	_cleanup_free_ char *dir = NULL, *lock = NULL;
	_cleanup_close_ int seed = -1;
	int r;

	if (pm->from) {
		/* from=: the cache starts as a copy of that stage's or image's
		 * source path (BuildKit's base of the cache mount); a cache of
		 * its own per base, so a changed base starts afresh */
		_cleanup_digester_ struct digester *dg = digester_new();
		const char *root = NULL;
		r = build_from_root(b, pm->from, pm->from_stage, dg, &root, e);
		if (r < 0)
			return r;
		_cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			return kerror_sys(e, errno, "opening \"%s\"", root);
		seed = fs_open_in_root(rootfd, pm->source ? pm->source : "", O_RDONLY | O_DIRECTORY);
		if (seed < 0)
			return kerror_sys(e, errno, "cache mount source \"%s\" in %s",
					  pm->source ? pm->source : "/", pm->from);
		digester_update(dg, id, strlen(id) + 1);
		digester_final(dg, d);
	} else {
		digest_bytes(id, strlen(id), d);
	}
	dir = xasprintf("%s/%.32s", base, digest_hex(d));
	lock = xasprintf("%s.lock", dir);
	r = fs_mkdir_p(base, 0700, e);
	if (r < 0)
		return r;
	/* Every use holds the lock (shared for sharing=shared) and refreshes
	 * its mtime: builder prune skips what is held and ages by it. */
	{
		int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return kerror_sys(e, errno, "opening \"%s\"", lock);
		futimens(fd, NULL);
		if (flock(fd, pm->sharing == SHARING_SHARED ? LOCK_SH
			  : LOCK_EX | (pm->sharing == SHARING_PRIVATE ? LOCK_NB : 0)) < 0) {
			close(fd);
			if (pm->sharing != SHARING_PRIVATE || errno != EWOULDBLOCK)
				return kerror_sys(e, errno, "locking the cache mount \"%s\"", id);
			/* private and in use: a fresh instance for this step
			 * (made below, with the mount's owner and mode) */
			_cleanup_free_ char *tmpl = xasprintf("%s/cache-XXXXXX", b->tmp.path);
			if (!mkdtemp(tmpl))
				return kerror_sys(e, errno, "creating a private cache mount");
			free(dir);
			dir = xasprintf("%s/c", tmpl);
			fd = -1;
		}
		if (fd >= 0) {
			m->locks = xrealloc(m->locks, (m->nlocks + 1) * sizeof(int));
			m->locks[m->nlocks++] = fd;
		}
	}
	if (mkdir(dir, 0755) == 0) {
		if (chown(dir, pm->uid, pm->gid) < 0 || chmod(dir, pm->mode & 07777) < 0)
			return kerror_sys(e, errno, "creating the cache mount \"%s\"", id);
		if (seed >= 0) {
			_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			r = dfd < 0 ? kerror_sys(e, errno, "opening \"%s\"", dir)
				    : run_copy_tree(seed, dfd, NULL, e);
			if (r < 0) {
				/* no half-seeded cache for the next build */
				fs_rm_rf(dir, NULL);
				return kerror_wrap(e, "seeding the cache mount \"%s\"", id);
			}
		}
	} else if (errno != EEXIST) {
		return kerror_sys(e, errno, "creating the cache mount \"%s\"", id);
	}
	return do_mount(m, dir, dst, NULL, MS_BIND | MS_REC, NULL, e);
}

/* "id=x,src=FILE" / "id=x,env=VAR" / "id=x,type=env|file,…" → its bytes. */
int run_secret_data(const struct build *b, const char *id, char **data, size_t *len,
		       struct kerror *e)
{
	for (size_t i = 0; b->o->secrets && b->o->secrets[i]; i++) {
		_cleanup_free_ char *copy = xstrdup(b->o->secrets[i]);
		char *save = NULL, *sid = NULL, *src = NULL, *env = NULL, *type = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (str_has_prefix(t, "id="))
				sid = t + 3;
			else if (str_has_prefix(t, "src="))
				src = t + 4;
			else if (str_has_prefix(t, "source="))
				src = t + 7;
			else if (str_has_prefix(t, "env="))
				env = t + 4;
			else if (str_has_prefix(t, "type="))
				type = t + 5;
		}
		if (!sid || strcmp(sid, id))
			continue;
		if (type && !strcmp(type, "env") && src && !env)
			env = src, src = NULL;
		if (!src && !env)
			env = sid;
		if (env) {
			const char *v = getenv(env);
			if (!v)
				return kerror_set(e, ENOENT, "secret %s: environment variable %s is not set",
						  id, env);
			*len = strlen(v);
			*data = xstrdup(v);
			return 0;
		}
		return fs_read_file(src, SECRET_MAX, data, len, e) < 0
			       ? kerror_wrap(e, "secret %s", id)
			       : 0;
	}
	return -ENOENT;
}

/* A file with data, mode and owner in the build's tmp dir, bind-mounted
 * read-only at target (a secret, a heredoc script). */
static int file_mount(struct build *b, struct run_mounts *m, int rootfd, const char *target,
		      const char *data, size_t len, uint32_t mode, uid_t uid, gid_t gid,
		      unsigned long extra, struct kerror *e)
{
	_cleanup_free_ char *dir = xasprintf("%s/mountfiles", b->tmp.path);
	_cleanup_free_ char *file = NULL, *host = NULL;
	int r;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return kerror_sys(e, errno, "creating \"%s\"", dir);
	file = xasprintf("%s/f-XXXXXX", dir);
	{
		_cleanup_close_ int fd = mkostemp(file, O_CLOEXEC);
		if (fd < 0 || fs_write_all(fd, data, len) < 0 || fchown(fd, uid, gid) < 0 ||
		    fchmod(fd, mode & 07777) < 0)
			return kerror_sys(e, errno, "writing \"%s\"", file);
	}
	r = make_target(m, rootfd, target, true, &host, e);
	if (r == 0)
		r = do_mount(m, file, host, NULL, MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | extra,
			     NULL, e);
	return r;
}

int run_mounts_add_file(struct build *b, struct run_mounts *m, const char *target,
			const char *data, uint32_t mode, struct kerror *e)
{
	_cleanup_close_ int rootfd = open(m->merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", m->merged);
	return file_mount(b, m, rootfd, target, data, strlen(data), mode, 0, 0, 0, e);
}

static int secret_mount(struct build *b, struct run_mounts *m, const struct plan_mount *pm,
			int rootfd, struct kerror *e)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = run_secret_data(b, pm->id, &data, &len, e);
	if (r == -ENOENT && !pm->required)
		return 0; /* Docker: an absent optional secret is simply not mounted */
	if (r == -ENOENT)
		return kerror_set(e, ENOENT, "secret %s: not provided (use --secret id=%s,src=FILE)",
				  pm->id, pm->id);
	if (r < 0)
		return r;
	if (!pm->target)
		return 0; /* env= only: run_secret_env put it in the environment */
	r = file_mount(b, m, rootfd, pm->target, data, len, pm->mode, pm->uid, pm->gid,
		       MS_NOEXEC, e);
	explicit_bzero(data, len);
	return r;
}

/* The host socket of an ssh mount: --ssh ID=PATH, or for "default" without
 * one, $SSH_AUTH_SOCK.  NULL when none. */
static const char *ssh_socket(const struct build *b, const char *id)
{
	size_t n = strlen(id);
	for (size_t i = 0; b->o->ssh && b->o->ssh[i]; i++) {
		const char *v = b->o->ssh[i];
		if (!strncmp(v, id, n) && v[n] == '=')
			return v + n + 1;
		if (!strcmp(v, id) && !strcmp(id, "default"))
			return getenv("SSH_AUTH_SOCK");
	}
	return NULL;
}

int run_secret_env(struct build *b, const struct plan_step *st, char ***env, struct kerror *e)
{
	for (size_t i = 0; i < st->nmounts; i++) {
		const struct plan_mount *pm = &st->mounts[i];
		_cleanup_free_ char *data = NULL;
		size_t len = 0;
		int r;
		if (pm->type != MOUNT_SECRET || !pm->env)
			continue;
		r = run_secret_data(b, pm->id, &data, &len, e);
		if (r == -ENOENT && !pm->required)
			continue;
		if (r == -ENOENT)
			return kerror_set(e, ENOENT, "secret %s: not provided (use --secret "
						     "id=%s,src=FILE)", pm->id, pm->id);
		if (r < 0)
			return r;
		if (memchr(data, '\0', len))
			return kerror_set(e, EINVAL, "secret %s: a NUL byte cannot go in %s", pm->id,
					  pm->env);
		strv_push(env, xasprintf("%s=%s", pm->env, data));
		explicit_bzero(data, len);
	}
	/* the first ssh mount with a socket is the step's agent */
	for (size_t i = 0; i < st->nmounts; i++) {
		const struct plan_mount *pm = &st->mounts[i];
		if (pm->type == MOUNT_SSH && ssh_socket(b, pm->id ? pm->id : "default")) {
			strv_push(env, xasprintf("SSH_AUTH_SOCK=%s", pm->target));
			break;
		}
	}
	return 0;
}

static bool size_ok(const char *s)
{
	size_t i = 0;
	while (s[i] >= '0' && s[i] <= '9')
		i++;
	return i > 0 && (!s[i] || (strchr("kKmMgG%", s[i]) && !s[i + 1]));
}

static int bind_mount(struct build *b, struct run_mounts *m, const struct plan_mount *pm,
		      int rootfd, struct kerror *e)
{
	const char *root = NULL;
	_cleanup_free_ char *src = NULL, *host = NULL;
	_cleanup_close_ int srcroot = -1, sfd = -1;
	struct stat st;
	int r = build_from_root(b, pm->from, pm->from_stage, NULL, &root, e);
	if (r < 0)
		return r;
	srcroot = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srcroot < 0)
		return kerror_sys(e, errno, "opening \"%s\"", root);
	sfd = fs_open_in_root(srcroot, pm->source ? pm->source : "", O_PATH);
	if (sfd < 0 || fstat(sfd, &st) < 0)
		return kerror_sys(e, errno, "bind mount source \"%s\"",
				  pm->source ? pm->source : "/");
	r = fd_path(sfd, root, &src, e);
	if (r == 0 && !pm->from && b->ctx.ign) {
		/* the context without its ignored files, as BuildKit sees it */
		_cleanup_free_ char *rel = xstrdup(src[strlen(root)] ? src + strlen(root) + 1 : "");
		if (!S_ISDIR(st.st_mode)) {
			if (rel[0] && ignore_match(b->ctx.ign, rel))
				return kerror_set(e, ENOENT, "bind mount source \"%s\": excluded by %s",
						  pm->source, strrchr(b->ctx.ign_file, '/') + 1);
		} else {
			_cleanup_close_ int dfd = fs_open_in_root(srcroot, rel, O_RDONLY | O_DIRECTORY);
			free(src);
			src = NULL;
			r = dfd < 0 ? kerror_sys(e, errno, "bind mount source \"%s\"", rel)
				    : build_ctx_view(b, dfd, rel, &src, e);
		}
	}
	if (r == 0)
		r = make_target(m, rootfd, pm->target, !S_ISDIR(st.st_mode), &host, e);
	if (r < 0)
		return r;
	if (pm->readonly || !S_ISDIR(st.st_mode))
		return do_mount(m, src, host, NULL, MS_BIND | MS_REC | (pm->readonly ? MS_RDONLY : 0),
				NULL, e);
	/* rw: writes land in a throw-away upper dir */
	{
		_cleanup_free_ char *tmpl = xasprintf("%s/bind-XXXXXX", b->tmp.path);
		if (!mkdtemp(tmpl))
			return kerror_sys(e, errno, "creating a bind mount's upper dir");
		_cleanup_free_ char *up = xasprintf("%s/u", tmpl);
		_cleanup_free_ char *wk = xasprintf("%s/w", tmpl);
		_cleanup_free_ char *opt = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s%s", src, up, wk,
						   fs_overlay_extra_opts());
		if (strpbrk(src, ",:"))
			return kerror_set(e, EINVAL, "bind mount source \"%s\": rw needs a path "
						     "without ',' or ':'", src);
		r = fs_mkdir_p(up, 0755, e);
		if (r == 0)
			r = fs_mkdir_p(wk, 0755, e);
		if (r == 0)
			r = do_mount(m, "overlay", host, "overlay", 0, opt, e);
		return r;
	}
}

/* RUN --mount=type=ssh: the agent's socket bound at the target (the step's
 * SSH_AUTH_SOCK, see run_secret_env). */
static int ssh_mount(struct build *b, struct run_mounts *m, const struct plan_mount *pm,
		     int rootfd, struct kerror *e)
{
	const char *id = pm->id ? pm->id : "default";
	const char *sock = ssh_socket(b, id);
	_cleanup_free_ char *host = NULL;
	struct stat st;
	if (!sock || !*sock) {
		if (!pm->required)
			return 0;
		return kerror_set(e, ENOENT, "ssh %s: no agent socket given (use --ssh %s or "
					     "--ssh %s=PATH)", id, id, id);
	}
	if (stat(sock, &st) < 0)
		return kerror_sys(e, errno, "ssh %s: \"%s\"", id, sock);
	if (!S_ISSOCK(st.st_mode))
		return kerror_set(e, EINVAL, "ssh %s: \"%s\" is not a socket", id, sock);
	int r = make_target(m, rootfd, pm->target, true, &host, e);
	if (r == 0)
		r = do_mount(m, sock, host, NULL, MS_BIND, NULL, e);
	return r;
}

/* --volume SRC:DST[:OPTS] for every RUN step (options ro, rw, z, Z; the
 * source must exist, as for buildah). */
static int volume_mount(struct run_mounts *m, const char *spec, int rootfd, struct kerror *e)
{
	_cleanup_free_ char *copy = xstrdup(spec), *host = NULL;
	char *parts[4] = { NULL }, *save = NULL;
	size_t n = 0;
	bool ro = false;
	struct stat st;
	for (char *t = strtok_r(copy, ":", &save); t && n < 4; t = strtok_r(NULL, ":", &save))
		parts[n++] = t;
	if (n < 2 || n > 3 || parts[0][0] != '/' || parts[1][0] != '/')
		return kerror_set(e, EINVAL, "--volume %s: /HOST-DIR:/CONTAINER-DIR[:OPTIONS] "
					     "expected", spec);
	save = NULL;
	for (char *t = n == 3 ? strtok_r(parts[2], ",", &save) : NULL; t;
	     t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "ro"))
			ro = true;
		else if (strcmp(t, "rw") && strcmp(t, "z") && strcmp(t, "Z"))
			return kerror_set(e, EINVAL, "--volume %s: unknown option \"%s\"", spec, t);
	}
	if (stat(parts[0], &st) < 0)
		return kerror_sys(e, errno, "--volume %s: \"%s\"", spec, parts[0]);
	int r = make_target(m, rootfd, parts[1], !S_ISDIR(st.st_mode), &host, e);
	if (r == 0)
		r = do_mount(m, parts[0], host, NULL, MS_BIND | MS_REC | (ro ? MS_RDONLY : 0), NULL,
			     e);
	return r;
}

int run_mounts_setup(struct build *b, const struct plan_step *st, const char *merged,
		     struct run_mounts *m, struct kerror *e)
{
	_cleanup_close_ int rootfd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	memset(m, 0, sizeof(*m));
	m->merged = xstrdup(merged);
	if (rootfd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", merged);
	for (size_t i = 0; r == 0 && i < st->nmounts; i++) {
		const struct plan_mount *pm = &st->mounts[i];
		_cleanup_free_ char *host = NULL;
		switch (pm->type) {
		case MOUNT_CACHE:
			r = make_target(m, rootfd, pm->target, false, &host, e);
			if (r == 0)
				r = cache_mount(b, m, pm, host, e);
			break;
		case MOUNT_TMPFS: {
			_cleanup_free_ char *opt = pm->size ? xasprintf("size=%s", pm->size) : NULL;
			if (pm->size && !size_ok(pm->size))
				return kerror_set(e, EINVAL, "tmpfs size=%s: a number with an optional "
							     "k, m, g or %% suffix expected", pm->size);
			r = make_target(m, rootfd, pm->target, false, &host, e);
			if (r == 0)
				r = do_mount(m, "tmpfs", host, "tmpfs", MS_NOSUID | MS_NODEV, opt, e);
			break;
		}
		case MOUNT_BIND:
			r = bind_mount(b, m, pm, rootfd, e);
			break;
		case MOUNT_SECRET:
			r = secret_mount(b, m, pm, rootfd, e);
			break;
		case MOUNT_SSH:
			r = ssh_mount(b, m, pm, rootfd, e);
			break;
		}
	}
	for (size_t i = 0; r == 0 && b->o->volumes && b->o->volumes[i]; i++)
		r = volume_mount(m, b->o->volumes[i], rootfd, e);
	return r;
}

void run_mounts_teardown(struct run_mounts *m)
{
	for (size_t i = strv_len(m->mounted); i-- > 0;)
		umount2(m->mounted[i], MNT_DETACH);
	if (m->merged) {
		_cleanup_close_ int rootfd = open(m->merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		/* Mount points the step created go, newest first, if still empty. */
		for (size_t i = strv_len(m->stubs); rootfd >= 0 && i-- > 0;) {
			const char *rel = m->stubs[i];
			const char *slash = strrchr(rel, '/');
			_cleanup_free_ char *parent = slash ? xstrndup(rel, (size_t)(slash - rel))
							    : xstrdup("");
			_cleanup_close_ int pfd = fs_open_in_root(rootfd, parent, O_RDONLY | O_DIRECTORY);
			const char *name = slash ? slash + 1 : rel;
			struct stat st;
			if (pfd < 0 || fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			if (S_ISDIR(st.st_mode))
				unlinkat(pfd, name, AT_REMOVEDIR);
			else if (S_ISREG(st.st_mode) && st.st_size == 0)
				unlinkat(pfd, name, 0);
		}
	}
	for (size_t i = 0; i < m->nlocks; i++)
		close(m->locks[i]);
	free(m->locks);
	strv_free(m->mounted);
	strv_free(m->stubs);
	free(m->merged);
	memset(m, 0, sizeof(*m));
}
