/* Unit tests for image/'s Go-template engine (--format): a table of
 * template, data, and the expected output or error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

#define DATA                                                                               \
	"{\"ID\":\"sha256:abc\",\"Repository\":\"busybox\",\"Tag\":\"latest\",\"Size\":4261,"   \
	"\"Ratio\":0.5,\"Big\":1e21,\"Small\":1e-7,\"Flag\":true,\"Off\":false,\"Zero\":0,"      \
	"\"Empty\":\"\",\"Nil\":null,\"Html\":\"<a&b>\",\"Name\":\"hello world\","                 \
	"\"List\":[\"a\",\"b\",\"c\"],\"Nums\":[3,1,2],\"None\":[],"                               \
	"\"Config\":{\"Env\":[\"PATH=/bin\",\"X=1\"],\"Cmd\":[\"sh\"],"                            \
	"\"Labels\":{\"b\":\"2\",\"a\":\"1\"}},\"Stats\":{\"Mem\":{\"Used\":12}},"                \
	"\"M\":{\"k\":1,\"j\":[1,2]},\"Caps\":{\"Zed\":1,\"Alpha\":2},\"CSV\":\"x,y,z\"}"

struct tcase {
	const char *tmpl;
	const char *out; /* expected output, or NULL */
	const char *err; /* expected error substring, or NULL */
};

