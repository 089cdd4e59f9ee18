/* volumes.h — named volumes (kiln volume, -v NAME:/path, --mount
 * type=volume): one row each in the volumes table, data under
 * <root>/volumes/<name>/_data.  Each call is one transaction. */
#ifndef KILN_STORAGE_VOLUMES_H
#define KILN_STORAGE_VOLUMES_H

#include "storage/storage.h"

struct volume_info {
	char *name;
	int64_t created;   /* ns since the epoch */
	json_t *labels;    /* object */
	json_t *options;   /* object */
	bool anonymous;
};
void volume_info_free(struct volume_info *v);
void volume_list_free(struct volume_info **list, size_t n);

/* Docker's rule for a volume name: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 255. */
bool store_volume_name_valid(const char *name);
/* Creates the row and <root>/volumes/<name>/_data (0755).  -EEXIST (e
 * untouched) when it exists.  labels/options may be NULL. */
int store_volume_create(struct store *s, const char *name, json_t *labels, json_t *options,
			bool anonymous, struct kerror *e);
/* -ENOENT "no such volume NAME". */
int store_volume_get(struct store *s, const char *name, struct volume_info **out,
		     struct kerror *e);
/* Sorted by name. */
int store_volume_list(struct store *s, struct volume_info ***out, size_t *n, struct kerror *e);
/* Deletes the row and the volume's directory; -ENOENT if absent. */
int store_volume_remove(struct store *s, const char *name, struct kerror *e);
/* <root>/volumes/<name>/_data (new string). */
char *store_volume_path(const struct store *s, const char *name);

#endif
