/* kiln run / kiln create: flags → plan → container row → monitor. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cli/container.h"
#include "cli/registry_flags.h"

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

void cli_new_id(char id[DIGEST_HEX_LEN + 1])
{
	unsigned char b[32];
	random_bytes(b, sizeof(b));
	for (size_t i = 0; i < 32; i++)
		snprintf(id + 2 * i, 3, "%02x", b[i]);
}

char *cli_random_name(void)
{
	unsigned r[2];
	random_bytes(r, sizeof(r));
	return xasprintf("%s_%s", adjectives[r[0] % ARRAY_SIZE(adjectives)],
			 nouns[r[1] % ARRAY_SIZE(nouns)]);
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

/* The image for run/create under the --pull policy. */
static int find_image(struct store *s, struct run_cli *o, const char *ref,
		      struct image_info **img, struct kerror *e)
{
	const char *policy = o->pull ? o->pull : "missing";
	char id[DIGEST_HEX_LEN + 1];
	int r = 0;
	if (strcmp(policy, "always") != 0) {
		r = store_image_lookup(s, ref, img, e);
		if (r != -ENOENT || !strcmp(policy, "never")) {
			if (r == -ENOENT)
				r = kerror_set(e, ENOENT, "%s: image not known", ref);
			return r;
		}
		kerror_release(e);
	}
	o->po.progress = registry_progress_stderr;
	r = registry_pull(s, ref, &o->po, id, e);
	if (r < 0)
		return r;
	r = store_image_lookup(s, id, img, e);
	return r;
}

/* --cidfile: written once, refused when it exists (as Docker). */
static int write_cidfile(const char *path, const char *id, struct kerror *e)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			return kerror_set(e, EEXIST, "container id file found, make sure the other "
						     "container isn't running or delete %s", path);
		return kerror_sys(e, errno, "opening the cidfile \"%s\"", path);
	}
	if (fs_write_all(fd, id, strlen(id)) < 0)
		return kerror_sys(e, errno, "writing the cidfile \"%s\"", path);
	return 0;
}

/* Creates the container (row + directories); *plan and *ctr are filled. */
static int create_container(struct cli *c, int argc, char **argv, bool is_run,
			    struct run_cli *o, struct run_plan *plan, struct container_info **ctr,
			    struct kerror *e)
{
	struct run_flags *f = &o->f;
	_cleanup_image_info_ struct image_info *img = NULL;
	_cleanup_config_ struct image_config *cfg = NULL;
	_cleanup_json_ json_t *pj = NULL;
	_cleanup_free_ char *rootfs = NULL;
	const json_t *exec_cfg = NULL;
	struct container_info *ci;
	struct store *s;
	const char *name;
	int r;

