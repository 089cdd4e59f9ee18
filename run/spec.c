/* Image config + flags → the runtime plan (Docker's semantics). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/net_private.h"

#define ETC_FILE_MAX (1024 * 1024)
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void run_flags_release(struct run_flags *f)
{
	strv_free(f->cmd);
	free(f->entrypoint);
	strv_free(f->env);
	free(f->workdir);
	free(f->user);
	free(f->hostname);
	strv_free(f->cap_add);
	strv_free(f->cap_drop);
	free(f->stop_signal);
	strv_free(f->mounts);
	strv_free(f->dns);
	strv_free(f->dns_search);
	strv_free(f->dns_options);
	strv_free(f->add_hosts);
	strv_free(f->ulimits);
	strv_free(f->group_add);
	free(f->log_driver);
	free(f->rootfs);
	free(f->restart);
	strv_free(f->health_test);
	free(f->pod);
	free(f->network);
	strv_free(f->publish);
	strv_free(f->default_caps);
	strv_free(f->default_env);
	free(f->userns);
	strv_free(f->uidmap);
	strv_free(f->gidmap);
	free(f->subuidname);
	free(f->subgidname);
	strv_free(f->networks);
	strv_free(f->net_aliases);
	strv_free(f->expose);
	free(f->infra_id);
	free(f->runtime);
	memset(f, 0, sizeof(*f));
}

void run_plan_release(struct run_plan *p)
{
	strv_free(p->argv);
	strv_free(p->env);
	free(p->cwd);
	free(p->hostname);
	free(p->user);
	free(p->gids);
	strv_free(p->layers);
	strv_free(p->mounts);
	strv_free(p->dns);
	strv_free(p->dns_search);
	strv_free(p->dns_options);
	strv_free(p->add_hosts);
	strv_free(p->ulimits);
	free(p->log_driver);
	free(p->rootfs);
	free(p->restart);
	strv_free(p->health.test);
	free(p->pod);
	free(p->network);
	strv_free(p->ports);
	free(p->userns);
	strv_free(p->uid_map);
	strv_free(p->gid_map);
	strv_free(p->networks);
	strv_free(p->net_aliases);
	strv_free(p->expose);
	free(p->infra_id);
	free(p->runtime);
	memset(p, 0, sizeof(*p));
}

static void push_all(char ***v, char *const *from)
{
	for (size_t i = 0; from && from[i]; i++)
		strv_push(v, xstrdup(from[i]));
}

/* A copy of v, NULL for NULL. */
static char **copy_strv(char *const *v)
{
	char **c = NULL;
	if (v) {
		c = xcalloc(1, sizeof(char *));
		push_all(&c, v);
	}
	return c;
}

char **run_merge_argv(char *const *img_entrypoint, char *const *img_cmd,
		      const char *entrypoint, bool entrypoint_set, char *const *cmd)
{
	char **v = xcalloc(1, sizeof(char *));
	if (entrypoint_set) {
		/* --entrypoint is one program (not split); "" clears it. */
		if (entrypoint && *entrypoint)
			strv_push(&v, xstrdup(entrypoint));
		push_all(&v, cmd);
		return v;
	}
	push_all(&v, img_entrypoint);
	push_all(&v, cmd && cmd[0] ? cmd : img_cmd);
	return v;
}

static size_t key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');
	return eq ? (size_t)(eq - kv) : strlen(kv);
}

static ssize_t env_find(char **v, const char *kv)
{
	size_t k = key_len(kv);
	for (size_t i = 0; v && v[i]; i++)
		if (key_len(v[i]) == k && strncmp(v[i], kv, k) == 0)
			return (ssize_t)i;
	return -1;
}

static void env_set(char ***v, const char *kv, bool replace)
{
	ssize_t at;
	if (!strchr(kv, '=') || key_len(kv) == 0)
		return;
	at = env_find(*v, kv);
	if (at < 0)
		strv_push(v, xstrdup(kv));
	else if (replace) {
		free((*v)[at]);
		(*v)[at] = xstrdup(kv);
	}
}

