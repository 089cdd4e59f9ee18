/* policy.c — containers-policy.json: strict parsing into struct sign_policy
 * and scope lookup.  A security policy with a typo must not silently mean
 * something else, so every unknown, duplicate, missing or mistyped field
 * rejects the whole file. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign_int.h"

/* Fails unless every member of obj is in allowed (NULL-terminated). */
static int only_fields(const json_t *obj, const char *const *allowed, const char *where,
		       struct kerror *e)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return kerror_set(e, EINVAL, "%s: expected an object", where);
	json_object_foreach((json_t *)obj, key, v) {
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++)
			ok |= strcmp(key, allowed[i]) == 0;
		if (!ok)
			return kerror_set(e, EINVAL, "%s: unknown field \"%s\"", where, key);
	}
	return 0;
}

/* A required string member. */
static int req_str(const json_t *obj, const char *key, const char *where, const char **out,
		   struct kerror *e)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return kerror_set(e, EINVAL, "%s: missing field \"%s\"", where, key);
	if (!json_is_string(v))
		return kerror_set(e, EINVAL, "%s: field \"%s\" must be a string", where, key);
	*out = json_string_value(v);
	return 0;
}

static bool ref_is_name_only(const struct image_ref *r)
{
	return !r->tag && !r->digest;
}

/* A reference domain: dot-separated [A-Za-z0-9-] labels (not starting or
 * ending with '-') or a bracketed IPv6 address, then an optional :port. */
static bool domain_like(const char *s, size_t n)
{
	size_t i = 0;
	if (n && s[0] == '[') {
		while (i < n && s[i] != ']')
			i++;
		if (i >= n || i < 3)
			return false;
		i++;
	} else {
		for (;;) {
			size_t start = i;
			while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '-'))
				i++;
			if (i == start || s[start] == '-' || s[i - 1] == '-')
				return false;
			if (i < n && s[i] == '.') {
				i++;
				continue;
			}
			break;
		}
	}
	if (i < n && s[i] == ':') {
		size_t start = ++i;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
		if (i == start)
			return false;
	}
	return i == n;
}

/* remapIdentity prefixes, as containers/image validates them: host[:port],
 * or a repository name that starts with a host ("docker.io/library/x").  A
 * non-canonical name passes here and simply never matches. */
static bool remap_prefix_valid(const char *s)
{
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_ref_ struct image_ref *r = NULL;
	const char *slash = strchr(s, '/');

	if (!*s || strlen(s) > 4096)
		return false;
	if (!slash)
		return domain_like(s, strlen(s));
	if (!domain_like(s, slash - s) || strchr(s, '@') || strchr(slash, ':'))
		return false;
	return ref_parse(s, &r, &e) == 0 && ref_is_name_only(r);
}

static int parse_identity(const json_t *j, struct sign_identity *id, const char *where,
			  struct kerror *e)
{
	static const char *const only_type[] = { "type", NULL };
	static const char *const exact_ref[] = { "type", "dockerReference", NULL };
	static const char *const exact_repo[] = { "type", "dockerRepository", NULL };
	static const char *const remap[] = { "type", "prefix", "signedPrefix", NULL };
	_cleanup_free_ char *w = xasprintf("%s.signedIdentity", where);
	_cleanup_kerror_ struct kerror pe = { 0 };
	_cleanup_ref_ struct image_ref *r = NULL;
	const char *type, *s, *s2;
	int ret;

