/* run/create flags → struct run_cli (the runtime's run_flags plus what
 * only the command line uses: --detach, --rm, --name, --cidfile, --pull,
 * --pod, --sig-proxy, --rootfs). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/container.h"
#include "cli/registry_flags.h"

int cli_parse_bytes(const char *flag, const char *v, int64_t *out, struct kerror *e)
{
	char *end;
	double n = strtod(v, &end);
	int64_t mult = 1;
	if (end == v || n < 0)
		goto bad;
	switch (*end) {
	case 'b': case 'B': case '\0': break;
	case 'k': case 'K': mult = 1024; break;
	case 'm': case 'M': mult = 1024 * 1024; break;
	case 'g': case 'G': mult = 1024LL * 1024 * 1024; break;
	default: goto bad;
	}
	if (*end && end[1] && !((end[1] == 'b' || end[1] == 'B') && !end[2]))
		goto bad;
	*out = (int64_t)(n * (double)mult);
	return 0;
bad:
	return kerror_set(e, EINVAL, "invalid argument \"%s\" for \"%s\" flag", v, flag);
}

static int parse_int(const char *flag, const char *v, int64_t *out, struct kerror *e)
{
	char *end;
	long long n = strtoll(v, &end, 10);
	if (!*v || *end)
		return kerror_set(e, EINVAL, "invalid argument \"%s\" for \"%s\" flag: "
					     "strconv.ParseInt: parsing \"%s\": invalid syntax",
				  v, flag, v);
	*out = n;
	return 0;
}

/* -e KEY=VALUE, or KEY alone: the host's value if it has one. */
static void add_env(struct run_flags *f, const char *kv)
{
	if (strchr(kv, '=')) {
		strv_push(&f->env, xstrdup(kv));
		return;
	}
	const char *v = getenv(kv);
	if (v)
		strv_push(&f->env, xasprintf("%s=%s", kv, v));
}

static int env_file(struct run_flags *f, const char *path, struct kerror *e)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r = fs_read_file(path, 4 * 1024 * 1024, &data, &len, e);
	if (r < 0)
		return r;
	for (char *line = data; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		size_t l = strlen(line);
		if (l && line[l - 1] == '\r')
			line[--l] = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line && *line != '#')
			add_env(f, line);
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

static int security_opt(struct run_flags *f, const char *v, struct kerror *e)
{
	if (!strcmp(v, "seccomp=unconfined") || !strcmp(v, "seccomp:unconfined"))
		f->seccomp_unconfined = true;
	else if (!strcmp(v, "no-new-privileges") || !strcmp(v, "no-new-privileges=true") ||
		 !strcmp(v, "no-new-privileges:true"))
		f->no_new_privs = true;
	else if (!strcmp(v, "no-new-privileges=false") || str_has_prefix(v, "label=") ||
		 str_has_prefix(v, "label:") || str_has_prefix(v, "apparmor="))
		; /* no SELinux/AppArmor here: accepted and ignored, as Podman */
	else
		return kerror_set(e, EINVAL, "invalid --security-opt \"%s\"", v);
	return 0;
}

int cli_parse_duration(const char *flag, const char *v, int64_t *out, struct kerror *e)
{
	/* Go's time.ParseDuration: "1h2m3.5s", "500ms", "0"; a bare number
	 * is taken as seconds, as Podman's --health-* accept. */
	static const struct { const char *unit; double ns; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "µs", 1e3 }, { "ms", 1e6 },
		{ "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
	};
	const char *p = v;
	double total = 0;
	if (!*v)
		goto bad;
	if (!strcmp(v, "0") || !strcmp(v, "disable")) {
		*out = 0;
		return 0;
	}
	while (*p) {
		char *end;
		double n = strtod(p, &end);
		size_t best = 0;
		int u = -1;
		if (end == p || n < 0 || *p == '+' || *p == '-')
			goto bad;
		if (!*end && p == v) {
			total = n * 1e9;
			break;
		}
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			size_t l = strlen(units[i].unit);
			if (strncmp(end, units[i].unit, l) == 0 && l > best)
				best = l, u = (int)i;
		}
		if (u < 0)
			goto bad;
		total += n * units[u].ns;
		p = end + best;
	}
	if (total > 9.2e18)
		goto bad;
	*out = (int64_t)total;
	return 0;
bad:
	return kerror_set(e, EINVAL, "invalid argument \"%s\" for \"%s\" flag: time: invalid "
				     "duration \"%s\"", v, flag, v);
}

