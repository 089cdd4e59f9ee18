/* model.h — helpers shared by the image module's model parsers (private to
 * image/, not part of the public API). */
#ifndef KILN_IMAGE_MODEL_H
#define KILN_IMAGE_MODEL_H

#include "image/image.h"

/* Parses data into a JSON object and checks schemaVersion 2 (rejecting
 * schema 1 by name) and that none of the forbidden fields (NULL-terminated)
 * is present.  what names the document in messages. */
int model_load(const char *data, size_t len, const char *what, const char *const *forbidden,
	       json_t **out, struct kerror *e);
/* Optional string field: absent or null → *out NULL; another type → error. */
int model_opt_string(const json_t *obj, const char *key, char **out, struct kerror *e);
/* Optional annotations map (string → string), borrowed into *out with a
 * new reference. */
int model_annotations(const json_t *obj, json_t **out, struct kerror *e);
/* Optional descriptor field (e.g. "subject"); *out NULL when absent. */
int model_opt_descriptor(const json_t *obj, const char *key, struct descriptor **out,
			 struct kerror *e);
/* Parses a required array of descriptors. */
int model_descriptors(const json_t *obj, const char *key, struct descriptor **out, size_t *n,
		      struct kerror *e);
void model_set_raw(char **raw, size_t *raw_len, const char *data, size_t len);
/* Appends "artifactType" … "annotations" shared tail fields. */
void model_put_opt(json_t *obj, const char *key, json_t *value_or_null);

#endif
