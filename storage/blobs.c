/* Content-addressed blobs: blobs/sha256/<hex>, verified before kept. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storage/store_private.h"

char *store_blob_path(const struct store *s, const char *digest)
{
	return xasprintf("%s/blobs/sha256/%s", s->root, digest_hex(digest));
}

bool store_blob_exists(struct store *s, const char *digest)
{
	_cleanup_free_ char *p = NULL;
	if (!digest_is_sha256(digest))
		return false;
	p = store_blob_path(s, digest);
	return access(p, F_OK) == 0;
}

static int blob_put(struct store *s, const void *data, size_t len, const char *expect,
		    bool sync, bool *written, char digest[DIGEST_STR_LEN + 1], struct kerror *e)
{
	_cleanup_free_ char *path = NULL;

	digest_bytes(data, len, digest);
	if (expect && strcmp(expect, digest) != 0)
		return kerror_set(e, EBADMSG, "blob %s: digest mismatch (got %s)", expect, digest);
	path = store_blob_path(s, digest);
	if (access(path, F_OK) == 0)
		return 0;
	/* Written in tmp/ (what a crash leaves there is cleaned at start-up)
	 * under the store lock (the clean-up takes it too). */
	_cleanup_free_ char *tmpdir = xasprintf("%s/tmp", s->root);
	int r = store_lock(s, e);
	if (r < 0)
		return r;
	r = sync ? fs_write_atomic_in(tmpdir, path, data, len, 0644, e)
		 : fs_write_atomic_unsynced_in(tmpdir, path, data, len, 0644, e);
	store_unlock(s);
	if (r == 0 && written)
		*written = true;
	return r;
}

int store_blob_put(struct store *s, const void *data, size_t len, const char *expect,
		   char digest[DIGEST_STR_LEN + 1], struct kerror *e)
{
	return blob_put(s, data, len, expect, true, NULL, digest, e);
}

int store_blob_put_unsynced(struct store *s, const void *data, size_t len, bool *written,
			    char digest[DIGEST_STR_LEN + 1], struct kerror *e)
{
	return blob_put(s, data, len, NULL, false, written, digest, e);
}

int store_blob_get(struct store *s, const char *digest, size_t max, char **data, size_t *len,
		   struct kerror *e)
{
	_cleanup_free_ char *path = NULL;
	char got[DIGEST_STR_LEN + 1];
	int r;

	if (!digest_is_sha256(digest))
		return kerror_set(e, EINVAL, "invalid blob digest \"%s\"", digest);
	path = store_blob_path(s, digest);
	r = fs_read_file(path, max, data, len, e);
	if (r < 0)
		return kerror_wrap(e, "reading blob %s", digest);
	digest_bytes(*data, *len, got);
	if (strcmp(got, digest) != 0) {
		free(*data);
		*data = NULL;
		return kerror_set(e, EBADMSG, "blob %s is corrupt (its content hashes to %s)",
				  digest, got);
	}
	return 0;
}
