/* The flags every registry command shares (pull, push, login). */
#ifndef KILN_CLI_REGISTRY_FLAGS_H
#define KILN_CLI_REGISTRY_FLAGS_H

#include <pthread.h>

#include "cli/cli.h"
#include "registry/registry.h"

enum {
	RFLAG_AUTHFILE = 1000,
	RFLAG_CREDS,
	RFLAG_CERT_DIR,
	RFLAG_TLS_VERIFY,
	RFLAG_RETRY,
	RFLAG_RETRY_DELAY,
};

#define REGISTRY_LONGOPTS                                                   \
	{ "authfile", required_argument, NULL, RFLAG_AUTHFILE },            \
	{ "creds", required_argument, NULL, RFLAG_CREDS },                  \
	{ "cert-dir", required_argument, NULL, RFLAG_CERT_DIR },            \
	{ "tls-verify", optional_argument, NULL, RFLAG_TLS_VERIFY },        \
	{ "retry", required_argument, NULL, RFLAG_RETRY },                  \
	{ "retry-delay", required_argument, NULL, RFLAG_RETRY_DELAY }

#define REGISTRY_OPTIONS_HELP                                                                   \
	"      --authfile string      Path of the authentication file\n"                         \
	"      --cert-dir Pathname    Use certificates at the specified path to access the registry\n" \
	"      --creds [username[:password]]   Use credentials to access the registry\n"          \
	"      --retry uint           Number of times to retry (default 3)\n"                     \
	"      --retry-delay string   Delay between retries (default: exponential from 1s)\n"     \
	"      --tls-verify           Require HTTPS and verify certificates (default true)\n"

/* Trust policy and signing flags (pull, push, copy). */
enum {
	SFLAG_POLICY = 1100,
	SFLAG_REGISTRIES_D,
	SFLAG_SIGN_BY,
	SFLAG_SIGSTORE_KEY,
	SFLAG_PASSPHRASE,
};
#define SIGN_PULL_LONGOPTS                                                        \
	{ "signature-policy", required_argument, NULL, SFLAG_POLICY },            \
	{ "registries.d", required_argument, NULL, SFLAG_REGISTRIES_D }
#define SIGN_PUSH_LONGOPTS                                                        \
	{ "sign-by", required_argument, NULL, SFLAG_SIGN_BY },                    \
	{ "sign-by-sigstore-private-key", required_argument, NULL, SFLAG_SIGSTORE_KEY }, \
	{ "sign-passphrase-file", required_argument, NULL, SFLAG_PASSPHRASE }
#define SIGN_PULL_HELP                                                                          \
	"      --registries.d DIR     Use registries.d files in DIR for signature lookaside\n"     \
	"      --signature-policy FILE  Trust policy (default: $KILN_SIGNATURE_POLICY, then\n"    \
	"                             ~/.config/containers/policy.json, /etc/containers/policy.json)\n"
#define SIGN_PUSH_HELP                                                                          \
	"      --sign-by FINGERPRINT  Sign the image with this GPG key (lookaside staging)\n"       \
	"      --sign-by-sigstore-private-key FILE  Sign with this sigstore private key\n"         \
	"      --sign-passphrase-file FILE  Read the signing key's passphrase from FILE\n"

/* 1 if opt was a trust/signing flag (pull, push may be NULL), else 0. */
int sign_flag(int opt, const char *arg, struct pull_opts *pull, struct push_opts *push);

/* 1 if opt was one of the shared flags (handled), 0 if not, < 0 on error. */
int registry_flag(int opt, const char *arg, struct registry_opts *r, struct kerror *e);
void registry_progress_stderr(void *ctx, const char *line);

/* Progress bars on a terminal (cli/progress.c). */
struct tty_progress_entry {
	char digest[DIGEST_STR_LEN + 1];
	char kind[8];  /* "blob", "config" */
	char note[64]; /* "skipped: already exists", … ("" none) */
	int64_t done, total;
};
struct tty_progress {
	pthread_mutex_t lock;
	struct tty_progress_entry *v;
	size_t n;
	int drawn; /* bar lines on the screen */
	int64_t last_ms;
};
void tty_progress_line(void *ctx, const char *line);
void tty_progress_bytes(void *ctx, const char *digest, int64_t done, int64_t total);
/* When *line is set (not quiet) and stderr is a terminal: tp is set up and
 * *line, *bytes, *ctx point at it (true).  Else nothing changes (plain
 * lines, or nothing with -q). */
bool progress_use_tty(struct tty_progress *tp, registry_progress *line, registry_bytes *bytes,
		      void **ctx);
/* The last bars drawn finished; tp released (only after progress_use_tty). */
void tty_progress_release(struct tty_progress *tp);

/* Commands of the registry client's second round (registered in main.c). */
int cmd_list_tags(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_inspect_any(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_manifest(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_copy(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_image_sign(struct cli *c, int argc, char **argv, struct kerror *e);

#endif
