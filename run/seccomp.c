/* The default seccomp profile: everything allowed except what
 * containers/common's default profile keeps from containers (kernel
 * modules, keyrings, mounts and namespaces, clocks, tracing the kernel,
 * rebooting…), which fail with EPERM.  Other architectures' system calls
 * (i386, x32 on x86_64) kill the process, as libseccomp's default.
 *
 * Compiling the profile with libseccomp costs more than the rest of a
 * container's start, so the BPF program is compiled once and cached in the
 * runroot under a name derived from the profile itself; a run reads it and
 * installs it with seccomp(2) directly. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "run/run.h"

/* Bump when the rules below change in a way the name hash cannot see. */
#define PROFILE_REV 1
#define CACHE_MAGIC "KILNBPF1"

static const char *const denied[] = {
	"acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
	"delete_module", "finit_module", "fanotify_init", "fsconfig", "fsmount", "fsopen",
	"fspick", "get_kernel_syms", "get_mempolicy", "init_module", "ioperm", "iopl", "kcmp",
	"kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "mount",
	"mount_setattr", "move_mount", "move_pages", "name_to_handle_at", "nfsservctl",
	"open_by_handle_at", "open_tree", "perf_event_open", "pivot_root", "query_module",
	"quotactl", "quotactl_fd", "reboot", "request_key", "set_mempolicy", "setns",
	"settimeofday", "stime", "swapoff", "swapon", "_sysctl", "syslog", "sysfs", "umount",
	"umount2", "unshare", "uselib", "userfaultfd", "ustat", "vhangup", "vm86", "vm86old",
};

struct cache_header {
	char magic[8];
	uint32_t count; /* instructions that follow */
	uint32_t sum;   /* FNV-1a of them */
};

static uint32_t fnv1a(uint32_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void cleanup_ctx(scmp_filter_ctx *c)
{
	if (*c)
		seccomp_release(*c);
}

static int rule(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned n,
		const struct scmp_arg_cmp *cmp, const char *name, struct kerror *e)
{
	int r = seccomp_rule_add_array(ctx, action, nr, n, cmp);
	if (r < 0 && r != -EDOM)
		return kerror_sys(e, -r, "seccomp rule for %s", name);
	return 0;
}

/* One rule of the profile: the named call fails with err, when arg is set
 * only if (A0 & mask) == datum. */
struct sc_rule {
	const char *name;
	int err;
	bool arg;
	uint64_t mask, datum;
};
typedef int (*sc_rule_fn)(const struct sc_rule *r, void *data, struct kerror *e);

/* The profile, rule by rule, for libseccomp (build) and for an OCI
 * runtime's config.json (run_seccomp_oci): one list for both. */
static int each_rule(sc_rule_fn fn, void *data, struct kerror *e)
{
	static const uint64_t ns_flags[] = { CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC,
					     CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
					     CLONE_NEWCGROUP };
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(denied); i++)
		if ((r = fn(&(struct sc_rule){ .name = denied[i], .err = EPERM }, data, e)) < 0)
			return r;
	/* New namespaces through clone(2); clone3 hides its flags in memory,
	 * so it reports ENOSYS and the C library falls back to clone. */
	for (size_t i = 0; i < ARRAY_SIZE(ns_flags); i++)
		if ((r = fn(&(struct sc_rule){ "clone", EPERM, true, ns_flags[i], ns_flags[i] },
			    data, e)) < 0)
			return r;
	if ((r = fn(&(struct sc_rule){ .name = "clone3", .err = ENOSYS }, data, e)) < 0)
		return r;
	/* libseccomp allows one comparison per argument and rule, so the
	 * complement of the allowed values is covered bit by bit: with bit
	 * 31 clear, any bit outside 0x20008 denies; with it set, only
	 * 0xffffffff passes (any clear bit denies). */
	for (int b = 0; b < 31; b++) {
		uint64_t bit = 1ULL << b;
		if (!(bit & 0x20008) &&
		    (r = fn(&(struct sc_rule){ "personality", EPERM, true, bit | 0x80000000ULL,
					       bit },
			    data, e)) < 0)
			return r;
		if ((r = fn(&(struct sc_rule){ "personality", EPERM, true, bit | 0x80000000ULL,
					       0x80000000ULL },
			    data, e)) < 0)
			return r;
	}
	return 0;
}

static int add_rule(const struct sc_rule *sr, void *data, struct kerror *e)
{
	int nr = seccomp_syscall_resolve_name(sr->name);
	if (nr == __NR_SCMP_ERROR)
		return 0; /* not on this architecture */
	struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_MASKED_EQ, sr->mask, sr->datum);
	return rule(*(scmp_filter_ctx *)data, SCMP_ACT_ERRNO(sr->err), nr, sr->arg ? 1 : 0,
		    sr->arg ? &c : NULL, sr->name, e);
}

