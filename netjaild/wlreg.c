/*
 * wlreg.c - the workload listener registrations (wlreg.h).  Plain data,
 * no kernel: control.c applies the messages, the ruleset reads the table.
 *
 * The table is bounded by the config: a registration must name a
 * configured workload, and there is one per workload, kind and family,
 * so at most nworkloads * 4 kinds * 2 families entries exist.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "wlreg.h"

static bool
configured(const struct eg_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nworkloads; i++)
		if (strcmp(cfg->workloads[i].name, name) == 0)
			return true;
	return false;
}

/* DNS over UDP is the only UDP listener; the others share TCP ports. */
static bool
same_proto(uint8_t a, uint8_t b)
{
	return (a == EG_WLL_DNS_UDP) == (b == EG_WLL_DNS_UDP);
}

static void
remove_at(struct nj_wlregs *r, size_t i)
{
	r->v[i] = r->v[--r->n];
}

int
nj_wlreg_apply(struct nj_wlregs *r, const struct eg_config *cfg,
    enum eg_role role, const void *owner, const struct eg_msg_wl_listen *m,
    const char *name, char *err, size_t errlen)
{
	struct nj_wlreg *e = NULL, *v;
	size_t i;

	if (!eg_ipc_wl_kind_allowed(role, m->kind)) {
		snprintf(err, errlen, "%s does not serve %s listeners",
		    eg_role_name(role), eg_wl_listener_name(m->kind));
		return -EPERM;
	}
	if (!configured(cfg, name)) {
		snprintf(err, errlen, "no workload %s in the config", name);
		return -ENOENT;
	}
	for (i = 0; i < r->n; i++) {
		v = &r->v[i];
		if (strcmp(v->name, name) == 0 && v->kind == m->kind &&
		    v->family == m->family) {
			e = v;
			continue;
		}
		if (m->op == EG_WL_REGISTER && v->family == m->family &&
		    v->port == m->port && same_proto(v->kind, m->kind)) {
			snprintf(err, errlen, "port %u is workload %s's %s "
			    "listener", m->port, v->name,
			    eg_wl_listener_name(v->kind));
			return -EADDRINUSE;
		}
	}
	if (m->op == EG_WL_UNREGISTER) {
		if (e == NULL)
			return 0;
		remove_at(r, (size_t)(e - r->v));
		return 1;
	}
	if (e != NULL) {
		if (e->port == m->port && e->owner == owner)
			return 0;
		e->port = m->port;
		e->owner = owner;
		return 1;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;

		if ((v = reallocarray(r->v, cap, sizeof(*v))) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		r->v = v;
		r->cap = cap;
	}
	e = &r->v[r->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->kind = m->kind;
	e->family = m->family;
	e->port = m->port;
	e->owner = owner;
	return 1;
}

size_t
nj_wlreg_drop_owner(struct nj_wlregs *r, const void *owner)
{
	size_t i = 0, n = 0;

	while (i < r->n) {
		if (r->v[i].owner == owner) {
			remove_at(r, i);
			n++;
		} else
			i++;
	}
	return n;
}

size_t
nj_wlreg_prune(struct nj_wlregs *r, const struct eg_config *cfg)
{
	size_t i = 0, n = 0;

	while (i < r->n) {
		if (!configured(cfg, r->v[i].name)) {
			remove_at(r, i);
			n++;
		} else
			i++;
	}
	return n;
}

const struct nj_wlreg *
nj_wlreg_find(const struct nj_wlregs *r, const char *name, uint8_t kind,
    uint8_t family)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i].name, name) == 0 && r->v[i].kind == kind &&
		    r->v[i].family == family)
			return &r->v[i];
	return NULL;
}

void
nj_wlreg_free(struct nj_wlregs *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}
