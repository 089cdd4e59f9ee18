/* kiln save: images out of the store as docker-archive (Docker >= 25's
 * hybrid of an OCI layout and manifest.json), oci-archive, oci-dir or
 * docker-dir.  The plan (every file's name and content source) is built
 * first and sorted, then written: output is byte-for-byte reproducible. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storage/storage.h"

#define CONFIG_MAX (16 * 1024 * 1024)
#define ANN_CONTAINERD_NAME "io.containerd.image.name"
#define ANN_REF_NAME "org.opencontainers.image.ref.name"

int archive_format_parse(const char *name, enum archive_format *out, struct kerror *e)
{
	static const struct {
		const char *name;
		enum archive_format f;
	} names[] = {
		{ "docker-archive", ARCHIVE_DOCKER },
		{ "oci-archive", ARCHIVE_OCI },
		{ "oci-dir", ARCHIVE_OCI_DIR },
		{ "docker-dir", ARCHIVE_DOCKER_DIR },
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(name, names[i].name) == 0) {
			*out = names[i].f;
			return 0;
		}
	return kerror_set(e, EINVAL,
			  "unsupported format \"%s\": use docker-archive, oci-archive, oci-dir "
			  "or docker-dir",
			  name);
}

bool archive_format_is_dir(enum archive_format f)
{
	return f == ARCHIVE_OCI_DIR || f == ARCHIVE_DOCKER_DIR;
}

/* ---- the plan ----------------------------------------------------------- */

struct save_layer {
	char *id, *diff_id;
	int64_t size;
};

struct save_image {
	struct image_info *info;
	char **names; /* full references to tag it with */
	char *config;
	size_t config_len;
	char config_digest[DIGEST_STR_LEN + 1];
	struct save_layer *layers;
	size_t n_layers;
	char *manifest; /* OCI manifest (docker v2s2 for docker-dir) */
	char manifest_digest[DIGEST_STR_LEN + 1];
};

/* One file of the output: bytes in memory, or a layer streamed out of the
 * store. */
struct save_file {
	char *name;
	const char *data; /* borrowed */
	size_t len;
	const struct save_layer *layer;
	char *owned;
};

struct save_plan {
	const char *ref_name; /* set: the one image's only annotation (skopeo's oci:DIR:REF) */
	struct save_image *images;
	size_t n_images;
	struct save_file *files;
	size_t n_files;
};

static void plan_release(struct save_plan *p)
{
	for (size_t i = 0; i < p->n_images; i++) {
		struct save_image *im = &p->images[i];
		image_info_free(im->info);
		strv_free(im->names);
		free(im->config);
		free(im->manifest);
		for (size_t k = 0; k < im->n_layers; k++) {
			free(im->layers[k].id);
			free(im->layers[k].diff_id);
		}
		free(im->layers);
	}
	free(p->images);
	for (size_t i = 0; i < p->n_files; i++) {
		free(p->files[i].name);
		free(p->files[i].owned);
	}
	free(p->files);
}

static void plan_add(struct save_plan *p, char *name, const char *data, size_t len,
		     const struct save_layer *layer, char *owned)
{
	for (size_t i = 0; i < p->n_files; i++)
		if (strcmp(p->files[i].name, name) == 0) { /* shared blob */
			free(name);
			free(owned);
			return;
		}
	p->files = xrealloc(p->files, (p->n_files + 1) * sizeof(*p->files));
	p->files[p->n_files++] = (struct save_file){ name, data, len, layer, owned };
}

static void plan_add_json(struct save_plan *p, const char *name, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	plan_add(p, xstrdup(name), s, strlen(s), NULL, s);
	json_decref(j);
}

/* The name of img that the user's string designates (NULL for an ID). */
static char *matching_name(const struct image_info *img, const char *what)
{
	_cleanup_strv_ char **cands = ref_local_candidates(what, NULL);
	for (size_t k = 0; cands && cands[k]; k++)
		for (size_t i = 0; img->names && img->names[i]; i++)
			if (strcmp(img->names[i], cands[k]) == 0)
				return xstrdup(img->names[i]);
	return NULL;
}

