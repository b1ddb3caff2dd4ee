/*
 * wl.c - each [workload NAME]'s own listeners and their registration with
 * netjaild (docs/WORKLOADS.md: the listener a connection arrives on names
 * its workload, so a connection's policy is its listener's workload's).
 *
 * A workload gets a transparent and an explicit-proxy listener on
 * 127.0.0.1 and ::1, each on a port the kernel picks, and registers each
 * (EG_MSG_WL_LISTEN) over connectd's control connection to netjaild,
 * which steers the workload's jailed traffic there.  A registration lives
 * as long as that connection: after netjaild restarts, connectd registers
 * everything again (eg_ctl_client_on_connect).  A reload opens and
 * registers the listeners of new workloads, unregisters those of removed
 * ones and closes them once netjaild answered, and leaves the others and
 * their connections alone.
 *
 * The listeners must carry the listener mark (lmark.h): without it the
 * jail refuses the traffic, and with the mark settable by anyone a
 * squatter could take the port.  Setting SO_MARK and IP_TRANSPARENT takes
 * CAP_NET_ADMIN, which connectd holds only before the drop; keeping it
 * would let a compromised connectd rewrite the jail's own ruleset.  So
 * the start opens a pool of unbound sockets, marked (and transparent for
 * the transparent kind): one set for every workload of the first config
 * and CD_WL_SPARE more for workloads that reloads add.  Binding to a
 * loopback address with port 0 and listening need no privilege.  A
 * workload the pool cannot serve, or a socket the kernel would not mark,
 * is refused: nothing is opened or registered for it, so netjaild drops
 * its traffic; it is never served unmarked.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cd.h"
#include "daemon.h"
#include "lmark.h"
#include "log.h"
#include "sbuf.h"

#define WL_REQ_MS	5000	/* a registration's answer */
#define WL_RETRY_MS	5000	/* a refused registration, asked again */

static const uint8_t kinds[2] = { EG_WLL_TRANSPARENT, EG_WLL_PROXY };
static const int fams[2] = { AF_INET, AF_INET6 };

const char *
cd_wlreg_str(enum cd_wlreg r)
{
	switch (r) {
	case CD_WLR_NONE:	return "unregistered";
	case CD_WLR_SENT:	return "pending";
	case CD_WLR_OK:		return "registered";
	case CD_WLR_REFUSED:	return "refused";
	}
	return "?";
}

struct cd_wl *
cd_wl_ref(struct cd_wl *w)
{
	if (w != &w->cd->wl_default)
		w->refs++;
	return w;
}

void
cd_wl_unref(struct cd_wl *w)
{
	/* [policy]'s is part of struct cd, never freed */
	if (w == NULL || w == &w->cd->wl_default || --w->refs > 0)
		return;
	free(w);
}

/* ---- a connection's policy */

const struct eg_policy *
cd_wl_policy(struct cd_wl *w, const struct cd_gen *g, const struct eg_ip *src,
    const char **reason, char *detail, size_t detaillen)
{
	struct eg_wl_source s;
	size_t idx, other;
	long i;

	if (w->gen_id != g->id) {
		if ((i = eg_wlpol_find(g->wp, w->name)) < 0) {
			*reason = "workload-gone";
			snprintf(detail, detaillen, "workload %s is no longer "
			    "in the config", w->name);
			return NULL;
		}
		w->idx = (size_t)i;
		w->gen_id = g->id;
	}
	if (src == NULL)
		return eg_wlpol_get(g->wp, w->idx);
	/* Only the address is known here (a bridge source after DNAT): an
	 * iface: match cannot hold, a cidr: one can. */
	memset(&s, 0, sizeof(s));
	s.bridge = true;
	s.has_addr = true;
	s.addr = *src;
	switch (eg_wlpol_lookup(g->wp, &s, &idx, &other, NULL)) {
	case EG_WL_NONE:
		break;
	case EG_WL_FOUND:
		if (idx == w->idx)
			break;
		/* FALLTHROUGH */
	case EG_WL_CONFLICT:
		w->conflicts++;
		*reason = "workload-conflict";
		snprintf(detail, detaillen, "listener of workload %s, source "
		    "address of workload %s", w->name,
		    eg_wlpol_name(g->wp, idx == w->idx ? other : idx));
		return NULL;
	}
	return eg_wlpol_get(g->wp, w->idx);
}

