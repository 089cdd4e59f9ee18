/* Helpers shared by the image commands. */
#include <errno.h>
#include <fnmatch.h>
#include <string.h>

#include "cli/cli.h"

#define CONFIG_MAX (4 * 1024 * 1024)

int image_load_config(struct cli *c, const struct image_info *i, struct image_config **out,
		      struct kerror *e)
{
	_cleanup_free_ char *raw = NULL;
	char digest[DIGEST_STR_LEN + 1];
	struct store *s;
	size_t len;
	int r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	snprintf(digest, sizeof(digest), "sha256:%s", i->id);
	r = store_blob_get(s, digest, CONFIG_MAX, &raw, &len, e);
	if (r == 0)
		r = config_parse(raw, len, out, e);
	if (r < 0)
		return kerror_wrap(e, "image %.12s", i->id);
	return 0;
}

char *image_familiar(const char *name)
{
	_cleanup_ref_ struct image_ref *r = NULL;
	if (ref_parse(name, &r, NULL) < 0)
		return xstrdup(name);
	return ref_familiar(r);
}

char *image_event_name(const char *arg, bool local)
{
	_cleanup_ref_ struct image_ref *r = NULL;
	if (str_has_prefix(arg, "sha256:"))
		return xstrdup(arg);
	if ((local ? ref_parse_local(arg, &r, NULL) : ref_parse(arg, &r, NULL)) < 0)
		return xstrdup(arg); /* a transport (oci:…), an ID */
	if (!r->tag && !r->digest)
		r->tag = xstrdup(REF_DEFAULT_TAG);
	return ref_string(r);
}

/* label=KEY or label=KEY=VALUE against the config's Labels. */
static bool label_matches(json_t *labels, const char *want)
{
	const char *eq = strchr(want, '=');
	_cleanup_free_ char *key = eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
	const char *v = json_str(labels, key);
	if (!v)
		return false;
	return !eq || strcmp(v, eq + 1) == 0;
}

int image_filter_parse(struct image_filter *f, const char *spec, struct kerror *e)
{
	const char *eq = strchr(spec, '=');
	_cleanup_free_ char *key = NULL;
	const char *val;
	if (!eq)
		return kerror_set(e, EINVAL, "bad format of filter (expected name=value)");
	key = xstrndup(spec, (size_t)(eq - spec));
	val = eq + 1;
	if (!strcmp(key, "dangling")) {
		if (!strcmp(val, "true") || !strcmp(val, "1"))
			f->dangling = 1;
		else if (!strcmp(val, "false") || !strcmp(val, "0"))
			f->dangling = 0;
		else
			return kerror_set(e, EINVAL, "invalid filter 'dangling=%s'", val);
	} else if (!strcmp(key, "reference")) {
		strv_push(&f->reference, xstrdup(val));
	} else if (!strcmp(key, "label")) {
		strv_push(&f->label, xstrdup(val));
	} else if (!strcmp(key, "label!")) {
		strv_push(&f->label_not, xstrdup(val));
	} else if (!strcmp(key, "before")) {
		free(f->before);
		f->before = xstrdup(val);
	} else if (!strcmp(key, "since")) {
		free(f->since);
		f->since = xstrdup(val);
	} else if (!strcmp(key, "until")) {
		int64_t sec;
		long ns;
		char *end;
		long long v = strtoll(val, &end, 10);
		if (*val && !*end)
			f->until = v;
		else if (parse_rfc3339(val, &sec, &ns) == 0)
			f->until = sec;
		else
			return kerror_set(e, EINVAL, "invalid filter 'until=%s'", val);
		f->has_until = true;
	} else {
		return kerror_set(e, EINVAL, "invalid filter '%s'", key);
	}
	return 0;
}

void image_filter_release(struct image_filter *f)
{
	strv_free(f->reference);
	strv_free(f->label);
	strv_free(f->label_not);
	free(f->before);
	free(f->since);
	memset(f, 0, sizeof(*f));
	f->dangling = -1;
}

/* Resolves before=/since= to creation times. */
int image_filter_resolve(struct cli *c, struct image_filter *f, struct kerror *e)
{
	struct store *s;
	int r = cli_store(c, &s, e);
	if (r < 0)
		return r;
	if (f->before) {
		_cleanup_image_info_ struct image_info *i = NULL;
		r = store_image_lookup(s, f->before, &i, e);
		if (r < 0)
			return r;
		f->before_time = i->created * 1000000000LL + i->created_nsec;
	}
	if (f->since) {
		_cleanup_image_info_ struct image_info *i = NULL;
		r = store_image_lookup(s, f->since, &i, e);
		if (r < 0)
			return r;
		f->since_time = i->created * 1000000000LL + i->created_nsec;
	}
	return 0;
}

/* Docker's reference filter: path.Match of the pattern against the
 * familiar name with and without its tag. */
bool image_name_matches(const char *name, const char *pattern)
{
	_cleanup_free_ char *fam = image_familiar(name);
	_cleanup_free_ char *bare = xstrdup(fam);
	char *colon = strrchr(bare, ':');
	if (colon && !strchr(colon, '/'))
		*colon = '\0';
	return fnmatch(pattern, fam, FNM_PATHNAME) == 0 || fnmatch(pattern, bare, FNM_PATHNAME) == 0 ||
	       fnmatch(pattern, name, FNM_PATHNAME) == 0;
}

int image_filter_match(struct cli *c, const struct image_filter *f, const struct image_info *i,
		       bool *match, struct kerror *e)
{
	int64_t t = i->created * 1000000000LL + i->created_nsec;
	*match = false;
	if (f->dangling == 1 && i->names[0])
		return 0;
	if (f->dangling == 0 && !i->names[0])
		return 0;
	if (f->before && t >= f->before_time)
		return 0;
	if (f->since && t <= f->since_time)
		return 0;
	if (f->has_until && i->created >= f->until)
		return 0;
	if (f->reference) {
		bool any = false;
		for (size_t k = 0; i->names[k] && !any; k++)
			for (size_t p = 0; f->reference[p] && !any; p++)
				any = image_name_matches(i->names[k], f->reference[p]);
		if (!any)
			return 0;
	}
	if (f->label || f->label_not) {
		_cleanup_config_ struct image_config *cfg = NULL;
		int r = image_load_config(c, i, &cfg, e);
		if (r < 0)
			return r;
		json_t *labels = json_object_get(config_exec(cfg), "Labels");
		for (size_t k = 0; f->label && f->label[k]; k++)
			if (!label_matches(labels, f->label[k]))
				return 0;
		for (size_t k = 0; f->label_not && f->label_not[k]; k++)
			if (label_matches(labels, f->label_not[k]))
				return 0;
	}
	*match = true;
	return 0;
}
