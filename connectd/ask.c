/*
 * ask.c - mode = ask: connectd's broker between held connections and one
 * decider on [policy] ask_socket (protocol: libegress/ask.h).
 *
 * Why a broker in connectd rather than connectd dialling a decider: the
 * socket is connectd's, bound as root before the drop with mode 0600, so
 * only root can ever answer, and a decider comes and goes without connectd
 * needing to reach out of its sandbox.  No decider connected means deny.
 *
 * A connection whose name no rule admits (no_rule, port) asks about
 * NAME:PORT.  One question per NAME:PORT is in flight; later connections
 * for it wait on the same answer.  At most [policy] ask_max questions are
 * in flight; beyond that a new name is denied at once.  Held connections
 * stay counted in max_connections.  An answer applies to every waiter;
 * "allow DURATION" and "allow always" also enter the grant table, which a
 * later connection for NAME:PORT finds before asking.  "always" lasts
 * until connectd restarts (egressctl ask, as root, writes the rule to an
 * allow.d file so the next reload makes it permanent).
 *
 * Fail closed: no decider, ask_timeout, a decider that disconnects, a line
 * it sends that does not parse (it is then dropped), a decider that does
 * not read its questions (64 KiB queued) all deny.
 *
 * dohd asks too (EG_MSG_ASK_REQ): a DNS question for a name no rule admits
 * is a question of kind dns about NAME, whatever its qtype (A and AAAA ask
 * once), answered to dohd with EG_MSG_ASK_REP.  Its answer is about the
 * name, so its grant holds for any port: "allow DURATION" and "always"
 * admit the name's lookups and its connections for that long, "once" the
 * asking sources' lookups and connections for ask_timeout (the connection
 * the lookup was for, and the client's retry when the answer came after
 * dohd stopped holding).  A grant of either kind admits lookups of its
 * name.  One table, so a name and its connection are decided once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ask.h"
#include "cd.h"
#include "ctl.h"
#include "daemon.h"

#define GRANTS_MAX 4096
#define WQ_MAX (64 * 1024)
#define TICK_MS 100

struct cd_ask_wait {
	struct cd_ask_wait *next, *prev;
	struct question *q;
	cd_ask_cb cb;
	void *arg;
};

struct question {
	struct question *next;
	uint32_t id;
	enum eg_ask_kind kind;
	char wl[EG_ASK_WL_MAX + 1];	/* the workload asking */
	char name[EG_NAME_MAX + 1];
	uint16_t port;			/* tcp; 0 for dns */
	uint16_t qtype;			/* dns */
	uint64_t deadline;
	struct cd_ask_wait *waiters;
};

/* A waiter for dohd: its control connection, its request. */
struct dns_wait {
	struct eg_ctl_conn *c;
	uint32_t id;
	struct eg_ip src;
};

struct grant {
	char wl[EG_ASK_WL_MAX + 1];	/* a workload's grants are its own */
	char name[EG_NAME_MAX + 1];
	uint16_t port;			/* 0: any (a dns question's) */
	bool has_src;			/* for this source only ("once", dns) */
	struct eg_ip src;
	uint64_t until;			/* eg_now_ms(); UINT64_MAX: always */
};

struct dec {
	uv_pipe_t h;
	char buf[EG_ASK_LINE_MAX];
	size_t n;
	bool closing;
};

struct cd_ask {
	struct cd *cd;
	uv_pipe_t lis;
	uv_timer_t tick;
	struct dec *dec;		/* the decider, NULL none */
	struct question *qs;
	size_t nqs;
	uint32_t next_id;
	struct grant *grants;
	size_t ngrants;
};

static struct cd_ask *the_ask;

/* ---- questions */

static void
answer_all(struct question *q, bool allow, const char *reason)
{
	struct cd_ask_wait *w;

	/* Unlink each waiter before its callback: the callback may close
	 * its connection, which cancels nothing any more. */
	while ((w = q->waiters) != NULL) {
		q->waiters = w->next;
		if (q->waiters != NULL)
			q->waiters->prev = NULL;
		w->cb(w->arg, allow, reason);
		free(w);
	}
}

