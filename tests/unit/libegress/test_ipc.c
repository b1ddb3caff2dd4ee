/* test_ipc.c - IPC decoder, fd passing, sockets and the role table. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/in.h>

#include <cmocka.h>

#include "config.h"
#include "ipc.h"

#include "test_list.h"

static _Alignas(8) uint8_t wire[EG_IPC_MAX_MSG + 64];

/* Header + payload into the aligned wire buffer; returns datagram size. */
static size_t
mk(uint16_t type, const void *p, size_t len)
{
	struct eg_ipc_hdr h = { .type = type, .len = (uint32_t)len, .id = 7 };

	memcpy(wire, &h, sizeof(h));
	if (len > 0)
		memcpy(wire + sizeof(h), p, len);
	return sizeof(h) + len;
}

/* Decode the first n bytes of wire after fixing hdr.len to n - 12. */
static int
dec_n(size_t n)
{
	struct eg_ipc_msg m;
	uint32_t len = (uint32_t)(n - sizeof(struct eg_ipc_hdr));

	memcpy(wire + offsetof(struct eg_ipc_hdr, len), &len, sizeof(len));
	return eg_ipc_decode(wire, n, &m);
}

static int
dec(uint16_t type, const void *p, size_t len)
{
	struct eg_ipc_msg m;

	return eg_ipc_decode(wire, mk(type, p, len), &m);
}

/* Exact size accepted; one byte less and one byte more rejected. */
static void
exact(uint16_t type, const void *p, size_t len)
{
	uint8_t big[EG_IPC_MAX_PAYLOAD];
	size_t n;

	assert_true(len + 1 <= sizeof(big));
	if (len > 0)
		memcpy(big, p, len);
	big[len] = 0;
	n = mk(type, big, len + 1);
	assert_int_equal(dec_n(n - 1), 0);
	if (len > 0) {
		assert_int_equal(dec_n(n - 2), -1);
		assert_int_equal(errno, EBADMSG);
	}
	assert_int_equal(dec_n(n), -1);
	assert_int_equal(errno, EBADMSG);
}

static int
nfds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* ---- decoder ---------------------------------------------------------- */

static void
test_ipc_header(void **state)
{
	struct eg_ipc_hdr h = { .type = EG_MSG_STATUS_REQ };
	struct eg_ipc_msg m;

	(void)state;
	assert_int_equal(dec(EG_MSG_STATUS_REQ, NULL, 0), 0);
	/* Shorter than a header. */
	assert_int_equal(eg_ipc_decode(wire, 11, &m), -1);
	assert_int_equal(eg_ipc_decode(wire, 0, &m), -1);
	/* Flags must be zero. */
	h.flags = 1;
	memcpy(wire, &h, sizeof(h));
	assert_int_equal(eg_ipc_decode(wire, sizeof(h), &m), -1);
	/* len disagrees with the datagram, both ways. */
	h.flags = 0;
	h.len = 1;
	memcpy(wire, &h, sizeof(h));
	assert_int_equal(eg_ipc_decode(wire, sizeof(h), &m), -1);
	h.len = 0xffffffff;
	memcpy(wire, &h, sizeof(h));
	assert_int_equal(eg_ipc_decode(wire, sizeof(h), &m), -1);
	/* Unknown types. */
	assert_int_equal(dec(EG_MSG_NONE, NULL, 0), -1);
	assert_int_equal(dec(EG_MSG__MAX, NULL, 0), -1);
	assert_int_equal(dec(0xffff, NULL, 0), -1);
	/* Over the maximum message size. */
	assert_int_equal(eg_ipc_decode(wire, EG_IPC_MAX_MSG + 1, &m), -1);
	/* Misaligned buffer. */
	mk(EG_MSG_STATUS_REQ, NULL, 0);
	memmove(wire + 1, wire, 12);
	assert_int_equal(eg_ipc_decode(wire + 1, 12, &m), -1);
	assert_int_equal(errno, EBADMSG);
}

static void
test_ipc_fixed_sizes(void **state)
{
	struct eg_msg_error e = { .code = EPERM };
	struct eg_msg_result r = { 0, 0 };
	struct eg_ipc_msg m;

	(void)state;
	exact(EG_MSG_STATUS_REQ, NULL, 0);
	exact(EG_MSG_RELOAD_REQ, NULL, 0);
	exact(EG_MSG_ERROR, &e, sizeof(e));
	exact(EG_MSG_SET_ACK, &r, sizeof(r));
	/* A SET_ACK carries no text. */
	r.textlen = 2;
	memcpy(wire + 100, &r, sizeof(r));
	memcpy(wire + 100 + sizeof(r), "ok", 2);
	assert_int_equal(dec(EG_MSG_SET_ACK, wire + 100, sizeof(r) + 2), -1);
	/* Error codes are positive errno values. */
	e.code = 0;
	assert_int_equal(dec(EG_MSG_ERROR, &e, sizeof(e)), -1);
	e.code = -1;
	assert_int_equal(dec(EG_MSG_ERROR, &e, sizeof(e)), -1);
	e.code = 4096;
	assert_int_equal(dec(EG_MSG_ERROR, &e, sizeof(e)), -1);
	e.code = ETIMEDOUT;
	assert_int_equal(eg_ipc_decode(wire, mk(EG_MSG_ERROR, &e, sizeof(e)),
	    &m), 0);
	assert_int_equal(m.hdr.id, 7);
	assert_ptr_equal(m.payload, wire + 12);
}

static size_t
mk_text(void *out, size_t headlen, const void *head, const char *text,
    size_t textlen)
{
	memcpy(out, head, headlen);
	memcpy((uint8_t *)out + headlen, text, textlen);
	return headlen + textlen;
}

static void
test_ipc_result_text(void **state)
{
	uint8_t p[256];
	struct eg_msg_result r = { .code = 0, .textlen = 12 };
	const struct eg_msg_result *rr;
	struct eg_ipc_msg m;
	const char *text;
	size_t n;

	(void)state;
	n = mk_text(p, sizeof(r), &r, "reloaded\ngen", 12);
	exact(EG_MSG_RELOAD_REP, p, n);
	exact(EG_MSG_EXPLAIN_REP, p, n);
	assert_int_equal(eg_ipc_decode(wire, mk(EG_MSG_RELOAD_REP, p, n), &m),
	    0);
	rr = eg_ipc_result(&m, &text);
	assert_non_null(rr);
	assert_int_equal(rr->textlen, 12);
	assert_memory_equal(text, "reloaded\ngen", 12);
	/* Wrong accessor for the type. */
	assert_null(eg_ipc_status(&m, &text));
	/* textlen says more or less than arrived. */
	r.textlen = 13;
	n = mk_text(p, sizeof(r), &r, "reloaded\ngen", 12);
	assert_int_equal(dec(EG_MSG_RELOAD_REP, p, n), -1);
	r.textlen = 11;
	n = mk_text(p, sizeof(r), &r, "reloaded\ngen", 12);
	assert_int_equal(dec(EG_MSG_RELOAD_REP, p, n), -1);
	/* Huge textlen. */
	r.textlen = 0xffffffff;
	n = mk_text(p, sizeof(r), &r, "x", 1);
	assert_int_equal(dec(EG_MSG_RELOAD_REP, p, n), -1);
	/* NUL, control characters, DEL, high bytes. */
	r.textlen = 3;
	n = mk_text(p, sizeof(r), &r, "a\0b", 3);
	assert_int_equal(dec(EG_MSG_RELOAD_REP, p, n), -1);
	n = mk_text(p, sizeof(r), &r, "a\rb", 3);
	assert_int_equal(dec(EG_MSG_RELOAD_REP, p, n), -1);
	n = mk_text(p, sizeof(r), &r, "a\x1b" "b", 3);
	assert_int_equal(dec(EG_MSG_RELOAD_REP, p, n), -1);
	n = mk_text(p, sizeof(r), &r, "a\x7f" "b", 3);
	assert_int_equal(dec(EG_MSG_RELOAD_REP, p, n), -1);
	n = mk_text(p, sizeof(r), &r, "a\xc3" "b", 3);
	assert_int_equal(dec(EG_MSG_RELOAD_REP, p, n), -1);
	/* Negative result code. */
	r.code = -5;
	n = mk_text(p, sizeof(r), &r, "abc", 3);
	assert_int_equal(dec(EG_MSG_RELOAD_REP, p, n), -1);
}

