/* Error objects: filled deep in the modules, printed once by cli/. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static int code_of(struct kerror *e)
{
	return e && e->code > 0 ? e->code : EINVAL;
}

/* Messages quote untrusted names (tar entries, Containerfile words, registry
 * replies) and end up on a terminal: control bytes other than newline and
 * tab become \xNN, so input cannot send escape sequences.  Takes msg. */
static char *visible(char *msg)
{
	struct buf b = { 0 };
	const unsigned char *p;

	for (p = (const unsigned char *)msg; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			break;
	if (!*p)
		return msg;
	for (p = (const unsigned char *)msg; *p; p++) {
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			buf_printf(&b, "\\x%02x", *p);
		else
			buf_append(&b, p, 1);
	}
	free(msg);
	return buf_steal(&b);
}

static void set_msg(struct kerror *e, int code, char *msg)
{
	msg = visible(msg);
	if (!e) {
		free(msg);
		return;
	}
	free(e->msg);
	e->msg = msg;
	e->code = code > 0 ? code : EINVAL;
}

int kerror_set(struct kerror *e, int code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	set_msg(e, code, msg);
	return -(code > 0 ? code : EINVAL);
}

int kerror_sys(struct kerror *e, int errnum, const char *fmt, ...)
{
	va_list ap;
	char *what, *msg;

	va_start(ap, fmt);
	what = xvasprintf(fmt, ap);
	va_end(ap);
	msg = xasprintf("%s: %s", what, strerror(errnum));
	free(what);
	set_msg(e, errnum, msg);
	return -(errnum > 0 ? errnum : EINVAL);
}

int kerror_wrap(struct kerror *e, const char *fmt, ...)
{
	va_list ap;
	char *ctx, *msg;

	if (!e)
		return -EINVAL;
	va_start(ap, fmt);
	ctx = xvasprintf(fmt, ap);
	va_end(ap);
	ctx = visible(ctx);
	msg = e->msg ? xasprintf("%s: %s", ctx, e->msg) : xstrdup(ctx);
	free(ctx);
	free(e->msg);
	e->msg = msg;
	e->code = code_of(e);
	return -e->code;
}

void kerror_release(struct kerror *e)
{
	if (!e)
		return;
	free(e->msg);
	e->msg = NULL;
	e->code = 0;
}