void run_cli_release(struct run_cli *o)
{
	run_flags_release(&o->f);
	free(o->name);
	free(o->cidfile);
	free(o->pull);
	free(o->pod);
	free(o->runtime);
	memset(o, 0, sizeof(*o));
}

enum {
	OPT_RM = 256, OPT_NAME, OPT_ENTRYPOINT, OPT_ENV_FILE, OPT_READ_ONLY, OPT_PRIVILEGED,
	OPT_CAP_ADD, OPT_CAP_DROP, OPT_SECURITY_OPT, OPT_NETWORK, OPT_PIDS_LIMIT, OPT_CPUS,
	OPT_STOP_SIGNAL, OPT_STOP_TIMEOUT, OPT_HOSTNAME, OPT_MOUNT, OPT_TMPFS, OPT_DNS,
	OPT_DNS_SEARCH, OPT_DNS_OPTION, OPT_ADD_HOST, OPT_SHM_SIZE, OPT_ULIMIT, OPT_GROUP_ADD,
	OPT_INIT, OPT_MEMORY_SWAP, OPT_LOG_DRIVER, OPT_LOG_OPT, OPT_ROOTFS, OPT_RESTART,
	OPT_HEALTH_CMD, OPT_HEALTH_INTERVAL, OPT_HEALTH_TIMEOUT, OPT_HEALTH_RETRIES,
	OPT_HEALTH_START, OPT_NO_HEALTHCHECK, OPT_DEVICE, OPT_CIDFILE, OPT_SIG_PROXY, OPT_PULL,
	OPT_RUNTIME, OPT_POD, OPT_IMAGE_VOLUME, OPT_USERNS, OPT_UIDMAP, OPT_GIDMAP,
	OPT_SUBUIDNAME, OPT_SUBGIDNAME, OPT_NETWORK_ALIAS, OPT_EXPOSE,
};

/* --network host|none|pasta|slirp4netns[:OPTIONS] (a mode), bridge,
 * private, default (the default: the bridge network "kiln" for root), or
 * NAME[,NAME…] (bridge networks, repeatable, joined in order). */
static int network_flag(struct run_flags *f, const char *v, struct kerror *e)
{
	static const char *const modes[] = { "host", "none", "pasta", "slirp4netns" };
	_cleanup_free_ char *copy = NULL;
	char *save = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		size_t n = strlen(modes[i]);
		/* pasta:OPTS and slirp4netns:OPTS: the options are not used. */
		if (!strncmp(v, modes[i], n) && (!v[n] || (v[n] == ':' && i >= 2))) {
			free(f->network);
			f->network = xstrdup(modes[i]);
			f->network_host = i == 0;
			strv_free(steal_pointer(&f->networks));
			return 0;
		}
	}
	if (!strcmp(v, "bridge") || !strcmp(v, "private") || !strcmp(v, "default")) {
		free(steal_pointer(&f->network)); /* the default network */
		f->network_host = false;
		strv_free(steal_pointer(&f->networks));
		return 0;
	}
	if (str_has_prefix(v, "container:") || str_has_prefix(v, "ns:"))
		return kerror_set(e, ENOTSUP, "network mode \"%s\" is not supported", v);
	copy = xstrdup(v);
	for (char *n = strtok_r(copy, ",", &save); n; n = strtok_r(NULL, ",", &save))
		strv_push(&f->networks, xstrdup(!strcmp(n, "bridge") || !strcmp(n, "default")
							 ? RUN_NET_DEFAULT : n));
	if (!f->networks)
		return kerror_set(e, EINVAL, "invalid --network \"%s\"", v);
	free(f->network);
	f->network = xstrdup("bridge");
	f->network_host = false;
	return 0;
}

