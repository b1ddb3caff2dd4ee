/*
 * ctl.c - netjaild's side of the control socket: set updates from dohd and
 * connectd, status, reload; and the apply/reload sequence they share with
 * start-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "admit.h"
#include "ct.h"
#include "ipc.h"
#include "log.h"
#include "netjaild.h"
#include "ports.h"
#include "route.h"
#include "sets.h"

static void
learned_sync_meta(struct nj_state *st)
{
	int i;

	for (i = 0; i < NJ_SET__MAX; i++) {
		st->learned[i].name = st->rs->sets[i].name;
		st->learned[i].key = st->rs->sets[i].key;
		st->learned[i].timeout = st->rs->sets[i].timeout;
		st->learned[i].interval = st->rs->sets[i].interval;
	}
}

/* Drop expired entries and set each remaining timeout to what is left. */
static void
learned_age(struct nj_state *st)
{
	uint64_t now = eg_now_ms();
	size_t i, j, k;

	for (i = 0; i < NJ_SET__MAX; i++) {
		struct nj_set *s = &st->learned[i];

		for (j = k = 0; j < s->nelems; j++) {
			/* a second of slack: never re-add what is about to go */
			if (st->learned_until[i][j] <= now + 1000)
				continue;
			s->elems[k] = s->elems[j];
			s->elems[k].timeout_ms = st->learned_until[i][j] - now;
			st->learned_until[i][k] = st->learned_until[i][j];
			k++;
		}
		s->nelems = k;
	}
}

void
nj_learned_note(struct nj_state *st, int set, const struct nj_elem *e,
    bool add)
{
	struct nj_set *s = &st->learned[set];
	size_t j, alen = 16;
	uint64_t *u;

	for (j = 0; j < s->nelems; j++)
		if (s->elems[j].port == e->port &&
		    memcmp(s->elems[j].lo, e->lo, alen) == 0)
			break;
	if (!add) {
		if (j < s->nelems) {
			s->elems[j] = s->elems[s->nelems - 1];
			st->learned_until[set][j] =
			    st->learned_until[set][s->nelems - 1];
			s->nelems--;
		}
		return;
	}
	if (j == s->nelems) {
		if (rules_set_add(s, e) == -1)
			return;	/* only costs a refresh after a reload */
		u = reallocarray(st->learned_until[set], s->cap, sizeof(*u));
		if (u == NULL) {
			s->nelems--;
			return;
		}
		st->learned_until[set] = u;
	}
	s->elems[j] = *e;
	st->learned_until[set][j] = eg_now_ms() + e->timeout_ms;
}

int
nj_apply(struct nj_state *st, const struct eg_config *cfg, char *err,
    size_t errlen)
{
	struct nj_ruleset *rs;
	struct nj_readback rb;
	struct nj_route_report rep;
	int rc;

	if ((rs = rules_build(cfg, err, errlen)) == NULL)
		return -EINVAL;
	if (st->rs == NULL) {
		st->rs = rs;
		learned_sync_meta(st);
		st->rs = NULL;
	}
	learned_age(st);
	nj_admit_prune(st, cfg);
	if ((rc = install_table_with(&st->nl, rs, st->learned, err,
	    errlen)) < 0) {
		rules_free(rs);
		return rc;
	}
	if ((rc = install_readback(&st->nl, rs, &rb)) < 0 || !rb.whole) {
		snprintf(err, errlen, "read-back: %s", rc < 0 ?
		    strerror(-rc) : rb.why);
		install_readback_free(&rb);
		rules_free(rs);
		return rc < 0 ? rc : -EPROTO;
	}
	install_readback_free(&rb);
	if ((rc = route_install(cfg->jail.fwmark, cfg->jail.route_table, err,
	    errlen)) < 0) {
		rules_free(rs);
		return rc;
	}
	if ((rc = route_verify(cfg->jail.fwmark, cfg->jail.route_table, err,
	    errlen)) != 1) {
		rules_free(rs);
		return rc < 0 ? rc : -EPROTO;
	}
	/* a rule already in front of ours (wg-quick's, a lookup main) */
	if (route_check(cfg->jail.fwmark, cfg->jail.route_table, true, &rep,
	    err, errlen) < 0) {
		rules_free(rs);
		return -EIO;
	}
	if (rep.changes > 0)
		eg_log(EG_LOG_INFO, "routing_placed", "what=\"%s\"", rep.what);
	if (rep.displaced)
		eg_log(EG_LOG_ERR, "routing_displaced", "family=ipv%d pref=%u "
		    "table=%u effect=\"jailed users' TCP fails (closed) until "
		    "that rule goes\"", rep.dfamily == AF_INET ? 4 : 6,
		    rep.dpref, rep.dtable);
	st->route_displaced = rep.displaced;
	/* layer 2: no frame between two ports of a jailed bridge */
	if ((rc = ports_apply(cfg, PORTS_ISOLATE, NULL, err, errlen)) < 0) {
		rules_free(rs);
		return rc;
	}
	rules_free(st->rs);
	st->rs = rs;
	learned_sync_meta(st);
	st->generation++;
	return 0;
}

