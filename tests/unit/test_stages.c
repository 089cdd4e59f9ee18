/* Build plan: stages, expansion at each point, ARG scoping, --target,
 * .containerignore patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "build/build.h"

static struct build_plan *plan(const char *in, const struct build_plan_opts *o, char **err)
{
	struct containerfile *cf = NULL;
	struct build_plan *p = NULL;
	struct kerror e = { 0 };
	*err = NULL;
	if (containerfile_parse(in, strlen(in), "Containerfile", &cf, &e) < 0 ||
	    build_plan_make(cf, o, &p, &e) < 0) {
		*err = e.msg;
		e.msg = NULL;
		p = NULL;
	}
	containerfile_free(cf);
	kerror_release(&e);
	return p;
}

struct ecase {
	const char *in, *err;
};

static const struct ecase errs[] = {
	{ "FROM a\nFOO x\n", "Containerfile:2: unknown instruction: FOO" },
	{ "RUN x\n", "Containerfile:1: no build stage in current context" },
	{ "ARG x\n", "Containerfile: no build stage in current context" },
	{ "FROM a\nRUN --foo=1 x\n", "Containerfile:2: unknown flag: foo" },
	{ "FROM a\nCOPY --chown a b\n", "Containerfile:2: missing a value on flag: chown" },
	{ "FROM a\nCOPY --link=maybe a b\n", "Containerfile:2: expecting boolean value for flag link, not: maybe" },
	{ "FROM a\nCOPY --from=x --from=y a b\n", "Containerfile:2: duplicate flag specified: from" },
	{ "FROM --foo=1 a\n", "Containerfile:1: unknown flag: foo" },
	{ "FROM a b\n", "Containerfile:1: FROM requires either one or three arguments" },
	{ "FROM a AS 1x\n", "Containerfile:1: invalid name for build stage: \"1x\", name can't start with a number or contain symbols" },
	{ "FROM $NOPE\n", "Containerfile:1: base name ($NOPE) should not be blank" },
	{ "FROM a\nCOPY x\n", "Containerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined" },
	{ "FROM a\nSHELL /bin/sh\n", "Containerfile:2: SHELL requires the arguments to be in JSON form" },
	{ "FROM a\nUSER\n", "Containerfile:2: USER requires exactly one argument" },
	{ "FROM a\nEXPOSE\n", "Containerfile:2: EXPOSE requires at least one argument" },
	{ "FROM a\nENV\n", "Containerfile:2: ENV requires at least one argument" },
	{ "FROM a\nONBUILD ONBUILD RUN x\n", "Containerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed" },
	{ "FROM a\nONBUILD FROM x\n", "Containerfile:2: FROM isn't allowed as an ONBUILD trigger" },
	{ "FROM a\nHEALTHCHECK NONE x\n", "Containerfile:2: HEALTHCHECK NONE takes no arguments" },
	{ "FROM a\nHEALTHCHECK --interval=-1s CMD x\n", "Containerfile:2: Interval \"interval\" cannot be negative" },
	{ "FROM a\nHEALTHCHECK --timeout=10us CMD x\n", "Containerfile:2: Interval \"timeout\" cannot be less than 1ms" },
	{ "FROM a\nHEALTHCHECK --retries=-2 CMD x\n", "Containerfile:2: --retries cannot be negative (-2)" },
	{ "FROM a\nHEALTHCHECK FOO x\n", "Containerfile:2: Unknown type \"FOO\" in HEALTHCHECK (try CMD)" },
	{ "FROM a\nCOPY --from=$X a b\n", NULL },
	{ "FROM a\nCOPY --from=1 a b\n", "Containerfile:2: invalid from flag value 1: refers to current or future build stage" },
	{ "FROM a\nRUN --mount=type=foo x\n", "Containerfile:2: unsupported mount type \"foo\"" },
	{ "FROM a\nRUN --mount=type=cache x\n", "Containerfile:2: mount type cache requires a target" },
	{ "FROM a\nRUN --network=bridge x\n", "Containerfile:2: unsupported network mode \"bridge\"" },
	{ "FROM a\nWORKDIR ${x\n", "Containerfile:2: failed to process \"${x\": syntax error: missing '}'" },
	{ "FROM a\nCOPY a <<EOF\nEOF\n", "Containerfile:2: COPY cannot accept a heredoc as a destination" },
	{ "FROM a\nVOLUME $nothing\n", "Containerfile:2: VOLUME specified can not be an empty string" },
	{ "FROM a AS x\nFROM b AS x\n", "Containerfile:2: duplicate stage name \"x\"" },
	{ "FROM a AS x\nCOPY --from=y /a /b\nFROM b AS y\nCOPY --from=x /a /b\n", "circular dependency detected on stage: x" },
	{ "FROM a\nARG =x\n", "Containerfile:2: ARG names can not be blank" },
};

static void run_err(void **state)
{
	const struct ecase *c = *state;
	char *err;
	struct build_plan *p = plan(c->in, NULL, &err);
	if (!c->err) {
		assert_non_null(err);
		assert_non_null(strstr(err, "variable expansion is not supported"));
	} else {
		if (!err)
			fail_msg("expected error %s", c->err);
		assert_string_equal(err, c->err);
	}
	build_plan_free(p);
	free(err);
}

static void test_expansion_points(void **state)
{
	(void)state;
	const char *in =
		"ARG VER=1.0\nARG IMG=alpine\nFROM ${IMG}:${VER} AS base\n"
		"ENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\n"
		"WORKDIR /a\nWORKDIR $DIRPATH/$abc\nUSER ${username:-some_user}\n"
		"ARG username\nUSER $username\nARG VER\nLABEL v=$VER \"k j\"=\"x y\"\n"
		"RUN echo $abc\nEXPOSE $PORTS 443\nCOPY --chown=$abc:$abc <<EOF <<'RAW' /d/\n$abc \"q\"\nEOF\n$abc\nRAW\n";
	const char *args[] = { "username=me", "PORTS=80 81", "UNUSED=1", NULL };
	struct build_plan_opts o = { .build_args = (char *const *)args };
	char *err;
	struct build_plan *p = plan(in, &o, &err);
	if (!p)
		fail_msg("%s", err);
	assert_int_equal(p->nstages, 1);
	struct build_stage *s = &p->stages[0];
	assert_string_equal(s->base, "alpine:1.0");
	assert_string_equal(s->name, "base");
	assert_int_equal(s->nsteps, 14);
	assert_string_equal(s->steps[2].kvs[1].value, "hello"); /* def=$abc: old value */
	assert_string_equal(s->steps[3].kvs[0].value, "bye");
	assert_string_equal(s->steps[5].argv[0], "/bye"); /* DIRPATH unset → "" */
	assert_string_equal(s->steps[6].argv[0], "some_user");
	assert_string_equal(s->steps[8].argv[0], "me");
	assert_string_equal(s->steps[10].kvs[0].value, "1.0");
	assert_string_equal(s->steps[10].kvs[1].key, "k j");
	assert_string_equal(s->steps[10].kvs[1].value, "x y");
	assert_string_equal(s->steps[11].argv[0], "echo $abc"); /* RUN not expanded */
	assert_string_equal(s->steps[11].env[0], "abc=bye");
	/* PORTS is a build arg never declared with ARG: not visible */
	assert_int_equal(strv_len(s->steps[12].argv), 1);
	assert_string_equal(s->steps[12].argv[0], "443");
	struct plan_step *c = &s->steps[13];
	assert_string_equal(c->chown, "bye:bye");
	assert_string_equal(c->dest, "/d/");
	assert_int_equal(c->ninlines, 2);
	assert_string_equal(c->inlines[0].data, "bye \"q\"\n");
	assert_string_equal(c->inlines[1].data, "$abc\n");
	assert_string_equal(p->unused_args[0], "PORTS");
	assert_string_equal(p->unused_args[1], "UNUSED");
	assert_null(p->unused_args[2]);
	build_plan_free(p);
}

