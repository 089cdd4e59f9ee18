/* libFuzzer target for the config-file loaders above the TOML reader:
 * registries.conf (the default; the parsed tables are then used to resolve
 * short names and pull sources), storage.conf (input starting with 'S') and
 * auth.json (input starting with 'A').  Any input must load or fail with a
 * reason. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"
#include "storage/storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(int r, struct kerror *e)
{
	if (r < 0 && (!e->msg || !e->msg[0]))
		abort(); /* a failure always explains itself */
	kerror_release(e);
}

static void fuzz_registries(const char *s, size_t n)
{
	struct registries_conf c = { 0 };
	struct kerror e = { 0 };
	int r = registries_conf_parse(s, n, "fuzz.conf", &c, &e);
	check_error(r, &e);
	if (r == 0) {
		static const char *const inputs[] = { "busybox", "library/busybox:1",
						      "quay.io/ns/app@sha256:817a12c32a39bbe394944ba49de563e085f1d3c5266eb8e9723256bc4448680e",
						      "localhost:5000/a", "example.com/a/b:c" };
		for (size_t i = 0; i < sizeof(inputs) / sizeof(*inputs); i++) {
			char **out = NULL;
			r = registries_resolve_short(&c, inputs[i], &out, &e);
			check_error(r, &e);
			for (size_t k = 0; r == 0 && out && out[k]; k++) {
				struct pull_source *ps = NULL;
				size_t nps = 0;
				(void)registries_find(&c, out[k]);
				r = registries_pull_sources(&c, out[k], &ps, &nps, &e);
				if (r < 0 && (!e.msg || !e.msg[0]))
					abort();
				kerror_release(&e);
				if (r == 0)
					pull_sources_free(ps, nps);
				r = 0;
			}
			strv_free(out);
		}
	}
	registries_conf_release(&c);
}

static void fuzz_storage(const char *s, size_t n)
{
	struct storage_conf c = { 0 };
	struct kerror e = { 0 };
	check_error(storage_conf_parse(s, n, "fuzz.conf", &c, &e), &e);
	storage_conf_release(&c);
}

static void fuzz_auth(const char *s, size_t n)
{
	static const char *const keys[] = { "docker.io/library/busybox", "localhost:5000/a/b",
					    "quay.io", "registry-1.docker.io" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		struct auth_creds cr = { 0 };
		struct kerror e = { 0 };
		int r = authfile_lookup_data(s, n, "auth.json", keys[i], &cr, &e);
		if (r < 0 && r != -ENOENT && (!e.msg || !e.msg[0]))
			abort();
		kerror_release(&e);
		auth_creds_release(&cr);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (size && s[0] == 'S')
		fuzz_storage(s + 1, size - 1);
	else if (size && s[0] == 'A')
		fuzz_auth(s + 1, size - 1);
	else
		fuzz_registries(s, size);
	free(s);
	return 0;
}