static void
question_end(struct cd_ask *a, struct question *q, bool allow,
    const char *reason)
{
	struct question **pp;

	for (pp = &a->qs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			a->nqs--;
			break;
		}
	if (q->kind == EG_ASK_DNS)
		eg_log(allow ? EG_LOG_INFO : EG_LOG_WARN, "ask", "id=%u "
		    "kind=dns host=%s qtype=%u result=%s", q->id, q->name,
		    q->qtype, reason);
	else
		eg_log(allow ? EG_LOG_INFO : EG_LOG_WARN, "ask", "id=%u "
		    "host=%s port=%u result=%s", q->id, q->name, q->port,
		    reason);
	answer_all(q, allow, reason);
	free(q);
}

static struct question *
question_by_id(struct cd_ask *a, uint32_t id)
{
	struct question *q;

	for (q = a->qs; q != NULL; q = q->next)
		if (q->id == id)
			return q;
	return NULL;
}

static void
deny_all(struct cd_ask *a, const char *reason)
{
	while (a->qs != NULL)
		question_end(a, a->qs, false, reason);
}

/* ---- grants */

/*
 * A live grant for name in workload wl, expired grants pruned on the way.
 * exact: the grant with exactly this key (port, source or none), for
 * grant_add.  Otherwise one that admits port from src: port 0 asks for a
 * lookup, which any grant of the name admits; a grant for port 0 (a dns
 * question's) admits every port.
 */
static struct grant *
grant_lookup(struct cd_ask *a, const char *wl, const char *name,
    uint16_t port, const struct eg_ip *src, bool exact)
{
	uint64_t now = eg_now_ms();
	size_t i;

	for (i = 0; i < a->ngrants; ) {
		struct grant *g = &a->grants[i];
		bool hit;

		if (g->until <= now) {
			a->grants[i] = a->grants[--a->ngrants];
			continue;
		}
		if (exact)
			hit = g->port == port && g->has_src == (src != NULL) &&
			    (src == NULL || eg_ip_equal(&g->src, src));
		else
			hit = (port == 0 || g->port == 0 || g->port == port) &&
			    (!g->has_src || (src != NULL &&
			    eg_ip_equal(&g->src, src)));
		if (hit && strcmp(g->name, name) == 0 &&
		    strcmp(g->wl, wl) == 0)
			return g;
		i++;
	}
	return NULL;
}

static void
grant_add(struct cd_ask *a, const char *wl, const char *name, uint16_t port,
    const struct eg_ip *src, uint64_t until)
{
	struct grant *g;
	size_t i, soonest = 0;

	if ((g = grant_lookup(a, wl, name, port, src, true)) == NULL) {
		if (a->ngrants == GRANTS_MAX) {
			/* Full: the grant that ends first goes. */
			for (i = 1; i < a->ngrants; i++)
				if (a->grants[i].until <
				    a->grants[soonest].until)
					soonest = i;
			g = &a->grants[soonest];
		} else
			g = &a->grants[a->ngrants++];
		memset(g, 0, sizeof(*g));
		snprintf(g->wl, sizeof(g->wl), "%s", wl);
		snprintf(g->name, sizeof(g->name), "%s", name);
		g->port = port;
		if (src != NULL) {
			g->has_src = true;
			g->src = *src;
		}
	}
	/* never shorten a grant already given */
	if (until > g->until)
		g->until = until;
}

/* ---- the decider */

static void
on_dec_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
dec_drop(struct cd_ask *a, const char *why)
{
	struct dec *d = a->dec;

	if (d == NULL)
		return;
	a->dec = NULL;
	eg_log(EG_LOG_WARN, "ask", "decider=gone reason=\"%s\" pending=%zu",
	    why, a->nqs);
	d->closing = true;
	uv_close((uv_handle_t *)&d->h, on_dec_closed);
	deny_all(a, "ask-decider-gone");
}

static void
on_dec_write(uv_write_t *req, int status)
{
	free(req);
}

