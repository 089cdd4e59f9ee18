/* The HTTP side of `kiln system service`: the listening socket, the
 * libmicrohttpd daemon (a thread per connection: streams and hijacked
 * connections may block), request bodies, routing, the idle timeout. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "api/api_private.h"

const char *api_mhd_load_error(void);

/* A JSON body larger than this is refused (413); spooled ones (build
 * contexts, image archives, archive uploads) may reach SPOOL_MAX. */
#define BODY_MAX (4u << 20)
#define SPOOL_MAX (16ull << 30)

char *api_default_uri(const char *runroot)
{
	return xasprintf("unix://%s/kiln.sock", runroot);
}

static const struct api_route *const route_tables[] = {
	api_system_routes, api_image_routes, api_container_routes, api_volume_routes,
	api_network_routes, api_exec_routes, api_archive_routes,
};

/* Matches path against pattern, filling params: "{}" is one segment,
 * "{*}" one or more (image names have slashes), the rest literal. */
static bool match(const char *pattern, const char *path, char *params[API_MAX_PARAMS])
{
	int np = 0;
	const char *p = pattern, *s = path;
	while (*p) {
		if (str_has_prefix(p, "{*}")) {
			const char *rest = p + 3; /* literal suffix, e.g. "/json" or "" */
			size_t rl = strlen(rest), sl = strlen(s);
			if (strchr(rest, '{') || sl <= rl || strcmp(s + sl - rl, rest) != 0)
				return false;
			params[np++] = xstrndup(s, sl - rl);
			return true;
		}
		if (str_has_prefix(p, "{}")) {
			size_t n = strcspn(s, "/");
			if (n == 0 || np >= API_MAX_PARAMS)
				return false;
			params[np++] = xstrndup(s, n);
			s += n;
			p += 2;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *s == '\0';
}

static void req_free(struct api_req *r)
{
	for (int i = 0; i < API_MAX_PARAMS; i++)
		free(r->params[i]);
	free(r->path);
	buf_release(&r->body);
	if (r->body_fd >= 0)
		close(r->body_fd);
	if (r->body_path) {
		unlink(r->body_path);
		free(r->body_path);
	}
	free(r);
}

/* "/v1.41/x" → "/x"; anything else unchanged. */
static const char *strip_version(const char *url)
{
	if (url[0] == '/' && url[1] == 'v' && url[2] >= '0' && url[2] <= '9') {
		const char *q = url + 2;
		while ((*q >= '0' && *q <= '9') || *q == '.')
			q++;
		if (*q == '/' || *q == '\0')
			return *q ? q : "/";
	}
	return url;
}

static void route(struct api_req *r)
{
	bool head = strcmp(r->method, "HEAD") == 0;
	for (size_t t = 0; t < ARRAY_SIZE(route_tables); t++)
		for (const struct api_route *rt = route_tables[t]; rt->pattern; rt++) {
			char *params[API_MAX_PARAMS] = { 0 };
			if (strcmp(rt->method, r->method) != 0 &&
			    !(head && strcmp(rt->method, "GET") == 0))
				continue;
			if (match(rt->pattern, r->path, params)) {
				memcpy(r->params, params, sizeof(params));
				r->route = rt;
				return;
			}
			for (int i = 0; i < API_MAX_PARAMS; i++)
				free(params[i]);
		}
}

static int spool_open(struct api_req *r)
{
	r->body_path = xasprintf("%s/body-XXXXXX", r->srv->tmpdir);
	r->body_fd = mkostemp(r->body_path, O_CLOEXEC);
	if (r->body_fd < 0) {
		free(r->body_path);
		r->body_path = NULL;
		return -errno;
	}
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **req_cls)
{
	struct api_server *srv = cls;
	struct api_req *r = *req_cls;
	(void)version;
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		r->srv = srv;
		r->conn = conn;
		r->method = method;
		r->body_fd = -1;
		r->path = xstrdup(strip_version(url));
		/* a trailing slash is the same resource */
		size_t l = strlen(r->path);
		if (l > 1 && r->path[l - 1] == '/')
			r->path[l - 1] = '\0';
		route(r);
		log_debug("api: %s %s%s", method, url, r->route ? "" : " (no route)");
		*req_cls = r;
		atomic_fetch_add(&srv->busy, 1);
		atomic_store(&srv->last_active, api_now_mono());
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (r->too_big)
			return MHD_YES;
		r->body_len += n;
		if (r->route && r->route->spool) {
			if (r->body_len > SPOOL_MAX ||
			    (r->body_fd < 0 && spool_open(r) < 0) ||
			    fs_write_all(r->body_fd, upload, n) < 0)
				r->too_big = true;
		} else if (r->body_len > BODY_MAX) {
			r->too_big = true;
			buf_release(&r->body);
		} else {
			buf_append(&r->body, upload, n);
		}
		return MHD_YES;
	}
	if (!r->route)
		return api_reply_error(r, 404, "page not found");
	if (r->too_big)
		return api_reply_error(r, 413, "request body too large");
	if (r->body_fd >= 0 && lseek(r->body_fd, 0, SEEK_SET) < 0)
		return api_reply_error(r, 500, "rewinding the request body: %s", strerror(errno));
	return r->route->fn(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct api_server *srv = cls;
	(void)conn;
	(void)toe;
	if (*req_cls) {
		req_free(*req_cls);
		*req_cls = NULL;
		atomic_fetch_sub(&srv->busy, 1);
		atomic_store(&srv->last_active, api_now_mono());
	}
}

static int listen_unix(const char *path, struct kerror *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int r;
	if (strlen(path) >= sizeof(sa.sun_path))
		return kerror_set(e, ENAMETOOLONG, "socket path \"%s\" is too long", path);
	if (slash && slash != dir) {
		*slash = '\0';
		if ((r = fs_mkdir_p(dir, 0700, e)) < 0)
			return r;
	}
	strcpy(sa.sun_path, path);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kerror_sys(e, errno, "creating a unix socket");
	/* A socket file left by a service that died: nobody answers on it. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return kerror_set(e, EADDRINUSE, "\"%s\" is in use by another service", path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return kerror_sys(e, errno, "binding \"%s\"", path);
	chmod(path, 0660);
	if (listen(fd, 256) < 0)
		return kerror_sys(e, errno, "listening on \"%s\"", path);
	return steal_fd(&fd);
}

static int listen_tcp(const char *hostport, struct kerror *e)
{
	_cleanup_free_ char *host = xstrdup(hostport);
	char *colon = strrchr(host, ':'), *end;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1;
	if (!colon)
		return kerror_set(e, EINVAL, "tcp URI \"%s\" lacks a port", hostport);
	*colon = '\0';
	long port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return kerror_set(e, EINVAL, "invalid port in \"%s\"", hostport);
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, *host ? (strcmp(host, "localhost") ? host : "127.0.0.1")
				     : "127.0.0.1", &sa.sin_addr) != 1)
		return kerror_set(e, EINVAL, "invalid IPv4 address in \"%s\"", hostport);
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kerror_sys(e, errno, "creating a tcp socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return kerror_sys(e, errno, "binding %s", hostport);
	if (listen(fd, 256) < 0)
		return kerror_sys(e, errno, "listening on %s", hostport);
	return steal_fd(&fd);
}

int api_serve(const struct api_opts *o, struct kerror *e)
{
	struct api_server srv = { .o = o };
	const char *unix_path = NULL;
	int fd, r;
	sigset_t set, old;

	if (str_has_prefix(o->uri, "unix://")) {
		unix_path = o->uri + 7;
		fd = listen_unix(unix_path, e);
	} else if (str_has_prefix(o->uri, "tcp://")) {
		fd = listen_tcp(o->uri + 6, e);
	} else {
		return kerror_set(e, EINVAL, "unsupported URI \"%s\" (unix:// or tcp://)", o->uri);
	}
	if (fd < 0)
		return kerror_wrap(e, "serving the API");

	/* Not <root>/tmp: store_open empties it of what no live op owns. */
	srv.tmpdir = xasprintf("%s/api-tmp", o->store.root);
	if ((r = fs_mkdir_p(srv.tmpdir, 0700, e)) < 0)
		goto out;
	atomic_store(&srv.last_active, api_now_mono());

	/* The daemon's threads inherit this mask: only this thread takes the
	 * signals that stop the service.  A vanished client must not kill it. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);

	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			MHD_USE_POLL | MHD_ALLOW_UPGRADE,
		0, NULL, NULL, on_request, &srv,
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, &srv,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0,
		MHD_OPTION_END);
	if (!d) {
		r = *api_mhd_load_error() ? kerror_set(e, ENOSYS, "%s", api_mhd_load_error())
					  : kerror_set(e, EIO, "starting the HTTP server failed");
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		goto out;
	}
	for (;;) {
		struct timespec ts = { 1, 0 };
		int sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		bool quiet = atomic_load(&srv.busy) == 0;
		int64_t idle = api_now_mono() - atomic_load(&srv.last_active);
		if (o->idle_timeout > 0 && quiet && idle >= o->idle_timeout)
			break;
		if (quiet && idle >= 1)
			api_store_trim();
	}
	/* Requests in flight get a moment; a stream that would outlive it
	 * (logs -f, attach, wait on a running container) is abandoned rather
	 * than waited for: MHD_stop_daemon joins every connection thread, and
	 * the process exits right after this returns. */
	for (int i = 0; i < 20 && atomic_load(&srv.busy) > 0; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&srv.busy) == 0) {
		MHD_stop_daemon(d);
		api_store_trim();
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	r = 0;
out:
	close(fd);
	if (unix_path)
		unlink(unix_path);
	free(srv.tmpdir);
	return r;
}