/*
 * mark: the listener mark (lmark.h), set before bind so the socket never
 * listens without it; 0 for the health listener, which takes no jailed
 * traffic.  The workload listeners' pool (wl.c) makes its sockets here
 * too.
 */
int
cd_sock_new(int family, bool transparent, uint32_t mark, const char *what,
    char *err, size_t errlen)
{
	int fd, one = 1;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", what, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (transparent) {
		int rc = family == AF_INET6 ?
		    setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one,
		    sizeof(one)) :
		    setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one));

		/* Without privilege only NAT redirect/dnat can deliver here
		 * (the bridge path); TPROXY needs the option. */
		if (rc != 0 && geteuid() == 0) {
			snprintf(err, errlen, "%s: IP_TRANSPARENT: %s", what,
			    strerror(errno));
			close(fd);
			return -1;
		}
		if (rc != 0)
			eg_log(EG_LOG_WARN, "listen", "addr=%s note=\"no "
			    "IP_TRANSPARENT (not root): NAT redirect only\"",
			    what);
	}
	if (mark != 0 && eg_lmark_apply(fd, mark, what, err, errlen) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- the pool, before the drop */

/* As cd_sock_new would, once per pool instead of once per socket. */
static bool
transparent(int fd, int family, const char *what, char *err, size_t errlen)
{
	static bool said;
	int one = 1, rc;

	rc = family == AF_INET6 ?
	    setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one)) :
	    setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one));
	if (rc == 0)
		return true;
	if (geteuid() == 0) {
		snprintf(err, errlen, "%s: IP_TRANSPARENT: %s", what,
		    strerror(errno));
		return false;
	}
	if (!said)
		eg_log(EG_LOG_WARN, "wl_pool", "note=\"no IP_TRANSPARENT (not "
		    "root): workloads' transparent listeners take NAT "
		    "redirect only\"");
	said = true;
	return true;
}

void
cd_wl_pool_open(struct cd *cd, const struct eg_config *cfg)
{
	uint32_t mark = eg_lmark_required(cfg) ? cfg->jail.listener_mark : 0;
	size_t want = cfg->nworkloads + CD_WL_SPARE, k, f;
	struct cd_wlpool *p;
	char err[300], what[64];
	int fd;

	snprintf(cd->wl_default.name, sizeof(cd->wl_default.name), "%s",
	    EG_WL_DEFAULT);
	cd->wl_default.cd = cd;
	for (k = 0; k < 2; k++)
		for (f = 0; f < 2; f++) {
			p = &cd->wlpool[k][f];
			if ((p->fd = calloc(want, sizeof(int))) == NULL)
				eg_fatal(EG_EXIT_RUNTIME, "wl_pool",
				    "error=\"out of memory\"");
			snprintf(what, sizeof(what), "workload %s ipv%d",
			    eg_wl_listener_name(kinds[k]), f ? 6 : 4);
			while (p->n < want) {
				fd = cd_sock_new(fams[f], false, mark, what,
				    err, sizeof(err));
				if (fd < 0)
					break;
				if (k == 0 && !transparent(fd, fams[f], what,
				    err, sizeof(err))) {
					close(fd);
					break;
				}
				p->fd[p->n++] = fd;
			}
			/* IPv6 may be off on the host; anything else is
			 * said once here and per workload it costs */
			if (p->n < want && !(f == 1 && p->n == 0 &&
			    errno == EAFNOSUPPORT))
				eg_log(EG_LOG_WARN, "wl_pool", "kind=%s "
				    "family=ipv%d sockets=%zu wanted=%zu "
				    "error=\"%s\"", eg_wl_listener_name(kinds[k]),
				    f ? 6 : 4, p->n, want, err);
		}
	eg_log(EG_LOG_INFO, "wl_pool", "workloads=%zu sockets=%zu,%zu,%zu,%zu "
	    "mark=0x%x", cfg->nworkloads, cd->wlpool[0][0].n,
	    cd->wlpool[0][1].n, cd->wlpool[1][0].n, cd->wlpool[1][1].n, mark);
}

static int
pool_take(struct cd *cd, size_t k, size_t f)
{
	struct cd_wlpool *p = &cd->wlpool[k][f];

	return p->n > 0 ? p->fd[--p->n] : -1;
}

/* ---- registration */

struct wl_req {
	struct cd_wl *w;
	size_t i;		/* which listener */
	uint32_t seq;
	uint8_t op;
};

static void close_workload(struct cd_wl *w);

