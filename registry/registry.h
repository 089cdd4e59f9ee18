/* registry.h — the public header of kiln's registry module: a distribution
 * spec client over libcurl (pull, push, login), with auth (anonymous
 * bearer, token with credentials, basic; auth.json), TLS (system CAs plus
 * certs.d), registries.conf v2 (short names, aliases, mirrors, insecure,
 * blocked) and bounded retries.  Library code: no printing (progress goes
 * through a callback), no exit. */
#ifndef KILN_REGISTRY_H
#define KILN_REGISTRY_H

#include "common/common.h"
#include "image/image.h"
#include "storage/storage.h"

/* ---- options shared by every command that talks to a registry ----------- */

struct registry_opts {
	const char *authfile;        /* --authfile (NULL: the search order) */
	const char *creds;           /* --creds user[:pass] (never logged) */
	const char *cert_dir;        /* --cert-dir (NULL: certs.d search) */
	int tls_verify;              /* -1 default, 0 --tls-verify=false, 1 true */
	int retries;                 /* --retry (default 3) */
	int retry_delay_ms;          /* --retry-delay (0: exponential from 1 s) */
	const char *registries_conf; /* NULL: CONTAINERS_REGISTRIES_CONF, user, system */
};
#define REGISTRY_OPTS_INIT { .tls_verify = -1, .retries = 3 }

/* Progress lines (Podman's non-TTY shape, without newline). */
typedef void (*registry_progress)(void *ctx, const char *line);
/* Bytes of one blob moved so far (of total), for progress bars; called
 * from any of the transfer threads, often: keep it cheap and locked.  The
 * blob was announced before by a "Copying blob DIGEST" line. */
typedef void (*registry_bytes)(void *ctx, const char *digest, int64_t done, int64_t total);

/* ---- pull ---------------------------------------------------------------- */

struct pull_opts {
	struct registry_opts reg;
	const char *platform; /* "os/arch[/variant]", NULL: the host's */
	registry_progress progress;
	registry_bytes bytes; /* may be NULL */
	void *progress_ctx;
	int parallel; /* layers at once (0: 4) */
	/* Trust policy: --signature-policy (NULL: $KILN_SIGNATURE_POLICY, then
	 * $HOME/.config/containers/policy.json, /etc/containers/policy.json;
	 * none at all: the pull is refused) and --registries.d (NULL: the
	 * default directories) for lookaside signatures. */
	const char *signature_policy;
	const char *registries_d;
};

/* Pulls ref (a short name is resolved as Podman does) into the store and
 * writes the image ID (config digest hex). */
int registry_pull(struct store *s, const char *ref, const struct pull_opts *o,
		  char id[DIGEST_HEX_LEN + 1], struct kerror *e);

/* ---- push ---------------------------------------------------------------- */

enum push_format { PUSH_FORMAT_DEFAULT, PUSH_FORMAT_OCI, PUSH_FORMAT_V2S2 };

struct push_opts {
	struct registry_opts reg;
	enum push_format format;
	enum layer_compression compression; /* COMPRESSION_UNKNOWN: keep / gzip */
	bool force_compression;             /* recompress even blobs of that type */
	int compression_level;              /* 0: the format's default */
	int64_t chunk_size;                 /* above this, chunked upload (0: 16 MiB) */
	registry_progress progress;
	registry_bytes bytes; /* may be NULL */
	void *progress_ctx;
	int parallel; /* blobs at once (0: 4) */
	bool by_digest; /* the manifest goes under its own digest, not a tag */
	/* The signatures a pull kept are written along with the manifest
	 * (refused when the push changes the manifest) unless this is set. */
	bool remove_signatures;
	/* Signing what was pushed: --sign-by FINGERPRINT (simple signing,
	 * written to registries.d's lookaside-staging, file:// only; gpg's
	 * own GNUPGHOME), --sign-by-sigstore-private-key FILE (a .sig
	 * attachment in the registry), --sign-passphrase-file for either. */
	const char *sign_by;
	const char *sign_by_sigstore_key;
	const char *sign_passphrase_file;
	const char *registries_d;
};

/* Pushes the local image (name or ID) to dest (a full reference, with or
 * without "docker://"; NULL: the image's own name) and writes the digest of
 * the manifest pushed. */
int registry_push(struct store *s, const char *image, const char *dest,
		  const struct push_opts *o, char digest[DIGEST_STR_LEN + 1], struct kerror *e);

/* ---- image sign ----------------------------------------------------------- */

struct image_sign_opts {
	struct registry_opts reg;
	const char *sign_by;         /* GPG fingerprint */
	const char *sigstore_key;    /* a sigstore private key file (one of the two is required) */
	const char *passphrase_file; /* may be NULL */
	const char *directory;       /* --directory: a file lookaside base, NULL: registries.d */
	const char *registries_d;
	bool all;                    /* a manifest list's instances too */
};
/* `image sign`: a simple signature (lookaside) and/or a sigstore one (the
 * registry's .sig tag) for the manifest ref ([docker://]REF) has in its
 * registry (and, with all, for every instance of a list). */
