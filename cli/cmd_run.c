/* kiln run / kiln create: flags → plan → container row → monitor. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cli/container.h"

static const char *const adjectives[] = {
	"brave", "calm", "eager", "fervent", "gentle", "happy", "jolly", "keen", "lucid",
	"merry", "nifty", "quirky", "serene", "sharp", "tender", "vibrant", "wizardly", "zen",
};
static const char *const nouns[] = {
	"archimedes", "babbage", "curie", "darwin", "euler", "faraday", "gauss", "hopper",
	"kepler", "lovelace", "newton", "noether", "pascal", "ritchie", "tesla", "turing",
};

static void random_bytes(void *buf, size_t n)
{
	if (getrandom(buf, n, 0) != (ssize_t)n) {
		/* getrandom does not fail for small sizes once seeded */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(buf, &ts, n < sizeof(ts) ? n : sizeof(ts));
	}
}

static void new_id(char id[DIGEST_HEX_LEN + 1])
{
	unsigned char b[32];
	random_bytes(b, sizeof(b));
	for (size_t i = 0; i < 32; i++)
		snprintf(id + 2 * i, 3, "%02x", b[i]);
}

static char *random_name(void)
{
	unsigned r[2];
	random_bytes(r, sizeof(r));
	return xasprintf("%s_%s", adjectives[r[0] % ARRAY_SIZE(adjectives)],
			 nouns[r[1] % ARRAY_SIZE(nouns)]);
}

static int parse_bytes(const char *flag, const char *v, int64_t *out, struct kerror *e)
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

enum {
	OPT_RM = 256, OPT_NAME, OPT_ENTRYPOINT, OPT_ENV_FILE, OPT_READ_ONLY, OPT_PRIVILEGED,
	OPT_CAP_ADD, OPT_CAP_DROP, OPT_SECURITY_OPT, OPT_NETWORK, OPT_PIDS_LIMIT, OPT_CPUS,
	OPT_STOP_SIGNAL, OPT_STOP_TIMEOUT, OPT_HOSTNAME, OPT_MOUNT, OPT_TMPFS,
};

static const char usage_opts[] =
	"      --cap-add strings         Add capabilities to the container\n"
	"      --cap-drop strings        Drop capabilities from the container\n"
	"  -c, --cpu-shares int          CPU shares (relative weight)\n"
	"      --cpus float              Number of CPUs\n"
	"  -d, --detach                  Run container in background and print container ID\n"
	"      --entrypoint string       Overwrite the default ENTRYPOINT of the image\n"
	"  -e, --env stringArray         Set environment variables in container\n"
	"      --env-file stringArray    Read in a file of environment variables\n"
	"  -h, --hostname string         Set container hostname\n"
	"  -i, --interactive             Keep STDIN open even if not attached\n"
	"  -m, --memory string           Memory limit (format: <number>[<unit>])\n"
	"      --mount stringArray       Attach a filesystem mount (type=bind|volume|tmpfs)\n"
	"      --name string             Assign a name to the container\n"
	"      --network string          Connect a container to a network (none, host)\n"
	"      --pids-limit int          Tune container pids limit (set -1 for unlimited)\n"
	"      --privileged              Give extended privileges to container\n"
	"      --read-only               Make container root filesystem read-only\n"
	"      --rm                      Remove container when it exits\n"
	"      --security-opt strings    Security options (seccomp=unconfined, "
	"no-new-privileges)\n"
	"      --stop-signal string      Signal to stop a container\n"
	"      --stop-timeout int        Timeout (in seconds) to stop a container\n"
	"  -t, --tty                     Allocate a pseudo-TTY for container\n"
	"      --tmpfs stringArray       Mount a temporary filesystem (tmpfs)\n"
	"  -u, --user string             Username or UID (format: <name|uid>[:<group|gid>])\n"
	"  -v, --volume stringArray      Bind mount a volume (SRC|NAME:DST[:ro,z], or DST)\n"
	"  -w, --workdir string          Working directory inside the container\n";