#define NJ_ROUTE_WINDOW_MS	60000
#define NJ_ROUTE_WINDOW_MAX	30

void
nj_routing_check(struct nj_state *st)
{
	struct nj_route_report rep;
	uint64_t now = eg_now_ms();
	bool repair;
	char err[256];

	if (now - st->route_window_ms > NJ_ROUTE_WINDOW_MS) {
		st->route_window_ms = now;
		st->route_window_n = 0;
	}
	/* the jail stays shut meanwhile: postrouting drops what misses */
	repair = st->route_window_n < NJ_ROUTE_WINDOW_MAX;
	if (route_check(st->cfg->jail.fwmark, st->cfg->jail.route_table,
	    repair, &rep, err, sizeof(err)) < 0) {
		eg_log(EG_LOG_ERR, "routing_check_failed", "error=\"%s\"", err);
		return;
	}
	if (!repair && (rep.missing || rep.displaced) &&
	    st->route_window_n++ == NJ_ROUTE_WINDOW_MAX)
		eg_log(EG_LOG_ERR, "routing_repair_paused", "repairs=%u "
		    "within_ms=%u reason=\"something keeps removing or "
		    "outranking the rule\"", NJ_ROUTE_WINDOW_MAX,
		    NJ_ROUTE_WINDOW_MS);
	if (rep.changes > 0) {
		st->route_window_n++;
		st->route_repairs += rep.changes;
		snprintf(st->route_last, sizeof(st->route_last), "%s",
		    rep.what);
		eg_log(EG_LOG_WARN, "routing_repaired", "what=\"%s\" "
		    "repairs=%u", rep.what, st->route_repairs);
	}
	if (rep.displaced && !st->route_displaced)
		eg_log(EG_LOG_ERR, "routing_displaced", "family=ipv%d pref=%u "
		    "table=%u effect=\"jailed users' TCP fails (closed) until "
		    "that rule goes\"", rep.dfamily == AF_INET ? 4 : 6,
		    rep.dpref, rep.dtable);
	else if (!rep.displaced && st->route_displaced)
		eg_log(EG_LOG_INFO, "routing_whole", "repairs=%u",
		    st->route_repairs);
	st->route_displaced = rep.displaced;
}