static const struct tcase cases[] = {
	/* text, fields, chains */
	{ "plain text", "plain text", NULL },
	{ "{{.Repository}}:{{.Tag}}", "busybox:latest", NULL },
	{ "{{.Stats.Mem.Used}}", "12", NULL },
	{ "{{ .Repository }}", "busybox", NULL },
	{ "{{.Size}} {{.Ratio}} {{.Big}} {{.Small}}", "4261 0.5 1e+21 1e-07", NULL },
	{ "{{.Flag}} {{.Off}}", "true false", NULL },
	{ "{{.Nil}}|{{.Config.Labels.zzz}}", "<no value>|<no value>", NULL },
	{ "{{.List}} {{.None}}", "[a b c] []", NULL },
	{ "{{.Config.Labels}}", "map[a:1 b:2]", NULL },
	{ "{{.M}}", "map[j:[1 2] k:1]", NULL },
	{ "{{.Caps}}", "map[Alpha:2 Zed:1]", NULL },
	/* trim markers and comments */
	{ "a  {{- .Tag -}}  \n b", "alatestb", NULL },
	{ "a {{- /* note */ -}} b{{/* x */}}c", "abc", NULL },
	{ "{{-3}}", "-3", NULL },
	/* json */
	{ "{{json .List}}", "[\"a\",\"b\",\"c\"]", NULL },
	{ "{{.Config.Labels | json}}", "{\"a\":\"1\",\"b\":\"2\"}", NULL },
	{ "{{json .Html}}", "\"\\u003ca\\u0026b\\u003e\"", NULL },
	{ "{{json .Stats}}", "{\"Mem\":{\"Used\":12}}", NULL },
	{ "{{json .Nil}} {{json .Ratio}} {{json .Big}} {{json .Small}}", "null 0.5 1e+21 1e-7", NULL },
	{ "{{json \"tab\\there\"}}", "\"tab\\there\"", NULL },
	/* range */
	{ "{{range .List}}[{{.}}]{{end}}", "[a][b][c]", NULL },
	{ "{{range $i, $v := .List}}{{$i}}={{$v}} {{end}}", "0=a 1=b 2=c ", NULL },
	{ "{{range $v := .Nums}}{{$v}}{{end}}", "312", NULL },
	{ "{{range .None}}x{{else}}empty{{end}}", "empty", NULL },
	{ "{{range $k, $v := .Config.Labels}}{{$k}}{{$v}};{{end}}", "a1;b2;", NULL },
	{ "{{range .Nums}}{{if eq . 1}}{{break}}{{end}}{{.}}{{end}}", "3", NULL },
	{ "{{range .Nums}}{{if eq . 1}}{{continue}}{{end}}{{.}}{{end}}", "32", NULL },
	{ "{{range .Config.Env}}{{$.Tag}}{{end}}", "latestlatest", NULL },
	/* if / with */
	{ "{{if .Flag}}yes{{else}}no{{end}}", "yes", NULL },
	{ "{{if .Zero}}a{{else if .Empty}}b{{else if .List}}c{{else}}d{{end}}", "c", NULL },
	{ "{{if .None}}a{{else}}b{{end}}{{if .Nil}}a{{else}}b{{end}}{{if .Stats}}s{{end}}", "bbs", NULL },
	{ "{{with .Stats.Mem}}{{.Used}}{{end}}{{with .Empty}}x{{else}}none{{end}}", "12none", NULL },
	{ "{{if and .Flag .Size}}A{{end}}{{if or .Off .Zero}}B{{else}}C{{end}}{{if not .Off}}D{{end}}", "ACD", NULL },
	{ "{{and .Flag .Tag}} {{or .Empty .Repository}} {{and .Zero .Nope}}", "latest busybox 0", NULL },
	/* variables */
	{ "{{$x := .Tag}}{{$x}}{{$x = \"new\"}} {{$x}}", "latest new", NULL },
	{ "{{with $m := .Stats.Mem}}{{$m.Used}}{{end}}", "12", NULL },
	/* index, len */
	{ "{{index .List 1}} {{index .Config.Labels \"a\"}}|{{index .Config.Labels \"nope\"}}|", "b 1||", NULL },
	{ "{{index .M \"j\" 1}} {{len .List}} {{len .Name}} {{len .Config.Labels}}", "2 3 11 2", NULL },
	/* printf, print */
	{ "{{printf \"%s-%d\" .Repository .Size}}", "busybox-4261", NULL },
	{ "{{printf \"%5s|%-6s|%.2f|%v|%q|%x|%t\" \"ab\" \"cd\" 3.14159 .List \"q\" 255 true}}",
	  "   ab|cd    |3.14|[a b c]|\"q\"|ff|true", NULL },
	{ "{{printf \"%d %s\" \"str\"}}", "%!d(string=str) %!s(MISSING)", NULL },
	{ "{{printf \"%s\" 1 2}}", "%!s(int=1)%!(EXTRA int=2)", NULL },
	{ "{{printf \"%05d|%+d|%x|%X|%o|%c|%%\" 42 7 \"hi\" -255 8 65}}", "00042|+7|6869|-FF|10|A|%", NULL },
	{ "{{print .Size 2 \"a\" \"b\"}} {{println .Tag}}", "4261 2ab latest\n", NULL },
	/* docker functions */
	{ "{{join .List \", \"}}", "a, b, c", NULL },
	{ "{{lower \"ABC\"}} {{upper .Tag}} {{title .Name}}", "abc LATEST Hello World", NULL },
	/* a NUL inside the string (ASan: it was copied only up to the NUL) */
	{ "{{len (title \"a\\000b\")}} {{upper \"x\\000y\" | len}}", "3 3", NULL },
	{ "{{split .CSV \",\"}} {{index (split .CSV \",\") 2}}", "[x y z] z", NULL },
	{ "{{truncate .ID 6}} {{truncate .Tag 99}} [{{pad .Tag 1 2}}]", "sha256 latest [ latest  ]", NULL },
	{ "{{.Repository | upper | printf \"<%s>\"}}", "<BUSYBOX>", NULL },
	{ "{{(index .Config.Cmd 0) | len}}", "2", NULL },
	/* comparisons */
	{ "{{eq .Tag \"latest\"}} {{ne .Size 1}} {{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2}}",
	  "true true true true true false", NULL },
	{ "{{eq .Tag \"a\" \"b\" \"latest\"}} {{eq .Ratio 0.5}} {{eq .Size 4261.0}}", "true true true", NULL },
	/* literals */
	{ "{{\"a\\tb\\u00e9\"}} {{`raw\\n`}} {{'a'}} {{0x10}} {{1.5}} {{true}} {{print nil}}",
	  "a\tb\xc3\xa9 raw\\n 97 16 1.5 true <nil>", NULL },
	/* errors */
	{ "{{.Nope}}", NULL, "can't evaluate field Nope in type struct" },
	{ "{{.Stats.Mem.Nope}}", NULL, "template: :1:2: executing \"\" at <.Stats.Mem.Nope>: can't evaluate field Nope" },
	{ "{{.Tag.X}}", NULL, "can't evaluate field X in type string" },
	{ "{{.Tag", NULL, "template: :1: unclosed action" },
	{ "a\n{{nope .Tag}}", NULL, "template: :2: function \"nope\" not defined" },
	{ "{{lower}}", NULL, "wrong number of args for lower: want 1 got 0" },
	{ "{{printf}}", NULL, "wrong number of args for printf: want at least 1 got 0" },
	{ "{{index .List 5}}", NULL, "error calling index: index out of range: 5" },
	{ "{{index .List \"x\"}}", NULL, "cannot index slice/array with type string" },
	{ "{{if .Flag}}x", NULL, "unexpected EOF" },
	{ "{{end}}", NULL, "unexpected {{end}}" },
	{ "{{$x}}", NULL, "undefined variable \"$x\"" },
	{ "{{break}}", NULL, "{{break}} outside {{range}}" },
	{ "{{\"abc}}", NULL, "unterminated quoted string" },
	{ "{{lower 5}}", NULL, "wrong type for value; expected string; got int" },
	{ "{{lt .List 1}}", NULL, "error calling lt: invalid type for comparison" },
	{ "{{eq .Tag 1}}", NULL, "incompatible types for comparison" },
	{ "{{range .Size}}{{end}}", NULL, "range can't iterate over 4261" },
	{ "{{.Tag .Size}}", NULL, "Tag has arguments but cannot be invoked as function" },
	{ "{{nil}}", NULL, "nil is not a command" },
	{ "{{.List | \"x\"}}", NULL, "non executable command in pipeline stage 2" },
	{ "{{(.Tag}}", NULL, "unclosed left paren" },
	{ "{{define \"x\"}}{{end}}", NULL, "is not supported" },
	{ "{{len .Size}}", NULL, "error calling len: len of type int" },
};