static void
test_ipc_status(void **state)
{
	uint8_t p[EG_IPC_MAX_PAYLOAD];
	struct eg_msg_status s = { .ready = 1, .generation = 9, .textlen = 8 };
	const struct eg_msg_status *ps;
	struct eg_ipc_msg m;
	const char *text;
	size_t n;

	(void)state;
	n = mk_text(p, sizeof(s), &s, "rules=1\n", 8);
	exact(EG_MSG_STATUS_REP, p, n);
	assert_int_equal(eg_ipc_decode(wire, mk(EG_MSG_STATUS_REP, p, n), &m),
	    0);
	ps = eg_ipc_status(&m, &text);
	assert_non_null(ps);
	assert_int_equal(ps->ready, 1);
	assert_int_equal(ps->generation, 9);
	assert_memory_equal(text, "rules=1\n", 8);
	s.ready = 2;
	n = mk_text(p, sizeof(s), &s, "rules=1\n", 8);
	assert_int_equal(dec(EG_MSG_STATUS_REP, p, n), -1);
	s.ready = 0;
	s.pad[1] = 1;
	n = mk_text(p, sizeof(s), &s, "rules=1\n", 8);
	assert_int_equal(dec(EG_MSG_STATUS_REP, p, n), -1);
	/* The largest text that fits is accepted, one more byte is not. */
	s.pad[1] = 0;
	s.textlen = EG_IPC_MAX_PAYLOAD - sizeof(s);
	memset(p + sizeof(s), 'a', s.textlen);
	memcpy(p, &s, sizeof(s));
	assert_int_equal(dec(EG_MSG_STATUS_REP, p, EG_IPC_MAX_PAYLOAD), 0);
	assert_int_equal(eg_ipc_decode(wire, EG_IPC_MAX_MSG + 1, &m), -1);
}

static size_t
mk_set(uint8_t *p, uint8_t set, uint8_t op, uint16_t count,
    const struct eg_set_elem *e, size_t ne)
{
	struct eg_msg_set_update u = { .set = set, .op = op, .count = count };
	size_t i;

	memcpy(p, &u, sizeof(u));
	for (i = 0; i < ne; i++)
		memcpy(p + sizeof(u) + i * sizeof(*e), &e[i], sizeof(*e));
	return sizeof(u) + ne * sizeof(*e);
}

static void
test_ipc_set_update(void **state)
{
	static uint8_t p[4 + 70 * sizeof(struct eg_set_elem)];
	struct eg_set_elem e[70];
	const struct eg_msg_set_update *u;
	const struct eg_set_elem *el;
	struct eg_ipc_msg m;
	size_t n, i;

	(void)state;
	memset(e, 0, sizeof(e));
	for (i = 0; i < 70; i++) {
		e[i].family = AF_INET;
		e[i].port = 443;
		e[i].timeout_ms = 60000;
		e[i].addr[0] = 10;
		e[i].addr[3] = (uint8_t)i;
	}
	e[1].family = AF_INET6;
	memset(e[1].addr, 0xfe, 16);

	n = mk_set(p, EG_SET_DIRECT, EG_SET_ADD, 2, e, 2);
	exact(EG_MSG_SET_UPDATE, p, n);
	assert_int_equal(eg_ipc_decode(wire, mk(EG_MSG_SET_UPDATE, p, n), &m),
	    0);
	u = eg_ipc_set_update(&m, &el);
	assert_non_null(u);
	assert_int_equal(u->count, 2);
	assert_int_equal(el[1].family, AF_INET6);
	assert_int_equal(el[0].addr[0], 10);

	/* Count 64 is the most, 0 and 65 are out. */
	n = mk_set(p, EG_SET_HOPS, EG_SET_DEL, 64, e, 64);
	assert_int_equal(dec(EG_MSG_SET_UPDATE, p, n), 0);
	n = mk_set(p, EG_SET_HOPS, EG_SET_DEL, 65, e, 65);
	assert_int_equal(dec(EG_MSG_SET_UPDATE, p, n), -1);
	n = mk_set(p, EG_SET_HOPS, EG_SET_DEL, 0, e, 0);
	assert_int_equal(dec(EG_MSG_SET_UPDATE, p, n), -1);
	/* Count says one thing, elements another. */
	n = mk_set(p, EG_SET_HOPS, EG_SET_ADD, 3, e, 2);
	assert_int_equal(dec(EG_MSG_SET_UPDATE, p, n), -1);
	n = mk_set(p, EG_SET_HOPS, EG_SET_ADD, 0xffff, e, 2);
	assert_int_equal(dec(EG_MSG_SET_UPDATE, p, n), -1);
	/* Bad set and op. */
	n = mk_set(p, 0, EG_SET_ADD, 1, e, 1);
	assert_int_equal(dec(EG_MSG_SET_UPDATE, p, n), -1);
	n = mk_set(p, EG_SET_DOH + 1, EG_SET_ADD, 1, e, 1);
	assert_int_equal(dec(EG_MSG_SET_UPDATE, p, n), -1);
	n = mk_set(p, EG_SET_DOH, 3, 1, e, 1);
	assert_int_equal(dec(EG_MSG_SET_UPDATE, p, n), -1);
	/* Bad family, non-zero pad, IPv4 with a non-zero tail. */
	e[2].family = AF_UNIX;
	n = mk_set(p, EG_SET_DOH, EG_SET_ADD, 1, e + 2, 1);
	assert_int_equal(dec(EG_MSG_SET_UPDATE, p, n), -1);
	e[2].family = 0;
	n = mk_set(p, EG_SET_DOH, EG_SET_ADD, 1, e + 2, 1);
	assert_int_equal(dec(EG_MSG_SET_UPDATE, p, n), -1);
	e[2].family = AF_INET;
	e[2].pad = 1;
	n = mk_set(p, EG_SET_DOH, EG_SET_ADD, 1, e + 2, 1);
	assert_int_equal(dec(EG_MSG_SET_UPDATE, p, n), -1);
	e[2].pad = 0;
	e[2].addr[15] = 1;
	n = mk_set(p, EG_SET_DOH, EG_SET_ADD, 1, e + 2, 1);
	assert_int_equal(dec(EG_MSG_SET_UPDATE, p, n), -1);
	e[2].addr[15] = 0;
	e[2].addr[4] = 1;
	n = mk_set(p, EG_SET_DOH, EG_SET_ADD, 1, e + 2, 1);
	assert_int_equal(dec(EG_MSG_SET_UPDATE, p, n), -1);
	e[2].addr[4] = 0;
	n = mk_set(p, EG_SET_DOH, EG_SET_ADD, 1, e + 2, 1);
	assert_int_equal(dec(EG_MSG_SET_UPDATE, p, n), 0);
}

static size_t
mk_resolve(uint8_t *p, uint16_t qtype, uint16_t namelen, const char *name,
    size_t len)
{
	struct eg_msg_resolve_req r = { .qtype = qtype, .namelen = namelen };

	return mk_text(p, sizeof(r), &r, name, len);
}

static size_t
mk_resolve_wl(uint8_t *p, uint16_t namelen, uint8_t wllen, const char *text,
    size_t len)
{
	struct eg_msg_resolve_req r = { .qtype = 1, .namelen = namelen,
	    .wllen = wllen };

	return mk_text(p, sizeof(r), &r, text, len);
}

