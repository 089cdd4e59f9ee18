/* Host-wide address claims.  Each store keeps its own allocations, but the
 * default bridge (and a bridge's subnet) is the host's: two stores (a
 * user's and a test's, say) running containers on kiln0 at once must not
 * hand out the same address.  A claim is a file /run/kiln-ipam/BRIDGE/IP
 * naming the container and its init (pid and start time); a claim whose
 * process is gone is stale and taken over, so a store deleted without
 * clean-up blocks nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/net_private.h"

#define CLAIM_DIR "/run/kiln-ipam"

static unsigned long long start_time(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long t = 0;
	ssize_t n;
	int fd;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* Field 22, counted after the command name's closing parenthesis
	 * (the name itself may hold spaces and parentheses). */
	char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
				"%*d %*d %*d %*d %llu", &t) != 1)
		return 0;
	return t;
}

static char *claim_path(const char *bridge, uint32_t ip)
{
	char s[16];
	return xasprintf(CLAIM_DIR "/%s/%s", bridge, net_ip_str(ip, s));
}

/* The claim's owner id, and whether its process still lives. */
static bool claim_read(const char *path, char id[DIGEST_HEX_LEN + 1], bool *live)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int pid = 0;
	unsigned long long t = 0;
	*live = false;
	if (fs_read_file(path, 256, &data, &len, NULL) < 0)
		return false;
	if (sscanf(data, "%64s %d %llu", id, &pid, &t) != 3)
		return true; /* unreadable: stale */
	*live = pid > 0 && t && start_time(pid) == t;
	return true;
}

int net_claim(const char *bridge, uint32_t ip, const char *id, pid_t pid)
{
	_cleanup_free_ char *dir = xasprintf(CLAIM_DIR "/%s", bridge);
	_cleanup_free_ char *path = claim_path(bridge, ip);
	_cleanup_free_ char *tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
	_cleanup_free_ char *data = xasprintf("%s %d %llu\n", id, (int)pid, start_time(pid));
	char owner[DIGEST_HEX_LEN + 1] = "";
	_cleanup_close_ int fd = -1;
	bool live;
	int r = 0;

	if (fs_mkdir_p(dir, 0700, NULL) < 0)
		return 0; /* no /run: claims are a safety net, not a requirement */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fs_write_all(fd, data, strlen(data)) < 0) {
		unlink(tmp);
		return 0;
	}
	/* link() creates the claim only where none exists. */
	if (link(tmp, path) == 0)
		goto out;
	if (errno != EEXIST)
		goto out;
	if (claim_read(path, owner, &live) && live && strcmp(owner, id)) {
		r = -EADDRINUSE;
		goto out;
	}
	rename(tmp, path); /* stale or ours: take it over */
out:
	unlink(tmp);
	return r;
}

void net_unclaim(const char *bridge, uint32_t ip, const char *id)
{
	_cleanup_free_ char *path = claim_path(bridge, ip);
	char owner[DIGEST_HEX_LEN + 1] = "";
	bool live;
	if (claim_read(path, owner, &live) && (!strcmp(owner, id) || !live))
		unlink(path);
}