char **run_merge_env(char *const *img_env, char *const *extra_defaults, char *const *user_env)
{
	char **v = xcalloc(1, sizeof(char *));
	for (size_t i = 0; img_env && img_env[i]; i++)
		env_set(&v, img_env[i], true);
	for (size_t i = 0; extra_defaults && extra_defaults[i]; i++)
		env_set(&v, extra_defaults[i], false);
	for (size_t i = 0; user_env && user_env[i]; i++)
		env_set(&v, user_env[i], true);
	return v;
}

/* Reads a small regular file below dfd, resolved inside it (a symlink
 * cannot lead out).  *stop: the path is there but unusable (a whiteout, a
 * special file), so lower layers must not be asked. */
static char *file_in_dir(int dfd, const char *rel, bool *stop)
{
	_cleanup_close_ int fd = fs_open_in_root(dfd, rel, O_RDONLY | O_NOFOLLOW);
	struct stat st;
	char *data = NULL;
	size_t len;
	*stop = true;
	if (fd < 0) {
		*stop = errno == ELOOP || errno == ENXIO;
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	if (fs_read_fd(fd, ETC_FILE_MAX, rel, &data, &len, NULL) < 0)
		return NULL;
	if (memchr(data, '\0', len)) {
		free(data);
		return NULL;
	}
	return data;
}

/* Reads a small file from the image, top layer first (or from --rootfs). */
static char *image_file(struct store *s, const struct image_info *img, const char *rootfs,
			const char *rel)
{
	size_t n = img ? strv_len(img->layers) : 0;
	bool stop;
	if (rootfs) {
		_cleanup_close_ int dfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		return dfd < 0 ? NULL : file_in_dir(dfd, rel, &stop);
	}
	for (size_t i = n; i-- > 0;) {
		_cleanup_free_ char *dir = store_layer_diff_path(s, img->layers[i]);
		_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		char *data;
		if (dfd < 0)
			continue;
		data = file_in_dir(dfd, rel, &stop);
		if (data || stop)
			return data;
	}
	return NULL;
}

/* The health check: the flags' over the image's Healthcheck, Docker's
 * defaults for what is unset; none for --no-healthcheck or ["NONE"]. */
static void health_plan(const struct run_flags *f, const json_t *cfg, struct run_health *h)
{
	const json_t *hc = json_object_get(cfg, "Healthcheck");
	memset(h, 0, sizeof(*h));
	if (f->no_healthcheck)
		return;
	h->test = f->health_test ? copy_strv(f->health_test)
				 : json_strv(json_object_get(hc, "Test"));
	if (h->test && (!h->test[0] || !strcmp(h->test[0], "NONE"))) {
		strv_free(h->test);
		h->test = NULL;
		return;
	}
	h->interval = f->health_interval ? f->health_interval : json_int(hc, "Interval", 0);
	h->timeout = f->health_timeout ? f->health_timeout : json_int(hc, "Timeout", 0);
	h->start_period = f->health_start_period ? f->health_start_period
						 : json_int(hc, "StartPeriod", 0);
	h->retries = f->health_retries ? f->health_retries : (int)json_int(hc, "Retries", 0);
	if (h->interval <= 0)
		h->interval = 30LL * 1000000000;
	if (h->timeout <= 0)
		h->timeout = 30LL * 1000000000;
	if (h->start_period < 0)
		h->start_period = 0;
	if (h->retries <= 0)
		h->retries = 3;
}

static uint64_t all_caps(void)
{
	uint64_t m = 0;
	for (int c = 0; c <= 40; c++)
		m |= 1ULL << c;
	return m;
}

static bool has_all(char *const *v)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcasecmp(v[i], "ALL") == 0)
			return true;
	return false;
}

