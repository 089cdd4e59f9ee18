/* lookaside.c — registries.d (YAML, via libyaml): where simple signatures
 * live for a docker image, the lookaside URL layout, and reading/writing
 * file:// lookaside signatures. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "sign/sign_int.h"

struct rd_ns {
	char *lookaside, *lookaside_staging, *sigstore, *sigstore_staging;
	int use_attachments; /* -1 unset */
};

struct rd_scope {
	char *scope, *file;
	struct rd_ns ns;
};

struct sign_registries_d {
	bool has_default;
	char *default_file;
	struct rd_ns dflt;
	struct rd_scope *v;
	size_t n;
};

static void ns_release(struct rd_ns *ns)
{
	free(ns->lookaside);
	free(ns->lookaside_staging);
	free(ns->sigstore);
	free(ns->sigstore_staging);
}

struct sign_registries_d *sign_registries_d_new(void)
{
	return xcalloc(1, sizeof(struct sign_registries_d));
}

void sign_registries_d_free(struct sign_registries_d *rd)
{
	if (!rd)
		return;
	ns_release(&rd->dflt);
	free(rd->default_file);
	for (size_t i = 0; i < rd->n; i++) {
		free(rd->v[i].scope);
		free(rd->v[i].file);
		ns_release(&rd->v[i].ns);
	}
	free(rd->v);
	free(rd);
}

void cleanup_sign_registries_dp(struct sign_registries_d **rd)
{
	sign_registries_d_free(*rd);
	*rd = NULL;
}

/* ---- YAML ------------------------------------------------------------------ */

static void cleanup_docp(yaml_document_t **d)
{
	if (*d)
		yaml_document_delete(*d);
}

/* A scalar's text, or NULL for a non-scalar. */
static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool scalar_is_null(yaml_node_t *n)
{
	const char *s = scalar(n);
	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
		strcmp(s, "NULL") == 0);
}

/* Mapping keys must be unique scalars. */
static int check_mapping(yaml_document_t *doc, yaml_node_t *m, const char *where,
			 struct kerror *e)
{
	for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top; a++) {
		const char *ka = scalar(yaml_document_get_node(doc, a->key));
		if (!ka)
			return kerror_set(e, EINVAL, "%s: a key is not a string", where);
		for (yaml_node_pair_t *b = m->data.mapping.pairs.start; b < a; b++)
			if (strcmp(ka, scalar(yaml_document_get_node(doc, b->key))) == 0)
				return kerror_set(e, EINVAL, "%s: key \"%s\" defined twice", where, ka);
	}
	return 0;
}

static int ns_string(yaml_node_t *v, const char *key, const char *where, char **out,
		     struct kerror *e)
{
	if (scalar_is_null(v))
		return 0;
	const char *s = scalar(v);
	if (!s)
		return kerror_set(e, EINVAL, "%s: \"%s\" must be a string", where, key);
	if (strlen(s) != v->data.scalar.length)
		return kerror_set(e, EINVAL, "%s: \"%s\" contains a NUL byte", where, key);
	free(*out);
	*out = xstrdup(s);
	return 0;
}

static int parse_ns(yaml_document_t *doc, yaml_node_t *n, const char *where, struct rd_ns *ns,
		    struct kerror *e)
{
	int ret;
	ns->use_attachments = -1;
	if (!n || scalar_is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return kerror_set(e, EINVAL, "%s: expected a mapping", where);
	if ((ret = check_mapping(doc, n, where, e)) < 0)
		return ret;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(doc, p->key));
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		char **dst = NULL;
		if (strcmp(k, "lookaside") == 0)
			dst = &ns->lookaside;
		else if (strcmp(k, "lookaside-staging") == 0)
			dst = &ns->lookaside_staging;
		else if (strcmp(k, "sigstore") == 0)
			dst = &ns->sigstore;
		else if (strcmp(k, "sigstore-staging") == 0)
			dst = &ns->sigstore_staging;
		if (dst) {
			if ((ret = ns_string(v, k, where, dst, e)) < 0)
				return ret;
		} else if (strcmp(k, "use-sigstore-attachments") == 0) {
			const char *s = scalar(v);
			if (s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")))
				ns->use_attachments = 1;
			else if (s && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")))
				ns->use_attachments = 0;
			else
				return kerror_set(e, EINVAL, "%s: use-sigstore-attachments must be a boolean",
						  where);
		}
		/* Other keys are ignored, as containers/image does. */
	}
	return 0;
}

static int add_doc(struct sign_registries_d *rd, yaml_document_t *doc, const char *name,
		   struct kerror *e)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	int ret;

