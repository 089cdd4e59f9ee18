/* Memoised content digests of COPY sources.  An entry maps a file's
 * (dev, inode, size, mtime, ctime, mode) to the sha256 of its content, so a
 * rebuild of an unchanged tree does not read it again.  The cache key stays
 * content-based: the memo only saves the read.  A write to a file changes
 * its ctime, and so does a touch; a touched file is read again and, with
 * the same content, gives the same digest (a hit).
 *
 * Racy timestamps (as git's index): file times come from a coarse clock, so
 * a write within the same tick as our read could leave ctime unchanged.  An
 * entry is recorded only when the file's ctime is older than the coarse
 * clock read before the file was stat'ed, and its ctime is unchanged after
 * the read; any later write then gets a newer ctime.
 *
 * One memo file per context directory under STORE/build-memo/, named by the
 * digest of the directory's path; fixed records, loaded whole, written back
 * atomically when something changed.  A bad file is ignored (rebuilt). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build/engine.h"

#define MEMO_MAGIC "kiln-memo-v1\n\0\0\0"
#define MEMO_MAGIC_LEN 16
#define MEMO_MAX_ENTRIES (1u << 21)

struct memo_rec {
	uint64_t dev, ino;
	int64_t size, mtime_s, mtime_ns, ctime_s, ctime_ns;
	uint32_t mode, used;
	char hex[DIGEST_HEX_LEN];
};

struct digest_memo {
	char *path;
	struct memo_rec *tab; /* open addressing on (dev, ino); ino 0 = empty */
	size_t cap, n;
	bool dirty;
	struct timespec t0;
};

static size_t slot_of(const struct digest_memo *m, uint64_t dev, uint64_t ino)
{
	uint64_t h = (ino * 0x9E3779B97F4A7C15ull) ^ (dev * 0xC2B2AE3D27D4EB4Full);
	size_t i = (size_t)(h >> 17) & (m->cap - 1);
	while (m->tab[i].ino && (m->tab[i].ino != ino || m->tab[i].dev != dev))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void grow(struct digest_memo *m)
{
	struct memo_rec *old = m->tab;
	size_t oldcap = m->cap;
	m->cap = oldcap ? oldcap * 2 : 1024;
	m->tab = xcalloc(m->cap, sizeof(*m->tab));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].ino)
			m->tab[slot_of(m, old[i].dev, old[i].ino)] = old[i];
	free(old);
}

static void put(struct digest_memo *m, const struct memo_rec *r)
{
	if (m->n >= MEMO_MAX_ENTRIES)
		return;
	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	size_t i = slot_of(m, r->dev, r->ino);
	if (!m->tab[i].ino)
		m->n++;
	m->tab[i] = *r;
}

static void fill(struct memo_rec *r, const struct stat *st)
{
	memset(r, 0, sizeof(*r));
	r->dev = (uint64_t)st->st_dev;
	r->ino = (uint64_t)st->st_ino;
	r->size = (int64_t)st->st_size;
	r->mtime_s = (int64_t)st->st_mtim.tv_sec;
	r->mtime_ns = (int64_t)st->st_mtim.tv_nsec;
	r->ctime_s = (int64_t)st->st_ctim.tv_sec;
	r->ctime_ns = (int64_t)st->st_ctim.tv_nsec;
	r->mode = (uint32_t)st->st_mode;
}

static bool same(const struct memo_rec *a, const struct memo_rec *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_s == b->mtime_s && a->mtime_ns == b->mtime_ns &&
	       a->ctime_s == b->ctime_s && a->ctime_ns == b->ctime_ns && a->mode == b->mode;
}

struct digest_memo *digest_memo_open(const char *store_root, const char *ctx_dir)
{
	struct digest_memo *m = xcalloc(1, sizeof(*m));
	char d[DIGEST_STR_LEN + 1];
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	struct kerror e = { 0 };

	digest_bytes(ctx_dir, strlen(ctx_dir), d);
	m->path = xasprintf("%s/build-memo/%.32s", store_root, digest_hex(d));
	if (fs_read_file(m->path, MEMO_MAGIC_LEN + (size_t)MEMO_MAX_ENTRIES * sizeof(struct memo_rec),
			 &data, &len, &e) == 0 &&
	    len >= MEMO_MAGIC_LEN && !memcmp(data, MEMO_MAGIC, MEMO_MAGIC_LEN) &&
	    (len - MEMO_MAGIC_LEN) % sizeof(struct memo_rec) == 0) {
		size_t n = (len - MEMO_MAGIC_LEN) / sizeof(struct memo_rec);
		for (size_t i = 0; i < n; i++) {
			struct memo_rec r;
			memcpy(&r, data + MEMO_MAGIC_LEN + i * sizeof(r), sizeof(r));
			r.used = 0;
			if (r.ino)
				put(m, &r);
		}
	}
	kerror_release(&e);
	clock_gettime(CLOCK_REALTIME_COARSE, &m->t0);
	return m;
}

void digest_memo_begin(struct digest_memo *m)
{
	if (m)
		clock_gettime(CLOCK_REALTIME_COARSE, &m->t0);
}

bool digest_memo_get(struct digest_memo *m, const struct stat *st, char hex[DIGEST_HEX_LEN + 1])
{
	struct memo_rec want;
	if (!m || !m->cap || !st->st_ino)
		return false;
	fill(&want, st);
	size_t i = slot_of(m, want.dev, want.ino);
	if (!m->tab[i].ino || !same(&m->tab[i], &want))
		return false;
	memcpy(hex, m->tab[i].hex, DIGEST_HEX_LEN);
	hex[DIGEST_HEX_LEN] = '\0';
	m->tab[i].used = 1;
	return true;
}

void digest_memo_put(struct digest_memo *m, const struct stat *before, const struct stat *after,
		     const char *hex)
{
	struct memo_rec a, b;
	if (!m || !before->st_ino)
		return;
	fill(&a, before);
	fill(&b, after);
	if (!same(&a, &b))
		return;
	/* Racy: only files whose ctime is strictly older than the clock read
	 * before they were stat'ed. */
	if (a.ctime_s > (int64_t)m->t0.tv_sec ||
	    (a.ctime_s == (int64_t)m->t0.tv_sec && a.ctime_ns >= (int64_t)m->t0.tv_nsec))
		return;
	memcpy(a.hex, hex, DIGEST_HEX_LEN);
	a.used = 1;
	put(m, &a);
	m->dirty = true;
}

int digest_memo_save(struct digest_memo *m, struct kerror *e)
{
	struct buf b = { 0 };
	int r;
	if (!m || !m->dirty)
		return 0;
	_cleanup_free_ char *dir = xstrndup(m->path, (size_t)(strrchr(m->path, '/') - m->path));
	r = fs_mkdir_p(dir, 0700, e);
	if (r < 0)
		return r;
	buf_append(&b, MEMO_MAGIC, MEMO_MAGIC_LEN);
	/* Entries not seen in this build are dropped unless the memo is small
	 * (other Containerfiles of the same context may use them). */
	for (size_t i = 0; i < m->cap; i++) {
		struct memo_rec rec = m->tab[i];
		if (!rec.ino || (!rec.used && m->n > 65536))
			continue;
		rec.used = 0;
		buf_append(&b, &rec, sizeof(rec));
	}
	r = fs_write_atomic(m->path, b.data, b.len, 0600, e);
	buf_release(&b);
	return r;
}

void digest_memo_free(struct digest_memo *m)
{
	if (!m)
		return;
	free(m->tab);
	free(m->path);
	free(m);
}
