/* Containerfile parser: each case is a Containerfile and the exact dump
 * (the reference parser's s-expressions) or the exact error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "build/build.h"

struct pcase {
	const char *in;
	const char *dump; /* NULL when an error is expected */
	const char *err;
};

static const struct pcase cases[] = {
	/* lexing: comments, blank lines, case, whitespace */
	{ "FROM busybox\n", "(from \"busybox\")\n" },
	{ "from busybox\nrun echo hi\n", "(from \"busybox\")\n(run \"echo hi\")\n" },
	{ "FrOm a\n", "(from \"a\")\n" },
	{ "# c\n\nFROM a\n# c2\n  # indented\nRUN x\n", "(from \"a\")\n(run \"x\")\n" },
	{ "   FROM a\n\tRUN  x  y  \n", "(from \"a\")\n(run \"x  y\")\n" },
	{ "FROM a\r\nRUN b\r\n", "(from \"a\")\n(run \"b\")\n" },
	{ "\xEF\xBB\xBF" "FROM a\n", "(from \"a\")\n" },
	{ "FROM a", "(from \"a\")\n" },
	{ "RUN echo 'a # b'\n", "(run \"echo 'a # b'\")\n" },
	{ "", NULL, "Containerfile:0: file with no instructions" },
	{ "# only\n\n# comments\n", NULL, "Containerfile:3: file with no instructions" },
	/* continuations */
	{ "RUN echo hello\\\n  world\n", "(run \"echo hello  world\")\n" },
	{ "RUN a \\\n# comment\nb\n", "(run \"a b\")\n" },
	{ "RUN a \\\n\nb\n", "(run \"a b\")\n" },
	{ "RUN a \\\n  # indented comment\n  b\n", "(run \"a   b\")\n" },
	{ "RUN a \\  \t\nb\n", "(run \"a b\")\n" },
	{ "RUN a\\\\\nRUN b\n", "(run \"a\\\\\\\\\")\n(run \"b\")\n" },
	{ "RUN a \\", "(run \"a\")\n" },
	{ "ENV F hello\\\n \\\nworld\n", "(env \"F\" \"hello world\" \"\")\n" },
	{ "RUN a \\\n\\\nb\n", "(run \"a b\")\n" },
	{ "\\\nFROM x\n", "(from \"x\")\n" },
	/* directives */
	{ "# escape=`\nFROM a\nRUN a `\n b\n", "(from \"a\")\n(run \"a  b\")\n" },
	{ "# escape=`\nRUN dir c:\\\nRUN x\n", "(run \"dir c:\\\\\")\n(run \"x\")\n" },
	{ "#\t  eScApE = `  \nRUN a`\nb\n", "(run \"ab\")\n" },
	{ "# escape=x\nFROM a\n", NULL, "Containerfile:1: invalid escape token 'x' does not match ` or \\" },
	{ "# escape=\\\n# escape=`\nFROM a\n", NULL, "Containerfile:2: only one escape parser directive can be used" },
	{ "# syntax=docker/dockerfile:1\n# check=skip=all\nFROM a\n", "(from \"a\")\n" },
	{ "FROM a\n# escape=`\nRUN a \\\nb\n", "(from \"a\")\n(run \"a b\")\n" },
	{ "# comment\n# escape=`\nRUN a \\\nb\n", "(run \"a b\")\n" },
	{ "\n# escape=`\nRUN a \\\nb\n", "(run \"a b\")\n" },
	{ "# unknown=1\n# escape=`\nRUN a \\\nb\n", "(run \"a b\")\n" },
	/* flags */
	{ "RUN --mount=type=cache,target=/c --network=none make\n",
	  "(run [\"--mount=type=cache,target=/c\" \"--network=none\"] \"make\")\n" },
	{ "COPY --from=build --chown=1:1 a b\n", "(copy [\"--from=build\" \"--chown=1:1\"] \"a\" \"b\")\n" },
	{ "RUN -- --x\n", "(run \"--x\")\n" },
	{ "RUN --a \"--b c\"\n", "(run [\"--a\"] \"\\\"--b c\\\"\")\n" },
	{ "RUN --a=\"x y\" z\n", "(run [\"--a=x y\"] \"z\")\n" },
	{ "RUN --a=\"\" z\n", "(run [\"--a=\"] \"z\")\n" },
	{ "RUN --user=me --doit=true x\n", "(run [\"--user=me\" \"--doit=true\"] \"x\")\n" },
	{ "RUN --only\n", "(run [\"--only\"])\n" },
	{ "RUN -x\n", "(run \"-x\")\n" },
	/* exec form */
	{ "CMD [\"a\",\"b\"]\n", "(cmd \"a\" \"b\")\n" },
	{ "CMD [ \"a\" , \"b\" ]  \n", "(cmd \"a\" \"b\")\n" },
	{ "CMD []\n", "(cmd)\n" },
	{ "CMD [\"\"]\n", "(cmd \"\")\n" },
	{ "CMD ['a']\n", "(cmd \"['a']\")\n" },
	{ "CMD [\"a\"\n", "(cmd \"[\\\"a\\\"\")\n" },
	{ "CMD [\"a\"] x\n", "(cmd \"[\\\"a\\\"] x\")\n" },
	{ "CMD [\"a\\u0000\", \"\\\\ \\/ \\t\"]\n", "(cmd \"a\\x00\" \"\\\\ / \\t\")\n" },
	{ "CMD [\"\\u2603\"]\n", "(cmd \"\xe2\x98\x83\")\n" },
	{ "CMD [\"a\", 1]\n", NULL,
	  "Containerfile:1: when using JSON array syntax, arrays must be comprised of strings only" },
	{ "CMD [\"a\", [\"b\"]]\n", NULL,
	  "Containerfile:1: when using JSON array syntax, arrays must be comprised of strings only" },
	{ "CMD [\"a\", {\"b\": null}]\n", NULL,
	  "Containerfile:1: when using JSON array syntax, arrays must be comprised of strings only" },
	{ "CMD [\"a\", {b}]\n", "(cmd \"[\\\"a\\\", {b}]\")\n" },
	{ "CMD [\"a\", true, null, 1.5e3]\n", NULL,
	  "Containerfile:1: when using JSON array syntax, arrays must be comprised of strings only" },
	{ "RUN [\"echo\", \"$HOME\"]\n", "(run \"echo\" \"$HOME\")\n" },
	{ "SHELL [\"/bin/bash\", \"-c\"]\n", "(shell \"/bin/bash\" \"-c\")\n" },
	{ "ENTRYPOINT exec top -b\n", "(entrypoint \"exec top -b\")\n" },
	{ "COPY [\"a b\", \"/c\"]\n", "(copy \"a b\" \"/c\")\n" },
	{ "VOLUME /a /b\n", "(volume \"/a\" \"/b\")\n" },
	{ "VOLUME [\"/a\"]\n", "(volume \"/a\")\n" },
	/* FROM / EXPOSE / strings */
	{ "FROM --platform=$BUILDPLATFORM golang:1 AS build\n",
	  "(from [\"--platform=$BUILDPLATFORM\"] \"golang:1\" \"AS\" \"build\")\n" },
	{ "EXPOSE 80/tcp 53/udp\n", "(expose \"80/tcp\" \"53/udp\")\n" },
	{ "USER me:grp\nWORKDIR /a b\nSTOPSIGNAL SIGKILL\nMAINTAINER Jo <j@x>\n",
	  "(user \"me:grp\")\n(workdir \"/a b\")\n(stopsignal \"SIGKILL\")\n(maintainer \"Jo <j@x>\")\n" },
	{ "USER\n", "(user)\n" },
	/* ENV / LABEL / ARG */
	{ "ENV A=1 B=\"two words\"\n", "(env \"A\" \"1\" \"=\" \"B\" \"\\\"two words\\\"\" \"=\")\n" },
	{ "ENV name \"value value1\"\n", "(env \"name\" \"\\\"value value1\\\"\" \"\")\n" },
	{ "ENV ONE TWO= THREE=world\n", "(env \"ONE\" \"TWO= THREE=world\" \"\")\n" },
	{ "ENV a\\ b=c\n", "(env \"a\\\\ b\" \"c\" \"=\")\n" },
	{ "ENV PATH\n", NULL, "Containerfile:1: ENV must have two arguments" },
	{ "ENV A=1 B\n", NULL,
	  "Containerfile:1: Syntax error - can't find = in \"B\". Must be of the form: name=value" },
	{ "ENV\n", "(env)\n" },
	{ "LABEL \"com.example.vendor\"=\"ACME\" v=1\n",
	  "(label \"\\\"com.example.vendor\\\"\" \"\\\"ACME\\\"\" \"=\" \"v\" \"1\" \"=\")\n" },
	{ "LABEL k v w\n", "(label \"k\" \"v w\" \"\")\n" },
	{ "LABEL k='a b' j=\"c\\\"d\"\n", "(label \"k\" \"'a b'\" \"=\" \"j\" \"\\\"c\\\\\\\"d\\\"\" \"=\")\n" },
	{ "ARG abc=\"123 456\" def\n", "(arg \"abc=\\\"123 456\\\"\" \"def\")\n" },
	{ "ARG a b=2\n", "(arg \"a\" \"b=2\")\n" },
	/* ONBUILD, HEALTHCHECK, unknown */
	{ "ONBUILD RUN [\"echo\", \"test\"]\n", "(onbuild (run \"echo\" \"test\"))\n" },
	{ "ONBUILD ADD . /app/src\n", "(onbuild (add \".\" \"/app/src\"))\n" },
	{ "ONBUILD\n", "(onbuild)\n" },
	{ "ONBUILD ONBUILD RUN x\n", "(onbuild (onbuild (run \"x\")))\n" },
	{ "HEALTHCHECK --interval=5s CMD /app/check.sh --quiet\n",
	  "(healthcheck [\"--interval=5s\"] \"CMD\" \"/app/check.sh --quiet\")\n" },
	{ "HEALTHCHECK NONE\n", "(healthcheck \"NONE\")\n" },
	{ "HEALTHCHECK CMD [\"curl\", \"-f\", \"x\"]\n", "(healthcheck \"CMD\" \"curl\" \"-f\" \"x\")\n" },
	{ "HEALTHCHECK\n", "(healthcheck)\n" },
	{ "FOO bar baz\n", "(foo \"\")\n" },
	{ "Frobnicate --x y\n", "(frobnicate [\"--x\"] \"\")\n" },
	/* quoting in the dump */
	{ "RUN printf 'a\\tb'\n", "(run \"printf 'a\\\\tb'\")\n" },
	{ "RUN echo \x01\x7f\n", "(run \"echo \\x01\\x7f\")\n" },
	{ "RUN echo \xff\n", "(run \"echo \\xff\")\n" },
	{ "RUN echo h\xc3\xa9 \xe2\x98\x83\n", "(run \"echo h\xc3\xa9 \xe2\x98\x83\")\n" },
	/* heredocs (bodies are not part of the dump) */
	{ "RUN <<EOF\necho hi\nEOF\nRUN x\n", "(run \"<<EOF\")\n(run \"x\")\n" },
	{ "RUN <<EOF\necho hi\n", NULL, "Containerfile:1: unterminated heredoc" },
	{ "COPY <<A <<B /dst/\na\nA\nb\nB\n", "(copy \"<<A\" \"<<B\" \"/dst/\")\n" },
	{ "RUN [\"<<EOF\"]\nEOF\n", "(run \"<<EOF\")\n(eof \"\")\n" },
	{ "ENV a=<<EOF\nEOF\n", "(env \"a\" \"<<EOF\" \"=\")\n(eof \"\")\n" },
	{ "RUN cat<<EOF\nEOF\n", "(run \"cat<<EOF\")\n(eof \"\")\n" },
	{ "ONBUILD RUN <<EOF\nx\nEOF\n", "(onbuild (run \"<<EOF\"))\n" },
	/* bounds */
	{ "ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD "
	  "ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD RUN x\n",
	  NULL, "Containerfile:1: too many nested ONBUILD instructions" },
};