static const char usage_opts[] =
	"      --add-host host:ip        Add a custom host-to-IP mapping\n"
	"      --cap-add strings         Add capabilities to the container\n"
	"      --cap-drop strings        Drop capabilities from the container\n"
	"      --cidfile string          Write the container ID to the file\n"
	"  -c, --cpu-shares int          CPU shares (relative weight)\n"
	"      --cpus float              Number of CPUs\n"
	"  -d, --detach                  Run container in background and print container ID\n"
	"      --device strings          Add a host device to the container (HOST[:CONTAINER])\n"
	"      --dns strings             Set custom DNS servers\n"
	"      --dns-option strings      Set custom DNS options\n"
	"      --dns-search strings      Set custom DNS search domains\n"
	"      --entrypoint string       Overwrite the default ENTRYPOINT of the image\n"
	"  -e, --env stringArray         Set environment variables in container\n"
	"      --env-file stringArray    Read in a file of environment variables\n"
	"      --group-add strings       Add additional groups to join\n"
	"      --health-cmd string       Command to run to check health\n"
	"      --health-interval string  Time between running the check (default 30s)\n"
	"      --health-retries int      Consecutive failures needed to report unhealthy\n"
	"      --health-start-period string  Start period for the container to initialize\n"
	"      --health-timeout string   Maximum time to allow one check to run (default 30s)\n"
	"  -h, --hostname string         Set container hostname\n"
	"      --init                    Run an init inside the container that forwards signals "
	"and reaps processes\n"
	"  -i, --interactive             Keep STDIN open even if not attached\n"
	"      --log-driver string       Logging driver (k8s-file, json-file, none)\n"
	"      --log-opt strings         Logging driver options (max-size=N)\n"
	"  -m, --memory string           Memory limit (format: <number>[<unit>])\n"
	"      --memory-swap string      Swap limit equal to memory plus swap: -1 for unlimited\n"
	"      --mount stringArray       Attach a filesystem mount (type=bind|volume|tmpfs)\n"
	"      --name string             Assign a name to the container\n"
	"      --expose strings          Expose a port or a range of ports\n"
	"      --network string          Connect a container to a network (bridge, none, host, "
	"pasta, slirp4netns, NAME)\n"
	"      --network-alias strings   Add network-scoped alias for the container\n"
	"  -p, --publish strings         Publish a container's port, or a range of ports, to "
	"the host\n"
	"  -P, --publish-all             Publish all exposed ports to random ports on the host\n"
	"      --no-healthcheck          Disable any container-specified HEALTHCHECK\n"
	"      --pids-limit int          Tune container pids limit (set -1 for unlimited)\n"
	"      --pod string              Run container in an existing pod (new:NAME creates it)\n"
	"      --privileged              Give extended privileges to container\n"
	"      --pull string             Pull image policy: always, missing, never "
	"(default \"missing\")\n"
	"      --read-only               Make container root filesystem read-only\n"
	"      --restart string          Restart policy (no, always, on-failure[:N], "
	"unless-stopped)\n"
	"      --rm                      Remove container when it exits\n"
	"      --rootfs                  The first argument is a root filesystem, not an image\n"
	"      --runtime string          The OCI runtime: kiln (default), runc, crun or a path\n"
	"      --security-opt strings    Security options (seccomp=unconfined, "
	"no-new-privileges)\n"
	"      --shm-size string         Size of /dev/shm (default 64m)\n"
	"      --sig-proxy               Proxy received signals to the process (default true)\n"
	"      --stop-signal string      Signal to stop a container\n"
	"      --stop-timeout int        Timeout (in seconds) to stop a container\n"
	"  -t, --tty                     Allocate a pseudo-TTY for container\n"
	"      --tmpfs stringArray       Mount a temporary filesystem (tmpfs)\n"
	"      --ulimit strings          Ulimit options (name=soft[:hard])\n"
	"  -u, --user string             Username or UID (format: <name|uid>[:<group|gid>])\n"
	"      --userns string           User namespace (host, keep-id[:uid=,gid=], "
	"auto[:size=], nomap)\n"
	"      --uidmap stringArray      UID map for the user namespace (CTR:HOST:LEN)\n"
	"      --gidmap stringArray      GID map for the user namespace (CTR:HOST:LEN)\n"
	"      --subuidname string       Name of the range in /etc/subuid to map\n"
	"      --subgidname string       Name of the range in /etc/subgid to map\n"
	"  -v, --volume stringArray      Bind mount a volume (SRC|NAME:DST[:ro,z], or DST)\n"
	"  -w, --workdir string          Working directory inside the container\n"
	SIGN_PULL_HELP
	REGISTRY_OPTIONS_HELP;

/* "a,b" → pushes a and b (Docker's string-slice flags). */
static void push_split(char ***v, const char *s)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		strv_push(v, xstrdup(t));
}

