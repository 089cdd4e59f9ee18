/* /_ping, /version, /info, /system/df, /auth (and the route of /events). */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "api/api_private.h"

static enum MHD_Result ping(struct api_req *r)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(2, "OK", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Api-Version", API_VERSION);
	MHD_add_response_header(resp, "Builder-Version", "1");
	MHD_add_response_header(resp, "Docker-Experimental", "false");
	MHD_add_response_header(resp, "Ostype", "linux");
	MHD_add_response_header(resp, "Cache-Control", "no-cache, no-store, must-revalidate");
	MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	enum MHD_Result res = MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	return res;
}

static const char *go_arch(const char *m)
{
	return !strcmp(m, "x86_64") ? "amd64" : !strcmp(m, "aarch64") ? "arm64" : m;
}

static enum MHD_Result version(struct api_req *r)
{
	struct utsname u;
	uname(&u);
	const char *v = r->srv->o->version;
	const char *arch = go_arch(u.machine);
	const char *built = __DATE__ " " __TIME__;
	json_t *details = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ApiVersion",
				    API_VERSION, "MinAPIVersion", API_MIN_VERSION, "Os", "linux",
				    "Arch", arch, "GitCommit", "", "GoVersion", "C11",
				    "KernelVersion", u.release, "BuildTime", built, "Experimental",
				    "false");
	json_t *j = json_pack(
		"{s:{s:s}, s:[{s:s, s:s, s:o}], s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		"Platform", "Name", "kiln", "Components", "Name", "Engine", "Version", v, "Details",
		details, "Version", v, "ApiVersion", API_VERSION, "MinAPIVersion", API_MIN_VERSION,
		"GitCommit", "", "GoVersion", "C11", "Os", "linux", "Arch", arch, "KernelVersion",
		u.release, "BuildTime", built);
	return api_reply_json(r, 200, j);
}

static char *os_name(void)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	if (fs_read_file("/etc/os-release", 65536, &data, &len, NULL) < 0)
		return xstrdup("Linux");
	char *p = strstr(data, "PRETTY_NAME=");
	if (!p)
		return xstrdup("Linux");
	p += 12;
	if (*p == '"')
		p++;
	return xstrndup(p, strcspn(p, "\"\n"));
}

