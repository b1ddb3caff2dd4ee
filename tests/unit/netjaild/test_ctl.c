/*
 * test_ctl.c - netjaild's control-socket dispatcher: which role may touch
 * which set, the timeout caps, and that a kernel refusal reaches the peer.
 * control.c and apply.c (the learned elements) are included so their
 * static helpers are in reach; the control socket and the kernel are
 * replaced by the recorders below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../../netjaild/apply.c"
#include "../../../netjaild/control.c"

#include "test_list.h"

/* ---- recorders standing in for libegress's ctl and for sets.c ---- */

static struct {
	uint16_t type;
	uint32_t id;
	int32_t code;
	char text[256];
	int n;
} reply;

static struct {
	int calls;
	enum eg_set which;
	enum eg_set_op op;
	uint64_t cap;
	size_t n;
	int rc;
} kernel;

int
eg_ctl_reply(struct eg_ctl_conn *c, uint16_t type, uint32_t id,
    const void *payload, size_t len)
{
	return eg_ctl_reply2(c, type, id, payload, len, NULL, 0);
}

int
eg_ctl_reply2(struct eg_ctl_conn *c, uint16_t type, uint32_t id,
    const void *head, size_t headlen, const void *tail, size_t taillen)
{
	const struct eg_msg_result *r = head;

	reply.type = type;
	reply.id = id;
	reply.code = headlen >= sizeof(*r) ? r->code : -1;
	snprintf(reply.text, sizeof(reply.text), "%.*s", (int)taillen,
	    tail ? (const char *)tail : "");
	reply.n++;
	return 0;
}

uid_t
eg_ctl_peer_uid(const struct eg_ctl_conn *c)
{
	return 0;
}

int
sets_update(struct nj_nl *nl, const struct nj_ruleset *rs, enum eg_set which,
    enum eg_set_op op, const struct eg_set_elem *elems, size_t n,
    uint64_t cap_ms, char *err, size_t errlen)
{
	kernel.calls++;
	kernel.which = which;
	kernel.op = op;
	kernel.cap = cap_ms;
	kernel.n = n;
	if (kernel.rc)
		snprintf(err, errlen, "kernel says no");
	return kernel.rc;
}

/* steer.c: the table rebuilt with the registrations; counted here, and
 * the answer given at once (steer.c's batching is not under test) */
static int steers;

void
nj_wl_steer_later(struct nj_state *s, struct eg_ctl_conn *c, uint32_t id,
    bool changed)
{
	if (changed)
		steers++;
	if (c != NULL)
		nj_wl_ack(c, id, 0);
}

void
nj_wl_steer_forget(struct nj_state *s, const struct eg_ctl_conn *c)
{
}

/* ---- helpers ---- */

static struct eg_config cfg;
static struct nj_ruleset rs;
static struct nj_state st;
/* the names dohd and connectd resolve for netjaild: both on port 443 */
static struct eg_direct directs[2];
static struct eg_hop hops[2];
static uint32_t generations;
/* two workloads, ci and web */
static char wl_names[2][8] = { "ci", "web" };
static struct eg_workload workloads[2];

static int
setup(void **state)
{
	int i;

	memset(&reply, 0, sizeof(reply));
	memset(&kernel, 0, sizeof(kernel));
	steers = 0;
	memset(&cfg, 0, sizeof(cfg));
	memset(&rs, 0, sizeof(rs));
	memset(&st, 0, sizeof(st));
	cfg.dohd.max_ttl = 3600;
	memset(directs, 0, sizeof(directs));
	memset(hops, 0, sizeof(hops));
	directs[0].ep.is_name = true;
	snprintf(directs[0].ep.name, sizeof(directs[0].ep.name), "db.test");
	directs[0].ep.port = 443;
	directs[1].ep.cidr.ip.family = AF_INET;	/* a literal: 10.9.9.9:22 */
	directs[1].ep.cidr.ip.addr[0] = 10;
	directs[1].ep.cidr.plen = 32;
	directs[1].ep.port = 22;
	cfg.jail.direct = directs;
	cfg.jail.ndirect = 2;
	snprintf(hops[0].host, sizeof(hops[0].host), "proxy.test");
	hops[0].port = 443;
	hops[1].host_is_ip = true;		/* a literal: 10.8.8.8:3128 */
	hops[1].port = 3128;
	cfg.chain.hops = hops;
	cfg.chain.nhops = 2;
	for (i = 0; i < NJ_SET__MAX; i++) {
		rs.sets[i].name = nj_set_names[i];
		rs.sets[i].key = i < 2 ? (enum nj_keytype)i :
		    rules_set_family(i) == AF_INET ? NJ_KEY_V4PORT :
		    NJ_KEY_V6PORT;
	}
	memset(workloads, 0, sizeof(workloads));
	workloads[0].name = wl_names[0];
	workloads[1].name = wl_names[1];
	cfg.workloads = workloads;
	cfg.nworkloads = 2;
	st.cfg = &cfg;
	st.rs = &rs;
	/* every test's config is a new one, as a reload's is */
	st.generation = ++generations;
	learned_sync_meta(&st);
	return 0;
}