/* Parses run/create flags up to IMAGE; *image_at gets IMAGE's index. */
static int parse_flags(int argc, char **argv, bool is_run, struct run_flags *f, bool *detach,
		       bool *rm, char **name, int *image_at, struct kerror *e)
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
		{ "net", required_argument, NULL, OPT_NETWORK },
		{ "memory", required_argument, NULL, 'm' },
		{ "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "cpu-shares", required_argument, NULL, 'c' },
		{ "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
		{ "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
		{ "volume", required_argument, NULL, 'v' },
		{ "mount", required_argument, NULL, OPT_MOUNT },
		{ "tmpfs", required_argument, NULL, OPT_TMPFS },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, r;
	int64_t v = 0;
	char *m = NULL;

	f->stop_timeout = -1;
	while ((opt = cli_getopt(argc, argv, "+ditw:u:e:h:m:c:v:", opts, e)) != -1) {
		switch (opt) {
		case 'd': *detach = true; break;
		case 'i': f->interactive = true; break;
		case 't': f->tty = true; break;
		case OPT_RM: *rm = true; break;
		case OPT_NAME: free(*name); *name = xstrdup(optarg); break;
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
		case OPT_CAP_ADD: strv_push(&f->cap_add, xstrdup(optarg)); break;
		case OPT_CAP_DROP: strv_push(&f->cap_drop, xstrdup(optarg)); break;
		case OPT_SECURITY_OPT:
			if ((r = security_opt(f, optarg, e)) < 0)
				return r;
			break;
		case OPT_NETWORK:
			if (!strcmp(optarg, "host"))
				f->network_host = true;
			else if (!strcmp(optarg, "none") || !strcmp(optarg, "private") ||
				 !strcmp(optarg, "bridge") || !strcmp(optarg, "default"))
				f->network_host = false; /* private networks: a later issue */
			else
				return kerror_set(e, EINVAL, "network \"%s\" is not supported "
							     "(none, host)", optarg);
			break;
		case 'm':
			if ((r = parse_bytes("--memory", optarg, &f->memory, e)) < 0)
				return r;
			if (f->memory > 0 && f->memory < 6 * 1024 * 1024)
				return kerror_set(e, EINVAL, "minimum memory limit allowed is 6MB");
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
	*image_at = optind;
	for (int i = optind + 1; i < argc; i++)
		strv_push(&f->cmd, xstrdup(argv[i]));
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The image's config without hashing it again: a blob is stored only after
 * its digest was verified, and hashing here would initialise OpenSSL (its
 * configuration files, its algorithm tables) on every run. */
static int load_config_trusted(struct store *s, const struct image_info *img,
			       struct image_config **out, struct kerror *e)
{
	char digest[DIGEST_STR_LEN + 1];
	_cleanup_free_ char *path = NULL, *raw = NULL;
	size_t len;
	int r;
	snprintf(digest, sizeof(digest), "sha256:%s", img->id);
	path = store_blob_path(s, digest);
	r = fs_read_file(path, 4 * 1024 * 1024, &raw, &len, e);
	if (r == 0)
		r = config_parse(raw, len, out, e);
	if (r < 0)
		return kerror_wrap(e, "image %.12s", img->id);
	return 0;
}

/* Creates the container (row + directories); *plan and *ctr are filled. */
static int create_container(struct cli *c, int argc, char **argv, bool is_run,
			    struct run_plan *plan, struct container_info **ctr, bool *detach,
			    bool *rm, struct kerror *e)
{
	struct run_flags f = { 0 };
	_cleanup_free_ char *name = NULL;
	_cleanup_image_info_ struct image_info *img = NULL;
	_cleanup_config_ struct image_config *cfg = NULL;
	_cleanup_json_ json_t *pj = NULL;
	struct container_info *ci;
	struct store *s;
	int at = 0, r;

	r = parse_flags(argc, argv, is_run, &f, detach, rm, &name, &at, e);
	if (r != 0)
		goto out;
	r = cli_store(c, &s, e);
	if (r < 0)
		goto out;
	r = store_image_lookup(s, argv[at], &img, e);
	if (r == -ENOENT)
		r = kerror_set(e, ENOENT, "%s: image not known", argv[at]);
	if (r < 0)
		goto out;
	r = load_config_trusted(s, img, &cfg, e);
	if (r < 0)
		goto out;
	r = run_volumes_resolve(s, &f.mounts, json_object_get(config_exec(cfg), "Volumes"), e);
	if (r < 0)
		goto out;
	ci = xcalloc(1, sizeof(*ci));
	*ctr = ci;
	new_id(ci->id);
	r = run_plan_build(s, img, config_exec(cfg), &f, ci->id, plan, e);
	if (r < 0)
		goto out;
	pj = run_plan_to_json(plan);
	ci->plan = json_dump_compact(pj);
	ci->name = name ? xstrdup(name) : random_name();
	snprintf(ci->image_id, sizeof(ci->image_id), "%s", img->id);
	ci->image_name = xstrdup(img->names && img->names[0] ? img->names[0] : img->id);
	ci->created = now_ns();
	ci->state = CTR_CREATED;
	if (name && (!*name || strchr(name, '/') || strlen(name) > 128)) {
		r = kerror_set(e, EINVAL, "invalid container name \"%s\"", name);
		goto out;
	}
	for (int tries = 0;; tries++) {
		r = store_container_create(s, ci, e);
		if (r != -EEXIST || name || tries > 20)
			break;
		free(ci->name);
		ci->name = random_name();
	}
	if (r < 0)
		goto out;
	r = run_prepare_dirs(s, ci->id, ci->name, plan, e);
	if (r < 0) {
		_cleanup_kerror_ struct kerror e2 = { 0 };
		store_container_remove(s, ci->id, &e2);
	}
out:
	run_flags_release(&f);
	return r;
}

int cmd_create(struct cli *c, int argc, char **argv, struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	struct run_plan plan = { 0 };
	bool detach = false, rm = false;
	int r = create_container(c, argc, argv, false, &plan, &ctr, &detach, &rm, e);
	run_plan_release(&plan);
	if (r != 0)
		return r < 0 ? r : 0;
	printf("%s\n", ctr->id);
	return 0;
}

int cmd_run(struct cli *c, int argc, char **argv, struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	struct run_plan plan = { 0 };
	bool detach = false, rm = false;
	struct store *s;
	int code = 125, r;

	r = create_container(c, argc, argv, true, &plan, &ctr, &detach, &rm, e);
	if (r != 0) {
		run_plan_release(&plan);
		return r < 0 ? r : 0;
	}
	r = cli_store(c, &s, e);
	if (r == 0 && detach) {
		r = container_detach(c, ctr, &plan, rm, &code, e);
		if (r == 0)
			printf("%s\n", ctr->id);
	} else if (r == 0) {
		struct run_monitor_opts o = { .remove = rm, .ready_fd = -1 };
		fflush(stdout);
		r = run_monitor(s, ctr, &plan, &o, &code, e);
	}
	run_plan_release(&plan);
	if (r < 0) {
		c->exit_code = code;
		return r;
	}
	return detach ? 0 : code;
}