int
nj_reload(struct nj_state *st, char *err, size_t errlen)
{
	struct eg_config_errors errs = { 0 };
	struct eg_config *cfg;
	int rc;

	cfg = eg_config_load(st->config_path, 0, &errs);
	if (cfg == NULL) {
		snprintf(err, errlen, "%s", errs.n ? errs.msgs[0] :
		    "config does not load");
		eg_config_errors_free(&errs);
		return -EINVAL;
	}
	eg_config_errors_free(&errs);
	if (cfg->jail.fwmark != st->cfg->jail.fwmark ||
	    cfg->jail.route_table != st->cfg->jail.route_table) {
		/* the old rule would keep diverting: take it out first */
		char e2[256];

		route_remove(st->cfg->jail.fwmark, st->cfg->jail.route_table,
		    e2, sizeof(e2));
	}
	if ((rc = nj_apply(st, cfg, err, errlen)) < 0) {
		eg_config_free(cfg);
		return rc;
	}
	eg_config_free(st->cfg);
	st->cfg = cfg;
	/* links the new entries match are set up, others let go */
	links_resync(&st->links);
	nj_cut_stale_directs(st);
	return 0;
}

/*
 * Is dst:port still a direct endpoint: a configured address or CIDR, or a
 * port of a configured direct name (its learned addresses come and go
 * with their TTL, and a flow outlives them: RULESET.md)?
 */
static bool
direct_still(int family, const uint8_t *dst, uint16_t port, void *arg)
{
	const struct nj_state *st = arg;
	const struct eg_config *cfg = st->cfg;
	struct nj_elem e;
	size_t i;

	for (i = 0; i < cfg->jail.ndirect; i++)
		if (cfg->jail.direct[i].ep.is_name &&
		    cfg->jail.direct[i].ep.port == port)
			return true;
	rules_elem_addr(&e, family, dst, -1, port);
	return rules_set_covers(&st->rs->sets[family == AF_INET ?
	    NJ_SET_DIRECT4 : NJ_SET_DIRECT6], &e) != 0;
}

void
nj_cut_stale_directs(struct nj_state *st)
{
	char err[256];
	int n;

	n = ct_flush_direct(rules_direct_bit(st->cfg->jail.fwmark),
	    direct_still, st, err, sizeof(err));
	if (n < 0)
		eg_log(EG_LOG_WARN, "direct_flows_cut_failed", "error=\"%s\"",
		    err);
	else if (n > 0)
		eg_log(EG_LOG_INFO, "direct_flows_cut", "entries=%d "
		    "why=\"no longer a direct endpoint\"", n);
}

static void
keyify(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < len; i++)
		out[i] = (in[i] == ' ' || in[i] == '-') ? '_' : in[i];
	out[i] = '\0';
}