static int
teardown(void **state)
{
	int i;

	for (i = 0; i < NJ_SET__MAX; i++) {
		free(st.learned[i].elems);
		free(st.learned_until[i]);
	}
	nj_wlreg_free(&st.wlregs);
	return 0;
}

static uint8_t msgbuf[EG_IPC_MAX_MSG];

/* One SET_UPDATE with one IPv4 element 10.0.0.N:443. */
static void
send_update(enum eg_role role, enum eg_set set, enum eg_set_op op,
    uint8_t n, uint32_t timeout_ms)
{
	struct eg_ipc_hdr *h = (void *)msgbuf;
	struct eg_msg_set_update *u = (void *)(msgbuf + sizeof(*h));
	struct eg_set_elem *e = (void *)(u + 1);
	struct eg_ipc_msg msg;

	memset(msgbuf, 0, sizeof(msgbuf));
	h->type = EG_MSG_SET_UPDATE;
	h->len = sizeof(*u) + sizeof(*e);
	h->id = 42;
	u->set = set;
	u->op = op;
	u->count = 1;
	e->family = AF_INET;
	e->port = 443;
	e->timeout_ms = timeout_ms;
	e->addr[0] = 10;
	e->addr[3] = n;
	assert_int_equal(eg_ipc_decode(msgbuf, sizeof(*h) + h->len, &msg), 0);
	netjaild_dispatch(NULL, role, &msg, &st);
}

/* One SET_UPDATE with the given elements, as a peer would send it. */
static void
send_elems(enum eg_role role, enum eg_set set, const struct eg_set_elem *el,
    uint16_t n)
{
	struct eg_ipc_hdr *h = (void *)msgbuf;
	struct eg_msg_set_update *u = (void *)(msgbuf + sizeof(*h));
	struct eg_ipc_msg msg;

	memset(msgbuf, 0, sizeof(msgbuf));
	h->type = EG_MSG_SET_UPDATE;
	h->len = sizeof(*u) + n * sizeof(*el);
	h->id = 44;
	u->set = set;
	u->op = EG_SET_ADD;
	u->count = n;
	memcpy(u + 1, el, n * sizeof(*el));
	assert_int_equal(eg_ipc_decode(msgbuf, sizeof(*h) + h->len, &msg), 0);
	netjaild_dispatch(NULL, role, &msg, &st);
}

static struct eg_set_elem
v4elem(uint8_t a, uint8_t b, uint16_t port)
{
	struct eg_set_elem e;

	memset(&e, 0, sizeof(e));
	e.family = AF_INET;
	e.port = port;
	e.timeout_ms = 60000;
	e.addr[0] = 10;
	e.addr[2] = a;
	e.addr[3] = b;
	return e;
}

/* ---- tests ---- */

static void
test_ctl_dohd_may_push_directs(void **state)
{
	send_update(EG_ROLE_DOHD, EG_SET_DIRECT, EG_SET_ADD, 5, 300000);
	assert_int_equal(kernel.calls, 1);
	assert_int_equal(kernel.which, EG_SET_DIRECT);
	/* max_ttl plus a minute of grace */
	assert_int_equal(kernel.cap, 3600 * 1000 + 60000);
	assert_int_equal(reply.type, EG_MSG_SET_ACK);
	assert_int_equal(reply.id, 42);
	assert_int_equal(reply.code, 0);
	/* learned directs live in the hash set, not the interval set */
	assert_int_equal(st.learned[NJ_SET_DIRECT4_LEARNED].nelems, 1);
	assert_int_equal(st.learned[NJ_SET_DIRECT4].nelems, 0);
}

