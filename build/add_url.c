/* ADD <url>: each remote source is downloaded (registry_url_get) into a
 * directory of the build's tmp/, named after the URL path's last component,
 * mode 0600 and the server's Last-Modified time, as Docker does; the step
 * then copies from there like any source, so its content digest is in the
 * cache key (a changed file at the same URL misses).  Remote archives are
 * not extracted.  --checksum=sha256:HEX must match the download. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/engine_state.h"
#include "registry/registry.h"

#define ADD_URL_MAX (16ull << 30)

static bool is_url(const char *s)
{
	return str_has_prefix(s, "http://") || str_has_prefix(s, "https://");
}

/* The last component of the URL's path ("" when there is none). */
static char *url_name(const char *url)
{
	const char *p = strstr(url, "://") + 3;
	size_t n = strcspn(p, "?#");
	const char *path = memchr(p, '/', n);
	if (!path)
		return xstrdup("");
	const char *end = p + n, *slash = end;
	while (slash > path && slash[-1] != '/')
		slash--;
	return xstrndup(slash, (size_t)(end - slash));
}

static int check_sum(const char *want, const char *got, const char *url, struct kerror *e)
{
	if (!str_has_prefix(want, "sha256:") || strlen(want) != DIGEST_STR_LEN)
		return kerror_set(e, EINVAL, "--checksum=%s: sha256:<64 hex digits> expected", want);
	if (strcasecmp(want, got))
		return kerror_set(e, EINVAL, "checksum mismatch for %s: expected %s, got %s", url,
				  want, got);
	return 0;
}

int add_url_fetch(struct build *b, const struct plan_step *st, char **dir, char ***names,
		  struct kerror *e)
{
	size_t nurl = 0;
	*dir = NULL;
	*names = NULL;
	for (size_t i = 0; i < st->argc; i++)
		nurl += is_url(st->argv[i]);
	if (!nurl) {
		if (st->checksum)
			return kerror_set(e, EINVAL, "checksum can't be specified for non-HTTP(S) "
						     "sources");
		return 0;
	}
	if (nurl != st->argc || st->ninlines)
		return kerror_set(e, ENOTSUP, "ADD of URLs together with local sources is not "
					      "supported: use one ADD for each");
	if (st->checksum && st->argc > 1)
		return kerror_set(e, EINVAL, "--checksum needs a single source");
	_cleanup_free_ char *d = xasprintf("%s/add-XXXXXX", b->tmp.path);
	_cleanup_strv_ char **v = NULL;
	if (!mkdtemp(d))
		return kerror_sys(e, errno, "creating a download directory");
	bool into_dir = str_has_suffix(st->dest, "/") || st->argc > 1;
	for (size_t i = 0; i < st->argc; i++) {
		const char *url = st->argv[i];
		_cleanup_free_ char *name = url_name(url);
		struct url_get_info info;
		if (!name[0] || !strcmp(name, ".") || !strcmp(name, "..")) {
			if (into_dir)
				return kerror_set(e, EINVAL, "cannot determine filename from url: %s",
						  url);
			free(name);
			name = xstrdup("download");
		}
		for (size_t j = 0; v && v[j]; j++)
			if (!strcmp(v[j], name))
				return kerror_set(e, EINVAL, "%s: another source is also named \"%s\"",
						  url, name);
		_cleanup_close_ int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		_cleanup_close_ int fd = dfd < 0 ? -1 : openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL |
								   O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return kerror_sys(e, errno, "downloading \"%s\"", url);
		int r = registry_url_get(url, fd, ADD_URL_MAX, &info, e);
		if (r == 0 && st->checksum)
			r = check_sum(st->checksum, info.digest, url, e);
		if (r < 0)
			return r;
		if (fchmod(fd, 0600) < 0)
			return kerror_sys(e, errno, "downloading \"%s\"", url);
		if (info.mtime >= 0) {
			struct timespec ts[2] = { { .tv_sec = info.mtime }, { .tv_sec = info.mtime } };
			futimens(fd, ts);
		}
		strv_push(&v, steal_pointer(&name));
	}
	*dir = steal_pointer(&d);
	*names = steal_pointer(&v);
	return 0;
}
