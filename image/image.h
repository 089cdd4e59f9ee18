/* image.h — the public header of kiln's image module: references, media
 * types, manifest / index / config models and platform matching.  Pure: no
 * I/O, no printing. */
#ifndef KILN_IMAGE_H
#define KILN_IMAGE_H

#include "common/common.h"

/* ---- references --------------------------------------------------------- */

#define REF_DEFAULT_DOMAIN "docker.io"
#define REF_LOCAL_DOMAIN "localhost"
#define REF_DEFAULT_TAG "latest"
#define REF_NAME_MAX 255

struct image_ref {
	char *domain; /* "docker.io", "localhost:5000", "[::1]:5000" */
	char *path;   /* "library/busybox" */
	char *tag;    /* NULL if none was given */
	char *digest; /* NULL if none was given ("sha256:…") */
};

/* Docker's ParseNormalizedNamed: validates the distribution reference
 * grammar, fills docker.io and library/ for short names.  Rejects uppercase
 * repositories, 64-hex names, bad tags and digests with the reason.  No
 * default tag is added. */
int ref_parse(const char *s, struct image_ref **out, struct kerror *e);
/* For names created locally (tag, import, build, commit): a short name
 * (no domain) becomes localhost/NAME; a missing tag becomes "latest";
 * references with a domain are kept as given. */
int ref_parse_local(const char *s, struct image_ref **out, struct kerror *e);
/* The full names to try, in order, when looking a user's string up in the
 * local store: for a short name localhost/NAME then docker.io/[library/]NAME,
 * each with the tag (default latest) or digest given.  NULL on a grammar
 * error (e filled). */
char **ref_local_candidates(const char *s, struct kerror *e);
/* True when s has no domain part (as Docker decides it). */
bool ref_is_short(const char *s);
/* "domain/path[:tag][@digest]" */
char *ref_string(const struct image_ref *r);
/* "domain/path" */
char *ref_name(const struct image_ref *r);
/* Docker's familiar form: docker.io/ and library/ stripped. */
char *ref_familiar(const struct image_ref *r);
void ref_free(struct image_ref *r);
void cleanup_refp(struct image_ref **r);
#define _cleanup_ref_ __attribute__((cleanup(cleanup_refp)))
/* Tag grammar [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
bool ref_tag_valid(const char *tag);

/* ---- media types ------------------------------------------------------- */

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_OCI_EMPTY "application/vnd.oci.empty.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

enum manifest_kind {
	MANIFEST_UNKNOWN,
	MANIFEST_OCI,
	MANIFEST_DOCKER_V2S2,
	MANIFEST_OCI_INDEX,
	MANIFEST_DOCKER_LIST,
	MANIFEST_DOCKER_V2S1,
};
/* Decides from the document's mediaType (or its shape when absent, see
 * docker-formats.md §5), falling back to content_type (may be NULL). */
enum manifest_kind manifest_detect(const char *data, size_t len, const char *content_type);

enum layer_compression { COMPRESSION_NONE, COMPRESSION_GZIP, COMPRESSION_ZSTD, COMPRESSION_UNKNOWN };
enum layer_compression layer_media_compression(const char *media_type);

/* ---- models ------------------------------------------------------------- */

struct platform {
	char *os, *architecture, *variant, *os_version;
	char **os_features; /* "os.features", may be NULL */
};

struct descriptor {
	char *media_type;
	char *digest;
	int64_t size;
	char **urls;          /* may be NULL */
	json_t *annotations;  /* object or NULL */
	struct platform *platform; /* may be NULL */
	char *artifact_type;  /* may be NULL */
	char *data;           /* base64 embedded content, may be NULL */
};

/* OCI image manifest or Docker v2 schema 2 manifest. */
struct manifest {
	enum manifest_kind kind;
	int schema_version;
	char *media_type; /* NULL if the document had none */
	struct descriptor config;
	struct descriptor *layers;
	size_t n_layers;
	char *artifact_type;        /* may be NULL */
	struct descriptor *subject; /* may be NULL */
	json_t *annotations;
	char *raw; /* exact bytes read, or produced by manifest_serialize */
	size_t raw_len;
};

/* OCI index or Docker manifest list. */
struct manifest_index {
	enum manifest_kind kind;
	int schema_version;
	char *media_type;
	struct descriptor *manifests;
	size_t n_manifests;
	char *artifact_type;        /* may be NULL */
	struct descriptor *subject; /* may be NULL */
	json_t *annotations;
	char *raw;
	size_t raw_len;
};

/* Image config: the parsed JSON is kept whole so unknown fields survive. */
struct image_config {
	json_t *json;
	char *raw;
	size_t raw_len;
};

/* Parse untrusted bytes (copied into ->raw); ambiguous documents (a manifest
 * with "manifests", an index with "config"/"layers"), schema 1 and bad
 * digests are rejected with the reason. */
int manifest_parse(const char *data, size_t len, struct manifest **out, struct kerror *e);
int index_parse(const char *data, size_t len, struct manifest_index **out, struct kerror *e);
int config_parse(const char *data, size_t len, struct image_config **out, struct kerror *e);

