/*
 * explain.c - `egressctl explain HOST[:PORT]`: what the jail would do with
 * a TCP connection to HOST:PORT (connectd's view) and a DNS query for HOST
 * (dohd's view), decided here by the same policy engine from the config,
 * with the rule (file:line) that matched.  Running daemons that answer
 * EXPLAIN_REQ add their own view.  Exit 0 when the connection would be
 * let through, 1 when denied (and for a source two workloads match, which
 * the jail refuses whatever the policies say).
 *
 * The decision is one workload's (explain_wl.c): [policy]'s by default,
 * --workload NAME's, or that of the workload --from SOURCE falls in.  The
 * config is loaded with its [workload] sections even while the daemons'
 * gate refuses them, so an operator can try a policy before enforcing it.
 *
 * The local view knows the config only: the host's own addresses, which
 * the daemons add to the deny list, are not among them (they matter only
 * for IP literals, which no rule allows anyway).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "egressctl.h"
#include "explain_wl.h"
#include "policy.h"
#include "wlpolicy.h"

#define QT_A	1
#define QT_AAAA	28

/* HOST, HOST:PORT, [V6] or [V6]:PORT; a bare IPv6 literal has no port. */
static bool
split_target(const char *arg, char *host, size_t hlen, uint16_t *port)
{
	const char *colon, *end, *ps = NULL;
	size_t n;

	*port = 443;
	if (arg[0] == '[') {
		if ((end = strchr(arg, ']')) == NULL)
			return false;
		n = (size_t)(end - arg - 1);
		if (end[1] == ':')
			ps = end + 2;
		else if (end[1] != '\0')
			return false;
		arg++;
	} else if ((colon = strchr(arg, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		n = (size_t)(colon - arg);
		ps = colon + 1;
	} else {
		n = strlen(arg);
	}
	if (n == 0 || n >= hlen)
		return false;
	memcpy(host, arg, n);
	host[n] = '\0';
	if (ps != NULL && (!eg_port_parse(ps, port) || *port == 0))
		return false;
	return true;
}

static const char *
rule_pattern(const struct eg_rule *r, char *buf, size_t len)
{
	size_t off;
	int n;
	uint8_t i;

	n = snprintf(buf, len, "%s%s", r->match == EG_MATCH_ONE_LABEL ? "*." :
	    r->match == EG_MATCH_ANY_DEPTH ? "**." : "", r->suffix);
	off = n < 0 ? 0 : (size_t)n;
	for (i = 0; i < r->nports && off < len; i++) {
		const struct eg_portrange *pr = &r->ports[i];

		if (pr->lo == 0 && pr->hi == 65535)
			n = snprintf(buf + off, len - off, "%s*", i ? "," : ":");
		else if (pr->lo == pr->hi)
			n = snprintf(buf + off, len - off, "%s%u", i ? "," : ":",
			    pr->lo);
		else
			n = snprintf(buf + off, len - off, "%s%u-%u",
			    i ? "," : ":", pr->lo, pr->hi);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return buf;
}

static const struct eg_direct *
direct_in(const struct eg_direct *v, size_t n, const char *host,
    uint16_t port)
{
	char norm[EG_NAME_MAX + 1];
	struct eg_ip ip;
	bool isip, isname;
	size_t i;

	isip = eg_ip_parse(host, &ip, true);
	isname = !isip && eg_name_normalise(host, norm, NULL);
	for (i = 0; i < n; i++) {
		const struct eg_direct *d = &v[i];

		if (port != 0 && d->ep.port != port)
			continue;
		if (isname && d->ep.is_name && strcasecmp(d->ep.name, norm) == 0)
			return d;
		if (isip && !d->ep.is_name && eg_cidr_contains(&d->ep.cidr, &ip))
			return d;
	}
	return NULL;
}

/*
 * The direct entry that covers host:port (port 0: any), or NULL: [jail]'s
 * first, then workload wl's own (0: [policy], which has none).
 */
static const struct eg_direct *
find_direct(const struct eg_config *cfg, size_t wl, const char *host,
    uint16_t port)
{
	const struct eg_direct *d;

	d = direct_in(cfg->jail.direct, cfg->jail.ndirect, host, port);
	if (d == NULL && wl > 0 && wl <= cfg->nworkloads)
		d = direct_in(cfg->workloads[wl - 1].direct,
		    cfg->workloads[wl - 1].ndirect, host, port);
	return d;
}

static const char *
why_text(const struct eg_decision *d)
{
	switch (d->reason) {
	case EG_R_RULE:
		return "a rule allows it";
	case EG_R_DIRECT:
		return "a [jail] direct endpoint: bypasses the chain";
	case EG_R_NO_RULE:
		return "no rule names this host";
	case EG_R_PORT:
		return "a rule names the host, but not this port";
	case EG_R_IP_LITERAL:
		return "an IP literal is never a name, and it is not a direct "
		    "endpoint";
	case EG_R_DENY_CIDR:
		return "the address is in the built-in deny list";
	case EG_R_HOST_ADDR:
		return "the host's own, gateway or listener address";
	case EG_R_BAD_NAME:
		return "not a valid host name (or too long)";
	case EG_R_QTYPE:
		return "this DNS type is not allowed for the name";
	case EG_R_EMPTY:
		return "the allowlist is empty: everything is denied";
	}
	return "unknown";
}

/* One view: text line or JSON object. */
static void
report(const struct ctl_opts *o, struct json *j, const struct eg_config *cfg,
    size_t wl, const char *view, const char *what, const char *host,
    uint16_t port, const struct eg_decision *d)
{
	char where[600], pat[600], cidr[80];
	const struct eg_direct *de = NULL;
	const char *verdict;

	verdict = d->verdict == EG_ALLOW ? (d->reported ? "allow (report mode)" :
	    "allow") : "deny";
	where[0] = pat[0] = cidr[0] = '\0';
	if (d->rule != NULL) {
		eg_rule_where(d->rule, where, sizeof(where));
		rule_pattern(d->rule, pat, sizeof(pat));
	} else if (d->reason == EG_R_DIRECT &&
	    (de = find_direct(cfg, wl, host, port)) != NULL &&
	    de->at.file != NULL) {
		snprintf(where, sizeof(where), "%s:%d", de->at.file,
		    de->at.line);
	}
	if (d->cidr != NULL)
		eg_cidr_str(d->cidr, cidr, sizeof(cidr));
	if (o->json) {
		json_obj_begin(j, NULL);
		json_str(j, "view", view);
		json_str(j, "query", what);
		json_str(j, "decision", d->verdict == EG_ALLOW ? "allow" :
		    "deny");
		json_bool(j, "reported", d->reported);
		json_str(j, "reason", eg_reason_str(d->reason));
		json_str(j, "why", why_text(d));
		json_str(j, "rule", pat[0] ? pat : NULL);
		json_str(j, "at", where[0] ? where : NULL);
		json_str(j, "cidr", cidr[0] ? cidr : NULL);
		json_bool(j, "direct", d->direct);
		json_obj_end(j);
		return;
	}
	printf("%-9s %s: %s: %s (%s)", view, what, verdict, why_text(d),
	    eg_reason_str(d->reason));
	if (pat[0] != '\0')
		printf("\n          rule \"%s\" at %s", pat, where);
	else if (where[0] != '\0')
		printf("\n          direct at %s", where);
	if (cidr[0] != '\0')
		printf("\n          deny list %s", cidr);
	if (d->reported)
		printf("\n          enforce mode would deny this");
	putchar('\n');
}

/* What running daemons say, when they answer; silent when they do not. */
static void
ask_daemons(const struct ctl_opts *o, struct json *j,
    const struct eg_config *cfg, const char *host, uint16_t port)
{
	static const char *const names[] = { "connectd", "dohd" };
	const struct eg_msg_result *res;
	struct eg_msg_explain_req rq;
	struct eg_ipc_msg reply;
	struct ctl_buf *buf;
	uint8_t req[sizeof(rq) + EG_NAME_MAX];
	char path[512], *t;
	const char *text;
	size_t i, hl = strlen(host);

	if (hl > EG_NAME_MAX || (buf = malloc(sizeof(*buf))) == NULL)
		return;
	if (o->json)
		json_obj_begin(j, "daemons");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		rq.port = i == 0 ? port : 0;
		rq.hostlen = (uint16_t)hl;
		memcpy(req, &rq, sizeof(rq));
		memcpy(req + sizeof(rq), host, hl);
		if (ctl_sock_path(cfg, names[i], path, sizeof(path)) == NULL ||
		    ctl_call(path, EG_MSG_EXPLAIN_REQ, req, sizeof(rq) + hl,
		    buf, &reply) == -1 ||
		    (res = eg_ipc_result(&reply, &text)) == NULL) {
			if (o->json)
				json_null(j, names[i]);
			continue;
		}
		t = ctl_text_dup(text, res->textlen);
		if (o->json) {
			json_str(j, names[i], t);
		} else {
			printf("%s says:\n", names[i]);
			ctl_print_lines(stdout, "    ", t);
		}
		free(t);
	}
	if (o->json)
		json_obj_end(j);
	free(buf);
}

struct explain_args {
	const char *workload;
	const char *from[3];
	size_t nfrom;
};

static bool
explain_opt(void *arg, int ch, const char *val)
{
	struct explain_args *a = arg;

	if (ch == 300 && a->workload == NULL) {
		a->workload = val;
		return true;
	}
	if (ch == 301 && a->nfrom < 3) {
		a->from[a->nfrom++] = val;
		return true;
	}
	return false;
}

static int
explain_usage(void)
{
	fprintf(stderr, "usage: egressctl explain [--workload NAME | --from "
	    "ADDRESS|iface:IFNAME|uid:USER|cgroup:PATH] HOST[:PORT]\n");
	return EXIT_CTL_USAGE;
}

/* The config with its [workload] sections, as explain sees it. */
static struct eg_config *
explain_config(const struct ctl_opts *o)
{
	struct ctl_opts lo = *o;

	lo.extra_flags |= EG_CONFIG_WORKLOADS;
	return ctl_load_config(&lo, "explain");
}

/*
 * Long: the views of one decision in text and JSON, and the workload
 * that was chosen; the parts are report(), ctl_wl_report() and
 * ask_daemons().
 */
int
cmd_explain(struct ctl_opts *o, int argc, char **argv)
{
	static const uint16_t qtypes[] = { QT_A, QT_AAAA };
	static const struct option wlopts[] = {
		{ "workload", required_argument, NULL, 300 },
		{ "from", required_argument, NULL, 301 },
		{ NULL, 0, NULL, 0 },
	};
	char host[EG_NAME_MAX * 2 + 2], what[EG_NAME_MAX * 2 + 16];
	char err[EG_ERR_MAX];
	struct explain_args a;
	struct eg_decision tcp, dns;
	const struct eg_policy *pol;
	struct eg_wlpol *wp;
	struct eg_config *cfg;
	enum eg_policy_mode mode;
	struct ctl_wl wl;
	struct json j;
	const struct eg_direct *de;
	uint16_t port;
	bool literal, conflict;
	size_t i;
	int first;

	memset(&a, 0, sizeof(a));
	if ((first = ctl_parse_opts(o, argc, argv, "explain", wlopts,
	    explain_opt, &a)) < 0)
		return explain_usage();
	if (argc - first != 1)
		return explain_usage();
	if (!split_target(argv[first], host, sizeof(host), &port)) {
		fprintf(stderr, "egressctl explain: \"%.64s\": want HOST, "
		    "HOST:PORT or [IPV6]:PORT, port 1-65535\n", argv[first]);
		return EXIT_CTL_USAGE;
	}
	if ((cfg = explain_config(o)) == NULL)
		return EXIT_CTL_CONFIG;
	if ((wp = eg_wlpol_new(cfg, NULL, 0, err)) == NULL) {
		fprintf(stderr, "egressctl explain: %s\n", err);
		eg_config_free(cfg);
		return EXIT_CTL_CONFIG;
	}
	if (ctl_wl_select(cfg, wp, a.workload, a.from, a.nfrom, &wl,
	    err) != 0) {
		fprintf(stderr, "egressctl explain: %s\n", err);
		eg_wlpol_free(wp);
		eg_config_free(cfg);
		return EXIT_CTL_USAGE;
	}
	conflict = wl.found == EG_WL_CONFLICT;
	pol = eg_wlpol_get(wp, wl.idx);
	mode = eg_policy_mode(pol);
	literal = eg_is_ip_literal(host);
	tcp = eg_policy_check_host(pol, host, port);
	if (o->json) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "command", "explain");
		json_str(&j, "host", host);
		json_int(&j, "port", port);
		ctl_wl_report(&wl, wp, o, &j);
		json_str(&j, "mode", eg_mode_str(mode));
		json_bool(&j, "allowed", tcp.verdict == EG_ALLOW && !conflict);
		json_arr_begin(&j, "views");
	} else {
		ctl_wl_report(&wl, wp, o, &j);
	}
	snprintf(what, sizeof(what), "%s%s%s:%u", strchr(host, ':') ? "[" : "",
	    host, strchr(host, ':') ? "]" : "", port);
	report(o, &j, cfg, wl.idx, "connectd", what, host, port, &tcp);
	if (!literal) {
		for (i = 0; i < sizeof(qtypes) / sizeof(qtypes[0]); i++) {
			dns = eg_policy_check_dns(pol, host, qtypes[i]);
			snprintf(what, sizeof(what), "%s %s", host,
			    qtypes[i] == QT_A ? "A" : "AAAA");
			report(o, &j, cfg, wl.idx, "dohd", what, host, 0, &dns);
		}
	}
	de = find_direct(cfg, wl.idx, host, port);
	if (o->json) {
		json_arr_end(&j);
		json_bool(&j, "direct", tcp.direct || de != NULL);
		if (wl.idx == 0)
			ask_daemons(o, &j, cfg, host, port);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		if (literal)
			printf("dohd      no DNS view: %s is an IP literal\n",
			    host);
		if (tcp.direct || de != NULL)
			printf("direct endpoint: yes, bypasses the chain\n");
		else
			printf("direct endpoint: no\n");
		if (eg_mode_reports(mode))
			printf("mode: %s (denials are logged, not "
			    "enforced)\n", eg_mode_str(mode));
		if (conflict)
			printf("refused: the source matches two workloads\n");
		/* the daemons' EXPLAIN_REQ speaks for [policy] only */
		if (wl.idx == 0)
			ask_daemons(o, &j, cfg, host, port);
	}
	eg_wlpol_free(wp);
	eg_config_free(cfg);
	return ctl_flush("explain", tcp.verdict == EG_ALLOW && !conflict ?
	    EXIT_CTL_OK : EXIT_CTL_FAIL);
}