static void
wl_log(enum eg_log_level lvl, const struct cd_wl *w, const struct cd_wl_lis *l,
    const char *op, const char *result, const char *error)
{
	eg_log(lvl, "wl_listen", "op=%s result=%s workload=%s kind=%s "
	    "family=ipv%d port=%u error=\"%s\"", op, result, w->name,
	    eg_wl_listener_name(l->kind), l->family == AF_INET6 ? 6 : 4,
	    l->port, error);
}

static size_t
pending_unregs(const struct cd_wl *w)
{
	size_t i, n = 0;

	for (i = 0; i < w->nlis; i++)
		n += w->lis[i].reg == CD_WLR_SENT;
	return n;
}

static void
on_wl_ack(int status, const struct eg_ipc_msg *msg, void *arg)
{
	struct wl_req *rq = arg;
	struct cd_wl *w = rq->w;
	struct cd_wl_lis *l = &w->lis[rq->i];
	const struct eg_msg_result *res = NULL;
	const char *text;
	const char *op = rq->op == EG_WL_REGISTER ? "register" : "unregister";

	if (status == 0)
		res = eg_ipc_result(msg, &text);
	/* a later request (a reconnect's) decides, not this one */
	if (l->seq != rq->seq)
		goto out;
	if (status != 0 || res == NULL) {
		l->reg = CD_WLR_NONE;
		snprintf(l->err, sizeof(l->err), "%s", status != 0 ?
		    strerror(-status) : "bad answer");
		wl_log(EG_LOG_WARN, w, l, op, "failed", l->err);
	} else if (res->code != 0 && !(rq->op == EG_WL_UNREGISTER &&
	    res->code == ENOENT)) {
		/*
		 * A refused registration is said once; the tick asks again
		 * now and then (netjaild may not have reloaded the workload
		 * yet).  ENOENT to an unregister is no refusal: netjaild's
		 * reload took the workload out first, as it should.
		 */
		if (rq->op == EG_WL_REGISTER && l->refused_at == 0)
			wl_log(EG_LOG_ERR, w, l, op, "refused",
			    strerror(res->code));
		else if (rq->op != EG_WL_REGISTER)
			wl_log(EG_LOG_WARN, w, l, op, "refused",
			    strerror(res->code));
		l->reg = rq->op == EG_WL_REGISTER ? CD_WLR_REFUSED :
		    CD_WLR_NONE;
		l->refused_at = eg_now_ms();
		snprintf(l->err, sizeof(l->err), "%s", strerror(res->code));
	} else {
		l->refused_at = 0;
		l->reg = rq->op == EG_WL_REGISTER ? CD_WLR_OK : CD_WLR_NONE;
		l->err[0] = '\0';
		wl_log(EG_LOG_INFO, w, l, op, "ok", "-");
	}
	/* a removed workload's listeners close once netjaild let go */
	if (w->gone && pending_unregs(w) == 0)
		close_workload(w);
out:
	cd_wl_unref(w);
	free(rq);
}

static void
wl_send(struct cd *cd, struct cd_wl *w, size_t i, uint8_t op)
{
	struct cd_wl_lis *l = &w->lis[i];
	struct eg_msg_wl_listen m;
	struct wl_req *rq;

	if (cd->netjaild == NULL || !l->open)
		return;
	if ((rq = calloc(1, sizeof(*rq))) == NULL) {
		l->reg = CD_WLR_NONE;
		return;
	}
	memset(&m, 0, sizeof(m));
	m.op = op;
	m.kind = l->kind;
	m.family = (uint8_t)l->family;
	m.namelen = (uint8_t)strlen(w->name);
	m.port = op == EG_WL_REGISTER ? l->port : 0;
	rq->w = cd_wl_ref(w);
	rq->i = i;
	rq->seq = ++l->seq;
	rq->op = op;
	l->reg = CD_WLR_SENT;
	/* the callback runs once (ctl.h), not from inside this call */
	if (eg_ctl_request2(cd->netjaild, EG_MSG_WL_LISTEN, &m, sizeof(m),
	    w->name, m.namelen, WL_REQ_MS, on_wl_ack, rq) != 0) {
		l->reg = CD_WLR_NONE;
		cd_wl_unref(w);
		free(rq);
	}
}

/* ---- opening and closing */

static void
on_wl_accept(uv_stream_t *s, int status)
{
	if (status < 0)
		return;
	cd_conn_accept(s->data);
}