/* The profile as a libseccomp filter. */
static int build(scmp_filter_ctx ctx, struct kerror *e)
{
	int r = each_rule(add_rule, &ctx, e);
	if (r < 0)
		return r;
	/* Loading needs no_new_privs or CAP_SYS_ADMIN: the child still has
	 * the latter when it loads. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	return 0;
}

/* runtime-spec's form of a rule: MASKED_EQ's "value" is the mask and
 * "valueTwo" the datum, as libseccomp takes them.  Calls the runtime's
 * libseccomp does not know are skipped by the runtime, as here. */
static int add_oci_rule(const struct sc_rule *sr, void *data, struct kerror *e)
{
	(void)e;
	json_t *one = json_pack("{s:[s], s:s, s:i}", "names", sr->name, "action",
				"SCMP_ACT_ERRNO", "errnoRet", sr->err);
	if (sr->arg)
		json_object_set_new(one, "args",
				    json_pack("[{s:i, s:I, s:I, s:s}]", "index", 0, "value",
					      (json_int_t)sr->mask, "valueTwo",
					      (json_int_t)sr->datum, "op", "SCMP_CMP_MASKED_EQ"));
	json_array_append_new(data, one);
	return 0;
}

json_t *run_seccomp_oci(void)
{
	json_t *calls = json_array();
	each_rule(add_oci_rule, calls, NULL);
	return json_pack("{s:s, s:o}", "defaultAction", "SCMP_ACT_ALLOW", "syscalls", calls);
}

int run_seccomp_load(struct kerror *e)
{
	__attribute__((cleanup(cleanup_ctx))) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;
	if (!ctx)
		return kerror_set(e, ENOMEM, "creating the seccomp filter (is libseccomp "
					     "installed?)");
	if ((r = build(ctx, e)) < 0)
		return r;
	r = seccomp_load(ctx);
	if (r < 0)
		return kerror_sys(e, -r, "loading the seccomp filter");
	return 0;
}

void run_bpf_release(struct run_bpf *b)
{
	free(b->insns);
	b->insns = NULL;
	b->len = 0;
}

/* Compiles the profile to BPF through a memfd. */
static int compile(struct run_bpf *out, struct kerror *e)
{
	__attribute__((cleanup(cleanup_ctx))) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r;

	if (!ctx)
		return kerror_set(e, ENOMEM, "creating the seccomp filter (is libseccomp "
					     "installed?)");
	if ((r = build(ctx, e)) < 0)
		return r;
	fd = memfd_create("kiln-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return kerror_sys(e, errno, "creating a memfd for the seccomp filter");
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return kerror_sys(e, -r, "exporting the seccomp filter");
	if (lseek(fd, 0, SEEK_SET) < 0)
		return kerror_sys(e, errno, "reading the seccomp filter back");
	r = fs_read_fd(fd, BPF_MAXINSNS * sizeof(struct sock_filter), "the seccomp filter",
		       &data, &len, e);
	if (r < 0)
		return r;
	if (len == 0 || len % sizeof(struct sock_filter))
		return kerror_set(e, EINVAL, "libseccomp exported a malformed filter (%zu bytes)",
				  len);
	out->len = (unsigned short)(len / sizeof(struct sock_filter));
	out->insns = (struct sock_filter *)steal_pointer(&data);
	return 0;
}

char *run_seccomp_cache_path(const char *dir)
{
	uint32_t h = 2166136261u;
	int rev = PROFILE_REV;
	for (size_t i = 0; i < ARRAY_SIZE(denied); i++)
		h = fnv1a(h, denied[i], strlen(denied[i]) + 1);
	h = fnv1a(h, &rev, sizeof(rev));
#if defined(__x86_64__)
	const char *arch = "x86_64";
#elif defined(__aarch64__)
	const char *arch = "aarch64";
#else
	const char *arch = "other";
#endif
	return xasprintf("%s/seccomp-%s-%08x.bpf", dir, arch, h);
}

/* A cached program, or -ENOENT when absent or not trustworthy (a torn
 * write, another format): the caller compiles a new one. */
static int read_cache(const char *path, struct run_bpf *out)
{
	_cleanup_free_ char *data = NULL;
	struct cache_header h;
	size_t len;
	if (fs_read_file(path, sizeof(h) + BPF_MAXINSNS * sizeof(struct sock_filter), &data,
			 &len, NULL) < 0)
		return -ENOENT;
	if (len < sizeof(h))
		return -ENOENT;
	memcpy(&h, data, sizeof(h));
	if (memcmp(h.magic, CACHE_MAGIC, 8) || h.count == 0 || h.count > BPF_MAXINSNS ||
	    len != sizeof(h) + h.count * sizeof(struct sock_filter) ||
	    fnv1a(2166136261u, data + sizeof(h), len - sizeof(h)) != h.sum)
		return -ENOENT;
	out->insns = xmalloc(len - sizeof(h));
	memcpy(out->insns, data + sizeof(h), len - sizeof(h));
	out->len = (unsigned short)h.count;
	return 0;
}

int run_seccomp_filter(const char *cache_dir, struct run_bpf *out, struct kerror *e)
{
	_cleanup_free_ char *path = run_seccomp_cache_path(cache_dir);
	_cleanup_free_ char *tmp = NULL;
	struct cache_header h = { .magic = CACHE_MAGIC };
	struct buf b = { 0 };
	int r;

	out->insns = NULL;
	out->len = 0;
	if (read_cache(path, out) == 0)
		return 0;
	r = compile(out, e);
	if (r < 0)
		return r;
	h.count = out->len;
	h.sum = fnv1a(2166136261u, out->insns, out->len * sizeof(struct sock_filter));
	buf_append(&b, &h, sizeof(h));
	buf_append(&b, out->insns, out->len * sizeof(struct sock_filter));
	/* No fsync: a torn file fails the checksum and is compiled again. */
	tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
	{
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 && errno == ENOENT && fs_mkdir_p(cache_dir, 0700, NULL) == 0)
			fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			bool ok = fs_write_all(fd, b.data, b.len) == 0;
			close(fd);
			if (!ok || rename(tmp, path) < 0)
				unlink(tmp);
		}
	}
	buf_release(&b);
	return 0; /* the cache is an optimisation: failing to write it is fine */
}

int run_seccomp_install(const struct run_bpf *b, struct kerror *e)
{
	struct sock_fprog prog = { .len = b->len, .filter = b->insns };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return kerror_sys(e, errno, "loading the seccomp filter");
	return 0;
}
