/* platform.c — platforms: parsing "os/arch[/variant]", containerd-style
 * normalisation (image-spec.md §4) and matching. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

static void set_str(char **field, const char *v)
{
	free(*field);
	*field = v && *v ? xstrdup(v) : NULL;
}

static void lower(char *s)
{
	for (; s && *s; s++)
		*s = tolower((unsigned char)*s);
}

static bool eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool is_one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (eq(s, *set))
			return true;
	return false;
}

void platform_normalize(struct platform *p)
{
	const char *a, *v;

	lower(p->os);
	lower(p->architecture);
	lower(p->variant);
	if (eq(p->os, "macos"))
		set_str(&p->os, "darwin");
	a = p->architecture ? p->architecture : "";
	v = p->variant ? p->variant : "";
	if (eq(a, "i386")) {
		set_str(&p->architecture, "386");
		set_str(&p->variant, NULL);
	} else if (is_one_of(a, (const char *const[]){ "x86_64", "x86-64", "amd64", NULL })) {
		set_str(&p->architecture, "amd64");
		if (eq(v, "v1"))
			set_str(&p->variant, NULL);
	} else if (eq(a, "aarch64") || eq(a, "arm64")) {
		set_str(&p->architecture, "arm64");
		if (is_one_of(v, (const char *const[]){ "8", "v8", "v8.0", NULL }))
			set_str(&p->variant, NULL);
		else if (is_one_of(v, (const char *const[]){ "9", "9.0", "v9.0", NULL }))
			set_str(&p->variant, "v9");
	} else if (eq(a, "armhf")) {
		set_str(&p->architecture, "arm");
		set_str(&p->variant, "v7");
	} else if (eq(a, "armel")) {
		set_str(&p->architecture, "arm");
		set_str(&p->variant, "v6");
	} else if (eq(a, "arm")) {
		if (eq(v, "") || eq(v, "7"))
			set_str(&p->variant, "v7");
		else if (is_one_of(v, (const char *const[]){ "5", "6", "8", NULL })) {
			char buf[3] = { 'v', v[0], 0 };
			set_str(&p->variant, buf);
		}
	}
}

void platform_host(struct platform *out)
{
	const char *arch = "unknown", *variant = NULL;
#if defined(__x86_64__)
	arch = "amd64";
#elif defined(__aarch64__)
	arch = "arm64";
#elif defined(__arm__)
	arch = "arm";
#if defined(__ARM_ARCH) && __ARM_ARCH >= 7
	variant = "v7";
#elif defined(__ARM_ARCH) && __ARM_ARCH == 6
	variant = "v6";
#else
	variant = "v5";
#endif
#elif defined(__i386__)
	arch = "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	arch = "ppc64le";
#elif defined(__s390x__)
	arch = "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	arch = "riscv64";
#elif defined(__loongarch64)
	arch = "loong64";
#endif
	*out = (struct platform){ 0 };
	set_str(&out->os, "linux");
	set_str(&out->architecture, arch);
	set_str(&out->variant, variant);
}

static bool component_valid(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

int platform_parse(const char *s, struct platform *out, struct kerror *e)
{
	const char *parts[3] = { 0 };
	size_t lens[3] = { 0 }, n = 0;
	const char *p = s ? s : "";

	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 3 || !component_valid(p, len))
			return kerror_set(e, EINVAL, "invalid platform \"%s\": expected os/arch[/variant]",
					  s ? s : "");
		parts[n] = p;
		lens[n++] = len;
		if (!slash)
			break;
		p = slash + 1;
	}
	if (n < 2)
		return kerror_set(e, EINVAL, "invalid platform \"%s\": expected os/arch[/variant]", s);
	*out = (struct platform){ 0 };
	out->os = xstrndup(parts[0], lens[0]);
	out->architecture = xstrndup(parts[1], lens[1]);
	if (n == 3)
		out->variant = xstrndup(parts[2], lens[2]);
	platform_normalize(out);
	return 0;
}

static void platform_copy(struct platform *dst, const struct platform *src)
{
	*dst = (struct platform){ 0 };
	set_str(&dst->os, src->os);
	set_str(&dst->architecture, src->architecture);
	set_str(&dst->variant, src->variant);
}

/* Both sides are normalised first, then compared exactly, as containerd's
 * platforms.Only matcher does (arm64 ≡ arm64/v8, arm ≡ arm/v7). */
bool platform_match(const struct platform *want, const struct platform *have)
{
	struct platform w, h;
	bool r;

	platform_copy(&w, want);
	platform_copy(&h, have);
	platform_normalize(&w);
	platform_normalize(&h);
	r = w.os && w.architecture && eq(w.os, h.os) && eq(w.architecture, h.architecture) &&
	    eq(w.variant, h.variant);
	platform_release(&w);
	platform_release(&h);
	return r;
}

char *platform_string(const struct platform *p)
{
	return xasprintf("%s/%s%s%s", p->os ? p->os : "", p->architecture ? p->architecture : "",
			 p->variant ? "/" : "", p->variant ? p->variant : "");
}

void platform_release(struct platform *p)
{
	if (!p)
		return;
	free(p->os);
	free(p->architecture);
	free(p->variant);
	free(p->os_version);
	strv_free(p->os_features);
	*p = (struct platform){ 0 };
}

static bool is_attestation(const struct descriptor *d)
{
	return d->platform && d->platform->os && !strcmp(d->platform->os, "unknown");
}

int index_pick_platform(const struct manifest_index *x, const char *platform,
			const struct descriptor **out, struct kerror *e)
{
	struct platform want = { 0 };
	struct buf avail = { 0 };
	_cleanup_free_ char *ws = NULL;
	int r;

	if (platform) {
		r = platform_parse(platform, &want, e);
		if (r < 0)
			return r;
	} else {
		platform_host(&want);
	}
	for (size_t i = 0; i < x->n_manifests; i++) {
		const struct descriptor *d = &x->manifests[i];
		if (d->platform && !is_attestation(d) && platform_match(&want, d->platform)) {
			*out = d;
			platform_release(&want);
			return 0;
		}
	}
	for (size_t i = 0; i < x->n_manifests; i++) {
		const struct descriptor *d = &x->manifests[i];
		_cleanup_free_ char *ps = NULL;
		if (!d->platform || is_attestation(d))
			continue;
		ps = platform_string(d->platform);
		buf_printf(&avail, "%s%s", avail.len ? ", " : "", ps);
	}
	ws = platform_string(&want);
	r = kerror_set(e, ENOENT, "no image found in manifest list for platform %s "
				  "(available: %s)", ws, avail.len ? avail.data : "none");
	buf_release(&avail);
	platform_release(&want);
	return r;
}