/* Serialise a model built in memory (compact JSON); replaces ->raw.  A model
 * that was parsed and not changed keeps its exact bytes: call these only
 * after changing it. */
void manifest_serialize(struct manifest *m);
void index_serialize(struct manifest_index *x);
void config_serialize(struct image_config *c);

/* A descriptor from/to its JSON object (fields in the spec's order).  The
 * parse validates the digest, size >= 0 and a platform's os/architecture. */
int descriptor_from_json(const json_t *j, struct descriptor *out, struct kerror *e);
json_t *descriptor_to_json(const struct descriptor *d);
void descriptor_release(struct descriptor *d);
void manifest_free(struct manifest *m);
void index_free(struct manifest_index *x);
void config_free(struct image_config *c);
void cleanup_manifestp(struct manifest **m);
void cleanup_indexp(struct manifest_index **x);
void cleanup_configp(struct image_config **c);
#define _cleanup_manifest_ __attribute__((cleanup(cleanup_manifestp)))
#define _cleanup_index_ __attribute__((cleanup(cleanup_indexp)))
#define _cleanup_config_ __attribute__((cleanup(cleanup_configp)))

/* Config accessors (borrowed pointers / new vectors). */
char **config_diff_ids(const struct image_config *c);
const char *config_os(const struct image_config *c);
const char *config_architecture(const struct image_config *c);
/* "created" as seconds since the epoch, 0 if absent or invalid. */
int64_t config_created(const struct image_config *c);
/* The "config" object (execution defaults), or NULL. */
json_t *config_exec(const struct image_config *c);

/* ---- platforms --------------------------------------------------------- */

/* The host's platform, normalised (linux/amd64, linux/arm64, …). */
void platform_host(struct platform *out);
/* "os/arch[/variant]" → normalised platform (x86_64 → amd64, aarch64 →
 * arm64, …). */
int platform_parse(const char *s, struct platform *out, struct kerror *e);
void platform_normalize(struct platform *p);
bool platform_match(const struct platform *want, const struct platform *have);
char *platform_string(const struct platform *p);
void platform_release(struct platform *p);
/* The entry of index x for platform ("os/arch[/variant]"; NULL: the
 * host's): the first that matches, never an attestation manifest (os
 * "unknown").  None: -ENOENT, "no image found in manifest list for
 * platform P (available: …)". */
int index_pick_platform(const struct manifest_index *x, const char *platform,
			const struct descriptor **out, struct kerror *e);

/* ---- Go templates (--format) ------------------------------------------- */

/* The subset of Go's text/template (with the docker CLI's functions) that
 * every command's --format shares.  The dot is a jansson value; objects are
 * Go structs or maps:
 *   - an object is a *map* when it was reached through a field named Labels,
 *     Annotations, Options, DriverOpts, Data, ExposedPorts, Volumes, Networks
 *     or Ports, when it is empty, or when one of its keys is not an exported
 *     Go identifier ("maintainer", "org.opencontainers…"); otherwise it is a
 *     *struct*.
 *   - .X on a struct without X is an error ("can't evaluate field X in type
 *     struct"); on a map it yields no value ("<no value>"); index of a
 *     missing map key yields "" (Docker's maps hold strings).
 *   - objects print as map[k:v …] with sorted keys; json encodes maps with
 *     sorted keys and structs in their stored order.
 * Supported: text, {{ }} with {{- -}} trims, comments, fields and chains,
 * variables, pipelines, if/else if/else, range (with else, break, continue),
 * with, and the functions and or not len index print printf println eq ne lt
 * le gt ge json split join lower upper title truncate pad.  Errors read as
 * Go's: "template: :LINE: …" when parsing, "template: :LINE:COL: executing
 * \"\" at <…>: …" when executing. */
struct gotmpl;

/* Parses once (the text is at most 1 MiB; nesting at most 100 deep). */
int gotmpl_parse(const char *text, struct gotmpl **out, struct kerror *e);
/* Executes against dot, appending to out.  Output is bounded (16 MiB) and
 * so is the work done (hostile templates fail with an error). */
#define GOTMPL_MAX_OUTPUT (16u * 1024 * 1024)
int gotmpl_exec(const struct gotmpl *t, json_t *dot, struct buf *out, struct kerror *e);
/* The header line of a "table" template, as docker builds it: the template
 * run against {field: header} with json/lower/… leaving headers intact.
 * headers is a NULL-terminated list of field/header pairs (may be NULL);
 * other fields get their name upper-cased with words split (CreatedSince →
 * CREATED SINCE).  Never fails: what cannot render is left out. */
void gotmpl_header(const struct gotmpl *t, const char *const *headers, struct buf *out);
void gotmpl_free(struct gotmpl *t);
void cleanup_gotmplp(struct gotmpl **t);
#define _cleanup_gotmpl_ __attribute__((cleanup(cleanup_gotmplp)))

#endif