size_t
nj_status_text(struct nj_state *st, char *buf, size_t len)
{
	struct nj_readback rb;
	struct nj_route_report rep;
	char rerr[256], key[NJ_COMMENT_MAX], lwhy[256];
	struct ports_count pc;
	size_t off = 0, i;
	bool links_ok = false;
	int rc, rt, pr;

#define OUT(...) do { int n_ = snprintf(buf + off, len - off, __VA_ARGS__); \
	if (n_ > 0) off = off + (size_t)n_ < len ? off + (size_t)n_ : len - 1; } while (0)
	buf[0] = '\0';
	OUT("generation=%u\n", st->generation);
	rc = install_readback(&st->nl, st->rs, &rb);
	rt = route_verify(st->cfg->jail.fwmark, st->cfg->jail.route_table,
	    rerr, sizeof(rerr));
	memset(&rep, 0, sizeof(rep));
	if (rt == 1 && route_check(st->cfg->jail.fwmark,
	    st->cfg->jail.route_table, false, &rep, rerr, sizeof(rerr)) < 0)
		rt = -EIO;
	if (rt == 1 && rep.displaced) {
		rt = 0;
		snprintf(rerr, sizeof(rerr), "IPv%d rule fwmark 0x%x lookup %u "
		    "is behind pref %u (lookup %u)", rep.dfamily == AF_INET ?
		    4 : 6, st->cfg->jail.fwmark, st->cfg->jail.route_table,
		    rep.dpref, rep.dtable);
	}
	if (rc < 0)
		OUT("verdict=error\nreason=read-back failed: %s\n",
		    strerror(-rc));
	else if (!rb.whole)
		OUT("verdict=broken\nreason=%s\n", rb.why);
	else if (rt != 1)
		OUT("verdict=broken\nreason=%s\n", rerr);
	else if (!(links_ok = links_ready(&st->links, lwhy, sizeof(lwhy))))
		OUT("verdict=incomplete\nreason=%s\n", lwhy);
	else
		OUT("verdict=whole\n");
	off += links_status(&st->links, buf + off, len - off);
	if (rc == 0) {
		OUT("chains=%zu\nrules=%zu\nsets=%zu\n", rb.nchains,
		    rb.nrules, rb.nsets);
		for (i = 0; i < NJ_SET__MAX; i++)
			OUT("set_%s=%zu\n", nj_set_names[i], rb.set_elems[i]);
		for (i = 0; i < rb.ncounters; i++) {
			keyify(rb.counters[i].comment, key, sizeof(key));
			OUT("drop_%s_packets=%llu\ndrop_%s_bytes=%llu\n", key,
			    (unsigned long long)rb.counters[i].packets, key,
			    (unsigned long long)rb.counters[i].bytes);
		}
	}
	OUT("routes=%s\n", rt == 1 ? "ok" : "missing");
	/* whole, repaired (whole again, netjaild had to), displaced, missing */
	OUT("routing=%s\n", rep.displaced ? "displaced" : rt != 1 ?
	    "missing" : st->route_repairs ? "repaired" : "whole");
	OUT("routing_repairs=%u\n", st->route_repairs);
	if (st->route_repairs)
		OUT("routing_last_repair=%s\n", st->route_last);
	if (rep.displaced)
		OUT("routing_displaced_by=pref %u (IPv%d, lookup %u)\n",
		    rep.dpref, rep.dfamily == AF_INET ? 4 : 6, rep.dtable);
	/* layer 2: every port of a jailed bridge isolated (ports.c) */
	pr = ports_apply(st->cfg, PORTS_COUNT, &pc, rerr, sizeof(rerr));
	if (pr < 0)
		OUT("bridge_ports=error\nbridge_ports_reason=%s\n", rerr);
	else
		OUT("bridge_ports=%zu\nbridge_ports_isolated=%zu\n"
		    "bridge_ports_switched=%zu\n", pc.ports,
		    pc.isolated, pc.switched);
	install_readback_free(&rb);
	st->ready = rc == 0 && rb.whole && rt == 1 && links_ok && pr == 0 &&
	    pc.isolated == pc.ports;
#undef OUT
	return off;
}

static uint64_t
cap_for(const struct nj_state *st, enum eg_set which)
{
	if (which == EG_SET_HOPS)
		return NJ_HOPS_CAP_MS;
	/* dohd never serves a TTL above max_ttl; allow it a little slack */
	return (uint64_t)st->cfg->dohd.max_ttl * 1000 + NJ_DNS_GRACE_MS;
}

static void
reply_result(struct eg_ctl_conn *c, uint16_t type, uint32_t id, int code,
    const char *text)
{
	struct eg_msg_result r;
	size_t n = text ? strlen(text) : 0;

	/* a SET_ACK is the bare result (ipc.h); the reason goes to the log */
	if (type == EG_MSG_SET_ACK)
		n = 0;
	r.code = code;
	r.textlen = (uint32_t)n;
	eg_ctl_reply2(c, type, id, &r, sizeof(r), text, n);
}

/* A hostile peer can send refused updates at line rate: a sample. */
static struct eg_ratelimit refused_rl = EG_RATELIMIT_INIT(10000, 20);

static void
handle_set_update(struct nj_state *st, struct eg_ctl_conn *c,
    enum eg_role role, const struct eg_ipc_msg *msg)
{
	const struct eg_msg_set_update *u;
	const struct eg_set_elem *el;
	char err[256];
	size_t i;
	int rc;

