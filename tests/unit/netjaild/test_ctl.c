/*
 * test_ctl.c - netjaild's control-socket dispatcher: which role may touch
 * which set, the timeout caps, and that a kernel refusal reaches the peer.
 * ctl.c is included so its static helpers are in reach; the control
 * socket and the kernel are replaced by the recorders below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../../netjaild/ctl.c"

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

/* ---- helpers ---- */

static struct eg_config cfg;
static struct nj_ruleset rs;
static struct nj_state st;

static int
setup(void **state)
{
	int i;

	memset(&reply, 0, sizeof(reply));
	memset(&kernel, 0, sizeof(kernel));
	memset(&cfg, 0, sizeof(cfg));
	memset(&rs, 0, sizeof(rs));
	memset(&st, 0, sizeof(st));
	cfg.dohd.max_ttl = 3600;
	for (i = 0; i < NJ_SET__MAX; i++) {
		rs.sets[i].name = nj_set_names[i];
		rs.sets[i].key = i < 2 ? (enum nj_keytype)i :
		    rules_set_family(i) == AF_INET ? NJ_KEY_V4PORT :
		    NJ_KEY_V6PORT;
	}
	st.cfg = &cfg;
	st.rs = &rs;
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
	nj_ctl_handler(NULL, role, &msg, &st);
}

/* ---- tests ---- */

static void
dohd_may_push_directs(void **state)
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
dohd_may_not_touch_hops(void **state)
{
	send_update(EG_ROLE_DOHD, EG_SET_HOPS, EG_SET_ADD, 5, 1000);
	assert_int_equal(kernel.calls, 0);
	assert_int_equal(reply.code, EPERM);
}

static void
connectd_may_push_hops_only(void **state)
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

static void
admin_may_not_push(void **state)
{
	send_update(EG_ROLE_ADMIN, EG_SET_DIRECT, EG_SET_ADD, 1, 1000);
	assert_int_equal(kernel.calls, 0);
	assert_int_equal(reply.code, EPERM);
}

static void
kernel_refusal_reaches_the_peer(void **state)
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
learned_add_refresh_delete(void **state)
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
configured_elements_are_not_learned(void **state)
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
configured_v6_direct_is_not_learned(void **state)
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
	nj_ctl_handler(NULL, EG_ROLE_DOHD, &msg, &st);
	assert_int_equal(reply.code, 0);
	assert_int_equal(st.learned[NJ_SET_DIRECT6_LEARNED].nelems, 1);
	assert_int_equal(st.learned[NJ_SET_DIRECT6_LEARNED].elems[0].lo[15], 8);
	assert_int_equal(st.learned[NJ_SET_DIRECT6].nelems, 0);
	free(rs.sets[NJ_SET_DIRECT6].elems);
}

static void
learned_age_drops_expired(void **state)
{
	send_update(EG_ROLE_DOHD, EG_SET_DOH, EG_SET_ADD, 1, 500);
	send_update(EG_ROLE_DOHD, EG_SET_DOH, EG_SET_ADD, 2, 600000);
	assert_int_equal(st.learned[NJ_SET_DOH4].nelems, 2);
	/* within a second of expiry: not carried into a new table */
	learned_age(&st);
	assert_int_equal(st.learned[NJ_SET_DOH4].nelems, 1);
	assert_true(st.learned[NJ_SET_DOH4].elems[0].timeout_ms <= 600000);
	assert_int_equal(st.learned[NJ_SET_DOH4].elems[0].lo[3], 2);
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test_setup_teardown(dohd_may_push_directs, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(dohd_may_not_touch_hops, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(connectd_may_push_hops_only,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(admin_may_not_push, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(kernel_refusal_reaches_the_peer,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(learned_add_refresh_delete,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    configured_elements_are_not_learned, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    configured_v6_direct_is_not_learned, setup, teardown),
		cmocka_unit_test_setup_teardown(learned_age_drops_expired,
		    setup, teardown),
	};

	return cmocka_run_group_tests_name("netjaild_ctl", t, NULL, NULL);
}
