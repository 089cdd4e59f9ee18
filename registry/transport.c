/* Transports beside the registry (oci:, oci-archive:, docker-archive:,
 * dir:) for pull, push and copy: the archive code of storage/ does the
 * formats; copy between two registries goes blob by blob (copy_direct.c),
 * other copies through a private temporary store that is removed
 * afterwards, so every blob is verified on the way in and nothing reaches
 * the user's store. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry/signing.h"

static const struct {
	const char *prefix;
	enum transport_kind kind;
} prefixes[] = {
	{ "docker://", TRANSPORT_DOCKER },
	{ "oci:", TRANSPORT_OCI_DIR },
	{ "oci-archive:", TRANSPORT_OCI_ARCHIVE },
	{ "docker-archive:", TRANSPORT_DOCKER_ARCHIVE },
	{ "dir:", TRANSPORT_DIR },
};

void transport_ref_release(struct transport_ref *t)
{
	free(t->path);
	free(t->ref);
	memset(t, 0, sizeof(*t));
}

int transport_parse(const char *s, struct transport_ref *out, struct kerror *e)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		const char *rest, *colon;
		if (!str_has_prefix(s, prefixes[i].prefix))
			continue;
		rest = s + strlen(prefixes[i].prefix);
		out->kind = prefixes[i].kind;
		if (!*rest)
			return kerror_set(e, EINVAL, "invalid image name \"%s\": empty path", s);
		if (out->kind == TRANSPORT_DOCKER || out->kind == TRANSPORT_DIR) {
			out->path = xstrdup(rest);
			return 0;
		}
		/* PATH[:REF]: the reference is what follows the first ':'. */
		colon = strchr(rest, ':');
		out->path = colon ? xstrndup(rest, (size_t)(colon - rest)) : xstrdup(rest);
		out->ref = colon && colon[1] ? xstrdup(colon + 1) : NULL;
		return 0;
	}
	out->kind = TRANSPORT_NONE;
	return 0;
}

static enum archive_format archive_kind(enum transport_kind k)
{
	switch (k) {
	case TRANSPORT_OCI_DIR: return ARCHIVE_OCI_DIR;
	case TRANSPORT_OCI_ARCHIVE: return ARCHIVE_OCI;
	case TRANSPORT_DIR: return ARCHIVE_DOCKER_DIR;
	default: return ARCHIVE_DOCKER;
	}
}

/* The loaded image the reference names (the only one when none is given). */
static int choose_loaded(const struct transport_ref *t, struct loaded_image *l, size_t n,
			 char id[DIGEST_HEX_LEN + 1], struct kerror *e)
{
	_cleanup_strv_ char **cands = NULL;
	if (n == 0)
		return kerror_set(e, ENOENT, "\"%s\": no image in it", t->path);
	if (!t->ref) {
		if (n > 1)
			return kerror_set(e, EINVAL, "\"%s\" holds %zu images: name one with "
						     "PATH:REFERENCE", t->path, n);
		snprintf(id, DIGEST_HEX_LEN + 1, "%s", l[0].id);
		return 0;
	}
	/* An OCI layout's ref.name, exactly (as skopeo looks it up). */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; l[i].refs && l[i].refs[k]; k++)
			if (!strcmp(l[i].refs[k], t->ref)) {
				snprintf(id, DIGEST_HEX_LEN + 1, "%s", l[i].id);
				return 0;
			}
	cands = ref_local_candidates(t->ref, NULL);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; l[i].names && l[i].names[k]; k++) {
			const char *nm = l[i].names[k];
			const char *colon = strrchr(nm, ':');
			bool hit = colon && !strcmp(colon + 1, t->ref);
			for (size_t c = 0; !hit && cands && cands[c]; c++)
				hit = !strcmp(cands[c], nm);
			if (hit) {
				snprintf(id, DIGEST_HEX_LEN + 1, "%s", l[i].id);
				return 0;
			}
		}
	return kerror_set(e, ENOENT, "\"%s\": no image named \"%s\" in it", t->path, t->ref);
}

/* The transport's name in policy.json. */
static const char *policy_transport(enum transport_kind k)
{
	switch (k) {
	case TRANSPORT_OCI_DIR: return "oci";
	case TRANSPORT_OCI_ARCHIVE: return "oci-archive";
	case TRANSPORT_DOCKER_ARCHIVE: return "docker-archive";
	case TRANSPORT_DIR: return "dir";
	default: return "docker";
	}
}

