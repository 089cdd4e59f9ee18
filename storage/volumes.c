/* Named volumes: their rows and their directories. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/store_private.h"
#include "storage/volumes.h"

void volume_info_free(struct volume_info *v)
{
	if (!v)
		return;
	free(v->name);
	json_decref(v->labels);
	json_decref(v->options);
	free(v);
}

void volume_list_free(struct volume_info **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		volume_info_free(list[i]);
	free(list);
}

bool store_volume_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n < 1 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

char *store_volume_path(const struct store *s, const char *name)
{
	return xasprintf("%s/volumes/%s/_data", s->root, name);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static json_t *obj_or_empty(json_t *j)
{
	return json_is_object(j) ? json_incref(j) : json_object();
}

int store_volume_create(struct store *s, const char *name, json_t *labels, json_t *options,
			bool anonymous, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	_cleanup_json_ json_t *l = obj_or_empty(labels), *o = obj_or_empty(options);
	_cleanup_free_ char *lt = json_dump_compact(l), *ot = json_dump_compact(o);
	_cleanup_free_ char *path = store_volume_path(s, name);
	int r;
	if (!store_volume_name_valid(name))
		return kerror_set(e, EINVAL, "volume name \"%s\" includes invalid characters, "
					     "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed", name);
	r = db_prepare(s, "INSERT INTO volumes (name, created, labels, options, anonymous) "
			  "VALUES (?, ?, ?, ?, ?)", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ns());
	sqlite3_bind_text(st, 3, lt, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ot, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, anonymous);
	r = sqlite3_step(st);
	if (r == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (r != SQLITE_DONE)
		return db_error(s, "creating a volume", e);
	r = fs_mkdir_p(path, 0755, e);
	if (r < 0) {
		_cleanup_kerror_ struct kerror e2 = { 0 };
		store_volume_remove(s, name, &e2);
	} else {
		store_event(s, "volume", "create", name, "driver", "local", NULL);
	}
	return r;
}

static struct volume_info *row(sqlite3_stmt *st)
{
	struct volume_info *v = xcalloc(1, sizeof(*v));
	const char *t;
	v->name = xstrdup((const char *)sqlite3_column_text(st, 0));
	v->created = sqlite3_column_int64(st, 1);
	t = (const char *)sqlite3_column_text(st, 2);
	v->labels = t ? json_loads(t, 0, NULL) : NULL;
	t = (const char *)sqlite3_column_text(st, 3);
	v->options = t ? json_loads(t, 0, NULL) : NULL;
	if (!json_is_object(v->labels))
		json_decref(v->labels), v->labels = json_object();
	if (!json_is_object(v->options))
		json_decref(v->options), v->options = json_object();
	v->anonymous = sqlite3_column_int(st, 4) != 0;
	return v;
}

#define VOL_COLUMNS "name, created, labels, options, anonymous"

int store_volume_get(struct store *s, const char *name, struct volume_info **out,
		     struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "SELECT " VOL_COLUMNS " FROM volumes WHERE name = ?", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_DONE)
		return kerror_set(e, ENOENT, "no such volume %s", name);
	if (r != SQLITE_ROW)
		return db_error(s, "reading a volume", e);
	*out = row(st);
	return 0;
}

int store_volume_list(struct store *s, struct volume_info ***out, size_t *n, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct volume_info **list = NULL;
	size_t cnt = 0;
	int r = db_prepare(s, "SELECT " VOL_COLUMNS " FROM volumes ORDER BY name", &st, e);
	if (r < 0)
		return r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		list = xrealloc(list, (cnt + 1) * sizeof(*list));
		list[cnt++] = row(st);
	}
	if (r != SQLITE_DONE) {
		volume_list_free(list, cnt);
		return db_error(s, "listing volumes", e);
	}
	*out = list;
	*n = cnt;
	return 0;
}

int store_volume_remove(struct store *s, const char *name, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	_cleanup_free_ char *dir = NULL;
	int r;
	if (!store_volume_name_valid(name))
		return kerror_set(e, ENOENT, "no such volume %s", name);
	r = db_prepare(s, "DELETE FROM volumes WHERE name = ?", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, "removing a volume", e);
	if (sqlite3_changes(s->db) == 0)
		return kerror_set(e, ENOENT, "no such volume %s", name);
	dir = xasprintf("%s/volumes/%s", s->root, name);
	store_event(s, "volume", "destroy", name, "driver", "local", NULL);
	return fs_rm_rf(dir, e);
}
