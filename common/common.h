/* common.h — the public header of kiln's common module.
 *
 * Errors: every fallible function returns 0 or a negative errno and fills a
 * `struct kerror` passed as its last argument.  Only cli/ prints it.
 * Ownership: locals that own something use the _cleanup_*_ attributes below;
 * steal_pointer()/steal_fd() hand ownership on.
 */
#ifndef KILN_COMMON_H
#define KILN_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <dirent.h>
#include <pthread.h>
#include <unistd.h>
#include <jansson.h>

/* ---- errors ----------------------------------------------------------- */

struct kerror {
	int code;  /* positive errno-like value; 0 = no error */
	char *msg; /* lowercase, "what failed: why" */
};

/* Sets the error (replacing any previous one) and returns -code.  code 0
 * becomes EINVAL. */
int kerror_set(struct kerror *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As kerror_set, appending ": strerror(errnum)". */
int kerror_sys(struct kerror *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefixes "<context>: " to the message; returns -code (EINVAL if unset). */
int kerror_wrap(struct kerror *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void kerror_release(struct kerror *e);

/* ---- cleanup helpers -------------------------------------------------- */

void cleanup_freep(void *p);
void cleanup_closep(int *fd);
void cleanup_fclosep(FILE **f);
void cleanup_closedirp(DIR **d);
void cleanup_jsonp(json_t **j);
void cleanup_strvp(char ***v);
#define _cleanup_free_ __attribute__((cleanup(cleanup_freep)))
#define _cleanup_close_ __attribute__((cleanup(cleanup_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(cleanup_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(cleanup_closedirp)))
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))
#define _cleanup_strv_ __attribute__((cleanup(cleanup_strvp)))
#define _cleanup_kerror_ __attribute__((cleanup(kerror_release)))

#define steal_pointer(pp)                                                   \
	({                                                                  \
		__typeof__(*(pp)) _p = *(pp);                               \
		*(pp) = NULL;                                               \
		_p;                                                         \
	})
static inline int steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- strings ---------------------------------------------------------- */

/* Allocation failure is fatal (as in git's xmalloc): the only abort. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);

/* NULL-terminated string vectors. */
size_t strv_len(char *const *v);
void strv_push(char ***v, char *owned);
void strv_free(char **v);

/* A growable byte buffer. */
struct buf {
	char *data;
	size_t len, cap;
};
void buf_append(struct buf *b, const void *data, size_t n);
/* One code point as UTF-8; surrogates and values past U+10FFFF become U+FFFD. */
void buf_append_utf8(struct buf *b, uint32_t c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_release(struct buf *b);
/* Returns the NUL-terminated contents, owned by the caller; b is emptied. */
char *buf_steal(struct buf *b);

/* "12.3MB"-style sizes as `docker images` prints them (powers of 1000, 3
 * significant digits); format_size_precision for other precisions (docker's
 * HumanSize, used by `system df`, is 4). */
void format_size(uint64_t bytes, char *out, size_t outlen);
void format_size_precision(uint64_t bytes, int precision, char *out, size_t outlen);
/* "2 hours ago" as docker prints ages. */
void format_age(int64_t then, int64_t now, char *out, size_t outlen);
/* RFC 3339 with nanoseconds in UTC, e.g. 2026-11-27T10:00:00.123456789Z */
void format_rfc3339(int64_t sec, long nsec, char *out, size_t outlen);
/* Go's time.Time.String() in UTC, as docker prints CreatedAt. */
void format_go_time(int64_t sec, char *out, size_t outlen);
/* Parses RFC 3339 (fraction and offset allowed); 0 on success. */
int parse_rfc3339(const char *s, int64_t *sec, long *nsec);

/* ---- logging ---------------------------------------------------------- */

enum log_level { LOG_TRACE, LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_FATAL, LOG_PANIC };
/* Parses podman's level names; -EINVAL if unknown. */
int log_level_parse(const char *name, enum log_level *out);
void log_set_level(enum log_level l);
enum log_level log_get_level(void);
/* Prints "WARN[0000] message" (podman's shape) on stderr when enabled. */
void klog(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) klog(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) klog(LOG_INFO, __VA_ARGS__)
#define log_warn(...) klog(LOG_WARN, __VA_ARGS__)

/* ---- shared libraries loaded on first use (dlib.c) --------------------- */

/* A library that most kiln commands never need (libcurl, libseccomp,
 * libmicrohttpd, libnftables, …) is not linked: a shim defines the few
 * functions kiln calls and forwards them through pointers that dlib_load
 * fills on first use.  Linked, such a library and its dependencies would be
 * mapped and relocated by every command.
 *
 * A shim lists the functions it forwards as an X-macro and declares its
 * library with one line:
 *
 *	#define CURL_FUNCS(X)                              \
 *		X(CURL *, easy_init, (void))               \
 *		X(CURLcode, easy_perform, (CURL *))
 *	DLIB_SHIM("libcurl", "curl_", CURL_FUNCS, "libcurl.so.4");
 *
 * which defines, static to the file, `api` (one pointer per function:
 * api.easy_init) and `lib`; each forward calls dlib_load(&lib) (cheap once
 * loaded) before api.<name>.  DLIB_INIT builds the struct by hand. */
struct dlib_sym {
	const char *name; /* the symbol, after the library's prefix */
	void **slot;      /* where its address goes */
};

struct dlib {
	const char *name;            /* for messages: "libcurl" */
	const char *prefix;          /* put before every symbol name: "curl_" */
	const char *const *sonames;  /* tried in order, NULL-terminated */
	const struct dlib_sym *syms; /* every one must resolve */
	size_t nsyms;
	/* Private to dlib.c. */
	pthread_mutex_t lock;
	int state; /* 0 not tried, 1 loaded, -1 failed (read atomically) */
	char error[256];
};

#define DLIB_INIT(name_, prefix_, sonames_, syms_)                                   \
	{                                                                            \
		.name = (name_), .prefix = (prefix_), .sonames = (sonames_),         \
		.syms = (syms_), .nsyms = ARRAY_SIZE(syms_),                         \
		.lock = PTHREAD_MUTEX_INITIALIZER,                                   \
	}
#define DLIB_API_FIELD_(ret, name, args) ret(*name) args;
#define DLIB_API_SYM_(ret, name, args) { #name, (void **)&api.name },
#define DLIB_SHIM(name_, prefix_, FUNCS, ...)                                        \
	static struct {                                                              \
		FUNCS(DLIB_API_FIELD_)                                               \
	} api;                                                                       \
	static const char *const dlib_sonames_[] = { __VA_ARGS__, NULL };            \
	static const struct dlib_sym dlib_syms_[] = { FUNCS(DLIB_API_SYM_) };        \
	static struct dlib lib = DLIB_INIT(name_, prefix_, dlib_sonames_, dlib_syms_)

/* Loads the library and resolves every symbol, once per process (the first
 * caller does it, concurrent callers wait; later calls cost one atomic
 * load).  True when every slot is filled.  On failure no slot is set, the
 * library is unloaded, the reason is logged at debug level and kept for
 * dlib_error; it is not tried again. */
bool dlib_load(struct dlib *lib);
/* Why the library could not be loaded: "loading libcurl: <dlerror of the
 * first name>" or "libcurl lacks curl_easy_header"; "" when it was.  Loads it if needed. */
const char *dlib_error(struct dlib *lib);
/* dlib_load, with the reason as an ENOSYS error. */
int dlib_require(struct dlib *lib, struct kerror *e);

/* ---- files ------------------------------------------------------------ */

/* mkdir -p with mode for the created components. */
int fs_mkdir_p(const char *path, mode_t mode, struct kerror *e);
/* rm -rf that never crosses into other filesystems nor follows symlinks.
 * A missing path is not an error. */
int fs_rm_rf(const char *path, struct kerror *e);
int fs_rm_rf_at(int dirfd, const char *name, struct kerror *e);
/* Writes data to a temporary file beside path, fsyncs it, renames it over
 * path and fsyncs the directory: readers see the old or the new file. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    struct kerror *e);
/* The same with the temporary file in tmpdir (same filesystem as path). */
int fs_write_atomic_in(const char *tmpdir, const char *path, const void *data, size_t len,
		       mode_t mode, struct kerror *e);
/* The same without fsync: the caller makes it durable later (syncfs). */
int fs_write_atomic_unsynced_in(const char *tmpdir, const char *path, const void *data,
				size_t len, mode_t mode, struct kerror *e);
/* Reads a whole file; refuses files larger than max bytes.  The result is
 * NUL-terminated (not counted in *len). */
int fs_read_file(const char *path, size_t max, char **out, size_t *len, struct kerror *e);
int fs_read_fd(int fd, size_t max, const char *what, char **out, size_t *len,
	       struct kerror *e);
int fs_fsync_dir(const char *dir, struct kerror *e);
/* stdin, stdout and stderr on /dev/null (async-signal-safe: for a child
 * between fork and exec). */
void fs_stdio_to_devnull(void);
/* Writes all of buf, retrying on EINTR and short writes. */
int fs_write_all(int fd, const void *buf, size_t len);
bool fs_exists(const char *path);
/* True when the process is in a user namespace other than the initial one
 * (rootless kiln after joining its namespace, or any unprivileged user
 * namespace): overlay then needs "userxattr" and user.overlay.* markers,
 * since trusted.* xattrs are out of reach. */
/* openat2 of rel below rootfd with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS:
 * "..", absolute names and symlinks all stay inside rootfd ("" is rootfd
 * itself); O_CLOEXEC is added to flags.  An fd, or -1 with errno set. */
int fs_open_in_root(int rootfd, const char *rel, int flags);
/* A file of at most max bytes below rootfd (as fs_open_in_root),
 * NUL-terminated; NULL when absent, unreadable or larger. */
char *fs_read_in_root(int rootfd, const char *rel, size_t max);
bool fs_in_user_namespace(void);
/* Rootless kiln: not root, or root of a user namespace (kiln's own, where
 * a normal user's commands run). */
bool fs_rootless(void);
/* The user's own uid: $KILN_ROOTLESS_UID inside kiln's user namespace
 * (where getuid() is 0), getuid() elsewhere. */
unsigned fs_host_uid(void);
/* ",userxattr" inside a user namespace, "" otherwise: appended to every
 * overlay mount's options. */
const char *fs_overlay_extra_opts(void);
/* The xattr prefix of overlay's markers (opaque): "user.overlay." inside a
 * user namespace, "trusted.overlay." otherwise. */
const char *fs_overlay_xattr_prefix(void);
/* Total bytes allocated (st_blocks*512) under path, hardlinks counted once. */
int fs_disk_usage(const char *path, uint64_t *bytes, struct kerror *e);

/* ---- JSON (jansson) ---------------------------------------------------- */

/* Parses untrusted bytes: duplicate keys rejected, max bytes enforced by the
 * caller's read, errors say where. */
int json_parse(const char *data, size_t len, json_t **out, struct kerror *e);
/* Compact serialisation (no spaces), keys in insertion order. */
char *json_dump_compact(const json_t *j);
/* Docker-style pretty print: 4-space indent (`docker inspect`). */
char *json_dump_pretty(const json_t *j);
/* Typed getters: NULL / default when absent or of the wrong type. */
const char *json_str(const json_t *obj, const char *key);
int64_t json_int(const json_t *obj, const char *key, int64_t dflt);
/* Array of strings → strv (NULL if absent / not all strings). */
char **json_strv(const json_t *arr);
json_t *json_from_strv(char *const *v);

/* ---- digests ----------------------------------------------------------- */

#define DIGEST_HEX_LEN 64
#define DIGEST_STR_LEN (7 + DIGEST_HEX_LEN) /* "sha256:" + hex */

struct digester; /* streaming sha256 */
struct digester *digester_new(void);
void digester_update(struct digester *d, const void *data, size_t n);
/* Writes "sha256:<hex>" (DIGEST_STR_LEN+1 bytes with NUL) and resets. */
void digester_final(struct digester *d, char out[DIGEST_STR_LEN + 1]);
void digester_free(struct digester *d);
void cleanup_digesterp(struct digester **d);
#define _cleanup_digester_ __attribute__((cleanup(cleanup_digesterp)))

void digest_bytes(const void *data, size_t n, char out[DIGEST_STR_LEN + 1]);
/* The OCI digest grammar; for sha256 the encoded part must be 64 lowercase
 * hex characters.  Safe to use as a path component when it returns true. */
bool digest_valid(const char *s);
/* True for "sha256:" + 64 lowercase hex. */
bool digest_is_sha256(const char *s);
/* Pointer to the hex part of a sha256 digest ("sha256:" skipped). */
const char *digest_hex(const char *digest);
/* ChainID of parent chain + diff_id (parent NULL for the base). */
void digest_chain(const char *parent_chain, const char *diff_id,
		  char out[DIGEST_STR_LEN + 1]);

/* ---- TOML subset (containers-*.conf) ----------------------------------- */

/* Parses the TOML 1.0 subset used by registries.conf, storage.conf and
 * containers.conf into a JSON tree: tables → objects (keys in document
 * order), arrays of tables → arrays of objects, strings, integers (int64),
 * floats, booleans, arrays.  data need not be NUL-terminated; callers bound
 * len.  Strict: invalid UTF-8, control characters, duplicate keys, redefined
 * or extended tables, unterminated strings/arrays, garbage after a value,
 * integer overflow and nesting deeper than 64 levels are errors; dates/times
 * and inf/nan (JSON cannot hold them) are rejected as unsupported.  Every
 * error message starts with "line N: ".  *out is NULL on failure. */
int toml_parse(const char *data, size_t len, json_t **out, struct kerror *e);

#endif
