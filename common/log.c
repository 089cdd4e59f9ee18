/* Logging in podman's shape: "WARN[0000] message" on stderr. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common.h"

static const char *const level_names[] = { "trace", "debug", "info", "warn",
					   "error", "fatal", "panic" };
static const char *const level_tags[] = { "TRAC", "DEBU", "INFO", "WARN",
					  "ERRO", "FATA", "PANI" };

/* The one piece of process-wide state: part of the parsed global options. */
static enum log_level current = LOG_WARN;
static struct timespec started;

int log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (strcasecmp(name, level_names[i]) == 0 ||
		    (i == LOG_WARN && strcasecmp(name, "warning") == 0)) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_set_level(enum log_level l)
{
	current = l;
	clock_gettime(CLOCK_MONOTONIC, &started);
}

enum log_level log_get_level(void)
{
	return current;
}

void klog(enum log_level l, const char *fmt, ...)
{
	struct timespec now;
	va_list ap;
	long secs;

	if (l < current)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = started.tv_sec ? (long)(now.tv_sec - started.tv_sec) : 0;
	fprintf(stderr, "%s[%04ld] ", level_tags[l], secs);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
