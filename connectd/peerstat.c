/*
 * peerstat.c - netjaild's and dohd's status text, kept and rendered as
 * Prometheus metrics (see peerstat.h for the rules on what is kept).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peerstat.h"
#include "sbuf.h"

#define PS_PEER_MAX	16

const char *const ps_reserved[] = { "up", "ready", NULL };

/*
 * Known keys.  A family is the run of consecutive rows with the same peer
 * and name; its HELP and TYPE come from the first row.  A row matches
 * either one exact key (suf NULL; lval is then the label's value, if the
 * family has a label) or key = pre X suf, where X (1+ characters of
 * [a-z0-9_], so never a '.') becomes the label's value.  The first row
 * that matches takes the key.
 */
struct ps_family {
	const char *peer;	/* NULL: every peer */
	const char *name;	/* egressjail_<peer>_<name> */
	const char *type;
	const char *help;
	const char *pre;	/* the key, or the part before X */
	const char *suf;	/* NULL: exact key */
	const char *label;	/* NULL: no label */
	const char *lval;	/* exact key: the label's value */
	bool ms;		/* milliseconds, exported as seconds */
};

#define C "counter"
#define G "gauge"
#define DEC(k) { "dohd", "queries_by_decision_total", C, \
	"DNS queries by what dohd decided (a query allowed and then answered " \
	"from local data counts twice).", k, NULL, "decision", k, false }
#define WL(n, h, pre) { "dohd", n, C, h, pre, "", "workload", NULL, false }
#define UPS(n, t, h, s, ms) { "dohd", n, t, h, "upstream.", s, "upstream", \
	NULL, ms }

