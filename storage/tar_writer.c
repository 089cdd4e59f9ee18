/* A small, deterministic tar writer (ustar, with PAX records for what ustar
 * cannot hold).  kiln's own so that no command links libarchive's writer,
 * whose format table drags libxml2 and ICU into every start-up. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "storage/storage.h"

#define BLOCK 512

struct ustar {
	char name[100], mode[8], uid[8], gid[8], size[12], mtime[12], chksum[8], typeflag,
		linkname[100], magic[6], version[2], uname[32], gname[32], devmajor[8],
		devminor[8], prefix[155], pad[12];
};
_Static_assert(sizeof(struct ustar) == BLOCK, "ustar header is one block");

static int put(struct tar_writer *w, const void *data, size_t n, struct kerror *e)
{
	int r = w->sink(w->ctx, data, n, e);
	if (r == 0)
		w->written += n;
	return r;
}

static int pad_to_block(struct tar_writer *w, uint64_t n, struct kerror *e)
{
	static const char zeros[BLOCK];
	size_t rem = (size_t)(n % BLOCK);
	return rem ? put(w, zeros, BLOCK - rem, e) : 0;
}

/* An octal field; false if the value does not fit. */
static bool octal(char *field, size_t len, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%0*llo", (int)len - 1, (unsigned long long)v);
	if (n < 0 || (size_t)n > len - 1)
		return false;
	memcpy(field, tmp, (size_t)n + 1);
	return true;
}

static void checksum(struct ustar *h)
{
	unsigned sum = 0;
	memset(h->chksum, ' ', sizeof(h->chksum));
	for (size_t i = 0; i < BLOCK; i++)
		sum += ((unsigned char *)h)[i];
	snprintf(h->chksum, sizeof(h->chksum), "%06o", sum);
	h->chksum[7] = ' ';
}

/* "len key=value\n" where len counts the whole record, itself included;
 * value may hold any bytes. */
static void pax_record_n(struct buf *b, const char *key, const char *value, size_t vlen)
{
	size_t base = strlen(key) + vlen + 3, len = base + 1;
	while (len != base + (size_t)snprintf(NULL, 0, "%zu", len))
		len = base + (size_t)snprintf(NULL, 0, "%zu", len);
	buf_printf(b, "%zu %s=", len, key);
	buf_append(b, value, vlen);
	buf_append(b, "\n", 1);
}

static void pax_record(struct buf *b, const char *key, const char *value)
{
	pax_record_n(b, key, value, strlen(value));
}

static int write_block(struct tar_writer *w, struct ustar *h, struct kerror *e)
{
	checksum(h);
	return put(w, h, BLOCK, e);
}

static void fill_common(struct ustar *h, const struct tar_entry *t, char type)
{
	memset(h, 0, sizeof(*h));
	octal(h->mode, sizeof(h->mode), t->mode & 07777);
	octal(h->uid, sizeof(h->uid), t->uid);
	octal(h->gid, sizeof(h->gid), t->gid);
	octal(h->mtime, sizeof(h->mtime), t->mtime > 0 ? (uint64_t)t->mtime : 0);
	h->typeflag = type;
	memcpy(h->magic, "ustar", 6);
	memcpy(h->version, "00", 2);
}

int tar_writer_add(struct tar_writer *w, const struct tar_entry *t, struct kerror *e)
{
	struct ustar h;
	struct buf pax = { 0 };
	char type = t->type;
	size_t nlen = strlen(t->name);
	uint64_t size = type == TAR_REG ? (uint64_t)t->size : 0;
	int r;

	if (w->left)
		return kerror_set(e, EINVAL, "tar entry \"%s\" started before the previous one ended",
				  t->name);
	fill_common(&h, t, type);
	if (nlen <= sizeof(h.name))
		memcpy(h.name, t->name, nlen);
	else
		pax_record(&pax, "path", t->name);
	if (t->link) {
		if (strlen(t->link) <= sizeof(h.linkname))
			memcpy(h.linkname, t->link, strlen(t->link));
		else
			pax_record(&pax, "linkpath", t->link);
	}
	if (!octal(h.size, sizeof(h.size), size)) {
		char v[32];
		snprintf(v, sizeof(v), "%llu", (unsigned long long)size);
		pax_record(&pax, "size", v);
		octal(h.size, sizeof(h.size), 0); /* readers take the PAX size */
	}
	for (size_t i = 0; t->xattrs && t->xattrs[i].name; i++) {
		/* Values are raw bytes; PAX records carry them as is. */
		_cleanup_free_ char *key = xasprintf("SCHILY.xattr.%s", t->xattrs[i].name);
		pax_record_n(&pax, key, t->xattrs[i].value, t->xattrs[i].len);
	}
	if (pax.len) {
		struct ustar ph;
		struct tar_entry pe = { .mode = 0644 };
		fill_common(&ph, &pe, 'x');
		snprintf(ph.name, sizeof(ph.name), "PaxHeaders/%.80s", t->name);
		octal(ph.size, sizeof(ph.size), pax.len);
		r = write_block(w, &ph, e);
		if (r == 0)
			r = put(w, pax.data, pax.len, e);
		if (r == 0)
			r = pad_to_block(w, pax.len, e);
		buf_release(&pax);
		if (r < 0)
			return r;
		if (nlen > sizeof(h.name))
			memcpy(h.name, t->name, sizeof(h.name)); /* truncated: readers use PAX */
	}
	r = write_block(w, &h, e);
	if (r < 0)
		return r;
	w->left = size;
	w->entry_size = size;
	return 0;
}

int tar_writer_data(struct tar_writer *w, const void *data, size_t n, struct kerror *e)
{
	int r;
	if (n > w->left)
		return kerror_set(e, EINVAL, "tar entry data longer than its size");
	r = put(w, data, n, e);
	if (r < 0)
		return r;
	w->left -= n;
	if (w->left == 0)
		return pad_to_block(w, w->entry_size, e);
	return 0;
}

int tar_writer_sink(void *ctx, const void *data, size_t n, struct kerror *e)
{
	return tar_writer_data(ctx, data, n, e);
}

int tar_writer_close(struct tar_writer *w, struct kerror *e)
{
	static const char zeros[2 * BLOCK];
	if (w->left)
		return kerror_set(e, EINVAL, "tar entry cut short (%llu bytes missing)",
				  (unsigned long long)w->left);
	return put(w, zeros, sizeof(zeros), e);
}
