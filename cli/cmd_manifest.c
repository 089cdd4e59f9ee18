/* kiln manifest create|add|annotate|remove|inspect|push|rm|exists: manifest
 * lists (OCI indexes, Docker lists) kept in the store, as podman manifest. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/registry_flags.h"

/* A list by ID, full name or the names a short one stands for. */
static int find_list(struct store *s, const char *what, struct mlist_rec *out, struct kerror *e)
{
	_cleanup_strv_ char **cands = NULL;
	struct kerror ign = { 0 };
	if (store_mlist_get(s, what, out, &ign) == 0)
		return 0;
	kerror_release(&ign);
	cands = ref_local_candidates(what, NULL);
	for (size_t i = 0; cands && cands[i]; i++) {
		if (store_mlist_get(s, cands[i], out, &ign) == 0)
			return 0;
		kerror_release(&ign);
	}
	return kerror_set(e, ENOENT, "%s: image not known", what);
}

/* A parsed list and its sources, written back by save(). */
struct edit {
	struct mlist_rec rec;
	json_t *doc, *sources;
};

static int edit_open(struct store *s, const char *what, struct edit *ed, struct kerror *e)
{
	int r = find_list(s, what, &ed->rec, e);
	if (r == 0)
		r = json_parse(ed->rec.doc, ed->rec.doc_len, &ed->doc, e);
	if (r == 0)
		r = json_parse(ed->rec.sources, strlen(ed->rec.sources), &ed->sources, e);
	return r;
}

static void edit_release(struct edit *ed)
{
	mlist_rec_release(&ed->rec);
	json_decref(ed->doc);
	json_decref(ed->sources);
}

/* A list of only Docker manifests is a Docker list, else an OCI index. */
static void fix_type(json_t *doc)
{
	json_t *arr = json_object_get(doc, "manifests"), *d;
	bool docker = json_array_size(arr) > 0;
	size_t i;
	json_array_foreach(arr, i, d) {
		const char *mt = json_str(d, "mediaType");
		docker = docker && mt && !strcmp(mt, MT_DOCKER_MANIFEST);
	}
	json_object_set_new(doc, "mediaType", json_string(docker ? MT_DOCKER_LIST : MT_OCI_INDEX));
}

static int edit_save(struct store *s, struct edit *ed, bool create, struct kerror *e)
{
	free(ed->rec.doc);
	free(ed->rec.sources);
	ed->rec.doc = json_dump_compact(ed->doc);
	ed->rec.doc_len = strlen(ed->rec.doc);
	ed->rec.sources = json_dump_compact(ed->sources);
	return store_mlist_put(s, &ed->rec, create, e);
}

/* Flags shared by add and annotate. */
struct platform_flags {
	const char *os, *arch, *variant, *os_version;
	char **features, **annotations;
};

static int apply_flags(json_t *d, const struct platform_flags *f, struct kerror *e)
{
	json_t *p = json_object_get(d, "platform");
	if (!json_is_object(p) && (f->os || f->arch || f->variant || f->os_version || f->features)) {
		p = json_object();
		json_object_set_new(d, "platform", p);
	}
	if (f->arch)
		json_object_set_new(p, "architecture", json_string(f->arch));
	if (f->os)
		json_object_set_new(p, "os", json_string(f->os));
	if (f->os_version)
		json_object_set_new(p, "os.version", json_string(f->os_version));
	if (f->features)
		json_object_set_new(p, "os.features", json_from_strv(f->features));
	if (f->variant)
		json_object_set_new(p, "variant", json_string(f->variant));
	for (size_t i = 0; f->annotations && f->annotations[i]; i++) {
		const char *kv = f->annotations[i], *eq = strchr(kv, '=');
		json_t *a = json_object_get(d, "annotations");
		if (!eq || eq == kv)
			return kerror_set(e, EINVAL, "no value given for annotation \"%s\"", kv);
		if (!json_is_object(a)) {
			a = json_object();
			json_object_set_new(d, "annotations", a);
		}
		_cleanup_free_ char *k = xstrndup(kv, (size_t)(eq - kv));
		json_object_set_new(a, k, json_string(eq + 1));
	}
	return 0;
}