/* One line to the decider; a decider that cannot take it is dropped. */
static int
dec_send(struct cd_ask *a, const char *line, size_t n)
{
	uv_write_t *req;
	uv_buf_t b;
	char *p;

	if (a->dec == NULL)
		return -1;
	if (uv_stream_get_write_queue_size((uv_stream_t *)&a->dec->h) >
	    WQ_MAX) {
		dec_drop(a, "not reading its questions");
		return -1;
	}
	if ((req = malloc(sizeof(*req) + n)) == NULL) {
		dec_drop(a, "out of memory");
		return -1;
	}
	p = (char *)(req + 1);
	memcpy(p, line, n);
	b = uv_buf_init(p, (unsigned)n);
	if (uv_write(req, (uv_stream_t *)&a->dec->h, &b, 1,
	    on_dec_write) != 0) {
		free(req);
		dec_drop(a, "write failed");
		return -1;
	}
	return 0;
}

static void on_dns_answer(void *arg, bool allow, const char *reason);

/*
 * "once" for a dns question: each source that asked may look the name up
 * and connect to it for ask_timeout, and no other source.
 */
static void
grant_once_dns(struct cd_ask *a, const struct question *q)
{
	uint64_t until = eg_now_ms() + a->cd->gen->cfg->ask.timeout_ms;
	const struct cd_ask_wait *w;

	for (w = q->waiters; w != NULL; w = w->next)
		if (w->cb == on_dns_answer)
			grant_add(a, q->wl, q->name, 0,
			    &((const struct dns_wait *)w->arg)->src, until);
}

static void
dec_line(struct cd_ask *a, const char *line, size_t n)
{
	struct eg_ask_answer ans;
	struct question *q;
	char err[EG_ERR_MAX];

	if (!eg_ask_parse_answer(line, n, &ans, err)) {
		dec_drop(a, err);
		return;
	}
	if ((q = question_by_id(a, ans.id)) == NULL) {
		eg_log(EG_LOG_INFO, "ask", "id=%u note=\"answer to no "
		    "pending question, ignored\"", ans.id);
		return;
	}
	if (ans.verdict == EG_ASK_FOR)
		grant_add(a, q->wl, q->name, q->port, NULL,
		    eg_now_ms() + ans.for_ms);
	else if (ans.verdict == EG_ASK_ALWAYS)
		grant_add(a, q->wl, q->name, q->port, NULL, UINT64_MAX);
	else if (ans.verdict == EG_ASK_ONCE && q->kind == EG_ASK_DNS)
		grant_once_dns(a, q);
	question_end(a, q, ans.verdict != EG_ASK_DENY,
	    ans.verdict == EG_ASK_DENY ? "ask-deny" :
	    ans.verdict == EG_ASK_ONCE ? "ask-once" :
	    ans.verdict == EG_ASK_FOR ? "ask-for" : "ask-always");
}

static void
dec_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct dec *d = h->data;

	(void)hint;
	b->base = d->buf + d->n;
	b->len = sizeof(d->buf) - d->n;
}

static void
on_dec_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct dec *d = s->data;
	struct cd_ask *a = the_ask;
	char *nl;
	size_t len;

	if (nread == 0 || d->closing || a->dec != d)
		return;
	if (nread < 0) {
		dec_drop(a, nread == UV_EOF ? "disconnected" :
		    uv_strerror((int)nread));
		return;
	}
	d->n += (size_t)nread;
	while (a->dec == d && (nl = memchr(d->buf, '\n', d->n)) != NULL) {
		len = (size_t)(nl - d->buf);
		dec_line(a, d->buf, len);
		if (a->dec != d)
			return;
		memmove(d->buf, nl + 1, d->n - len - 1);
		d->n -= len + 1;
	}
	if (d->n == sizeof(d->buf))
		dec_drop(a, "line too long");
}

