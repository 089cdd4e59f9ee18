/* Fuzz target: every reference entry point on arbitrary strings; a parsed
 * reference must re-parse to the same string. */
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *s = xstrndup((const char *)data, size);
	_cleanup_ref_ struct image_ref *r = NULL, *l = NULL, *again = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };

	(void)ref_is_short(s);
	(void)ref_tag_valid(s);
	strv_free(ref_local_candidates(s, &e));
	if (ref_parse_local(s, &l, &e) == 0)
		free(ref_familiar(l));
	if (ref_parse(s, &r, &e) < 0)
		return 0;
	_cleanup_free_ char *str = ref_string(r);
	_cleanup_free_ char *name = ref_name(r);
	_cleanup_free_ char *fam = ref_familiar(r);
	if (ref_parse(str, &again, &e) < 0)
		abort();
	_cleanup_free_ char *str2 = ref_string(again);
	if (strcmp(str, str2) != 0 || strlen(name) > REF_NAME_MAX || strlen(fam) > strlen(str))
		abort();
	return 0;
}
