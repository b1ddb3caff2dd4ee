/*
 * control.c - dohd's control socket: one dispatcher per peer.  Peers are
 * classified by libegress (SO_PEERCRED) and the types they may send were
 * checked against ipc_roles.c's table; this file only answers.
 *
 *   connectd  STATUS, RESOLVE_REQ
 *   admin     STATUS, RELOAD, EXPLAIN
 *
 * RESOLVE_REQ (connectd): hop and canary names are infrastructure and are
 * resolved even when no allow rule names them; any other name is resolved
 * only as the allowlist would answer a client, except in ask mode, where
 * connectd asks only after it allowed the name.  Either way over DoH.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "policy.h"

#include "cache.h"
#include "control.h"
#include "own.h"
#include "upstream.h"
#include "wl.h"

#define DCTL_TEXT_MAX (EG_IPC_MAX_PAYLOAD - 64)

/* One reply is built at a time (one loop, one thread); too big for the
 * stack of a callback. */
static char rbuf[DCTL_TEXT_MAX];

/* A configured hop or canary host: connectd's infrastructure. */
static bool
is_infra_name(const struct eg_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->chain.nhops; i++)
		if (!cfg->chain.hops[i].host_is_ip &&
		    strcasecmp(cfg->chain.hops[i].host, name) == 0)
			return true;
	return cfg->chain.has_canary && cfg->chain.canary.is_name &&
	    strcasecmp(cfg->chain.canary.name, name) == 0;
}

struct resolve_ctx {
	struct eg_ctl_conn *c;
	uint32_t id;
};

static void
resolve_done(void *arg, const struct dquery_src *src, const uint8_t *wire,
    size_t len)
{
	struct resolve_ctx *r = arg;
	struct {
		struct eg_msg_resolve_rep h;
		struct eg_ip ips[EG_RESOLVE_MAX_ADDRS];
	} rep;
	struct dns_walk w;
	int n = 0;
	uint32_t maxttl;

	memset(&rep, 0, sizeof(rep));
	if (wire == NULL || dns_walk(wire, len, &w) < 0) {
		rep.h.rcode = -EHOSTUNREACH;
	} else {
		rep.h.rcode = DNS_RCODE(w.flags);
		n = dns_answer_addrs(wire, len, rep.ips, EG_RESOLVE_MAX_ADDRS,
		    &maxttl);
		if (n < 0)
			n = 0;
		rep.h.ttl = w.min_ttl == UINT32_MAX ? 0 : w.min_ttl;
	}
	rep.h.count = (uint16_t)n;
	if (!eg_ctl_conn_closed(r->c))
		eg_ctl_reply2(r->c, EG_MSG_RESOLVE_REP, r->id, &rep.h,
		    sizeof(rep.h), rep.ips, (size_t)n * sizeof(rep.ips[0]));
	eg_ctl_conn_unref(r->c);
	free(r);
}

static void
explain(struct dohd_app *a, const char *host, char *text, size_t len)
{
	static const uint16_t types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_HTTPS,
	    DNS_T_TXT };
	size_t off = 0;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct eg_decision dec;
		char where[128], tb[16];
		int n;

		dec = eg_policy_check_dns(eg_wlpol_get(a->core.wlpol, 0),
		    host, types[i]);
		if (dec.rule != NULL)
			eg_rule_where(dec.rule, where, sizeof(where));
		else
			snprintf(where, sizeof(where), "-");
		n = snprintf(text + off, len - off,
		    "dns name=%s qtype=%s decision=%s reason=%s rule=%s%s%s\n",
		    host, dns_type_str(types[i], tb, sizeof(tb)),
		    dec.verdict == EG_ALLOW ? (dec.reported ? "report" :
		    "allow") : "deny", eg_reason_str(dec.reason), where,
		    dec.direct ? " direct=yes" : "",
		    is_infra_name(a->cfg, host) ? " infra=yes" : "");
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

static void
reply_error(struct eg_ctl_conn *c, uint32_t id)
{
	struct eg_msg_error e = { EINVAL };

	eg_ctl_reply(c, EG_MSG_ERROR, id, &e, sizeof(e));
}

static void
reply_status(struct dohd_app *a, struct eg_ctl_conn *c, uint32_t id)
{
	struct eg_msg_status st;
	size_t n;

	n = dcore_stats_text(&a->core, rbuf, sizeof(rbuf));
	if (a->ups != NULL)
		n += dupstream_stats_text(a->ups, rbuf + n,
		    sizeof(rbuf) - n);
	n += dwlstat_text(&a->core, rbuf + n, sizeof(rbuf) - n);
	n += dwl_status_text(a, rbuf + n, sizeof(rbuf) - n);
	memset(&st, 0, sizeof(st));
	st.ready = a->ready;
	st.generation = a->generation;
	st.textlen = (uint32_t)n;
	eg_ctl_reply2(c, EG_MSG_STATUS_REP, id, &st, sizeof(st), rbuf, n);
}

