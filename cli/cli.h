/* cli.h — shared by the subcommands: global options, the store, output. */
#ifndef KILN_CLI_H
#define KILN_CLI_H

#include <getopt.h>

#include "common/common.h"
#include "image/image.h"
#include "storage/storage.h"

#define KILN_VERSION "0.1.0"

/* Exit codes (docs/errors.md). */
#define EXIT_KILN 125

struct cli {
	/* global options */
	char *root, *runroot, *driver, *storage_conf;
	/* set up on demand */
	struct store *store;
	/* a command may set a specific exit code for its error */
	int exit_code;
};

/* Opens the store on first use. */
int cli_store(struct cli *c, struct store **out, struct kerror *e);

typedef int (*cmd_fn)(struct cli *c, int argc, char **argv, struct kerror *e);

struct command {
	const char *name;
	cmd_fn fn;
	const char *summary;
	unsigned flags; /* CMD_* */
};
/* Rootless: runs outside kiln's user namespace (touches no store). */
#define CMD_NO_USERNS 1u

/* A command group ("kiln GROUP COMMAND"): runs the entry of cmds named by
 * argv[1] with argv[1..]; -h/--help lists cmds ("TITLE", then each name
 * and summary) on stdout; no command lists them on stderr and fails.
 * CLI_DISPATCH passes a table's size along. */
int cli_dispatch(struct cli *c, int argc, char **argv, const char *group, const char *title,
		 const struct command *cmds, size_t n, struct kerror *e);
#define CLI_DISPATCH(c, argc, argv, group, title, cmds, e)                                 \
	cli_dispatch(c, argc, argv, group, title, cmds, ARRAY_SIZE(cmds), e)

/* Parses a command's flags with getopt_long (flags and arguments may be
 * interleaved, as Docker allows).  Returns the option char, -1 at the end;
 * unknown flags and missing arguments fill e and return '?'. */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
	       struct kerror *e);
/* Prints warning and "Are you sure you want to continue? [y/N] " on stderr;
 * true only when the answer read from stdin starts with y or Y. */
bool cli_confirm(const char *warning);
/* Prints usage for -h/--help; returns 0. */
int cli_usage(const char *usage, const char *options);
/* For commands that take their arguments without getopt: true (after
 * printing "Usage: USAGE") when -h or --help comes before any "--". */
bool cli_wants_usage(int argc, char **argv, const char *usage);
/* Parses a Docker-style boolean flag value ("true", "false", "1", "0"). */
int cli_parse_bool(const char *flag, const char *v, bool *out, struct kerror *e);

/* ---- output -------------------------------------------------------------- */

/* Docker's tabwriter (minwidth 10, padding 3): cells separated by '\t',
 * lines by '\n'; the last cell of a line does not widen its column. */
void table_print(FILE *out, const char *text);

/* --format: Go templates (the engine is image/'s gotmpl_*).  `--format json`
 * is the caller's.  Renders tmpl once against data (no newline added). */
int template_render(const char *tmpl, json_t *data, struct buf *out, struct kerror *e);
/* Renders each item of an array with tmpl, one line each; "\t" and "\n"
 * written literally are unescaped.  A "table …" template gets a header line
 * and tabwriter alignment; headers is a NULL-terminated list of field/header
 * pairs ({"ID", "IMAGE ID", "CreatedSince", "CREATED", …, NULL}), fields not
 * listed are upper-cased with words split.  Parse errors come before any
 * output; an execution error stops the output. */
int template_print_table(FILE *out, const char *tmpl, json_t *items, const char *const *headers,
			 struct kerror *e);
/* template_print_table without headers. */
int template_print_list(FILE *out, const char *tmpl, json_t *items, struct kerror *e);
/* What inspect prints: items as an indented JSON array, or, with a format
 * other than "json", the template run over each. */
int template_print_inspect(FILE *out, const char *format, json_t *items, struct kerror *e);
/* What a listing (network ls, volume ls) prints: without a format the
 * tab-separated table (its header line first); with "json" items as an
 * indented JSON array; with another the template (headers as above). */
int template_print_listing(FILE *out, const char *format, json_t *items,
			   const char *const *headers, const char *table, struct kerror *e);

/* ---- commands ------------------------------------------------------------ */

int cmd_images(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_import(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_tag(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_untag(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_rmi(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_inspect(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_image_inspect(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_version(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_info(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_image(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_build(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_save(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_load(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_history(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_image_prune(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_builder(struct cli *c, int argc, char **argv, struct kerror *e);

int cmd_image_tree(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_system(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_events(struct cli *c, int argc, char **argv, struct kerror *e);
/* "10m" (before now), unix seconds (fractions allowed) or RFC 3339, to ns. */
int cli_time_parse(const char *v, int64_t *out, struct kerror *e);
int cmd_system_check(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_system_reset(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_service(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_image_trust(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_generate_sigstore_key(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_unshare(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_pull(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_push(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_login(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_logout(struct cli *c, int argc, char **argv, struct kerror *e);
int cmd_image_exists(struct cli *c, int argc, char **argv, struct kerror *e);

/* ---- image helpers (cli/image_util.c) ---------------------------------- */

int image_load_config(struct cli *c, const struct image_info *i, struct image_config **out,
		      struct kerror *e);
/* Docker's familiar form of a full name (new string). */
char *image_familiar(const char *name);
/* The full reference an image event names, as Podman's events do:
 * "busybox" → "docker.io/library/busybox:latest", or with local (a name
 * made here: tag, build) "built:1" → "localhost/built:1"; arg itself when
 * it is no reference (a transport, an ID). */
char *image_event_name(const char *arg, bool local);

/* --filter for images and image prune. */
struct image_filter {
	int dangling; /* -1 any, 0 named only, 1 dangling only */
	char **reference, **label, **label_not;
	char *before, *since;
	int64_t before_time, since_time; /* ns, set by image_filter_resolve */
	bool has_until;
	int64_t until;
};
#define IMAGE_FILTER_INIT { .dangling = -1 }
int image_filter_parse(struct image_filter *f, const char *spec, struct kerror *e);
int image_filter_resolve(struct cli *c, struct image_filter *f, struct kerror *e);
int image_filter_match(struct cli *c, const struct image_filter *f, const struct image_info *i,
		       bool *match, struct kerror *e);
bool image_name_matches(const char *name, const char *pattern);
void image_filter_release(struct image_filter *f);

/* Docker-shaped image inspect JSON for one image. */
int image_inspect_json(struct cli *c, const struct image_info *i, json_t **out, struct kerror *e);

#endif