static int add_image(struct store *s, struct save_plan *p, const char *what, struct kerror *e)
{
	_cleanup_image_info_ struct image_info *info = NULL;
	struct save_image *im = NULL;
	char *name;
	int r;

	r = store_image_lookup(s, what, &info, e);
	if (r < 0)
		return r;
	name = matching_name(info, what);
	for (size_t i = 0; i < p->n_images; i++)
		if (strcmp(p->images[i].info->id, info->id) == 0)
			im = &p->images[i];
	if (!im) {
		p->images = xrealloc(p->images, (p->n_images + 1) * sizeof(*p->images));
		im = &p->images[p->n_images++];
		memset(im, 0, sizeof(*im));
		im->info = steal_pointer(&info);
	}
	if (name) {
		for (size_t i = 0; im->names && im->names[i]; i++)
			if (strcmp(im->names[i], name) == 0) {
				free(name);
				return 0;
			}
		strv_push(&im->names, name);
	}
	return 0;
}

static json_t *descriptor(const char *mt, const char *digest, int64_t size)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", digest, "size",
			 (json_int_t)size);
}

/* Reads the config and layers of an image and builds its manifest. */
static int load_image(struct store *s, struct save_image *im, bool docker_v2s2, struct kerror *e)
{
	char *const *ids = im->info->layers;
	json_t *layers = json_array();
	json_t *m;
	int r;

	snprintf(im->config_digest, sizeof(im->config_digest), "sha256:%s", im->info->id);
	r = store_blob_get(s, im->config_digest, CONFIG_MAX, &im->config, &im->config_len, e);
	if (r < 0) {
		json_decref(layers);
		return kerror_wrap(e, "reading the config of image %.12s", im->info->id);
	}
	im->n_layers = strv_len(ids);
	im->layers = xcalloc(im->n_layers ? im->n_layers : 1, sizeof(*im->layers));
	for (size_t i = 0; i < im->n_layers; i++) {
		struct layer_info li = { 0 };
		r = store_layer_get(s, ids[i], &li, e);
		if (r < 0) {
			json_decref(layers);
			return r;
		}
		im->layers[i].id = steal_pointer(&li.id);
		im->layers[i].diff_id = steal_pointer(&li.diff_id);
		im->layers[i].size = li.size;
		layer_info_release(&li);
		json_array_append_new(layers, descriptor(docker_v2s2 ? MT_DOCKER_LAYER : MT_OCI_LAYER,
							 im->layers[i].diff_id,
							 im->layers[i].size));
	}
	m = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType",
		      docker_v2s2 ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST, "config",
		      descriptor(docker_v2s2 ? MT_DOCKER_CONFIG : MT_OCI_CONFIG, im->config_digest,
				 (int64_t)im->config_len),
		      "layers", layers);
	/* Field order as written by Docker and containers/image. */
	im->manifest = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(m);
	digest_bytes(im->manifest, strlen(im->manifest), im->manifest_digest);
	return 0;
}

static char *blob_name(const char *digest, bool flat)
{
	return flat ? xstrdup(digest_hex(digest)) : xasprintf("blobs/sha256/%s", digest_hex(digest));
}

static void plan_blobs(struct save_plan *p, struct save_image *im, bool flat)
{
	plan_add(p, blob_name(im->config_digest, flat), im->config, im->config_len, NULL, NULL);
	for (size_t i = 0; i < im->n_layers; i++)
		plan_add(p, blob_name(im->layers[i].diff_id, flat), NULL, 0, &im->layers[i], NULL);
	if (!flat)
		plan_add(p, blob_name(im->manifest_digest, false), im->manifest,
			 strlen(im->manifest), NULL, NULL);
}