	if (!root || scalar_is_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return kerror_set(e, EINVAL, "%s: the top level must be a mapping", name);
	if ((ret = check_mapping(doc, root, name, e)) < 0)
		return ret;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(yaml_document_get_node(doc, p->key));
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		if (strcmp(k, "default-docker") == 0) {
			if (rd->has_default)
				return kerror_set(e, EINVAL,
						  "%s: default-docker is already defined in \"%s\"", name,
						  rd->default_file);
			rd->has_default = true;
			rd->default_file = xstrdup(name);
			_cleanup_free_ char *w = xasprintf("%s: default-docker", name);
			if ((ret = parse_ns(doc, v, w, &rd->dflt, e)) < 0)
				return ret;
			continue;
		}
		if (strcmp(k, "docker") != 0 || scalar_is_null(v))
			continue;
		if (v->type != YAML_MAPPING_NODE)
			return kerror_set(e, EINVAL, "%s: docker: expected a mapping", name);
		if ((ret = check_mapping(doc, v, name, e)) < 0)
			return ret;
		for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top;
		     q++) {
			const char *scope = scalar(yaml_document_get_node(doc, q->key));
			for (size_t i = 0; i < rd->n; i++)
				if (strcmp(rd->v[i].scope, scope) == 0)
					return kerror_set(e, EINVAL,
							  "%s: scope \"%s\" is already defined in \"%s\"",
							  name, scope, rd->v[i].file);
			rd->v = xrealloc(rd->v, (rd->n + 1) * sizeof(*rd->v));
			struct rd_scope *sc = &rd->v[rd->n++];
			memset(sc, 0, sizeof(*sc));
			sc->scope = xstrdup(scope);
			sc->file = xstrdup(name);
			_cleanup_free_ char *w = xasprintf("%s: docker: %s", name, scope);
			if ((ret = parse_ns(doc, yaml_document_get_node(doc, q->value), w, &sc->ns, e)) < 0)
				return ret;
		}
	}
	return 0;
}

int sign_registries_d_add(struct sign_registries_d *rd, const char *yaml, size_t len,
			  const char *name, struct kerror *e)
{
	yaml_parser_t parser;
	yaml_document_t docbuf;
	yaml_document_t *doc __attribute__((cleanup(cleanup_docp))) = NULL;
	int ret;

	if (len > SIGN_MAX_POLICY)
		return kerror_set(e, EFBIG, "%s: larger than %u bytes", name, SIGN_MAX_POLICY);
	if (!yaml_parser_initialize(&parser))
		return kerror_set(e, ENOMEM, "%s: initialising the YAML parser", name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &docbuf)) {
		ret = kerror_set(e, EINVAL, "%s: invalid YAML at line %zu: %s", name,
				 parser.problem_mark.line + 1,
				 parser.problem ? parser.problem : "parse error");
		yaml_parser_delete(&parser);
		return ret;
	}
	doc = &docbuf;
	yaml_parser_delete(&parser);
	return add_doc(rd, doc, name, e);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sign_registries_d_load(const char *dir, struct sign_registries_d **out, struct kerror *e)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_strv_ char **names = xcalloc(1, sizeof(char *));
	struct sign_registries_d *rd = sign_registries_d_new();
	int ret = 0;

	*out = NULL;
	if (dir) {
		path = xstrdup(dir);
	} else {
		const char *home = getenv("HOME");
		if (home && *home)
			path = xasprintf("%s/.config/containers/registries.d", home);
		if (!path || !fs_exists(path)) {
			free(path);
			path = xstrdup("/etc/containers/registries.d");
		}
	}
	_cleanup_closedir_ DIR *d = opendir(path);
	if (!d) {
		if (errno == ENOENT) {
			*out = rd;
			return 0;
		}
		sign_registries_d_free(rd);
		return kerror_sys(e, errno, "reading registries.d \"%s\"", path);
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (str_has_suffix(de->d_name, ".yaml") && de->d_name[0] != '.')
			strv_push(&names, xstrdup(de->d_name));
	qsort(names, strv_len(names), sizeof(char *), cmp_str);
	for (size_t i = 0; names[i] && ret == 0; i++) {
		_cleanup_free_ char *f = xasprintf("%s/%s", path, names[i]);
		_cleanup_free_ char *data = NULL;
		size_t len = 0;
		struct stat st;
		if (stat(f, &st) == 0 && S_ISDIR(st.st_mode))
			continue;
		ret = fs_read_file(f, SIGN_MAX_POLICY, &data, &len, e);
		if (ret == 0)
			ret = sign_registries_d_add(rd, data, len, f, e);
	}
	if (ret < 0) {
		sign_registries_d_free(rd);
		return ret;
	}
	*out = rd;
	return 0;
}