	if ((u = eg_ipc_set_update(msg, &el)) == NULL) {
		reply_result(c, EG_MSG_SET_ACK, msg->hdr.id, EBADMSG,
		    "malformed set update");
		return;
	}
	if ((rc = nj_admit_update(st, role, u->set, u->op, el, u->count,
	    err, sizeof(err))) < 0) {
		eg_log_rl(&refused_rl, EG_LOG_WARN, "set_refused", "role=%s "
		    "uid=%u set=%u count=%u reason=\"%s\"", eg_role_name(role),
		    (unsigned)eg_ctl_peer_uid(c), u->set, u->count, err);
		reply_result(c, EG_MSG_SET_ACK, msg->hdr.id, -rc, err);
		return;
	}
	rc = sets_update(&st->nl, st->rs, u->set, u->op, el, u->count,
	    cap_for(st, u->set), err, sizeof(err));
	if (rc < 0) {
		eg_log(EG_LOG_WARN, "set_update_failed", "role=%s set=%u "
		    "error=\"%s\"", eg_role_name(role), u->set, err);
		reply_result(c, EG_MSG_SET_ACK, msg->hdr.id, -rc, err);
		return;
	}
	for (i = 0; i < u->count; i++) {
		struct nj_elem e;
		/* sets_update took them, so family and set are valid */
		int set = sets_target(u->set, el[i].family);

		if (set < 0)
			continue;
		rules_elem_addr(&e, el[i].family, el[i].addr, -1, el[i].port);
		e.timeout_ms = el[i].timeout_ms ? el[i].timeout_ms :
		    cap_for(st, u->set);
		/* the configured element is there for good already */
		if (rules_set_covers(&st->rs->sets[rules_set_configured(set)],
		    &e))
			continue;
		nj_learned_note(st, set, &e, u->op == EG_SET_ADD);
	}
	eg_log(EG_LOG_DEBUG, "set_update", "role=%s set=%u op=%u count=%u",
	    eg_role_name(role), u->set, u->op, u->count);
	reply_result(c, EG_MSG_SET_ACK, msg->hdr.id, 0, NULL);
}

void
nj_ctl_handler(struct eg_ctl_conn *c, enum eg_role role,
    const struct eg_ipc_msg *msg, void *arg)
{
	struct nj_state *st = arg;
	char text[4096], err[256];
	struct eg_msg_status s;
	size_t n;
	int rc;

	switch (msg->hdr.type) {
	case EG_MSG_SET_UPDATE:
		handle_set_update(st, c, role, msg);
		break;
	case EG_MSG_STATUS_REQ:
		n = nj_status_text(st, text, sizeof(text));
		memset(&s, 0, sizeof(s));
		s.ready = st->ready;
		s.generation = st->generation;
		s.textlen = (uint32_t)n;
		eg_ctl_reply2(c, EG_MSG_STATUS_REP, msg->hdr.id, &s, sizeof(s),
		    text, n);
		break;
	case EG_MSG_RELOAD_REQ:
		rc = nj_reload(st, err, sizeof(err));
		if (rc < 0)
			eg_log(EG_LOG_ERR, "reload_failed", "error=\"%s\" "
			    "kept=generation-%u", err, st->generation);
		else
			eg_log(EG_LOG_INFO, "reloaded", "generation=%u",
			    st->generation);
		reply_result(c, EG_MSG_RELOAD_REP, msg->hdr.id,
		    rc < 0 ? -rc : 0, rc < 0 ? err : "reloaded");
		break;
	default:
		eg_log(EG_LOG_WARN, "unexpected_message", "type=%s role=%s",
		    eg_msg_name(msg->hdr.type), eg_role_name(role));
		{
			struct eg_msg_error e = { EOPNOTSUPP };

			eg_ctl_reply(c, EG_MSG_ERROR, msg->hdr.id, &e,
			    sizeof(e));
		}
		break;
	}
}
