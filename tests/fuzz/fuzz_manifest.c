/* Fuzz target: the manifest, index and config parsers and manifest_detect on
 * arbitrary bytes; whatever parses must serialise to something that parses
 * again and serialises identically. */
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	_cleanup_manifest_ struct manifest *m = NULL, *m2 = NULL;
	_cleanup_index_ struct manifest_index *x = NULL, *x2 = NULL;
	_cleanup_config_ struct image_config *c = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };

	(void)manifest_detect(d, size, NULL);
	if (manifest_parse(d, size, &m, &e) == 0) {
		if (m->raw_len != size || memcmp(m->raw, d, size) != 0)
			abort();
		manifest_serialize(m);
		if (manifest_parse(m->raw, m->raw_len, &m2, &e) < 0)
			abort();
		manifest_serialize(m2);
		if (strcmp(m->raw, m2->raw) != 0)
			abort();
	}
	if (index_parse(d, size, &x, &e) == 0) {
		for (size_t i = 0; i < x->n_manifests; i++) {
			struct platform *p = x->manifests[i].platform;
			struct platform host = { 0 };
			if (!p)
				continue;
			platform_host(&host);
			(void)platform_match(&host, p);
			free(platform_string(p));
			platform_release(&host);
		}
		index_serialize(x);
		if (index_parse(x->raw, x->raw_len, &x2, &e) < 0)
			abort();
		index_serialize(x2);
		if (strcmp(x->raw, x2->raw) != 0)
			abort();
	}
	if (config_parse(d, size, &c, &e) == 0) {
		strv_free(config_diff_ids(c));
		(void)config_created(c);
		(void)config_exec(c);
		config_serialize(c);
	}
	return 0;
}
