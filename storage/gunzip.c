/* gzip streams through ISA-L's igzip (libisal, loaded on first use).
 * Pulling a gzip image is CPU-bound: zlib's inflate was a third of kiln's
 * CPU time on a 300 MB pull, igzip does the same work in a sixth of the
 * time and checks the same CRC-32 and length trailer.
 *
 * Member headers are parsed here, not by igzip: libisal 2.30 rejects a
 * valid header CRC (FHCRC) when the header arrives in more than one piece,
 * as a network stream may deliver it. */
#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "storage/gunzip.h"

#define ISAL_FUNCS(X)                                  \
	X(void, inflate_init, (struct inflate_state *)) \
	X(void, inflate_reset, (struct inflate_state *)) \
	X(int, inflate, (struct inflate_state *))

/* api is filled once (dlib_load), read-only afterwards. */
DLIB_SHIM("libisal", "isal_", ISAL_FUNCS, "libisal.so.2");

/* Where the header parser is (RFC 1952, 2.3). */
enum hdr_state { H_FIXED, H_XLEN, H_EXTRA, H_NAME, H_COMMENT, H_HCRC, H_DONE };

#define FHCRC 0x02
#define FEXTRA 0x04
#define FNAME 0x08
#define FCOMMENT 0x10

struct gunzip {
	struct inflate_state st;
	layer_source src;
	void *ctx;
	const uint8_t *in; /* what the source gave and igzip has not been handed yet */
	size_t in_len;
	bool eof;  /* the source is exhausted */
	bool done; /* the last member ended */
	unsigned members; /* begun so far */
	enum hdr_state hs;
	uint8_t flags;
	uint32_t pos;  /* bytes of the current header part seen */
	uint32_t need; /* FEXTRA's length, or the stored header CRC */
	uLong crc;     /* of the header bytes so far */
};

