/* Private to storage/: kiln load's table of archive entries, filled by one
 * pass over a tar (archive_load.c) or a directory, then resolved into
 * images (archive_resolve.c). */
#ifndef KILN_ARCHIVE_LOAD_H
#define KILN_ARCHIVE_LOAD_H

#include "storage/storage.h"

/* manifest.json, index.json, manifests and configs are read into memory up
 * to this size; larger ones are refused. */
#define ARCHIVE_META_MAX (4 * 1024 * 1024)

enum entry_kind {
	ENTRY_META,  /* bytes in memory (JSON documents and small files) */
	ENTRY_LAYER, /* streamed into a staged layer */
	ENTRY_BAD,   /* could not be staged as a layer (err says why) */
	ENTRY_LINK,  /* symlink or hardlink to another entry */
};

struct load_entry {
	char *name; /* normalised: no "./", no "..", no leading '/' */
	enum entry_kind kind;
	char digest[DIGEST_STR_LEN + 1]; /* sha256 of the raw bytes */
	int64_t size;
	char *data; /* META */
	size_t len;
	struct staged_layer layer; /* LAYER */
	char *committed_chain;     /* chain id this staged copy was stored under */
	char *link;                /* LINK: normalised target */
	char *err;                 /* BAD */
};

struct load_ctx {
	struct store *s;
	struct store_tmp t;
	struct load_entry *ents;
	size_t n, cap;
	size_t meta_bytes;
	archive_check_fn check; /* may be NULL */
	void *check_ctx;
};

/* Normalises a path inside the archive (relative to base's directory when
 * base is not NULL, for symlink targets); NULL if it is empty, absolute
 * (without base), uses ".." without base, or climbs out of the archive. */
char *archive_path_clean(const char *base, const char *path);
/* The entry at path (links followed, a few hops at most), or NULL. */
struct load_entry *load_find(struct load_ctx *c, const char *path);
/* The entry of a blob by digest: blobs/sha256/<hex> or a flat <hex>. */
struct load_entry *load_find_blob(struct load_ctx *c, const char *digest);
/* Makes sure a referenced entry is a staged layer (META ones are staged from
 * memory now); error naming the entry otherwise. */
int load_stage_entry(struct load_ctx *c, struct load_entry *ent, struct kerror *e);

/* Resolves the entries into images (docker manifest.json, OCI index.json or
 * docker-dir manifest.json), checks everything, then commits each image. */
int archive_resolve_and_commit(struct load_ctx *c, struct loaded_image **out, size_t *n,
			       struct kerror *e);

#endif