static int caps_compute(const struct run_flags *f, uint64_t *out, struct kerror *e)
{
	uint64_t m = f->privileged ? all_caps() : run_caps_default();
	if (!f->privileged && f->default_caps) {
		m = 0;
		for (size_t i = 0; f->default_caps[i]; i++) {
			int c = run_cap_parse(f->default_caps[i]);
			if (c < 0)
				return kerror_set(e, EINVAL, "containers.conf: unknown capability "
							     "\"%s\"", f->default_caps[i]);
			m |= 1ULL << c;
		}
	}
	if (has_all(f->cap_add))
		m = all_caps();
	if (has_all(f->cap_drop))
		m = 0;
	for (size_t i = 0; f->cap_drop && f->cap_drop[i]; i++) {
		int c;
		if (strcasecmp(f->cap_drop[i], "ALL") == 0)
			continue;
		if ((c = run_cap_parse(f->cap_drop[i])) < 0)
			return kerror_set(e, EINVAL, "unknown capability \"%s\"", f->cap_drop[i]);
		m &= ~(1ULL << c);
	}
	for (size_t i = 0; f->cap_add && f->cap_add[i]; i++) {
		int c;
		if (strcasecmp(f->cap_add[i], "ALL") == 0)
			continue;
		if ((c = run_cap_parse(f->cap_add[i])) < 0)
			return kerror_set(e, EINVAL, "unknown capability \"%s\"", f->cap_add[i]);
		m |= 1ULL << c;
	}
	*out = m;
	return 0;
}

int run_plan_build(struct store *s, const struct image_info *img, const json_t *cfg,
		   const struct run_flags *f, const char *id, struct run_plan *out,
		   struct kerror *e)
{
	_cleanup_strv_ char **ient = json_strv(json_object_get(cfg, "Entrypoint"));
	_cleanup_strv_ char **icmd = json_strv(json_object_get(cfg, "Cmd"));
	_cleanup_strv_ char **ienv = json_strv(json_object_get(cfg, "Env"));
	_cleanup_strv_ char **defaults = NULL;
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	struct run_user u = { 0 };
	struct run_plan p = { 0 };
	const char *user = f->user ? f->user : json_str(cfg, "User");
	const char *wd = f->workdir ? f->workdir : json_str(cfg, "WorkingDir");
	const char *sig = f->stop_signal ? f->stop_signal : json_str(cfg, "StopSignal");
	int r;

	p.argv = run_merge_argv(ient, icmd, f->entrypoint, f->entrypoint_set, f->cmd);
	if (!p.argv[0]) {
		run_plan_release(&p);
		return kerror_set(e, EINVAL, "no command or entrypoint provided, and no CMD or "
					     "ENTRYPOINT from image");
	}
	if (wd && *wd && wd[0] != '/') {
		run_plan_release(&p);
		return kerror_set(e, EINVAL, "the working directory \"%s\" is invalid, it needs "
					     "to be an absolute path", wd);
	}
	p.cwd = xstrdup(wd && *wd ? wd : "/");
	if (f->hostname && *f->hostname)
		p.hostname = xstrdup(f->hostname);
	else if (f->network_host) {
		char h[256] = "";
		gethostname(h, sizeof(h) - 1);
		p.hostname = xstrdup(h);
	} else
		p.hostname = xstrndup(id, 12);

	passwd = image_file(s, img, f->rootfs, "etc/passwd");
	group = image_file(s, img, f->rootfs, "etc/group");
	r = run_user_resolve(user, passwd, group, &u, e);
	if (r == 0)
		r = run_user_add_groups(&u, f->group_add, group, e);
	if (r < 0) {
		run_user_release(&u);
		run_plan_release(&p);
		return r;
	}
	p.user = xstrdup(user ? user : "");
	p.uid = u.uid;
	p.gid = u.gid;
	p.gids = steal_pointer(&u.gids);
	p.n_gids = u.n_gids;

	strv_push(&defaults, xstrdup("PATH=" DEFAULT_PATH));
	if (f->tty)
		strv_push(&defaults, xstrdup("TERM=xterm"));
	strv_push(&defaults, xstrdup("container=kiln"));
	strv_push(&defaults, xasprintf("HOSTNAME=%s", p.hostname));
	strv_push(&defaults, xasprintf("HOME=%s", u.home));
	for (size_t i = 0; f->default_env && f->default_env[i]; i++)
		strv_push(&defaults, xstrdup(f->default_env[i]));
	run_user_release(&u);
	p.env = run_merge_env(ienv, defaults, f->env);