static void
test_ctl_dohd_may_not_touch_hops(void **state)
{
	send_update(EG_ROLE_DOHD, EG_SET_HOPS, EG_SET_ADD, 5, 1000);
	assert_int_equal(kernel.calls, 0);
	assert_int_equal(reply.code, EPERM);
}

static void
test_ctl_connectd_may_push_hops_only(void **state)
{
	send_update(EG_ROLE_CONNECTD, EG_SET_HOPS, EG_SET_ADD, 2, 300000);
	assert_int_equal(kernel.calls, 1);
	assert_int_equal(kernel.cap, NJ_HOPS_CAP_MS);
	assert_int_equal(reply.code, 0);
	send_update(EG_ROLE_CONNECTD, EG_SET_DIRECT, EG_SET_ADD, 2, 1000);
	assert_int_equal(kernel.calls, 1);
	assert_int_equal(reply.code, EPERM);
	send_update(EG_ROLE_CONNECTD, EG_SET_DOH, EG_SET_ADD, 2, 1000);
	assert_int_equal(kernel.calls, 1);
	assert_int_equal(reply.code, EPERM);
}

/* The control socket drops an admin that sends SET_UPDATE (ipc_roles.c);
 * should one reach the dispatcher, admin's answers none, and the set rule
 * refuses admin too. */
static void
test_ctl_admin_may_not_push(void **state)
{
	struct eg_set_elem e = v4elem(0, 1, 443);
	char why[128];

	send_update(EG_ROLE_ADMIN, EG_SET_DIRECT, EG_SET_ADD, 1, 1000);
	assert_int_equal(kernel.calls, 0);
	assert_int_equal(reply.type, EG_MSG_ERROR);
	assert_int_equal(st.learned[NJ_SET_DIRECT4_LEARNED].nelems, 0);
	assert_int_equal(nj_admit_update(&st, EG_ROLE_ADMIN, EG_SET_DIRECT,
	    EG_SET_ADD, &e, 1, why, sizeof(why)), -EPERM);
}

static void
test_ctl_kernel_refusal_reaches_the_peer(void **state)
{
	kernel.rc = -ERANGE;
	send_update(EG_ROLE_DOHD, EG_SET_DIRECT, EG_SET_ADD, 7, 1000);
	assert_int_equal(reply.code, ERANGE);
	/* a SET_ACK carries no text (ipc.h): the reason is logged */
	assert_string_equal(reply.text, "");
	/* nothing remembered that the kernel does not hold */
	assert_int_equal(st.learned[NJ_SET_DIRECT4_LEARNED].nelems, 0);
}

static void
test_ctl_learned_add_refresh_delete(void **state)
{
	send_update(EG_ROLE_DOHD, EG_SET_DIRECT, EG_SET_ADD, 9, 1000);
	send_update(EG_ROLE_DOHD, EG_SET_DIRECT, EG_SET_ADD, 9, 50000);
	assert_int_equal(st.learned[NJ_SET_DIRECT4_LEARNED].nelems, 1);
	assert_int_equal(st.learned[NJ_SET_DIRECT4_LEARNED].elems[0].timeout_ms, 50000);
	send_update(EG_ROLE_DOHD, EG_SET_DIRECT, EG_SET_DEL, 9, 0);
	assert_int_equal(kernel.op, EG_SET_DEL);
	assert_int_equal(st.learned[NJ_SET_DIRECT4_LEARNED].nelems, 0);
}

static void
test_ctl_configured_elements_are_not_learned(void **state)
{
	struct nj_elem e;
	uint8_t net[4] = { 10, 0, 0, 0 };

	rules_elem_addr(&e, AF_INET, net, 24, 443);
	assert_int_equal(rules_set_add(&rs.sets[NJ_SET_DIRECT4], &e), 0);
	/* 10.0.0.5:443 lies in the configured 10.0.0.0/24 . 443 */
	send_update(EG_ROLE_DOHD, EG_SET_DIRECT, EG_SET_ADD, 5, 1000);
	assert_int_equal(reply.code, 0);
	assert_int_equal(st.learned[NJ_SET_DIRECT4_LEARNED].nelems, 0);
	free(rs.sets[NJ_SET_DIRECT4].elems);
}