static json_t *find_instance(json_t *doc, const char *digest, size_t *idx)
{
	json_t *arr = json_object_get(doc, "manifests"), *d;
	size_t i;
	json_array_foreach(arr, i, d) {
		const char *dg = json_str(d, "digest");
		if (dg && (!strcmp(dg, digest) || !strcmp(digest_hex(dg), digest))) {
			if (idx)
				*idx = i;
			return d;
		}
	}
	return NULL;
}

/* Adds (or replaces) one instance. */
static void put_instance(struct edit *ed, json_t *d, json_t *src)
{
	size_t idx;
	const char *dg = json_str(d, "digest");
	json_t *arr = json_object_get(ed->doc, "manifests");
	if (find_instance(ed->doc, dg, &idx))
		json_array_set(arr, idx, d);
	else
		json_array_append(arr, d);
	json_object_set(ed->sources, dg, src);
}

static json_t *platform_of(const struct image_config *cfg)
{
	json_t *p = json_object();
	const char *v = json_str(cfg->json, "variant");
	const char *ov = json_str(cfg->json, "os.version");
	json_object_set_new(p, "architecture", json_string(config_architecture(cfg) ?: ""));
	json_object_set_new(p, "os", json_string(config_os(cfg) ?: ""));
	if (ov)
		json_object_set_new(p, "os.version", json_string(ov));
	if (v)
		json_object_set_new(p, "variant", json_string(v));
	return p;
}

static json_t *descriptor_json(const char *mt, const char *digest, size_t size, json_t *platform)
{
	json_t *d = json_pack("{s:s, s:I, s:s}", "mediaType", mt, "size", (json_int_t)size,
			      "digest", digest);
	if (platform)
		json_object_set_new(d, "platform", platform);
	return d;
}

static int add_remote(struct edit *ed, const struct registry_opts *ro, const char *ref, bool all,
		      const struct platform_flags *f, struct kerror *e)
{
	struct remote_image ri;
	_cleanup_free_ char *name = NULL;
	enum manifest_kind kind;
	int r = registry_inspect_remote(ro, ref, NULL, false, &ri, e);
	if (r < 0)
		return r;
	name = xstrdup(ri.name);
	kind = manifest_detect(ri.raw, ri.raw_len, ri.media_type);
	if (kind == MANIFEST_OCI_INDEX || kind == MANIFEST_DOCKER_LIST) {
		_cleanup_index_ struct manifest_index *x = NULL;
		r = index_parse(ri.raw, ri.raw_len, &x, e);
		for (size_t i = 0; r == 0 && i < x->n_manifests; i++) {
			const struct descriptor *dd = &x->manifests[i];
			json_t *d;
			_cleanup_free_ char *sref = xasprintf("docker://%s@%s", name, dd->digest);
			_cleanup_json_ json_t *src = json_pack("{s:s}", "ref", sref);
			/* Without --all: only the instance inspect chose for
			 * this host. */
			if (!all) {
				char got[DIGEST_STR_LEN + 1];
				digest_bytes(ri.m->raw, ri.m->raw_len, got);
				if (strcmp(got, dd->digest))
					continue;
			}
			d = descriptor_to_json(dd);
			r = apply_flags(d, f, e);
			if (r == 0)
				put_instance(ed, d, src);
			json_decref(d);
		}
	} else {
		_cleanup_free_ char *sref = xasprintf("docker://%s@%s", name, ri.digest);
		_cleanup_json_ json_t *src = json_pack("{s:s}", "ref", sref);
		json_t *d = descriptor_json(kind == MANIFEST_DOCKER_V2S2 ? MT_DOCKER_MANIFEST
									 : MT_OCI_MANIFEST,
					    ri.digest, ri.raw_len, platform_of(ri.config));
		r = apply_flags(d, f, e);
		if (r == 0)
			put_instance(ed, d, src);
		json_decref(d);
	}
	remote_image_release(&ri);
	return r;
}

