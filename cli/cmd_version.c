/* kiln version, kiln info */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cli/cli.h"

static int print_formatted(json_t *data, const char *format, struct kerror *e)
{
	struct buf b = { 0 };
	_cleanup_free_ char *t = NULL;
	int r;
	if (strcmp(format, "json") == 0) {
		_cleanup_free_ char *s = json_dump_compact(data);
		printf("%s\n", s);
		return 0;
	}
	r = template_render(format, data, &b, e);
	if (r == 0)
		printf("%s\n", b.data ? b.data : "");
	buf_release(&b);
	return r;
}

static const char *format_flag(int argc, char **argv, const char *usage, struct kerror *e, int *r)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	int opt;
	*r = 0;
	while ((opt = cli_getopt(argc, argv, "f:h", opts, e)) != -1) {
		if (opt == 'f') {
			format = optarg;
		} else if (opt == 'h') {
			cli_usage(usage, "  -f, --format string   Format output using a Go template\n");
			*r = 1;
			return NULL;
		} else {
			*r = -EINVAL;
			return NULL;
		}
	}
	return format;
}

int cmd_version(struct cli *c, int argc, char **argv, struct kerror *e)
{
	struct platform host = { 0 };
	const char *format;
	json_t *v;
	int r;

	(void)c;
	format = format_flag(argc, argv, "kiln version [OPTIONS]", e, &r);
	if (r)
		return r < 0 ? r : 0;
	platform_host(&host);
	v = json_pack("{s:{s:s, s:s, s:s, s:s, s:s}}", "Client", "Version", KILN_VERSION,
		      "ApiVersion", "1.41", "BuildTime", __DATE__ " " __TIME__, "Os", host.os,
		      "Arch", host.architecture);
	platform_release(&host);
	if (format) {
		r = print_formatted(v, format, e);
	} else {
		json_t *cl = json_object_get(v, "Client");
		printf("Client:\n"
		       " Version:           %s\n"
		       " API version:       %s\n"
		       " Built:             %s\n"
		       " OS/Arch:           %s/%s\n",
		       json_str(cl, "Version"), json_str(cl, "ApiVersion"), json_str(cl, "BuildTime"),
		       json_str(cl, "Os"), json_str(cl, "Arch"));
		r = 0;
	}
	json_decref(v);
	return r;
}

static char *os_pretty_name(void)
{
	_cleanup_free_ char *data = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };
	size_t len;
	if (fs_read_file("/etc/os-release", 65536, &data, &len, &e) < 0)
		return xstrdup("Linux");
	for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
		if (str_has_prefix(line, "PRETTY_NAME=")) {
			char *v = line + 12;
			size_t n = strlen(v);
			if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
				return xstrndup(v + 1, n - 2);
			return xstrdup(v);
		}
	}
	return xstrdup("Linux");
}

static int cgroup_version(void)
{
	struct statfs sf;
	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == 0x63677270 /* CGROUP2 */)
		return 2;
	return 1;
}

int cmd_info(struct cli *c, int argc, char **argv, struct kerror *e)
{
	struct image_info **list = NULL;
	struct platform host = { 0 };
	struct utsname u;
	const char *format;
	struct store *s;
	size_t n = 0;
	json_t *info;
	int r;

	format = format_flag(argc, argv, "kiln info [OPTIONS]", e, &r);
	if (r)
		return r < 0 ? r : 0;
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	r = store_image_list(s, &list, &n, e);
	if (r < 0)
		return r;
	image_list_free(list, n);
	uname(&u);
	platform_host(&host);
	_cleanup_free_ char *osname = os_pretty_name();
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	info = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:b, s:s}",
			 "Images", (json_int_t)n, "Driver", store_driver(s), "KernelVersion",
			 u.release, "OperatingSystem", osname, "OSType", "linux", "Architecture",
			 u.machine, "CgroupVersion", cgroup_version() == 2 ? "2" : "1", "NCPU",
			 (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "MemTotal",
			 (json_int_t)pages * psize, "DockerRootDir", store_root(s), "ServerVersion",
			 KILN_VERSION, "Name", u.nodename, "Rootless", fs_rootless(), "LoggingDriver",
			 "k8s-file");
	platform_release(&host);
	if (format) {
		r = print_formatted(info, format, e);
	} else {
		char mem[32];
		format_size((uint64_t)json_int(info, "MemTotal", 0), mem, sizeof(mem));
		printf("Client:\n"
		       " Version:    %s\n\n"
		       "Server:\n"
		       " Images: %lld\n"
		       " Server Version: %s\n"
		       " Storage Driver: %s\n"
		       " Logging Driver: %s\n"
		       " Cgroup Version: %s\n"
		       " Kernel Version: %s\n"
		       " Operating System: %s\n"
		       " OSType: linux\n"
		       " Architecture: %s\n"
		       " CPUs: %lld\n"
		       " Total Memory: %s\n"
		       " Name: %s\n"
		       " Kiln Root Dir: %s\n"
		       " Rootless: %s\n",
		       KILN_VERSION, (long long)n, KILN_VERSION, store_driver(s), "k8s-file",
		       json_str(info, "CgroupVersion"), u.release, osname, u.machine,
		       (long long)json_int(info, "NCPU", 0), mem, u.nodename, store_root(s),
		       fs_rootless() ? "true" : "false");
		r = 0;
	}
	json_decref(info);
	return r;
}