/* ---- lookup ----------------------------------------------------------------- */

static const char *ns_top_level(const struct rd_ns *ns, bool write)
{
	if (write && ns->lookaside_staging && *ns->lookaside_staging)
		return ns->lookaside_staging;
	if (write && ns->sigstore_staging && *ns->sigstore_staging)
		return ns->sigstore_staging;
	if (ns->lookaside && *ns->lookaside)
		return ns->lookaside;
	if (ns->sigstore && *ns->sigstore)
		return ns->sigstore;
	return NULL;
}

static const struct rd_ns *find_ns(const struct sign_registries_d *rd, const char *scope)
{
	for (size_t i = 0; i < rd->n; i++)
		if (strcmp(rd->v[i].scope, scope) == 0)
			return &rd->v[i].ns;
	return NULL;
}

/* The most specific scope that sets a base for reading/writing (a more
 * specific scope lacking the key falls through to less specific ones). */
static const char *top_level(const struct sign_registries_d *rd, char **scopes, bool write)
{
	for (size_t i = 0; scopes[i]; i++) {
		const struct rd_ns *ns = find_ns(rd, scopes[i]);
		const char *u = ns ? ns_top_level(ns, write) : NULL;
		if (u)
			return u;
	}
	return rd->has_default ? ns_top_level(&rd->dflt, write) : NULL;
}

static bool use_attachments(const struct sign_registries_d *rd, char **scopes)
{
	for (size_t i = 0; scopes[i]; i++) {
		const struct rd_ns *ns = find_ns(rd, scopes[i]);
		if (ns && ns->use_attachments >= 0)
			return ns->use_attachments;
	}
	return rd->has_default && rd->dflt.use_attachments > 0;
}

static int check_base(const char *u, struct kerror *e)
{
	if (!str_has_prefix(u, "file://") && !str_has_prefix(u, "http://") &&
	    !str_has_prefix(u, "https://"))
		return kerror_set(e, EINVAL, "lookaside \"%s\": unsupported URL scheme", u);
	return 0;
}

int sign_lookaside_for(const struct sign_registries_d *rd, const struct image_ref *ref,
		       struct sign_lookaside *out, struct kerror *e)
{
	_cleanup_strv_ char **scopes = sign_docker_scopes(ref);
	const char *r = top_level(rd, scopes, false), *w = top_level(rd, scopes, true);
	_cleanup_free_ char *dflt = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!r || !w) {
		const char *home = getenv("HOME");
		if (!fs_rootless() || !home || !*home)
			dflt = xstrdup("file:///var/lib/containers/sigstore");
		else
			dflt = xasprintf("file://%s/.local/share/containers/sigstore", home);
	}
	if ((ret = check_base(r ? r : dflt, e)) < 0 || (ret = check_base(w ? w : dflt, e)) < 0)
		return ret;
	out->read_base = xstrdup(r ? r : dflt);
	out->write_base = xstrdup(w ? w : dflt);
	out->use_sigstore_attachments = use_attachments(rd, scopes);
	return 0;
}

void sign_lookaside_release(struct sign_lookaside *l)
{
	free(l->read_base);
	free(l->write_base);
	memset(l, 0, sizeof(*l));
}

/* ---- URLs and files ------------------------------------------------------------ */

