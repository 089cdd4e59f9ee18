/* The default seccomp profile: everything allowed except what
 * containers/common's default profile keeps from containers (kernel
 * modules, keyrings, mounts and namespaces, clocks, tracing the kernel,
 * rebooting…), which fail with EPERM.  Other architectures' system calls
 * (i386, x32 on x86_64) kill the process, as libseccomp's default. */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>

#include "run/run.h"

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

static void cleanup_ctx(scmp_filter_ctx *c)
{
	if (*c)
		seccomp_release(*c);
}

int run_seccomp_load(struct kerror *e)
{
	__attribute__((cleanup(cleanup_ctx))) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	static const uint64_t ns_flags[] = { CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC,
					     CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
					     CLONE_NEWCGROUP };
	int r, nr;

	if (!ctx)
		return kerror_set(e, ENOMEM, "creating the seccomp filter");
	for (size_t i = 0; i < ARRAY_SIZE(denied); i++) {
		nr = seccomp_syscall_resolve_name(denied[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (r < 0 && r != -EDOM)
			return kerror_sys(e, -r, "seccomp rule for %s", denied[i]);
	}
	/* New namespaces through clone(2); clone3 hides its flags in memory,
	 * so it reports ENOSYS and the C library falls back to clone. */
	for (size_t i = 0; i < ARRAY_SIZE(ns_flags); i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
		if (r < 0)
			return kerror_sys(e, -r, "seccomp rule for clone");
	}
	nr = seccomp_syscall_resolve_name("clone3");
	if (nr != __NR_SCMP_ERROR) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
		if (r < 0)
			return kerror_sys(e, -r, "seccomp rule for clone3");
	}
	/* libseccomp allows one comparison per argument and rule, so the
	 * complement of the allowed values is covered bit by bit: with bit
	 * 31 clear, any bit outside 0x20008 denies; with it set, only
	 * 0xffffffff passes (any clear bit denies). */
	for (int b = 0; b < 31; b++) {
		uint64_t bit = 1ULL << b;
		if (!(bit & 0x20008)) {
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
					     SCMP_A0(SCMP_CMP_MASKED_EQ, bit | 0x80000000ULL, bit));
			if (r < 0)
				return kerror_sys(e, -r, "seccomp rule for personality");
		}
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, bit | 0x80000000ULL, 0x80000000ULL));
		if (r < 0)
			return kerror_sys(e, -r, "seccomp rule for personality");
	}
	/* Loading needs no_new_privs or CAP_SYS_ADMIN: the child still has
	 * the latter here. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	r = seccomp_load(ctx);
	if (r < 0)
		return kerror_sys(e, -r, "loading the seccomp filter");
	return 0;
}