static void test_cases(void **state)
{
	(void)state;
	_cleanup_json_ json_t *data = json_loads(DATA, 0, NULL);
	assert_non_null(data);
	int failed = 0;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct tcase *c = &cases[i];
		_cleanup_gotmpl_ struct gotmpl *t = NULL;
		_cleanup_kerror_ struct kerror e = { 0 };
		struct buf b = { 0 };
		int r = gotmpl_parse(c->tmpl, &t, &e);
		if (r == 0)
			r = gotmpl_exec(t, data, &b, &e);
		const char *got = b.data ? b.data : "";
		if (c->out && (r < 0 || strlen(c->out) != b.len || memcmp(c->out, got, b.len) != 0)) {
			print_error("case %zu %s: want [%s] got [%.*s] err %s\n", i, c->tmpl, c->out,
				    (int)b.len, got, e.msg ? e.msg : "-");
			failed++;
		}
		if (c->err && (r == 0 || !e.msg || !strstr(e.msg, c->err))) {
			print_error("case %zu %s: want error [%s] got r=%d [%s] out [%.*s]\n", i, c->tmpl,
				    c->err, r, e.msg ? e.msg : "-", (int)b.len, got);
			failed++;
		}
		if (c->err && e.msg && strncmp(e.msg, "template: ", 10) != 0) {
			print_error("case %zu: error not Go-shaped: %s\n", i, e.msg);
			failed++;
		}
		buf_release(&b);
	}
	assert_int_equal(failed, 0);
}