static const struct ps_family fam[] = {
	{ NULL, "generation", G, "Configuration or ruleset generation the "
	    "peer runs.", "generation", NULL, NULL, NULL, false },

	{ "dohd", "queries_total", C, "DNS queries dohd received (from "
	    "clients and from connectd).", "queries", NULL, NULL, NULL, false },
	DEC("allowed"), DEC("denied"), DEC("reported"), DEC("refused"),
	DEC("formerr"), DEC("notimp"), DEC("dropped"), DEC("ratelimited"),
	DEC("local"),
	{ "dohd", "queries_by_qtype_total", C, "DNS queries by question type.",
	    "qtype_", "", "qtype", NULL, false },
	{ "dohd", "servfail_total", C, "Answers sent with SERVFAIL.",
	    "servfail", NULL, NULL, NULL, false },
	{ "dohd", "truncated_total", C, "Answers sent truncated (TC).",
	    "truncated", NULL, NULL, NULL, false },
	{ "dohd", "cache_lookups_total", C, "Answer cache lookups by result.",
	    "cache_hits", NULL, "result", "hit", false },
	{ "dohd", "cache_lookups_total", C, NULL,
	    "cache_misses", NULL, "result", "miss", false },
	{ "dohd", "cache_hit_ratio", G, "Cache hits over cache lookups since "
	    "dohd started.", "cache_hit_ratio", NULL, NULL, NULL, false },
	{ "dohd", "cache_entries", G, "Answers in the cache.",
	    "cache_entries", NULL, NULL, NULL, false },
	{ "dohd", "cache_evictions_total", C, "Answers evicted from the cache.",
	    "cache_evictions", NULL, NULL, NULL, false },
	{ "dohd", "stale_served_total", C, "Stale answers served because no "
	    "upstream answered.", "stale_served", NULL, NULL, NULL, false },
	{ "dohd", "upstream_results_total", C, "Upstream exchanges by result "
	    "(ok, bad answer, failed).", "upstream_ok", NULL, "result", "ok",
	    false },
	{ "dohd", "upstream_results_total", C, NULL,
	    "upstream_bad", NULL, "result", "bad", false },
	{ "dohd", "upstream_results_total", C, NULL,
	    "upstream_fail", NULL, "result", "fail", false },
	{ "dohd", "stripped_addrs_total", C, "Addresses the policy removed "
	    "from upstream answers.", "stripped_addrs", NULL, NULL, NULL,
	    false },
	{ "dohd", "cname_cut_total", C, "Answers denied for a CNAME chain "
	    "that left the allowlist.", "cname_cut", NULL, NULL, NULL, false },
	{ "dohd", "feed_total", C, "Address pushes to netjaild before an "
	    "answer, by result.", "feed_ok", NULL, "result", "ok", false },
	{ "dohd", "feed_total", C, NULL, "feed_fail", NULL, "result", "fail",
	    false },
	{ "dohd", "inflight", G, "Queries waiting for an upstream.",
	    "inflight", NULL, NULL, NULL, false },
	{ "dohd", "log_dropped_total", C, "Decision-log lines dropped because "
	    "the log reader stalled.", "log_dropped", NULL, NULL, NULL, false },
	WL("workload_queries_total", "DNS queries dohd received on a "
	    "workload's listeners (default: [policy]'s).", "wl_queries."),
	WL("workload_allowed_total", "DNS queries of a workload its "
	    "allowlist allowed.", "wl_allowed."),
	WL("workload_denied_total", "DNS queries of a workload its "
	    "allowlist denied.", "wl_denied."),
	WL("workload_reported_total", "DNS queries of a workload let through "
	    "in report or learn mode.", "wl_reported."),
	WL("workload_refused_total", "DNS queries of a workload refused "
	    "(type, name limits, its workload gone).", "wl_refused."),
	WL("workload_local_total", "DNS queries of a workload answered from "
	    "local data.", "wl_local."),
	UPS("upstream_up", G, "1 when the DoH upstream is not marked down.",
	    ".up", false),
	UPS("upstream_latency_seconds", G, "Smoothed (EWMA) answer latency of "
	    "the DoH upstream.", ".latency_ms", true),
	UPS("upstream_queries_total", C, "Queries sent to the DoH upstream.",
	    ".queries", false),
	UPS("upstream_answers_total", C, "Answers from the DoH upstream.",
	    ".answers", false),
	UPS("upstream_errors_total", C, "Failed exchanges with the DoH "
	    "upstream.", ".errors", false),
	UPS("upstream_bad_answers_total", C, "Answers from the DoH upstream "
	    "that were refused as malformed.", ".bad_answers", false),
	UPS("upstream_connections_total", C, "Connections opened to the DoH "
	    "upstream.", ".connections", false),
	UPS("upstream_connect_failures_total", C, "Failed connection attempts "
	    "to the DoH upstream.", ".connect_failures", false),
	UPS("upstream_streams", G, "Open HTTP/2 streams to the DoH upstream.",
	    ".streams", false),

	{ "netjaild", "chains", G, "Chains in the installed ruleset, as read "
	    "back.", "chains", NULL, NULL, NULL, false },
	{ "netjaild", "rules", G, "Rules in the installed ruleset, as read "
	    "back.", "rules", NULL, NULL, NULL, false },
	{ "netjaild", "sets", G, "Sets in the installed ruleset, as read "
	    "back.", "sets", NULL, NULL, NULL, false },
	{ "netjaild", "set_elements", G, "Elements in each set of the "
	    "ruleset.", "set_", "", "set", NULL, false },
	{ "netjaild", "drop_packets_total", C, "Packets dropped or rejected, "
	    "by counted rule.", "drop_", "_packets", "rule", NULL, false },
	{ "netjaild", "drop_bytes_total", C, "Bytes dropped or rejected, by "
	    "counted rule.", "drop_", "_bytes", "rule", NULL, false },
};

#undef C
#undef G
#undef DEC
#undef UPS
#undef WL

#define NFAM (sizeof(fam) / sizeof(fam[0]))

/* ---- parsing */

void
ps_clear(struct ps_stats *s)
{
	s->n = 0;
	s->skipped = 0;
	s->truncated = false;
}

bool
ps_key_ok(const char *k, size_t n)
{
	size_t i;

	if (n == 0 || n > PS_KEY_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
		    (k[i] >= '0' && k[i] <= '9') || k[i] == '_' || k[i] == '.'))
			return false;
	return true;
}

static size_t
digits(const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++)
		;
	return i;
}

