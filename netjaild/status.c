/*
 * status.c - netjaild's STATUS text: the table read back, policy routing,
 * the jailed links and bridge ports, as "key=value" lines.  Computing it
 * also decides whether netjaild is ready.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "netjaild.h"
#include "ports.h"
#include "route.h"
#include "status_wl.h"

static void
keyify(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < len; i++)
		out[i] = (in[i] == ' ' || in[i] == '-') ? '_' : in[i];
	out[i] = '\0';
}

/*
 * drop_<comment>_packets= and _bytes= for each counted drop, rules with
 * one key (the workloads' drops, under their tag) summed in one line.
 */
#define OUT(...) do { int n_ = snprintf(buf + off, len - off, __VA_ARGS__); \
	if (n_ > 0) off = off + (size_t)n_ < len ? off + (size_t)n_ : len - 1; } while (0)
static void
counters(const struct nj_readback *rb, char *buf, size_t len, size_t *offp)
{
	char key[NJ_COMMENT_MAX];
	unsigned long long pk, by;
	const char *k;
	size_t off = *offp, i, j;

	for (i = 0; i < rb->ncounters; i++) {
		k = nj_status_counter_key(rb->counters[i].comment);
		for (j = 0; j < i; j++)
			if (strcmp(nj_status_counter_key(
			    rb->counters[j].comment), k) == 0)
				break;
		if (j < i)
			continue;	/* summed at its first rule */
		pk = by = 0;
		for (j = i; j < rb->ncounters; j++)
			if (strcmp(nj_status_counter_key(
			    rb->counters[j].comment), k) == 0) {
				pk += rb->counters[j].packets;
				by += rb->counters[j].bytes;
			}
		keyify(k, key, sizeof(key));
		OUT("drop_%s_packets=%llu\ndrop_%s_bytes=%llu\n", key, pk,
		    key, by);
	}
	*offp = off;
}
#undef OUT

size_t
nj_status_text(struct nj_state *st, char *buf, size_t len)
{
	struct nj_readback rb;
	struct nj_route_report rep;
	char rerr[256], lwhy[256];
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
		counters(&rb, buf, len, &off);
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
	off += nj_status_workloads(st->cfg, &st->wlregs, rc == 0 ? &rb : NULL,
	    buf + off, len - off);
	install_readback_free(&rb);
	st->ready = rc == 0 && rb.whole && rt == 1 && links_ok && pr == 0 &&
	    pc.isolated == pc.ports;
#undef OUT
	return off;
}