	if (!json_is_object(j))
		return kerror_set(e, EINVAL, "%s: expected an object", w);
	if ((ret = req_str(j, "type", w, &type, e)) < 0)
		return ret;
	if (strcmp(type, "matchExact") == 0 || strcmp(type, "matchRepoDigestOrExact") == 0 ||
	    strcmp(type, "matchRepository") == 0) {
		if ((ret = only_fields(j, only_type, w, e)) < 0)
			return ret;
		if (strcmp(type, "matchExact") == 0)
			id->kind = SIGN_ID_MATCH_EXACT;
		else if (strcmp(type, "matchRepository") == 0)
			id->kind = SIGN_ID_MATCH_REPOSITORY;
		else
			id->kind = SIGN_ID_MATCH_REPO_DIGEST_OR_EXACT;
		return 0;
	}
	if (strcmp(type, "exactReference") == 0) {
		if ((ret = only_fields(j, exact_ref, w, e)) < 0 ||
		    (ret = req_str(j, "dockerReference", w, &s, e)) < 0)
			return ret;
		if (ref_parse(s, &r, &pe) < 0)
			return kerror_set(e, EINVAL, "%s: invalid dockerReference \"%s\": %s", w, s,
					  pe.msg);
		if (ref_is_name_only(r))
			return kerror_set(e, EINVAL,
					  "%s: dockerReference \"%s\" contains neither a tag nor digest",
					  w, s);
		id->kind = SIGN_ID_EXACT_REFERENCE;
		id->reference = xstrdup(s);
		return 0;
	}
	if (strcmp(type, "exactRepository") == 0) {
		if ((ret = only_fields(j, exact_repo, w, e)) < 0 ||
		    (ret = req_str(j, "dockerRepository", w, &s, e)) < 0)
			return ret;
		if (ref_parse(s, &r, &pe) < 0)
			return kerror_set(e, EINVAL, "%s: invalid dockerRepository \"%s\": %s", w,
					  s, pe.msg);
		id->kind = SIGN_ID_EXACT_REPOSITORY;
		id->reference = xstrdup(s);
		return 0;
	}
	if (strcmp(type, "remapIdentity") == 0) {
		if ((ret = only_fields(j, remap, w, e)) < 0 ||
		    (ret = req_str(j, "prefix", w, &s, e)) < 0 ||
		    (ret = req_str(j, "signedPrefix", w, &s2, e)) < 0)
			return ret;
		if (!remap_prefix_valid(s))
			return kerror_set(e, EINVAL, "%s: prefix \"%s\" is not valid", w, s);
		if (!remap_prefix_valid(s2))
			return kerror_set(e, EINVAL, "%s: signedPrefix \"%s\" is not valid", w, s2);
		id->kind = SIGN_ID_REMAP_IDENTITY;
		id->prefix = xstrdup(s);
		id->signed_prefix = xstrdup(s2);
		return 0;
	}
	return kerror_set(e, EINVAL, "%s: unknown signedIdentity type \"%s\"", w, type);
}

static int decode_key_data(const json_t *v, const char *field, const char *where,
			   struct sign_requirement *req, struct kerror *e)
{
	struct sign_bytes b = { 0 };
	if (!json_is_string(v))
		return kerror_set(e, EINVAL, "%s: field \"%s\" must be a base64 string", where,
				  field);
	if (sign_b64_decode(json_string_value(v), json_string_length(v), &b) < 0)
		return kerror_set(e, EINVAL, "%s: field \"%s\" is not valid base64", where, field);
	if (b.len == 0) {
		sign_bytes_release(&b);
		return kerror_set(e, EINVAL, "%s: field \"%s\" is empty", where, field);
	}
	req->key_datas = xrealloc(req->key_datas, (req->n_key_datas + 1) * sizeof(b));
	req->key_datas[req->n_key_datas++] = b;
	return 0;
}

/* keyPath / keyPaths / keyData [/ keyDatas]: exactly one must be present. */
static int parse_keys(const json_t *j, const char *where, bool allow_datas,
		      struct sign_requirement *req, int *n_sources, struct kerror *e)
{
	json_t *v;
	size_t i;
	json_t *it;
	int ret;

