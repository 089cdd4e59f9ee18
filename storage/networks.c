/* Networks (kiln network, the default "kiln" bridge) and the addresses
 * containers hold on them (IPAM).  An attachment row exists while its
 * container's network is set up: the monitor adds it at start and removes
 * it at the exit, and a later command removes it when the monitor died. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store_private.h"

void network_info_free(struct network_info *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->id);
	free(n->driver);
	free(n->bridge);
	free(n->subnet);
	free(n->gateway);
	json_decref(n->labels);
	free(n);
}

void cleanup_network_infop(struct network_info **n)
{
	network_info_free(*n);
}

void network_list_free(struct network_info **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		network_info_free(l[i]);
	free(l);
}

void net_attach_release(struct net_attach *a)
{
	free(a->network);
	free(a->ifname);
	free(a->ctr_ifname);
	json_decref(a->aliases);
	json_decref(a->ports);
	memset(a, 0, sizeof(*a));
}

void net_attach_list_free(struct net_attach *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		net_attach_release(&l[i]);
	free(l);
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

static json_t *col_json(sqlite3_stmt *st, int i, bool array)
{
	json_t *j = json_loads(col(st, i), 0, NULL);
	if (array ? json_is_array(j) : json_is_object(j))
		return j;
	json_decref(j);
	return array ? json_array() : json_object();
}

/* Attachments change on every run: their commits skip the fsync, as the
 * containers rows do (a lost row is an address the next start reuses). */
#define sync_normal db_sync_normal

#define NET_COLUMNS "name, id, driver, bridge, subnet, gateway, internal, dns, labels, created"

static struct network_info *row_to_network(sqlite3_stmt *st)
{
	struct network_info *n = xcalloc(1, sizeof(*n));
	n->name = xstrdup(col(st, 0));
	n->id = xstrdup(col(st, 1));
	n->driver = xstrdup(col(st, 2));
	n->bridge = xstrdup(col(st, 3));
	n->subnet = xstrdup(col(st, 4));
	n->gateway = xstrdup(col(st, 5));
	n->internal = sqlite3_column_int(st, 6) != 0;
	n->dns = sqlite3_column_int(st, 7) != 0;
	n->labels = col_json(st, 8, false);
	n->created = sqlite3_column_int64(st, 9);
	return n;
}

int store_network_create(struct store *s, const struct network_info *n, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	_cleanup_free_ char *labels = n->labels ? json_dump_compact(n->labels) : xstrdup("{}");
	int r = db_prepare(s, "INSERT INTO networks (" NET_COLUMNS ") "
			      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, n->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, n->driver, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, n->bridge, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, n->subnet, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, n->gateway, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, n->internal);
	sqlite3_bind_int(st, 8, n->dns);
	sqlite3_bind_text(st, 9, labels, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, n->created);
	r = sqlite3_step(st);
	if (r == SQLITE_CONSTRAINT)
		return kerror_set(e, EEXIST, "network name %s already used: network already "
					     "exists", n->name);
	if (r != SQLITE_DONE)
		return db_error(s, "creating the network", e);
	store_event(s, "network", "create", n->id, "name", n->name, "type", n->driver, NULL);
	return 0;
}

int store_network_get(struct store *s, const char *what, struct network_info **out,
		      struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	size_t len = strlen(what);
	int r = db_prepare(s, "SELECT " NET_COLUMNS " FROM networks WHERE name = ?1 "
			      "UNION ALL SELECT " NET_COLUMNS " FROM networks "
			      "WHERE ?2 >= 3 AND substr(id, 1, ?2) = ?1 AND name != ?1 LIMIT 2",
			   &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, what, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)len);
	*out = NULL;
	if (sqlite3_step(st) != SQLITE_ROW)
		return kerror_set(e, ENOENT, "unable to find network with name or ID %s: "
					     "network not found", what);
	*out = row_to_network(st);
	/* A name matches exactly and comes first; two ID prefixes are
	 * ambiguous. */
	if (strcmp((*out)->name, what) != 0 && sqlite3_step(st) == SQLITE_ROW) {
		network_info_free(*out);
		*out = NULL;
		return kerror_set(e, EINVAL, "more than one result for network ID %s", what);
	}
	return 0;
}

int store_network_list(struct store *s, struct network_info ***out, size_t *n,
		       struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "SELECT " NET_COLUMNS " FROM networks ORDER BY name", &st, e);
	*out = NULL;
	*n = 0;
	if (r < 0)
		return r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = row_to_network(st);
	}
	if (r != SQLITE_DONE) {
		network_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return db_error(s, "listing networks", e);
	}
	return 0;
}

