/* libseccomp, loaded on first use.  The default filter is compiled once per
 * kiln version and cached as BPF (seccomp.c), so `kiln run` on the hot path
 * never needs libseccomp: linked normally, it would be mapped and relocated
 * by every command.  These definitions stand in for libseccomp's own (the
 * few seccomp.c uses) and forward to it, as registry/curl_shim.c does for
 * libcurl. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>

#include "common/common.h"

#define SECCOMP_FUNCS(X)                                                                   \
	X(scmp_filter_ctx, init, (uint32_t))                                               \
	X(void, release, (scmp_filter_ctx))                                                \
	X(int, syscall_resolve_name, (const char *))                                       \
	X(int, rule_add_array, (scmp_filter_ctx, uint32_t, int, unsigned int,              \
				const struct scmp_arg_cmp *))                              \
	X(int, attr_set, (scmp_filter_ctx, enum scmp_filter_attr, uint32_t))               \
	X(int, export_bpf, (const scmp_filter_ctx, int))                                   \
	X(int, load, (const scmp_filter_ctx))

DLIB_SHIM("libseccomp", "seccomp_", SECCOMP_FUNCS, "libseccomp.so.2");

scmp_filter_ctx seccomp_init(uint32_t def_action)
{
	return dlib_load(&lib) ? api.init(def_action) : NULL;
}

void seccomp_release(scmp_filter_ctx ctx)
{
	if (dlib_load(&lib))
		api.release(ctx);
}

int seccomp_syscall_resolve_name(const char *name)
{
	return dlib_load(&lib) ? api.syscall_resolve_name(name) : __NR_SCMP_ERROR;
}

int seccomp_rule_add_array(scmp_filter_ctx ctx, uint32_t action, int syscall,
			   unsigned int arg_cnt, const struct scmp_arg_cmp *arg_array)
{
	return dlib_load(&lib) ? api.rule_add_array(ctx, action, syscall, arg_cnt, arg_array)
			       : -ENOSYS;
}

int seccomp_attr_set(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value)
{
	return dlib_load(&lib) ? api.attr_set(ctx, attr, value) : -ENOSYS;
}

int seccomp_export_bpf(const scmp_filter_ctx ctx, int fd)
{
	return dlib_load(&lib) ? api.export_bpf(ctx, fd) : -ENOSYS;
}

int seccomp_load(const scmp_filter_ctx ctx)
{
	return dlib_load(&lib) ? api.load(ctx) : -ENOSYS;
}