static int add_local(struct cli *c, struct edit *ed, const char *image,
		     const struct platform_flags *f, struct kerror *e)
{
	_cleanup_image_info_ struct image_info *info = NULL;
	_cleanup_config_ struct image_config *cfg = NULL;
	_cleanup_free_ char *data = NULL;
	_cleanup_json_ json_t *src = NULL;
	char digest[DIGEST_STR_LEN + 1];
	struct store *s;
	size_t len = 0;
	json_t *d;
	int r = cli_store(c, &s, e);
	if (r == 0)
		r = store_image_lookup(s, image, &info, e);
	if (r == 0)
		r = image_load_config(c, info, &cfg, e);
	if (r == 0)
		r = registry_image_manifest(s, info->id, PUSH_FORMAT_DEFAULT, &data, &len, e);
	if (r < 0)
		return r;
	digest_bytes(data, len, digest);
	d = descriptor_json(manifest_detect(data, len, NULL) == MANIFEST_DOCKER_V2S2
				    ? MT_DOCKER_MANIFEST
				    : MT_OCI_MANIFEST,
			    digest, len, platform_of(cfg));
	src = json_pack("{s:s}", "image", info->id);
	r = apply_flags(d, f, e);
	if (r == 0)
		put_instance(ed, d, src);
	json_decref(d);
	return r;
}

static int add_one(struct cli *c, struct edit *ed, const struct registry_opts *ro,
		   const char *image, bool all, const struct platform_flags *f, struct kerror *e)
{
	if (str_has_prefix(image, "docker://"))
		return add_remote(ed, ro, image, all, f, e);
	return add_local(c, ed, image, f, e);
}

enum { OPT_OS = 300, OPT_ARCH, OPT_VARIANT, OPT_OS_VERSION, OPT_FEATURES, OPT_ANNOTATION,
       OPT_ALL, OPT_AMEND, OPT_INDEX, OPT_DIGESTFILE, OPT_RM, OPT_FORMAT };

#define PLATFORM_LONGOPTS                                                  \
	{ "os", required_argument, NULL, OPT_OS },                         \
	{ "arch", required_argument, NULL, OPT_ARCH },                     \
	{ "variant", required_argument, NULL, OPT_VARIANT },               \
	{ "os-version", required_argument, NULL, OPT_OS_VERSION },         \
	{ "features", required_argument, NULL, OPT_FEATURES },             \
	{ "os-features", required_argument, NULL, OPT_FEATURES },          \
	{ "annotation", required_argument, NULL, OPT_ANNOTATION }

static bool platform_flag(int opt, const char *arg, struct platform_flags *f)
{
	switch (opt) {
	case OPT_OS: f->os = arg; return true;
	case OPT_ARCH: f->arch = arg; return true;
	case OPT_VARIANT: f->variant = arg; return true;
	case OPT_OS_VERSION: f->os_version = arg; return true;
	case OPT_FEATURES: strv_push(&f->features, xstrdup(arg)); return true;
	case OPT_ANNOTATION: strv_push(&f->annotations, xstrdup(arg)); return true;
	default: return false;
	}
}

static void platform_flags_release(struct platform_flags *f)
{
	strv_free(f->features);
	strv_free(f->annotations);
}