	p.layers = xcalloc(1, sizeof(char *));
	if (img)
		push_all(&p.layers, img->layers);
	r = caps_compute(f, &p.caps, e);
	if (r < 0) {
		run_plan_release(&p);
		return r;
	}
	p.tty = f->tty;
	p.interactive = f->interactive;
	p.read_only = f->read_only;
	p.network = xstrdup(f->network_host ? "host" : f->network ? f->network
								   : run_network_default());
	p.network_host = !strcmp(p.network, "host");
	for (size_t i = 0; f->publish && f->publish[i]; i++)
		if ((r = run_port_parse(f->publish[i], &p.ports, e)) < 0) {
			run_plan_release(&p);
			return r;
		}
	r = run_net_plan(s, cfg, f, &p, e);
	if (r < 0) {
		run_plan_release(&p);
		return r;
	}
	{
		/* The image's ExposedPorts are the container's too (Docker
		 * lists them in NetworkSettings.Ports and ps), after --expose. */
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)json_object_get(cfg, "ExposedPorts"), k, v) {
			bool have = false;
			if (strlen(k) > 16 || !strchr("0123456789", k[0]))
				continue;
			for (size_t i = 0; p.expose && p.expose[i]; i++)
				have |= !strcmp(p.expose[i], k);
			if (!have)
				strv_push(&p.expose, xasprintf("%s%s", k, strchr(k, '/') ? "" : "/tcp"));
		}
	}
	if (p.ports && !run_network_user_mode(p.network) && strcmp(p.network, "bridge")) {
		run_plan_release(&p);
		return kerror_set(e, EINVAL, "publishing ports needs a network: --network %s has "
					     "none", p.network);
	}
	p.no_new_privs = f->no_new_privs;
	p.seccomp = !f->seccomp_unconfined && !f->privileged;
	p.memory = f->memory;
	p.pids_limit = f->pids_limit;
	p.cpu_shares = f->cpu_shares;
	p.cpu_quota = f->cpu_quota;
	p.stop_signal = sig ? run_signal_parse(sig) : SIGTERM;
	if (p.stop_signal < 0) {
		run_plan_release(&p);
		return kerror_set(e, EINVAL, "invalid stop signal \"%s\"", sig);
	}
	p.stop_timeout = f->stop_timeout >= 0 ? f->stop_timeout : 10;
	for (size_t i = 0; f->mounts && f->mounts[i]; i++)
		strv_push(&p.mounts, xstrdup(f->mounts[i]));
	p.dns = copy_strv(f->dns);
	p.dns_search = copy_strv(f->dns_search);
	p.dns_options = copy_strv(f->dns_options);
	p.add_hosts = copy_strv(f->add_hosts);
	p.ulimits = copy_strv(f->ulimits);
	p.shm_size = f->shm_size;
	p.memory_swap = f->memory_swap;
	if (p.memory_swap && !p.memory) {
		run_plan_release(&p);
		return kerror_set(e, EINVAL, "you should always set the memory limit when using "
					     "memory swap limit");
	}
	if (p.memory_swap > 0 && p.memory_swap < p.memory) {
		run_plan_release(&p);
		return kerror_set(e, EINVAL, "minimum memoryswap limit should be larger than "
					     "memory limit, see usage");
	}
	p.init = f->init;
	p.log_driver = xstrdup(f->log_driver ? f->log_driver : "k8s-file");
	p.log_max_size = f->log_max_size;
	p.rootfs = f->rootfs ? xstrdup(f->rootfs) : NULL;
	if ((r = run_userns_plan(f, &p, e)) < 0) {
		run_plan_release(&p);
		return r;
	}
	/* A container in a user namespace of its own gets its image as a
	 * chowned copy; so does every container under the vfs driver. */
	p.rootfs_copy = !p.rootfs && (p.uid_map || !strcmp(store_driver(s), "vfs"));
	r = run_restart_parse(f->restart, &p.restart, &p.restart_max, e);
	if (r < 0) {
		run_plan_release(&p);
		return r;
	}
	health_plan(f, cfg, &p.health);
	p.pod = f->pod ? xstrdup(f->pod) : NULL;
	p.infra_id = f->infra_id ? xstrdup(f->infra_id) : NULL;
	p.runtime = f->runtime ? xstrdup(f->runtime) : NULL;
	p.pod_ns = f->pod_ns;
	*out = p;
	return 0;
}