char *sign_lookaside_url(const char *base, const struct image_ref *ref, const char *digest,
			 unsigned index)
{
	if (!digest_valid(digest) || index == 0)
		return NULL;
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	const char *colon = strchr(digest, ':');
	return xasprintf("%.*s/%s@%.*s=%s/signature-%u", (int)n, base, ref->path,
			 (int)(colon - digest), digest, colon + 1, index);
}

static int hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0'
	       : (c >= 'a' && c <= 'f') ? c - 'a' + 10
	       : (c >= 'A' && c <= 'F') ? c - 'A' + 10
					  : -1;
}

/* file:///path or file://localhost/path → "/path", %XX decoded. */
static int file_url_path(const char *url, char **out, struct kerror *e)
{
	if (!str_has_prefix(url, "file://"))
		return kerror_set(e, EPROTONOSUPPORT,
				  "lookaside \"%s\": only file:// can be used here", url);
	const char *p = url + 7;
	if (str_has_prefix(p, "localhost/"))
		p += 9;
	if (*p != '/')
		return kerror_set(e, EINVAL, "lookaside \"%s\": file URL with a host", url);
	struct buf b = { 0 };
	for (; *p; p++) {
		if (*p == '%') {
			int h = hexval(p[1]), l = h < 0 ? -1 : hexval(p[2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0)) {
				buf_release(&b);
				return kerror_set(e, EINVAL, "lookaside \"%s\": bad %% escape", url);
			}
			char c = (char)(h << 4 | l);
			buf_append(&b, &c, 1);
			p += 2;
		} else if (*p == '?' || *p == '#') {
			break;
		} else {
			buf_append(&b, p, 1);
		}
	}
	*out = buf_steal(&b);
	return 0;
}

int sign_lookaside_read(const char *base, const struct image_ref *ref, const char *digest,
			struct sign_bytes **sigs, size_t *n, struct kerror *e)
{
	_cleanup_free_ char *dir = NULL;
	struct sign_bytes *v = NULL;
	size_t count = 0;
	int ret;

	*sigs = NULL;
	*n = 0;
	if (!digest_valid(digest))
		return kerror_set(e, EINVAL, "invalid manifest digest \"%s\"", digest);
	if ((ret = file_url_path(base, &dir, e)) < 0)
		return ret;
	for (unsigned i = 1; i <= SIGN_MAX_LOOKASIDE; i++) {
		_cleanup_free_ char *path = sign_lookaside_url(dir, ref, digest, i);
		struct sign_bytes b = { 0 };
		ret = fs_read_file(path, SIGN_MAX_SIGNATURE, &b.data, &b.len, e);
		if (ret == -ENOENT) {
			kerror_release(e);
			break;
		}
		if (ret < 0) {
			sign_bytes_free_array(v, count);
			return kerror_wrap(e, "reading signature %u", i);
		}
		v = xrealloc(v, (count + 1) * sizeof(*v));
		v[count++] = b;
	}
	*sigs = v;
	*n = count;
	return 0;
}

int sign_lookaside_write(const char *base, const struct image_ref *ref, const char *digest,
			 const void *sig, size_t len, unsigned *index, struct kerror *e)
{
	_cleanup_free_ char *dir = NULL;
	int ret;

	if (!digest_valid(digest))
		return kerror_set(e, EINVAL, "invalid manifest digest \"%s\"", digest);
	if ((ret = file_url_path(base, &dir, e)) < 0)
		return ret;
	for (unsigned i = 1; i <= SIGN_MAX_LOOKASIDE; i++) {
		_cleanup_free_ char *path = sign_lookaside_url(dir, ref, digest, i);
		char *slash = strrchr(path, '/');
		*slash = 0;
		if ((ret = fs_mkdir_p(path, 0755, e)) < 0)
			return kerror_wrap(e, "creating the lookaside directory");
		*slash = '/';
		_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return kerror_sys(e, errno, "writing signature \"%s\"", path);
		if (fs_write_all(fd, sig, len) < 0 || fsync(fd) < 0) {
			ret = kerror_sys(e, errno, "writing signature \"%s\"", path);
			unlink(path);
			return ret;
		}
		if (index)
			*index = i;
		return 0;
	}
	return kerror_set(e, ENOSPC, "too many signatures for %s (at most %d)", digest,
			  SIGN_MAX_LOOKASIDE);
}