/* create and add share their flags: create LIST [IMAGE…], add LIST IMAGE. */
static int do_create_add(struct cli *c, int argc, char **argv, bool create, struct kerror *e)
{
	static const struct option opts[] = {
		PLATFORM_LONGOPTS,
		{ "all", no_argument, NULL, OPT_ALL },
		{ "amend", no_argument, NULL, OPT_AMEND },
		{ "help", no_argument, NULL, 'h' },
		REGISTRY_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct registry_opts ro = REGISTRY_OPTS_INIT;
	struct platform_flags f = { 0 };
	struct edit ed = { 0 };
	bool all = false, amend = false;
	struct store *s;
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "h", opts, e)) != -1) {
		r = registry_flag(opt, optarg, &ro, e);
		if (r < 0)
			goto out;
		if (r > 0 || platform_flag(opt, optarg, &f))
			continue;
		switch (opt) {
		case OPT_ALL: all = true; break;
		case OPT_AMEND: amend = true; break;
		case 'h':
			r = cli_usage(create ? "kiln manifest create [OPTIONS] LIST [IMAGE...]"
					     : "kiln manifest add [OPTIONS] LIST IMAGE",
				      "      --all                 add all of the list's images if the image is a list\n"
				      "      --annotation strings  set an annotation for the specified image\n"
				      "      --arch string         override the architecture of the specified image\n"
				      "      --os string           override the OS of the specified image\n"
				      "      --variant string      override the Variant of the specified image\n"
				      REGISTRY_OPTIONS_HELP);
			goto out;
		default: r = -EINVAL; goto out;
		}
	}
	if (create ? argc - optind < 1 : argc - optind != 2) {
		r = kerror_set(e, EINVAL, create ? "\"kiln manifest create\" requires at least 1 "
						   "argument"
						 : "\"kiln manifest add\" requires exactly 2 arguments");
		goto out;
	}
	r = cli_store(c, &s, e);
	if (r < 0)
		goto out;
	if (create) {
		_cleanup_ref_ struct image_ref *ref = NULL;
		r = ref_parse_local(argv[optind], &ref, e);
		if (r < 0)
			goto out;
		ed.rec.name = ref_string(ref);
		if (amend && edit_open(s, ed.rec.name, &ed, NULL) == 0) {
			create = false;
		} else {
			ed.doc = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
					   MT_OCI_INDEX, "manifests");
			ed.sources = json_object();
		}
	} else {
		r = edit_open(s, argv[optind], &ed, e);
		if (r < 0)
			goto out;
	}
	for (int i = optind + 1; i < argc; i++) {
		r = add_one(c, &ed, &ro, argv[i], all, &f, e);
		if (r < 0)
			goto out;
	}
	fix_type(ed.doc);
	r = edit_save(s, &ed, create, e);
	if (r == 0)
		printf("%s\n", ed.rec.id);
out:
	platform_flags_release(&f);
	edit_release(&ed);
	return r;
}

static int cmd_create(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return do_create_add(c, argc, argv, true, e);
}

static int cmd_add(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return do_create_add(c, argc, argv, false, e);
}

/* The instance an argument names: a digest, or a local image in the list. */
static json_t *instance_arg(struct store *s, struct edit *ed, const char *arg)
{
	json_t *d = find_instance(ed->doc, arg, NULL);
	_cleanup_image_info_ struct image_info *info = NULL;
	const char *k;
	json_t *v;
	if (d || store_image_lookup(s, arg, &info, NULL) < 0)
		return d;
	json_object_foreach(ed->sources, k, v) {
		const char *img = json_str(v, "image");
		if (img && !strcmp(img, info->id))
			return find_instance(ed->doc, k, NULL);
	}
	return NULL;
}

static int cmd_annotate(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		PLATFORM_LONGOPTS,
		{ "index", no_argument, NULL, OPT_INDEX },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct platform_flags f = { 0 };
	struct edit ed = { 0 };
	bool index = false;
	struct store *s;
	json_t *d;
	int opt, r = 0;

	while ((opt = cli_getopt(argc, argv, "h", opts, e)) != -1) {
		if (platform_flag(opt, optarg, &f))
			continue;
		if (opt == OPT_INDEX) {
			index = true;
			continue;
		}
		if (opt == 'h') {
			r = cli_usage("kiln manifest annotate [OPTIONS] LIST IMAGE|DIGEST", NULL);
			goto out;
		}
		r = -EINVAL;
		goto out;
	}
	if (argc - optind != (index ? 1 : 2)) {
		r = kerror_set(e, EINVAL, "\"kiln manifest annotate\" requires exactly 2 arguments");
		goto out;
	}
	r = cli_store(c, &s, e);
	if (r == 0)
		r = edit_open(s, argv[optind], &ed, e);
	if (r < 0)
		goto out;
	d = index ? ed.doc : instance_arg(s, &ed, argv[optind + 1]);
	if (!d) {
		r = kerror_set(e, ENOENT, "no instance matching digest \"%s\" found in manifest "
					  "list", argv[optind + 1]);
		goto out;
	}
	if (index && (f.os || f.arch || f.variant || f.os_version || f.features)) {
		r = kerror_set(e, EINVAL, "--index takes only --annotation");
		goto out;
	}
	r = apply_flags(d, &f, e);
	if (r == 0)
		r = edit_save(s, &ed, false, e);
	if (r == 0)
		printf("%s\n", ed.rec.id);
out:
	platform_flags_release(&f);
	edit_release(&ed);
	return r;
}

