/* Unit tests for storage/gunzip.c: igzip decoding of what registries and
 * archives hold — several members, header fields, trailing bytes, input
 * cut anywhere — and clear errors for corrupt or truncated streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/common.h"
#include "storage/gunzip.h"

struct bytes {
	unsigned char *p;
	size_t len;
};

static void append(struct bytes *b, const void *p, size_t n)
{
	b->p = xrealloc(b->p, b->len + n + 1);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* One gzip member of data; with_header adds a name, a comment and an
 * extra field (the optional header parts a decoder must skip). */
static void gzip_member(struct bytes *out, const void *data, size_t n, bool with_header)
{
	z_stream z = { 0 };
	gz_header h = { 0 };
	unsigned char buf[1 << 16];

	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	if (with_header) {
		h.name = (Bytef *)"layer.tar";
		h.comment = (Bytef *)"a comment";
		h.extra = (Bytef *)"AB\2\0xy";
		h.extra_len = 6;
		h.hcrc = 1;
		assert_int_equal(deflateSetHeader(&z, &h), Z_OK);
	}
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)n;
	for (;;) {
		int r;
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		r = deflate(&z, Z_FINISH);
		append(out, buf, sizeof(buf) - z.avail_out);
		if (r == Z_STREAM_END)
			break;
		assert_int_equal(r, Z_OK);
	}
	deflateEnd(&z);
}

/* A source handing out the bytes `step` at a time. */
struct src {
	const struct bytes *b;
	size_t off, step;
	int calls;
};

static ssize_t src_read(void *ctx, const void **buf, struct kerror *e)
{
	struct src *s = ctx;
	size_t n = s->b->len - s->off;

	(void)e;
	if (n > s->step)
		n = s->step;
	*buf = s->b->p + s->off;
	s->off += n;
	s->calls++;
	return (ssize_t)n;
}

/* Decodes b with the source cut into step-byte chunks and reads out into
 * cap-byte buffers: what came out, or NULL with e filled. */
static struct bytes *decode(const struct bytes *b, size_t step, size_t cap, struct src *s,
			    struct kerror *e)
{
	struct bytes *out = calloc(1, sizeof(*out));
	unsigned char *buf = xmalloc(cap);
	const void *first = NULL;
	struct gunzip *g;
	ssize_t n;

	*s = (struct src){ .b = b, .step = step };
	n = src_read(s, &first, e);
	assert_true(gunzip_magic(first, (size_t)n) || n < 2);
	g = gunzip_new(src_read, s, first, (size_t)n);
	assert_non_null(g); /* libisal is installed (make deps) */
	while ((n = gunzip_read(g, buf, cap, e)) > 0)
		append(out, buf, (size_t)n);
	gunzip_free(g);
	free(buf);
	if (n < 0) {
		free(out->p);
		free(out);
		return NULL;
	}
	return out;
}

static void free_bytes(struct bytes *b)
{
	if (b)
		free(b->p);
	free(b);
}

static struct bytes sample(size_t n)
{
	struct bytes b = { 0 };
	unsigned int x = 12345;
	b.p = xmalloc(n + 1);
	b.len = n;
	/* Half noise, half runs: stored and coded blocks both. */
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		b.p[i] = (i / 4096) % 2 ? (unsigned char)(x >> 16) : (unsigned char)(i / 100);
	}
	return b;
}

static void test_magic(void **state)
{
	(void)state;
	assert_true(gunzip_magic("\x1f\x8b\x08", 3));
	assert_false(gunzip_magic("\x1f", 1));
	assert_false(gunzip_magic("\x28\xb5\x2f\xfd", 4)); /* zstd */
	assert_false(gunzip_magic("ustar", 5));
}

static void test_members_and_chunking(void **state)
{
	struct bytes a = sample(300000), b = sample(70000), z = { 0 }, want = { 0 };
	static const size_t steps[] = { 1, 7, 4096, 1 << 20 };
	static const size_t caps[] = { 1, 333, 65536 };
	struct kerror e = { 0 };
	struct src s;

	(void)state;
	gzip_member(&z, a.p, a.len, false);
	gzip_member(&z, b.p, b.len, true);
	gzip_member(&z, "", 0, false); /* an empty member is still a member */
	append(&want, a.p, a.len);
	append(&want, b.p, b.len);
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		for (size_t j = 0; j < ARRAY_SIZE(caps); j++) {
			if (steps[i] == 1 && caps[j] == 1)
				continue; /* slow and adds nothing */
			struct bytes *got = decode(&z, steps[i], caps[j], &s, &e);
			if (!got)
				fail_msg("step %zu cap %zu: %s", steps[i], caps[j], e.msg);
			assert_int_equal(got->len, want.len);
			assert_memory_equal(got->p, want.p, want.len);
			free_bytes(got);
		}
	free(a.p);
	free(b.p);
	free(z.p);
	free(want.p);
}