static void test_stage_graph(void **state)
{
	(void)state;
	const char *in = "FROM alpine AS a\nRUN x\nFROM a AS b\nARG X=1\nFROM scratch AS c\n"
			 "COPY --from=b /x /x\nRUN --mount=type=bind,from=a,target=/m y\n"
			 "FROM busybox AS d\nCOPY --from=0 /x /y\nCOPY --from=nginx:latest /z /z\n"
			 "FROM b\nRUN echo $X\n";
	struct build_plan_opts o = { .target = "C" };
	char *err;
	struct build_plan *p = plan(in, &o, &err);
	if (!p)
		fail_msg("%s", err);
	assert_int_equal(p->nstages, 5);
	assert_int_equal(p->target, 2);
	assert_true(p->stages[0].needed);
	assert_true(p->stages[1].needed);
	assert_true(p->stages[2].needed);
	assert_false(p->stages[3].needed);
	assert_false(p->stages[4].needed);
	assert_int_equal(p->stages[1].base_stage, 0);
	assert_true(p->stages[2].scratch);
	assert_int_equal(p->stages[3].steps[1].from_stage, 0);
	assert_int_equal(p->stages[3].steps[2].from_stage, -1);
	assert_string_equal(p->stages[3].steps[2].from, "nginx:latest");
	assert_int_equal(p->stages[2].steps[2].mounts[0].from_stage, 0);
	/* a stage built on b inherits b's ARG */
	assert_string_equal(p->stages[4].steps[1].args[0], "X=1");
	build_plan_free(p);
	o.target = "nope";
	p = plan(in, &o, &err);
	assert_null(p);
	assert_string_equal(err, "target stage \"nope\" could not be found");
	free(err);
}