/* Over DoH, answered when the upstream is; hop and canary names even
 * when no allow rule names them. */
static void
resolve(struct dohd_app *a, struct eg_ctl_conn *c, const struct eg_ipc_msg *m)
{
	const struct eg_msg_resolve_req *rq;
	struct resolve_ctx *r;
	char name[EG_NAME_MAX + 1], norm[EG_NAME_MAX + 1], e[EG_ERR_MAX];
	char wl[EG_IPC_WL_NAME_MAX + 1];
	long i;
	bool ask;

	if ((rq = eg_ipc_resolve_req_wl(m, name, wl)) == NULL ||
	    (rq->qtype != DNS_T_A && rq->qtype != DNS_T_AAAA) ||
	    !eg_name_normalise(name, norm, e) ||
	    (r = malloc(sizeof(*r))) == NULL) {
		reply_error(c, m->hdr.id);
		return;
	}
	r->c = c;
	r->id = m->hdr.id;
	eg_ctl_conn_ref(c);
	/* In ask mode connectd resolves a target only after it allowed it,
	 * by a rule or by the decider (connectd/ask.c): the decision is
	 * connectd's, and only connectd's user can send this.  The mode is
	 * the workload's the lookup is for (wl, "" for [policy]). */
	i = eg_wlpol_find(a->core.wlpol, wl[0] != '\0' ? wl : EG_WL_DEFAULT);
	ask = i >= 0 && eg_policy_mode(eg_wlpol_get(a->core.wlpol,
	    (size_t)i)) == EG_MODE_ASK;
	dquery_resolve(&a->core, norm, rq->qtype, is_infra_name(a->cfg, norm) ||
	    ask, wl, resolve_done, r);
}

static void
dohd_dispatch_connectd(struct dohd_app *a, struct eg_ctl_conn *c,
    const struct eg_ipc_msg *m)
{
	switch (m->hdr.type) {
	case EG_MSG_STATUS_REQ:
		reply_status(a, c, m->hdr.id);
		break;
	case EG_MSG_RESOLVE_REQ:
		resolve(a, c, m);
		break;
	default:
		reply_error(c, m->hdr.id);
		break;
	}
}

static void
dohd_dispatch_admin(struct dohd_app *a, struct eg_ctl_conn *c,
    const struct eg_ipc_msg *m)
{
	char name[EG_NAME_MAX + 1];
	struct eg_msg_result res;

	switch (m->hdr.type) {
	case EG_MSG_STATUS_REQ:
		reply_status(a, c, m->hdr.id);
		break;
	case EG_MSG_RELOAD_REQ:
		res.code = dohd_reload(a, rbuf, sizeof(rbuf)) == 0 ? 0 : EINVAL;
		res.textlen = (uint32_t)strlen(rbuf);
		eg_ctl_reply2(c, EG_MSG_RELOAD_REP, m->hdr.id, &res,
		    sizeof(res), rbuf, res.textlen);
		break;
	case EG_MSG_EXPLAIN_REQ:
		if (eg_ipc_explain_req(m, name) == NULL) {
			reply_error(c, m->hdr.id);
			break;
		}
		explain(a, name, rbuf, sizeof(rbuf));
		res.code = 0;
		res.textlen = (uint32_t)strlen(rbuf);
		eg_ctl_reply2(c, EG_MSG_EXPLAIN_REP, m->hdr.id, &res,
		    sizeof(res), rbuf, res.textlen);
		break;
	default:
		reply_error(c, m->hdr.id);
		break;
	}
}

static void
dohd_dispatch(struct eg_ctl_conn *c, enum eg_role role,
    const struct eg_ipc_msg *m, void *arg)
{
	struct dohd_app *a = arg;

	switch (role) {
	case EG_ROLE_CONNECTD:
		dohd_dispatch_connectd(a, c, m);
		break;
	case EG_ROLE_ADMIN:
		dohd_dispatch_admin(a, c, m);
		break;
	default:
		reply_error(c, m->hdr.id);
		break;
	}
}

int
dohd_control_start(struct dohd_app *a, char *err, size_t errlen)
{
	a->ctl = eg_ctl_server_open(a->loop, a->boot_cfg, EG_ROLE_DOHD,
	    dohd_dispatch, a, err, errlen);
	return a->ctl != NULL ? 0 : -1;
}
