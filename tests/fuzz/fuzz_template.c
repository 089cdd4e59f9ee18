/* Fuzz target: the Go-template engine on arbitrary templates.  The input is
 * a template, optionally followed by "\n--\n" and JSON used as the dot (a
 * fixed document otherwise); parse and execute must never crash, and output
 * stays within the engine's bound. */
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

static const char fixed[] =
	"{\"ID\":\"sha256:abc\",\"Tag\":\"latest\",\"Size\":42,\"R\":1.5,\"B\":true,\"N\":null,"
	"\"List\":[\"a\",\"b\",[1,2]],\"Labels\":{\"x\":\"1\",\"Y\":\"2\"},"
	"\"Config\":{\"Env\":[\"A=1\"],\"Labels\":{}},\"S\":{\"Deep\":{\"Er\":[{\"K\":1}]}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	char *s = xstrndup((const char *)data, size); /* stops at a NUL */
	char *sep = strstr(s, "\n--\n");
	json_t *dot = NULL;
	if (sep) {
		*sep = '\0';
		dot = json_loads(sep + 4, JSON_DECODE_ANY, NULL);
	}
	if (!dot)
		dot = json_loads(fixed, 0, NULL);

	struct gotmpl *t = NULL;
	struct kerror e = { 0 };
	struct buf b = { 0 };
	if (gotmpl_parse(s, &t, &e) == 0) {
		(void)gotmpl_exec(t, dot, &b, &e);
		if (b.len > GOTMPL_MAX_OUTPUT)
			abort();
		buf_release(&b);
		static const char *const headers[] = { "ID", "IMAGE ID", NULL };
		gotmpl_header(t, headers, &b);
		buf_release(&b);
		gotmpl_free(t);
	}
	kerror_release(&e);
	json_decref(dot);
	free(s);
	return 0;
}