static void
on_lis_closed(uv_handle_t *h)
{
	struct cd_listener *l = h->data;

	cd_wl_unref(l->wl);
}

/* Bind fd to the loopback address of its family, port 0, and listen. */
static int
lis_open(struct cd *cd, struct cd_wl *w, struct cd_wl_lis *l, int fd,
    char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	int rc;

	memset(&ss, 0, sizeof(ss));
	if (l->family == AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*s4);
	} else {
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		sl = sizeof(*s6);
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 1024) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		snprintf(err, errlen, "bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	l->port = ntohs(l->family == AF_INET ? s4->sin_port : s6->sin6_port);
	l->l.cd = cd;
	l->l.wl = w;
	l->l.mode = l->kind == EG_WLL_PROXY ? CD_MODE_EXPLICIT :
	    CD_MODE_TRANSPARENT;
	memcpy(&l->l.addr, &ss, sizeof(ss));
	uv_tcp_init(cd->loop, &l->l.h);
	l->l.h.data = &l->l;
	if ((rc = uv_tcp_open(&l->l.h, fd)) != 0) {
		snprintf(err, errlen, "%s", uv_strerror(rc));
		close(fd);
		uv_close((uv_handle_t *)&l->l.h, NULL);
		return -1;
	}
	cd_wl_ref(w);			/* the handle's */
	l->open = true;
	l->l.open = true;
	l->l.nodelay = uv_tcp_nodelay(&l->l.h, 1) == 0;
	if ((rc = uv_listen((uv_stream_t *)&l->l.h, 1024, on_wl_accept)) != 0) {
		snprintf(err, errlen, "listen: %s", uv_strerror(rc));
		l->open = l->l.open = false;
		uv_close((uv_handle_t *)&l->l.h, on_lis_closed);
		return -1;
	}
	return 0;
}

static void
close_workload(struct cd_wl *w)
{
	size_t i;

	for (i = 0; i < w->nlis; i++) {
		if (!w->lis[i].open)
			continue;
		w->lis[i].open = w->lis[i].l.open = false;
		uv_close((uv_handle_t *)&w->lis[i].l.h, on_lis_closed);
	}
}

/*
 * A new workload's listeners: IPv4 of both kinds or nothing (the
 * workload is refused); IPv6 where the host has it.  Each socket left
 * unused goes back (closed: it cannot be told apart from a used one).
 */
static struct cd_wl *
open_workload(struct cd *cd, const char *name)
{
	struct cd_wl *w;
	struct cd_wl_lis *l;
	char err[300] = "";
	size_t k, f;
	int fd;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->cd = cd;
	w->refs = 1;			/* the list's */
	snprintf(w->name, sizeof(w->name), "%s", name);
	for (f = 0; f < 2 && !w->refused; f++)
		for (k = 0; k < 2; k++) {
			l = &w->lis[w->nlis];
			l->kind = kinds[k];
			l->family = fams[f];
			if ((fd = pool_take(cd, k, f)) < 0) {
				snprintf(err, sizeof(err), "no marked socket "
				    "left (CD_WL_SPARE=%d beyond the start's "
				    "workloads): restart connectd",
				    CD_WL_SPARE);
			} else if (lis_open(cd, w, l, fd, err,
			    sizeof(err)) == 0) {
				w->nlis++;
				continue;
			}
			wl_log(f == 0 ? EG_LOG_ERR : EG_LOG_INFO, w, l, "open",
			    f == 0 ? "refused" : "skipped", err);
			if (f == 0)
				w->refused = true;
		}
	if (w->refused)
		close_workload(w);
	return w;
}

static bool
in_config(const struct eg_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nworkloads; i++)
		if (strcmp(cfg->workloads[i].name, name) == 0)
			return true;
	return false;
}

static struct cd_wl *
find(struct cd *cd, const char *name)
{
	struct cd_wl *w;

	for (w = cd->wls; w != NULL; w = w->next)
		if (strcmp(w->name, name) == 0)
			return w;
	return NULL;
}

/* Take w off the list: unregister its listeners, close them after. */
static void
remove_workload(struct cd *cd, struct cd_wl *w)
{
	size_t i;

	w->gone = true;
	for (i = 0; i < w->nlis; i++)
		if (w->lis[i].reg == CD_WLR_OK || w->lis[i].reg == CD_WLR_SENT)
			wl_send(cd, w, i, EG_WL_UNREGISTER);
		else
			w->lis[i].reg = CD_WLR_NONE;
	if (pending_unregs(w) == 0)
		close_workload(w);
	eg_log(EG_LOG_INFO, "workload", "op=remove workload=%s", w->name);
	cd_wl_unref(w);			/* the list's */
}

