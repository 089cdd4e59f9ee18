/* libmicrohttpd, loaded on first use.  Linked normally it would map
 * gnutls, nettle, p11-kit, … (about ten libraries) into every kiln command,
 * though only `kiln system service` serves HTTP.  These definitions stand
 * in for libmicrohttpd's own and forward to it (as registry/curl_shim.c
 * does for libcurl).  A function newly used from libmicrohttpd must be
 * added here. */
#include <microhttpd.h>
#include <stdio.h>

#include "common/common.h"

#define MHD_FUNCS(X)                                                                         \
	X(struct MHD_Daemon *, start_daemon_va,                                              \
	  (unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *, MHD_AccessHandlerCallback, \
	   void *, va_list))                                                                 \
	X(void, stop_daemon, (struct MHD_Daemon *))                                          \
	X(struct MHD_Response *, create_response_from_buffer,                                \
	  (size_t, void *, enum MHD_ResponseMemoryMode))                                     \
	X(struct MHD_Response *, create_response_from_callback,                              \
	  (uint64_t, size_t, MHD_ContentReaderCallback, void *,                              \
	   MHD_ContentReaderFreeCallback))                                                   \
	X(struct MHD_Response *, create_response_for_upgrade, (MHD_UpgradeHandler, void *))  \
	X(struct MHD_Response *, create_response_from_fd, (size_t, int))                     \
	X(enum MHD_Result, add_response_header, (struct MHD_Response *, const char *,        \
						 const char *))                              \
	X(enum MHD_Result, queue_response, (struct MHD_Connection *, unsigned int,           \
					    struct MHD_Response *))                          \
	X(void, destroy_response, (struct MHD_Response *))                                   \
	X(const char *, lookup_connection_value, (struct MHD_Connection *,                   \
						  enum MHD_ValueKind, const char *))         \
	X(int, get_connection_values, (struct MHD_Connection *, enum MHD_ValueKind,          \
				       MHD_KeyValueIterator, void *))                        \
	X(enum MHD_Result, upgrade_action, (struct MHD_UpgradeResponseHandle *,              \
					    enum MHD_UpgradeAction, ...))                    \
	X(const union MHD_ConnectionInfo *, get_connection_info,                             \
	  (struct MHD_Connection *, enum MHD_ConnectionInfoType, ...))

/* api is filled once (dlib_load), read-only afterwards. */
DLIB_SHIM("libmicrohttpd", "MHD_", MHD_FUNCS, "libmicrohttpd.so.12");

/* Why the library could not be loaded ("" when it was). */
const char *api_mhd_load_error(void);
const char *api_mhd_load_error(void)
{
	return dlib_error(&lib);
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port,
				    MHD_AcceptPolicyCallback apc, void *apc_cls,
				    MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	struct MHD_Daemon *d;
	va_list ap;
	if (!dlib_load(&lib))
		return NULL;
	va_start(ap, dh_cls);
	d = api.start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

void MHD_stop_daemon(struct MHD_Daemon *d)
{
	if (d && dlib_load(&lib))
		api.stop_daemon(d);
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buf,
						     enum MHD_ResponseMemoryMode mode)
{
	return dlib_load(&lib) ? api.create_response_from_buffer(size, buf, mode) : NULL;
}

struct MHD_Response *MHD_create_response_from_callback(uint64_t size, size_t block,
						       MHD_ContentReaderCallback crc, void *cls,
						       MHD_ContentReaderFreeCallback crfc)
{
	return dlib_load(&lib) ? api.create_response_from_callback(size, block, crc, cls, crfc)
			       : NULL;
}

struct MHD_Response *MHD_create_response_from_fd(size_t size, int fd)
{
	return dlib_load(&lib) ? api.create_response_from_fd(size, fd) : NULL;
}

struct MHD_Response *MHD_create_response_for_upgrade(MHD_UpgradeHandler h, void *cls)
{
	return dlib_load(&lib) ? api.create_response_for_upgrade(h, cls) : NULL;
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *r, const char *h, const char *v)
{
	return dlib_load(&lib) ? api.add_response_header(r, h, v) : MHD_NO;
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *c, unsigned int code,
				   struct MHD_Response *r)
{
	return dlib_load(&lib) ? api.queue_response(c, code, r) : MHD_NO;
}

void MHD_destroy_response(struct MHD_Response *r)
{
	if (r && dlib_load(&lib))
		api.destroy_response(r);
}

const char *MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind k,
					const char *key)
{
	return dlib_load(&lib) ? api.lookup_connection_value(c, k, key) : NULL;
}

int MHD_get_connection_values(struct MHD_Connection *c, enum MHD_ValueKind k,
			      MHD_KeyValueIterator it, void *cls)
{
	return dlib_load(&lib) ? api.get_connection_values(c, k, it, cls) : 0;
}

/* kiln only uses the actions without arguments (CLOSE, CORK_*). */
enum MHD_Result MHD_upgrade_action(struct MHD_UpgradeResponseHandle *urh,
				   enum MHD_UpgradeAction action, ...)
{
	return dlib_load(&lib) ? api.upgrade_action(urh, action) : MHD_NO;
}

/* kiln only asks for infos without arguments (CONNECTION_FD). */
const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *c,
							enum MHD_ConnectionInfoType t, ...)
{
	return dlib_load(&lib) ? api.get_connection_info(c, t) : NULL;
}
