/* JSON helpers over jansson. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

int json_parse(const char *data, size_t len, json_t **out, struct kerror *e)
{
	json_error_t je;
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return kerror_set(e, EINVAL, "invalid JSON at line %d column %d: %s", je.line,
				  je.column, je.text);
	*out = j;
	return 0;
}

char *json_dump_compact(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		abort();
	return s;
}

char *json_dump_pretty(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(4) | JSON_ENCODE_ANY);
	if (!s)
		abort();
	return s;
}

const char *json_str(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t json_int(const json_t *obj, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

char **json_strv(const json_t *arr)
{
	char **v = xcalloc(1, sizeof(char *));
	size_t i;
	json_t *it;

	if (!json_is_array(arr)) {
		free(v);
		return NULL;
	}
	json_array_foreach(arr, i, it) {
		if (!json_is_string(it)) {
			strv_free(v);
			return NULL;
		}
		strv_push(&v, xstrdup(json_string_value(it)));
	}
	return v;
}

json_t *json_from_strv(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}