static void test_platform_args(void **state)
{
	(void)state;
	const char *in = "FROM --platform=$BUILDPLATFORM golang AS b\nARG TARGETARCH\n"
			 "RUN x\nFROM alpine-$TARGETOS\n";
	struct build_plan_opts o = { .target_platform = "linux/arm/v7",
				     .build_platform = "linux/amd64" };
	char *err;
	struct build_plan *p = plan(in, &o, &err);
	if (!p)
		fail_msg("%s", err);
	assert_string_equal(p->stages[0].platform, "linux/amd64");
	assert_string_equal(p->stages[0].steps[2].args[0], "TARGETARCH=arm");
	assert_string_equal(p->stages[1].base, "alpine-linux");
	build_plan_free(p);
}

static void test_run_flags(void **state)
{
	(void)state;
	const char *in = "FROM a\nARG D=/cache\n"
			 "RUN --mount=type=cache,target=$D,sharing=locked,mode=0700 "
			 "--mount=type=secret,id=tok --mount=type=ssh --network=none --security=insecure x\n"
			 "HEALTHCHECK --interval=1m30s --retries=5 CMD curl -f x\n"
			 "ONBUILD RUN echo hi\nADD --checksum=sha256:$D --unpack=false --keep-git-dir a /b\n";
	char *err;
	struct build_plan *p = plan(in, NULL, &err);
	if (!p)
		fail_msg("%s", err);
	struct plan_step *r = &p->stages[0].steps[2];
	assert_int_equal(r->nmounts, 3);
	assert_string_equal(r->mounts[0].target, "/cache");
	assert_string_equal(r->mounts[0].id, "/cache");
	assert_int_equal(r->mounts[0].sharing, SHARING_LOCKED);
	assert_int_equal(r->mounts[0].mode, 0700);
	assert_string_equal(r->mounts[1].target, "/run/secrets/tok");
	assert_string_equal(r->mounts[2].target, "/run/buildkit/ssh_agent.0");
	assert_string_equal(r->network, "none");
	assert_string_equal(r->security, "insecure");
	struct plan_healthcheck *hc = p->stages[0].steps[3].healthcheck;
	assert_string_equal(hc->test[0], "CMD-SHELL");
	assert_string_equal(hc->test[1], "curl -f x");
	assert_true(hc->interval == 90LL * 1000000000LL);
	assert_int_equal(hc->retries, 5);
	assert_string_equal(p->stages[0].steps[4].trigger, "RUN echo hi");
	struct plan_step *a = &p->stages[0].steps[5];
	assert_string_equal(a->checksum, "sha256:/cache");
	assert_int_equal(a->unpack, 0);
	assert_true(a->keep_git_dir);
	build_plan_free(p);
}

static int base_info(void *ctx, const char *image, const char *platform,
		     struct build_base_info *out, struct kerror *e)
{
	(void)ctx, (void)platform, (void)e;
	if (!strcmp(image, "golang")) {
		strv_push(&out->env, xstrdup("GOPATH=/go"));
		strv_push(&out->onbuild, xstrdup("RUN echo $GOPATH"));
		strv_push(&out->onbuild, xstrdup("COPY . $GOPATH/src"));
	}
	return 0;
}

