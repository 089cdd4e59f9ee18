/* Parses a generated 5,000-line Containerfile many times; prints the median
 * time in ms and whether it meets the 5 ms target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build/build.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	struct buf b = { 0 };
	int lines = 0;
	buf_printf(&b, "# syntax=docker/dockerfile:1\nARG VER=1.0\n");
	lines += 2;
	for (int s = 0; lines < 5000; s++) {
		buf_printf(&b, "FROM --platform=$BUILDPLATFORM alpine:${VER} AS s%d\n", s);
		buf_printf(&b, "ENV A=1 B=\"two words\" PATH=/usr/local/bin:$PATH\n");
		buf_printf(&b, "LABEL org.opencontainers.image.title=\"stage %d\" k=v\n", s);
		buf_printf(&b, "RUN --mount=type=cache,target=/var/cache/apk apk add \\\n"
			       "    curl git \\\n    make gcc\n");
		buf_printf(&b, "COPY --chown=1000:1000 [\"src/a b\", \"/app/\"]\n");
		buf_printf(&b, "RUN <<EOF\nset -e\necho building %d\nEOF\n", s);
		buf_printf(&b, "CMD [\"/app/run\", \"--port\", \"8080\"]\n");
		buf_printf(&b, "HEALTHCHECK --interval=30s CMD curl -f http://localhost/ || exit 1\n");
		lines += 13;
	}
	int iters = 200;
	double *t = malloc(iters * sizeof(double));
	for (int i = 0; i < iters; i++) {
		struct containerfile *cf = NULL;
		struct kerror e = { 0 };
		double t0 = now_ms();
		if (containerfile_parse(b.data, b.len, "Containerfile", &cf, &e) < 0) {
			fprintf(stderr, "parse failed: %s\n", e.msg);
			return 1;
		}
		t[i] = now_ms() - t0;
		containerfile_free(cf);
	}
	qsort(t, iters, sizeof(double), cmp);
	double med = t[iters / 2];
	printf("parse %d lines (%zu bytes): median %.3f ms over %d runs: %s (target < 5 ms)\n",
	       lines, b.len, med, iters, med < 5.0 ? "PASS" : "FAIL");
	free(t);
	buf_release(&b);
	return med < 5.0 ? 0 : 1;
}