/* --device HOST[:CONTAINER[:PERMS]]: a bind mount of the node. */
static int device_flag(struct run_flags *f, const char *v, struct kerror *e)
{
	_cleanup_free_ char *copy = xstrdup(v);
	char *host = copy, *ctr = strchr(copy, ':'), *perms = NULL;
	struct stat st;
	if (ctr) {
		*ctr++ = '\0';
		perms = strchr(ctr, ':');
		if (perms)
			*perms++ = '\0';
		if (!*ctr || strspn(ctr, "rwm") == strlen(ctr)) {
			perms = ctr;
			ctr = NULL;
		}
	}
	if (host[0] != '/' || (ctr && ctr[0] != '/') || strchr(v, ','))
		return kerror_set(e, EINVAL, "invalid device \"%s\": paths must be absolute", v);
	if (stat(host, &st) < 0)
		return kerror_sys(e, errno, "stat %s", host);
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		return kerror_set(e, EINVAL, "%s is not a device node", host);
	strv_push(&f->mounts, xasprintf("type=bind,source=%s,target=%s%s", host, ctr ? ctr : host,
					 perms && !strchr(perms, 'w') ? ",ro" : ""));
	return 0;
}

static int log_opt(struct run_flags *f, const char *v, struct kerror *e)
{
	if (str_has_prefix(v, "max-size="))
		return cli_parse_bytes("--log-opt max-size", v + 9, &f->log_max_size, e);
	if (str_has_prefix(v, "path=") || str_has_prefix(v, "tag=") ||
	    str_has_prefix(v, "max-file="))
		return 0; /* accepted, as Podman, without effect here */
	return kerror_set(e, EINVAL, "invalid log option \"%s\"", v);
}

static void health_cmd(struct run_flags *f, const char *v)
{
	strv_free(f->health_test);
	f->health_test = NULL;
	if (!strcmp(v, "none")) {
		f->no_healthcheck = true;
		return;
	}
	json_error_t je;
	json_t *j = v[0] == '[' ? json_loads(v, 0, &je) : NULL;
	if (json_is_array(j)) {
		/* ["CMD", "a", "b"] or ["a", "b"] (Podman's exec form) */
		char **a = json_strv(j);
		if (a && a[0] && strcmp(a[0], "CMD") && strcmp(a[0], "CMD-SHELL")) {
			strv_push(&f->health_test, xstrdup("CMD"));
			for (size_t i = 0; a[i]; i++)
				strv_push(&f->health_test, xstrdup(a[i]));
			strv_free(a);
		} else {
			f->health_test = a;
		}
	} else {
		strv_push(&f->health_test, xstrdup("CMD-SHELL"));
		strv_push(&f->health_test, xstrdup(v));
	}
	json_decref(j);
}

