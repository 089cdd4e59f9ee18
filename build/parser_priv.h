/* parser_priv.h — helpers shared by the files of build/'s parser.
 * Not part of the module's public API (see build.h). */
#ifndef KILN_BUILD_PARSER_PRIV_H
#define KILN_BUILD_PARSER_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "build/build.h"

/* A bump allocator: a parse tree or a plan is freed in one go. */
struct arena_chunk;
struct arena {
	struct arena_chunk *head;
};
void *arena_alloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* Copies n pointers into a NULL-terminated array in the arena. */
char **arena_strv(struct arena *a, char *const *v, size_t n);
void arena_release(struct arena *a);
char *xasprintf_arena(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A growable vector of pointers (heap), used while building. */
struct ptrvec {
	void **v;
	size_t n, cap;
};
void ptrvec_push(struct ptrvec *p, void *x);
void ptrvec_release(struct ptrvec *p);

/* UTF-8: decodes one rune at s[0..n) (n > 0); invalid bytes decode as
 * U+FFFD with width 1, as Go does. */
uint32_t utf8_decode(const char *s, size_t n, size_t *width);
void utf8_append(struct buf *b, uint32_t r);
/* Go's unicode.IsSpace. */
bool uni_isspace(uint32_t r);
/* Go's unicode.IsSpace(rune(byte)) for a single byte. */
static inline bool byte_isspace(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0;
}
/* The reference parser's reWhitespace class [\t\v\f\r ]. */
static inline bool re_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}
/* strings.TrimSpace / TrimLeftFunc(IsSpace) on [s, s+*n). */
const char *trim_uspace(const char *s, size_t *n);
const char *trim_left_uspace(const char *s, size_t *n);

/* Go %q of a []string: ["a" "b"]. */
void go_quote_strv(struct buf *out, char *const *v, size_t n);

/* Shell-word processing with word splitting into a strv (heap). */
int shell_process(const char *word, size_t len, const struct shell_opts *o,
		  char **out, char ***words, struct kerror *e);

/* JSON exec form: 1 = array of strings (*out heap strv), 0 = not JSON,
 * -EINVAL = JSON array with a non-string. */
int cf_parse_json_array(const char *rest, size_t n, char ***out, size_t **lens,
			size_t *count);

/* Parses one instruction line into node (exposed for ONBUILD triggers). */
int cf_node_from_line(struct arena *a, const char *line, size_t len, char escape,
		      int depth, struct cf_node *node, struct kerror *e);
/* Heredoc markers of a line, as the reference finds them. */
int cf_heredocs_from_line(struct arena *a, const char *line, size_t len,
			  struct cf_heredoc **out, size_t *n, struct kerror *e);
/* True for a line (word) that is a heredoc marker, filling h (no arena). */
int cf_parse_heredoc_word(const char *w, struct cf_heredoc *h, char **name,
			  struct kerror *e);

#endif
