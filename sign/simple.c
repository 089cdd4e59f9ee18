/* simple.c — the signature payload of containers-signature(5) ("atomic
 * container signature", also cosign's "cosign container image signature"):
 * creation and strict parsing.  Parse only bytes a signature authenticated. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sign/sign_int.h"

char *sign_payload_create(const char *type, const char *manifest_digest,
			  const char *docker_reference, const char *creator, int64_t timestamp)
{
	_cleanup_json_ json_t *j = json_object();
	json_t *critical = json_object(), *image = json_object(), *identity = json_object();

	/* containers/image writes type, image, identity in this order. */
	json_object_set_new(critical, "type", json_string(type));
	json_object_set_new(image, "docker-manifest-digest", json_string(manifest_digest));
	json_object_set_new(critical, "image", image);
	json_object_set_new(identity, "docker-reference", json_string(docker_reference));
	json_object_set_new(critical, "identity", identity);
	json_object_set_new(j, "critical", critical);
	if (!creator && timestamp < 0) {
		json_object_set_new(j, "optional", json_null());
	} else {
		json_t *opt = json_object();
		if (creator)
			json_object_set_new(opt, "creator", json_string(creator));
		if (timestamp >= 0)
			json_object_set_new(opt, "timestamp", json_integer(timestamp));
		json_object_set_new(j, "optional", opt);
	}
	return json_dump_compact(j);
}

/* obj must have exactly the members in names (NULL-terminated). */
static int exact_members(const json_t *obj, const char *const *names, const char *where,
			 struct kerror *e)
{
	size_t n = 0;
	if (!json_is_object(obj))
		return kerror_set(e, EINVAL, "%s is not an object", where);
	for (; names[n]; n++)
		if (!json_object_get(obj, names[n]))
			return kerror_set(e, EINVAL, "%s: missing member \"%s\"", where, names[n]);
	if (json_object_size(obj) != n) {
		const char *key;
		json_t *v;
		json_object_foreach((json_t *)obj, key, v) {
			bool known = false;
			for (size_t i = 0; names[i]; i++)
				known |= strcmp(key, names[i]) == 0;
			if (!known)
				return kerror_set(e, EINVAL, "%s: unexpected member \"%s\"", where, key);
		}
	}
	return 0;
}

static int member_str(const json_t *obj, const char *key, const char *where, const char **out,
		      struct kerror *e)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v))
		return kerror_set(e, EINVAL, "%s.%s is not a string", where, key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return kerror_set(e, EINVAL, "%s.%s contains a NUL byte", where, key);
	*out = json_string_value(v);
	return 0;
}

int sign_payload_parse(const char *data, size_t len, const char *want_type,
		       struct sign_payload *out, struct kerror *e)
{
	static const char *const top[] = { "critical", "optional", NULL };
	static const char *const crit[] = { "type", "image", "identity", NULL };
	static const char *const img[] = { "docker-manifest-digest", NULL };
	static const char *const idn[] = { "docker-reference", NULL };
	_cleanup_json_ json_t *j = NULL;
	_cleanup_kerror_ struct kerror pe = { 0 };
	_cleanup_ref_ struct image_ref *ref = NULL;
	const char *type, *digest, *dref;
	json_t *critical, *opt;
	int ret;

	memset(out, 0, sizeof(*out));
	out->timestamp = -1;
	if (len > SIGN_MAX_SIGNATURE)
		return kerror_set(e, EFBIG, "invalid signature payload: too large");
	if (json_parse(data, len, &j, e) < 0)
		return kerror_wrap(e, "invalid signature payload");
	if ((ret = exact_members(j, top, "signature payload", e)) < 0)
		return ret;
	critical = json_object_get(j, "critical");
	if ((ret = exact_members(critical, crit, "critical", e)) < 0 ||
	    (ret = member_str(critical, "type", "critical", &type, e)) < 0 ||
	    (ret = exact_members(json_object_get(critical, "image"), img, "critical.image", e)) < 0 ||
	    (ret = exact_members(json_object_get(critical, "identity"), idn, "critical.identity", e)) < 0 ||
	    (ret = member_str(json_object_get(critical, "image"), "docker-manifest-digest",
			      "critical.image", &digest, e)) < 0 ||
	    (ret = member_str(json_object_get(critical, "identity"), "docker-reference",
			      "critical.identity", &dref, e)) < 0)
		return ret;
	if (strcmp(type, want_type) != 0)
		return kerror_set(e, EINVAL, "unrecognized signature type \"%s\" (want \"%s\")", type,
				  want_type);
	if (!digest_valid(digest))
		return kerror_set(e, EINVAL, "invalid docker-manifest-digest \"%s\"", digest);
	if (ref_parse(dref, &ref, &pe) < 0)
		return kerror_set(e, EINVAL, "invalid docker-reference \"%s\": %s", dref, pe.msg);
	opt = json_object_get(j, "optional");
	if (!json_is_null(opt)) {
		json_t *c, *t;
		if (!json_is_object(opt))
			return kerror_set(e, EINVAL, "optional is not an object");
		if ((c = json_object_get(opt, "creator")) && !json_is_string(c))
			return kerror_set(e, EINVAL, "optional.creator is not a string");
		if ((t = json_object_get(opt, "timestamp")) && !json_is_integer(t))
			return kerror_set(e, EINVAL, "optional.timestamp is not an integer");
		if (c)
			out->creator = xstrdup(json_string_value(c));
		if (t)
			out->timestamp = json_integer_value(t);
	}
	out->type = xstrdup(type);
	out->manifest_digest = xstrdup(digest);
	out->docker_reference = xstrdup(dref);
	return 0;
}

void sign_payload_release(struct sign_payload *p)
{
	free(p->type);
	free(p->manifest_digest);
	free(p->docker_reference);
	free(p->creator);
	memset(p, 0, sizeof(*p));
	p->timestamp = -1;
}

int sign_simple_create(const char *gnupghome, const char *fingerprint,
		       const char *passphrase_file, const char *docker_reference,
		       const char *manifest_digest, struct sign_bytes *sig, struct kerror *e)
{
	_cleanup_ref_ struct image_ref *ref = NULL;
	if (!digest_valid(manifest_digest))
		return kerror_set(e, EINVAL, "signing: invalid manifest digest \"%s\"",
				  manifest_digest);
	if (ref_parse(docker_reference, &ref, e) < 0)
		return kerror_wrap(e, "signing \"%s\"", docker_reference);
	_cleanup_free_ char *identity = sign_ref_identity(ref);
	_cleanup_free_ char *payload = sign_payload_create(SIGN_TYPE_SIMPLE, manifest_digest,
							   identity, "kiln", (int64_t)time(NULL));
	int ret = sign_gpg_sign(gnupghome, fingerprint, passphrase_file, payload, strlen(payload),
				sig, e);
	if (ret < 0)
		return kerror_wrap(e, "signing \"%s\"", identity);
	return 0;
}