static int cmd_remove(struct cli *c, int argc, char **argv, struct kerror *e)
{
	struct edit ed = { 0 };
	struct store *s;
	size_t idx;
	json_t *d;
	int r;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return cli_usage("kiln manifest remove LIST DIGEST", NULL);
	if (argc != 3)
		return kerror_set(e, EINVAL, "\"kiln manifest remove\" requires exactly 2 arguments");
	r = cli_store(c, &s, e);
	if (r == 0)
		r = edit_open(s, argv[1], &ed, e);
	if (r == 0) {
		d = instance_arg(s, &ed, argv[2]);
		if (!d) {
			r = kerror_set(e, ENOENT, "no instance matching digest \"%s\" found in "
						  "manifest list", argv[2]);
		} else {
			const char *dg = json_str(d, "digest");
			json_object_del(ed.sources, dg);
			find_instance(ed.doc, dg, &idx);
			json_array_remove(json_object_get(ed.doc, "manifests"), idx);
			fix_type(ed.doc);
			r = edit_save(s, &ed, false, e);
		}
	}
	if (r == 0)
		printf("%s\n", ed.rec.id);
	edit_release(&ed);
	return r;
}

static int cmd_minspect(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		REGISTRY_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct registry_opts ro = REGISTRY_OPTS_INIT;
	struct mlist_rec rec = { 0 };
	struct kerror ign = { 0 };
	_cleanup_json_ json_t *j = NULL;
	_cleanup_free_ char *text = NULL;
	struct store *s;
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "h", opts, e)) != -1) {
		r = registry_flag(opt, optarg, &ro, e);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (opt == 'h')
			return cli_usage("kiln manifest inspect [OPTIONS] LIST", REGISTRY_OPTIONS_HELP);
		return -EINVAL;
	}
	if (argc - optind != 1)
		return kerror_set(e, EINVAL, "\"kiln manifest inspect\" requires exactly 1 argument");
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	if (find_list(s, argv[optind], &rec, &ign) == 0) {
		r = json_parse(rec.doc, rec.doc_len, &j, e);
		mlist_rec_release(&rec);
	} else {
		/* Not a local list: the registry's manifest. */
		struct remote_image ri;
		kerror_release(&ign);
		r = registry_inspect_remote(&ro, argv[optind], NULL, true, &ri, e);
		if (r == 0) {
			r = json_parse(ri.raw, ri.raw_len, &j, e);
			remote_image_release(&ri);
		}
	}
	if (r < 0)
		return r;
	text = json_dump_pretty(j);
	printf("%s\n", text);
	return 0;
}