static void
test_ipc_resolve_req(void **state)
{
	uint8_t p[600];
	char name[EG_NAME_MAX + 1], longname[300];
	const struct eg_msg_resolve_req *r;
	struct eg_ipc_msg m;
	size_t n;

	(void)state;
	n = mk_resolve(p, 1, 12, "Proxy.Corp.", 11 + 1);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);	/* 12 != 11 */
	n = mk_resolve(p, 28, 11, "Proxy.Corp.", 11);
	exact(EG_MSG_RESOLVE_REQ, p, n);
	assert_int_equal(eg_ipc_decode(wire, mk(EG_MSG_RESOLVE_REQ, p, n), &m),
	    0);
	r = eg_ipc_resolve_req(&m, name);
	assert_non_null(r);
	assert_int_equal(r->qtype, 28);
	assert_string_equal(name, "proxy.corp");
	/* qtype other than A/AAAA. */
	n = mk_resolve(p, 16, 4, "a.b.", 4);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);
	/* Empty, embedded NUL, space, control, non-ASCII, bad labels. */
	n = mk_resolve(p, 1, 0, "", 0);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);
	n = mk_resolve(p, 1, 5, "a\0.bc", 5);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);
	n = mk_resolve(p, 1, 5, "a .bc", 5);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);
	n = mk_resolve(p, 1, 5, "a\n.bc", 5);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);
	n = mk_resolve(p, 1, 5, "\xc3\xa9.bc", 5);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);
	n = mk_resolve(p, 1, 4, "a..b", 4);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);
	/* 253 is the longest name; 254 is out. */
	memset(longname, 'a', sizeof(longname));
	for (n = 63; n < sizeof(longname); n += 64)
		longname[n] = '.';
	n = mk_resolve(p, 1, 253, longname, 253);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), 0);
	longname[253] = 'a';
	n = mk_resolve(p, 1, 254, longname, 254);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);
	/* A label of 64 is too long. */
	memset(longname, 'b', 64);
	memcpy(longname + 64, ".cc", 3);
	n = mk_resolve(p, 1, 67, longname, 67);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);
}

/* After the name, the workload the lookup is for: a valid name or
 * nothing; "default", a bad name, a NUL, 33 bytes are refused. */
static void
test_ipc_resolve_req_workload(void **state)
{
	uint8_t p[600];
	char name[EG_NAME_MAX + 1], wl[EG_IPC_WL_NAME_MAX + 1];
	struct eg_ipc_msg m;
	size_t n;

	(void)state;
	n = mk_resolve_wl(p, 9, 4, "a.example" "ci-2", 13);
	exact(EG_MSG_RESOLVE_REQ, p, n);
	assert_int_equal(eg_ipc_decode(wire, mk(EG_MSG_RESOLVE_REQ, p, n), &m),
	    0);
	assert_non_null(eg_ipc_resolve_req_wl(&m, name, wl));
	assert_string_equal(name, "a.example");
	assert_string_equal(wl, "ci-2");
	/* the old accessor takes it too (and drops the workload) */
	assert_non_null(eg_ipc_resolve_req(&m, name));
	n = mk_resolve(p, 1, 9, "a.example", 9);
	assert_int_equal(eg_ipc_decode(wire, mk(EG_MSG_RESOLVE_REQ, p, n), &m),
	    0);
	assert_non_null(eg_ipc_resolve_req_wl(&m, name, wl));
	assert_string_equal(wl, "");
	n = mk_resolve_wl(p, 9, 7, "a.example" "default", 16);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);
	n = mk_resolve_wl(p, 9, 2, "a.example" "Ci", 11);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);
	n = mk_resolve_wl(p, 9, 2, "a.example" "c\0", 11);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);
	/* the lengths must add up; a trailing byte is not a workload */
	n = mk_resolve_wl(p, 9, 1, "a.example" "ci", 11);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);
	n = mk_resolve(p, 1, 9, "a.example" "c", 10);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);
	n = mk_resolve_wl(p, 9, 33, "a.example"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 9 + 33);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);
	n = mk_resolve_wl(p, 9, 32, "a.example"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 9 + 32);
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), 0);
	/* pad is zero */
	n = mk_resolve_wl(p, 9, 2, "a.example" "ci", 11);
	p[5] = 1;
	assert_int_equal(dec(EG_MSG_RESOLVE_REQ, p, n), -1);
}

static void
test_ipc_resolve_rep(void **state)
{
	uint8_t p[12 + 20 * sizeof(struct eg_ip)];
	struct eg_msg_resolve_rep r = { .rcode = 0, .ttl = 30, .count = 2 };
	struct eg_ip ip[20];
	const struct eg_msg_resolve_rep *rr;
	const struct eg_ip *addrs;
	struct eg_ipc_msg m;
	size_t i;

	(void)state;
	memset(ip, 0, sizeof(ip));
	for (i = 0; i < 20; i++) {
		ip[i].family = AF_INET;
		ip[i].addr[0] = 192;
		ip[i].addr[3] = (uint8_t)i;
	}
	ip[1].family = AF_INET6;
	ip[1].addr[15] = 1;
	memcpy(p, &r, sizeof(r));
	memcpy(p + sizeof(r), ip, 2 * sizeof(ip[0]));
	exact(EG_MSG_RESOLVE_REP, p, sizeof(r) + 2 * sizeof(ip[0]));
	assert_int_equal(eg_ipc_decode(wire, mk(EG_MSG_RESOLVE_REP, p,
	    sizeof(r) + 2 * sizeof(ip[0])), &m), 0);
	rr = eg_ipc_resolve_rep(&m, &addrs);
	assert_non_null(rr);
	assert_int_equal(rr->count, 2);
	assert_int_equal(addrs[1].family, AF_INET6);
	/* NXDOMAIN: no addresses is fine. */
	r.count = 0;
	r.rcode = 3;
	memcpy(p, &r, sizeof(r));
	exact(EG_MSG_RESOLVE_REP, p, sizeof(r));
	/* 16 addresses is the most. */
	r.count = 16;
	memcpy(p, &r, sizeof(r));
	memcpy(p + sizeof(r), ip, 16 * sizeof(ip[0]));
	assert_int_equal(dec(EG_MSG_RESOLVE_REP, p,
	    sizeof(r) + 16 * sizeof(ip[0])), 0);
	r.count = 17;
	memcpy(p, &r, sizeof(r));
	memcpy(p + sizeof(r), ip, 17 * sizeof(ip[0]));
	assert_int_equal(dec(EG_MSG_RESOLVE_REP, p,
	    sizeof(r) + 17 * sizeof(ip[0])), -1);
	/* Bad family, v4 tail, v4 scope, pad. */
	r.count = 1;
	memcpy(p, &r, sizeof(r));
	ip[0].family = 99;
	memcpy(p + sizeof(r), ip, sizeof(ip[0]));
	assert_int_equal(dec(EG_MSG_RESOLVE_REP, p,
	    sizeof(r) + sizeof(ip[0])), -1);
	ip[0].family = AF_INET;
	ip[0].addr[9] = 1;
	memcpy(p + sizeof(r), ip, sizeof(ip[0]));
	assert_int_equal(dec(EG_MSG_RESOLVE_REP, p,
	    sizeof(r) + sizeof(ip[0])), -1);
	ip[0].addr[9] = 0;
	ip[0].scope = 2;
	memcpy(p + sizeof(r), ip, sizeof(ip[0]));
	assert_int_equal(dec(EG_MSG_RESOLVE_REP, p,
	    sizeof(r) + sizeof(ip[0])), -1);
	ip[0].scope = 0;
	r.pad = 1;
	memcpy(p, &r, sizeof(r));
	memcpy(p + sizeof(r), ip, sizeof(ip[0]));
	assert_int_equal(dec(EG_MSG_RESOLVE_REP, p,
	    sizeof(r) + sizeof(ip[0])), -1);
}

static size_t
mk_explain(uint8_t *p, uint16_t port, const char *host, size_t len)
{
	struct eg_msg_explain_req r = { .port = port,
	    .hostlen = (uint16_t)len };

	return mk_text(p, sizeof(r), &r, host, len);
}

static void
test_ipc_explain_req(void **state)
{
	uint8_t p[300];
	char host[EG_NAME_MAX + 1];
	const struct eg_msg_explain_req *r;
	struct eg_ipc_msg m;
	size_t n;

	(void)state;
	n = mk_explain(p, 443, "API.Example.com", 15);
	exact(EG_MSG_EXPLAIN_REQ, p, n);
	assert_int_equal(eg_ipc_decode(wire, mk(EG_MSG_EXPLAIN_REQ, p, n), &m),
	    0);
	r = eg_ipc_explain_req(&m, host);
	assert_non_null(r);
	assert_int_equal(r->port, 443);
	assert_string_equal(host, "api.example.com");
	/* Address literals are explained as given. */
	n = mk_explain(p, 0, "2130706433", 10);
	assert_int_equal(eg_ipc_decode(wire, mk(EG_MSG_EXPLAIN_REQ, p, n), &m),
	    0);
	assert_non_null(eg_ipc_explain_req(&m, host));
	assert_string_equal(host, "2130706433");
	n = mk_explain(p, 0, "fe80::1", 7);
	assert_int_equal(dec(EG_MSG_EXPLAIN_REQ, p, n), 0);
	n = mk_explain(p, 0, "", 0);
	assert_int_equal(dec(EG_MSG_EXPLAIN_REQ, p, n), -1);
	n = mk_explain(p, 0, "a\0b", 3);
	assert_int_equal(dec(EG_MSG_EXPLAIN_REQ, p, n), -1);
	n = mk_explain(p, 0, "a\"b", 3);
	assert_int_equal(dec(EG_MSG_EXPLAIN_REQ, p, n), -1);
	n = mk_explain(p, 0, "a/b", 3);
	assert_int_equal(dec(EG_MSG_EXPLAIN_REQ, p, n), -1);
}

