/* Remote look-ups without pulling: tags/list (following Link headers) and
 * the manifest + config of a reference (skopeo list-tags / inspect). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "registry/remote.h"

#define MAX_TAG_PAGES 10000
#define MAX_CONFIG (32 * 1024 * 1024)

/* The target of a Link header's rel="next" entry, NULL if none. */
char *link_next(const char *link)
{
	const char *p = link;
	while (p && *p) {
		const char *lt = strchr(p, '<'), *gt, *end;
		if (!lt)
			return NULL;
		gt = strchr(lt, '>');
		if (!gt)
			return NULL;
		end = strchr(gt, ',');
		/* Parameters between '>' and the next ',' (or the end). */
		{
			size_t n = end ? (size_t)(end - gt) : strlen(gt);
			_cleanup_free_ char *params = xstrndup(gt + 1, n - 1);
			for (char *q = params; *q; q++)
				if (*q >= 'A' && *q <= 'Z')
					*q = (char)(*q - 'A' + 'a');
			if (strstr(params, "rel=\"next\"") || strstr(params, "rel=next"))
				return xstrndup(lt + 1, (size_t)(gt - lt - 1));
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

int registry_list_tags(const struct registry_opts *o, const char *input, int page_size,
		       char **name, char ***tags, struct kerror *e)
{
	struct remote rm;
	_cleanup_strv_ char **all = NULL;
	_cleanup_free_ char *url = NULL;
	int r, pages = 0;

	r = remote_open(o, input, false, &rm, e);
	if (r < 0)
		goto out;
	if (rm.ref->tag || rm.ref->digest) {
		r = kerror_set(e, EINVAL, "tag or digest are not supported in a repository name "
					  "(\"%s\")", input);
		goto out;
	}
	url = page_size > 0 ? xasprintf("/v2/%s/tags/list?n=%d", rm.ref->path, page_size)
			    : xasprintf("/v2/%s/tags/list", rm.ref->path);
	all = xcalloc(1, sizeof(char *));
	while (url) {
		struct http_req rq = HTTP_REQ_INIT;
		struct http_resp resp;
		_cleanup_json_ json_t *j = NULL;
		json_t *arr, *v;
		size_t i;

		if (++pages > MAX_TAG_PAGES) {
			r = kerror_set(e, E2BIG, "listing tags: more than %d pages", MAX_TAG_PAGES);
			goto out;
		}
		rq.method = "GET";
		rq.url = url;
		rq.scope = rm.scope;
		rq.accept = "application/json";
		rq.max_body = MAX_MANIFEST;
		r = client_request(rm.c, &rq, &resp, e);
		if (r < 0)
			goto out;
		if (resp.status != 200) {
			_cleanup_free_ char *what = xasprintf("listing tags of %s/%s", rm.c->domain,
							      rm.ref->path);
			r = http_error(&resp, what, e);
			http_resp_release(&resp);
			goto out;
		}
		r = json_parse(resp.body.data ? resp.body.data : "", resp.body.len, &j, e);
		free(url);
		url = resp.link ? link_next(resp.link) : NULL;
		http_resp_release(&resp);
		if (r < 0) {
			kerror_wrap(e, "listing tags");
			goto out;
		}
		arr = json_object_get(j, "tags");
		if (arr && !json_is_array(arr) && !json_is_null(arr)) {
			r = kerror_set(e, EBADMSG, "listing tags: \"tags\" is not an array");
			goto out;
		}
		json_array_foreach(arr, i, v) {
			if (!json_is_string(v)) {
				r = kerror_set(e, EBADMSG, "listing tags: a tag is not a string");
				goto out;
			}
			strv_push(&all, xstrdup(json_string_value(v)));
		}
	}
	*name = ref_name(rm.ref);
	*tags = steal_pointer(&all);
	r = 0;
out:
	remote_release(&rm);
	return r;
}

void remote_image_release(struct remote_image *ri)
{
	free(ri->name);
	free(ri->raw);
	free(ri->media_type);
	manifest_free(ri->m);
	config_free(ri->config);
	memset(ri, 0, sizeof(*ri));
}

int registry_inspect_remote(const struct registry_opts *o, const char *input,
			    const char *platform, bool raw_only, struct remote_image *out,
			    struct kerror *e)
{
	struct remote rm;
	_cleanup_free_ char *data = NULL, *ctype = NULL, *cdata = NULL;
	size_t len = 0, clen = 0;
	char digest[DIGEST_STR_LEN + 1];
	enum manifest_kind kind;
	int r;

	memset(out, 0, sizeof(*out));
	r = remote_open(o, input, false, &rm, e);
	if (r < 0)
		goto out;
	r = remote_get_manifest(&rm, remote_reference(&rm), &out->raw, &out->raw_len,
				&out->media_type, out->digest, e);
	if (r < 0)
		goto out;
	out->name = ref_name(rm.ref);
	if (raw_only)
		goto out;
	kind = manifest_detect(out->raw, out->raw_len, out->media_type);
	if (kind == MANIFEST_OCI_INDEX || kind == MANIFEST_DOCKER_LIST) {
		_cleanup_index_ struct manifest_index *x = NULL;
		const struct descriptor *d = NULL;
		r = index_parse(out->raw, out->raw_len, &x, e);
		if (r == 0)
			r = index_pick_platform(x, platform, &d, e);
		if (r == 0)
			r = remote_get_manifest(&rm, d->digest, &data, &len, &ctype, digest, e);
		if (r < 0)
			goto out;
		kind = manifest_detect(data, len, ctype);
	} else {
		data = xstrndup(out->raw, out->raw_len);
		len = out->raw_len;
	}
	if (kind == MANIFEST_DOCKER_V2S1) {
		r = kerror_set(e, ENOTSUP, "manifest is Docker schema 1, which is unsupported");
		goto out;
	}
	r = manifest_parse(data, len, &out->m, e);
	if (r < 0)
		goto out;
	r = remote_get_blob(&rm, &out->m->config, MAX_CONFIG, &cdata, &clen, e);
	if (r == 0)
		r = config_parse(cdata, clen, &out->config, e);
out:
	remote_release(&rm);
	if (r < 0) {
		remote_image_release(out);
		return kerror_wrap(e, "inspecting \"%s\"", input);
	}
	return 0;
}