static void run_case(void **state)
{
	const struct pcase *c = *state;
	struct containerfile *cf = NULL;
	struct kerror e = { 0 };
	int r = containerfile_parse(c->in, strlen(c->in), NULL, &cf, &e);
	if (c->dump) {
		if (r < 0)
			fail_msg("unexpected error: %s", e.msg);
		struct buf b = { 0 };
		assert_int_equal(containerfile_dump_ast(cf, &b), 0);
		assert_string_equal(b.data ? b.data : "", c->dump);
		buf_release(&b);
		containerfile_free(cf);
	} else {
		if (r == 0)
			containerfile_free(cf);
		assert_true(r < 0);
		assert_string_equal(e.msg, c->err);
	}
	kerror_release(&e);
}

/* Heredoc bodies, flags and line numbers, checked field by field. */
static void test_heredoc_fields(void **state)
{
	(void)state;
	const char *in = "FROM a\nRUN <<-\"A\" cat && 3<<B cat\n\tbody a\n\tA\nbody $b\nB\n"
			 "COPY <<E\"O\"F /x\nq\nEOF\n";
	_cleanup_containerfile_ struct containerfile *cf = NULL;
	struct kerror e = { 0 };
	assert_int_equal(containerfile_parse(in, strlen(in), "Dockerfile", &cf, &e), 0);
	assert_int_equal(cf->nnodes, 3);
	const struct cf_node *n = &cf->nodes[1];
	assert_int_equal(n->start_line, 2);
	assert_int_equal(n->end_line, 6);
	assert_int_equal(n->nheredocs, 2);
	assert_string_equal(n->heredocs[0].name, "A");
	assert_false(n->heredocs[0].expand);
	assert_true(n->heredocs[0].chomp);
	assert_string_equal(n->heredocs[0].content, "\tbody a\n");
	assert_string_equal(n->heredocs[1].name, "B");
	assert_int_equal(n->heredocs[1].fd, 3);
	assert_true(n->heredocs[1].expand);
	assert_string_equal(n->heredocs[1].content, "body $b\n");
	assert_string_equal(cf->nodes[2].heredocs[0].name, "EOF");
	assert_false(cf->nodes[2].heredocs[0].expand);
	assert_int_equal(cf->nodes[2].start_line, 7);
}

