/* config.c — the image config model: validated on parse, kept whole as JSON
 * so fields kiln does not know survive. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/model.h"

static bool is_strv(const json_t *v)
{
	const json_t *it;
	size_t i;

	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, it)
		if (!json_is_string(it))
			return false;
	return true;
}

/* An object whose values all are objects (values_string false) or strings. */
static bool is_map(const json_t *v, bool values_string)
{
	const char *k;
	const json_t *it;

	if (!json_is_object(v))
		return false;
	json_object_foreach((json_t *)v, k, it)
		if (values_string ? !json_is_string(it) : !json_is_object(it))
			return false;
	return true;
}

/* The execution parameters ("config") kiln and its peers read: a field of
 * the wrong type is refused, as Docker's decoder does, instead of being
 * half-understood later by run or build.  null means unset. */
static int exec_check(const json_t *cfg, struct kerror *e)
{
	static const char *const strvs[] = { "Env", "Cmd", "Entrypoint", "OnBuild", "Shell" };
	static const char *const strs[] = { "User", "WorkingDir", "StopSignal" };
	const json_t *v;

	if (!cfg || json_is_null(cfg))
		return 0;
	if (!json_is_object(cfg))
		return kerror_set(e, EINVAL, "\"config\" is not an object");
	for (size_t i = 0; i < sizeof(strvs) / sizeof(*strvs); i++)
		if ((v = json_object_get(cfg, strvs[i])) && !json_is_null(v) && !is_strv(v))
			return kerror_set(e, EINVAL, "config.%s is not a list of strings", strvs[i]);
	for (size_t i = 0; i < sizeof(strs) / sizeof(*strs); i++)
		if ((v = json_object_get(cfg, strs[i])) && !json_is_null(v) && !json_is_string(v))
			return kerror_set(e, EINVAL, "config.%s is not a string", strs[i]);
	if ((v = json_object_get(cfg, "Labels")) && !json_is_null(v) && !is_map(v, true))
		return kerror_set(e, EINVAL, "config.Labels is not an object of strings");
	if ((v = json_object_get(cfg, "ExposedPorts")) && !json_is_null(v) && !is_map(v, false))
		return kerror_set(e, EINVAL, "config.ExposedPorts is not an object of objects");
	if ((v = json_object_get(cfg, "Volumes")) && !json_is_null(v) && !is_map(v, false))
		return kerror_set(e, EINVAL, "config.Volumes is not an object of objects");
	if ((v = json_object_get(cfg, "Healthcheck")) && !json_is_null(v) && !json_is_object(v))
		return kerror_set(e, EINVAL, "config.Healthcheck is not an object");
	return 0;
}

static int config_check(const json_t *root, struct kerror *e)
{
	const json_t *rootfs = json_object_get(root, "rootfs"), *ids, *it;
	const char *type, *os = json_str(root, "os"), *arch = json_str(root, "architecture");
	size_t i;

	if (!arch || !*arch)
		return kerror_set(e, EINVAL, "\"architecture\" is missing or not a string");
	if (!os || !*os)
		return kerror_set(e, EINVAL, "\"os\" is missing or not a string");
	if (!json_is_object(rootfs))
		return kerror_set(e, EINVAL, "\"rootfs\" is missing or not an object");
	type = json_str(rootfs, "type");
	if (!type || strcmp(type, "layers") != 0)
		return kerror_set(e, EINVAL, "unsupported rootfs type \"%.80s\", expected \"layers\"",
				  type ? type : "");
	/* Docker omits an empty diff_ids (omitempty). */
	ids = json_object_get(rootfs, "diff_ids");
	if (ids && !json_is_null(ids) && !json_is_array(ids))
		return kerror_set(e, EINVAL, "rootfs.diff_ids is not an array");
	json_array_foreach(ids, i, it)
		if (!digest_valid(json_string_value(it)))
			return kerror_set(e, EINVAL, "rootfs.diff_ids[%zu] is not a valid digest", i);
	return exec_check(json_object_get(root, "config"), e);
}

int config_parse(const char *data, size_t len, struct image_config **out, struct kerror *e)
{
	_cleanup_json_ json_t *root = NULL;
	struct image_config *c;
	int r;

	if ((r = json_parse(data, len, &root, e)) < 0)
		return kerror_wrap(e, "parsing image config");
	if (!json_is_object(root))
		return kerror_set(e, EINVAL, "invalid image config: not a JSON object");
	if ((r = config_check(root, e)) < 0)
		return kerror_wrap(e, "invalid image config");
	c = xcalloc(1, sizeof(*c));
	c->json = steal_pointer(&root);
	model_set_raw(&c->raw, &c->raw_len, data, len);
	*out = c;
	return 0;
}

void config_serialize(struct image_config *c)
{
	free(c->raw);
	c->raw = json_dump_compact(c->json);
	c->raw_len = strlen(c->raw);
}

char **config_diff_ids(const struct image_config *c)
{
	char **v = json_strv(json_object_get(json_object_get(c->json, "rootfs"), "diff_ids"));
	return v ? v : xcalloc(1, sizeof(char *));
}

const char *config_os(const struct image_config *c)
{
	return json_str(c->json, "os");
}

const char *config_architecture(const struct image_config *c)
{
	return json_str(c->json, "architecture");
}

int64_t config_created(const struct image_config *c)
{
	const char *s = json_str(c->json, "created");
	int64_t sec;
	long nsec;

	if (!s || parse_rfc3339(s, &sec, &nsec) != 0)
		return 0;
	return sec;
}

json_t *config_exec(const struct image_config *c)
{
	json_t *j = json_object_get(c->json, "config");
	return json_is_object(j) ? j : NULL;
}

void config_free(struct image_config *c)
{
	if (!c)
		return;
	json_decref(c->json);
	free(c->raw);
	free(c);
}

void cleanup_configp(struct image_config **c)
{
	config_free(*c);
	*c = NULL;
}