bool
ps_value_ok(const char *v, size_t n)
{
	static const char u64max[] = "18446744073709551615";
	size_t ip, fp;

	if (n == 0 || n > PS_VAL_MAX)
		return false;
	ip = digits(v, n);
	if (ip == 0 || ip > sizeof(u64max) - 1)
		return false;
	if (ip == sizeof(u64max) - 1 && memcmp(v, u64max, ip) > 0)
		return false;
	if (ip == n)
		return true;
	if (v[ip] != '.')
		return false;
	fp = digits(v + ip + 1, n - ip - 1);
	return fp > 0 && ip + 1 + fp == n;
}

static struct ps_entry *
find(const struct ps_stats *s, const char *k, size_t n)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strncmp(s->e[i].key, k, n) == 0 && s->e[i].key[n] == '\0')
			return (struct ps_entry *)&s->e[i];
	return NULL;
}

static void
line(struct ps_stats *s, const char *l, size_t n)
{
	const char *eq = memchr(l, '=', n);
	size_t kl, vl;
	struct ps_entry *e;

	if (eq == NULL) {
		s->skipped++;
		return;
	}
	kl = (size_t)(eq - l);
	vl = n - kl - 1;
	if (!ps_key_ok(l, kl) || !ps_value_ok(eq + 1, vl) ||
	    find(s, l, kl) != NULL) {
		s->skipped++;
		return;
	}
	if (s->n == PS_ENTRIES_MAX) {
		s->skipped++;
		s->truncated = true;
		return;
	}
	e = &s->e[s->n++];
	memcpy(e->key, l, kl);
	e->key[kl] = '\0';
	memcpy(e->val, eq + 1, vl);
	e->val[vl] = '\0';
}

void
ps_parse(struct ps_stats *s, const char *text, size_t len)
{
	const char *p = text, *end, *nl, *z;
	size_t lines = 0;

	ps_clear(s);
	if (text == NULL)
		return;
	if ((z = memchr(text, '\0', len)) != NULL)
		len = (size_t)(z - text);
	if (len > PS_TEXT_MAX) {
		len = PS_TEXT_MAX;
		s->truncated = true;
	}
	end = text + len;
	while (p < end) {
		/* Only whole lines: a peer whose buffer ran out cut its last
		 * line, and "queries=12" cut from "queries=1234" is a lie. */
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			s->skipped++;
			s->truncated = true;
			break;
		}
		if (lines++ == PS_LINES_MAX) {
			s->truncated = true;
			break;
		}
		if (nl > p)
			line(s, p, (size_t)(nl - p));
		p = nl + 1;
	}
}

bool
ps_set_u64(struct ps_stats *s, const char *key, uint64_t v)
{
	size_t kl = strlen(key);
	struct ps_entry *e;

	if (!ps_key_ok(key, kl))
		return false;
	if ((e = find(s, key, kl)) == NULL) {
		if (s->n == PS_ENTRIES_MAX)
			return false;
		e = &s->e[s->n++];
		memcpy(e->key, key, kl + 1);
	}
	snprintf(e->val, sizeof(e->val), "%" PRIu64, v);
	return true;
}

const char *
ps_get(const struct ps_stats *s, const char *key)
{
	const struct ps_entry *e = find(s, key, strlen(key));

	return e != NULL ? e->val : NULL;
}

/* ---- rendering */

static bool
peer_applies(const struct ps_family *f, const char *peer)
{
	return f->peer == NULL || strcmp(f->peer, peer) == 0;
}

static bool
same_family(const struct ps_family *a, const struct ps_family *b)
{
	if ((a->peer == NULL) != (b->peer == NULL))
		return false;
	return (a->peer == NULL || strcmp(a->peer, b->peer) == 0) &&
	    strcmp(a->name, b->name) == 0;
}