static size_t
mk_ask(uint8_t *p, uint16_t qtype, uint8_t family, const char *name,
    const char *wl)
{
	struct eg_msg_ask_req r = { .qtype = qtype, .family = family,
	    .namelen = (uint8_t)strlen(name), .wllen = (uint8_t)strlen(wl) };

	if (family == AF_INET) {
		r.addr[0] = 10;
		r.addr[3] = 2;
	} else
		r.addr[15] = 1;
	memcpy(p, &r, sizeof(r));
	memcpy(p + sizeof(r), name, strlen(name));
	memcpy(p + sizeof(r) + strlen(name), wl, strlen(wl));
	return sizeof(r) + strlen(name) + strlen(wl);
}

/* dohd's question to connectd's broker: exact sizes, normalised name,
 * "default" or a workload name, one encoding of the source. */
static void
test_ipc_ask_req(void **state)
{
	uint8_t p[600];
	char name[EG_NAME_MAX + 1], wl[EG_IPC_WL_NAME_MAX + 1];
	char big[EG_NAME_MAX + 2];
	const struct eg_msg_ask_req *r;
	struct eg_msg_ask_req h;
	struct eg_ipc_msg m;
	size_t n;

	(void)state;
	n = mk_ask(p, 28, AF_INET, "new.example.com", "default");
	exact(EG_MSG_ASK_REQ, p, n);
	assert_int_equal(eg_ipc_decode(wire, mk(EG_MSG_ASK_REQ, p, n), &m), 0);
	r = eg_ipc_ask_req(&m, name, wl);
	assert_non_null(r);
	assert_int_equal(r->qtype, 28);
	assert_int_equal(r->family, AF_INET);
	assert_int_equal(r->addr[0], 10);
	assert_string_equal(name, "new.example.com");
	assert_string_equal(wl, "default");
	assert_null(eg_ipc_resolve_req(&m, name));
	assert_true(eg_ipc_expects_reply(EG_MSG_ASK_REQ));
	assert_true(eg_ipc_reply_ok(EG_MSG_ASK_REQ, EG_MSG_ASK_REP));
	assert_true(eg_ipc_reply_ok(EG_MSG_ASK_REQ, EG_MSG_ERROR));
	assert_false(eg_ipc_reply_ok(EG_MSG_ASK_REQ, EG_MSG_RESOLVE_REP));
	assert_false(eg_ipc_reply_ok(EG_MSG_RESOLVE_REQ, EG_MSG_ASK_REP));
	assert_false(eg_ipc_expects_reply(EG_MSG_ASK_REP));
	assert_string_equal(eg_msg_name(EG_MSG_ASK_REQ), "ask_req");
	assert_string_equal(eg_msg_name(EG_MSG_ASK_REP), "ask_rep");
	/* a workload's name, v6, any qtype but 0 */
	n = mk_ask(p, 65535, AF_INET6, "a.b", "ci-1");
	assert_int_equal(eg_ipc_decode(wire, mk(EG_MSG_ASK_REQ, p, n), &m), 0);
	assert_non_null(eg_ipc_ask_req(&m, name, wl));
	assert_string_equal(wl, "ci-1");
	n = mk_ask(p, 0, AF_INET, "a.b", "default");
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, n), -1);
	/* names: not normalised, a literal, bad, the longest */
	n = mk_ask(p, 1, AF_INET, "New.example.com", "default");
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, n), -1);
	n = mk_ask(p, 1, AF_INET, "new.example.com.", "default");
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, n), -1);
	n = mk_ask(p, 1, AF_INET, "10.0.0.1", "default");
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, n), -1);
	n = mk_ask(p, 1, AF_INET, "a b", "default");
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, n), -1);
	n = mk_ask(p, 1, AF_INET, "a..b", "default");
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, n), -1);
	memset(big, 'a', sizeof(big));
	for (n = 63; n < EG_NAME_MAX; n += 64)
		big[n] = '.';
	big[EG_NAME_MAX] = '\0';
	n = mk_ask(p, 1, AF_INET, big, "default");
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, n), 0);
	big[EG_NAME_MAX] = 'a';
	big[EG_NAME_MAX + 1] = '\0';
	n = mk_ask(p, 1, AF_INET, big, "default");
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, n), -1);
	/* workloads: bad names, too long, a NUL inside */
	n = mk_ask(p, 1, AF_INET, "a.b", "Default");
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, n), -1);
	n = mk_ask(p, 1, AF_INET, "a.b", "a1234567890123456789012345678901x");
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, n), -1);
	n = mk_ask(p, 1, AF_INET, "a.b", "ab");
	p[n - 1] = '\0';
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, n), -1);
	/* lengths disagreeing with the payload, empty parts */
	n = mk_ask(p, 1, AF_INET, "a.b", "default");
	memcpy(&h, p, sizeof(h));
	h.namelen = 4;
	h.wllen = 7;
	memcpy(p, &h, sizeof(h));
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, n), -1);
	h.namelen = 0;
	h.wllen = 10;
	memcpy(p, &h, sizeof(h));
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, n), -1);
	/* the source: family, v4 tail, pad */
	n = mk_ask(p, 1, AF_UNIX, "a.b", "default");
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, n), -1);
	n = mk_ask(p, 1, AF_INET, "a.b", "default");
	p[offsetof(struct eg_msg_ask_req, addr) + 4] = 1;
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, n), -1);
	n = mk_ask(p, 1, AF_INET, "a.b", "default");
	p[offsetof(struct eg_msg_ask_req, pad) + 2] = 1;
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, n), -1);
	assert_int_equal(dec(EG_MSG_ASK_REQ, p, sizeof(h) - 1), -1);
}

static size_t
mk_askrep(uint8_t *p, uint8_t allow, const char *reason)
{
	struct eg_msg_ask_rep r = { .allow = allow,
	    .reasonlen = (uint8_t)strlen(reason) };

	return mk_text(p, sizeof(r), &r, reason, strlen(reason));
}

static void
test_ipc_ask_rep(void **state)
{
	uint8_t p[100];
	char reason[EG_ASK_REASON_MAX + 1];
	const struct eg_msg_ask_rep *r;
	struct eg_ipc_msg m;
	size_t n;

	(void)state;
	n = mk_askrep(p, 1, "ask-once");
	exact(EG_MSG_ASK_REP, p, n);
	assert_int_equal(eg_ipc_decode(wire, mk(EG_MSG_ASK_REP, p, n), &m), 0);
	r = eg_ipc_ask_rep(&m, reason);
	assert_non_null(r);
	assert_int_equal(r->allow, 1);
	assert_string_equal(reason, "ask-once");
	assert_null(eg_ipc_result(&m, NULL));
	n = mk_askrep(p, 0, "ask-no-decider");
	assert_int_equal(dec(EG_MSG_ASK_REP, p, n), 0);
	n = mk_askrep(p, 0, "abcdefghijklmnopqrstuvwxyz-abcde");
	assert_int_equal(dec(EG_MSG_ASK_REP, p, n), 0);
	n = mk_askrep(p, 0, "abcdefghijklmnopqrstuvwxyz-abcdef");
	assert_int_equal(dec(EG_MSG_ASK_REP, p, n), -1);
	n = mk_askrep(p, 2, "ask-once");
	assert_int_equal(dec(EG_MSG_ASK_REP, p, n), -1);
	n = mk_askrep(p, 0, "");
	assert_int_equal(dec(EG_MSG_ASK_REP, p, n), -1);
	n = mk_askrep(p, 0, "ask once");
	assert_int_equal(dec(EG_MSG_ASK_REP, p, n), -1);
	n = mk_askrep(p, 0, "Ask-once");
	assert_int_equal(dec(EG_MSG_ASK_REP, p, n), -1);
	n = mk_askrep(p, 0, "ask-once");
	p[2] = 1;	/* pad */
	assert_int_equal(dec(EG_MSG_ASK_REP, p, n), -1);
}