	r = run_cli_parse(argc, argv, is_run, o, e);
	if (r != 0)
		return r;
	{
		/* containers.conf's defaults under the flags */
		_cleanup_json_ json_t *conf = NULL;
		r = run_containers_conf_load(&conf, e);
		if (r == 0)
			r = run_flags_apply_conf(&o->f, conf, e);
		if (r < 0)
			return r;
	}
	name = o->name;
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	if (o->rootfs) {
		struct stat st;
		rootfs = realpath(argv[o->image_at], NULL);
		if (!rootfs || stat(rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
			return kerror_set(e, ENOTDIR, "rootfs \"%s\" is not a directory",
					  argv[o->image_at]);
		f->rootfs = xstrdup(rootfs);
	} else {
		r = find_image(s, o, argv[o->image_at], &img, e);
		if (r < 0)
			return r;
		r = load_config_trusted(s, img, &cfg, e);
		if (r < 0)
			return r;
		exec_cfg = config_exec(cfg);
	}
	if (o->pod) {
		/* may start the infra: the store is reopened after that fork */
		r = pod_resolve_for_run(c, o, e);
		if (r == 0)
			r = cli_store(c, &s, e);
		if (r < 0)
			return r;
	}
	r = run_volumes_resolve(s, &f->mounts, json_object_get(exec_cfg, "Volumes"), e);
	if (r < 0)
		return r;
	ci = xcalloc(1, sizeof(*ci));
	*ctr = ci;
	cli_new_id(ci->id);
	r = run_plan_build(s, img, exec_cfg, f, ci->id, plan, e);
	if (r == 0 && plan->runtime)
		r = run_oci_check(plan, e);
	if (r < 0)
		return r;
	pj = run_plan_to_json(plan);
	ci->plan = json_dump_compact(pj);
	ci->name = name ? xstrdup(name) : cli_random_name();
	if (img) {
		snprintf(ci->image_id, sizeof(ci->image_id), "%s", img->id);
		ci->image_name = xstrdup(img->names && img->names[0] ? img->names[0] : img->id);
	} else {
		ci->image_name = xstrdup(rootfs);
	}
	ci->created = now_ns();
	ci->state = CTR_CREATED;
	if (name && (!*name || strchr(name, '/') || strlen(name) > 128))
		return kerror_set(e, EINVAL, "invalid container name \"%s\"", name);
	for (int tries = 0;; tries++) {
		r = store_container_create(s, ci, e);
		if (r != -EEXIST || name || tries > 20)
			break;
		free(ci->name);
		ci->name = cli_random_name();
	}
	if (r < 0)
		return r;
	r = run_prepare_dirs(s, ci->id, plan, e);
	if (r == 0 && o->cidfile)
		r = write_cidfile(o->cidfile, ci->id, e);
	if (r < 0) {
		_cleanup_kerror_ struct kerror e2 = { 0 };
		store_container_remove(s, ci->id, &e2);
	}
	return r;
}

int cmd_create(struct cli *c, int argc, char **argv, struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	struct run_plan plan = { 0 };
	struct run_cli o = { 0 };
	int r = create_container(c, argc, argv, false, &o, &plan, &ctr, e);
	bool rm = o.rm;
	run_plan_release(&plan);
	run_cli_release(&o);
	if (r != 0)
		return r < 0 ? r : 0;
	/* create --rm: the start that runs it removes it after (Docker's
	 * AutoRemove), as the container's own file says. */
	if (rm) {
		struct store *s;
		_cleanup_free_ char *dir = NULL, *mark = NULL;
		if ((r = cli_store(c, &s, e)) < 0)
			return r;
		dir = store_container_dir(s, ctr->id);
		mark = xasprintf("%s/autoremove", dir);
		if ((r = fs_write_atomic(mark, "", 0, 0600, e)) < 0)
			return r;
	}
	printf("%s\n", ctr->id);
	return 0;
}

/* A foreground run ends with the container's first exit (as docker and
 * podman do); a restart policy that wants it back hands it over to a
 * detached monitor, which restarts it after Docker's first back-off and
 * counts this as its first restart. */
static void hand_over_restarts(struct cli *c, struct store *s, struct container_info *ctr,
			       const struct run_plan *plan, int code)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	struct timespec backoff = { 0, 100 * 1000000L };
	int dcode;
	if (!run_restart_wanted(s, ctr, plan, code, 0))
		return;
	nanosleep(&backoff, NULL);
	/* a kiln stop or rm meanwhile ends the policy */
	_cleanup_free_ char *dir = store_container_dir(s, ctr->id);
	if (access(dir, F_OK) < 0 || !run_restart_wanted(s, ctr, plan, code, 0))
		return;
	if (container_detach(c, ctr, plan, false, 1, &dcode, &e) < 0)
		log_warn("restarting container %.12s: %s", ctr->id, e.msg);
}

int cmd_run(struct cli *c, int argc, char **argv, struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	struct run_plan plan = { 0 };
	struct run_cli o = { 0 };
	struct store *s;
	int code = 125, r;

	r = create_container(c, argc, argv, true, &o, &plan, &ctr, e);
	if (r != 0) {
		run_plan_release(&plan);
		run_cli_release(&o);
		return r < 0 ? r : 0;
	}
	r = cli_store(c, &s, e);
	if (r == 0 && o.detach) {
		r = container_detach(c, ctr, &plan, o.rm, 0, &code, e);
		if (r == 0)
			printf("%s\n", ctr->id);
	} else if (r == 0) {
		struct run_monitor_opts mo = { .remove = o.rm, .ready_fd = -1,
					       .no_sig_proxy = !o.sig_proxy };
		fflush(stdout);
		r = run_monitor(s, ctr, &plan, &mo, &code, e);
		if (r == 0 && !o.rm)
			hand_over_restarts(c, s, ctr, &plan, code);
	}
	run_plan_release(&plan);
	bool detach = o.detach;
	run_cli_release(&o);
	if (r < 0) {
		c->exit_code = code;
		return r;
	}
	return detach ? 0 : code;
}