static enum MHD_Result info(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_api_store_ struct store *s = NULL;
	struct image_info **imgs = NULL;
	struct container_info **ctrs = NULL;
	size_t ni = 0, nc = 0, running = 0, paused = 0;
	struct utsname u;
	char now[64];
	if (api_store(r, &s, &e) < 0 || store_image_list(s, &imgs, &ni, &e) < 0 ||
	    store_container_list(s, &ctrs, &nc, &e) < 0) {
		image_list_free(imgs, ni);
		return api_reply_kerror(r, &e);
	}
	for (size_t i = 0; i < nc; i++)
		if (ctrs[i]->state == CTR_RUNNING) {
			if (run_is_paused(s, ctrs[i]->id))
				paused++;
			else
				running++;
		}
	uname(&u);
	_cleanup_free_ char *osname = os_name();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	format_rfc3339(ts.tv_sec, ts.tv_nsec, now, sizeof(now));
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	json_t *j = json_pack(
		"{s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:[], s:{s:[s], s:[s,s], s:[], s:[s]},"
		" s:b, s:b, s:b, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s,"
		" s:{s:[], s:{}, s:[]}, s:I, s:I, s:s, s:s, s:[], s:b, s:s, s:{s:{s:s}}, s:s,"
		" s:{s:s, s:s, s:b}, s:[s], s:[]}",
		"ID", "kiln", "Containers", (json_int_t)nc, "ContainersRunning", (json_int_t)running,
		"ContainersPaused", (json_int_t)paused, "ContainersStopped",
		(json_int_t)(nc - running - paused), "Images", (json_int_t)ni, "Driver",
		store_driver(s), "DriverStatus", "Plugins", "Volume", "local", "Network", "host",
		"none", "Authorization", "Log", "k8s-file", "MemoryLimit", 1, "SwapLimit", 0,
		"IPv4Forwarding", 1, "SystemTime", now, "LoggingDriver", "k8s-file", "CgroupDriver",
		"cgroupfs", "CgroupVersion", access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0
						     ? "2" : "1",
		"NEventsListener", (json_int_t)0, "KernelVersion", u.release, "OperatingSystem",
		osname, "OSVersion", "", "OSType", "linux", "Architecture", u.machine,
		"RegistryConfig", "InsecureRegistryCIDRs", "IndexConfigs", "Mirrors", "NCPU",
		(json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "MemTotal", (json_int_t)pages * psize,
		"DockerRootDir", store_root(s), "Name", u.nodename, "Labels", "ExperimentalBuild", 0,
		"ServerVersion", r->srv->o->version, "Runtimes", "kiln", "path", "kiln",
		"DefaultRuntime", "kiln", "Swarm", "NodeID", "", "LocalNodeState", "inactive",
		"ControlAvailable", 0, "SecurityOptions", "name=seccomp,profile=default", "Warnings");
	image_list_free(imgs, ni);
	container_list_free(ctrs, nc);
	return api_reply_json(r, 200, j);
}

static enum MHD_Result df(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_api_store_ struct store *s = NULL;
	json_t *imgs = NULL, *ctrs = NULL, *vols = NULL;
	int64_t layers = 0;
	if (api_store(r, &s, &e) < 0 || api_images_summary(s, true, &imgs, &e) < 0 ||
	    api_containers_summary(s, true, true, &ctrs, &e) < 0 ||
	    api_volumes_list(r, &vols, &e) < 0) {
		json_decref(imgs);
		json_decref(ctrs);
		return api_reply_kerror(r, &e);
	}
	size_t i, k;
	json_t *v, *c;
	/* what docker system df counts as active: images and volumes in use */
	json_array_foreach(imgs, i, v) {
		int64_t users = 0;
		layers += json_int(v, "Size", 0);
		json_array_foreach(ctrs, k, c)
			users += !strcmp(json_str(c, "ImageID") ?: "", json_str(v, "Id") ?: "");
		json_object_set_new(v, "Containers", json_integer(users));
	}
	struct container_info **list = NULL;
	size_t n = 0;
	if (store_container_list(s, &list, &n, &e) < 0) {
		json_decref(imgs);
		json_decref(ctrs);
		json_decref(vols);
		return api_reply_kerror(r, &e);
	}
	json_array_foreach(vols, i, v) {
		int64_t refs = 0;
		uint64_t bytes = 0;
		for (size_t j = 0; j < n; j++) {
			_cleanup_strv_ char **names = run_plan_volumes(list[j]->plan);
			for (char **p = names; p && *p; p++)
				refs += !strcmp(*p, json_str(v, "Name") ?: "");
		}
		const char *mp = json_str(v, "Mountpoint");
		if (mp)
			fs_disk_usage(mp, &bytes, NULL);
		json_object_set_new(v, "UsageData", json_pack("{s:I, s:I}", "Size", (json_int_t)bytes,
								"RefCount", (json_int_t)refs));
	}
	container_list_free(list, n);
	return api_reply_json(r, 200,
			      json_pack("{s:I, s:o, s:o, s:o, s:[]}", "LayersSize",
					(json_int_t)layers, "Images", imgs, "Containers", ctrs,
					"Volumes", vols, "BuildCache"));
}

/* /auth: kiln logs in when it pushes or pulls; the credentials are checked
 * then.  Docker answers "Login Succeeded" without a token as well. */
static enum MHD_Result auth(struct api_req *r)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_json_ json_t *body = NULL;
	if (api_body_json(r, &body, &e) < 0)
		return api_reply_kerror(r, &e);
	const char *server = json_str(body, "serveraddress");
	const char *user = json_str(body, "username"), *pass = json_str(body, "password");
	if (!user || !pass)
		return api_reply_error(r, 400, "username and password are required");
	_cleanup_strv_ char **args = NULL;
	_cleanup_free_ char *out = NULL;
	enum MHD_Result res;
	api_arg(&args, "login");
	api_arg(&args, "--password-stdin");
	api_argf(&args, "--username=%s", user);
	if (server && *server)
		api_arg(&args, server);
	char *err = NULL;
	int st = api_worker_run(r->srv, args, pass, strlen(pass), &out, &err, &e);
	if (st != 0) {
		res = st < 0 ? api_reply_kerror(r, &e)
			     : api_reply_error(r, 401, "%s", strstr(err, "Error: ") ? strstr(err, "Error: ") + 7 : err);
		free(err);
		return res;
	}
	free(err);
	return api_reply_json(r, 200, json_pack("{s:s, s:s}", "Status", "Login Succeeded",
						"IdentityToken", ""));
}

const struct api_route api_system_routes[] = {
	{ "GET", "/_ping", ping, false },
	{ "GET", "/events", api_events, false },
	{ "GET", "/version", version, false },
	{ "GET", "/info", info, false },
	{ "GET", "/system/df", df, false },
	{ "POST", "/auth", auth, false },
	{ NULL, NULL, NULL, false },
};
