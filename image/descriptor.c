/* descriptor.c — descriptors (and their platform objects) to and from JSON,
 * plus the validation helpers the manifest and index parsers share. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/model.h"

/* Untrusted strings quoted in messages are cut to this many bytes. */
#define QUOTE_MAX 80

int model_opt_string(const json_t *obj, const char *key, char **out, struct kerror *e)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return kerror_set(e, EINVAL, "\"%s\" is not a string", key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int req_string(const json_t *obj, const char *key, char **out, struct kerror *e)
{
	int r = model_opt_string(obj, key, out, e);
	if (r == 0 && (!*out || !**out))
		r = kerror_set(e, EINVAL, "\"%s\" is missing", key);
	return r;
}

static int opt_strv(const json_t *obj, const char *key, char ***out, struct kerror *e)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	*out = json_strv(v);
	if (!*out)
		return kerror_set(e, EINVAL, "\"%s\" is not an array of strings", key);
	return 0;
}

int model_annotations(const json_t *obj, json_t **out, struct kerror *e)
{
	json_t *v = json_object_get(obj, "annotations"), *it;
	const char *k;

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return kerror_set(e, EINVAL, "\"annotations\" is not an object");
	json_object_foreach(v, k, it)
		if (!json_is_string(it))
			return kerror_set(e, EINVAL, "annotation \"%.*s\" is not a string",
					  QUOTE_MAX, k);
	*out = json_incref(v);
	return 0;
}

static int platform_from_json(const json_t *j, struct platform *p, struct kerror *e)
{
	int r;

	if (!json_is_object(j))
		return kerror_set(e, EINVAL, "\"platform\" is not an object");
	if ((r = req_string(j, "architecture", &p->architecture, e)) < 0 ||
	    (r = req_string(j, "os", &p->os, e)) < 0 ||
	    (r = model_opt_string(j, "os.version", &p->os_version, e)) < 0 ||
	    (r = opt_strv(j, "os.features", &p->os_features, e)) < 0 ||
	    (r = model_opt_string(j, "variant", &p->variant, e)) < 0)
		return kerror_wrap(e, "platform");
	return 0;
}

static json_t *platform_to_json(const struct platform *p)
{
	json_t *j = json_object();
	json_object_set_new(j, "architecture", json_string(p->architecture ? p->architecture : ""));
	json_object_set_new(j, "os", json_string(p->os ? p->os : ""));
	if (p->os_version)
		json_object_set_new(j, "os.version", json_string(p->os_version));
	if (p->os_features)
		json_object_set_new(j, "os.features", json_from_strv(p->os_features));
	if (p->variant)
		json_object_set_new(j, "variant", json_string(p->variant));
	return j;
}

int descriptor_from_json(const json_t *j, struct descriptor *out, struct kerror *e)
{
	struct descriptor d = { 0 };
	json_t *size, *plat;
	int r;

	*out = d;
	if (!json_is_object(j))
		return kerror_set(e, EINVAL, "descriptor is not an object");
	if ((r = req_string(j, "mediaType", &d.media_type, e)) < 0 ||
	    (r = req_string(j, "digest", &d.digest, e)) < 0)
		goto fail;
	if (!digest_valid(d.digest)) {
		r = kerror_set(e, EINVAL, "invalid digest \"%.*s\"", QUOTE_MAX, d.digest);
		goto fail;
	}
	size = json_object_get(j, "size");
	if (!json_is_integer(size) || json_integer_value(size) < 0) {
		r = kerror_set(e, EINVAL, "descriptor %s: \"size\" is %s", d.digest,
			       size ? "not a non-negative integer" : "missing");
		goto fail;
	}
	d.size = json_integer_value(size);
	if ((r = opt_strv(j, "urls", &d.urls, e)) < 0 ||
	    (r = model_annotations(j, &d.annotations, e)) < 0 ||
	    (r = model_opt_string(j, "data", &d.data, e)) < 0 ||
	    (r = model_opt_string(j, "artifactType", &d.artifact_type, e)) < 0)
		goto fail;
	plat = json_object_get(j, "platform");
	if (plat && !json_is_null(plat)) {
		d.platform = xcalloc(1, sizeof(*d.platform));
		if ((r = platform_from_json(plat, d.platform, e)) < 0)
			goto fail;
	}
	*out = d;
	return 0;
fail:
	descriptor_release(&d);
	return r;
}