/* A configured single address covers a learned one too (IPv6 here). */
static void
test_ctl_configured_v6_direct_is_not_learned(void **state)
{
	struct eg_ipc_hdr *h = (void *)msgbuf;
	struct eg_msg_set_update *u = (void *)(msgbuf + sizeof(*h));
	struct eg_set_elem *el = (void *)(u + 1);
	struct eg_ipc_msg msg;
	struct nj_elem e;
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };

	rules_elem_addr(&e, AF_INET6, a, -1, 443);
	assert_int_equal(rules_set_add(&rs.sets[NJ_SET_DIRECT6], &e), 0);
	memset(msgbuf, 0, sizeof(msgbuf));
	h->type = EG_MSG_SET_UPDATE;
	h->len = sizeof(*u) + 2 * sizeof(*el);
	h->id = 43;
	u->set = EG_SET_DIRECT;
	u->op = EG_SET_ADD;
	u->count = 2;
	el[0].family = AF_INET6;
	el[0].port = 443;
	el[0].timeout_ms = 1000;
	memcpy(el[0].addr, a, 16);
	el[1] = el[0];
	el[1].addr[15] = 8;		/* not configured: learned */
	assert_int_equal(eg_ipc_decode(msgbuf, sizeof(*h) + h->len, &msg), 0);
	netjaild_dispatch(NULL, EG_ROLE_DOHD, &msg, &st);
	assert_int_equal(reply.code, 0);
	assert_int_equal(st.learned[NJ_SET_DIRECT6_LEARNED].nelems, 1);
	assert_int_equal(st.learned[NJ_SET_DIRECT6_LEARNED].elems[0].lo[15], 8);
	assert_int_equal(st.learned[NJ_SET_DIRECT6].nelems, 0);
	free(rs.sets[NJ_SET_DIRECT6].elems);
}

static void
test_ctl_learned_age_drops_expired(void **state)
{
	send_update(EG_ROLE_DOHD, EG_SET_DIRECT, EG_SET_ADD, 1, 500);
	send_update(EG_ROLE_DOHD, EG_SET_DIRECT, EG_SET_ADD, 2, 600000);
	assert_int_equal(st.learned[NJ_SET_DIRECT4_LEARNED].nelems, 2);
	/* within a second of expiry: not carried into a new table */
	learned_age(&st);
	assert_int_equal(st.learned[NJ_SET_DIRECT4_LEARNED].nelems, 1);
	assert_true(st.learned[NJ_SET_DIRECT4_LEARNED].elems[0].timeout_ms <=
	    600000);
	assert_int_equal(st.learned[NJ_SET_DIRECT4_LEARNED].elems[0].lo[3], 2);
}

/* Only the ports of the configured direct names may be learned. */
static void
test_ctl_hostile_direct_wrong_port(void **state)
{
	struct eg_set_elem e[2] = { v4elem(0, 5, 443), v4elem(0, 6, 8080) };

	send_elems(EG_ROLE_DOHD, EG_SET_DIRECT, &e[1], 1);
	assert_int_equal(kernel.calls, 0);
	assert_int_equal(reply.code, EPERM);
	/* the literal direct's port is not a name's: nothing to learn */
	e[1].port = 22;
	send_elems(EG_ROLE_DOHD, EG_SET_DIRECT, &e[1], 1);
	assert_int_equal(kernel.calls, 0);
	assert_int_equal(reply.code, EPERM);
	/* one bad element spoils the whole update */
	e[1].port = 8080;
	send_elems(EG_ROLE_DOHD, EG_SET_DIRECT, e, 2);
	assert_int_equal(kernel.calls, 0);
	assert_int_equal(reply.code, EPERM);
	assert_int_equal(st.learned[NJ_SET_DIRECT4_LEARNED].nelems, 0);
	send_elems(EG_ROLE_DOHD, EG_SET_DIRECT, e, 1);
	assert_int_equal(kernel.calls, 1);
	assert_int_equal(reply.code, 0);
}

/* With no direct name at all, dohd has nothing to teach. */
static void
test_ctl_hostile_direct_no_names(void **state)
{
	struct eg_set_elem e = v4elem(0, 5, 443);

	cfg.jail.direct = &directs[1];
	cfg.jail.ndirect = 1;
	st.generation = ++generations;	/* a changed config: a new generation */
	send_elems(EG_ROLE_DOHD, EG_SET_DIRECT, &e, 1);
	assert_int_equal(kernel.calls, 0);
	assert_int_equal(reply.code, EPERM);
}