static void test_directives_kept(void **state)
{
	(void)state;
	const char *in = "# syntax=docker/dockerfile:1-labs\n# check=skip=all;error=true\n"
			 "# escape=`\nFROM a\nRUN x `\n\n y\n";
	_cleanup_containerfile_ struct containerfile *cf = NULL;
	struct kerror e = { 0 };
	assert_int_equal(containerfile_parse(in, strlen(in), "Dockerfile", &cf, &e), 0);
	assert_string_equal(cf->syntax, "docker/dockerfile:1-labs");
	assert_string_equal(cf->check, "skip=all;error=true");
	assert_int_equal(cf->escape, '`');
	assert_non_null(cf->warnings);
	assert_string_equal(cf->warnings[0],
			    "Dockerfile:5: empty continuation line found in: RUN x  y");
	assert_int_equal(cf->nodes[1].end_line, 7);
}

static void test_long_line(void **state)
{
	(void)state;
	size_t n = 70000;
	char *in = malloc(n + 1);
	memcpy(in, "RUN ", 4);
	memset(in + 4, 'x', n - 4);
	in[n] = 0;
	struct containerfile *cf = NULL;
	struct kerror e = { 0 };
	assert_true(containerfile_parse(in, n, "F", &cf, &e) < 0);
	assert_string_equal(e.msg, "F:1: dockerfile line greater than max allowed size of 65535");
	kerror_release(&e);
	free(in);
}

static void test_many_heredocs(void **state)
{
	(void)state;
	struct buf b = { 0 };
	buf_printf(&b, "RUN");
	for (int i = 0; i < 200; i++)
		buf_printf(&b, " <<E%d", i);
	buf_printf(&b, "\n");
	struct containerfile *cf = NULL;
	struct kerror e = { 0 };
	assert_true(containerfile_parse(b.data, b.len, NULL, &cf, &e) < 0);
	assert_string_equal(e.msg, "Containerfile:1: too many heredocs on one instruction (max 128)");
	kerror_release(&e);
	buf_release(&b);
}

int main(void)
{
	size_t n = ARRAY_SIZE(cases);
	struct CMUnitTest *t = calloc(n + 4, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		t[i].name = cases[i].in;
		t[i].test_func = run_case;
		t[i].initial_state = (void *)&cases[i];
	}
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_heredoc_fields);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_directives_kept);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_long_line);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_many_heredocs);
	int r = _cmocka_run_group_tests("parser", t, n, NULL, NULL);
	free(t);
	return r;
}