int registry_sign_image(const struct image_sign_opts *o, const char *ref, struct kerror *e);

/* ---- login --------------------------------------------------------------- */

/* Checks the credentials against the registry (server: "host[:port]"
 * optionally followed by "/namespace"), then stores them in the auth file. */
int registry_login(const struct registry_opts *o, const char *server, const char *user,
		   const char *pass, struct kerror *e);
/* Removes the stored credentials of server (all of them when server is
 * NULL); -ENOENT when there were none. */
int registry_logout(const struct registry_opts *o, const char *server, struct kerror *e);
/* The user name stored for server; -ENOENT "not logged into X". */
int registry_get_login(const struct registry_opts *o, const char *server, char **user,
		       struct kerror *e);

/* ---- remote look-ups (no store) ------------------------------------------ */

/* Every tag of repo ("[docker://]REPO", no tag), following tags/list's Link
 * pages (page_size > 0: asked for with ?n=, else the registry's default);
 * name: the full repository name. */
int registry_list_tags(const struct registry_opts *o, const char *repo, int page_size,
		       char **name, char ***tags, struct kerror *e);

struct remote_image {
	char *name;                      /* "domain/path" */
	char *raw;                       /* the top-level manifest's bytes */
	size_t raw_len;
	char *media_type;                /* as served, NULL if none */
	char digest[DIGEST_STR_LEN + 1]; /* of raw */
	struct manifest *m;              /* the platform's manifest */
	struct image_config *config;
};
void remote_image_release(struct remote_image *ri);
/* The manifest of ref (raw_only: nothing more); else, through an index for
 * platform (NULL: the host's), the image manifest and its config. */
int registry_inspect_remote(const struct registry_opts *o, const char *ref,
			    const char *platform, bool raw_only, struct remote_image *out,
			    struct kerror *e);
/* The target of a Link header's rel="next", NULL if none. */
char *link_next(const char *link);

/* ---- manifest lists (kiln manifest) -------------------------------------- */

/* The manifest a push of the local image (fmt: PUSH_FORMAT_DEFAULT as push
 * decides) would write: the stored one when it has one, else built from
 * the layers' gzip blobs (compressing, then discarding, those without). */
int registry_image_manifest(struct store *s, const char *image, enum push_format fmt,
			    char **data, size_t *len, struct kerror *e);
/* Pushes the list rec to dest (NULL: its name); all: every instance with a
 * local image first (by digest, the list's descriptors updated to what was
 * pushed); fmt converts the list (DEFAULT: kept, except that a list of
 * only OCI manifests is OCI).  digest: the list's. */
int registry_push_list(struct store *s, const struct mlist_rec *rec, const char *dest,
		       bool all, const struct push_opts *o, char digest[DIGEST_STR_LEN + 1],
		       struct kerror *e);

/* ---- transports (pull, push, copy) ---------------------------------------- */

enum transport_kind {
	TRANSPORT_NONE,           /* no transport prefix */
	TRANSPORT_DOCKER,         /* docker://REF */
	TRANSPORT_OCI_DIR,        /* oci:DIR[:TAG] */
	TRANSPORT_OCI_ARCHIVE,    /* oci-archive:FILE[:TAG] */
	TRANSPORT_DOCKER_ARCHIVE, /* docker-archive:FILE[:REF] */
	TRANSPORT_DIR,            /* dir:DIR */
};
struct transport_ref {
	enum transport_kind kind;
	char *path; /* the reference for docker:// */
	char *ref;  /* the part after PATH:, NULL if none */
};
/* TRANSPORT_NONE (and 0) when s has no known transport prefix. */
int transport_parse(const char *s, struct transport_ref *out, struct kerror *e);
void transport_ref_release(struct transport_ref *t);
/* Into the store from any transport (archives: every blob checked). */
int transport_pull(struct store *s, const struct transport_ref *t, const struct pull_opts *o,
		   char id[DIGEST_HEX_LEN + 1], struct kerror *e);
/* A local image out to any transport; digest: the manifest's (registry) or
 * the image's. */
int transport_push(struct store *s, const char *image, const struct transport_ref *t,
		   const struct push_opts *o, char digest[DIGEST_STR_LEN + 1], struct kerror *e);
/* copy --all: a manifest list between registries with every instance
 * (by digest) and then the list's exact bytes; other images and
 * transports as registry_copy.  digest: the list's. */
int registry_copy_all(const char *src, const char *dst, const struct pull_opts *po,
		      const struct push_opts *pu, char digest[DIGEST_STR_LEN + 1],
		      struct kerror *e);
/* The trust policy (o->signature_policy etc.) for an image read from a
 * local transport ("docker-archive", "oci-archive", "oci", "dir") at path
 * (its scope; NULL: none, e.g. stdin): only insecureAcceptAnything passes
 * (those transports carry no signatures kiln reads). */