/* "busybox" and "latest" from docker.io/library/busybox:latest. */
static void familiar_parts(const char *full, char **repo, char **tag, char **fam)
{
	_cleanup_ref_ struct image_ref *r = NULL;
	*repo = *tag = *fam = NULL;
	if (ref_parse(full, &r, NULL) < 0)
		return;
	*fam = ref_familiar(r);
	*tag = r->tag ? xstrdup(r->tag) : xstrdup(REF_DEFAULT_TAG);
	free(r->tag);
	r->tag = NULL;
	*repo = ref_familiar(r);
}

static void plan_layout(struct save_plan *p, enum archive_format fmt)
{
	bool docker = fmt == ARCHIVE_DOCKER;
	json_t *manifests = json_array();
	json_t *docker_manifest = json_array();
	json_t *repositories = json_object();

	for (size_t i = 0; i < p->n_images; i++) {
		struct save_image *im = &p->images[i];
		json_t *tags = json_array(), *paths = json_array();
		size_t n_names = strv_len(im->names);

		plan_blobs(p, im, false);
		for (size_t k = 0; k < (n_names ? n_names : 1); k++) {
			json_t *d = descriptor(MT_OCI_MANIFEST, im->manifest_digest,
					       (int64_t)strlen(im->manifest));
			if (p->ref_name) {
				json_object_set_new(d, "annotations",
						    json_pack("{s:s}", ANN_REF_NAME, p->ref_name));
			} else if (n_names) {
				_cleanup_free_ char *repo = NULL, *tag = NULL, *fam = NULL;
				familiar_parts(im->names[k], &repo, &tag, &fam);
				/* Docker >= 25 writes the bare tag, containers/image
				 * the whole name: each tool reads its own. */
				json_object_set_new(
					d, "annotations",
					json_pack("{s:s, s:s}", ANN_CONTAINERD_NAME, im->names[k],
						  ANN_REF_NAME,
						  docker ? (tag ? tag : REF_DEFAULT_TAG)
							 : im->names[k]));
				if (fam) {
					json_t *rt;
					json_array_append_new(tags, json_string(fam));
					rt = json_object_get(repositories, repo);
					if (!rt) {
						rt = json_object();
						json_object_set_new(repositories, repo, rt);
					}
					if (im->n_layers)
						json_object_set_new(
							rt, tag,
							json_string(digest_hex(
								im->layers[im->n_layers - 1].diff_id)));
				}
			}
			json_array_append_new(manifests, d);
		}
		for (size_t k = 0; k < im->n_layers; k++)
			json_array_append_new(paths, json_sprintf("blobs/sha256/%s",
								  digest_hex(im->layers[k].diff_id)));
		json_array_append_new(docker_manifest,
				      json_pack("{s:s+, s:o, s:o}", "Config", "blobs/sha256/",
						digest_hex(im->config_digest), "RepoTags", tags,
						"Layers", paths));
	}
	plan_add_json(p, "index.json",
		      json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX,
				"manifests", manifests));
	plan_add_json(p, "oci-layout", json_pack("{s:s}", "imageLayoutVersion", "1.0.0"));
	if (docker) {
		plan_add_json(p, "manifest.json", docker_manifest);
		if (json_object_size(repositories))
			plan_add_json(p, "repositories", json_incref(repositories));
	} else {
		json_decref(docker_manifest);
	}
	json_decref(repositories);
}

static void plan_docker_dir(struct save_plan *p)
{
	static const char version[] = "Directory Transport Version: 1.1\n";
	struct save_image *im = &p->images[0];

	plan_blobs(p, im, true);
	plan_add(p, xstrdup("manifest.json"), im->manifest, strlen(im->manifest), NULL, NULL);
	plan_add(p, xstrdup("version"), version, strlen(version), NULL, NULL);
}

static int cmp_files(const void *a, const void *b)
{
	return strcmp(((const struct save_file *)a)->name, ((const struct save_file *)b)->name);
}

static int build_plan(struct store *s, char *const *images, enum archive_format fmt,
		      struct save_plan *p, struct kerror *e)
{
	int r;

