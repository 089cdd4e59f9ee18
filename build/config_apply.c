/* Metadata instructions applied to an image config, with Docker's rules.
 * Used by `import --change` and (later) `commit --change` and the build
 * engine. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "build/build.h"

static json_t *exec_config(json_t *image_config)
{
	json_t *c = json_object_get(image_config, "config");
	if (!json_is_object(c)) {
		c = json_object();
		json_object_set_new(image_config, "config", c);
	}
	return c;
}

static json_t *object_field(json_t *c, const char *key)
{
	json_t *o = json_object_get(c, key);
	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(c, key, o);
	}
	return o;
}

/* Exec form as is; shell form wrapped in the shell (default /bin/sh -c). */
static json_t *command_json(const struct plan_step *st, char *const *shell)
{
	static char *const dflt[] = { "/bin/sh", "-c", NULL };
	json_t *a = json_array();
	if (st->json) {
		for (size_t i = 0; i < st->argc; i++)
			json_array_append_new(a, json_string(st->argv[i]));
		return a;
	}
	for (char *const *s = shell ? shell : dflt; *s; s++)
		json_array_append_new(a, json_string(*s));
	json_array_append_new(a, json_string(st->argc ? st->argv[0] : ""));
	return a;
}

static void env_set(json_t *c, const char *key, const char *value)
{
	json_t *env = json_object_get(c, "Env");
	size_t klen = strlen(key), i;
	json_t *it;
	_cleanup_free_ char *kv = xasprintf("%s=%s", key, value ? value : "");

	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(c, "Env", env);
	}
	json_array_foreach(env, i, it) {
		const char *s = json_string_value(it);
		if (s && strncmp(s, key, klen) == 0 && s[klen] == '=') {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
}

/* "80", "80/udp", "8000-8002/tcp" → ExposedPorts keys. */
static int expose(json_t *c, const char *spec, struct kerror *e)
{
	json_t *ports = object_field(c, "ExposedPorts");
	const char *slash = strchr(spec, '/');
	_cleanup_free_ char *range = slash ? xstrndup(spec, (size_t)(slash - spec)) : xstrdup(spec);
	const char *proto = slash ? slash + 1 : "tcp";
	char *end;
	long lo, hi;

	if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp"))
		return kerror_set(e, EINVAL, "invalid proto: %s", proto);
	lo = strtol(range, &end, 10);
	hi = lo;
	if (*end == '-')
		hi = strtol(end + 1, &end, 10);
	if (*end || end == range || lo < 0 || hi > 65535 || hi < lo)
		return kerror_set(e, EINVAL, "invalid containerPort: %s", range);
	if (hi - lo > 65535)
		return kerror_set(e, EINVAL, "invalid port range: %s", range);
	for (long p = lo; p <= hi; p++) {
		char key[32];
		snprintf(key, sizeof(key), "%ld/%s", p, proto);
		json_object_set_new(ports, key, json_object());
	}
	return 0;
}

static json_t *strv_json(char **v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

int build_apply_config_step(json_t *image_config, const struct plan_step *st,
			    char *const *shell, bool *cmd_set, struct kerror *e)
{
	json_t *c = exec_config(image_config);
	int r;

	switch (st->kind) {
	case CF_CMD:
		json_object_set_new(c, "Cmd", command_json(st, shell));
		if (cmd_set)
			*cmd_set = true;
		return 0;
	case CF_ENTRYPOINT:
		json_object_set_new(c, "Entrypoint", command_json(st, shell));
		/* Docker: a new ENTRYPOINT resets a CMD not set in this build. */
		if (!cmd_set || !*cmd_set)
			json_object_set_new(c, "Cmd", json_null());
		return 0;
	case CF_ENV:
		for (size_t i = 0; i < st->nkvs; i++)
			env_set(c, st->kvs[i].key, st->kvs[i].value);
		return 0;
	case CF_LABEL: {
		json_t *labels = object_field(c, "Labels");
		for (size_t i = 0; i < st->nkvs; i++)
			json_object_set_new(labels, st->kvs[i].key,
					    json_string(st->kvs[i].value ? st->kvs[i].value : ""));
		return 0;
	}
	case CF_EXPOSE:
		for (size_t i = 0; i < st->argc; i++) {
			r = expose(c, st->argv[i], e);
			if (r < 0)
				return r;
		}
		return 0;
	case CF_VOLUME: {
		json_t *vols = object_field(c, "Volumes");
		for (size_t i = 0; i < st->argc; i++) {
			if (!*st->argv[i])
				return kerror_set(e, EINVAL, "VOLUME specified can not be an empty string");
			json_object_set_new(vols, st->argv[i], json_object());
		}
		return 0;
	}
	case CF_USER:
		json_object_set_new(c, "User", json_string(st->argc ? st->argv[0] : ""));
		return 0;
	case CF_WORKDIR: {
		const char *dir = st->argc ? st->argv[0] : "";
		const char *prev = json_str(c, "WorkingDir");
		_cleanup_free_ char *wd = NULL;
		if (dir[0] == '/')
			wd = xstrdup(dir);
		else
			wd = xasprintf("%s/%s", prev && *prev ? prev : "", dir);
		json_object_set_new(c, "WorkingDir", json_string(wd));
		return 0;
	}
	case CF_STOPSIGNAL:
		json_object_set_new(c, "StopSignal", json_string(st->argc ? st->argv[0] : ""));
		return 0;
	case CF_SHELL:
		json_object_set_new(c, "Shell", strv_json(st->argv, st->argc));
		return 0;
	case CF_ONBUILD: {
		json_t *ob = json_object_get(c, "OnBuild");
		if (!json_is_array(ob)) {
			ob = json_array();
			json_object_set_new(c, "OnBuild", ob);
		}
		json_array_append_new(ob, json_string(st->trigger ? st->trigger : ""));
		return 0;
	}
	case CF_MAINTAINER:
		json_object_set_new(image_config, "author", json_string(st->argc ? st->argv[0] : ""));
		return 0;
	case CF_HEALTHCHECK: {
		const struct plan_healthcheck *h = st->healthcheck;
		json_t *hc = json_object();
		size_t n = 0;
		while (h && h->test && h->test[n])
			n++;
		json_object_set_new(hc, "Test", strv_json(h ? h->test : NULL, n));
		if (h && h->interval)
			json_object_set_new(hc, "Interval", json_integer(h->interval));
		if (h && h->timeout)
			json_object_set_new(hc, "Timeout", json_integer(h->timeout));
		if (h && h->start_period)
			json_object_set_new(hc, "StartPeriod", json_integer(h->start_period));
		if (h && h->start_interval)
			json_object_set_new(hc, "StartInterval", json_integer(h->start_interval));
		if (h && h->retries)
			json_object_set_new(hc, "Retries", json_integer(h->retries));
		json_object_set_new(c, "Healthcheck", hc);
		return 0;
	}
	default:
		return -ENOTSUP;
	}
}

int build_apply_changes(json_t *image_config, char *const *changes, const unsigned allowed,
			struct kerror *e)
{
	struct buf text = { 0 };
	_cleanup_containerfile_ struct containerfile *cf = NULL;
	_cleanup_build_plan_ struct build_plan *plan = NULL;
	struct build_plan_opts o = { 0 };
	bool cmd_set = false;
	int r;

	if (!changes || !changes[0])
		return 0;
	buf_printf(&text, "FROM scratch\n");
	for (size_t i = 0; changes[i]; i++) {
		if (strchr(changes[i], '\n')) {
			buf_release(&text);
			return kerror_set(e, EINVAL, "change \"%s\": must be one line", changes[i]);
		}
		buf_printf(&text, "%s\n", changes[i]);
	}
	r = containerfile_parse(text.data, text.len, "--change", &cf, e);
	buf_release(&text);
	if (r < 0)
		return r;
	r = build_plan_make(cf, &o, &plan, e);
	if (r < 0)
		return r;
	const struct build_stage *st = &plan->stages[0];
	for (size_t i = 1; i < st->nsteps; i++) {
		const struct plan_step *step = &st->steps[i];
		json_t *shell = json_object_get(json_object_get(image_config, "config"), "Shell");
		_cleanup_strv_ char **sh = json_strv(shell);
		if (!(allowed & (1u << step->kind)))
			return kerror_set(e, EINVAL, "%s is not a valid change command",
					  changes[i - 1]);
		r = build_apply_config_step(image_config, step, sh && sh[0] ? sh : NULL, &cmd_set, e);
		if (r == -ENOTSUP)
			return kerror_set(e, EINVAL, "%s is not a valid change command", changes[i - 1]);
		if (r < 0)
			return kerror_wrap(e, "change \"%s\"", changes[i - 1]);
	}
	return 0;
}