static void
register_all(struct cd *cd)
{
	struct cd_wl *w;
	size_t i;

	for (w = cd->wls; w != NULL; w = w->next)
		for (i = 0; i < w->nlis; i++)
			if (w->lis[i].open)
				wl_send(cd, w, i, EG_WL_REGISTER);
}

/* A new control connection (the first, or netjaild restarted): netjaild
 * knows none of our listeners on it. */
static void
on_netjaild_connect(void *arg)
{
	register_all(arg);
}

void
cd_wl_sync(struct cd *cd, const struct eg_config *cfg)
{
	struct cd_wl **pp, *w, **tail;
	size_t i;

	for (pp = &cd->wls; (w = *pp) != NULL;) {
		if (in_config(cfg, w->name)) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		remove_workload(cd, w);
	}
	/* new ones at the end, in config order */
	for (tail = &cd->wls; *tail != NULL; tail = &(*tail)->next)
		;
	for (i = 0; i < cfg->nworkloads; i++) {
		if (find(cd, cfg->workloads[i].name) != NULL)
			continue;
		if ((w = open_workload(cd, cfg->workloads[i].name)) == NULL) {
			eg_log(EG_LOG_ERR, "workload", "op=add workload=%s "
			    "error=\"out of memory\"", cfg->workloads[i].name);
			continue;
		}
		*tail = w;
		tail = &w->next;
		eg_log(EG_LOG_INFO, "workload", "op=add workload=%s "
		    "listeners=%zu", w->name, w->refused ? 0 : w->nlis);
	}
	/* the first time: the hook registers on this connection and each
	 * later one; after that, what a reload added goes now */
	if (cd->netjaild != NULL && !cd->wl_hooked) {
		cd->wl_hooked = true;
		eg_ctl_client_on_connect(cd->netjaild, on_netjaild_connect, cd);
	} else
		cd_wl_tick(cd);
}

/*
 * What is not registered, again: an answer lost (NONE), or a refusal some
 * time ago (netjaild may have reloaded the workload since; connectd's
 * reload may come first).
 */
void
cd_wl_tick(struct cd *cd)
{
	struct cd_wl *w;
	struct cd_wl_lis *l;
	uint64_t now = eg_now_ms();
	size_t i;

	if (cd->netjaild == NULL || !eg_ctl_client_connected(cd->netjaild))
		return;
	for (w = cd->wls; w != NULL; w = w->next)
		for (i = 0; i < w->nlis; i++) {
			l = &w->lis[i];
			if (l->open && (l->reg == CD_WLR_NONE ||
			    (l->reg == CD_WLR_REFUSED &&
			    now - l->refused_at >= WL_RETRY_MS)))
				wl_send(cd, w, i, EG_WL_REGISTER);
		}
}

/* Drain: the listeners close with the others (netjaild forgets them when
 * connectd's control connection goes). */
void
cd_wl_stop(struct cd *cd)
{
	struct cd_wl *w;

	for (w = cd->wls; w != NULL; w = w->next)
		close_workload(w);
}

/* ---- what /ready, /health, /metrics and STATUS say */

/*
 * Ready while every workload is served: each listener it has registered
 * (with a netjaild to register with).  A refused or lost registration
 * means that workload's traffic is dropped: say so, with its name.
 */
bool
cd_wl_ready(struct cd *cd, char *why, size_t whylen)
{
	const struct cd_wl *w;
	const struct cd_wl_lis *l;
	size_t i;

	for (w = cd->wls; w != NULL; w = w->next) {
		if (w->refused) {
			snprintf(why, whylen, "workload %s: no listener (no "
			    "marked socket left)", w->name);
			return false;
		}
		for (i = 0; cd->netjaild != NULL && i < w->nlis; i++) {
			l = &w->lis[i];
			if (!l->open || l->reg == CD_WLR_OK)
				continue;
			snprintf(why, whylen, "workload %s: %s listener ipv%d "
			    "port %u %s%s%s", w->name,
			    eg_wl_listener_name(l->kind),
			    l->family == AF_INET6 ? 6 : 4, l->port,
			    cd_wlreg_str(l->reg), l->err[0] ? ": " : "",
			    l->err);
			return false;
		}
	}
	return true;
}