static int cmd_mpush(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "all", optional_argument, NULL, OPT_ALL },
		{ "format", required_argument, NULL, 'f' },
		{ "digestfile", required_argument, NULL, OPT_DIGESTFILE },
		{ "rm", no_argument, NULL, OPT_RM },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		REGISTRY_LONGOPTS,
		SIGN_PUSH_LONGOPTS,
		{ "registries.d", required_argument, NULL, SFLAG_REGISTRIES_D },
		{ NULL, 0, NULL, 0 },
	};
	struct push_opts o = { .reg = REGISTRY_OPTS_INIT, .progress = registry_progress_stderr,
			       .compression = COMPRESSION_UNKNOWN };
	struct mlist_rec rec = { 0 };
	const char *digestfile = NULL;
	char digest[DIGEST_STR_LEN + 1];
	bool all = false, rm = false;
	struct store *s;
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "f:qh", opts, e)) != -1) {
		r = registry_flag(opt, optarg, &o.reg, e);
		if (r < 0)
			return r;
		if (r > 0 || sign_flag(opt, optarg, NULL, &o))
			continue;
		switch (opt) {
		case OPT_ALL:
			r = cli_parse_bool("--all", optarg, &all, e);
			if (r < 0)
				return r;
			break;
		case 'f':
			if (!strcmp(optarg, "oci"))
				o.format = PUSH_FORMAT_OCI;
			else if (!strcmp(optarg, "v2s2") || !strcmp(optarg, "docker"))
				o.format = PUSH_FORMAT_V2S2;
			else
				return kerror_set(e, EINVAL, "unknown format \"%s\": must be oci, "
							     "v2s2 or docker", optarg);
			break;
		case OPT_DIGESTFILE: digestfile = optarg; break;
		case OPT_RM: rm = true; break;
		case 'q': o.progress = NULL; break;
		case 'h':
			return cli_usage("kiln manifest push [OPTIONS] LIST [DESTINATION]",
					 "      --all                 push all images referenced by the list\n"
					 "      --digestfile string   after copying the image, write its digest to the file\n"
					 "  -f, --format string       manifest type (oci or v2s2) to attempt to use\n"
					 "  -q, --quiet               don't output progress information\n"
					 "      --registries.d DIR    use registries.d files in DIR for signature storage\n"
					 "      --rm                  remove the manifest list if push succeeds\n"
					 SIGN_PUSH_HELP
					 REGISTRY_OPTIONS_HELP);
		default: return -EINVAL;
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return kerror_set(e, EINVAL, "\"kiln manifest push\" requires 1 or 2 arguments");
	r = cli_store(c, &s, e);
	if (r == 0)
		r = find_list(s, argv[optind], &rec, e);
	if (r == 0)
		r = registry_push_list(s, &rec, argc - optind == 2 ? argv[optind + 1] : NULL, all,
				       &o, digest, e);
	if (r == 0 && digestfile)
		r = fs_write_atomic(digestfile, digest, strlen(digest), 0644, e);
	if (r == 0 && rm)
		r = store_mlist_remove(s, rec.id, e);
	mlist_rec_release(&rec);
	return r;
}

static int cmd_mrm(struct cli *c, int argc, char **argv, struct kerror *e)
{
	struct store *s;
	int r = 0;
	if (cli_wants_usage(argc, argv, "kiln manifest rm LIST [LIST...]"))
		return 0;
	if (argc < 2)
		return kerror_set(e, EINVAL, "\"kiln manifest rm\" requires at least 1 argument");
	r = cli_store(c, &s, e);
	for (int i = 1; r == 0 && i < argc; i++) {
		struct mlist_rec rec = { 0 };
		r = find_list(s, argv[i], &rec, e);
		if (r == 0)
			r = store_mlist_remove(s, rec.id, e);
		if (r == 0)
			printf("Untagged: %s\nDeleted: %s\n", rec.name, rec.id);
		mlist_rec_release(&rec);
	}
	return r;
}

static int cmd_mexists(struct cli *c, int argc, char **argv, struct kerror *e)
{
	struct mlist_rec rec = { 0 };
	struct kerror ign = { 0 };
	struct store *s;
	int r;
	if (cli_wants_usage(argc, argv, "kiln manifest exists LIST"))
		return 0;
	if (argc != 2)
		return kerror_set(e, EINVAL, "\"kiln manifest exists\" requires exactly 1 argument");
	r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	if (find_list(s, argv[1], &rec, &ign) < 0) {
		/* Podman: exit 1, nothing printed. */
		kerror_release(&ign);
		fflush(stdout);
		_exit(1);
	}
	mlist_rec_release(&rec);
	return 0;
}

static const struct command subs[] = {
	{ "add", cmd_add, "Add images to a manifest list or image index" },
	{ "annotate", cmd_annotate, "Add or update information about an entry in a manifest list" },
	{ "create", cmd_create, "Create manifest list or image index" },
	{ "exists", cmd_mexists, "Check if a manifest list exists in local storage" },
	{ "inspect", cmd_minspect, "Display the contents of a manifest list or image index" },
	{ "push", cmd_mpush, "Push a manifest list or image index to a registry" },
	{ "remove", cmd_remove, "Remove an entry from a manifest list or image index" },
	{ "rm", cmd_mrm, "Remove manifest list or image index from local storage" },
};

int cmd_manifest(struct cli *c, int argc, char **argv, struct kerror *e)
{
	return CLI_DISPATCH(c, argc, argv, "manifest",
			    "Manipulate manifest lists and image indexes", subs, e);
}
