/* The flags every registry command shares (pull, push, login). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/registry_flags.h"

int registry_flag(int opt, const char *arg, struct registry_opts *r, struct kerror *e)
{
	bool b;
	int rc;
	char *end;

	switch (opt) {
	case RFLAG_AUTHFILE: r->authfile = arg; return 1;
	case RFLAG_CREDS: r->creds = arg; return 1;
	case RFLAG_CERT_DIR: r->cert_dir = arg; return 1;
	case RFLAG_TLS_VERIFY:
		rc = cli_parse_bool("--tls-verify", arg, &b, e);
		if (rc < 0)
			return rc;
		r->tls_verify = b ? 1 : 0;
		return 1;
	case RFLAG_RETRY:
		r->retries = (int)strtol(arg, &end, 10);
		if (*end || r->retries < 0)
			return kerror_set(e, EINVAL, "invalid argument \"%s\" for \"--retry\" flag", arg);
		return 1;
	case RFLAG_RETRY_DELAY: {
		double v = strtod(arg, &end);
		double mult = 1000;
		if (!strcmp(end, "ms"))
			mult = 1;
		else if (!strcmp(end, "m"))
			mult = 60000;
		else if (*end && strcmp(end, "s"))
			return kerror_set(e, EINVAL, "invalid argument \"%s\" for \"--retry-delay\" "
						     "flag: time: invalid duration", arg);
		r->retry_delay_ms = (int)(v * mult);
		if (r->retry_delay_ms <= 0)
			r->retry_delay_ms = 1;
		return 1;
	}
	default: return 0;
	}
}

void registry_progress_stderr(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%s\n", line);
}

int sign_flag(int opt, const char *arg, struct pull_opts *pull, struct push_opts *push)
{
	switch (opt) {
	case SFLAG_POLICY:
		if (pull)
			pull->signature_policy = arg;
		return 1;
	case SFLAG_REGISTRIES_D:
		if (pull)
			pull->registries_d = arg;
		if (push)
			push->registries_d = arg;
		return 1;
	case SFLAG_SIGN_BY:
		if (push)
			push->sign_by = arg;
		return 1;
	case SFLAG_SIGSTORE_KEY:
		if (push)
			push->sign_by_sigstore_key = arg;
		return 1;
	case SFLAG_PASSPHRASE:
		if (push)
			push->sign_passphrase_file = arg;
		return 1;
	default: return 0;
	}
}