	if (!images || !images[0])
		return kerror_set(e, EINVAL, "no image to save");
	for (size_t i = 0; images[i]; i++) {
		r = add_image(s, p, images[i], e);
		if (r < 0)
			return r;
	}
	if (fmt == ARCHIVE_DOCKER_DIR && p->n_images > 1)
		return kerror_set(e, EINVAL, "docker-dir holds one image, %zu were given",
				  p->n_images);
	for (size_t i = 0; i < p->n_images; i++) {
		r = load_image(s, &p->images[i], fmt == ARCHIVE_DOCKER_DIR, e);
		if (r < 0)
			return r;
	}
	if (fmt == ARCHIVE_DOCKER_DIR)
		plan_docker_dir(p);
	else
		plan_layout(p, fmt);
	qsort(p->files, p->n_files, sizeof(*p->files), cmp_files);
	return 0;
}

/* ---- writing: a tar or a directory ------------------------------------- */

struct writer {
	struct store *s;
	struct tar_writer *a; /* tar output, or NULL */
	int dirfd;         /* directory output */
	int fd;            /* the file being written (directory output) */
	char **dirs_done;
};

static int tar_sink(void *ctx, const void *data, size_t n, struct kerror *e)
{
	struct writer *w = ctx;
	return tar_writer_data(w->a, data, n, e);
}

static int fd_sink(void *ctx, const void *data, size_t n, struct kerror *e)
{
	struct writer *w = ctx;
	if (fs_write_all(w->fd, data, n) < 0)
		return kerror_sys(e, errno, "writing the layer");
	return 0;
}

static int tar_header(struct writer *w, const char *name, bool dir, int64_t size,
		      struct kerror *e)
{
	struct tar_entry t = {
		.name = name,
		.type = dir ? TAR_DIR : TAR_REG,
		.mode = dir ? 0755 : 0644,
		.size = dir ? 0 : size,
	};
	int r = tar_writer_add(w->a, &t, e);
	if (r < 0)
		return kerror_wrap(e, "writing the archive entry \"%s\"", name);
	return 0;
}

/* Parent directories of name, once each (tar entries / mkdirat). */
static int write_parents(struct writer *w, const char *name, struct kerror *e)
{
	for (const char *sl = strchr(name, '/'); sl; sl = strchr(sl + 1, '/')) {
		_cleanup_free_ char *d = xstrndup(name, (size_t)(sl - name));
		bool done = false;
		int r;
		for (size_t i = 0; w->dirs_done && w->dirs_done[i]; i++)
			done = done || strcmp(w->dirs_done[i], d) == 0;
		if (done)
			continue;
		if (w->a) {
			_cleanup_free_ char *slashed = xasprintf("%s/", d);
			r = tar_header(w, slashed, true, 0, e);
			if (r < 0)
				return r;
		} else if (mkdirat(w->dirfd, d, 0755) < 0 && errno != EEXIST) {
			return kerror_sys(e, errno, "creating \"%s\"", d);
		}
		strv_push(&w->dirs_done, steal_pointer(&d));
	}
	return 0;
}

