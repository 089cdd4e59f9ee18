/* libFuzzer target: parse, make the plan, dump, free; also runs the bytes
 * through the shell-word expander and the ignore-file parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "build/build.h"

static int base_info(void *ctx, const char *image, const char *platform,
		     struct build_base_info *out, struct kerror *e)
{
	(void)ctx, (void)platform, (void)e;
	if (strcmp(image, "trig") == 0) {
		strv_push(&out->env, xstrdup("A=1"));
		strv_push(&out->onbuild, xstrdup("RUN echo $A"));
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct containerfile *cf = NULL;
	struct kerror e = { 0 };
	if (containerfile_parse((const char *)data, size, "Containerfile", &cf, &e) == 0) {
		struct buf b = { 0 };
		containerfile_dump_ast(cf, &b);
		buf_release(&b);
		const char *args[] = { "A=1", "HTTP_PROXY=x", NULL };
		struct build_plan_opts o = { .build_args = (char *const *)args,
					     .base_info = base_info };
		struct build_plan *p = NULL;
		if (build_plan_make(cf, &o, &p, &e) == 0)
			build_plan_free(p);
		containerfile_free(cf);
	}
	kerror_release(&e);

	/* The same bytes as one shell word (up to the first NUL). */
	char *w = strndup((const char *)data, size);
	if (w) {
		struct kvlist env = { 0 };
		kvlist_set(&env, "a", "apple");
		kvlist_set(&env, "p", "/usr/local/bin");
		struct shell_opts so = { .lookup = kvlist_lookup, .ctx = &env };
		char *out = NULL;
		char **words = NULL;
		if (shell_expand(w, &so, &out, &e) == 0)
			free(out);
		kerror_release(&e);
		if (shell_expand_words(w, &so, &words, &e) == 0)
			strv_free(words);
		kerror_release(&e);
		kvlist_release(&env);
		struct ignore_rules *r = NULL;
		if (ignore_parse((const char *)data, size, &r, &e) == 0) {
			ignore_match(r, "a/b/c.md");
			ignore_dir_skippable(r, "a/b");
			ignore_free(r);
		}
		kerror_release(&e);
		free(w);
	}
	return 0;
}
