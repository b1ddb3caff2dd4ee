/*
 * control.c - the control socket.  Peers are classified by libegress
 * (SO_PEERCRED) and the types they may send are checked there; this file
 * only answers.
 *
 * RESOLVE_REQ (connectd): hop and canary names are infrastructure and are
 * resolved even when no allow rule names them; any other name is resolved
 * only as the allowlist would answer a client.  Either way over DoH.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "notify.h"
#include "policy.h"

#include "cache.h"
#include "control.h"
#include "own.h"
#include "upstream.h"

#define DCTL_TEXT_MAX (EG_IPC_MAX_PAYLOAD - 64)

bool
dohd_is_infra_name(const struct eg_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->chain.nhops; i++)
		if (!cfg->chain.hops[i].host_is_ip &&
		    strcasecmp(cfg->chain.hops[i].host, name) == 0)
			return true;
	return cfg->chain.has_canary && cfg->chain.canary.is_name &&
	    strcasecmp(cfg->chain.canary.name, name) == 0;
}

int
dohd_reload(struct dohd_app *a, char *text, size_t len)
{
	struct eg_config_errors errs = { 0 };
	struct eg_config *cfg;
	struct eg_policy *pol;
	struct dlocal *local;
	char err[EG_ERR_MAX];

	eg_notify_reloading();
	cfg = eg_config_load(a->dm.config_path, EG_CONFIG_DOHD, &errs);
	if (cfg == NULL) {
		snprintf(text, len, "reload failed: %s",
		    errs.n > 0 ? errs.msgs[0] : "config");
		eg_config_errors_free(&errs);
		goto fail;
	}
	eg_config_errors_free(&errs);
	/* the host's addresses as they are now (the old set if unreadable) */
	(void)downaddrs_refresh(a);
	if ((pol = eg_policy_new(cfg, a->extra_deny, a->nextra, err)) == NULL) {
		snprintf(text, len, "reload failed: policy: %s", err);
		eg_config_free(cfg);
		goto fail;
	}
	local = NULL;
	if ((cfg->dohd.hosts_file != NULL || cfg->dohd.zone_file != NULL) &&
	    (local = dlocal_load(cfg->dohd.hosts_file, cfg->dohd.zone_file,
	    err, sizeof(err))) == NULL) {
		snprintf(text, len, "reload failed: local data: %s", err);
		eg_policy_free(pol);
		eg_config_free(cfg);
		goto fail;
	}
	/* Nothing cached under the old policy may be served under the new. */
	dcache_flush(a->core.cache);
	eg_policy_free(a->core.pol);
	dlocal_free(a->core.local);
	a->core.pol = pol;
	a->core.local = local;
	a->core.cfg = cfg;
	if (a->cfg != a->boot_cfg)
		eg_config_free(a->cfg);
	a->cfg = cfg;
	a->generation++;
	snprintf(text, len, "reloaded: %zu rules, %zu local records; "
	    "upstreams and listeners change on restart",
	    eg_policy_nrules(pol), dlocal_count(local));
	eg_log(EG_LOG_INFO, "reload", "result=ok generation=%u rules=%zu",
	    a->generation, eg_policy_nrules(pol));
	eg_notify_ready();
	return 0;
 fail:
	eg_log(EG_LOG_WARN, "reload", "result=failed msg=\"%s\"", text);
	eg_notify_ready();
	return -1;
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

		dec = eg_policy_check_dns(a->core.pol, host, types[i]);
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
		    dohd_is_infra_name(a->cfg, host) ? " infra=yes" : "");
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

static void
handler(struct eg_ctl_conn *c, enum eg_role role, const struct eg_ipc_msg *m,
    void *arg)
{
	struct dohd_app *a = arg;
	static char text[DCTL_TEXT_MAX];
	char name[EG_NAME_MAX + 1];
	struct eg_msg_result res;
	size_t n;

	switch (m->hdr.type) {
	case EG_MSG_STATUS_REQ: {
		struct eg_msg_status st;

		n = dcore_stats_text(&a->core, text, sizeof(text));
		if (a->ups != NULL)
			n += dupstream_stats_text(a->ups, text + n,
			    sizeof(text) - n);
		memset(&st, 0, sizeof(st));
		st.ready = a->ready;
		st.generation = a->generation;
		st.textlen = (uint32_t)n;
		eg_ctl_reply2(c, EG_MSG_STATUS_REP, m->hdr.id, &st,
		    sizeof(st), text, n);
		break;
	}
	case EG_MSG_RELOAD_REQ:
		res.code = dohd_reload(a, text, sizeof(text)) == 0 ? 0 : EINVAL;
		res.textlen = (uint32_t)strlen(text);
		eg_ctl_reply2(c, EG_MSG_RELOAD_REP, m->hdr.id, &res,
		    sizeof(res), text, res.textlen);
		break;
	case EG_MSG_EXPLAIN_REQ:
		if (eg_ipc_explain_req(m, name) == NULL)
			goto bad;
		explain(a, name, text, sizeof(text));
		res.code = 0;
		res.textlen = (uint32_t)strlen(text);
		eg_ctl_reply2(c, EG_MSG_EXPLAIN_REP, m->hdr.id, &res,
		    sizeof(res), text, res.textlen);
		break;
	case EG_MSG_RESOLVE_REQ: {
		const struct eg_msg_resolve_req *rq;
		struct resolve_ctx *r;
		char norm[EG_NAME_MAX + 1], e[EG_ERR_MAX];

		if ((rq = eg_ipc_resolve_req(m, name)) == NULL ||
		    (rq->qtype != DNS_T_A && rq->qtype != DNS_T_AAAA) ||
		    !eg_name_normalise(name, norm, e))
			goto bad;
		if ((r = malloc(sizeof(*r))) == NULL)
			goto bad;
		r->c = c;
		r->id = m->hdr.id;
		eg_ctl_conn_ref(c);
		dquery_resolve(&a->core, norm, rq->qtype,
		    dohd_is_infra_name(a->cfg, norm), resolve_done, r);
		break;
	}
	default:
		goto bad;
	}
	return;
 bad:
	{
		struct eg_msg_error e = { EINVAL };

		eg_ctl_reply(c, EG_MSG_ERROR, m->hdr.id, &e, sizeof(e));
	}
}

int
dctl_start(struct dohd_app *a, char *err, size_t errlen)
{
	a->ctl = eg_ctl_server_open(a->loop, a->boot_cfg, EG_ROLE_DOHD,
	    handler, a, err, errlen);
	return a->ctl != NULL ? 0 : -1;
}
