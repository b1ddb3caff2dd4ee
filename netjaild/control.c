/*
 * control.c - netjaild's control socket: one dispatcher per peer.  The
 * peer's role comes from its credentials and the types it may send were
 * checked against ipc_roles.c's table before anything here runs; each
 * dispatcher answers only what its peer may ask.
 *
 *   dohd      SET_UPDATE (learned direct endpoints), WL_LISTEN (dns kinds)
 *   connectd  SET_UPDATE (learned hop addresses), WL_LISTEN (tcp kinds),
 *             STATUS
 *   admin     STATUS, RELOAD
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "admit.h"
#include "ipc.h"
#include "log.h"
#include "netjaild.h"
#include "sets.h"
#include "wlreg.h"

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

/*
 * A daemon registers (or unregisters) a workload's listener: wlreg.c
 * decides, the peer gets the bare result, the reason goes to the log.
 */
static void
handle_wl_listen(struct nj_state *st, struct eg_ctl_conn *c,
    enum eg_role role, const struct eg_ipc_msg *msg)
{
	const struct eg_msg_wl_listen *w;
	char name[EG_IPC_WL_NAME_MAX + 1], err[256];
	int rc;

	if ((w = eg_ipc_wl_listen(msg, name)) == NULL) {
		reply_result(c, EG_MSG_WL_ACK, msg->hdr.id, EBADMSG, NULL);
		return;
	}
	rc = nj_wlreg_apply(&st->wlregs, st->cfg, role, c, w, name, err,
	    sizeof(err));
	if (rc < 0) {
		eg_log_rl(&refused_rl, EG_LOG_WARN, "wl_listen_refused",
		    "role=%s uid=%u workload=%s kind=%s family=ipv%d port=%u "
		    "reason=\"%s\"", eg_role_name(role),
		    (unsigned)eg_ctl_peer_uid(c), name,
		    eg_wl_listener_name(w->kind),
		    w->family == AF_INET ? 4 : 6, w->port, err);
		reply_result(c, EG_MSG_WL_ACK, msg->hdr.id, -rc, NULL);
		return;
	}
	if (rc > 0) {
		eg_log(EG_LOG_INFO, w->op == EG_WL_REGISTER ?
		    "wl_listen_registered" : "wl_listen_unregistered",
		    "role=%s workload=%s kind=%s family=ipv%d port=%u",
		    eg_role_name(role), name, eg_wl_listener_name(w->kind),
		    w->family == AF_INET ? 4 : 6, w->port);
	}
	/* in the kernel before the daemon hears "yes" (steer.c) */
	nj_wl_steer_later(st, c, msg->hdr.id, rc > 0);
}

void
nj_wl_ack(struct eg_ctl_conn *c, uint32_t id, int code)
{
	reply_result(c, EG_MSG_WL_ACK, id, code, NULL);
}

/* A daemon's control connection is gone: so are its listeners. */
void
netjaild_ctl_dropped(struct eg_ctl_conn *c, enum eg_role role, void *arg)
{
	struct nj_state *st = arg;
	size_t n;

	nj_wl_steer_forget(st, c);
	if ((n = nj_wlreg_drop_owner(&st->wlregs, c)) == 0)
		return;
	eg_log(EG_LOG_WARN, "wl_listen_dropped", "role=%s registrations=%zu "
	    "reason=\"control connection closed\"", eg_role_name(role), n);
	nj_wl_steer_later(st, NULL, 0, true);
}

static void
reply_status(struct nj_state *st, struct eg_ctl_conn *c, uint32_t id)
{
	/* a line per workload: as much as one message holds */
	static char text[EG_IPC_MAX_PAYLOAD - sizeof(struct eg_msg_status)];
	struct eg_msg_status s;
	size_t n;

	n = nj_status_text(st, text, sizeof(text));
	memset(&s, 0, sizeof(s));
	s.ready = st->ready;
	s.generation = st->generation;
	s.textlen = (uint32_t)n;
	eg_ctl_reply2(c, EG_MSG_STATUS_REP, id, &s, sizeof(s), text, n);
}

/* What a peer may send (ipc_roles.c) but netjaild does not answer. */
static void
unexpected(struct eg_ctl_conn *c, enum eg_role role,
    const struct eg_ipc_msg *msg)
{
	struct eg_msg_error e = { EOPNOTSUPP };

	eg_log(EG_LOG_WARN, "unexpected_message", "type=%s role=%s",
	    eg_msg_name(msg->hdr.type), eg_role_name(role));
	eg_ctl_reply(c, EG_MSG_ERROR, msg->hdr.id, &e, sizeof(e));
}

static void
netjaild_dispatch_dohd(struct nj_state *st, struct eg_ctl_conn *c,
    const struct eg_ipc_msg *msg)
{
	switch (msg->hdr.type) {
	case EG_MSG_SET_UPDATE:
		handle_set_update(st, c, EG_ROLE_DOHD, msg);
		break;
	case EG_MSG_WL_LISTEN:
		handle_wl_listen(st, c, EG_ROLE_DOHD, msg);
		break;
	default:
		unexpected(c, EG_ROLE_DOHD, msg);
		break;
	}
}

static void
netjaild_dispatch_connectd(struct nj_state *st, struct eg_ctl_conn *c,
    const struct eg_ipc_msg *msg)
{
	switch (msg->hdr.type) {
	case EG_MSG_SET_UPDATE:
		handle_set_update(st, c, EG_ROLE_CONNECTD, msg);
		break;
	case EG_MSG_WL_LISTEN:
		handle_wl_listen(st, c, EG_ROLE_CONNECTD, msg);
		break;
	case EG_MSG_STATUS_REQ:
		reply_status(st, c, msg->hdr.id);
		break;
	default:
		unexpected(c, EG_ROLE_CONNECTD, msg);
		break;
	}
}

static void
netjaild_dispatch_admin(struct nj_state *st, struct eg_ctl_conn *c,
    const struct eg_ipc_msg *msg)
{
	char err[256];
	int rc;

	switch (msg->hdr.type) {
	case EG_MSG_STATUS_REQ:
		reply_status(st, c, msg->hdr.id);
		break;
	case EG_MSG_RELOAD_REQ:
		rc = nj_reload(st, err, sizeof(err));
		reply_result(c, EG_MSG_RELOAD_REP, msg->hdr.id,
		    rc < 0 ? -rc : 0, rc < 0 ? err : "reloaded");
		break;
	default:
		unexpected(c, EG_ROLE_ADMIN, msg);
		break;
	}
}

void
netjaild_dispatch(struct eg_ctl_conn *c, enum eg_role role,
    const struct eg_ipc_msg *msg, void *arg)
{
	struct nj_state *st = arg;

	switch (role) {
	case EG_ROLE_DOHD:
		netjaild_dispatch_dohd(st, c, msg);
		break;
	case EG_ROLE_CONNECTD:
		netjaild_dispatch_connectd(st, c, msg);
		break;
	case EG_ROLE_ADMIN:
		netjaild_dispatch_admin(st, c, msg);
		break;
	default:
		unexpected(c, role, msg);
		break;
	}
}
