/* kiln container inspect: Docker-shaped JSON. */
#include <errno.h>
#include <string.h>

#include "cli/container.h"

/* Docker's "Mounts": one object per volume, bind or tmpfs of the plan. */
static json_t *mounts_json(json_t *plan)
{
	json_t *out = json_array(), *m;
	size_t i;
	json_array_foreach(json_object_get(plan, "mounts"), i, m) {
		struct run_mount rm;
		const char *spec = json_string_value(m);
		if (!spec || run_mount_parse(spec, &rm, NULL) < 0)
			continue;
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type",
				      rm.volume ? "volume" : rm.type, "Source",
				      rm.source ? rm.source : "", "Destination", rm.target, "Mode",
				      rm.volume ? "z" : "", "RW", !rm.readonly, "Propagation",
				      rm.volume || strcmp(rm.type, "bind") ? "" : "rprivate");
		if (rm.volume) {
			json_object_set_new(o, "Name", json_string(rm.volume));
			json_object_set_new(o, "Driver", json_string("local"));
		}
		json_array_append_new(out, o);
		run_mount_release(&rm);
	}
	return out;
}

static json_t *ns_time(int64_t ns)
{
	char buf[64];
	if (ns <= 0)
		return json_string("0001-01-01T00:00:00Z");
	format_rfc3339(ns / 1000000000LL, (long)(ns % 1000000000LL), buf, sizeof(buf));
	return json_string(buf);
}

/* What the later flags added: restart policy and count, health, DNS,
 * extra hosts, ulimits, shm size, init, log config, pod. */
/* A copy of the plan's array, or a new empty one. */
static json_t *copy_or_empty(json_t *a)
{
	return a ? json_deep_copy(a) : json_array();
}

static void inspect_extras(struct store *s, const struct container_info *ctr, json_t *plan,
			   json_t *out)
{
	json_t *host = json_object_get(out, "HostConfig");
	json_t *cfg = json_object_get(out, "Config");
	json_t *state = json_object_get(out, "State");
	json_t *h = json_object_get(plan, "health");
	const char *pol = json_str(plan, "restart") ? json_str(plan, "restart") : "no";
	json_object_set_new(out, "RestartCount", json_integer(run_restart_count(s, ctr->id)));
	json_object_set_new(host, "RestartPolicy",
			    json_pack("{s:s, s:I}", "Name", strcmp(pol, "no") ? pol : "",
				      "MaximumRetryCount", json_int(plan, "restart_max", 0)));
	json_object_set_new(host, "Dns", copy_or_empty(json_object_get(plan, "dns")));
	json_object_set_new(host, "DnsSearch", copy_or_empty(json_object_get(plan, "dns_search")));
	json_object_set_new(host, "DnsOptions", copy_or_empty(json_object_get(plan, "dns_options")));
	json_t *extra = json_array();
	json_t *ah = json_object_get(plan, "add_hosts");
	for (size_t i = 0; i < json_array_size(ah); i++)
		json_array_append_new(extra, json_string(json_string_value(json_array_get(ah, i))));
	json_object_set_new(host, "ExtraHosts", extra);
	json_t *ul = json_array(), *u = json_object_get(plan, "ulimits");
	for (size_t i = 0; i < json_array_size(u); i++) {
		const char *v = json_string_value(json_array_get(u, i));
		long long soft, hard;
		char name[32];
		if (v && sscanf(v, "%31[^=]=%lld:%lld", name, &soft, &hard) == 3)
			json_array_append_new(ul, json_pack("{s:s, s:I, s:I}", "Name", name, "Soft",
							    (json_int_t)soft, "Hard",
							    (json_int_t)hard));
	}
	json_object_set_new(host, "Ulimits", ul);
	json_object_set_new(host, "ShmSize",
			    json_integer(json_int(plan, "shm_size", 64 * 1024 * 1024)));
	json_object_set_new(host, "Init", json_boolean(json_is_true(json_object_get(plan, "init"))));
	json_object_set_new(host, "LogConfig",
			    json_pack("{s:s}", "Type",
				      json_str(plan, "log_driver") ?: "k8s-file"));
	json_object_set_new(host, "MemorySwap", json_integer(json_int(plan, "memory_swap", 0)));
	json_t *exp = json_object_get(plan, "expose");
	if (json_array_size(exp)) {
		json_t *ep = json_object();
		for (size_t i = 0; i < json_array_size(exp); i++)
			if (json_string_value(json_array_get(exp, i)))
				json_object_set_new(ep, json_string_value(json_array_get(exp, i)),
						    json_object());
		json_object_set_new(cfg, "ExposedPorts", ep);
	}
	if (json_str(plan, "pod"))
		json_object_set_new(out, "Pod", json_string(json_str(plan, "pod")));
	if (h) {
		json_object_set_new(cfg, "Healthcheck",
				    json_pack("{s:O, s:I, s:I, s:I, s:I}", "Test",
					      json_object_get(h, "test"), "Interval",
					      json_int(h, "interval", 0), "Timeout",
					      json_int(h, "timeout", 0), "StartPeriod",
					      json_int(h, "start_period", 0), "Retries",
					      json_int(h, "retries", 0)));
		json_t *hs = ctr->state == CTR_RUNNING ? run_health_read(s, ctr->id) : NULL;
		if (!hs) {
			const char *st = ctr->state == CTR_RUNNING ? "starting" : "";
			json_t *prev = run_health_read(s, ctr->id);
			hs = prev ? prev
				  : json_pack("{s:s, s:i, s:[]}", "Status", st, "FailingStreak", 0,
					      "Log");
		}
		json_object_set_new(state, "Health", hs);
	}
}

