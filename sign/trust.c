/* trust.c — `image trust show|set` over policy.json, as podman does them:
 * show lists each scope's requirements; set replaces one docker scope (or
 * the global default) with accept, reject, or one signedBy/sigstoreSigned
 * requirement per public key file, keeping the rest of the file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign_int.h"

static const char *type_label(const struct sign_requirement *r)
{
	switch (r->kind) {
	case SIGN_REQ_INSECURE_ACCEPT_ANYTHING:
		return "accept";
	case SIGN_REQ_REJECT:
		return "reject";
	case SIGN_REQ_SIGNED_BY:
		return "signed";
	case SIGN_REQ_SIGSTORE_SIGNED:
		return "sigstoreSigned";
	}
	return "?";
}

static void add_rows(struct sign_trust_row **rows, size_t *n, const char *name,
		     const struct sign_requirements *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		const struct sign_requirement *r = &rs->v[i];
		struct buf keys = { 0 };
		for (size_t k = 0; r->key_paths && r->key_paths[k]; k++)
			buf_printf(&keys, "%s%s", keys.len ? ", " : "", r->key_paths[k]);
		if (r->n_key_datas)
			buf_printf(&keys, "%s%zu inline key%s", keys.len ? ", " : "", r->n_key_datas,
				   r->n_key_datas > 1 ? "s" : "");
		*rows = xrealloc(*rows, (*n + 1) * sizeof(**rows));
		(*rows)[*n].name = xstrdup(name);
		(*rows)[*n].type = xstrdup(type_label(r));
		(*rows)[*n].keys = keys.len ? buf_steal(&keys) : xstrdup("");
		buf_release(&keys);
		(*n)++;
	}
}

void sign_trust_show(const struct sign_policy *p, struct sign_trust_row **rows, size_t *n)
{
	*rows = NULL;
	*n = 0;
	add_rows(rows, n, "default", &p->dflt);
	for (size_t t = 0; t < p->n_transports; t++) {
		const struct sign_transport *tr = &p->transports[t];
		bool docker = strcmp(tr->name, "docker") == 0;
		for (size_t s = 0; s < tr->n_scopes; s++) {
			const char *scope = tr->scopes[s].name;
			_cleanup_free_ char *name = docker && *scope ? xstrdup(scope)
						    : xasprintf("%s:%s", tr->name, scope);
			add_rows(rows, n, name, &tr->scopes[s].reqs);
		}
	}
}

void sign_trust_rows_free(struct sign_trust_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].name);
		free(rows[i].type);
		free(rows[i].keys);
	}
	free(rows);
}

static int requirements_for(const char *type, char *const *pubkeys, json_t **out,
			    struct kerror *e)
{
	json_t *a = json_array();
	bool keyed = strcmp(type, "signedBy") == 0 || strcmp(type, "sigstoreSigned") == 0;
	const char *req = keyed ? type
			  : strcmp(type, "accept") == 0 ? "insecureAcceptAnything"
			  : strcmp(type, "reject") == 0 ? "reject"
							: NULL;
	bool has_keys = pubkeys && *pubkeys;

	if (!req) {
		json_decref(a);
		return kerror_set(e, EINVAL,
				  "invalid trust type \"%s\": want accept, reject, signedBy or sigstoreSigned",
				  type);
	}
	if (keyed && !has_keys) {
		json_decref(a);
		return kerror_set(e, EINVAL, "type %s needs at least one public key file", type);
	}
	if (!keyed && has_keys) {
		json_decref(a);
		return kerror_set(e, EINVAL, "type %s takes no public key files", type);
	}
	if (!keyed) {
		json_t *o = json_object();
		json_object_set_new(o, "type", json_string(req));
		json_array_append_new(a, o);
	}
	/* podman writes one requirement per key file (so each must pass). */
	for (size_t i = 0; keyed && pubkeys[i]; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "type", json_string(req));
		if (strcmp(req, "signedBy") == 0)
			json_object_set_new(o, "keyType", json_string("GPGKeys"));
		json_object_set_new(o, "keyPath", json_string(pubkeys[i]));
		json_array_append_new(a, o);
	}
	*out = a;
	return 0;
}

int sign_trust_set(const char *policy, size_t len, const char *scope, const char *type,
		   char *const *pubkeys, char **out, struct kerror *e)
{
	_cleanup_json_ json_t *j = NULL;
	_cleanup_sign_policy_ struct sign_policy *check = NULL;
	json_t *reqs = NULL;
	int ret;

	*out = NULL;
	if (policy && len) {
		if ((ret = sign_policy_parse(policy, len, &check, e)) < 0)
			return ret;
		sign_policy_free(steal_pointer(&check));
		if ((ret = json_parse(policy, len, &j, e)) < 0)
			return ret;
	} else {
		j = json_object();
		json_t *d = json_array(), *o = json_object();
		json_object_set_new(o, "type", json_string("insecureAcceptAnything"));
		json_array_append_new(d, o);
		json_object_set_new(j, "default", d);
	}
	if ((ret = requirements_for(type, pubkeys, &reqs, e)) < 0)
		return ret;
	if (!scope || !*scope || strcmp(scope, "default") == 0) {
		json_object_set_new(j, "default", reqs);
	} else {
		json_t *tr = json_object_get(j, "transports");
		if (!tr) {
			tr = json_object();
			json_object_set_new(j, "transports", tr);
		}
		json_t *docker = json_object_get(tr, "docker");
		if (!docker) {
			docker = json_object();
			json_object_set_new(tr, "docker", docker);
		}
		json_object_set_new(docker, scope, reqs);
	}
	char *s = json_dump_pretty(j);
	if ((ret = sign_policy_parse(s, strlen(s), &check, e)) < 0) {
		free(s);
		return kerror_wrap(e, "the edited policy");
	}
	*out = s;
	return 0;
}
