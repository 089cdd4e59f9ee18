/* kiln build [OPTIONS] [CONTEXT]: flags with Docker's and Podman's names;
 * the work is build_run's (build/executor.c).  Also `kiln image build` and
 * `kiln bud`.  --dump-ast FILE prints the parse tree. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "build/build.h"
#include "cli/registry_flags.h"

#define CONTAINERFILE_MAX (16 * 1024 * 1024)
#define ARG_FILE_MAX (1024 * 1024)

static const char build_usage[] = "kiln build [OPTIONS] [CONTEXT]";
static const char build_options[] =
	"      --annotation list        Set metadata for an image (OCI manifest annotations)\n"
	"      --build-arg list         Set build-time variables (KEY=VALUE or KEY)\n"
	"      --build-arg-file file    Read build-time variables from a file\n"
	"      --cache-from repo        Look up cache entries in this registry repository\n"
	"      --cache-to repo          Push cache entries to this registry repository\n"
	"      --disable-compression    Do not compress layers (the default: layers are\n"
	"                               compressed only when pushed)\n"
	"      --dump-ast file          Print the parse tree of a Containerfile and exit\n"
	"  -f, --file file              Containerfile to use (\"-\" reads stdin)\n"
	"      --format string          Image format: oci or docker (default \"oci\")\n"
	"      --iidfile file           Write the image ID to the file\n"
	"      --isolation string       chroot, oci or rootless (all run RUN steps with kiln's\n"
	"                               own runtime)\n"
	"      --jobs int               Stages built in parallel (default 1)\n"
	"      --label list             Set metadata for an image\n"
	"      --layers                 Use and fill the build cache (default true)\n"
	"      --network, --net string  Network for RUN steps: private (default; also\n"
	"                               \"bridge\", \"default\"), none or host\n"
	"      --no-cache               Do not use the build cache\n"
	"      --platform string        Target platform: the host's (linux/amd64 here)\n"
	"      --pull[=string]          Pull base images: always (no value), missing (default),\n"
	"                               never, newer\n"
	"  -q, --quiet                  Print only the image ID\n"
	"      --secret id=ID,src=FILE  A secret for RUN --mount=type=secret (or env=VAR)\n"
	"      --squash                 Squash the layers this build adds into one\n"
	"      --ssh default|ID=PATH    An SSH agent socket for RUN --mount=type=ssh\n"
	"      --squash-all             Squash all layers, the base's too, into one\n"
	"  -o, --output string          Also export the root: type=local,dest=DIR or\n"
	"                               type=tar,dest=FILE\n"
	"  -t, --tag list               Name and optionally a tag for the image\n"
	"      --target string          Stage to build\n"
	"      --timestamp int          Set created times to this epoch (reproducible IDs)\n"
	"  -v, --volume list            Bind mount a volume into RUN steps\n"
	"                               (/HOST-DIR:/CONTAINER-DIR[:ro])\n"
	SIGN_PULL_HELP
	REGISTRY_OPTIONS_HELP;

static int dump_ast(const char *path, struct kerror *e)
{
	_cleanup_free_ char *data = NULL;
	_cleanup_containerfile_ struct containerfile *cf = NULL;
	struct buf out = { 0 };
	size_t len;
	int r;

	if (strcmp(path, "-") == 0)
		r = fs_read_fd(STDIN_FILENO, CONTAINERFILE_MAX, "stdin", &data, &len, e);
	else
		r = fs_read_file(path, CONTAINERFILE_MAX, &data, &len, e);
	if (r < 0)
		return r;
	r = containerfile_parse(data, len, strcmp(path, "-") ? path : "stdin", &cf, e);
	if (r < 0)
		return r;
	containerfile_dump_ast(cf, &out);
	if (out.data)
		fputs(out.data, stdout);
	buf_release(&out);
	return 0;
}

/* "K=V" as is; "K" takes the value from the environment, or is dropped. */
static void add_build_arg(char ***args, const char *a)
{
	if (strchr(a, '=')) {
		strv_push(args, xstrdup(a));
		return;
	}
	const char *v = getenv(a);
	if (v)
		strv_push(args, xasprintf("%s=%s", a, v));
}

static int read_arg_file(char ***args, const char *path, struct kerror *e)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	char *save = NULL;
	int r = fs_read_file(path, ARG_FILE_MAX, &data, &len, e);
	if (r < 0)
		return kerror_wrap(e, "--build-arg-file");
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t')
			line++;
		size_t n = strlen(line);
		while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		if (!*line || *line == '#')
			continue;
		add_build_arg(args, line);
	}
	return 0;
}