static const char *
lis_state(const struct cd *cd, const struct cd_wl_lis *l)
{
	if (!l->open)
		return "closed";
	return cd->netjaild == NULL ? "no-netjaild" : cd_wlreg_str(l->reg);
}

void
cd_wl_describe(struct cd *cd, struct sbuf *b, enum cd_wl_fmt fmt)
{
	const struct cd_wl *w;
	const struct cd_wl_lis *l;
	size_t i;

	if (fmt == CD_WLF_JSON)
		sb_printf(b, "\"workloads\":[");
	for (w = cd->wls; w != NULL; w = w->next) {
		if (fmt == CD_WLF_JSON)
			sb_printf(b, "%s{\"name\":\"%s\",\"served\":%s,"
			    "\"conflicts\":%llu,\"listeners\":[",
			    w == cd->wls ? "" : ",", w->name,
			    w->refused ? "false" : "true",
			    (unsigned long long)w->conflicts);
		else
			sb_printf(b, fmt == CD_WLF_STATUS ? "workload=%s "
			    "listeners=%s" : "workload %s:%s", w->name,
			    w->refused ? "refused" : "");
		for (i = 0; i < w->nlis; i++) {
			l = &w->lis[i];
			if (fmt == CD_WLF_JSON)
				sb_printf(b, "%s{\"kind\":\"%s\",\"family\":"
				    "\"ipv%d\",\"port\":%u,\"state\":\"%s\","
				    "\"error\":\"%s\"}", i ? "," : "",
				    eg_wl_listener_name(l->kind),
				    l->family == AF_INET6 ? 6 : 4, l->port,
				    lis_state(cd, l), l->err);
			else
				sb_printf(b, "%s%s/ipv%d/%u/%s",
				    fmt == CD_WLF_STATUS ? (i ? "," : "") : " ",
				    eg_wl_listener_name(l->kind),
				    l->family == AF_INET6 ? 6 : 4, l->port,
				    lis_state(cd, l));
		}
		sb_printf(b, fmt == CD_WLF_JSON ? "]}" : "\n");
	}
	if (fmt == CD_WLF_JSON)
		sb_printf(b, "],");
}

static void
wl_conn_metrics(struct sbuf *b, const struct cd_wl *w)
{
	static const char *const dec[CD_DEC__MAX] = { "allow", "deny",
	    "report", "error" };
	size_t k;

	for (k = 0; k < CD_DEC__MAX; k++)
		sb_printf(b, "connectd_workload_connections_total{workload="
		    "\"%s\",decision=\"%s\"} %llu\n", w->name, dec[k],
		    (unsigned long long)w->conns[k]);
}

void
cd_wl_metrics(struct cd *cd, struct sbuf *b)
{
	const struct cd_wl *w;
	const struct cd_wl_lis *l;
	size_t i;

	sb_printf(b, "# HELP connectd_workload_connections_total Connections "
	    "by workload and decision.\n# TYPE "
	    "connectd_workload_connections_total counter\n");
	wl_conn_metrics(b, &cd->wl_default);
	for (w = cd->wls; w != NULL; w = w->next)
		wl_conn_metrics(b, w);
	sb_printf(b, "# HELP connectd_workload_conflicts_total Connections "
	    "refused: the source address belongs to another workload.\n"
	    "# TYPE connectd_workload_conflicts_total counter\n");
	sb_printf(b, "connectd_workload_conflicts_total{workload=\"%s\"} "
	    "%llu\n", cd->wl_default.name,
	    (unsigned long long)cd->wl_default.conflicts);
	for (w = cd->wls; w != NULL; w = w->next)
		sb_printf(b, "connectd_workload_conflicts_total{workload="
		    "\"%s\"} %llu\n", w->name,
		    (unsigned long long)w->conflicts);
	sb_printf(b, "# HELP connectd_workload_listener_registered 1 when "
	    "netjaild steers the traffic of the workload to the listener.\n"
	    "# TYPE connectd_workload_listener_registered gauge\n");
	for (w = cd->wls; w != NULL; w = w->next)
		for (i = 0; i < w->nlis; i++) {
			l = &w->lis[i];
			sb_printf(b, "connectd_workload_listener_registered{"
			    "workload=\"%s\",kind=\"%s\",family=\"ipv%d\"} "
			    "%d\n", w->name, eg_wl_listener_name(l->kind),
			    l->family == AF_INET6 ? 6 : 4,
			    l->open && l->reg == CD_WLR_OK);
		}
}