/* ipv6 = drop: no IPv6 element; an unknown family is never taken. */
static void
test_ctl_hostile_direct_wrong_family(void **state)
{
	struct eg_set_elem e = v4elem(0, 5, 443);
	char why[256];

	e.family = AF_INET6;
	e.addr[0] = 0x20;
	cfg.jail.ipv6 = EG_IPV6_DROP;
	send_elems(EG_ROLE_DOHD, EG_SET_DIRECT, &e, 1);
	assert_int_equal(kernel.calls, 0);
	assert_int_equal(reply.code, EPERM);
	cfg.jail.ipv6 = EG_IPV6_JAIL;
	/* the decoder stops this one before netjaild; admit stops it too */
	e.family = AF_UNIX;
	assert_int_equal(nj_admit_update(&st, EG_ROLE_DOHD, EG_SET_DIRECT,
	    EG_SET_ADD, &e, 1, why, sizeof(why)), -EPERM);
	e.family = AF_INET6;
	send_elems(EG_ROLE_DOHD, EG_SET_DIRECT, &e, 1);
	assert_int_equal(kernel.calls, 1);
	assert_int_equal(reply.code, 0);
}

/* No name resolves to "any address": 0.0.0.0, multicast, broadcast. */
static void
test_ctl_hostile_direct_wildcard_addresses(void **state)
{
	struct eg_set_elem e = v4elem(0, 0, 443);

	e.addr[0] = 0;
	send_elems(EG_ROLE_DOHD, EG_SET_DIRECT, &e, 1);
	assert_int_equal(reply.code, EPERM);
	e.addr[0] = 224;
	send_elems(EG_ROLE_DOHD, EG_SET_DIRECT, &e, 1);
	assert_int_equal(reply.code, EPERM);
	memset(e.addr, 255, 4);
	send_elems(EG_ROLE_DOHD, EG_SET_DIRECT, &e, 1);
	assert_int_equal(reply.code, EPERM);
	memset(e.addr, 0, 16);
	e.family = AF_INET6;		/* :: */
	send_elems(EG_ROLE_DOHD, EG_SET_DIRECT, &e, 1);
	assert_int_equal(reply.code, EPERM);
	e.addr[0] = 0xff;		/* ff00::/8 */
	send_elems(EG_ROLE_DOHD, EG_SET_DIRECT, &e, 1);
	assert_int_equal(reply.code, EPERM);
	assert_int_equal(kernel.calls, 0);
}

/* dohd never learns DoH addresses: the bootstrap addresses are config. */
static void
test_ctl_hostile_doh_set(void **state)
{
	send_update(EG_ROLE_DOHD, EG_SET_DOH, EG_SET_ADD, 5, 1000);
	assert_int_equal(kernel.calls, 0);
	assert_int_equal(reply.code, EPERM);
	assert_false(eg_ipc_set_allowed(EG_ROLE_DOHD, EG_SET_DOH));
}

/* At most NJ_LEARNED_PER_NAME live learned addresses per name. */
static void
test_ctl_hostile_direct_over_the_bound(void **state)
{
	struct eg_set_elem e[EG_SET_MAX_ELEMS];
	int i, j, sent = 0;

	for (i = 0; sent < NJ_LEARNED_PER_NAME; i++) {
		for (j = 0; j < EG_SET_MAX_ELEMS; j++)
			e[j] = v4elem((uint8_t)i, (uint8_t)j, 443);
		send_elems(EG_ROLE_DOHD, EG_SET_DIRECT, e, EG_SET_MAX_ELEMS);
		assert_int_equal(reply.code, 0);
		sent += EG_SET_MAX_ELEMS;
	}
	assert_int_equal(st.learned[NJ_SET_DIRECT4_LEARNED].nelems,
	    NJ_LEARNED_PER_NAME);
	/* a refresh of what is there is not growth */
	send_elems(EG_ROLE_DOHD, EG_SET_DIRECT, e, EG_SET_MAX_ELEMS);
	assert_int_equal(reply.code, 0);
	i = kernel.calls;
	e[0] = v4elem(250, 1, 443);
	send_elems(EG_ROLE_DOHD, EG_SET_DIRECT, e, 1);
	assert_int_equal(kernel.calls, i);
	assert_int_equal(reply.code, ENOSPC);
	assert_int_equal(st.learned[NJ_SET_DIRECT4_LEARNED].nelems,
	    NJ_LEARNED_PER_NAME);
}