static int parse_timestamp(const char *s, int64_t *out, struct kerror *e)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || v < 0)
		return kerror_set(e, EINVAL, "invalid timestamp \"%s\": seconds since the epoch "
					     "expected", s);
	*out = v;
	return 0;
}

/* --cache-from/--cache-to: comma-separated repositories, without tag or
 * digest (the tags are the cache keys). */
static int add_cache_repos(char ***v, const char *list, struct kerror *e)
{
	_cleanup_free_ char *copy = xstrdup(list);
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		_cleanup_ref_ struct image_ref *ref = NULL;
		if (ref_parse(t, &ref, e) < 0)
			return kerror_wrap(e, "cache repository %s", t);
		if (ref->digest || ref->tag)
			return kerror_set(e, EINVAL, "cache repository %s: a repository without "
						     "tag or digest expected", t);
		strv_push(v, xasprintf("%s/%s", ref->domain, ref->path));
	}
	return 0;
}

/* --platform: a comma list of platforms, each the host's (kiln builds no
 * foreign images: there is no emulation to run their RUN steps). */
static int check_platform(const char *list, struct kerror *e)
{
	struct platform host = { 0 };
	_cleanup_free_ char *copy = xstrdup(list), *hs = NULL;
	char *save = NULL;
	int r = 0;
	platform_host(&host);
	hs = platform_string(&host);
	for (char *t = strtok_r(copy, ",", &save); r == 0 && t; t = strtok_r(NULL, ",", &save)) {
		struct platform p = { 0 };
		if (platform_parse(t, &p, e) < 0)
			r = kerror_wrap(e, "--platform %s", t);
		else if (!platform_match(&p, &host))
			r = kerror_set(e, ENOTSUP, "--platform %s: only the host platform (%s) can "
						   "be built: kiln does not emulate other "
						   "architectures", t, hs);
		platform_release(&p);
	}
	platform_release(&host);
	return r;
}

/* --output type=local,dest=DIR | type=tar,dest=FILE | DIR | - (a tar on
 * stdout).  The returned dest points into spec. */
static int parse_output(const char *spec, struct build_opts *o, char **owned, struct kerror *e)
{
	const char *type = NULL;
	char *dest = NULL;
	if (!strchr(spec, '=')) {
		o->output = strcmp(spec, "-") ? BUILD_OUTPUT_LOCAL : BUILD_OUTPUT_TAR;
		o->output_dest = spec;
		return 0;
	}
	for (const char *p = spec; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (!strncmp(p, "type=", 5))
			type = p + 5;
		else if (!strncmp(p, "dest=", 5)) {
			free(dest);
			dest = xstrndup(p + 5, n - 5);
		} else {
			free(dest);
			return kerror_set(e, EINVAL, "--output %s: unknown field \"%.*s\"", spec,
					  (int)n, p);
		}
		p = comma ? comma + 1 : NULL;
	}
	*owned = dest;
	if (!type || !dest || !*dest)
		return kerror_set(e, EINVAL, "--output %s: type= and dest= expected", spec);
	if (!strncmp(type, "local,", 6) || !strcmp(type, "local"))
		o->output = BUILD_OUTPUT_LOCAL;
	else if (!strncmp(type, "tar,", 4) || !strcmp(type, "tar"))
		o->output = BUILD_OUTPUT_TAR;
	else
		return kerror_set(e, EINVAL, "--output %s: type local or tar expected", spec);
	o->output_dest = dest;
	return 0;
}

