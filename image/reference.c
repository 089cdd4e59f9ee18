/* reference.c — image references: the distribution reference grammar with
 * Docker's normalisation (ParseNormalizedNamed, splitDockerDomain,
 * FamiliarString) and kiln's local-name rules. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

#define REF_FORMAT "invalid reference format"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static bool has_upper(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return true;
	return false;
}

bool ref_tag_valid(const char *tag)
{
	size_t n = tag ? strlen(tag) : 0;

	if (n == 0 || n > 128 || !is_word(tag[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_word(tag[i]) && tag[i] != '.' && tag[i] != '-')
			return false;
	return true;
}

/* [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)* — one path component, s[0..n). */
static bool path_component_valid(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (!is_lower_alnum(s[i]))
			return false;
		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == n)
			return true;
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
		else if (s[i] == '-')
			while (i < n && s[i] == '-')
				i++;
		else
			return false;
		if (i == n) /* a separator must be followed by alphanumerics */
			return false;
	}
	return false; /* empty */
}

static bool path_valid(const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (!path_component_valid(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

/* [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool domain_component_valid(const char *s, size_t n)
{
	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* host [":" port], host = domain-name | "[" ipv6 "]" */
static bool domain_valid(const char *s, size_t n)
{
	size_t host_end;

	if (n > 0 && s[0] == '[') {
		size_t i = 1;
		while (i < n && (strchr("0123456789abcdefABCDEF:", s[i]) && s[i]))
			i++;
		if (i == 1 || i >= n || s[i] != ']')
			return false;
		host_end = i + 1;
	} else {
		const char *colon = memchr(s, ':', n);
		size_t start = 0;
		host_end = colon ? (size_t)(colon - s) : n;
		for (size_t i = 0; i <= host_end; i++) {
			if (i == host_end || s[i] == '.') {
				if (!domain_component_valid(s + start, i - start))
					return false;
				start = i + 1;
			}
		}
	}
	if (host_end == n)
		return true;
	if (s[host_end] != ':' || host_end + 1 == n)
		return false;
	for (size_t i = host_end + 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* splitDockerDomain's test: is the first component a registry host? */
static bool first_is_domain(const char *s, size_t n)
{
	return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && !memcmp(s, "localhost", 9)) ||
	       has_upper(s, n);
}

bool ref_is_short(const char *s)
{
	const char *slash = strchr(s, '/');
	return !slash || !first_is_domain(s, slash - s);
}

static bool is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* Parses "rem" (path[:tag][@digest]) on the given domain.  Docker's
 * normalisation (index.docker.io, library/) is applied when normalize is set. */
static int parse_on_domain(const char *domain, const char *rem,
			   bool normalize, struct image_ref **out, struct kerror *e)
{
	_cleanup_free_ char *path = NULL, *tag = NULL;
	const char *at, *colon;
	size_t path_len;

	if (normalize && strcmp(domain, "index.docker.io") == 0)
		domain = REF_DEFAULT_DOMAIN;
	if (normalize && strcmp(domain, REF_DEFAULT_DOMAIN) == 0 && !strchr(rem, '/'))
		path = xasprintf("library/%s", rem);
	else
		path = xstrdup(rem);

	/* Docker checks the repository (up to the first ':') for case first. */
	colon = strchr(path, ':');
	path_len = colon ? (size_t)(colon - path) : strlen(path);
	if (has_upper(path, path_len))
		return kerror_set(e, EINVAL, REF_FORMAT ": repository name (%.*s) must be lowercase",
				  (int)path_len, path);

	at = strchr(path, '@');
	path_len = at ? (size_t)(at - path) : strlen(path);
	colon = memchr(path, ':', path_len);
	if (colon) {
		tag = xstrndup(colon + 1, path_len - (colon + 1 - path));
		path_len = colon - path;
	}
	if (!domain_valid(domain, strlen(domain)) || !path_valid(path, path_len))
		return kerror_set(e, EINVAL, REF_FORMAT);
	if (colon && !ref_tag_valid(tag))
		return kerror_set(e, EINVAL, REF_FORMAT ": invalid tag format");
	if (strlen(domain) + 1 + path_len > REF_NAME_MAX)
		return kerror_set(e, EINVAL,
				  REF_FORMAT ": repository name must not be more than %d characters",
				  REF_NAME_MAX);
	if (at && !digest_valid(at + 1))
		return kerror_set(e, EINVAL, REF_FORMAT ": invalid checksum digest format");

	struct image_ref *r = xcalloc(1, sizeof(*r));
	r->domain = xstrdup(domain);
	r->path = xstrndup(path, path_len);
	r->tag = steal_pointer(&tag);
	r->digest = at ? xstrdup(at + 1) : NULL;
	*out = r;
	return 0;
}

/* Checks Docker makes on the whole string before splitting it. */
static int precheck(const char *s, struct kerror *e)
{
	if (!s || !*s)
		return kerror_set(e, EINVAL,
				  REF_FORMAT ": repository name must have at least one component");
	if (strlen(s) > 4096)
		return kerror_set(e, EINVAL, REF_FORMAT ": reference too long");
	if (is_hex64(s))
		return kerror_set(e, EINVAL,
				  "invalid repository name (%s), cannot specify 64-byte hexadecimal strings",
				  s);
	return 0;
}

static int parse_with_default(const char *s, const char *dflt_domain, bool normalize,
			      struct image_ref **out, struct kerror *e)
{
	int r = precheck(s, e);
	if (r < 0)
		return r;
	if (ref_is_short(s))
		return parse_on_domain(dflt_domain, s, normalize, out, e);
	const char *slash = strchr(s, '/');
	_cleanup_free_ char *domain = xstrndup(s, slash - s);
	return parse_on_domain(domain, slash + 1, true, out, e);
}

int ref_parse(const char *s, struct image_ref **out, struct kerror *e)
{
	return parse_with_default(s, REF_DEFAULT_DOMAIN, true, out, e);
}

int ref_parse_local(const char *s, struct image_ref **out, struct kerror *e)
{
	struct image_ref *r = NULL;
	int ret = parse_with_default(s, REF_LOCAL_DOMAIN, false, &r, e);
	if (ret < 0)
		return ret;
	if (!r->tag && !r->digest)
		r->tag = xstrdup(REF_DEFAULT_TAG);
	*out = r;
	return 0;
}

char **ref_local_candidates(const char *s, struct kerror *e)
{
	_cleanup_ref_ struct image_ref *r = NULL;
	char **v = xcalloc(1, sizeof(char *));

	if (ref_is_short(s ? s : "")) {
		if (ref_parse_local(s, &r, e) < 0) {
			strv_free(v);
			return NULL;
		}
		strv_push(&v, ref_string(r));
		ref_free(steal_pointer(&r));
	}
	if (ref_parse(s, &r, e) < 0) {
		strv_free(v);
		return NULL;
	}
	if (!r->tag && !r->digest)
		r->tag = xstrdup(REF_DEFAULT_TAG);
	strv_push(&v, ref_string(r));
	return v;
}

static char *format_ref(const char *domain, const char *path, const struct image_ref *r)
{
	return xasprintf("%s%s%s%s%s%s%s", domain ? domain : "", domain ? "/" : "", path,
			 r->tag ? ":" : "", r->tag ? r->tag : "", r->digest ? "@" : "",
			 r->digest ? r->digest : "");
}

char *ref_string(const struct image_ref *r)
{
	return format_ref(r->domain, r->path, r);
}

char *ref_name(const struct image_ref *r)
{
	return xasprintf("%s/%s", r->domain, r->path);
}

char *ref_familiar(const struct image_ref *r)
{
	if (strcmp(r->domain, REF_DEFAULT_DOMAIN) != 0)
		return ref_string(r);
	const char *path = r->path;
	/* library/ is dropped only for the one-level official namespace. */
	if (str_has_prefix(path, "library/") && !strchr(path + 8, '/'))
		path += 8;
	return format_ref(NULL, path, r);
}

void ref_free(struct image_ref *r)
{
	if (!r)
		return;
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	free(r);
}

void cleanup_refp(struct image_ref **r)
{
	ref_free(*r);
	*r = NULL;
}