static void test_trailing_bytes(void **state)
{
	struct bytes a = sample(5000), z = { 0 };
	struct kerror e = { 0 };
	struct src s;

	(void)state;
	gzip_member(&z, a.p, a.len, false);
	size_t member = z.len;
	/* Zeros after the stream (tape padding): not a member, ignored. */
	append(&z, (char[1024]){ 0 }, 1024);
	struct bytes *got = decode(&z, member, 4096, &s, &e);
	assert_non_null(got);
	assert_int_equal(got->len, a.len);
	assert_memory_equal(got->p, a.p, a.len);
	free_bytes(got);
	free(a.p);
	free(z.p);
}

static void test_corrupt(void **state)
{
	struct bytes a = sample(50000), z = { 0 };
	struct kerror e = { 0 };
	struct src s;

	(void)state;
	gzip_member(&z, a.p, a.len, false);
	/* The CRC-32 in the trailer. */
	z.p[z.len - 6] ^= 0x55;
	assert_null(decode(&z, 4096, 65536, &s, &e));
	assert_int_equal(e.code, EBADMSG);
	assert_non_null(strstr(e.msg, "corrupt gzip data"));
	assert_non_null(strstr(e.msg, "CRC"));
	kerror_release(&e);
	/* The length in the trailer. */
	z.p[z.len - 6] ^= 0x55;
	z.p[z.len - 2] ^= 1;
	assert_null(decode(&z, 4096, 65536, &s, &e));
	assert_int_equal(e.code, EBADMSG);
	kerror_release(&e);
	z.p[z.len - 2] ^= 1;
	/* A bad block type in the first deflate block. */
	z.p[10] |= 0x06;
	assert_null(decode(&z, 4096, 65536, &s, &e));
	assert_int_equal(e.code, EBADMSG);
	kerror_release(&e);
	/* The header's own CRC (FHCRC), after 10 fixed bytes, a 6-byte extra
	 * field, the name and the comment. */
	free(z.p);
	z = (struct bytes){ 0 };
	gzip_member(&z, a.p, a.len, true);
	z.p[10 + 2 + 6 + 10 + 10] ^= 1;
	assert_null(decode(&z, 3, 65536, &s, &e));
	assert_int_equal(e.code, EBADMSG);
	assert_non_null(strstr(e.msg, "header CRC mismatch"));
	kerror_release(&e);
	/* A second member whose header is garbage after its magic. */
	free(z.p);
	z = (struct bytes){ 0 };
	gzip_member(&z, a.p, a.len, false);
	append(&z, "\x1f\x8b\x09\x00garbage", 11);
	assert_null(decode(&z, 4096, 65536, &s, &e));
	assert_int_equal(e.code, EBADMSG);
	kerror_release(&e);
	free(a.p);
	free(z.p);
}

static void test_truncated(void **state)
{
	struct bytes a = sample(200000), z = { 0 };
	struct kerror e = { 0 };
	struct src s;

	(void)state;
	gzip_member(&z, a.p, a.len, true);
	size_t full = z.len;
	static const size_t cuts[] = { 5, 20, 1000, 8 };
	for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
		/* Cut inside the header, the data, and the trailer. */
		z.len = i < 3 ? cuts[i] : full - cuts[i];
		assert_null(decode(&z, 4096, 65536, &s, &e));
		assert_int_equal(e.code, EBADMSG);
		assert_non_null(strstr(e.msg, "truncated"));
		kerror_release(&e);
	}
	free(a.p);
	free(z.p);
}

static ssize_t failing_read(void *ctx, const void **buf, struct kerror *e)
{
	struct src *s = ctx;
	if (s->off > 0)
		return kerror_set(e, ECONNRESET, "the connection broke");
	return src_read(s, buf, e);
}

static void test_source_error(void **state)
{
	struct bytes a = sample(200000), z = { 0 };
	struct kerror e = { 0 };
	struct src s = { .b = &z, .step = 100 };
	const void *first = NULL;
	char buf[4096];
	ssize_t n;

	(void)state;
	gzip_member(&z, a.p, a.len, false);
	n = failing_read(&s, &first, &e);
	struct gunzip *g = gunzip_new(failing_read, &s, first, (size_t)n);
	assert_non_null(g);
	while ((n = gunzip_read(g, buf, sizeof(buf), &e)) > 0)
		;
	assert_int_equal(n, -ECONNRESET);
	assert_string_equal(e.msg, "the connection broke");
	kerror_release(&e);
	gunzip_free(g);
	free(a.p);
	free(z.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_magic),         cmocka_unit_test(test_members_and_chunking),
		cmocka_unit_test(test_trailing_bytes), cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_truncated),     cmocka_unit_test(test_source_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
