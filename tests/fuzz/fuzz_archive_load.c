/* Fuzz target for kiln load: the archive reader (storage/archive_load.c) and
 * the resolution of manifest.json / index.json into images
 * (storage/archive_resolve.c), on a real store made once per process in
 * /dev/shm.  The first byte picks how the rest is read:
 *
 *   even: the rest is the archive itself (tar, maybe compressed);
 *   odd:  the rest is a list of entries that becomes a tar, so that
 *         mutations reach the JSON documents without breaking tar headers
 *         or blob digests:
 *
 *           === NAME            a file; its contents follow up to the next
 *           ...                 "\n=== " (or the end)
 *           === NAME -> TARGET  a symlink (=> for a hardlink), no contents
 *
 *         In contents and names, "@X" (X one of 0-9a-z: entry 0..35) is
 *         replaced by the sha256 hex of that earlier entry's final contents,
 *         "#X" by its size, and "@@" in a name by the hex of the entry's own
 *         contents: "blobs/sha256/@@" is a blob, "sha256:@0" its digest.
 *         tests/fuzz/archive-seeds.sh turns real archives into this form.
 *
 * After every input: the images a successful load stored are removed and
 * collected, and `system check` must find nothing wrong (no tmp/ leftover,
 * no orphan, no half-committed image).  FUZZ_VERBOSE=1 prints each load's
 * outcome (to see that the seeds load). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/common.h"
#include "storage/storage.h"

#define MAX_ENTRIES 36

static char base[] = "/dev/shm/kiln-fuzz-load-XXXXXX";
static struct store *store;

static void die(const char *why, const char *more)
{
	fprintf(stderr, "fuzz_archive_load: %s%s%s\n", why, more ? ": " : "", more ? more : "");
	abort();
}

static void cleanup(void)
{
	struct kerror e = { 0 };
	store_close(store);
	fs_rm_rf(base, &e);
	kerror_release(&e);
}

static void init(void)
{
	struct kerror e = { 0 };
	_cleanup_free_ char *root = NULL;
	struct store_opts o = { 0 };

	log_set_level(LOG_FATAL);
	if (!mkdtemp(base))
		die("mkdtemp", strerror(errno));
	root = xasprintf("%s/root", base);
	o.root = root;
	if (store_open(&o, &store, &e) < 0)
		die("store_open", e.msg);
	atexit(cleanup);
}

/* ---- the entry list --------------------------------------------------------- */

struct ent {
	struct buf name, body;
	char type; /* TAR_REG, TAR_SYMLINK, TAR_HARDLINK */
	char *link;
	char hex[DIGEST_HEX_LEN + 1];
};

static int ent_index(char x)
{
	if (x >= '0' && x <= '9')
		return x - '0';
	if (x >= 'a' && x <= 'z')
		return x - 'a' + 10;
	return -1;
}

/* Appends s[0..n) to out with @X and #X of entries before `upto` replaced
 * (and "@@" by self, when self is not NULL). */
static void substitute(struct buf *out, const char *s, size_t n, const struct ent *ents,
		       int upto, const char *self)
{
	for (size_t i = 0; i < n; i++) {
		int k = i + 1 < n ? ent_index(s[i + 1]) : -1;
		if (s[i] == '@' && self && i + 1 < n && s[i + 1] == '@') {
			buf_append(out, self, DIGEST_HEX_LEN);
			i++;
		} else if ((s[i] == '@' || s[i] == '#') && k >= 0 && k < upto) {
			if (s[i] == '@')
				buf_append(out, ents[k].hex, DIGEST_HEX_LEN);
			else
				buf_printf(out, "%zu", ents[k].body.len);
			i++;
		} else {
			buf_append(out, s + i, 1);
		}
	}
}

static const char *find_sep(const char *p, const char *end)
{
	for (; p + 5 <= end; p++)
		if (memcmp(p, "\n=== ", 5) == 0)
			return p;
	return end;
}