static bool
label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Does key match row f?  *x, *xl: the label's value. */
static bool
match(const struct ps_family *f, const char *key, const char **x,
    size_t *xl)
{
	size_t kl, pl, sl, i;

	if (f->suf == NULL) {
		if (strcmp(key, f->pre) != 0)
			return false;
		*x = f->lval;
		*xl = f->lval != NULL ? strlen(f->lval) : 0;
		return true;
	}
	kl = strlen(key);
	pl = strlen(f->pre);
	sl = strlen(f->suf);
	if (kl <= pl + sl || strncmp(key, f->pre, pl) != 0 ||
	    strcmp(key + kl - sl, f->suf) != 0)
		return false;
	for (i = pl; i < kl - sl; i++)
		if (!label_char(key[i]))
			return false;
	*x = key + pl;
	*xl = kl - sl - pl;
	return true;
}

static void
sample(struct sbuf *b, const char *peer, const struct ps_family *f,
    const char *x, size_t xl, const char *val)
{
	sb_printf(b, "egressjail_%s_%s", peer, f->name);
	if (f->label != NULL)
		sb_printf(b, "{%s=\"%.*s\"}", f->label, (int)xl, x);
	if (f->ms)
		sb_printf(b, " %.9g\n", strtod(val, NULL) / 1000.0);
	else
		sb_printf(b, " %s\n", val);
}

/* The name a key without a family gets (after egressjail_<peer>_). */
static void
generic_name(const char *key, char *out)
{
	size_t i;

	for (i = 0; key[i] != '\0'; i++)
		out[i] = key[i] == '.' ? '_' : key[i];
	out[i] = '\0';
}

static bool
name_taken(const char *peer, const char *name)
{
	size_t i;

	for (i = 0; ps_reserved[i] != NULL; i++)
		if (strcmp(ps_reserved[i], name) == 0)
			return true;
	for (i = 0; i < NFAM; i++)
		if (peer_applies(&fam[i], peer) &&
		    strcmp(fam[i].name, name) == 0)
			return true;
	return false;
}

char *
ps_render(const struct ps_stats *s, const char *peer, size_t *len)
{
	struct sbuf b = SBUF_INIT;
	bool used[PS_ENTRIES_MAX] = { false };
	char gn[PS_KEY_MAX + 1], gj[PS_KEY_MAX + 1];
	const char *x = NULL;
	size_t i, j, g, end, xl = 0, n;
	bool head, dup;

	n = strlen(peer);
	if (n == 0 || n > PS_PEER_MAX || strspn(peer,
	    "abcdefghijklmnopqrstuvwxyz") != n)
		return NULL;
	n = s->n < PS_ENTRIES_MAX ? s->n : PS_ENTRIES_MAX;
	for (g = 0; g < NFAM; g = end) {
		for (end = g + 1; end < NFAM && same_family(&fam[g],
		    &fam[end]); end++)
			;
		if (!peer_applies(&fam[g], peer))
			continue;
		head = false;
		for (j = g; j < end; j++)
			for (i = 0; i < n; i++) {
				if (used[i] || !match(&fam[j], s->e[i].key, &x,
				    &xl))
					continue;
				used[i] = true;
				if (!head)
					sb_printf(&b, "# HELP egressjail_%s_%s "
					    "%s\n# TYPE egressjail_%s_%s %s\n",
					    peer, fam[g].name, fam[g].help,
					    peer, fam[g].name, fam[g].type);
				head = true;
				sample(&b, peer, &fam[j], x, xl, s->e[i].val);
			}
	}
	/* Keys connectd does not know: one untyped family each, unless the
	 * name is a known family's, reserved, or an earlier key's ("a.b"
	 * and "a_b"). */
	for (i = 0; i < n; i++) {
		if (used[i])
			continue;
		generic_name(s->e[i].key, gn);
		if (name_taken(peer, gn))
			continue;
		for (dup = false, j = 0; j < i && !dup; j++) {
			if (used[j])
				continue;
			generic_name(s->e[j].key, gj);
			dup = strcmp(gn, gj) == 0;
		}
		if (dup)
			continue;
		sb_printf(&b, "# HELP egressjail_%s_%s %s status key %s.\n"
		    "# TYPE egressjail_%s_%s untyped\negressjail_%s_%s %s\n",
		    peer, gn, peer, s->e[i].key, peer, gn, peer, gn,
		    s->e[i].val);
	}
	return sb_take(&b, len);
}
