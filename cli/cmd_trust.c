/* kiln image trust show|set (podman's), kiln generate-sigstore-key
 * (skopeo's): the trust policy and signing keys, no registry needed. */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"
#include "sign/sign.h"

#define POLICY_MAX (4 * 1024 * 1024)

static int trust_show(const char *path, bool raw, bool json, struct kerror *e)
{
	_cleanup_sign_policy_ struct sign_policy *p = NULL;
	_cleanup_free_ char *file = sign_policy_path(path);
	_cleanup_free_ char *data = NULL;
	struct sign_trust_row *rows = NULL;
	size_t len, n = 0;
	int r;

	r = fs_read_file(file, POLICY_MAX, &data, &len, e);
	if (r < 0)
		return r;
	if (raw) {
		fwrite(data, 1, len, stdout);
		return 0;
	}
	r = sign_policy_parse(data, len, &p, e);
	if (r < 0)
		return kerror_wrap(e, "%s", file);
	sign_trust_show(p, &rows, &n);
	if (json) {
		_cleanup_json_ json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "name", rows[i].name,
							   "type", rows[i].type, "keys",
							   rows[i].keys ? rows[i].keys : ""));
		_cleanup_free_ char *s = json_dump_pretty(a);
		printf("%s\n", s);
	} else {
		struct buf b = { 0 };
		for (size_t i = 0; i < n; i++)
			buf_printf(&b, "%s\t%s\t%s\n", rows[i].name, rows[i].type,
				   rows[i].keys ? rows[i].keys : "");
		if (b.data)
			table_print(stdout, b.data);
		buf_release(&b);
	}
	sign_trust_rows_free(rows, n);
	return 0;
}

static int trust_set(const char *path, const char *type, char *const *keys, const char *scope,
		     struct kerror *e)
{
	_cleanup_free_ char *file = sign_policy_path(path);
	_cleanup_free_ char *data = NULL, *out = NULL;
	size_t len = 0;
	int r = fs_read_file(file, POLICY_MAX, &data, &len, NULL);

	if (r < 0) {
		free(data);
		data = NULL; /* a new file */
	}
	r = sign_trust_set(data, len, scope, type, keys, &out, e);
	if (r < 0)
		return r;
	{
		_cleanup_free_ char *dir = xstrdup(file);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			r = fs_mkdir_p(dir, 0755, e);
			if (r < 0)
				return r;
		}
	}
	return fs_write_atomic(file, out, strlen(out), 0644, e);
}

int cmd_image_trust(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "policypath", required_argument, NULL, 'P' },
		{ "raw", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "type", required_argument, NULL, 't' },
		{ "pubkeysfile", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *type = NULL, *verb;
	_cleanup_strv_ char **keys = NULL;
	bool raw = false, json = false;
	int opt;

	(void)c;
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return cli_usage("kiln image trust show [--raw|--json] | set -t TYPE [-f KEY]... "
				 "REGISTRY|default", NULL);
	if (argc < 2)
		return kerror_set(e, EINVAL, "missing command 'kiln image trust show|set'");
	verb = argv[1];
	argc--;
	argv++;
	optind = 0;
	while ((opt = cli_getopt(argc, argv, "t:f:h", opts, e)) != -1) {
		switch (opt) {
		case 'P': path = optarg; break;
		case 'r': raw = true; break;
		case 'j': json = true; break;
		case 't': type = optarg; break;
		case 'f': strv_push(&keys, xstrdup(optarg)); break;
		case 'h':
			return cli_usage("kiln image trust show [--raw|--json] | set -t TYPE [-f KEY]... "
					 "REGISTRY|default",
					 "      --policypath string    policy.json to read or write\n"
					 "  -t, --type string          accept, reject, signedBy or "
					 "sigstoreSigned\n"
					 "  -f, --pubkeysfile string   a public key file (repeatable)\n");
		default: return -EINVAL;
		}
	}
	if (strcmp(verb, "show") == 0)
		return trust_show(path, raw, json, e);
	if (strcmp(verb, "set") == 0) {
		if (!type)
			return kerror_set(e, EINVAL, "kiln image trust set: --type is required");
		if (argc - optind != 1)
			return kerror_set(e, EINVAL, "kiln image trust set requires exactly one "
						     "REGISTRY[/REPOSITORY] or \"default\"");
		return trust_set(path, type, keys, argv[optind], e);
	}
	return kerror_set(e, EINVAL, "unrecognized command `kiln image trust %s`", verb);
}

int cmd_generate_sigstore_key(struct cli *c, int argc, char **argv, struct kerror *e)
{
	static const struct option opts[] = {
		{ "output-prefix", required_argument, NULL, 'o' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prefix = NULL, *pass = NULL;
	int opt, r;

	(void)c;
	while ((opt = cli_getopt(argc, argv, "h", opts, e)) != -1) {
		switch (opt) {
		case 'o': prefix = optarg; break;
		case 'p': pass = optarg; break;
		case 'h':
			return cli_usage("kiln generate-sigstore-key --output-prefix PREFIX "
					 "[--passphrase-file FILE]",
					 "      --output-prefix string     write PREFIX.private and "
					 "PREFIX.pub\n"
					 "      --passphrase-file string   the private key's passphrase\n");
		default: return -EINVAL;
		}
	}
	if (!prefix)
		return kerror_set(e, EINVAL, "--output-prefix is required");
	r = sign_sigstore_generate_files(prefix, pass, e);
	if (r == 0)
		printf("Key written to \"%s.private\" and \"%s.pub\"\n", prefix, prefix);
	return r;
}