bool gunzip_magic(const void *p, size_t n)
{
	const uint8_t *b = p;
	return n >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

/* igzip decodes a member's deflate data and checks its trailer; the
 * header before it is ours to read. */
static void start_member(struct gunzip *g)
{
	uint8_t *next_in = g->st.next_in;
	uint32_t avail_in = g->st.avail_in;

	if (g->members++)
		api.inflate_reset(&g->st);
	g->st.crc_flag = ISAL_GZIP_NO_HDR_VER;
	g->st.next_in = next_in;
	g->st.avail_in = avail_in;
	g->hs = H_FIXED;
	g->pos = 0;
	g->crc = crc32(0, NULL, 0);
}

/* On to the header part after s that the flags say is there. */
static void next_part(struct gunzip *g, enum hdr_state s)
{
	if (s < H_XLEN && (g->flags & FEXTRA))
		g->hs = H_XLEN;
	else if (s < H_NAME && (g->flags & FNAME))
		g->hs = H_NAME;
	else if (s < H_COMMENT && (g->flags & FCOMMENT))
		g->hs = H_COMMENT;
	else if (s < H_HCRC && (g->flags & FHCRC))
		g->hs = H_HCRC;
	else
		g->hs = H_DONE;
	g->pos = 0;
}

/* One header byte.  A later member's first two bytes that are no gzip
 * magic end the stream instead: what follows is not ours. */
static int header_byte(struct gunzip *g, uint8_t b, struct kerror *e)
{
	uint32_t pos = g->pos++;

	if (g->hs != H_HCRC)
		g->crc = crc32(g->crc, &b, 1);
	switch (g->hs) {
	case H_FIXED:
		if ((pos == 0 && b != 0x1f) || (pos == 1 && b != 0x8b)) {
			if (g->members == 1)
				return kerror_set(e, EBADMSG, "reading the layer: not gzip data");
			g->done = true;
			return 0;
		}
		if (pos == 2 && b != 8)
			return kerror_set(e, EBADMSG, "reading the layer: corrupt gzip data "
				       "(unsupported compression method %u)", b);
		if (pos == 3 && (b & 0xe0))
			return kerror_set(e, EBADMSG, "reading the layer: corrupt gzip data "
				       "(reserved header flags set)");
		if (pos == 3)
			g->flags = b;
		if (pos == 9)
			next_part(g, H_FIXED);
		return 0;
	case H_XLEN:
		g->need = pos == 0 ? b : g->need | (uint32_t)b << 8;
		if (pos == 1 && g->need) {
			g->hs = H_EXTRA;
			g->pos = 0;
		} else if (pos == 1) {
			next_part(g, H_EXTRA);
		}
		return 0;
	case H_EXTRA:
		if (pos + 1 == g->need)
			next_part(g, H_EXTRA);
		return 0;
	case H_NAME:
	case H_COMMENT:
		if (!b)
			next_part(g, g->hs);
		return 0;
	case H_HCRC:
		g->need = pos == 0 ? b : g->need | (uint32_t)b << 8;
		if (pos == 1 && g->need != (g->crc & 0xffff))
			return kerror_set(e, EBADMSG, "reading the layer: corrupt gzip data "
				       "(header CRC mismatch)");
		if (pos == 1)
			next_part(g, H_HCRC);
		return 0;
	case H_DONE:
		break;
	}
	return 0;
}

static int read_header(struct gunzip *g, struct kerror *e)
{
	while (g->st.avail_in > 0 && g->hs != H_DONE && !g->done) {
		int r = header_byte(g, *g->st.next_in, e);
		if (r < 0)
			return r;
		g->st.next_in++;
		g->st.avail_in--;
	}
	return 0;
}

struct gunzip *gunzip_new(layer_source src, void *ctx, const void *first, size_t first_len)
{
	struct gunzip *g;

	if (!dlib_load(&lib))
		return NULL;
	g = xmalloc(sizeof(*g));
	api.inflate_init(&g->st);
	g->src = src;
	g->ctx = ctx;
	g->in = first;
	g->in_len = first_len;
	g->eof = g->done = false;
	g->members = 0;
	start_member(g);
	return g;
}

void gunzip_free(struct gunzip *g)
{
	free(g);
}

/* Hands igzip more input when it has none: avail_in stays 0 only at the
 * end of the source. */
static int refill(struct gunzip *g, struct kerror *e)
{
	size_t take;

	if (g->st.avail_in > 0)
		return 0;
	if (g->in_len == 0 && !g->eof) {
		const void *p;
		ssize_t n = g->src(g->ctx, &p, e);
		if (n < 0)
			return (int)n;
		if (n == 0)
			g->eof = true;
		g->in = p;
		g->in_len = (size_t)n;
	}
	take = g->in_len < UINT32_MAX ? g->in_len : UINT32_MAX;
	g->st.next_in = (uint8_t *)g->in;
	g->st.avail_in = (uint32_t)take;
	g->in += take;
	g->in_len -= take;
	return 0;
}

static const char *isal_reason(int r)
{
	/* Headers are ours (read_header): igzip sees deflate data and the
	 * trailer only. */
	switch (r) {
	case ISAL_INCORRECT_CHECKSUM: return "CRC or length check failed";
	case ISAL_INVALID_LOOKBACK: return "invalid back-reference";
	default: return "invalid deflate data";
	}
}

ssize_t gunzip_read(struct gunzip *g, void *buf, size_t cap, struct kerror *e)
{
	uint32_t want = cap < UINT32_MAX ? (uint32_t)cap : UINT32_MAX;

	g->st.next_out = buf;
	g->st.avail_out = want;
	while (!g->done && g->st.avail_out > 0) {
		uint32_t in_before, out_before;
		int r = refill(g, e);

		if (r < 0)
			return r;
		if (g->hs != H_DONE) {
			/* The end of the source between members is the end. */
			if (g->st.avail_in == 0 && g->members > 1 && g->hs == H_FIXED && !g->pos)
				g->done = true;
			else if (g->st.avail_in == 0)
				return kerror_set(e, EBADMSG, "reading the layer: truncated gzip "
						  "data (the stream ends inside a header)");
			else if ((r = read_header(g, e)) < 0)
				return r;
			continue;
		}
		if (g->st.block_state == ISAL_BLOCK_FINISH) {
			start_member(g);
			continue;
		}
		in_before = g->st.avail_in;
		out_before = g->st.avail_out;
		r = api.inflate(&g->st);
		if (r < 0)
			return kerror_set(e, EBADMSG, "reading the layer: corrupt gzip data (%s)",
					  isal_reason(r));
		if (g->st.block_state == ISAL_BLOCK_FINISH || g->st.avail_in != in_before ||
		    g->st.avail_out != out_before)
			continue;
		/* No progress: igzip wants input that is not there. */
		if (g->eof)
			return kerror_set(e, EBADMSG,
					  "reading the layer: truncated gzip data (the stream ends "
					  "inside a member)");
		if (g->st.avail_in > 0)
			return kerror_set(e, EBADMSG, "reading the layer: the gzip decoder is stuck");
	}
	return (ssize_t)(want - g->st.avail_out);
}