int registry_policy_check_local(const struct pull_opts *o, const char *transport,
				const char *path, struct kerror *e);
/* skopeo copy: between two registries blob by blob when no format or
 * compression change is asked (copy_direct.c), else src to dst through a
 * private temporary store ($TMPDIR or /var/tmp) removed afterwards; the
 * user's store is not touched. */
int registry_copy(const char *src, const char *dst, const struct pull_opts *po,
		  const struct push_opts *pu, char digest[DIGEST_STR_LEN + 1], struct kerror *e);

/* ---- pure parts (exported for the unit tests) ---------------------------- */

/* One WWW-Authenticate challenge: the first supported (Bearer or Basic). */
struct auth_challenge {
	char *scheme; /* "bearer" or "basic", lowercased */
	char *realm, *service, *scope, *error;
};
/* Parses a WWW-Authenticate value (RFC 7235: quoted strings with escapes,
 * several challenges, case-insensitive names).  -EINVAL if no supported
 * challenge is there. */
int auth_challenge_parse(const char *header, struct auth_challenge *out);
void auth_challenge_release(struct auth_challenge *c);

/* auth.json (containers-auth.json(5)) and docker's config.json. */
struct auth_creds {
	char *user, *pass;
	char *identity_token; /* NULL if none */
};
void auth_creds_release(struct auth_creds *c);
/* The file login writes: o->authfile, $REGISTRY_AUTH_FILE,
 * $XDG_RUNTIME_DIR/containers/auth.json, /run/containers/UID/auth.json. */
char *authfile_write_path(const char *authfile);
/* Looks up credentials for "host[:port]/repo/path" (most specific key
 * first, legacy docker keys normalised) in one file's contents. */
int authfile_lookup_data(const char *data, size_t len, const char *what, const char *key,
			 struct auth_creds *out, struct kerror *e);
/* The same over the search order (authfile given: only it).  -ENOENT when
 * no file has credentials for key. */
int authfile_lookup(const char *authfile, const char *key, struct auth_creds *out,
		    struct kerror *e);
/* Adds/replaces (user != NULL) or removes (user == NULL) key in path,
 * written atomically with mode 0600.  Removing a missing key: -ENOENT. */
int authfile_update(const char *path, const char *key, const char *user, const char *pass,
		    struct kerror *e);

/* registries.conf v2. */
struct reg_mirror {
	char *location;
	bool insecure;
	int pull_from; /* 0 all, 1 digest-only, 2 tag-only */
};
struct reg_entry {
	char *prefix, *location;
	bool insecure, blocked, mirror_by_digest_only;
	struct reg_mirror *mirrors;
	size_t n_mirrors;
};
struct registries_conf {
	char **search;   /* unqualified-search-registries */
	json_t *aliases; /* object: short name -> full name */
	char *short_name_mode;
	struct reg_entry *regs;
	size_t n_regs;
};
void registries_conf_release(struct registries_conf *c);
/* Parses one file's contents (what names it in errors).  Files read later
 * override (search list, mode), replace [[registry]] tables with the same
 * prefix and merge aliases ("" erases one). */
int registries_conf_parse(const char *data, size_t len, const char *what,
			  struct registries_conf *c, struct kerror *e);
/* path given: only it; else CONTAINERS_REGISTRIES_CONF, else the user file
 * instead of the system one, then the drop-in directory.  Missing files
 * are not an error. */
int registries_conf_load(const char *path, struct registries_conf *c, struct kerror *e);

/* Where to try a pull of what the user typed: full references in order
 * (aliases, then each search registry, then docker.io when nothing is
 * configured).  A qualified reference gives itself. */
int registries_resolve_short(const struct registries_conf *c, const char *input, char ***out,
			     struct kerror *e);
/* The [[registry]] table for a full reference (longest prefix), NULL if
 * none. */
const struct reg_entry *registries_find(const struct registries_conf *c, const char *ref);

/* One place to pull a full reference from: mirrors first, then the
 * (possibly rewritten) location. */
struct pull_source {
	char *ref; /* full reference at that source */
	bool insecure;
};
/* -EACCES "registry X is blocked" when the table says so. */
int registries_pull_sources(const struct registries_conf *c, const char *ref,
			    struct pull_source **out, size_t *n, struct kerror *e);
void pull_sources_free(struct pull_source *s, size_t n);

/* ---- plain URL download (build's ADD <url>; registry/url_get.c) --------- */

struct url_get_info {
	uint64_t size;
	char digest[DIGEST_STR_LEN + 1]; /* sha256 of the body */
	int64_t mtime;                   /* Last-Modified, seconds; -1 unknown */
};
/* GETs url (http or https, redirects followed) into fd; more than max
 * bytes is an error (-EFBIG), so is a status other than 2xx. */
int registry_url_get(const char *url, int fd, uint64_t max, struct url_get_info *out,
		     struct kerror *e);

#endif