	if ((v = json_object_get(j, "keyPath"))) {
		(*n_sources)++;
		if (!json_is_string(v) || json_string_length(v) == 0)
			return kerror_set(e, EINVAL, "%s: field \"keyPath\" must be a non-empty string",
					  where);
		strv_push(&req->key_paths, xstrdup(json_string_value(v)));
	}
	if ((v = json_object_get(j, "keyPaths"))) {
		(*n_sources)++;
		if (!json_is_array(v) || json_array_size(v) == 0)
			return kerror_set(e, EINVAL, "%s: field \"keyPaths\" must be a non-empty array",
					  where);
		json_array_foreach(v, i, it) {
			if (!json_is_string(it) || json_string_length(it) == 0)
				return kerror_set(e, EINVAL,
						  "%s: keyPaths[%zu] must be a non-empty string", where, i);
			strv_push(&req->key_paths, xstrdup(json_string_value(it)));
		}
	}
	if ((v = json_object_get(j, "keyData"))) {
		(*n_sources)++;
		if ((ret = decode_key_data(v, "keyData", where, req, e)) < 0)
			return ret;
	}
	if (allow_datas && (v = json_object_get(j, "keyDatas"))) {
		(*n_sources)++;
		if (!json_is_array(v) || json_array_size(v) == 0)
			return kerror_set(e, EINVAL, "%s: field \"keyDatas\" must be a non-empty array",
					  where);
		json_array_foreach(v, i, it) {
			if ((ret = decode_key_data(it, "keyDatas", where, req, e)) < 0)
				return ret;
		}
	}
	return 0;
}

static int parse_signed_by(const json_t *j, struct sign_requirement *req, const char *where,
			   struct kerror *e)
{
	static const char *const fields[] = { "type", "keyType", "keyPath", "keyPaths",
					      "keyData", "signedIdentity", NULL };
	static const char *const key_types[] = { "GPGKeys", "signedByGPGKeys",
						 "X509Certificates", "signedByX509CAs" };
	const char *kt;
	int n = 0, ret;
	bool known = false;

	if ((ret = only_fields(j, fields, where, e)) < 0 ||
	    (ret = req_str(j, "keyType", where, &kt, e)) < 0)
		return ret;
	for (size_t i = 0; i < ARRAY_SIZE(key_types); i++)
		known |= strcmp(kt, key_types[i]) == 0;
	if (!known)
		return kerror_set(e, EINVAL, "%s: unrecognized keyType \"%s\"", where, kt);
	req->key_type = xstrdup(kt);
	if ((ret = parse_keys(j, where, false, req, &n, e)) < 0)
		return ret;
	if (n != 1)
		return kerror_set(e, EINVAL,
				  "%s: exactly one of keyPath, keyPaths and keyData must be specified, %s present",
				  where, n ? "more than one" : "none of them");
	return 0;
}

static int parse_sigstore(const json_t *j, struct sign_requirement *req, const char *where,
			  struct kerror *e)
{
	static const char *const fields[] = {
		"type", "keyPath", "keyPaths", "keyData", "keyDatas", "fulcio", "pki",
		"rekorPublicKeyPath", "rekorPublicKeyPaths", "rekorPublicKeyData",
		"rekorPublicKeyDatas", "signedIdentity", NULL
	};
	static const char *const unsupported[] = { "fulcio", "pki", "rekorPublicKeyPath",
						   "rekorPublicKeyPaths", "rekorPublicKeyData",
						   "rekorPublicKeyDatas" };
	int n = 0, ret;

	if ((ret = only_fields(j, fields, where, e)) < 0 ||
	    (ret = parse_keys(j, where, true, req, &n, e)) < 0)
		return ret;
	/* Keyless (fulcio), PKI and Rekor checks are not implemented: such a
	 * requirement parses (so the file stays usable) but never passes. */
	for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++) {
		json_t *v = json_object_get(j, unsupported[i]);
		if (!v)
			continue;
		if (i < 2 && !json_is_object(v))
			return kerror_set(e, EINVAL, "%s: field \"%s\" must be an object", where,
					  unsupported[i]);
		if (i < 2)
			n++;
		if (!req->unsupported)
			req->unsupported = xstrdup(unsupported[i]);
	}
	if (n != 1)
		return kerror_set(e, EINVAL,
				  "%s: exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio and pki must be specified, %s present",
				  where, n ? "more than one" : "none of them");
	return 0;
}

static int parse_requirement(const json_t *j, struct sign_requirement *req, const char *where,
			     struct kerror *e)
{
	static const char *const only_type[] = { "type", NULL };
	const char *type;
	int ret;