/* connectd learns only the addresses of hops given by name, on their port. */
static void
test_ctl_hostile_hop_wrong_port(void **state)
{
	struct eg_set_elem e = v4elem(1, 1, 3128);

	/* 3128 is the port of the literal hop: nothing to learn there */
	send_elems(EG_ROLE_CONNECTD, EG_SET_HOPS, &e, 1);
	assert_int_equal(kernel.calls, 0);
	assert_int_equal(reply.code, EPERM);
	e.port = 443;
	send_elems(EG_ROLE_CONNECTD, EG_SET_HOPS, &e, 1);
	assert_int_equal(kernel.calls, 1);
	assert_int_equal(reply.code, 0);
}

/* A reload forgets what the new config no longer admits. */
static void
test_ctl_reload_prunes_what_is_gone(void **state)
{
	struct eg_set_elem e[2] = { v4elem(0, 5, 443), v4elem(0, 6, 443) };
	struct eg_set_elem h = v4elem(1, 1, 443);

	send_elems(EG_ROLE_DOHD, EG_SET_DIRECT, e, 2);
	send_elems(EG_ROLE_CONNECTD, EG_SET_HOPS, &h, 1);
	assert_int_equal(st.learned[NJ_SET_DIRECT4_LEARNED].nelems, 2);
	assert_int_equal(st.learned[NJ_SET_HOPS4].nelems, 1);
	/* the same config: nothing goes */
	nj_admit_prune(&st, &cfg);
	assert_int_equal(st.learned[NJ_SET_DIRECT4_LEARNED].nelems, 2);
	/* db.test moved to 5432: its 443 addresses go, the hop's stay */
	directs[0].ep.port = 5432;
	nj_admit_prune(&st, &cfg);
	assert_int_equal(st.learned[NJ_SET_DIRECT4_LEARNED].nelems, 0);
	assert_int_equal(st.learned[NJ_SET_HOPS4].nelems, 1);
	/* the hop given by address now: its learned address goes */
	hops[0].host_is_ip = true;
	nj_admit_prune(&st, &cfg);
	assert_int_equal(st.learned[NJ_SET_HOPS4].nelems, 0);
}

/* ---- workload listeners ---- */

/* Two control connections; only their addresses matter here. */
static int conn_a, conn_b;
#define CONN_A	((struct eg_ctl_conn *)(void *)&conn_a)
#define CONN_B	((struct eg_ctl_conn *)(void *)&conn_b)

/* One WL_LISTEN from conn c of role, decoded as the control socket does. */
static void
send_wl(struct eg_ctl_conn *c, enum eg_role role, uint8_t op,
    const char *name, uint8_t kind, uint8_t family, uint16_t port)
{
	struct eg_ipc_hdr *h = (void *)msgbuf;
	struct eg_msg_wl_listen *w = (void *)(msgbuf + sizeof(*h));
	struct eg_ipc_msg msg;

	memset(msgbuf, 0, sizeof(msgbuf));
	h->type = EG_MSG_WL_LISTEN;
	h->len = sizeof(*w) + strlen(name);
	h->id = 77;
	w->op = op;
	w->kind = kind;
	w->family = family;
	w->namelen = (uint8_t)strlen(name);
	w->port = port;
	memcpy(w + 1, name, strlen(name));
	reply.code = -1;
	assert_int_equal(eg_ipc_decode(msgbuf, sizeof(*h) + h->len, &msg), 0);
	netjaild_dispatch(c, role, &msg, &st);
}

static uint16_t
port_of(const char *name, uint8_t kind, uint8_t family)
{
	const struct nj_wlreg *r = nj_wlreg_find(&st.wlregs, name, kind,
	    family);

	return r ? r->port : 0;
}

