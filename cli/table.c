/* Columns aligned as Go's text/tabwriter does for the docker CLI
 * (minwidth 10, padding 3, cells terminated by tabs). */
#include <string.h>

#include "cli/cli.h"

#define MINWIDTH 10
#define PADDING 3
#define MAXCOLS 32

/* Display width of UTF-8 text: one column per code point. */
static size_t text_width(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

void table_print(FILE *out, const char *text)
{
	size_t width[MAXCOLS] = { 0 };
	const char *p;

	/* Pass 1: widths of tab-terminated cells. */
	for (p = text; *p;) {
		const char *eol = strchrnul(p, '\n');
		size_t col = 0;
		for (const char *c = p; c < eol && col < MAXCOLS;) {
			const char *tab = memchr(c, '\t', (size_t)(eol - c));
			if (!tab)
				break;
			size_t w = text_width(c, (size_t)(tab - c)) + PADDING;
			if (w < MINWIDTH)
				w = MINWIDTH;
			if (w > width[col])
				width[col] = w;
			col++;
			c = tab + 1;
		}
		p = *eol ? eol + 1 : eol;
	}
	/* Pass 2: print. */
	for (p = text; *p;) {
		const char *eol = strchrnul(p, '\n');
		size_t col = 0;
		const char *c = p;
		for (;;) {
			const char *tab = memchr(c, '\t', (size_t)(eol - c));
			if (!tab || col >= MAXCOLS) {
				fwrite(c, 1, (size_t)(eol - c), out);
				break;
			}
			size_t w = text_width(c, (size_t)(tab - c));
			fwrite(c, 1, (size_t)(tab - c), out);
			for (; w < width[col]; w++)
				fputc(' ', out);
			col++;
			c = tab + 1;
		}
		fputc('\n', out);
		p = *eol ? eol + 1 : eol;
	}
}