	if (!json_is_object(j))
		return kerror_set(e, EINVAL, "%s: expected an object", where);
	if ((ret = req_str(j, "type", where, &type, e)) < 0)
		return ret;
	if (strcmp(type, "insecureAcceptAnything") == 0 || strcmp(type, "reject") == 0) {
		req->kind = type[0] == 'i' ? SIGN_REQ_INSECURE_ACCEPT_ANYTHING : SIGN_REQ_REJECT;
		return only_fields(j, only_type, where, e);
	}
	if (strcmp(type, "signedBy") == 0) {
		req->kind = SIGN_REQ_SIGNED_BY;
		ret = parse_signed_by(j, req, where, e);
	} else if (strcmp(type, "sigstoreSigned") == 0) {
		req->kind = SIGN_REQ_SIGSTORE_SIGNED;
		ret = parse_sigstore(j, req, where, e);
	} else {
		return kerror_set(e, EINVAL, "%s: unknown policy requirement type \"%s\"", where,
				  type);
	}
	if (ret < 0)
		return ret;
	json_t *si = json_object_get(j, "signedIdentity");
	req->identity.kind = SIGN_ID_MATCH_REPO_DIGEST_OR_EXACT;
	return si ? parse_identity(si, &req->identity, where, e) : 0;
}

static void requirement_release(struct sign_requirement *r)
{
	free(r->key_type);
	strv_free(r->key_paths);
	sign_bytes_free_array(r->key_datas, r->n_key_datas);
	free(r->unsupported);
	free(r->identity.reference);
	free(r->identity.prefix);
	free(r->identity.signed_prefix);
}

static void requirements_release(struct sign_requirements *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		requirement_release(&rs->v[i]);
	free(rs->v);
	rs->v = NULL;
	rs->n = 0;
}

static int parse_requirements(const json_t *j, struct sign_requirements *rs, const char *where,
			      struct kerror *e)
{
	size_t i;
	json_t *it;

