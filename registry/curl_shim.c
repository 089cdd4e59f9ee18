/* libcurl, loaded on first use.  Linked normally, libcurl and its
 * dependencies (gnutls, krb5, ldap, ssh2, …: about 25 libraries) would be
 * mapped and relocated by every kiln command, registry or not — a few
 * milliseconds that `kiln run` and `kiln ps` cannot afford.  These
 * definitions stand in for libcurl's own and forward to it. */
/* The type-checking macros would rename our definitions. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <stdio.h>

#include "common/common.h"

#define CURL_FUNCS(X)                                                                      \
	X(CURLcode, global_init, (long))                                                   \
	X(CURL *, easy_init, (void))                                                       \
	X(void, easy_cleanup, (CURL *))                                                    \
	X(void, easy_reset, (CURL *))                                                      \
	X(CURLcode, easy_perform, (CURL *))                                                \
	X(CURLcode, easy_pause, (CURL *, int))                                             \
	X(const char *, easy_strerror, (CURLcode))                                         \
	X(char *, easy_escape, (CURL *, const char *, int))                                \
	X(CURLcode, easy_setopt, (CURL *, CURLoption, ...))                                \
	X(CURLcode, easy_getinfo, (CURL *, CURLINFO, ...))                                 \
	X(CURLHcode, easy_header, (CURL *, const char *, size_t, unsigned int, int,        \
				   struct curl_header **))                                 \
	X(struct curl_slist *, slist_append, (struct curl_slist *, const char *))          \
	X(void, slist_free_all, (struct curl_slist *))                                     \
	X(void, free, (void *))                                                            \
	X(CURLM *, multi_init, (void))                                                     \
	X(CURLMcode, multi_cleanup, (CURLM *))                                             \
	X(CURLMcode, multi_add_handle, (CURLM *, CURL *))                                  \
	X(CURLMcode, multi_remove_handle, (CURLM *, CURL *))                               \
	X(CURLMcode, multi_perform, (CURLM *, int *))                                      \
	X(CURLMcode, multi_poll, (CURLM *, struct curl_waitfd *, unsigned int, int, int *)) \
	X(CURLMcode, multi_wakeup, (CURLM *))                                              \
	X(CURLMsg *, multi_info_read, (CURLM *, int *))                                    \
	X(CURLMcode, multi_setopt, (CURLM *, CURLMoption, ...))

DLIB_SHIM("libcurl", "curl_", CURL_FUNCS, "libcurl.so.4");

CURLcode curl_global_init(long flags)
{
	return dlib_load(&lib) ? api.global_init(flags) : CURLE_FAILED_INIT;
}

CURL *curl_easy_init(void)
{
	return dlib_load(&lib) ? api.easy_init() : NULL;
}

void curl_easy_cleanup(CURL *c)
{
	if (c && dlib_load(&lib))
		api.easy_cleanup(c);
}

void curl_easy_reset(CURL *c)
{
	if (dlib_load(&lib))
		api.easy_reset(c);
}

CURLcode curl_easy_perform(CURL *c)
{
	return dlib_load(&lib) ? api.easy_perform(c) : CURLE_FAILED_INIT;
}

CURLcode curl_easy_pause(CURL *c, int bitmask)
{
	return dlib_load(&lib) ? api.easy_pause(c, bitmask) : CURLE_FAILED_INIT;
}

const char *curl_easy_strerror(CURLcode code)
{
	return dlib_load(&lib) ? api.easy_strerror(code) : dlib_error(&lib);
}

char *curl_easy_escape(CURL *c, const char *s, int len)
{
	return dlib_load(&lib) ? api.easy_escape(c, s, len) : NULL;
}

/* The value's C type follows from the option number's range. */
CURLcode curl_easy_setopt(CURL *c, CURLoption opt, ...)
{
	va_list ap;
	CURLcode r;
	if (!dlib_load(&lib))
		return CURLE_FAILED_INIT;
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		r = api.easy_setopt(c, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_OFF_T)
		r = api.easy_setopt(c, opt, va_arg(ap, void *));
	else if (opt < CURLOPTTYPE_BLOB)
		r = api.easy_setopt(c, opt, va_arg(ap, curl_off_t));
	else
		r = api.easy_setopt(c, opt, va_arg(ap, void *));
	va_end(ap);
	return r;
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *c, CURLINFO info, ...)
{
	va_list ap;
	CURLcode r;
	if (!dlib_load(&lib))
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	r = api.easy_getinfo(c, info, va_arg(ap, void *));
	va_end(ap);
	return r;
}

CURLHcode curl_easy_header(CURL *c, const char *name, size_t index, unsigned int origin,
			   int request, struct curl_header **hout)
{
	return dlib_load(&lib) ? api.easy_header(c, name, index, origin, request, hout)
			       : CURLHE_NOT_BUILT_IN;
}

struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s)
{
	return dlib_load(&lib) ? api.slist_append(l, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *l)
{
	if (l && dlib_load(&lib))
		api.slist_free_all(l);
}

void curl_free(void *p)
{
	if (p && dlib_load(&lib))
		api.free(p);
}

CURLM *curl_multi_init(void)
{
	return dlib_load(&lib) ? api.multi_init() : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *m)
{
	return dlib_load(&lib) ? api.multi_cleanup(m) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_add_handle(CURLM *m, CURL *c)
{
	return dlib_load(&lib) ? api.multi_add_handle(m, c) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM *m, CURL *c)
{
	return dlib_load(&lib) ? api.multi_remove_handle(m, c) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_perform(CURLM *m, int *running)
{
	return dlib_load(&lib) ? api.multi_perform(m, running) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_poll(CURLM *m, struct curl_waitfd *fds, unsigned int n, int timeout,
			  int *numfds)
{
	return dlib_load(&lib) ? api.multi_poll(m, fds, n, timeout, numfds) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_wakeup(CURLM *m)
{
	return dlib_load(&lib) ? api.multi_wakeup(m) : CURLM_INTERNAL_ERROR;
}

CURLMsg *curl_multi_info_read(CURLM *m, int *left)
{
	return dlib_load(&lib) ? api.multi_info_read(m, left) : NULL;
}

CURLMcode curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
	va_list ap;
	CURLMcode r;
	if (!dlib_load(&lib))
		return CURLM_INTERNAL_ERROR;
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		r = api.multi_setopt(m, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_OFF_T)
		r = api.multi_setopt(m, opt, va_arg(ap, void *));
	else
		r = api.multi_setopt(m, opt, va_arg(ap, curl_off_t));
	va_end(ap);
	return r;
}
