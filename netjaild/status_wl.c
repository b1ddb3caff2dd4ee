/*
 * status_wl.c - the workloads in netjaild's STATUS text (issue 15):
 * each workload's matches, the listeners connectd and dohd registered
 * for it, and its counted drops, one line per workload, for egressctl
 * status and doctor:
 *
 *   workloads=2
 *   workload=ci match=iface:br-ci* match=uid:agent
 *     reg=transparent/ipv4/40001,dns_udp/ipv4/40053
 *     drop_unregistered_packets=0 drop_conflict_packets=0
 *
 * (one line; reg=none when nothing is registered).  The drop rules of a
 * workload carry its name after the tag in their comment ("workload
 * unregistered ci", rb_drop_wl), so the kernel's counters are summed per
 * workload here; nj_status_counter_key folds them into one key per tag
 * for the generic drop_* lines, where one key per workload and rule
 * would not fit the reply.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "netjaild.h"
#include "status_wl.h"
#include "workload.h"

static const char *const wl_tags[] = {
	"workload unregistered", "workload conflict",
};

const char *
nj_status_counter_key(const char *comment)
{
	size_t i, n;

	for (i = 0; i < sizeof(wl_tags) / sizeof(wl_tags[0]); i++) {
		n = strlen(wl_tags[i]);
		if (strncmp(comment, wl_tags[i], n) == 0 &&
		    (comment[n] == '\0' || comment[n] == ' '))
			return wl_tags[i];
	}
	return comment;
}

/* Packets of the drops "TAG NAME". */
static unsigned long long
wl_drops(const struct nj_readback *rb, const char *tag, const char *name)
{
	unsigned long long n = 0;
	size_t i, tl = strlen(tag);

	for (i = 0; rb != NULL && i < rb->ncounters; i++) {
		const char *c = rb->counters[i].comment;

		if (strncmp(c, tag, tl) == 0 && c[tl] == ' ' &&
		    strcmp(c + tl + 1, name) == 0)
			n += rb->counters[i].packets;
	}
	return n;
}

/* Append to buf; at the end, what fits. */
static void __attribute__((format(printf, 4, 5)))
out(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off = *off + (size_t)n < len ? *off + (size_t)n : len - 1;
}

size_t
nj_status_workloads(const struct eg_config *cfg, const struct nj_wlregs *wl,
    const struct nj_readback *rb, char *buf, size_t len)
{
	static const uint8_t kinds[] = { EG_WLL_TRANSPARENT, EG_WLL_PROXY,
	    EG_WLL_DNS_UDP, EG_WLL_DNS_TCP };
	static const int fams[] = { AF_INET, AF_INET6 };
	char m[EG_WL_MATCH_MAX + 1];
	const struct nj_wlreg *r;
	size_t off = 0, i, j, k, f, nreg;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (cfg == NULL || cfg->nworkloads == 0)
		return 0;
	out(buf, len, &off, "workloads=%zu\n", cfg->nworkloads);
	for (i = 0; i < cfg->nworkloads; i++) {
		const struct eg_workload *w = &cfg->workloads[i];
		size_t mark = off;

		out(buf, len, &off, "workload=%s", w->name);
		for (j = 0; j < w->nmatches; j++)
			out(buf, len, &off, " match=%s", eg_wl_match_str(&w->matches[j], m,
			    sizeof(m)));
		out(buf, len, &off, " reg=");
		for (k = nreg = 0; k < sizeof(kinds); k++)
			for (f = 0; f < 2; f++) {
				r = wl ? nj_wlreg_find(wl, w->name, kinds[k],
				    (uint8_t)fams[f]) : NULL;
				if (r == NULL)
					continue;
				out(buf, len, &off, "%s%s/ipv%d/%u", nreg++ ? "," : "",
				    eg_wl_listener_name(kinds[k]),
				    fams[f] == AF_INET ? 4 : 6, r->port);
			}
		if (nreg == 0)
			out(buf, len, &off, "none");
		out(buf, len, &off, " drop_unregistered_packets=%llu drop_conflict_packets="
		    "%llu\n", wl_drops(rb, wl_tags[0], w->name),
		    wl_drops(rb, wl_tags[1], w->name));
		/* a line cut short would misreport: say so instead */
		if (off >= len - 1) {
			off = mark;
			buf[off] = '\0';
			out(buf, len, &off, "workloads_truncated=%zu\n", cfg->nworkloads - i);
			break;
		}
	}
	return off;
}
