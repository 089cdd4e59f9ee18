/* libseccomp, loaded on first use.  The default filter is compiled once per
 * kiln version and cached as BPF (seccomp.c), so `kiln run` on the hot path
 * never needs libseccomp: linked normally, it would be mapped and relocated
 * by every command.  These definitions stand in for libseccomp's own (the
 * few seccomp.c uses) and forward to it, as registry/curl_shim.c does for
 * libcurl. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
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

static struct {
#define FIELD(ret, name, args) ret(*name) args;
	SECCOMP_FUNCS(FIELD)
#undef FIELD
} api;
static bool loaded;
static char load_error[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen("libseccomp.so.2", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(load_error, sizeof(load_error), "loading libseccomp: %s", dlerror());
		return;
	}
#define LOOKUP(ret, name, args)                                                             \
	if (!(*(void **)&api.name = dlsym(h, "seccomp_" #name))) {                           \
		snprintf(load_error, sizeof(load_error), "libseccomp lacks seccomp_%s", #name); \
		return;                                                                      \
	}
	SECCOMP_FUNCS(LOOKUP)
#undef LOOKUP
	loaded = true;
}

static bool ready(void)
{
	pthread_once(&once, load);
	if (!loaded)
		log_debug("%s", load_error);
	return loaded;
}

scmp_filter_ctx seccomp_init(uint32_t def_action)
{
	return ready() ? api.init(def_action) : NULL;
}

void seccomp_release(scmp_filter_ctx ctx)
{
	if (ready())
		api.release(ctx);
}

int seccomp_syscall_resolve_name(const char *name)
{
	return ready() ? api.syscall_resolve_name(name) : __NR_SCMP_ERROR;
}

int seccomp_rule_add_array(scmp_filter_ctx ctx, uint32_t action, int syscall,
			   unsigned int arg_cnt, const struct scmp_arg_cmp *arg_array)
{
	return ready() ? api.rule_add_array(ctx, action, syscall, arg_cnt, arg_array) : -ENOSYS;
}

int seccomp_attr_set(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value)
{
	return ready() ? api.attr_set(ctx, attr, value) : -ENOSYS;
}

int seccomp_export_bpf(const scmp_filter_ctx ctx, int fd)
{
	return ready() ? api.export_bpf(ctx, fd) : -ENOSYS;
}

int seccomp_load(const scmp_filter_ctx ctx)
{
	return ready() ? api.load(ctx) : -ENOSYS;
}