static int write_file(struct writer *w, const struct save_file *f, struct kerror *e)
{
	int64_t size = f->layer ? f->layer->size : (int64_t)f->len;
	int r = write_parents(w, f->name, e);

	if (r < 0)
		return r;
	if (w->a) {
		r = tar_header(w, f->name, false, size, e);
		if (r < 0)
			return r;
		if (f->layer)
			return store_layer_read_tar(w->s, f->layer->id, tar_sink, w, e);
		return f->len ? tar_sink(w, f->data, f->len, e) : 0;
	}
	w->fd = openat(w->dirfd, f->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (w->fd < 0)
		return kerror_sys(e, errno, "creating \"%s\"", f->name);
	if (f->layer)
		r = store_layer_read_tar(w->s, f->layer->id, fd_sink, w, e);
	else if (fs_write_all(w->fd, f->data, f->len) < 0)
		r = kerror_sys(e, errno, "writing \"%s\"", f->name);
	if (r == 0 && fsync(w->fd) < 0)
		r = kerror_sys(e, errno, "writing \"%s\"", f->name);
	close(w->fd);
	w->fd = -1;
	return r;
}

static int write_all(struct writer *w, const struct save_plan *p, struct kerror *e)
{
	for (size_t i = 0; i < p->n_files; i++) {
		int r = write_file(w, &p->files[i], e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int fd_out(void *ctx, const void *data, size_t n, struct kerror *e)
{
	int r = fs_write_all(*(int *)ctx, data, n);
	return r < 0 ? kerror_sys(e, -r, "writing the archive") : 0;
}

static int save_tar(struct store *s, const struct save_plan *p, int fd, struct kerror *e)
{
	struct writer w = { .s = s, .dirfd = -1, .fd = -1 };
	int r;

	struct tar_writer tw = { .sink = fd_out, .ctx = &fd };
	w.a = &tw;
	r = write_all(&w, p, e);
	if (r == 0)
		r = tar_writer_close(&tw, e);
	strv_free(w.dirs_done);
	return r;
}

int store_archive_save_fd(struct store *s, char *const *images, enum archive_format fmt, int fd,
			  struct kerror *e)
{
	struct save_plan p = { 0 };
	int r;

	if (archive_format_is_dir(fmt))
		return kerror_set(e, EINVAL, "a directory format needs an output path");
	r = build_plan(s, images, fmt, &p, e);
	if (r == 0)
		r = save_tar(s, &p, fd, e);
	plan_release(&p);
	return r;
}

static int save_dir(struct store *s, const struct save_plan *p, const char *dir,
		    struct kerror *e)
{
	struct writer w = { .s = s, .fd = -1 };
	int r;

	w.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w.dirfd < 0)
		return kerror_sys(e, errno, "opening \"%s\"", dir);
	r = write_all(&w, p, e);
	if (r == 0 && fsync(w.dirfd) < 0)
		r = kerror_sys(e, errno, "writing \"%s\"", dir);
	close(w.dirfd);
	strv_free(w.dirs_done);
	return r;
}

static int save_path(struct store *s, char *const *images, enum archive_format fmt,
		     const char *path, const char *ref_name, struct kerror *e)
{
	struct save_plan p = { .ref_name = ref_name };
	_cleanup_free_ char *copy = xstrdup(path), *copy2 = xstrdup(path);
	_cleanup_free_ char *tmp = xasprintf("%s/.%s.kiln-XXXXXX", dirname(copy), basename(copy2));
	bool dir = archive_format_is_dir(fmt);
	int r;

	r = build_plan(s, images, fmt, &p, e);
	if (r < 0)
		goto out;
	if (dir) {
		if (!mkdtemp(tmp)) {
			r = kerror_sys(e, errno, "creating a directory beside \"%s\"", path);
			goto out;
		}
		chmod(tmp, 0755);
		r = save_dir(s, &p, tmp, e);
	} else {
		_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0) {
			r = kerror_sys(e, errno, "creating a file beside \"%s\"", path);
			goto out;
		}
		fchmod(fd, 0644);
		r = save_tar(s, &p, fd, e);
		if (r == 0 && fsync(fd) < 0)
			r = kerror_sys(e, errno, "writing \"%s\"", path);
	}
	if (r == 0 && rename(tmp, path) < 0)
		r = kerror_sys(e, errno, "renaming the output to \"%s\"", path);
	if (r < 0) {
		struct kerror ignore = { 0 };
		fs_rm_rf(tmp, &ignore);
		kerror_release(&ignore);
	}
out:
	plan_release(&p);
	return r;
}

int store_archive_save_path(struct store *s, char *const *images, enum archive_format fmt,
			    const char *path, struct kerror *e)
{
	return save_path(s, images, fmt, path, NULL, e);
}

int store_archive_save_oci_ref(struct store *s, const char *image, enum archive_format fmt,
			       const char *path, const char *ref_name, struct kerror *e)
{
	char *images[] = { (char *)image, NULL };
	if (fmt != ARCHIVE_OCI && fmt != ARCHIVE_OCI_DIR)
		return kerror_set(e, EINVAL, "a bare reference name needs an OCI layout");
	return save_path(s, images, fmt, path, ref_name, e);
}