static void
test_ctl_wl_register_replace_unregister(void **state)
{
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_REGISTER, "ci",
	    EG_WLL_TRANSPARENT, AF_INET, 40001);
	assert_int_equal(reply.type, EG_MSG_WL_ACK);
	assert_int_equal(reply.id, 77);
	assert_int_equal(reply.code, 0);
	assert_int_equal(port_of("ci", EG_WLL_TRANSPARENT, AF_INET), 40001);
	assert_int_equal(steers, 1);
	/* the same again changes nothing: no new table */
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_REGISTER, "ci",
	    EG_WLL_TRANSPARENT, AF_INET, 40001);
	assert_int_equal(reply.code, 0);
	assert_int_equal(steers, 1);
	/* the other family and kind are separate registrations */
	assert_int_equal(port_of("ci", EG_WLL_TRANSPARENT, AF_INET6), 0);
	assert_int_equal(port_of("ci", EG_WLL_PROXY, AF_INET), 0);
	/* registering again replaces: still one */
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_REGISTER, "ci",
	    EG_WLL_TRANSPARENT, AF_INET, 40002);
	assert_int_equal(reply.code, 0);
	assert_int_equal(st.wlregs.n, 1);
	assert_int_equal(port_of("ci", EG_WLL_TRANSPARENT, AF_INET), 40002);
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_REGISTER, "ci",
	    EG_WLL_PROXY, AF_INET6, 40003);
	send_wl(CONN_A, EG_ROLE_DOHD, EG_WL_REGISTER, "ci",
	    EG_WLL_DNS_UDP, AF_INET, 40004);
	assert_int_equal(reply.code, 0);
	assert_int_equal(st.wlregs.n, 3);
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_UNREGISTER, "ci",
	    EG_WLL_TRANSPARENT, AF_INET, 0);
	assert_int_equal(reply.code, 0);
	assert_int_equal(port_of("ci", EG_WLL_TRANSPARENT, AF_INET), 0);
	assert_int_equal(st.wlregs.n, 2);
	/* unregistering what is not there is no error and changes nothing */
	assert_int_equal(steers, 5);
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_UNREGISTER, "ci",
	    EG_WLL_TRANSPARENT, AF_INET, 0);
	assert_int_equal(reply.code, 0);
	assert_int_equal(st.wlregs.n, 2);
	assert_int_equal(steers, 5);
}

/* A daemon registers its own kinds of listener only. */
static void
test_ctl_wl_kinds_by_role(void **state)
{
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_REGISTER, "ci",
	    EG_WLL_DNS_UDP, AF_INET, 40001);
	assert_int_equal(reply.code, EPERM);
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_REGISTER, "ci",
	    EG_WLL_DNS_TCP, AF_INET, 40001);
	assert_int_equal(reply.code, EPERM);
	send_wl(CONN_A, EG_ROLE_DOHD, EG_WL_REGISTER, "ci",
	    EG_WLL_TRANSPARENT, AF_INET, 40001);
	assert_int_equal(reply.code, EPERM);
	send_wl(CONN_A, EG_ROLE_DOHD, EG_WL_REGISTER, "ci",
	    EG_WLL_PROXY, AF_INET, 40001);
	assert_int_equal(reply.code, EPERM);
	/* nor unregister another daemon's */
	send_wl(CONN_A, EG_ROLE_DOHD, EG_WL_REGISTER, "ci",
	    EG_WLL_DNS_TCP, AF_INET, 40001);
	assert_int_equal(reply.code, 0);
	send_wl(CONN_B, EG_ROLE_CONNECTD, EG_WL_UNREGISTER, "ci",
	    EG_WLL_DNS_TCP, AF_INET, 0);
	assert_int_equal(reply.code, EPERM);
	assert_int_equal(port_of("ci", EG_WLL_DNS_TCP, AF_INET), 40001);
	/* an admin reaching the dispatcher (the socket drops it first) */
	send_wl(CONN_A, EG_ROLE_ADMIN, EG_WL_REGISTER, "ci",
	    EG_WLL_TRANSPARENT, AF_INET, 40002);
	assert_int_equal(reply.type, EG_MSG_ERROR);
	assert_int_equal(st.wlregs.n, 1);
	/* only the one accepted registration touched the table */
	assert_int_equal(steers, 1);
}