static void
on_dec_connect(uv_stream_t *lis, int status)
{
	struct cd_ask *a = lis->data;
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	struct dec *d;
	uv_os_fd_t fd;

	if (status != 0 || (d = calloc(1, sizeof(*d))) == NULL)
		return;
	uv_pipe_init(a->cd->loop, &d->h, 0);
	d->h.data = d;
	if (uv_accept(lis, (uv_stream_t *)&d->h) != 0) {
		uv_close((uv_handle_t *)&d->h, on_dec_closed);
		return;
	}
	/* The file is root's and 0600; the check holds even if someone
	 * loosens it. */
	if (uv_fileno((uv_handle_t *)&d->h, &fd) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0 ||
	    cr.uid != 0 || a->dec != NULL) {
		eg_log(EG_LOG_WARN, "ask", "decider=refused reason=\"%s\"",
		    a->dec != NULL ? "another decider is connected" :
		    "not root");
		uv_close((uv_handle_t *)&d->h, on_dec_closed);
		return;
	}
	a->dec = d;
	eg_log(EG_LOG_INFO, "ask", "decider=connected pid=%d", (int)cr.pid);
	if (dec_send(a, EG_ASK_HELLO "\n", sizeof(EG_ASK_HELLO)) != 0)
		return;
	uv_read_start((uv_stream_t *)&d->h, dec_alloc, on_dec_read);
}

/* ---- time */

static void
on_tick(uv_timer_t *t)
{
	struct cd_ask *a = t->data;
	struct question *q, *next;
	uint64_t now = eg_now_ms();
	char line[64];
	int n;

	for (q = a->qs; q != NULL; q = next) {
		next = q->next;
		if (q->deadline > now)
			continue;
		n = snprintf(line, sizeof(line), "expired %u\n", q->id);
		/* A failed send dropped the decider, which ended every
		 * question. */
		if (a->dec != NULL && dec_send(a, line, (size_t)n) != 0)
			break;
		question_end(a, q, false, "ask-timeout");
	}
	if (a->qs == NULL)
		uv_timer_stop(&a->tick);
}

/* ---- entry points */

void
cd_ask_start(struct cd *cd, const struct eg_config *cfg)
{
	struct sockaddr_un sun;
	struct stat st;
	struct cd_ask *a;
	mode_t um;
	int fd;

	if (!eg_ask_configured(cfg))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(cfg->ask.socket) >= sizeof(sun.sun_path))
		eg_fatal(EG_EXIT_CONFIG, "ask", "error=\"ask_socket path too "
		    "long\"");
	memcpy(sun.sun_path, cfg->ask.socket, strlen(cfg->ask.socket));
	/* A stale socket of an earlier run goes; anything else stays and
	 * the bind fails. */
	if (lstat(sun.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(sun.sun_path);
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->grants = calloc(GRANTS_MAX, sizeof(*a->grants))) == NULL)
		eg_fatal(EG_EXIT_RUNTIME, "ask", "error=\"out of memory\"");
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0)
		eg_fatal(EG_EXIT_RUNTIME, "ask", "error=\"socket: %s\"",
		    strerror(errno));
	um = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		umask(um);
		eg_fatal(EG_EXIT_RUNTIME, "ask", "error=\"bind %s: %s\"",
		    cfg->ask.socket, strerror(errno));
	}
	umask(um);
	if (chmod(sun.sun_path, 0600) != 0 || listen(fd, 4) != 0)
		eg_fatal(EG_EXIT_RUNTIME, "ask", "error=\"%s: %s\"",
		    cfg->ask.socket, strerror(errno));
	a->cd = cd;
	a->next_id = 1;
	uv_pipe_init(cd->loop, &a->lis, 0);
	a->lis.data = a;
	uv_timer_init(cd->loop, &a->tick);
	a->tick.data = a;
	if (uv_pipe_open(&a->lis, fd) != 0 ||
	    uv_listen((uv_stream_t *)&a->lis, 4, on_dec_connect) != 0)
		eg_fatal(EG_EXIT_RUNTIME, "ask", "error=\"listen %s\"",
		    cfg->ask.socket);
	the_ask = a;
	eg_log(EG_LOG_INFO, "ask", "socket=%s timeout_ms=%llu max=%u",
	    cfg->ask.socket, (unsigned long long)cfg->ask.timeout_ms,
	    cfg->ask.max);
}

