/* Replies in Docker's shapes: JSON bodies, {"message": …} errors, the
 * request's query, headers and body. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_private.h"

static void common_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Api-Version", API_VERSION);
	MHD_add_response_header(resp, "Server", "kiln/" "0.1.0" " (linux)");
	MHD_add_response_header(resp, "Docker-Experimental", "false");
	MHD_add_response_header(resp, "Ostype", "linux");
}

enum MHD_Result api_reply_buf(struct api_req *r, unsigned status, const char *ctype,
			      char *data, size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(data);
		return MHD_NO;
	}
	common_headers(resp);
	if (ctype)
		MHD_add_response_header(resp, "Content-Type", ctype);
	enum MHD_Result res = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return res;
}

enum MHD_Result api_reply_json(struct api_req *r, unsigned status, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!s)
		return api_reply_error(r, 500, "encoding the reply failed");
	size_t n = strlen(s);
	/* Docker ends JSON replies with a newline. */
	char *t = xrealloc(s, n + 2);
	t[n] = '\n';
	t[n + 1] = '\0';
	return api_reply_buf(r, status, "application/json", t, n + 1);
}

enum MHD_Result api_reply_error(struct api_req *r, unsigned status, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	json_t *j = json_pack("{s:s}", "message", msg ? msg : "error");
	free(msg);
	return api_reply_json(r, status, j);
}

enum MHD_Result api_reply_kerror(struct api_req *r, const struct kerror *e)
{
	unsigned st = e->code == ENOENT ? 404
		      : e->code == EEXIST || e->code == EBUSY ? 409
		      : e->code == EINVAL ? 400
					  : 500;
	return api_reply_error(r, st, "%s", e->msg ? e->msg : strerror(e->code));
}

enum MHD_Result api_reply_empty(struct api_req *r, unsigned status)
{
	return api_reply_buf(r, status, NULL, NULL, 0);
}

unsigned api_status_for_message(const char *m)
{
	if (strcasestr(m, "no such") || strcasestr(m, "not known") || strcasestr(m, "not found") ||
	    strcasestr(m, "no container with"))
		return 404;
	if (strcasestr(m, "in use") || strcasestr(m, "already") || strcasestr(m, "is running") ||
	    strcasestr(m, "is not running") || strcasestr(m, "is paused") ||
	    strcasestr(m, "conflict"))
		return 409;
	if (strcasestr(m, "invalid") || strcasestr(m, "requires") || strcasestr(m, "unknown") ||
	    strcasestr(m, "unsupported") || strcasestr(m, "not supported"))
		return 400;
	return 500;
}

enum MHD_Result api_reply_worker_error(struct api_req *r, const char *err)
{
	/* the last "Error: " line is the message */
	const char *m = NULL, *p = err ? err : "";
	for (const char *q = p; (q = strstr(q, "Error: ")); q += 7)
		if (q == p || q[-1] == '\n')
			m = q + 7;
	_cleanup_free_ char *msg = xstrndup(m ? m : p, strcspn(m ? m : p, "\n"));
	if (!*msg) {
		free(msg);
		msg = xstrdup("the operation failed");
	}
	return api_reply_error(r, api_status_for_message(msg), "%s", msg);
}

const char *api_query(struct api_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

bool api_query_bool(struct api_req *r, const char *key)
{
	const char *v = api_query(r, key);
	return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || (!*v && false));
}

const char *api_header(struct api_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, key);
}

int api_body_json(struct api_req *r, json_t **out, struct kerror *e)
{
	if (r->body.len == 0) {
		*out = json_object();
		return 0;
	}
	int rc = json_parse(r->body.data, r->body.len, out, e);
	if (rc < 0)
		return kerror_wrap(e, "invalid JSON body");
	return 0;
}