static void
test_ctl_wl_unknown_workload_and_shared_port(void **state)
{
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_REGISTER, "nope",
	    EG_WLL_TRANSPARENT, AF_INET, 40001);
	assert_int_equal(reply.code, ENOENT);
	assert_int_equal(st.wlregs.n, 0);
	/* without workloads in the config (every daemon today) nothing
	 * registers */
	cfg.nworkloads = 0;
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_REGISTER, "ci",
	    EG_WLL_TRANSPARENT, AF_INET, 40001);
	assert_int_equal(reply.code, ENOENT);
	cfg.nworkloads = 2;
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_REGISTER, "ci",
	    EG_WLL_TRANSPARENT, AF_INET, 40001);
	assert_int_equal(reply.code, 0);
	/* one TCP port cannot be two workloads' listener ... */
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_REGISTER, "web",
	    EG_WLL_TRANSPARENT, AF_INET, 40001);
	assert_int_equal(reply.code, EADDRINUSE);
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_REGISTER, "web",
	    EG_WLL_PROXY, AF_INET, 40001);
	assert_int_equal(reply.code, EADDRINUSE);
	send_wl(CONN_A, EG_ROLE_DOHD, EG_WL_REGISTER, "web",
	    EG_WLL_DNS_TCP, AF_INET, 40001);
	assert_int_equal(reply.code, EADDRINUSE);
	/* ... nor two kinds of one workload's */
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_REGISTER, "ci",
	    EG_WLL_PROXY, AF_INET, 40001);
	assert_int_equal(reply.code, EADDRINUSE);
	assert_int_equal(port_of("web", EG_WLL_TRANSPARENT, AF_INET), 0);
	/* the same number over UDP, or in the other family, is another
	 * socket */
	send_wl(CONN_A, EG_ROLE_DOHD, EG_WL_REGISTER, "web",
	    EG_WLL_DNS_UDP, AF_INET, 40001);
	assert_int_equal(reply.code, 0);
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_REGISTER, "web",
	    EG_WLL_TRANSPARENT, AF_INET6, 40001);
	assert_int_equal(reply.code, 0);
	assert_int_equal(st.wlregs.n, 3);
}

/* A message that claims to be WL_LISTEN but is not one gets EBADMSG. */
static void
test_ctl_wl_malformed(void **state)
{
	struct eg_ipc_msg msg;
	struct eg_msg_wl_listen w = { .op = EG_WL_REGISTER,
	    .kind = EG_WLL_TRANSPARENT, .family = AF_INET, .namelen = 7,
	    .port = 1 };

	memset(msgbuf, 0, sizeof(msgbuf));
	memcpy(msgbuf, &w, sizeof(w));
	memcpy(msgbuf + sizeof(w), "default", 7);
	msg.hdr.type = EG_MSG_WL_LISTEN;
	msg.hdr.id = 5;
	msg.hdr.len = sizeof(w) + 7;
	msg.payload = msgbuf;
	netjaild_dispatch(CONN_A, EG_ROLE_CONNECTD, &msg, &st);
	assert_int_equal(reply.type, EG_MSG_WL_ACK);
	assert_int_equal(reply.code, EBADMSG);
	assert_int_equal(st.wlregs.n, 0);
}

/* A connection's registrations go with it; a reload drops workloads
 * the config lost. */
static void
test_ctl_wl_dropped_with_connection_and_workload(void **state)
{
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_REGISTER, "ci",
	    EG_WLL_TRANSPARENT, AF_INET, 40001);
	send_wl(CONN_A, EG_ROLE_CONNECTD, EG_WL_REGISTER, "web",
	    EG_WLL_TRANSPARENT, AF_INET, 40002);
	send_wl(CONN_B, EG_ROLE_DOHD, EG_WL_REGISTER, "web",
	    EG_WLL_DNS_UDP, AF_INET, 40003);
	assert_int_equal(st.wlregs.n, 3);
	/* connectd restarted: its new connection takes one over */
	send_wl(CONN_B, EG_ROLE_CONNECTD, EG_WL_REGISTER, "web",
	    EG_WLL_TRANSPARENT, AF_INET, 40004);
	assert_int_equal(steers, 4);
	netjaild_ctl_dropped(CONN_A, EG_ROLE_CONNECTD, &st);
	assert_int_equal(st.wlregs.n, 2);
	assert_int_equal(port_of("ci", EG_WLL_TRANSPARENT, AF_INET), 0);
	assert_int_equal(port_of("web", EG_WLL_TRANSPARENT, AF_INET), 40004);
	assert_int_equal(steers, 5);
	/* nothing of its left: no new table */
	netjaild_ctl_dropped(CONN_A, EG_ROLE_CONNECTD, &st);
	assert_int_equal(st.wlregs.n, 2);
	assert_int_equal(steers, 5);
	/* web left the config */
	cfg.nworkloads = 1;
	assert_int_equal(nj_wlreg_prune(&st.wlregs, &cfg), 2);
	assert_int_equal(st.wlregs.n, 0);
}

int
main(void)
{
	const struct CMUnitTest t[] = TEST_LIST(CTL_TESTS);

	return cmocka_run_group_tests_name("netjaild_ctl", t, NULL, NULL);
}
