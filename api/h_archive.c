/* /containers/{id}/archive (docker cp) and /containers/{id}/export.
 * Copies go through `kiln cp` into a private directory of the service,
 * then become a tar (GET) or come from one (PUT, extracted by tar_apply,
 * which refuses every entry that would leave the directory). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api_private.h"

static char *make_dir(struct api_req *r)
{
	char *dir = xasprintf("%s/cp-XXXXXX", r->srv->tmpdir);
	if (!mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

static const char *base_name(const char *p)
{
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	const char *b = p + n;
	while (b > p && b[-1] != '/')
		b--;
	return *b && *b != '/' ? b : "/";
}

/* Go's os.FileMode bits, as docker reads them from the stat header. */
static uint32_t go_mode(mode_t m)
{
	uint32_t g = m & 0777;
	if (S_ISDIR(m)) g |= 1u << 31;
	if (S_ISLNK(m)) g |= 1u << 27;
	if (S_ISFIFO(m)) g |= 1u << 25;
	if (S_ISSOCK(m)) g |= 1u << 24;
	if (S_ISCHR(m)) g |= (1u << 26) | (1u << 21);
	if (S_ISBLK(m)) g |= 1u << 26;
	if (m & S_ISUID) g |= 1u << 23;
	if (m & S_ISGID) g |= 1u << 22;
	if (m & S_ISVTX) g |= 1u << 20;
	return g;
}

static char *stat_header(const char *name, const struct stat *st, const char *link)
{
	char mtime[64];
	format_rfc3339(st->st_mtim.tv_sec, st->st_mtim.tv_nsec, mtime, sizeof(mtime));
	json_t *j = json_pack("{s:s, s:I, s:I, s:s, s:s}", "name", name, "size",
			      (json_int_t)st->st_size, "mode", (json_int_t)go_mode(st->st_mode),
			      "mtime", mtime, "linkTarget", link ? link : "");
	_cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	size_t n = strlen(text);
	char *out = xmalloc(4 * (n / 3 + 2));
	EVP_EncodeBlock((unsigned char *)out, (unsigned char *)text, (int)n);
	return out;
}

static int fd_sink(void *ctx, const void *data, size_t n, struct kerror *e)
{
	if (fs_write_all(*(int *)ctx, data, n) < 0)
		return kerror_sys(e, errno, "writing the archive");
	return 0;
}

static enum MHD_Result archive_get(struct api_req *r)
{
	const char *path = api_query(r, "path");
	bool head = !strcmp(r->method, "HEAD");
	if (!path || !*path)
		return api_reply_error(r, 400, "path is required");
	_cleanup_free_ char *dir = make_dir(r);
	if (!dir)
		return api_reply_error(r, 500, "creating a directory: %s", strerror(errno));
	const char *name = base_name(path);
	if (!strcmp(name, "/"))
		name = "";
	_cleanup_free_ char *wrap = xasprintf("%s/wrap", dir);
	_cleanup_free_ char *dest = xasprintf("%s/%s", wrap, *name ? name : "root");
	_cleanup_free_ char *src = xasprintf("%s:%s", r->params[0], path);
	mkdir(wrap, 0700);
	char *args[] = { "cp", src, dest, NULL };
	enum MHD_Result res;
	if (api_worker_simple(r, args, NULL, &res) < 0) {
		fs_rm_rf(dir, NULL);
		return res;
	}
	struct stat st;
	char link[4096] = "";
	if (lstat(dest, &st) < 0) {
		fs_rm_rf(dir, NULL);
		return api_reply_error(r, 404, "Could not find the file %s in container %s", path,
				       r->params[0]);
	}
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(dest, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
	}
	_cleanup_free_ char *hdr = stat_header(*name ? name : "/", &st, link);
	struct MHD_Response *resp = NULL;
	if (head) {
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	} else {
		_cleanup_kerror_ struct kerror e = { 0 };
		_cleanup_free_ char *tar = xasprintf("%s/out.tar", dir);
		int fd = open(tar, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || tar_diff_write(wrap, NULL, fd_sink, &fd, &e) < 0) {
			if (fd >= 0)
				close(fd);
			fs_rm_rf(dir, NULL);
			return api_reply_kerror(r, &e);
		}
		/* two zero blocks end the archive */
		static const char zeros[1024];
		off_t size = lseek(fd, 0, SEEK_END);
		if (fs_write_all(fd, zeros, sizeof(zeros)) == 0)
			size += (off_t)sizeof(zeros);
		resp = MHD_create_response_from_fd((size_t)size, fd); /* takes fd */
	}
	fs_rm_rf(dir, NULL); /* the open tar stays readable */
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "X-Docker-Container-Path-Stat", hdr);
	MHD_add_response_header(resp, "Content-Type", "application/x-tar");
	enum MHD_Result q = MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	return q;
}

static enum MHD_Result archive_put(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	const char *path = api_query(r, "path");
	if (!path || !*path)
		return api_reply_error(r, 400, "path is required");
	if (!r->body_path)
		return api_reply_error(r, 400, "a tar archive is required");
	_cleanup_free_ char *dir = make_dir(r);
	if (!dir)
		return api_reply_error(r, 500, "creating a directory: %s", strerror(errno));
	_cleanup_free_ char *root = xasprintf("%s/in", dir);
	_cleanup_close_ int rootfd = -1;
	struct tar_apply_opts to = { .whiteouts = TAR_WHITEOUT_DELETE, .ignore_chown_errors = true };
	if (mkdir(root, 0755) < 0 || (rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    tar_apply_fd(r->body_fd, rootfd, &to, NULL, &e) < 0) {
		fs_rm_rf(dir, NULL);
		if (!e.msg)
			kerror_sys(&e, errno, "unpacking the archive");
		e.code = EINVAL;
		return api_reply_kerror(r, &e);
	}
	_cleanup_free_ char *src = xasprintf("%s/.", root);
	_cleanup_free_ char *dst = xasprintf("%s:%s", r->params[0], path);
	char *args[] = { "cp", src, dst, NULL };
	enum MHD_Result res;
	int rc = api_worker_simple(r, args, NULL, &res);
	fs_rm_rf(dir, NULL);
	return rc < 0 ? res : api_reply_empty(r, 200);
}

const struct api_route api_archive_routes[] = {
	{ "GET", "/containers/{}/archive", archive_get, false },
	{ "PUT", "/containers/{}/archive", archive_put, true },
	{ NULL, NULL, NULL, false },
};