/* Only dohd asks, and only connectd. */
static void
test_ipc_ask_roles(void **state)
{
	int d, p;

	(void)state;
	for (d = 0; d < EG_ROLE__MAX; d++)
		for (p = 0; p < EG_ROLE__MAX; p++) {
			assert_int_equal(eg_ipc_allowed(d, p, EG_MSG_ASK_REQ),
			    d == EG_ROLE_CONNECTD && p == EG_ROLE_DOHD);
			assert_false(eg_ipc_allowed(d, p, EG_MSG_ASK_REP));
		}
}

static size_t
mk_wl(uint8_t *p, uint8_t op, uint8_t kind, uint8_t family, uint16_t port,
    const char *name, size_t len)
{
	struct eg_msg_wl_listen w = { .op = op, .kind = kind,
	    .family = family, .namelen = (uint8_t)len, .port = port };

	return mk_text(p, sizeof(w), &w, name, len);
}

static void
test_ipc_wl_listen(void **state)
{
	uint8_t p[300];
	char name[EG_IPC_WL_NAME_MAX + 1];
	const struct eg_msg_wl_listen *w;
	struct eg_msg_wl_listen bad;
	struct eg_msg_result r = { 0 };
	struct eg_ipc_msg m;
	size_t n;

	(void)state;
	n = mk_wl(p, EG_WL_REGISTER, EG_WLL_PROXY, AF_INET6, 40001, "ci-1", 4);
	exact(EG_MSG_WL_LISTEN, p, n);
	assert_int_equal(eg_ipc_decode(wire, mk(EG_MSG_WL_LISTEN, p, n), &m),
	    0);
	w = eg_ipc_wl_listen(&m, name);
	assert_non_null(w);
	assert_int_equal(w->kind, EG_WLL_PROXY);
	assert_int_equal(w->family, AF_INET6);
	assert_int_equal(w->port, 40001);
	assert_string_equal(name, "ci-1");
	assert_true(eg_ipc_expects_reply(EG_MSG_WL_LISTEN));
	assert_true(eg_ipc_reply_ok(EG_MSG_WL_LISTEN, EG_MSG_WL_ACK));
	assert_true(eg_ipc_reply_ok(EG_MSG_WL_LISTEN, EG_MSG_ERROR));
	assert_false(eg_ipc_reply_ok(EG_MSG_WL_LISTEN, EG_MSG_SET_ACK));
	assert_string_equal(eg_msg_name(EG_MSG_WL_LISTEN), "wl_listen");
	assert_string_equal(eg_wl_listener_name(EG_WLL_DNS_UDP), "dns_udp");
	assert_string_equal(eg_wl_listener_name(0), "unknown");
	/* the longest name, and every kind */
	n = mk_wl(p, EG_WL_REGISTER, EG_WLL_DNS_TCP, AF_INET, 1,
	    "a1234567890123456789012345678901", 32);
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), 0);
	for (n = 0; n <= 6; n++) {
		size_t k = mk_wl(p, EG_WL_REGISTER, (uint8_t)n, AF_INET, 53,
		    "a", 1);

		assert_int_equal(dec(EG_MSG_WL_LISTEN, p, k),
		    n >= EG_WLL_TRANSPARENT && n <= EG_WLL_DNS_TCP ? 0 : -1);
	}
	/* unregister: port 0 only; register: never port 0 */
	n = mk_wl(p, EG_WL_UNREGISTER, EG_WLL_TRANSPARENT, AF_INET, 0, "a", 1);
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), 0);
	n = mk_wl(p, EG_WL_UNREGISTER, EG_WLL_TRANSPARENT, AF_INET, 1, "a", 1);
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), -1);
	n = mk_wl(p, EG_WL_REGISTER, EG_WLL_TRANSPARENT, AF_INET, 0, "a", 1);
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), -1);
	/* ops, families */
	n = mk_wl(p, 0, EG_WLL_TRANSPARENT, AF_INET, 1, "a", 1);
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), -1);
	n = mk_wl(p, 3, EG_WLL_TRANSPARENT, AF_INET, 1, "a", 1);
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), -1);
	n = mk_wl(p, EG_WL_REGISTER, EG_WLL_TRANSPARENT, AF_UNIX, 1, "a", 1);
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), -1);
	n = mk_wl(p, EG_WL_REGISTER, EG_WLL_TRANSPARENT, 0, 1, "a", 1);
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), -1);
	/* pad must be zero */
	n = mk_wl(p, EG_WL_REGISTER, EG_WLL_TRANSPARENT, AF_INET, 1, "a", 1);
	memcpy(&bad, p, sizeof(bad));
	bad.pad = 1;
	memcpy(p, &bad, sizeof(bad));
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), -1);
	/* namelen disagreeing with the payload, both ways */
	n = mk_wl(p, EG_WL_REGISTER, EG_WLL_TRANSPARENT, AF_INET, 1, "ab", 2);
	memcpy(&bad, p, sizeof(bad));
	bad.namelen = 1;
	memcpy(p, &bad, sizeof(bad));
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), -1);
	bad.namelen = 3;
	memcpy(p, &bad, sizeof(bad));
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), -1);
	/* names the config could not have */
	n = mk_wl(p, EG_WL_REGISTER, EG_WLL_TRANSPARENT, AF_INET, 1, "", 0);
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), -1);
	n = mk_wl(p, EG_WL_REGISTER, EG_WLL_TRANSPARENT, AF_INET, 1,
	    "a12345678901234567890123456789012", 33);
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), -1);
	n = mk_wl(p, EG_WL_REGISTER, EG_WLL_TRANSPARENT, AF_INET, 1,
	    "default", 7);
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), -1);
	n = mk_wl(p, EG_WL_REGISTER, EG_WLL_TRANSPARENT, AF_INET, 1, "CI", 2);
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), -1);
	n = mk_wl(p, EG_WL_REGISTER, EG_WLL_TRANSPARENT, AF_INET, 1, "-a", 2);
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), -1);
	n = mk_wl(p, EG_WL_REGISTER, EG_WLL_TRANSPARENT, AF_INET, 1, "a\0b", 3);
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), -1);
	n = mk_wl(p, EG_WL_REGISTER, EG_WLL_TRANSPARENT, AF_INET, 1, "a b", 3);
	assert_int_equal(dec(EG_MSG_WL_LISTEN, p, n), -1);
	/* the ack is the bare result, like SET_ACK */
	assert_int_equal(dec(EG_MSG_WL_ACK, &r, sizeof(r)), 0);
	r.textlen = 2;
	n = mk_text(p, sizeof(r), &r, "no", 2);
	assert_int_equal(dec(EG_MSG_WL_ACK, p, n), -1);
	r.textlen = 0;
	r.code = -1;
	assert_int_equal(dec(EG_MSG_WL_ACK, &r, sizeof(r)), -1);
}

static void
test_ipc_accessor_wrong_type(void **state)
{
	struct eg_ipc_msg m;
	const struct eg_set_elem *el;
	const struct eg_ip *addrs;
	char name[EG_NAME_MAX + 1];
	const char *text;

	(void)state;
	assert_int_equal(dec(EG_MSG_STATUS_REQ, NULL, 0), 0);
	assert_int_equal(eg_ipc_decode(wire, 12, &m), 0);
	assert_null(eg_ipc_set_update(&m, &el));
	assert_null(eg_ipc_resolve_req(&m, name));
	assert_null(eg_ipc_resolve_rep(&m, &addrs));
	assert_null(eg_ipc_status(&m, &text));
	assert_null(eg_ipc_result(&m, &text));
	assert_null(eg_ipc_explain_req(&m, name));
	assert_null(eg_ipc_wl_listen(&m, name));
}

/* ---- send/recv -------------------------------------------------------- */

static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
}