int container_inspect_json(struct cli *c, const char *what, json_t **out, struct kerror *e)
{
	_cleanup_container_info_ struct container_info *ctr = NULL;
	_cleanup_json_ json_t *plan = NULL;
	_cleanup_free_ char *img = NULL, *sig = NULL;
	struct store *s;
	json_t *argv, *args, *state, *config, *hostcfg, *gd;
	int r = container_get(c, what, &ctr, e);
	if (r < 0)
		return r;
	r = cli_store(c, &s, e);
	if (r == 0)
		r = json_parse(ctr->plan, strlen(ctr->plan), &plan, e);
	if (r < 0)
		return r;
	argv = json_object_get(plan, "argv");
	args = json_array();
	for (size_t i = 1; i < json_array_size(argv); i++)
		json_array_append(args, json_array_get(argv, i));
	bool paused = ctr->state == CTR_RUNNING && run_is_paused(s, ctr->id);
	state = json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:I, s:i, s:s, s:o, s:o}", "Status",
			  paused ? "paused" : ctr_state_name(ctr->state), "Running",
			  ctr->state == CTR_RUNNING, "Paused", paused, "Restarting", 0, "OOMKilled", 0, "Dead", 0, "Removing", 0,
			  "Pid", (json_int_t)ctr->pid, "ExitCode", ctr->exit_code, "Error", "",
			  "StartedAt", ns_time(ctr->started), "FinishedAt", ns_time(ctr->finished));
	img = image_familiar(ctr->image_name);
	int signo = (int)json_int(plan, "stop_signal", 15);
	sig = xasprintf("SIG%s", sigabbrev_np(signo) ? sigabbrev_np(signo) : "TERM");
	config = json_pack("{s:s, s:s, s:O, s:O, s:s, s:s, s:b, s:b, s:s, s:i}", "Hostname",
			   json_str(plan, "hostname") ?: "", "User", json_str(plan, "user") ?: "",
			   "Env", json_object_get(plan, "env"), "Cmd", argv, "Image", img,
			   "WorkingDir", json_str(plan, "cwd") ?: "/", "Tty",
			   json_is_true(json_object_get(plan, "tty")), "OpenStdin",
			   json_is_true(json_object_get(plan, "interactive")), "StopSignal", sig,
			   "StopTimeout", (int)json_int(plan, "stop_timeout", 10));
	hostcfg = json_pack("{s:s, s:b, s:b, s:I, s:I, s:I, s:I}", "NetworkMode",
			    run_host_network_mode(plan),
			    "Privileged", 0, "ReadonlyRootfs",
			    json_is_true(json_object_get(plan, "read_only")), "Memory",
			    json_int(plan, "memory", 0), "PidsLimit", json_int(plan, "pids_limit", 0),
			    "CpuShares", json_int(plan, "cpu_shares", 0), "NanoCpus",
			    json_int(plan, "cpu_quota", 0) * 10000);
	{
		_cleanup_free_ char *dir = store_container_dir(s, ctr->id);
		_cleanup_free_ char *up = xasprintf("%s/upper", dir);
		_cleanup_free_ char *wk = xasprintf("%s/work", dir);
		_cleanup_free_ char *mg = run_merged_dir(s, ctr->id);
		gd = json_pack("{s:s, s:{s:s, s:s, s:s}}", "Name", store_driver(s), "Data",
			       "UpperDir", up, "WorkDir", wk, "MergedDir", mg);
	}
	_cleanup_free_ char *image_id = xasprintf("sha256:%s", ctr->image_id);
	_cleanup_free_ char *logp = run_log_path(s, ctr->id);
	*out = json_pack("{s:s, s:o, s:O, s:o, s:o, s:s, s:s, s:s, s:s, s:i, s:o, s:o, s:o}", "Id",
			 ctr->id, "Created", ns_time(ctr->created), "Path",
			 json_array_get(argv, 0), "Args", args, "State", state, "Image", image_id,
			 "ImageName", img, "Name", ctr->name, "LogPath", logp, "RestartCount", 0,
			 "GraphDriver", gd, "Config", config, "HostConfig", hostcfg);
	if (*out) {
		const char *rt = json_str(plan, "runtime") ?: "kiln";
		json_object_set_new(hostcfg, "Runtime", json_string(rt));
		json_object_set_new(*out, "OCIRuntime", json_string(rt));
		json_object_set_new(*out, "Mounts", mounts_json(plan));
		json_object_set_new(*out, "NetworkSettings", run_net_settings(s, ctr->id, plan));
		json_object_set_new(hostcfg, "PortBindings", run_ports_json(plan));
		inspect_extras(s, ctr, plan, *out);
	}
	return *out ? 0 : kerror_set(e, EIO, "building the inspect output");
}

int cmd_container_inspect(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "size", no_argument, NULL, 's' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	_cleanup_json_ json_t *all = json_array();
	const char *format = NULL;
	int opt, r, failed = 0;
	while ((opt = cli_getopt(argc, argv, "f:sh", opts, e)) != -1) {
		switch (opt) {
		case 'f': format = optarg; break;
		case 's': break;
		case 'h':
			return cli_usage("kiln container inspect [options] CONTAINER [CONTAINER...]",
					 "  -f, --format string   Format the output using a Go "
					 "template or \"json\"\n");
		default: return -EINVAL;
		}
	}
	if (optind >= argc)
		return kerror_set(e, EINVAL, "\"kiln container inspect\" requires at least 1 "
					     "argument");
	for (int i = optind; i < argc; i++) {
		struct kerror one = { 0 };
		json_t *j;
		if (container_inspect_json(c, argv[i], &j, &one) < 0) {
			fprintf(stderr, "Error: %s\n", one.msg);
			kerror_release(&one);
			failed = 1;
			continue;
		}
		json_array_append_new(all, j);
	}
	r = template_print_inspect(stdout, format, all, e);
	if (r < 0)
		return r;
	return failed;
}
