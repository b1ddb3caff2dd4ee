/*
 * ask.c - mode = ask in dohd (dask.h): the table of held DNS queries and
 * the broker it asks, connectd's control socket.
 *
 * Why connectd decides and dohd only holds: a name and its connection
 * must be decided once, so there is one grant table and one decider
 * connection, both in connectd.  dohd connects to connectd's control
 * socket as it connects to netjaild's (the client asks, the server
 * answers: connectd's own connection to dohd.sock carries its requests).
 *
 * Bounds: ask_max names (connectd asks no more at a time either) and
 * DASK_PER_NAME queries on each; a query beyond them is refused at once
 * (ask-busy), so a flood of unknown names costs dohd a fixed amount of
 * memory and the decider at most ask_max questions.  A held query is a
 * copy made by the query path, freed by its callback.
 *
 * Every way this can fail is a denial: no broker (ask-no-broker),
 * ask_dns_hold passed (ask-hold-timeout), anything connectd answers but
 * an allow.  A reason connectd sends is mapped to one of a fixed set of
 * words (the log never carries its bytes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ask.h"
#include "ctl.h"
#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "policy.h"
#include "rule.h"

#include "dask.h"

struct hold {
	struct hold *next;
	dask_cb cb;
	void *arg;
};

struct asked {
	struct asked *next;
	struct dask *t;
	char wl[EG_IPC_WL_NAME_MAX + 1];
	char name[EG_NAME_MAX + 1];
	struct hold *holds;
	size_t nholds;
};

struct dask {
	struct dask_broker b;
	struct asked *names;
	struct dask_stats st;
};

struct dask *
dask_new(const struct dask_broker *b)
{
	struct dask *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if (b != NULL)
		t->b = *b;
	return t;
}

bool
dask_wanted(enum eg_policy_mode mode, int reason, uint16_t qtype)
{
	/* Only what a rule could admit, and only the types a bare
	 * `allow = NAME` answers: a TXT or NULL query for an unknown name
	 * is a tunnel's, never a question for a person. */
	return mode == EG_MODE_ASK && eg_qtype_default(qtype) &&
	    (reason == EG_R_NO_RULE || reason == EG_R_PORT ||
	    reason == EG_R_EMPTY);
}

static struct asked *
find(struct dask *t, const char *wl, const char *name)
{
	struct asked *a;

	for (a = t->names; a != NULL; a = a->next)
		if (strcmp(a->name, name) == 0 && strcmp(a->wl, wl) == 0)
			return a;
	return NULL;
}

/* Unlink a from the table, then answer each of its queries. */
static void
answer(struct asked *a, bool allow, const char *reason)
{
	struct dask *t = a->t;
	struct asked **pp;
	struct hold *h;

	for (pp = &t->names; *pp != NULL; pp = &(*pp)->next)
		if (*pp == a) {
			*pp = a->next;
			t->st.names--;
			break;
		}
	while ((h = a->holds) != NULL) {
		a->holds = h->next;
		t->st.held--;
		if (allow)
			t->st.allowed++;
		else
			t->st.denied++;
		h->cb(h->arg, allow, reason);
		free(h);
	}
	free(a);
}

static void
on_answer(void *arg, bool allow, const char *reason)
{
	answer(arg, allow, reason);
}

int
dask_hold(struct dask *t, const struct eg_config *cfg, const char *wl,
    const char *name, uint16_t qtype, const struct eg_ip *src, dask_cb cb,
    void *arg, const char **why)
{
	char norm[EG_NAME_MAX + 1];
	struct asked *a;
	struct hold *h;

	/* the broker takes a name in normal form only (ipc.c) */
	*why = "ask-bad-name";
	if (!eg_name_normalise(name, norm, NULL) || strcmp(norm, name) != 0 ||
	    eg_is_ip_literal(name) || src->family == 0)
		return -1;
	*why = "ask-no-broker";
	if (t == NULL || t->b.ask == NULL)
		return -1;
	*why = "ask-busy";
	if ((a = find(t, wl, name)) == NULL) {
		if (t->st.names >= cfg->ask.max)
			goto busy;
		if ((a = calloc(1, sizeof(*a))) == NULL)
			goto busy;
		a->t = t;
		snprintf(a->wl, sizeof(a->wl), "%s", wl);
		snprintf(a->name, sizeof(a->name), "%s", name);
		if (t->b.ask(t->b.ctx, wl, name, qtype, src,
		    cfg->ask.dns_hold_ms, on_answer, a) != 0) {
			free(a);
			*why = "ask-no-broker";
			return -1;
		}
		a->next = t->names;
		t->names = a;
		t->st.names++;
		t->st.asked++;
	} else if (a->nholds >= DASK_PER_NAME)
		goto busy;
	else
		t->st.joined++;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		goto busy;	/* a stays: its answer finds no query */
	h->cb = cb;
	h->arg = arg;
	h->next = a->holds;
	a->holds = h;
	a->nholds++;
	t->st.held++;
	return 0;
 busy:
	t->st.busy++;
	return -1;
}

void
dask_stats(const struct dask *t, struct dask_stats *st)
{
	if (t == NULL)
		memset(st, 0, sizeof(*st));
	else
		*st = t->st;
}