int transport_pull(struct store *s, const struct transport_ref *t, const struct pull_opts *o,
		   char id[DIGEST_HEX_LEN + 1], struct kerror *e)
{
	struct loaded_image *l = NULL;
	size_t n = 0;
	int r;

	if (t->kind == TRANSPORT_DOCKER)
		return registry_pull(s, t->path, o, id, e);
	r = pull_policy_check_local(o, policy_transport(t->kind), t->path, e);
	if (r < 0)
		return r;
	if (t->kind == TRANSPORT_OCI_DIR || t->kind == TRANSPORT_DIR) {
		r = store_archive_load_dir(s, t->path, &l, &n, e);
	} else {
		_cleanup_close_ int fd = open(t->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return kerror_sys(e, errno, "opening \"%s\"", t->path);
		r = store_archive_load_fd(s, fd, &l, &n, e);
	}
	if (r == 0)
		r = choose_loaded(t, l, n, id, e);
	loaded_images_free(l, n);
	return r;
}

int transport_push(struct store *s, const char *image, const struct transport_ref *t,
		   const struct push_opts *o, char digest[DIGEST_STR_LEN + 1], struct kerror *e)
{
	_cleanup_image_info_ struct image_info *info = NULL;
	_cleanup_ref_ struct image_ref *ref = NULL;
	_cleanup_free_ char *name = NULL;
	char *images[2] = { NULL, NULL };
	bool had = false;
	int r;

	if (t->kind == TRANSPORT_DOCKER)
		return registry_push(s, image, t->path, o, digest, e);
	if (o->sign_by || o->sign_by_sigstore_key)
		return kerror_set(e, ENOTSUP, "signing is supported only when pushing to a "
					      "registry (docker://)");
	r = store_image_lookup(s, image, &info, e);
	if (r < 0)
		return r;
	if (t->ref && (t->kind == TRANSPORT_OCI_DIR || t->kind == TRANSPORT_OCI_ARCHIVE)) {
		/* oci:DIR:REF: REF is the ref.name annotation, verbatim, as
		 * skopeo and umoci write it. */
		r = store_archive_save_oci_ref(s, info->id, archive_kind(t->kind), t->path, t->ref,
					       e);
		if (r < 0)
			return r;
		goto done;
	}
	/* The archive's name: the reference given, else the image's own. */
	if (t->ref) {
		r = ref_parse_local(t->ref, &ref, e);
		if (r < 0)
			return r;
		name = ref_string(ref);
		for (size_t i = 0; info->names && info->names[i]; i++)
			had = had || !strcmp(info->names[i], name);
		r = had ? 0 : store_image_tag(s, info->id, name, e);
		if (r < 0)
			return r;
	}
	images[0] = name ? name : (char *)image;
	r = store_archive_save_path(s, images, archive_kind(t->kind), t->path, e);
	/* The name was only for the archive: the store is left as it was
	 * (a name taken from another image is not given back, as tag does). */
	if (name && !had)
		store_image_untag(s, info->id, name, NULL);
	if (r < 0)
		return r;
done:
	if (info->manifest_digest)
		snprintf(digest, DIGEST_STR_LEN + 1, "%s", info->manifest_digest);
	else
		snprintf(digest, DIGEST_STR_LEN + 1, "sha256:%s", info->id);
	return 0;
}

int registry_copy(const char *src, const char *dst, const struct pull_opts *po,
		  const struct push_opts *pu, char digest[DIGEST_STR_LEN + 1], struct kerror *e)
{
	struct transport_ref ts = { 0 }, td = { 0 };
	struct store_opts so = { 0 };
	struct store *tmp = NULL;
	const char *base = getenv("TMPDIR");
	_cleanup_free_ char *dir = xasprintf("%s/kiln-copy.XXXXXX", base && *base ? base : "/var/tmp");
	_cleanup_free_ char *run = NULL;
	char id[DIGEST_HEX_LEN + 1];
	int r;

	r = transport_parse(src, &ts, e);
	if (r == 0)
		r = transport_parse(dst, &td, e);
	if (r == 0 && (ts.kind == TRANSPORT_NONE || td.kind == TRANSPORT_NONE))
		r = kerror_set(e, EINVAL, "invalid image name \"%s\": a transport is needed "
					  "(docker://, oci:, oci-archive:, docker-archive:, dir:)",
			       ts.kind == TRANSPORT_NONE ? src : dst);
	if (r < 0)
		goto out;
	if (ts.kind == TRANSPORT_DOCKER && td.kind == TRANSPORT_DOCKER &&
	    registry_copy_direct_ok(pu)) {
		r = registry_copy_direct(ts.path, td.path, po, pu, digest, e);
		if (r != 1)
			goto out;
		r = 0;
	}
	if (!mkdtemp(dir)) {
		r = kerror_sys(e, errno, "creating a directory in \"%s\"", base ? base : "/var/tmp");
		goto out;
	}
	run = xasprintf("%s/run", dir);
	so.root = dir;
	so.runroot = run;
	so.ephemeral = true;
	r = store_open(&so, &tmp, e);
	if (r == 0)
		r = transport_pull(tmp, &ts, po, id, e);
	if (r == 0)
		r = transport_push(tmp, id, &td, pu, digest, e);
	if (tmp)
		store_close(tmp);
	{
		struct kerror ign = { 0 };
		fs_rm_rf(dir, &ign);
		kerror_release(&ign);
	}
out:
	transport_ref_release(&ts);
	transport_ref_release(&td);
	if (r < 0)
		return kerror_wrap(e, "copying \"%s\" to \"%s\"", src, dst);
	return 0;
}