/* Parses the entry list; returns how many entries (0: not this form). */
static int parse_entries(const char *p, const char *end, struct ent *ents)
{
	int n = 0;

	if (end - p < 4 || memcmp(p, "=== ", 4) != 0)
		return 0;
	p += 4;
	while (p < end && n < MAX_ENTRIES) {
		struct ent *en = &ents[n];
		const char *sep = find_sep(p, end);
		const char *nl = memchr(p, '\n', (size_t)(sep - p));
		const char *hend = nl ? nl : sep, *arrow;
		_cleanup_free_ char *header = xstrndup(p, (size_t)(hend - p));
		struct buf raw_name = { 0 };
		struct digester *d = digester_new();
		char digest[DIGEST_STR_LEN + 1];

		en->type = TAR_REG;
		if ((arrow = strstr(header, " -> ")) || (arrow = strstr(header, " => "))) {
			struct buf t = { 0 };
			en->type = arrow[1] == '-' ? TAR_SYMLINK : TAR_HARDLINK;
			substitute(&t, arrow + 4, strlen(arrow + 4), ents, n, NULL);
			en->link = buf_steal(&t);
			buf_append(&raw_name, header, (size_t)(arrow - header));
		} else {
			buf_append(&raw_name, header, strlen(header));
			if (nl)
				substitute(&en->body, nl + 1, (size_t)(sep - nl - 1), ents, n, NULL);
		}
		digester_update(d, en->body.data ? en->body.data : "", en->body.len);
		digester_final(d, digest);
		digester_free(d);
		memcpy(en->hex, digest_hex(digest), DIGEST_HEX_LEN + 1);
		substitute(&en->name, raw_name.data ? raw_name.data : "", raw_name.len, ents, n,
			   en->hex);
		buf_release(&raw_name);
		n++;
		p = sep + (sep < end ? 5 : 0);
	}
	return n;
}

static int fd_sink(void *ctx, const void *data, size_t n, struct kerror *e)
{
	int fd = *(int *)ctx;
	if (write(fd, data, n) != (ssize_t)n)
		return kerror_sys(e, errno, "writing the memfd");
	return 0;
}

/* Writes the entries as a tar to fd. */
static void write_tar(int fd, struct ent *ents, int n)
{
	struct tar_writer w = { .sink = fd_sink, .ctx = &fd };
	struct kerror e = { 0 };

	for (int i = 0; i < n; i++) {
		struct tar_entry t = {
			.name = ents[i].name.data ? ents[i].name.data : "",
			.type = ents[i].type,
			.mode = 0644,
			.size = ents[i].type == TAR_REG ? (int64_t)ents[i].body.len : 0,
			.link = ents[i].link,
		};
		if (!*t.name)
			continue;
		if (tar_writer_add(&w, &t, &e) < 0 ||
		    (t.size && tar_writer_data(&w, ents[i].body.data, ents[i].body.len, &e) < 0))
			die("writing the tar", e.msg);
	}
	if (tar_writer_close(&w, &e) < 0)
		die("closing the tar", e.msg);
}

static void ents_release(struct ent *ents, int n)
{
	for (int i = 0; i < n; i++) {
		buf_release(&ents[i].name);
		buf_release(&ents[i].body);
		free(ents[i].link);
	}
}

/* ---- one input -------------------------------------------------------------- */

static void check_store(void)
{
	struct store_check_opts o = { .quick = true };
	struct store_check_report rep = { 0 };
	struct kerror e = { 0 };

	if (store_check(store, &o, &rep, &e) < 0)
		die("system check failed", e.msg);
	if (rep.n)
		die("system check found a problem", rep.problems[0]);
	store_check_report_release(&rep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_close_ int fd = -1;
	struct loaded_image *li = NULL;
	struct ent ents[MAX_ENTRIES];
	struct kerror e = { 0 };
	struct gc_stats st = { 0 };
	size_t n = 0;
	int ne = 0;

	if (size < 1)
		return 0;
	if (!store)
		init();
	fd = memfd_create("fuzz-archive", MFD_CLOEXEC);
	if (fd < 0)
		die("memfd_create", strerror(errno));
	if (data[0] & 1) {
		memset(ents, 0, sizeof(ents));
		ne = parse_entries((const char *)data + 1, (const char *)data + size, ents);
		if (ne == 0)
			return 0;
		write_tar(fd, ents, ne);
		ents_release(ents, ne);
	} else if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
		die("writing the memfd", strerror(errno));
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		die("lseek", strerror(errno));
	if (store_archive_load_fd(store, fd, &li, &n, &e) < 0 && getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "load: %s\n", e.msg);
	else if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "load: %zu image(s)\n", n);
	kerror_release(&e);
	for (size_t i = 0; i < n; i++) {
		if (store_image_remove(store, li[i].id, &e) < 0 && e.code != ENOENT)
			die("removing a loaded image", e.msg);
		kerror_release(&e);
	}
	loaded_images_free(li, n);
	if (store_gc(store, &st, &e) < 0)
		die("gc", e.msg);
	check_store();
	return 0;
}
