/* Pods: their rows (kiln pod).  A pod's containers name it in their plan;
 * its infra container holds the shared namespaces. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store_private.h"

#define POD_COLUMNS "id, name, created, infra_id, config"

void pod_info_free(struct pod_info *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->infra_id);
	free(p->config);
	free(p);
}

void cleanup_pod_infop(struct pod_info **p)
{
	pod_info_free(*p);
}

void pod_list_free(struct pod_info **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pod_info_free(list[i]);
	free(list);
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

static struct pod_info *row_to_pod(sqlite3_stmt *st)
{
	struct pod_info *p = xcalloc(1, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "%s", col(st, 0));
	p->name = xstrdup(col(st, 1));
	p->created = sqlite3_column_int64(st, 2);
	p->infra_id = xstrdup(col(st, 3));
	p->config = xstrdup(col(st, 4));
	return p;
}

int store_pod_create(struct store *s, const struct pod_info *p, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "INSERT INTO pods (" POD_COLUMNS ") VALUES (?, ?, ?, ?, ?)", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, p->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, p->created);
	sqlite3_bind_text(st, 4, p->infra_id ? p->infra_id : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, p->config ? p->config : "{}", -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE ||
		    sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
			return kerror_set(e, EEXIST, "adding pod to state: name \"%s\" is in use: "
						     "pod already exists",
					  p->name);
		return db_error(s, "adding the pod", e);
	}
	store_event(s, "pod", "create", p->id, "name", p->name, NULL);
	return 0;
}

static void *row_to_pod_v(sqlite3_stmt *st)
{
	return row_to_pod(st);
}

static int pod_query(struct store *s, const char *sql, const char *arg, struct pod_info **out,
		     int *count, struct kerror *e)
{
	void *row = NULL;
	int r = db_get_first(s, sql, arg, row_to_pod_v, &row, count, e);
	if (*count >= 1)
		*out = row;
	return r;
}

int store_pod_get(struct store *s, const char *what, struct pod_info **out, struct kerror *e)
{
	struct pod_info *p = NULL;
	int n, r = pod_query(s, "SELECT " POD_COLUMNS " FROM pods WHERE id = ?1 OR name = ?1", what,
			     &p, &n, e);
	if (r < 0)
		return r;
	if (n == 0 && db_is_hex_prefix(what)) {
		_cleanup_free_ char *pat = xasprintf("%s*", what);
		r = pod_query(s, "SELECT " POD_COLUMNS " FROM pods WHERE id GLOB ?1", pat, &p, &n, e);
		if (r < 0)
			return r;
		if (n > 1) {
			pod_info_free(p);
			return kerror_set(e, EINVAL, "more than one result for pod \"%s\"", what);
		}
	}
	if (n == 0)
		return kerror_set(e, ENOENT, "no pod with name or ID %s found: no such pod", what);
	*out = p;
	return 0;
}

int store_pod_list(struct store *s, struct pod_info ***out, size_t *n, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct pod_info **list = NULL;
	size_t count = 0;
	int r = db_prepare(s, "SELECT " POD_COLUMNS " FROM pods ORDER BY created DESC, id", &st, e);
	if (r < 0)
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (count % 16 == 0)
			list = xrealloc(list, (count + 16) * sizeof(*list));
		list[count++] = row_to_pod(st);
	}
	*out = list;
	*n = count;
	return 0;
}

int store_pod_remove(struct store *s, const char *id, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "DELETE FROM pods WHERE id = ?", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	struct pod_info *p = NULL;
	if (store_pod_get(s, id, &p, NULL) < 0)
		p = NULL;
	if (sqlite3_step(st) != SQLITE_DONE) {
		pod_info_free(p);
		return db_error(s, "removing the pod", e);
	}
	store_event(s, "pod", "remove", id, "name", p ? p->name : "", NULL);
	pod_info_free(p);
	return 0;
}