size_t
dask_stats_text(const struct dask *t, char *buf, size_t len)
{
	struct dask_stats s;
	int n;

	dask_stats(t, &s);
	n = snprintf(buf, len, "ask_asked=%llu\nask_joined=%llu\n"
	    "ask_busy=%llu\nask_allowed=%llu\nask_denied=%llu\n"
	    "ask_names=%zu\nask_held=%zu\n", (unsigned long long)s.asked,
	    (unsigned long long)s.joined, (unsigned long long)s.busy,
	    (unsigned long long)s.allowed, (unsigned long long)s.denied,
	    s.names, s.held);
	if (n < 0 || len == 0)
		return 0;
	return (size_t)n >= len ? len - 1 : (size_t)n;
}

/*
 * The broker's callbacks still point at the entries: dask_free is for
 * the end of the process and for tests, after the broker is gone (its
 * callbacks ran or were cancelled).
 */
void
dask_free(struct dask *t)
{
	if (t == NULL)
		return;
	while (t->names != NULL)
		answer(t->names, false, "ask-stopped");
	free(t);
}

/* ---- connectd as the broker */

struct dask_connectd {
	uv_loop_t *loop;
	struct eg_ctl_client *cl;	/* NULL until ask mode needs it */
	char path[512];
};

struct creq {
	dask_cb cb;
	void *arg;
};

/* connectd's reason as one of ours: a static string, never its bytes. */
static const char *
known_reason(const char *r, bool allow)
{
	static const char *const words[] = {
		"ask-once", "ask-for", "ask-always", "ask-granted",
		"ask-deny", "ask-timeout", "ask-no-decider",
		"ask-decider-gone", "ask-busy", "ask-off",
	};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(r, words[i]) == 0)
			return words[i];
	return allow ? "ask-allow" : "ask-deny";
}

static void
on_rep(int status, const struct eg_ipc_msg *msg, void *arg)
{
	struct creq *r = arg;
	const struct eg_msg_ask_rep *rep;
	char reason[EG_ASK_REASON_MAX + 1];
	bool allow = false;
	const char *why;

	if (status == -ETIMEDOUT)
		why = "ask-hold-timeout";
	else if (status != 0 || msg == NULL || msg->hdr.type !=
	    EG_MSG_ASK_REP || (rep = eg_ipc_ask_rep(msg, reason)) == NULL)
		why = "ask-no-broker";
	else {
		allow = rep->allow == 1;
		why = known_reason(reason, allow);
	}
	r->cb(r->arg, allow, why);
	free(r);
}

static int
connectd_ask(void *ctx, const char *wl, const char *name, uint16_t qtype,
    const struct eg_ip *src, uint64_t timeout_ms, dask_cb cb, void *arg)
{
	struct dask_connectd *c = ctx;
	struct eg_msg_ask_req h;
	char tail[EG_NAME_MAX + EG_IPC_WL_NAME_MAX];
	size_t nl = strlen(name), wll = strlen(wl);
	struct creq *r;

	if (nl == 0 || nl > EG_NAME_MAX || wll == 0 ||
	    wll > EG_IPC_WL_NAME_MAX)
		return -1;
	/* a reload into mode = ask: connect now (unix, synchronous) */
	if (c->cl == NULL &&
	    (c->cl = eg_ctl_client_new(c->loop, c->path)) == NULL)
		return -1;
	if ((r = malloc(sizeof(*r))) == NULL)
		return -1;
	memset(&h, 0, sizeof(h));
	h.qtype = qtype;
	h.namelen = (uint8_t)nl;
	h.wllen = (uint8_t)wll;
	h.family = src->family;
	memcpy(h.addr, src->addr, sizeof(h.addr));
	memcpy(tail, name, nl);
	memcpy(tail + nl, wl, wll);
	r->cb = cb;
	r->arg = arg;
	/* the request's own timeout is the hold: its callback then says
	 * -ETIMEDOUT, and connectd's late answer is dropped by ctl.c */
	if (eg_ctl_request2(c->cl, EG_MSG_ASK_REQ, &h, sizeof(h), tail,
	    nl + wll, timeout_ms, on_rep, r) < 0) {
		free(r);
		return -1;
	}
	return 0;
}

/*
 * Connected at once when the config asks, so the first held query finds
 * the connection up; otherwise only when a reload turns ask mode on.
 */
struct dask_connectd *
dask_connectd_new(uv_loop_t *loop, const struct eg_config *cfg)
{
	struct dask_connectd *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->loop = loop;
	eg_daemon_sock_path(cfg, "connectd", c->path, sizeof(c->path));
	if (eg_ask_configured(cfg) && (c->cl = eg_ctl_client_new(loop, c->path)) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
dask_connectd_broker(struct dask_connectd *c, struct dask_broker *out)
{
	out->ask = connectd_ask;
	out->ctx = c;
}

void
dask_connectd_free(struct dask_connectd *c)
{
	if (c == NULL)
		return;
	eg_ctl_client_free(c->cl);	/* pending requests: -ECANCELED */
	free(c);
}