/* Parse once, execute per item; the error of one item does not poison the
 * next execution (what the failed one wrote before failing stays, as Go's). */
static void test_reuse(void **state)
{
	(void)state;
	_cleanup_gotmpl_ struct gotmpl *t = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };
	_cleanup_json_ json_t *a = json_loads("[{\"A\":1},{\"B\":2},{\"A\":3}]", 0, NULL);
	struct buf b = { 0 };
	assert_int_equal(gotmpl_parse("<{{.A}}>", &t, &e), 0);
	assert_int_equal(gotmpl_exec(t, json_array_get(a, 0), &b, &e), 0);
	assert_true(gotmpl_exec(t, json_array_get(a, 1), &b, &e) < 0);
	assert_int_equal(gotmpl_exec(t, json_array_get(a, 2), &b, &e), 0);
	assert_int_equal(b.len, strlen("<1><<3>"));
	assert_memory_equal(b.data, "<1><<3>", b.len);
	buf_release(&b);
}

static void test_header(void **state)
{
	(void)state;
	static const char *const headers[] = { "ID", "IMAGE ID", "CreatedSince", "CREATED", NULL };
	_cleanup_gotmpl_ struct gotmpl *t = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };
	struct buf b = { 0 };
	assert_int_equal(gotmpl_parse("{{.ID}}\t{{.CreatedSince | upper}}\t{{json .RepoTags}}\t"
				      "{{truncate .VirtualSize 3}}\t{{.HTTPProxy}}",
				      &t, &e),
			 0);
	gotmpl_header(t, headers, &b);
	buf_append(&b, "", 1);
	assert_string_equal(b.data, "IMAGE ID\tCREATED\tREPO TAGS\tVIRTUAL SIZE\tHTTP PROXY");
	buf_release(&b);
}

/* Hostile templates stop with an error instead of running away. */
static void test_bounds(void **state)
{
	(void)state;
	_cleanup_json_ json_t *data = json_loads("{\"L\":[1,2,3,4,5,6,7,8,9,10]}", 0, NULL);
	struct buf deep = { 0 };
	for (int i = 0; i < 150; i++)
		buf_printf(&deep, "{{if 1}}");
	buf_append(&deep, "", 1);
	_cleanup_gotmpl_ struct gotmpl *t = NULL;
	_cleanup_kerror_ struct kerror e = { 0 };
	assert_true(gotmpl_parse(deep.data, &t, &e) < 0);
	assert_non_null(strstr(e.msg, "nesting too deep"));
	buf_release(&deep);

	const char *loops = "{{range .L}}{{range $.L}}{{range $.L}}{{range $.L}}{{range $.L}}"
			    "{{range $.L}}{{range $.L}}{{range $.L}}xxxxxxxxxx"
			    "{{end}}{{end}}{{end}}{{end}}{{end}}{{end}}{{end}}{{end}}";
	assert_int_equal(gotmpl_parse(loops, &t, &e), 0);
	struct buf b = { 0 };
	assert_true(gotmpl_exec(t, data, &b, &e) < 0);
	assert_true(b.len <= GOTMPL_MAX_OUTPUT);
	buf_release(&b);
	gotmpl_free(t);
	t = NULL;

	const char *grow = "{{$x := \"aaaaaaaaaaaaaaaa\"}}{{range .L}}{{range $.L}}"
			   "{{$x = printf \"%s%s\" $x $x}}{{end}}{{end}}";
	assert_int_equal(gotmpl_parse(grow, &t, &e), 0);
	assert_true(gotmpl_exec(t, data, &b, &e) < 0);
	buf_release(&b);
	gotmpl_free(t);
	t = NULL;

	assert_int_equal(gotmpl_parse("{{printf \"%999999999d\" 1}}", &t, &e), 0);
	assert_true(gotmpl_exec(t, data, &b, &e) < 0);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
