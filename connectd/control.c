/*
 * control.c - connectd's control socket: admin's STATUS, RELOAD and
 * EXPLAIN, dohd's ASK_REQ (ask.c).  Peers are classified by libegress (SO_PEERCRED) and the
 * types they may send were checked against ipc_roles.c's table; no other
 * peer may send connectd anything.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cd.h"
#include "daemon.h"
#include "log.h"
#include "sbuf.h"

/* Replies carry printable ASCII and newlines only (ipc.c). */
static void
printable(char *text)
{
	for (; *text != '\0'; text++)
		if ((*text < 0x20 && *text != '\n') || *text >= 0x7f)
			*text = '?';
}

/* Logged, never answered: nothing reaches here that the table allows. */
static void
unexpected(const struct eg_ipc_msg *msg, enum eg_role role)
{
	eg_log(EG_LOG_WARN, "ctl", "unexpected=%s role=%s",
	    eg_msg_name(msg->hdr.type), eg_role_name(role));
}

/* The numbers, then one line per workload (its listeners' states). */
static void
status_reply(struct cd *cd, struct eg_ctl_conn *c,
    const struct eg_ipc_msg *msg)
{
	struct eg_msg_status st;
	struct sbuf b = SBUF_INIT;
	char why[256] = "", *text;
	size_t n;

	memset(&st, 0, sizeof(st));
	st.ready = cd_ready(cd, why, sizeof(why)) ? 1 : 0;
	st.generation = cd->gen->id;
	sb_printf(&b, "active=%llu\nhops=%zu\nchain_ever_ok=%d\nreason=%s\n",
	    (unsigned long long)cd->m.active, cd->nhopstat,
	    cd->chain_ever_ok, st.ready ? "-" : why);
	cd_wl_describe(cd, &b, CD_WLF_STATUS);
	if ((text = sb_take(&b, &n)) == NULL)
		return;
	/* one message: past its size, the last lines are cut */
	if (n > EG_IPC_MAX_PAYLOAD - sizeof(st))
		n = EG_IPC_MAX_PAYLOAD - sizeof(st);
	text[n] = '\0';
	printable(text);
	st.textlen = (uint32_t)n;
	eg_ctl_reply2(c, EG_MSG_STATUS_REP, msg->hdr.id, &st, sizeof(st),
	    text, n);
	free(text);
}

static void
connectd_dispatch_admin(struct cd *cd, struct eg_ctl_conn *c,
    const struct eg_ipc_msg *msg)
{
	struct eg_msg_result res;
	const struct eg_msg_explain_req *ex;
	struct cd_verdict v;
	char text[1024], host[EG_NAME_MAX + 1];
	char rwhy[EG_ERR_MAX + 64];
	int n;

	switch (msg->hdr.type) {
	case EG_MSG_STATUS_REQ:
		status_reply(cd, c, msg);
		break;
	case EG_MSG_RELOAD_REQ:
		if (cd_reload(cd, rwhy, sizeof(rwhy)) == 0) {
			n = snprintf(text, sizeof(text), "generation=%u\n",
			    cd->gen->id);
			res.code = 0;
		} else {
			/* egressctl must not report a failed reload as done */
			n = snprintf(text, sizeof(text), "reload failed: %s\n",
			    rwhy);
			res.code = EINVAL;
		}
		if (n < 0 || (size_t)n >= sizeof(text))
			n = (int)strlen(text);
		printable(text);
		res.textlen = (uint32_t)n;
		eg_ctl_reply2(c, EG_MSG_RELOAD_REP, msg->hdr.id, &res,
		    sizeof(res), text, (size_t)n);
		break;
	case EG_MSG_EXPLAIN_REQ:
		if ((ex = eg_ipc_explain_req(msg, host)) == NULL)
			break;
		cd_decide(cd->gen->pol, CD_MODE_EXPLICIT, host,
		    ex->port ? ex->port : 443, &v);
		n = snprintf(text, sizeof(text), "connectd: %s:%u %s "
		    "reason=%s rule=%s%s%s\n", host, ex->port ? ex->port : 443,
		    v.allow ? "allow" : "deny", v.reason ? v.reason : "-",
		    v.rule, v.direct ? " direct" : "",
		    v.reported ? " (report mode)" : "");
		res.code = 0;
		res.textlen = (uint32_t)n;
		eg_ctl_reply2(c, EG_MSG_EXPLAIN_REP, msg->hdr.id, &res,
		    sizeof(res), text, (size_t)n);
		break;
	default:
		unexpected(msg, EG_ROLE_ADMIN);
		break;
	}
}

static void
connectd_dispatch(struct eg_ctl_conn *c, enum eg_role role,
    const struct eg_ipc_msg *msg, void *arg)
{
	struct cd *cd = arg;

	if (role == EG_ROLE_ADMIN)
		connectd_dispatch_admin(cd, c, msg);
	else if (role == EG_ROLE_DOHD && msg->hdr.type == EG_MSG_ASK_REQ)
		cd_ask_dns(cd, c, msg);	/* mode = ask: ask.c */
	else
		unexpected(msg, role);
}

/* Not fatal: connectd serves without it, only egressctl cannot reach it. */
void
cd_control_start(struct cd *cd, const struct eg_config *cfg)
{
	char path[512], err[256];

	cd->ctl = eg_ctl_server_open(cd->loop, cfg, EG_ROLE_CONNECTD,
	    connectd_dispatch, cd, err, sizeof(err));
	if (cd->ctl == NULL) {
		eg_daemon_sock_path(cfg, "connectd", path, sizeof(path));
		eg_log(EG_LOG_WARN, "ctl", "path=%s error=\"%s\" note=\"no "
		    "control socket: egressctl cannot reach connectd\"", path,
		    err);
	}
}