bool
cd_ask_wanted(enum eg_policy_mode mode, const struct cd_verdict *v)
{
	return mode == EG_MODE_ASK && !v->allow &&
	    v->reason != NULL &&
	    (strcmp(v->reason, eg_reason_str(EG_R_NO_RULE)) == 0 ||
	    strcmp(v->reason, eg_reason_str(EG_R_PORT)) == 0 ||
	    strcmp(v->reason, eg_reason_str(EG_R_EMPTY)) == 0);
}

/*
 * Wait on the question about name (port for tcp, 0 for dns), asking it
 * when nobody has.  NULL when decided at once: *now NULL is allowed (a
 * grant), else the reason of the denial.
 */
static struct cd_ask_wait *
ask_wait(const struct eg_config *cfg, enum eg_ask_kind kind, const char *wl,
    const char *name, uint16_t port, uint16_t qtype, const struct eg_ip *src,
    cd_ask_cb cb, void *arg, const char **now)
{
	struct cd_ask *a = the_ask;
	struct eg_ask_question eq;
	struct cd_ask_wait *w;
	struct question *q;
	char line[EG_ASK_LINE_MAX];
	size_t n;

	*now = "ask-no-decider";
	if (a == NULL)
		return NULL;
	if (grant_lookup(a, wl, name, port, src, false) != NULL) {
		*now = NULL;		/* allowed */
		return NULL;
	}
	if (a->dec == NULL)
		return NULL;
	for (q = a->qs; q != NULL; q = q->next)
		if (q->kind == kind && q->port == port &&
		    strcmp(q->name, name) == 0 && strcmp(q->wl, wl) == 0)
			break;
	if (q == NULL) {
		*now = "ask-busy";
		if (a->nqs >= cfg->ask.max)
			return NULL;
		*now = "ask-no-decider";
		memset(&eq, 0, sizeof(eq));
		eq.id = a->next_id++;
		if (a->next_id == 0)
			a->next_id = 1;
		snprintf(eq.workload, sizeof(eq.workload), "%s", wl);
		eq.kind = kind;
		snprintf(eq.name, sizeof(eq.name), "%s", name);
		eq.arg = kind == EG_ASK_TCP ? port : qtype;
		eq.source = *src;
		if ((n = eg_ask_format_question(&eq, line)) == 0 ||
		    (q = calloc(1, sizeof(*q))) == NULL)
			return NULL;
		q->id = eq.id;
		q->kind = kind;
		memcpy(q->wl, eq.workload, sizeof(q->wl));
		memcpy(q->name, eq.name, sizeof(q->name));
		q->port = port;
		q->qtype = qtype;
		q->deadline = eg_now_ms() + cfg->ask.timeout_ms;
		if (dec_send(a, line, n) != 0) {
			free(q);
			return NULL;
		}
		q->next = a->qs;
		a->qs = q;
		a->nqs++;
		if (!uv_is_active((uv_handle_t *)&a->tick))
			uv_timer_start(&a->tick, on_tick, TICK_MS, TICK_MS);
		eg_log(EG_LOG_INFO, "ask", "id=%u kind=%s host=%s %s=%u "
		    "asked=yes", q->id, kind == EG_ASK_TCP ? "tcp" : "dns",
		    q->name, kind == EG_ASK_TCP ? "port" : "qtype",
		    kind == EG_ASK_TCP ? port : qtype);
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		*now = "out-of-memory";
		return NULL;
	}
	w->q = q;
	w->cb = cb;
	w->arg = arg;
	w->next = q->waiters;
	if (q->waiters != NULL)
		q->waiters->prev = w;
	q->waiters = w;
	return w;
}

