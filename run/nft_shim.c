/* libnftables, loaded on first use: it pulls in libnftnl, libjansson's
 * twin, libgmp, libxtables and its parser, which `kiln ps`, `images` and a
 * `run` without published ports never need (measured in docs/architecture.md).
 * Only the few functions nft.c calls are forwarded, as
 * run/seccomp_shim.c does for libseccomp. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nftables/libnftables.h>

#include "run/net_private.h"

#define NFT_FUNCS(X)                                                                       \
	X(struct nft_ctx *, ctx_new, (uint32_t))                                           \
	X(void, ctx_free, (struct nft_ctx *))                                              \
	X(int, ctx_buffer_output, (struct nft_ctx *))                                      \
	X(int, ctx_buffer_error, (struct nft_ctx *))                                       \
	X(const char *, ctx_get_output_buffer, (struct nft_ctx *))                         \
	X(const char *, ctx_get_error_buffer, (struct nft_ctx *))                          \
	X(int, run_cmd_from_buffer, (struct nft_ctx *, const char *))

DLIB_SHIM("libnftables", "nft_", NFT_FUNCS, "libnftables.so.1");

int nft_run(const char *script, char **out, struct kerror *e)
{
	struct nft_ctx *ctx;
	int r;

	r = dlib_require(&lib, e);
	if (r < 0)
		return r;
	ctx = api.ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return kerror_set(e, ENOMEM, "creating an nftables context");
	api.ctx_buffer_output(ctx);
	api.ctx_buffer_error(ctx);
	r = api.run_cmd_from_buffer(ctx, script);
	if (r != 0) {
		const char *err = api.ctx_get_error_buffer(ctx);
		_cleanup_free_ char *msg = xstrdup(err && *err ? err : "failed");
		size_t n = strlen(msg);
		while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		/* The first line names the error; the rest echoes the script. */
		char *nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		api.ctx_free(ctx);
		return kerror_set(e, strstr(msg, "File exists") ? EEXIST
				     : strstr(msg, "No such file") ? ENOENT : EIO,
				  "nftables: %s", msg);
	}
	if (out) {
		const char *o = api.ctx_get_output_buffer(ctx);
		*out = xstrdup(o ? o : "");
	}
	api.ctx_free(ctx);
	return 0;
}