	if (!json_is_array(j))
		return kerror_set(e, EINVAL, "%s: expected an array of requirements", where);
	if (json_array_size(j) == 0)
		return kerror_set(e, EINVAL, "%s: the list of requirements must not be empty",
				  where);
	rs->v = xcalloc(json_array_size(j), sizeof(*rs->v));
	json_array_foreach(j, i, it) {
		_cleanup_free_ char *w = xasprintf("%s[%zu]", where, i);
		rs->n = i + 1;
		int ret = parse_requirement(it, &rs->v[i], w, e);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* An absolute, clean path other than "/" (dir, oci, oci-archive, sif). */
static bool path_scope_valid(const char *s)
{
	if (s[0] != '/' || strcmp(s, "/") == 0 || str_has_suffix(s, "/"))
		return false;
	for (const char *p = s; *p; p++) {
		if (*p != '/')
			continue;
		if (p[1] == '/' || (p[1] == '.' && (p[2] == '/' || p[2] == 0)) ||
		    (p[1] == '.' && p[2] == '.' && (p[3] == '/' || p[3] == 0)))
			return false;
	}
	return true;
}

/* docker scopes: "*.domain" wildcards, or host[/path][:tag|@digest] without
 * empty components.  (containers/image accepts anything here; kiln refuses
 * what could never match so typos surface.) */
static bool docker_scope_valid(const char *s)
{
	if (str_has_prefix(s, "*.")) {
		const char *d = s + 2;
		return *d && !strpbrk(d, "/:*@ ") && d[0] != '.' && !str_has_suffix(d, ".") &&
		       !strstr(d, "..");
	}
	if (strpbrk(s, "* \t\n") || s[0] == '/' || str_has_suffix(s, "/") || strstr(s, "//"))
		return false;
	return true;
}

static int scope_valid(const char *transport, const char *scope, struct kerror *e)
{
	if (!*scope)
		return 0;
	if (strcmp(transport, "docker") == 0) {
		if (!docker_scope_valid(scope))
			return kerror_set(e, EINVAL, "invalid docker scope \"%s\"", scope);
	} else if (strcmp(transport, "docker-archive") == 0 || strcmp(transport, "tarball") == 0) {
		return kerror_set(e, EINVAL, "%s: does not support any scopes except the default \"\" one",
				  transport);
	} else if (strcmp(transport, "dir") == 0 || strcmp(transport, "oci") == 0 ||
		   strcmp(transport, "oci-archive") == 0 || strcmp(transport, "sif") == 0) {
		if (!path_scope_valid(scope))
			return kerror_set(e, EINVAL,
					  "invalid %s scope \"%s\": must be an absolute, clean path other than \"/\"",
					  transport, scope);
	}
	return 0;
}

static int parse_transport(const char *name, const json_t *j, struct sign_transport *t,
			   struct kerror *e)
{
	const char *scope;
	json_t *v;

	if (!json_is_object(j))
		return kerror_set(e, EINVAL, "transports.%s: expected an object", name);
	t->scopes = xcalloc(json_object_size(j) + 1, sizeof(*t->scopes));
	json_object_foreach((json_t *)j, scope, v) {
		_cleanup_free_ char *w = xasprintf("transports.%s[\"%s\"]", name, scope);
		int ret = scope_valid(name, scope, e);
		if (ret < 0)
			return kerror_wrap(e, "transports.%s", name);
		struct sign_scope *sc = &t->scopes[t->n_scopes++];
		sc->name = xstrdup(scope);
		if ((ret = parse_requirements(v, &sc->reqs, w, e)) < 0)
			return ret;
	}
	return 0;
}

int sign_policy_parse(const char *data, size_t len, struct sign_policy **out, struct kerror *e)
{
	static const char *const top[] = { "default", "transports", NULL };
	_cleanup_json_ json_t *j = NULL;
	const char *name;
	json_t *v, *tr;
	int ret;

	*out = NULL;
	if (len > SIGN_MAX_POLICY)
		return kerror_set(e, EFBIG, "invalid policy: larger than %u bytes", SIGN_MAX_POLICY);
	if ((ret = json_parse(data, len, &j, e)) < 0)
		return kerror_wrap(e, "invalid policy");
	struct sign_policy *p = xcalloc(1, sizeof(*p));
	if ((ret = only_fields(j, top, "policy", e)) < 0)
		goto fail;
	v = json_object_get(j, "default");
	if (!v) {
		ret = kerror_set(e, EINVAL, "policy: the default policy is missing");
		goto fail;
	}
	if ((ret = parse_requirements(v, &p->dflt, "default", e)) < 0)
		goto fail;
	tr = json_object_get(j, "transports");
	if (tr) {
		if (!json_is_object(tr)) {
			ret = kerror_set(e, EINVAL, "transports: expected an object");
			goto fail;
		}
		p->transports = xcalloc(json_object_size(tr) + 1, sizeof(*p->transports));
		json_object_foreach(tr, name, v) {
			struct sign_transport *t = &p->transports[p->n_transports++];
			t->name = xstrdup(name);
			if ((ret = parse_transport(name, v, t, e)) < 0)
				goto fail;
		}
	}
	*out = p;
	return 0;
fail:
	sign_policy_free(p);
	return kerror_wrap(e, "invalid policy");
}

char *sign_policy_path(const char *override)
{
	if (override && *override)
		return xstrdup(override);
	const char *home = getenv("HOME");
	if (home && *home) {
		_cleanup_free_ char *user = xasprintf("%s/.config/containers/policy.json", home);
		if (fs_exists(user))
			return steal_pointer(&user);
	}
	return xstrdup("/etc/containers/policy.json");
}

int sign_policy_load(const char *override, struct sign_policy **out, struct kerror *e)
{
	_cleanup_free_ char *path = sign_policy_path(override);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	if ((ret = fs_read_file(path, SIGN_MAX_POLICY, &data, &len, e)) < 0)
		return kerror_wrap(e, "reading the trust policy \"%s\"", path);
	if ((ret = sign_policy_parse(data, len, out, e)) < 0)
		return kerror_wrap(e, "%s", path);
	return 0;
}

void sign_policy_free(struct sign_policy *p)
{
	if (!p)
		return;
	requirements_release(&p->dflt);
	for (size_t i = 0; i < p->n_transports; i++) {
		struct sign_transport *t = &p->transports[i];
		for (size_t k = 0; k < t->n_scopes; k++) {
			free(t->scopes[k].name);
			requirements_release(&t->scopes[k].reqs);
		}
		free(t->scopes);
		free(t->name);
	}
	free(p->transports);
	free(p);
}

void cleanup_sign_policyp(struct sign_policy **p)
{
	sign_policy_free(*p);
	*p = NULL;
}

/* ---- lookup --------------------------------------------------------------- */

static const struct sign_scope *find_scope(const struct sign_transport *t, const char *name)
{
	for (size_t i = 0; i < t->n_scopes; i++)
		if (strcmp(t->scopes[i].name, name) == 0)
			return &t->scopes[i];
	return NULL;
}

char **sign_docker_scopes(const struct image_ref *ref)
{
	char **v = xcalloc(1, sizeof(char *));
	strv_push(&v, sign_ref_identity(ref));
	_cleanup_free_ char *name = ref_name(ref);
	for (;;) {
		strv_push(&v, xstrdup(name));
		char *slash = strrchr(name, '/');
		if (!slash)
			break;
		*slash = 0;
	}
	char *colon = strchr(name, ':');
	if (colon)
		*colon = 0;
	for (const char *d = strchr(name, '.'); d; d = strchr(d + 1, '.'))
		strv_push(&v, xasprintf("*%s", d));
	return v;
}

/* For path transports: the scope, without an oci ":name" suffix, then each
 * parent directory (never "/"). */
static char **path_candidates(const char *scope)
{
	char **v = xcalloc(1, sizeof(char *));
	if (!scope || !*scope)
		return v;
	_cleanup_free_ char *s = xstrdup(scope);
	strv_push(&v, xstrdup(s));
	char *slash = strrchr(s, '/'), *colon = slash ? strchr(slash, ':') : NULL;
	if (colon) {
		*colon = 0;
		strv_push(&v, xstrdup(s));
	}
	for (;;) {
		slash = strrchr(s, '/');
		if (!slash || slash == s)
			break;
		*slash = 0;
		strv_push(&v, xstrdup(s));
	}
	return v;
}

const struct sign_requirements *sign_policy_requirements(const struct sign_policy *p,
							 const char *transport,
							 const struct image_ref *ref,
							 const char *scope,
							 const char **matched)
{
	const struct sign_transport *t = NULL;
	const struct sign_scope *sc = NULL;

	for (size_t i = 0; transport && i < p->n_transports; i++)
		if (strcmp(p->transports[i].name, transport) == 0)
			t = &p->transports[i];
	if (t) {
		_cleanup_strv_ char **cands = NULL;
		if (strcmp(transport, "docker") == 0 && ref)
			cands = sign_docker_scopes(ref);
		else
			cands = path_candidates(scope);
		for (size_t i = 0; cands[i] && !sc; i++)
			sc = find_scope(t, cands[i]);
		if (!sc)
			sc = find_scope(t, "");
	}
	if (sc) {
		if (matched)
			*matched = sc->name;
		return &sc->reqs;
	}
	if (matched)
		*matched = "default";
	return &p->dflt;
}

void sign_policy_needs(const struct sign_policy *p, const char *transport,
		       const struct image_ref *ref, const char *scope, bool *simple,
		       bool *sigstore)
{
	const struct sign_requirements *rs = sign_policy_requirements(p, transport, ref, scope, NULL);
	*simple = *sigstore = false;
	for (size_t i = 0; i < rs->n; i++) {
		*simple |= rs->v[i].kind == SIGN_REQ_SIGNED_BY;
		*sigstore |= rs->v[i].kind == SIGN_REQ_SIGSTORE_SIGNED;
	}
}
