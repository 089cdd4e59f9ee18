/* libFuzzer target for toml_parse: any input must parse or fail cleanly,
 * and a parsed tree must serialise. */
#include <stdint.h>
#include <stdlib.h>

#include "common/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kerror e = { 0 };
	json_t *j = NULL;

	if (size > 64 * 1024)
		return 0;
	if (toml_parse((const char *)data, size, &j, &e) == 0) {
		free(json_dump_compact(j));
		json_decref(j);
	} else if (!e.msg || e.msg[0] == 0 || j) {
		abort(); /* a failure always explains itself and yields no tree */
	}
	kerror_release(&e);
	return 0;
}