struct cd_ask_wait *
cd_ask(const struct eg_config *cfg, const char *wl, const char *host,
    uint16_t port, const uv_tcp_t *cli, cd_ask_cb cb, void *arg,
    const char **now)
{
	struct sockaddr_storage ss;
	int sl = sizeof(ss);
	struct eg_ip src;
	uint16_t sport;
	char name[EG_NAME_MAX + 1];

	*now = "ask-no-decider";
	if (port == 0 || !eg_name_normalise(host, name, NULL) ||
	    uv_tcp_getpeername(cli, (struct sockaddr *)&ss, &sl) != 0 ||
	    !eg_ip_from_sockaddr((struct sockaddr *)&ss, &src, &sport))
		return NULL;
	return ask_wait(cfg, EG_ASK_TCP, wl, name, port, 0, &src, cb, arg,
	    now);
}

/* ---- dohd's questions */

static void
dns_reply(struct eg_ctl_conn *c, uint32_t id, bool allow, const char *reason)
{
	struct eg_msg_ask_rep r;

	memset(&r, 0, sizeof(r));
	r.allow = allow ? 1 : 0;
	r.reasonlen = (uint8_t)strlen(reason);
	if (!eg_ctl_conn_closed(c))
		(void)eg_ctl_reply2(c, EG_MSG_ASK_REP, id, &r, sizeof(r),
		    reason, r.reasonlen);
}

static void
on_dns_answer(void *arg, bool allow, const char *reason)
{
	struct dns_wait *dw = arg;

	dns_reply(dw->c, dw->id, allow, reason);
	eg_ctl_conn_unref(dw->c);
	free(dw);
}

/*
 * dohd's question: one per name from dohd at a time (it holds the rest),
 * but dohd stops waiting after ask_dns_hold and may ask again while the
 * decider still thinks.  The question keeps one waiter per dohd
 * connection, answering the newest request: waiters stay bounded by
 * ask_max whatever dohd sends.
 */
void
cd_ask_dns(struct cd *cd, struct eg_ctl_conn *c, const struct eg_ipc_msg *m)
{
	const struct eg_config *cfg = cd->gen->cfg;
	const struct eg_msg_ask_req *rq;
	char name[EG_NAME_MAX + 1], wl[EG_IPC_WL_NAME_MAX + 1];
	struct cd_ask *a = the_ask;
	struct cd_ask_wait *w;
	struct dns_wait *dw;
	struct question *q;
	struct eg_ip src;
	const char *now;

	if ((rq = eg_ipc_ask_req(m, name, wl)) == NULL) {
		dns_reply(c, m->hdr.id, false, "ask-bad-request");
		return;
	}
	/* dohd asked because the query's workload is in ask mode; no
	 * socket here means no policy was when connectd started */
	if (a == NULL) {
		dns_reply(c, m->hdr.id, false, "ask-off");
		return;
	}
	memset(&src, 0, sizeof(src));
	src.family = rq->family;
	memcpy(src.addr, rq->addr, sizeof(src.addr));
	for (q = a->qs; q != NULL; q = q->next) {
		if (q->kind != EG_ASK_DNS || strcmp(q->name, name) != 0 ||
		    strcmp(q->wl, wl) != 0)
			continue;
		for (w = q->waiters; w != NULL; w = w->next) {
			dw = w->arg;
			if (w->cb == on_dns_answer && dw->c == c) {
				dw->id = m->hdr.id;
				return;
			}
		}
	}
	if ((dw = calloc(1, sizeof(*dw))) == NULL) {
		dns_reply(c, m->hdr.id, false, "out-of-memory");
		return;
	}
	dw->c = c;
	dw->id = m->hdr.id;
	dw->src = src;
	eg_ctl_conn_ref(c);
	if (ask_wait(cfg, EG_ASK_DNS, wl, name, 0, rq->qtype, &src,
	    on_dns_answer, dw, &now) == NULL)
		on_dns_answer(dw, now == NULL, now == NULL ? "ask-granted" :
		    now);
}

/* The connection went first; its question stays for the others (and for
 * the grant an answer may bring). */
void
cd_ask_cancel(struct cd_ask_wait *w)
{
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		w->q->waiters = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	free(w);
}

size_t
cd_ask_pending(void)
{
	return the_ask != NULL ? the_ask->nqs : 0;
}