json_t *descriptor_to_json(const struct descriptor *d)
{
	json_t *j = json_object();
	json_object_set_new(j, "mediaType", json_string(d->media_type ? d->media_type : ""));
	json_object_set_new(j, "digest", json_string(d->digest ? d->digest : ""));
	json_object_set_new(j, "size", json_integer(d->size));
	if (d->urls)
		json_object_set_new(j, "urls", json_from_strv(d->urls));
	if (d->annotations)
		json_object_set(j, "annotations", d->annotations);
	if (d->data)
		json_object_set_new(j, "data", json_string(d->data));
	if (d->platform)
		json_object_set_new(j, "platform", platform_to_json(d->platform));
	if (d->artifact_type)
		json_object_set_new(j, "artifactType", json_string(d->artifact_type));
	return j;
}

void descriptor_release(struct descriptor *d)
{
	if (!d)
		return;
	free(d->media_type);
	free(d->digest);
	strv_free(d->urls);
	json_decref(d->annotations);
	if (d->platform) {
		platform_release(d->platform);
		free(d->platform);
	}
	free(d->artifact_type);
	free(d->data);
	*d = (struct descriptor){ 0 };
}

int model_opt_descriptor(const json_t *obj, const char *key, struct descriptor **out,
			 struct kerror *e)
{
	json_t *v = json_object_get(obj, key);
	struct descriptor *d;

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	d = xcalloc(1, sizeof(*d));
	if (descriptor_from_json(v, d, e) < 0) {
		free(d);
		return kerror_wrap(e, "%s", key);
	}
	*out = d;
	return 0;
}

int model_descriptors(const json_t *obj, const char *key, struct descriptor **out, size_t *n,
		      struct kerror *e)
{
	json_t *arr = json_object_get(obj, key);
	struct descriptor *v;
	size_t count;

	*out = NULL;
	*n = 0;
	if (!json_is_array(arr))
		return kerror_set(e, EINVAL, "\"%s\" is %s", key,
				  arr ? "not an array" : "missing");
	count = json_array_size(arr);
	v = xcalloc(count ? count : 1, sizeof(*v));
	for (size_t i = 0; i < count; i++) {
		if (descriptor_from_json(json_array_get(arr, i), &v[i], e) < 0) {
			for (size_t k = 0; k < i; k++)
				descriptor_release(&v[k]);
			free(v);
			return kerror_wrap(e, "%s[%zu]", key, i);
		}
	}
	*out = v;
	*n = count;
	return 0;
}

int model_load(const char *data, size_t len, const char *what, const char *const *forbidden,
	       json_t **out, struct kerror *e)
{
	_cleanup_json_ json_t *root = NULL;
	json_t *sv;
	const char *mt;

	if (json_parse(data, len, &root, e) < 0)
		return kerror_wrap(e, "parsing %s", what);
	if (!json_is_object(root))
		return kerror_set(e, EINVAL, "invalid %s: not a JSON object", what);
	sv = json_object_get(root, "schemaVersion");
	mt = json_str(root, "mediaType");
	if ((json_is_integer(sv) && json_integer_value(sv) == 1) ||
	    (mt && (!strcmp(mt, MT_DOCKER_SCHEMA1) || !strcmp(mt, MT_DOCKER_SCHEMA1_SIGNED))))
		return kerror_set(e, ENOTSUP, "unsupported manifest schema 1");
	if (!json_is_integer(sv) || json_integer_value(sv) != 2)
		return kerror_set(e, EINVAL, "invalid %s: schemaVersion is %s, expected 2", what,
				  sv ? "unsupported" : "missing");
	/* CVE-2021-41190: a document that parses as two kinds is refused. */
	for (; *forbidden; forbidden++)
		if (json_object_get(root, *forbidden))
			return kerror_set(e, EINVAL, "ambiguous %s: it also has \"%s\"", what,
					  *forbidden);
	*out = steal_pointer(&root);
	return 0;
}

void model_set_raw(char **raw, size_t *raw_len, const char *data, size_t len)
{
	char *p = xmalloc(len + 1);
	memcpy(p, data, len);
	p[len] = '\0';
	free(*raw);
	*raw = p;
	*raw_len = len;
}

void model_put_opt(json_t *obj, const char *key, json_t *value_or_null)
{
	if (value_or_null)
		json_object_set_new(obj, key, value_or_null);
}