int store_network_remove(struct store *s, const char *name, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "DELETE FROM networks WHERE name = ?", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	struct network_info *n = NULL;
	if (store_network_get(s, name, &n, NULL) < 0)
		n = NULL;
	if (sqlite3_step(st) != SQLITE_DONE) {
		network_info_free(n);
		return db_error(s, "removing the network", e);
	}
	if (n)
		store_event(s, "network", "destroy", n->id, "name", n->name, "type", n->driver,
			    NULL);
	network_info_free(n);
	return 0;
}

/* The lowest address of [first, last] that no row of the network holds. */
static int lowest_free(struct store *s, const char *network, uint32_t first, uint32_t last,
		       uint32_t *out, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	uint32_t want = first;
	int r = db_prepare(s, "SELECT ip FROM net_attach WHERE network = ? AND ip >= ? "
			      "ORDER BY ip", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, first);
	while (sqlite3_step(st) == SQLITE_ROW) {
		uint32_t ip = (uint32_t)sqlite3_column_int64(st, 0);
		if (ip > want)
			break;
		if (ip == want)
			want++;
	}
	if (want > last || want < first)
		return kerror_set(e, ENOSPC, "IPAM error: failed to find free IP in network %s",
				  network);
	*out = want;
	return 0;
}

int store_net_attach(struct store *s, struct net_attach *a, uint32_t first, uint32_t last,
		     struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	_cleanup_free_ char *aliases = a->aliases ? json_dump_compact(a->aliases) : xstrdup("[]");
	_cleanup_free_ char *ports = a->ports ? json_dump_compact(a->ports) : xstrdup("[]");
	int r;

	sync_normal(s, true);
	r = db_begin(s, e);
	if (r < 0)
		goto out;
	r = lowest_free(s, a->network, first, last, &a->ip, e);
	if (r == 0)
		r = db_prepare(s, "INSERT INTO net_attach (container_id, network, ip, ifname, "
				  "ctr_ifname, aliases, ports) VALUES (?, ?, ?, ?, ?, ?, ?)",
			       &st, e);
	if (r == 0) {
		sqlite3_bind_text(st, 1, a->ctr_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, a->network, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, a->ip);
		sqlite3_bind_text(st, 4, a->ifname, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, a->ctr_ifname, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, aliases, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, ports, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = db_error(s, "recording the container's address", e);
	}
	if (r < 0)
		db_rollback(s);
	else
		r = db_commit(s, e);
out:
	sync_normal(s, false);
	return r;
}

int store_net_attach_set_ports(struct store *s, const char *ctr_id, const char *network,
			       const json_t *ports, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	_cleanup_free_ char *text = json_dump_compact(ports);
	int r = db_prepare(s, "UPDATE net_attach SET ports = ? WHERE container_id = ? "
			      "AND network = ?", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ctr_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, network, -1, SQLITE_STATIC);
	sync_normal(s, true);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(s, "recording the ports", e);
	sync_normal(s, false);
	return r;
}

int store_net_attach_list(struct store *s, const char *ctr_id, const char *network,
			  struct net_attach **out, size_t *n, struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "SELECT container_id, network, ip, ifname, ctr_ifname, aliases, "
			      "ports FROM net_attach WHERE (?1 IS NULL OR container_id = ?1) "
			      "AND (?2 IS NULL OR network = ?2) ORDER BY rowid", &st, e);
	*out = NULL;
	*n = 0;
	if (r < 0)
		return r;
	if (ctr_id)
		sqlite3_bind_text(st, 1, ctr_id, -1, SQLITE_STATIC);
	if (network)
		sqlite3_bind_text(st, 2, network, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct net_attach *a;
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		a = &(*out)[(*n)++];
		memset(a, 0, sizeof(*a));
		snprintf(a->ctr_id, sizeof(a->ctr_id), "%s", col(st, 0));
		a->network = xstrdup(col(st, 1));
		a->ip = (uint32_t)sqlite3_column_int64(st, 2);
		a->ifname = xstrdup(col(st, 3));
		a->ctr_ifname = xstrdup(col(st, 4));
		a->aliases = col_json(st, 5, true);
		a->ports = col_json(st, 6, true);
	}
	if (r != SQLITE_DONE) {
		net_attach_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return db_error(s, "listing the containers' addresses", e);
	}
	return 0;
}

int store_net_detach(struct store *s, const char *ctr_id, const char *network,
		     struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "DELETE FROM net_attach WHERE container_id = ?1 "
			      "AND (?2 IS NULL OR network = ?2)", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, ctr_id, -1, SQLITE_STATIC);
	if (network)
		sqlite3_bind_text(st, 2, network, -1, SQLITE_STATIC);
	sync_normal(s, true);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(s, "releasing the addresses", e);
	sync_normal(s, false);
	return r;
}

int store_container_set_plan(struct store *s, const char *id, const char *plan,
			     struct kerror *e)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(s, "UPDATE containers SET plan = ? WHERE id = ?", &st, e);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, plan, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s, "updating the container's configuration", e);
	return 0;
}
