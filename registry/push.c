#include <errno.h>
#include "registry/client.h"
int registry_push(struct store *s, const char *image, const char *dest,
		  const struct push_opts *o, char digest[DIGEST_STR_LEN + 1], struct kerror *e)
{
	(void)s; (void)image; (void)dest; (void)o; (void)digest;
	return kerror_set(e, ENOTSUP, "push: not yet");
}