int cmd_build(struct cli *c, int argc, char **argv, struct kerror *e)
{
	enum { O_AST = 256, O_ARG, O_ARGFILE, O_FORMAT, O_IID, O_LABEL, O_LAYERS, O_NOCACHE,
	       O_TARGET, O_TS, O_SQUASH, O_ANNOT, O_PULL, O_NET, O_SQUASH_ALL, O_SECRET, O_PLATFORM, O_ISOLATION, O_NOCOMPRESS, O_JOBS,
	       O_SSH, O_CACHE_FROM, O_CACHE_TO };
	const char *output = NULL;
	static const struct option opts[] = {
		{ "dump-ast", required_argument, NULL, O_AST },
		{ "cache-from", required_argument, NULL, O_CACHE_FROM },
		{ "cache-to", required_argument, NULL, O_CACHE_TO },
		{ "disable-compression", optional_argument, NULL, O_NOCOMPRESS },
		{ "isolation", required_argument, NULL, O_ISOLATION },
		{ "jobs", required_argument, NULL, O_JOBS },
		{ "platform", required_argument, NULL, O_PLATFORM },
		{ "ssh", required_argument, NULL, O_SSH },
		{ "volume", required_argument, NULL, 'v' },
		{ "annotation", required_argument, NULL, O_ANNOT },
		{ "build-arg", required_argument, NULL, O_ARG },
		{ "build-arg-file", required_argument, NULL, O_ARGFILE },
		{ "file", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "iidfile", required_argument, NULL, O_IID },
		{ "label", required_argument, NULL, O_LABEL },
		{ "layers", optional_argument, NULL, O_LAYERS },
		{ "network", required_argument, NULL, O_NET },
		{ "net", required_argument, NULL, O_NET }, /* podman's alias */
		{ "no-cache", no_argument, NULL, O_NOCACHE },
		{ "output", required_argument, NULL, 'o' },
		{ "pull", optional_argument, NULL, O_PULL },
		{ "quiet", no_argument, NULL, 'q' },
		{ "secret", required_argument, NULL, O_SECRET },
		{ "squash", no_argument, NULL, O_SQUASH },
		{ "squash-all", no_argument, NULL, O_SQUASH_ALL },
		{ "tag", required_argument, NULL, 't' },
		{ "target", required_argument, NULL, O_TARGET },
		{ "timestamp", required_argument, NULL, O_TS },
		{ "help", no_argument, NULL, 'h' },
		REGISTRY_LONGOPTS,
		SIGN_PULL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_strv_ char **tags = NULL, **args = NULL, **labels = NULL, **secrets = NULL;
	_cleanup_strv_ char **volumes = NULL, **ssh = NULL, **annotations = NULL;
	_cleanup_strv_ char **cache_from = NULL, **cache_to = NULL;
	struct build_opts o = { .layers = true, .timestamp = -1, .out = stdout, .context = "." };
	_cleanup_free_ char *output_dest = NULL;
	struct pull_opts po = { .reg = REGISTRY_OPTS_INIT, .progress = registry_progress_stderr };
	const char *ast = NULL;
	char id[DIGEST_HEX_LEN + 1];
	struct store *s;
	int opt, r, code = 125;

	while ((opt = cli_getopt(argc, argv, "f:o:qt:v:h", opts, e)) != -1) {
		r = registry_flag(opt, optarg, &po.reg, e);
		if (r < 0)
			return r;
		if (r > 0 || sign_flag(opt, optarg, &po, NULL))
			continue;
		switch (opt) {
		case O_AST: ast = optarg; break;
		case O_ANNOT:
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return kerror_set(e, EINVAL, "--annotation %s: KEY=VALUE expected",
						  optarg);
			strv_push(&annotations, xstrdup(optarg));
			break;
		case O_NOCOMPRESS: {
			/* accepted: layers are stored uncompressed and compressed
			 * only by push, so there is nothing to disable here */
			bool v;
			if (optarg && cli_parse_bool("disable-compression", optarg, &v, e) < 0)
				return -EINVAL;
			break;
		}
		case O_ISOLATION:
			if (strcmp(optarg, "chroot") && strcmp(optarg, "oci") &&
			    strcmp(optarg, "rootless") && strcmp(optarg, "default"))
				return kerror_set(e, EINVAL, "--isolation %s: chroot, oci or rootless "
							     "expected", optarg);
			break; /* kiln's own runtime runs every RUN step */
		case O_JOBS: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (!*optarg || *end || v < 0 || v > 64)
				return kerror_set(e, EINVAL, "--jobs %s: a number from 0 to 64 "
							     "expected", optarg);
			o.jobs = (int)v;
			break;
		}
		case O_PLATFORM:
			if (check_platform(optarg, e) < 0)
				return -EINVAL;
			break;
		case O_CACHE_FROM:
		case O_CACHE_TO:
			if (add_cache_repos(opt == O_CACHE_FROM ? &cache_from : &cache_to, optarg,
					    e) < 0)
				return -EINVAL;
			break;
		case O_SSH:
			strv_push(&ssh, xstrdup(optarg));
			break;
		case 'v':
			/* checked again (options, source) by the RUN step */
			if (optarg[0] != '/' || !strstr(optarg, ":/"))
				return kerror_set(e, EINVAL, "--volume %s: /HOST-DIR:/CONTAINER-DIR"
							     "[:OPTIONS] expected", optarg);
			strv_push(&volumes, xstrdup(optarg));
			break;
		case O_ARG: add_build_arg(&args, optarg); break;
		case O_ARGFILE:
			if (read_arg_file(&args, optarg, e) < 0)
				return -EINVAL;
			break;
		case 'f': o.file = optarg; break;
		case O_FORMAT:
			if (strcmp(optarg, "oci") && strcmp(optarg, "docker"))
				return kerror_set(e, EINVAL, "unrecognized image type \"%s\"", optarg);
			o.docker_format = !strcmp(optarg, "docker");
			break;
		case O_IID: o.iidfile = optarg; break;
		case O_LABEL: strv_push(&labels, xstrdup(optarg)); break;
		case O_LAYERS:
			if (optarg && cli_parse_bool("layers", optarg, &o.layers, e) < 0)
				return -EINVAL;
			if (!optarg)
				o.layers = true;
			break;
		case O_NET:
			o.network = optarg; /* checked by build_run before any work */
			break;
		case O_NOCACHE: o.no_cache = true; break;
		case O_PULL:
			if (!optarg || !strcmp(optarg, "always") || !strcmp(optarg, "true"))
				o.pull = BUILD_PULL_ALWAYS;
			else if (!strcmp(optarg, "missing") || !strcmp(optarg, "false"))
				o.pull = BUILD_PULL_MISSING;
			else if (!strcmp(optarg, "never"))
				o.pull = BUILD_PULL_NEVER;
			else if (!strcmp(optarg, "newer"))
				o.pull = BUILD_PULL_ALWAYS; /* a pull of an unchanged image is a no-op */
			else
				return kerror_set(e, EINVAL, "--pull=%s: always, missing, never or "
							     "newer expected", optarg);
			break;
		case 'q': o.quiet = true; break;
		case O_SECRET:
			if (!strstr(optarg, "id="))
				return kerror_set(e, EINVAL, "--secret %s: id=NAME,src=FILE or "
							     "id=NAME,env=VAR expected", optarg);
			strv_push(&secrets, xstrdup(optarg));
			break;
		case O_SQUASH: o.squash = BUILD_SQUASH_NEW; break;
		case O_SQUASH_ALL: o.squash = BUILD_SQUASH_ALL; break;
		case 'o': output = optarg; break;
		case 't': {
			_cleanup_ref_ struct image_ref *ref = NULL;
			if (ref_parse_local(optarg, &ref, e) < 0)
				return kerror_wrap(e, "tag %s", optarg);
			strv_push(&tags, ref_string(ref));
			break;
		}
		case O_TARGET: o.target = optarg; break;
		case O_TS:
			if (parse_timestamp(optarg, &o.timestamp, e) < 0)
				return -EINVAL;
			break;
		case 'h': return cli_usage(build_usage, build_options);
		default: return -EINVAL;
		}
	}
	if (ast)
		return dump_ast(ast, e);
	if (argc - optind > 1)
		return kerror_set(e, EINVAL, "\"kiln build\" accepts at most 1 argument\n"
					     "See 'kiln build --help'.");
	if (argc - optind == 1)
		o.context = argv[optind];
	if (o.timestamp < 0 && getenv("SOURCE_DATE_EPOCH") && *getenv("SOURCE_DATE_EPOCH")) {
		if (parse_timestamp(getenv("SOURCE_DATE_EPOCH"), &o.timestamp, e) < 0)
			return kerror_wrap(e, "SOURCE_DATE_EPOCH");
	}
	if (output && parse_output(output, &o, &output_dest, e) < 0)
		return -EINVAL;
	/* A tar on stdout: the step lines and the ID go to stderr. */
	bool tar_stdout = o.output == BUILD_OUTPUT_TAR && !strcmp(o.output_dest, "-");
	if (tar_stdout)
		o.out = stderr;
	o.pull_opts = &po;
	o.secrets = secrets;
	o.tags = tags;
	o.build_args = args;
	o.labels = labels;
	o.volumes = volumes;
	o.ssh = ssh;
	o.annotations = annotations;
	o.cache_from = cache_from;
	o.cache_to = cache_to;
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	r = build_run(s, &o, id, &code, e);
	if (r < 0) {
		c->exit_code = code;
		return r;
	}
	{
		_cleanup_free_ char *name = o.tags && o.tags[0] ? image_event_name(o.tags[0], true)
							      : NULL;
		store_image_event(s, "build", id, name);
	}
	fprintf(tar_stdout ? stderr : stdout, "%s\n", id);
	return 0;
}