/* Send raw bytes with n fds attached, bypassing eg_ipc_send's checks. */
static void
raw_send(int s, const void *buf, size_t len, const int *fds, size_t n)
{
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf,
	    .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (n > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	assert_int_equal(sendmsg(s, &mh, 0), (ssize_t)len);
}

static void
test_ipc_send_refuses(void **state)
{
	struct eg_msg_error e = { .code = 0 };
	int sv[2];

	(void)state;
	pair(sv);
	/* Invalid payload, too long a payload. */
	assert_int_equal(eg_ipc_send(sv[0], EG_MSG_ERROR, 1, &e, sizeof(e)),
	    -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(eg_ipc_send(sv[0], EG_MSG_STATUS_REP, 1, wire,
	    EG_IPC_MAX_PAYLOAD + 1), -1);
	assert_int_equal(errno, EMSGSIZE);
	close(sv[0]);
	close(sv[1]);
}

static void
expect_rejected(int s)
{
	static _Alignas(8) uint8_t buf[EG_IPC_MAX_MSG];
	struct eg_ipc_msg m;

	assert_int_equal(eg_ipc_recv(s, buf, sizeof(buf), &m), -1);
	assert_int_equal(errno, EBADMSG);
}

static void
test_ipc_unexpected_fd(void **state)
{
	struct eg_msg_error e = { .code = EPERM };
	int sv[2], p[2], fds[3], before, i;

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	before = nfds_open();
	for (i = 0; i < 50; i++) {
		/* No type carries one: an fd on a request... */
		raw_send(sv[0], wire, mk(EG_MSG_STATUS_REQ, NULL, 0), p, 1);
		expect_rejected(sv[1]);
		/* ...two on a reply... */
		fds[0] = p[0];
		fds[1] = p[1];
		raw_send(sv[0], wire, mk(EG_MSG_ERROR, &e, sizeof(e)), fds, 2);
		expect_rejected(sv[1]);
		/* ...on a type nobody knows... */
		raw_send(sv[0], wire, mk(EG_MSG__MAX, &e, sizeof(e)), p, 1);
		expect_rejected(sv[1]);
		/* ...on a malformed message: each fd is closed too. */
		raw_send(sv[0], wire, mk(EG_MSG_ERROR, &e, 3), p, 1);
		expect_rejected(sv[1]);
	}
	assert_int_equal(nfds_open(), before);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

static void
test_ipc_recv_truncated(void **state)
{
	static _Alignas(8) uint8_t buf[64];
	uint8_t big[200];
	struct eg_msg_status s = { .ready = 1, .textlen = 100 };
	struct eg_ipc_msg m;
	int sv[2];

	(void)state;
	pair(sv);
	memset(big, 'a', sizeof(big));
	memcpy(big, &s, sizeof(s));
	/* A valid message larger than the buffer: MSG_TRUNC, rejected. */
	assert_int_equal(eg_ipc_send(sv[0], EG_MSG_STATUS_REP, 1, big,
	    sizeof(s) + 100), 0);
	assert_int_equal(eg_ipc_recv(sv[1], buf, sizeof(buf), &m), -1);
	assert_int_equal(errno, EBADMSG);
	/* Then the stream is in sync again. */
	assert_int_equal(eg_ipc_send(sv[0], EG_MSG_STATUS_REQ, 2, NULL, 0), 0);
	assert_int_equal(eg_ipc_recv(sv[1], buf, sizeof(buf), &m), 1);
	assert_int_equal(m.hdr.id, 2);
	/* Garbage of header size. */
	raw_send(sv[0], "\x02\0\0\0\0\0\0\0\0\0\0", 11, NULL, 0);
	expect_rejected(sv[1]);
	/* EOF. */
	close(sv[0]);
	assert_int_equal(eg_ipc_recv(sv[1], buf, sizeof(buf), &m), 0);
	close(sv[1]);
}

static void
test_ipc_recv_text_nul(void **state)
{
	static _Alignas(8) uint8_t buf[EG_IPC_MAX_MSG];
	struct eg_msg_result r = { .code = 0, .textlen = 2 };
	uint8_t p[16];
	struct eg_ipc_msg m;
	const char *text;
	int sv[2];

	(void)state;
	pair(sv);
	memset(buf, 'z', sizeof(buf));
	memcpy(p, &r, sizeof(r));
	memcpy(p + sizeof(r), "ok", 2);
	assert_int_equal(eg_ipc_send(sv[0], EG_MSG_RELOAD_REP, 1, p,
	    sizeof(r) + 2), 0);
	assert_int_equal(eg_ipc_recv(sv[1], buf, sizeof(buf), &m), 1);
	assert_non_null(eg_ipc_result(&m, &text));
	assert_string_equal(text, "ok");
	close(sv[0]);
	close(sv[1]);
}

/* ---- roles ------------------------------------------------------------ */

static const struct eg_ipc_roles roles = {
	.netjaild_uid = 900, .connectd_uid = 901, .dohd_uid = 902,
	.admin_gid = 950,
};
static const struct eg_ipc_roles no_roles = {
	.netjaild_uid = (uid_t)-1, .connectd_uid = (uid_t)-1,
	.dohd_uid = (uid_t)-1, .admin_gid = (gid_t)-1,
};

static void
test_ipc_role_of(void **state)
{
	(void)state;
	assert_int_equal(eg_ipc_role_of(&roles, 900, 950), EG_ROLE_NETJAILD);
	assert_int_equal(eg_ipc_role_of(&roles, 901, 950), EG_ROLE_CONNECTD);
	assert_int_equal(eg_ipc_role_of(&roles, 902, 0), EG_ROLE_DOHD);
	assert_int_equal(eg_ipc_role_of(&roles, 0, 0), EG_ROLE_ADMIN);
	assert_int_equal(eg_ipc_role_of(&roles, 1000, 950), EG_ROLE_ADMIN);
	assert_int_equal(eg_ipc_role_of(&roles, 1000, 1000), EG_ROLE_NONE);
	assert_int_equal(eg_ipc_role_of(&roles, 65534, 65534), EG_ROLE_NONE);
}

static void
test_ipc_role_table(void **state)
{
	uint16_t t;
	int d, p;

	(void)state;
	/* netjaild */
	assert_true(eg_ipc_allowed(EG_ROLE_NETJAILD, EG_ROLE_DOHD,
	    EG_MSG_SET_UPDATE));
	assert_true(eg_ipc_allowed(EG_ROLE_NETJAILD, EG_ROLE_CONNECTD,
	    EG_MSG_SET_UPDATE));
	assert_false(eg_ipc_allowed(EG_ROLE_NETJAILD, EG_ROLE_ADMIN,
	    EG_MSG_SET_UPDATE));
	assert_true(eg_ipc_allowed(EG_ROLE_NETJAILD, EG_ROLE_ADMIN,
	    EG_MSG_RELOAD_REQ));
	assert_true(eg_ipc_allowed(EG_ROLE_NETJAILD, EG_ROLE_CONNECTD,
	    EG_MSG_STATUS_REQ));
	assert_false(eg_ipc_allowed(EG_ROLE_NETJAILD, EG_ROLE_CONNECTD,
	    EG_MSG_RELOAD_REQ));
	assert_false(eg_ipc_allowed(EG_ROLE_NETJAILD, EG_ROLE_DOHD,
	    EG_MSG_STATUS_REQ));
	/* dohd */
	assert_true(eg_ipc_allowed(EG_ROLE_DOHD, EG_ROLE_CONNECTD,
	    EG_MSG_RESOLVE_REQ));
	assert_false(eg_ipc_allowed(EG_ROLE_DOHD, EG_ROLE_ADMIN,
	    EG_MSG_RESOLVE_REQ));
	assert_true(eg_ipc_allowed(EG_ROLE_DOHD, EG_ROLE_ADMIN,
	    EG_MSG_EXPLAIN_REQ));
	assert_false(eg_ipc_allowed(EG_ROLE_DOHD, EG_ROLE_CONNECTD,
	    EG_MSG_EXPLAIN_REQ));
	/* connectd */
	assert_true(eg_ipc_allowed(EG_ROLE_CONNECTD, EG_ROLE_ADMIN,
	    EG_MSG_STATUS_REQ));
	assert_false(eg_ipc_allowed(EG_ROLE_CONNECTD, EG_ROLE_DOHD,
	    EG_MSG_STATUS_REQ));
	assert_false(eg_ipc_allowed(EG_ROLE_CONNECTD, EG_ROLE_NETJAILD,
	    EG_MSG_SET_UPDATE));
	/* Nobody may send replies or junk as requests; a peer with no role
	 * may send nothing at all. */
	for (d = 0; d <= EG_ROLE__MAX; d++) {
		for (p = 0; p <= EG_ROLE__MAX; p++) {
			for (t = 0; t <= EG_MSG__MAX + 1; t++) {
				if (!eg_ipc_allowed(d, p, t))
					continue;
				assert_true(p != EG_ROLE_NONE);
				assert_true(p < EG_ROLE__MAX && d < EG_ROLE__MAX);
				assert_true(eg_ipc_expects_reply(t));
			}
			assert_false(eg_ipc_allowed(d, p, EG_MSG_ERROR));
			assert_false(eg_ipc_allowed(d, p, EG_MSG_SET_ACK));
			assert_false(eg_ipc_allowed(d, p, EG_MSG_STATUS_REP));
			assert_false(eg_ipc_allowed(d, p, EG_MSG__MAX));
		}
	}
	assert_false(eg_ipc_allowed(EG_ROLE_NETJAILD, EG_ROLE_ADMIN, 0xffff));
}

/* Only connectd and dohd register listeners, each its own kinds. */
static void
test_ipc_wl_listen_roles(void **state)
{
	int p, k;

	(void)state;
	assert_true(eg_ipc_allowed(EG_ROLE_NETJAILD, EG_ROLE_CONNECTD,
	    EG_MSG_WL_LISTEN));
	assert_true(eg_ipc_allowed(EG_ROLE_NETJAILD, EG_ROLE_DOHD,
	    EG_MSG_WL_LISTEN));
	assert_false(eg_ipc_allowed(EG_ROLE_NETJAILD, EG_ROLE_ADMIN,
	    EG_MSG_WL_LISTEN));
	assert_false(eg_ipc_allowed(EG_ROLE_NETJAILD, EG_ROLE_NONE,
	    EG_MSG_WL_LISTEN));
	assert_false(eg_ipc_allowed(EG_ROLE_DOHD, EG_ROLE_CONNECTD,
	    EG_MSG_WL_LISTEN));
	assert_false(eg_ipc_allowed(EG_ROLE_CONNECTD, EG_ROLE_DOHD,
	    EG_MSG_WL_LISTEN));
	assert_false(eg_ipc_allowed(EG_ROLE_NETJAILD, EG_ROLE_ADMIN,
	    EG_MSG_WL_ACK));
	for (p = 0; p <= EG_ROLE__MAX; p++) {
		for (k = 0; k < 40; k++) {
			bool want = (p == EG_ROLE_CONNECTD &&
			    (k == EG_WLL_TRANSPARENT || k == EG_WLL_PROXY)) ||
			    (p == EG_ROLE_DOHD && (k == EG_WLL_DNS_UDP ||
			    k == EG_WLL_DNS_TCP));

			assert_int_equal(eg_ipc_wl_kind_allowed(p, k), want);
		}
	}
}

static void
test_ipc_set_and_reply_rules(void **state)
{
	(void)state;
	assert_true(eg_ipc_set_allowed(EG_ROLE_DOHD, EG_SET_DIRECT));
	assert_false(eg_ipc_set_allowed(EG_ROLE_DOHD, EG_SET_DOH));
	assert_false(eg_ipc_set_allowed(EG_ROLE_DOHD, EG_SET_HOPS));
	assert_true(eg_ipc_set_allowed(EG_ROLE_CONNECTD, EG_SET_HOPS));
	assert_false(eg_ipc_set_allowed(EG_ROLE_CONNECTD, EG_SET_DIRECT));
	assert_false(eg_ipc_set_allowed(EG_ROLE_ADMIN, EG_SET_DIRECT));
	assert_false(eg_ipc_set_allowed(EG_ROLE_DOHD, 0));
	assert_true(eg_ipc_reply_ok(EG_MSG_STATUS_REQ, EG_MSG_STATUS_REP));
	assert_true(eg_ipc_reply_ok(EG_MSG_SET_UPDATE, EG_MSG_SET_ACK));
	assert_true(eg_ipc_reply_ok(EG_MSG_RESOLVE_REQ, EG_MSG_ERROR));
	assert_false(eg_ipc_reply_ok(EG_MSG_SET_UPDATE, EG_MSG_STATUS_REP));
	assert_false(eg_ipc_reply_ok(EG_MSG_STATUS_REP, EG_MSG_ERROR));
	assert_false(eg_ipc_reply_ok(EG_MSG_RESOLVE_REQ, EG_MSG__MAX));
	assert_string_equal(eg_msg_name(EG_MSG_SET_ACK), "set_ack");
	assert_string_equal(eg_msg_name(999), "unknown");
	assert_string_equal(eg_role_name(EG_ROLE_DOHD), "dohd");
	assert_string_equal(eg_role_name(77), "none");
}

/*
 * The roles every daemon's control socket uses (eg_ctl_server_open).
 * Without a control group only root is admin: group root is no stand-in
 * (dohd's copy once admitted it).  Users a config left unresolved are
 * looked up by name; root or unknown is no daemon.
 */
static void
test_ipc_roles_from_config(void **state)
{
	struct eg_config cfg;
	struct eg_ipc_roles r;
	struct passwd *pw;
	struct group *gr;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.netjaild.user.uid = 900;
	cfg.connectd.user.name = (char *)"root";	/* uid 0: none */
	cfg.dohd.user.name = (char *)"no-such-user-ej";
	eg_ipc_roles_from_config(&cfg, &r);
	assert_int_equal(r.netjaild_uid, 900);
	assert_int_equal(r.connectd_uid, (uid_t)-1);
	assert_int_equal(r.dohd_uid, (uid_t)-1);
	assert_int_equal(r.admin_gid, (gid_t)-1);
	assert_int_equal(eg_ipc_role_of(&r, 0, 0), EG_ROLE_ADMIN);
	assert_int_equal(eg_ipc_role_of(&r, 1000, 0), EG_ROLE_NONE);
	assert_int_equal(eg_ipc_role_of(&r, 65534, 65534), EG_ROLE_NONE);
	assert_int_equal(eg_ipc_role_of(&r, 900, 0), EG_ROLE_NETJAILD);
	/* A configured group that does not exist: root alone too. */
	cfg.jail.group = (char *)"no-such-group-ej";
	eg_ipc_roles_from_config(&cfg, &r);
	assert_int_equal(r.admin_gid, (gid_t)-1);
	assert_int_equal(eg_ipc_role_of(&r, 1000, 0), EG_ROLE_NONE);
	/* An unresolved daemon user is looked up by name. */
	if ((pw = getpwnam("nobody")) != NULL && pw->pw_uid != 0) {
		cfg.dohd.user.name = (char *)"nobody";
		eg_ipc_roles_from_config(&cfg, &r);
		assert_int_equal(r.dohd_uid, pw->pw_uid);
		assert_int_equal(eg_ipc_role_of(&r, pw->pw_uid, pw->pw_gid),
		    EG_ROLE_DOHD);
	}
	/* The control group, by name. */
	if ((gr = getgrgid(getegid())) != NULL) {
		cfg.jail.group = gr->gr_name;
		eg_ipc_roles_from_config(&cfg, &r);
		assert_int_equal(r.admin_gid, gr->gr_gid);
		assert_int_equal(eg_ipc_role_of(&r, 1000, gr->gr_gid),
		    EG_ROLE_ADMIN);
	}
}

/* ---- sockets on the file system -------------------------------------- */

static char tmpdir[64];

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/eg-ipc-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	/* The tests connect as nobody too. */
	return chmod(tmpdir, 0755);
}

static int
teardown_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_ipc_listen(void **state)
{
	char path[128];
	struct stat st;
	mode_t old;
	int l, l2, c, a, fd;
	enum eg_role role;
	uid_t uid;
	pid_t pid;

	(void)state;
	snprintf(path, sizeof(path), "%s/x.sock", tmpdir);
	old = umask(0);		/* a careless umask must not widen the mode */
	l = eg_ipc_listen(path, 12345);
	umask(old);
	assert_true(l >= 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	if (geteuid() == 0)
		assert_int_equal(st.st_gid, 12345);
	/* A live socket is not taken over. */
	l2 = eg_ipc_listen(path, (gid_t)-1);
	assert_int_equal(l2, -1);
	assert_int_equal(errno, EADDRINUSE);

	c = eg_ipc_connect(path);
	assert_true(c >= 0);
	a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(a >= 0);
	/* No daemon uids, no control group: only root has a role. */
	assert_int_equal(eg_ipc_peer_role(a, &no_roles, &role, &uid, &pid), 0);
	assert_int_equal(uid, geteuid());
	assert_int_equal(pid, getpid());
	assert_int_equal(role, geteuid() == 0 ? EG_ROLE_ADMIN : EG_ROLE_NONE);
	close(a);
	close(c);
	close(l);
	/* A stale socket is replaced. */
	l = eg_ipc_listen(path, (gid_t)-1);
	assert_true(l >= 0);
	close(l);
	/* A path that is not a socket is never removed. */
	unlink(path);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(eg_ipc_listen(path, (gid_t)-1), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(path);
	/* Too long a path. */
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	path[0] = '/';
	assert_int_equal(eg_ipc_listen(path, (gid_t)-1), -1);
	assert_int_equal(eg_ipc_connect(path), -1);
}

/* Connect as uid 65534 with the given groups; report the role we got. */
static enum eg_role
role_as_nobody(const char *path, gid_t gid, gid_t supp,
    const struct eg_ipc_roles *r)
{
	enum eg_role role = EG_ROLE__MAX;
	struct pollfd pfd;
	pid_t child;
	int l, a, st;
	char x;

	l = eg_ipc_listen(path, (gid_t)-1);
	assert_true(l >= 0);
	chmod(path, 0666);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int c;

		if (setgroups(1, &supp) == -1 || setgid(gid) == -1 ||
		    setuid(65534) == -1)
			_exit(1);
		c = eg_ipc_connect(path);
		if (c == -1)
			_exit(2);
		/* Wait until the parent has looked at us. */
		if (read(c, &x, 1) < 0)
			_exit(3);
		_exit(0);
	}
	/* Never hang when the child failed before connecting. */
	pfd.fd = l;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 10000) != 1) {
		waitpid(child, &st, 0);
		fail_msg("child did not connect, status %d", st);
	}
	a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(a >= 0);
	assert_int_equal(eg_ipc_peer_role(a, r, &role, NULL, NULL), 0);
	close(a);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(l);
	unlink(path);
	return role;
}

static void
test_ipc_peer_groups(void **state)
{
	struct eg_ipc_roles r = roles;
	char path[128];

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	snprintf(path, sizeof(path), "%s/g.sock", tmpdir);
	r.admin_gid = 4242;
	/* Primary group, supplementary group, neither. */
	assert_int_equal(role_as_nobody(path, 4242, 1, &r), EG_ROLE_ADMIN);
	assert_int_equal(role_as_nobody(path, 65534, 4242, &r), EG_ROLE_ADMIN);
	assert_int_equal(role_as_nobody(path, 65534, 1, &r), EG_ROLE_NONE);
	/* No control group configured: group root is not admin, as primary
	 * or supplementary group (what the daemons build from a config). */
	{
		struct eg_config cfg;
		struct eg_ipc_roles nr;

		memset(&cfg, 0, sizeof(cfg));
		eg_ipc_roles_from_config(&cfg, &nr);
		assert_int_equal(role_as_nobody(path, 0, 0, &nr),
		    EG_ROLE_NONE);
	}
	/* The daemon uid wins over group membership. */
	r.dohd_uid = 65534;
	assert_int_equal(role_as_nobody(path, 4242, 4242, &r), EG_ROLE_DOHD);
}

/* ---- eg_ipc_call ------------------------------------------------------ */

enum srv_mode { SRV_REPLY, SRV_SILENT, SRV_WRONG_ID, SRV_WRONG_TYPE };

static pid_t
server(const char *path, enum srv_mode mode)
{
	static _Alignas(8) uint8_t buf[EG_IPC_MAX_MSG];
	struct eg_msg_status s = { .ready = 1, .generation = 3, .textlen = 4 };
	uint8_t p[32];
	struct eg_ipc_msg m;
	pid_t child;
	int l, a;

	l = eg_ipc_listen(path, (gid_t)-1);
	assert_true(l >= 0);
	child = fork();
	assert_true(child >= 0);
	if (child != 0) {
		close(l);
		return child;
	}
	a = accept(l, NULL, NULL);
	if (a == -1 || eg_ipc_recv(a, buf, sizeof(buf), &m) != 1)
		_exit(1);
	memcpy(p, &s, sizeof(s));
	memcpy(p + sizeof(s), "ok=1", 4);
	switch (mode) {
	case SRV_REPLY:
		eg_ipc_send(a, EG_MSG_STATUS_REP, m.hdr.id, p, 16);
		break;
	case SRV_WRONG_ID:
		eg_ipc_send(a, EG_MSG_STATUS_REP, m.hdr.id + 1, p, 16);
		break;
	case SRV_WRONG_TYPE:
		eg_ipc_send(a, EG_MSG_RELOAD_REQ, m.hdr.id, NULL, 0);
		break;
	case SRV_SILENT:
		break;
	}
	/* Hold the connection until the client hangs up. */
	while (read(a, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

static void
test_ipc_call(void **state)
{
	static _Alignas(8) uint8_t buf[EG_IPC_MAX_MSG];
	const struct eg_msg_status *s;
	struct eg_ipc_msg m;
	const char *text;
	char path[128];
	pid_t child;
	int st;

	(void)state;
	snprintf(path, sizeof(path), "%s/call.sock", tmpdir);

	child = server(path, SRV_REPLY);
	assert_int_equal(eg_ipc_call(path, EG_MSG_STATUS_REQ, NULL, 0, buf,
	    sizeof(buf), &m, 5000), 0);
	s = eg_ipc_status(&m, &text);
	assert_non_null(s);
	assert_int_equal(s->generation, 3);
	assert_memory_equal(text, "ok=1", 4);
	waitpid(child, &st, 0);

	child = server(path, SRV_SILENT);
	assert_int_equal(eg_ipc_call(path, EG_MSG_STATUS_REQ, NULL, 0, buf,
	    sizeof(buf), &m, 200), -1);
	assert_int_equal(errno, ETIMEDOUT);
	waitpid(child, &st, 0);

	child = server(path, SRV_WRONG_ID);
	assert_int_equal(eg_ipc_call(path, EG_MSG_STATUS_REQ, NULL, 0, buf,
	    sizeof(buf), &m, 5000), -1);
	assert_int_equal(errno, EPROTO);
	waitpid(child, &st, 0);

	child = server(path, SRV_WRONG_TYPE);
	assert_int_equal(eg_ipc_call(path, EG_MSG_STATUS_REQ, NULL, 0, buf,
	    sizeof(buf), &m, 5000), -1);
	assert_int_equal(errno, EPROTO);
	waitpid(child, &st, 0);

	/* Nobody listening. */
	unlink(path);
	assert_int_equal(eg_ipc_call(path, EG_MSG_STATUS_REQ, NULL, 0, buf,
	    sizeof(buf), &m, 200), -1);
	assert_int_equal(errno, ENOENT);
}

/*
 * Every hand-written seed of the fuzz corpus is a valid message (else it
 * seeds little).  Inputs a campaign merged in are named by their SHA-1
 * (40 hex digits) and are mostly malformed on purpose: not checked here.
 */
static int
fuzzer_named(const char *name)
{
	return strlen(name) == 40 && strspn(name, "0123456789abcdef") == 40;
}

static void
test_ipc_seed_corpus(void **state)
{
	const char *dir = EG_TEST_SRCDIR "/../../fuzz/corpus/ipc";
	static _Alignas(8) uint8_t buf[EG_IPC_MAX_MSG + 1];
	struct eg_ipc_msg m;
	struct dirent *de;
	char path[512];
	DIR *d;
	FILE *f;
	size_t n;
	int seen = 0;

	(void)state;
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || fuzzer_named(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (eg_ipc_decode(buf, n, &m) != 0)
			fail_msg("seed %s does not decode", de->d_name);
		seen++;
	}
	closedir(d);
	assert_true(seen >= 14);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(IPC_TESTS);

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
