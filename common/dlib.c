/* Shared libraries loaded on first use: the one loader behind the dlopen
 * shims (registry/curl_shim.c, run/seccomp_shim.c, run/nft_shim.c,
 * api/mhd_shim.c).  Declared in common.h. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "common.h"

static void load_locked(struct dlib *lib)
{
	char why[192] = "";
	void *h = NULL;

	for (const char *const *so = lib->sonames; *so && !h; so++) {
		h = dlopen(*so, RTLD_NOW | RTLD_LOCAL);
		/* The first name is the expected one: its reason is the useful one. */
		if (!h && !why[0]) {
			const char *m = dlerror();
			snprintf(why, sizeof(why), "%s", m ? m : "unknown error");
		}
	}
	if (!h) {
		snprintf(lib->error, sizeof(lib->error), "loading %s: %s", lib->name,
			 why[0] ? why : "no library name given");
		return;
	}
	for (size_t i = 0; i < lib->nsyms; i++) {
		char sym[128];
		snprintf(sym, sizeof(sym), "%s%s", lib->prefix ? lib->prefix : "",
			 lib->syms[i].name);
		*lib->syms[i].slot = dlsym(h, sym);
		if (*lib->syms[i].slot)
			continue;
		snprintf(lib->error, sizeof(lib->error), "%s lacks %s", lib->name, sym);
		/* Only a library that has everything leaves its slots filled. */
		while (i--)
			*lib->syms[i].slot = NULL;
		dlclose(h);
		return;
	}
	lib->error[0] = '\0';
}

bool dlib_load(struct dlib *lib)
{
	int state = __atomic_load_n(&lib->state, __ATOMIC_ACQUIRE);

	if (state)
		return state > 0;
	pthread_mutex_lock(&lib->lock);
	state = lib->state;
	if (!state) {
		load_locked(lib);
		state = lib->error[0] ? -1 : 1;
		if (state < 0)
			log_debug("%s", lib->error);
		/* Slots and message are written before anyone can see the state. */
		__atomic_store_n(&lib->state, state, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lib->lock);
	return state > 0;
}

const char *dlib_error(struct dlib *lib)
{
	return dlib_load(lib) ? "" : lib->error;
}

int dlib_require(struct dlib *lib, struct kerror *e)
{
	if (dlib_load(lib))
		return 0;
	return kerror_set(e, ENOSYS, "%s", lib->error);
}