static void test_onbuild_triggers(void **state)
{
	(void)state;
	const char *in = "FROM golang\nWORKDIR $GOPATH/app\n";
	struct build_plan_opts o = { .base_info = base_info };
	char *err;
	struct build_plan *p = plan(in, &o, &err);
	if (!p)
		fail_msg("%s", err);
	struct build_stage *s = &p->stages[0];
	assert_int_equal(s->nsteps, 4);
	assert_true(s->steps[1].from_onbuild);
	assert_int_equal(s->steps[2].kind, CF_COPY);
	assert_string_equal(s->steps[2].dest, "/go/src");
	assert_string_equal(s->steps[3].argv[0], "/go/app");
	build_plan_free(p);
}

static void test_durations(void **state)
{
	(void)state;
	int64_t ns;
	assert_int_equal(parse_go_duration("1h2m3.5s", &ns), 0);
	assert_true(ns == 3723500000000LL);
	assert_int_equal(parse_go_duration("500ms", &ns), 0);
	assert_true(ns == 500000000LL);
	assert_true(parse_go_duration("5", &ns) < 0);
	assert_true(parse_go_duration("1d", &ns) < 0);
}

/* ---- .containerignore ---- */

struct icase {
	const char *rules, *path;
	bool ignored;
};

static const struct icase ic[] = {
	{ "foo", "foo", true }, { "foo", "foo/bar/baz", true }, { "foo", "foobar", false },
	{ "/foo", "foo", true }, { "foo/", "foo/x", true }, { "*.md", "README.md", true },
	{ "*.md", "docs/README.md", false }, { "**/*.md", "docs/a/README.md", true },
	{ "**/*.md", "README.md", true }, { "docs/**", "docs/a/b", true }, { "docs/**", "docs", false },
	{ "a/**/b", "a/b", true }, { "a/**/b", "a/x/y/b", true }, { "a?c", "abc", true },
	{ "a?c", "a/c", false }, { "[a-c]x", "bx", true }, { "[^a-c]x", "dx", true },
	{ "*\n!keep.md", "keep.md", false }, { "*\n!keep.md", "other", true },
	{ "!keep.md\n*", "keep.md", true }, { "docs\n!docs/keep", "docs/keep/x", false },
	{ "docs\n!docs/keep", "docs/other", true }, { "# comment\nx", "# comment", false },
	{ " x \n", "x", true }, { "a/../b", "b", true }, { "./c/./d", "c/d", true },
	{ "\\*", "*", true }, { "**", "any/thing", true },
};

static void run_ignore(void **state)
{
	const struct icase *c = *state;
	struct ignore_rules *r = NULL;
	struct kerror e = { 0 };
	assert_int_equal(ignore_parse(c->rules, strlen(c->rules), &r, &e), 0);
	assert_int_equal(ignore_match(r, c->path), c->ignored);
	ignore_free(r);
}

static void test_ignore_skippable(void **state)
{
	(void)state;
	const char *rules = "node_modules\nbuild\n!build/keep.txt\n";
	_cleanup_ignore_rules_ struct ignore_rules *r = NULL;
	struct kerror e = { 0 };
	assert_int_equal(ignore_parse(rules, strlen(rules), &r, &e), 0);
	assert_true(ignore_dir_skippable(r, "node_modules"));
	assert_false(ignore_dir_skippable(r, "build"));
	assert_false(ignore_dir_skippable(r, "src"));
	assert_true(ignore_has_exceptions(r));
	assert_int_equal(ignore_count(r), 3);
	struct ignore_rules *bad = NULL;
	assert_true(ignore_parse("!\n", 2, &bad, &e) < 0);
	assert_string_equal(e.msg, "illegal exclusion pattern: \"!\"");
	kerror_release(&e);
	assert_true(ignore_parse("[a-\n", 4, &bad, &e) < 0);
	kerror_release(&e);
}

int main(void)
{
	size_t n = ARRAY_SIZE(errs), m = ARRAY_SIZE(ic);
	struct CMUnitTest *t = calloc(n + m + 8, sizeof(*t));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		t[k++] = (struct CMUnitTest){ .name = errs[i].in, .test_func = run_err,
					      .initial_state = (void *)&errs[i] };
	for (size_t i = 0; i < m; i++)
		t[k++] = (struct CMUnitTest){ .name = ic[i].path, .test_func = run_ignore,
					      .initial_state = (void *)&ic[i] };
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_expansion_points);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_stage_graph);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_platform_args);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_run_flags);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_onbuild_triggers);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_durations);
	t[k++] = (struct CMUnitTest)cmocka_unit_test(test_ignore_skippable);
	int r = _cmocka_run_group_tests("stages", t, k, NULL, NULL);
	free(t);
	return r;
}