int run_cli_parse(int argc, char **argv, bool is_run, struct run_cli *o, struct kerror *e)
{
	static const struct option opts[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "tty", no_argument, NULL, 't' },
		{ "rm", no_argument, NULL, OPT_RM },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "hostname", required_argument, NULL, 'h' },
		{ "env", required_argument, NULL, 'e' },
		{ "env-file", required_argument, NULL, OPT_ENV_FILE },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
		{ "read-only", no_argument, NULL, OPT_READ_ONLY },
		{ "privileged", no_argument, NULL, OPT_PRIVILEGED },
		{ "cap-add", required_argument, NULL, OPT_CAP_ADD },
		{ "cap-drop", required_argument, NULL, OPT_CAP_DROP },
		{ "security-opt", required_argument, NULL, OPT_SECURITY_OPT },
		{ "network", required_argument, NULL, OPT_NETWORK },
		{ "publish", required_argument, NULL, 'p' },
		{ "net", required_argument, NULL, OPT_NETWORK },
		{ "network-alias", required_argument, NULL, OPT_NETWORK_ALIAS },
		{ "net-alias", required_argument, NULL, OPT_NETWORK_ALIAS },
		{ "publish-all", no_argument, NULL, 'P' },
		{ "expose", required_argument, NULL, OPT_EXPOSE },
		{ "memory", required_argument, NULL, 'm' },
		{ "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "cpu-shares", required_argument, NULL, 'c' },
		{ "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
		{ "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
		{ "volume", required_argument, NULL, 'v' },
		{ "mount", required_argument, NULL, OPT_MOUNT },
		{ "tmpfs", required_argument, NULL, OPT_TMPFS },
		{ "dns", required_argument, NULL, OPT_DNS },
		{ "dns-search", required_argument, NULL, OPT_DNS_SEARCH },
		{ "dns-option", required_argument, NULL, OPT_DNS_OPTION },
		{ "dns-opt", required_argument, NULL, OPT_DNS_OPTION },
		{ "add-host", required_argument, NULL, OPT_ADD_HOST },
		{ "shm-size", required_argument, NULL, OPT_SHM_SIZE },
		{ "ulimit", required_argument, NULL, OPT_ULIMIT },
		{ "group-add", required_argument, NULL, OPT_GROUP_ADD },
		{ "init", no_argument, NULL, OPT_INIT },
		{ "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
		{ "log-driver", required_argument, NULL, OPT_LOG_DRIVER },
		{ "log-opt", required_argument, NULL, OPT_LOG_OPT },
		{ "rootfs", no_argument, NULL, OPT_ROOTFS },
		{ "restart", required_argument, NULL, OPT_RESTART },
		{ "health-cmd", required_argument, NULL, OPT_HEALTH_CMD },
		{ "health-interval", required_argument, NULL, OPT_HEALTH_INTERVAL },
		{ "health-timeout", required_argument, NULL, OPT_HEALTH_TIMEOUT },
		{ "health-retries", required_argument, NULL, OPT_HEALTH_RETRIES },
		{ "health-start-period", required_argument, NULL, OPT_HEALTH_START },
		{ "no-healthcheck", no_argument, NULL, OPT_NO_HEALTHCHECK },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "cidfile", required_argument, NULL, OPT_CIDFILE },
		{ "sig-proxy", optional_argument, NULL, OPT_SIG_PROXY },
		{ "pull", required_argument, NULL, OPT_PULL },
		{ "runtime", required_argument, NULL, OPT_RUNTIME },
		{ "pod", required_argument, NULL, OPT_POD },
		{ "userns", required_argument, NULL, OPT_USERNS },
		{ "uidmap", required_argument, NULL, OPT_UIDMAP },
		{ "gidmap", required_argument, NULL, OPT_GIDMAP },
		{ "subuidname", required_argument, NULL, OPT_SUBUIDNAME },
		{ "subgidname", required_argument, NULL, OPT_SUBGIDNAME },
		{ "help", no_argument, NULL, 'H' },
		REGISTRY_LONGOPTS,
		SIGN_PULL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct run_flags *f = &o->f;
	int opt, r;
	int64_t v = 0;
	char *m = NULL;

	f->stop_timeout = -1;
	o->sig_proxy = true;
	o->po = (struct pull_opts){ .reg = REGISTRY_OPTS_INIT };
	while ((opt = cli_getopt(argc, argv, "+ditw:u:e:h:m:c:v:p:P", opts, e)) != -1) {
		r = registry_flag(opt, optarg, &o->po.reg, e);
		if (r < 0)
			return r;
		if (r > 0 || sign_flag(opt, optarg, &o->po, NULL))
			continue;
		switch (opt) {
		case 'd': o->detach = true; break;
		case 'i': f->interactive = true; break;
		case 't': f->tty = true; break;
		case OPT_RM: o->rm = true; break;
		case OPT_NAME: free(o->name); o->name = xstrdup(optarg); break;
		case 'h': free(f->hostname); f->hostname = xstrdup(optarg); break;
		case 'e': add_env(f, optarg); break;
		case OPT_ENV_FILE:
			if ((r = env_file(f, optarg, e)) < 0)
				return r;
			break;
		case 'w': free(f->workdir); f->workdir = xstrdup(optarg); break;
		case 'u': free(f->user); f->user = xstrdup(optarg); break;
		case OPT_ENTRYPOINT:
			free(f->entrypoint);
			f->entrypoint = xstrdup(optarg);
			f->entrypoint_set = true;
			break;
		case OPT_READ_ONLY: f->read_only = true; break;
		case OPT_PRIVILEGED: f->privileged = true; break;
		case OPT_CAP_ADD: push_split(&f->cap_add, optarg); break;
		case OPT_CAP_DROP: push_split(&f->cap_drop, optarg); break;
		case OPT_SECURITY_OPT:
			if ((r = security_opt(f, optarg, e)) < 0)
				return r;
			break;
		case OPT_NETWORK:
			if ((r = network_flag(f, optarg, e)) < 0)
				return r;
			break;
		case OPT_NETWORK_ALIAS:
			strv_push(&f->net_aliases, xstrdup(optarg));
			break;
		case 'p': strv_push(&f->publish, xstrdup(optarg)); break;
		case 'P': f->publish_all = true; break;
		case OPT_EXPOSE:
			if ((r = run_port_from_expose(optarg, &m, e)) < 0)
				return r;
			strv_push(&f->expose, m);
			break;
		case 'm':
			if ((r = cli_parse_bytes("--memory", optarg, &f->memory, e)) < 0)
				return r;
			if (f->memory > 0 && f->memory < 6 * 1024 * 1024)
				return kerror_set(e, EINVAL, "minimum memory limit allowed is 6MB");
			break;
		case OPT_MEMORY_SWAP:
			if (!strcmp(optarg, "-1"))
				f->memory_swap = -1;
			else if ((r = cli_parse_bytes("--memory-swap", optarg, &f->memory_swap,
						      e)) < 0)
				return r;
			break;
		case OPT_PIDS_LIMIT:
			if ((r = parse_int("--pids-limit", optarg, &v, e)) < 0)
				return r;
			f->pids_limit = v <= 0 ? -1 : v;
			break;
		case OPT_CPUS: {
			char *end;
			double cpus = strtod(optarg, &end);
			if (end == optarg || *end || cpus < 0 || cpus > 1024)
				return kerror_set(e, EINVAL, "invalid argument \"%s\" for "
							     "\"--cpus\" flag", optarg);
			f->cpu_quota = (int64_t)(cpus * 100000);
			break;
		}
		case 'c':
			if ((r = parse_int("--cpu-shares", optarg, &f->cpu_shares, e)) < 0)
				return r;
			break;
		case OPT_STOP_SIGNAL:
			if (run_signal_parse(optarg) < 0)
				return kerror_set(e, EINVAL, "invalid signal: %s", optarg);
			free(f->stop_signal);
			f->stop_signal = xstrdup(optarg);
			break;
		case OPT_STOP_TIMEOUT:
			if ((r = parse_int("--stop-timeout", optarg, &v, e)) < 0)
				return r;
			f->stop_timeout = v < 0 ? 0 : (int)v;
			break;
		case 'v':
		case OPT_MOUNT:
		case OPT_TMPFS:
			r = opt == 'v'	     ? run_mount_from_volume(optarg, &m, e)
			    : opt == OPT_MOUNT ? run_mount_from_mount(optarg, &m, e)
					       : run_mount_from_tmpfs(optarg, &m, e);
			if (r < 0)
				return r;
			strv_push(&f->mounts, m);
			break;
		case OPT_DNS: {
			_cleanup_strv_ char **ips = NULL;
			push_split(&ips, optarg);
			for (size_t i = 0; ips && ips[i]; i++) {
				if ((r = run_dns_server_check(ips[i], e)) < 0)
					return r;
				strv_push(&f->dns, xstrdup(ips[i]));
			}
			break;
		}
		case OPT_DNS_SEARCH: push_split(&f->dns_search, optarg); break;
		case OPT_DNS_OPTION: push_split(&f->dns_options, optarg); break;
		case OPT_ADD_HOST:
			if ((r = run_add_host_parse(optarg, &m, e)) < 0)
				return r;
			strv_push(&f->add_hosts, m);
			break;
		case OPT_SHM_SIZE:
			if ((r = cli_parse_bytes("--shm-size", optarg, &f->shm_size, e)) < 0)
				return r;
			break;
		case OPT_ULIMIT:
			if (!strcmp(optarg, "host"))
				break; /* the host's limits: what kiln inherits anyway */
			if ((r = run_ulimit_parse(optarg, &m, e)) < 0)
				return r;
			strv_push(&f->ulimits, m);
			break;
		case OPT_GROUP_ADD: push_split(&f->group_add, optarg); break;
		case OPT_INIT: f->init = true; break;
		case OPT_LOG_DRIVER:
			if (strcmp(optarg, "k8s-file") && strcmp(optarg, "json-file") &&
			    strcmp(optarg, "none"))
				return kerror_set(e, EINVAL, "invalid log driver \"%s\" (k8s-file, "
							     "json-file, none)", optarg);
			free(f->log_driver);
			f->log_driver = xstrdup(optarg);
			break;
		case OPT_LOG_OPT:
			if ((r = log_opt(f, optarg, e)) < 0)
				return r;
			break;
		case OPT_ROOTFS: o->rootfs = true; break;
		case OPT_RESTART: {
			_cleanup_free_ char *pol = NULL;
			int max;
			if ((r = run_restart_parse(optarg, &pol, &max, e)) < 0)
				return r;
			free(f->restart);
			f->restart = xstrdup(optarg);
			break;
		}
		case OPT_HEALTH_CMD: health_cmd(f, optarg); break;
		case OPT_HEALTH_INTERVAL:
		case OPT_HEALTH_TIMEOUT:
		case OPT_HEALTH_START: {
			int64_t *dst = opt == OPT_HEALTH_INTERVAL  ? &f->health_interval
				       : opt == OPT_HEALTH_TIMEOUT ? &f->health_timeout
								   : &f->health_start_period;
			if ((r = cli_parse_duration(opt == OPT_HEALTH_INTERVAL ? "--health-interval"
						    : opt == OPT_HEALTH_TIMEOUT ? "--health-timeout"
						    : "--health-start-period",
						    optarg, dst, e)) < 0)
				return r;
			break;
		}
		case OPT_HEALTH_RETRIES:
			if ((r = parse_int("--health-retries", optarg, &v, e)) < 0)
				return r;
			if (v < 1 || v > 1000000)
				return kerror_set(e, EINVAL, "healthcheck-retries must be greater "
							     "than 0");
			f->health_retries = (int)v;
			break;
		case OPT_NO_HEALTHCHECK: f->no_healthcheck = true; break;
		case OPT_DEVICE:
			if ((r = device_flag(f, optarg, e)) < 0)
				return r;
			break;
		case OPT_CIDFILE: free(o->cidfile); o->cidfile = xstrdup(optarg); break;
		case OPT_SIG_PROXY:
			if ((r = cli_parse_bool("--sig-proxy", optarg, &o->sig_proxy, e)) < 0)
				return r;
			break;
		case OPT_PULL: {
			const char *p = optarg;
			if (!strcmp(p, "true"))
				p = "always";
			else if (!strcmp(p, "false"))
				p = "missing";
			else if (!strcmp(p, "ifnewer") || !strcmp(p, "newer"))
				p = "always";
			if (strcmp(p, "always") && strcmp(p, "missing") && strcmp(p, "never"))
				return kerror_set(e, EINVAL, "invalid pull policy \"%s\" (always, "
							     "missing, never)", optarg);
			free(o->pull);
			o->pull = xstrdup(p);
			break;
		}
		case OPT_RUNTIME:
			free(o->runtime);
			o->runtime = xstrdup(optarg);
			break;
		case OPT_POD: free(o->pod); o->pod = xstrdup(optarg); break;
		case OPT_USERNS: free(f->userns); f->userns = xstrdup(optarg); break;
		case OPT_UIDMAP: strv_push(&f->uidmap, xstrdup(optarg)); break;
		case OPT_GIDMAP: strv_push(&f->gidmap, xstrdup(optarg)); break;
		case OPT_SUBUIDNAME: free(f->subuidname); f->subuidname = xstrdup(optarg); break;
		case OPT_SUBGIDNAME: free(f->subgidname); f->subgidname = xstrdup(optarg); break;
		case 'H':
			cli_usage(is_run ? "kiln run [options] IMAGE [COMMAND [ARG...]]"
					 : "kiln create [options] IMAGE [COMMAND [ARG...]]",
				  usage_opts);
			return 1;
		default: return -EINVAL;
		}
	}
	if (optind >= argc)
		return kerror_set(e, EINVAL, "\"kiln %s\" requires at least 1 argument",
				  is_run ? "run" : "create");
	if (o->runtime && strcmp(o->runtime, "kiln") && strcmp(o->runtime, "builtin")) {
		/* an external OCI runtime (run/oci_runtime.c) */
		_cleanup_free_ char *path = NULL;
		if ((r = run_oci_runtime_path(o->runtime, &path, e)) < 0)
			return r;
		free(f->runtime);
		f->runtime = xstrdup(o->runtime);
	}
	if (o->rm && f->restart && strcmp(f->restart, "no") != 0)
		return kerror_set(e, EINVAL, "the --rm option conflicts with --restart, when the "
					     "restartPolicy is not \"no\"");
	if ((f->dns || f->dns_search || f->dns_options) && f->network &&
	    !strcmp(f->network, "none"))
		return kerror_set(e, EINVAL, "conflicting options: dns and the network mode");
	o->image_at = optind;
	for (int i = optind + 1; i < argc; i++)
		strv_push(&f->cmd, xstrdup(argv[i]));
	return 0;
}
