/*
 * decide.c - what connectd does with a policy decision.  Kept apart from
 * the I/O so the glue is unit-tested: every path that is not an explicit
 * allow ends in a refusal.
 */
#include <stdio.h>
#include <string.h>

#include "cd.h"

const char *
cd_mode_str(enum cd_mode m)
{
	return m == CD_MODE_TRANSPARENT ? "transparent" : "explicit";
}

void
cd_decide(const struct eg_policy *pol, enum cd_mode mode, const char *host,
    uint16_t port, struct cd_verdict *v)
{
	struct eg_decision d;

	memset(v, 0, sizeof(*v));
	v->status = 403;
	snprintf(v->rule, sizeof(v->rule), "-");
	if (pol == NULL || host == NULL || host[0] == '\0' || port == 0) {
		v->reason = "no-target";
		return;
	}
	/* Transparent intake decides on a name the client sent in the clear;
	 * an address there is never a name (and a direct endpoint never
	 * reaches the transparent listener: netjaild lets it bypass). */
	if (mode == CD_MODE_TRANSPARENT && eg_is_ip_literal(host)) {
		v->reason = eg_reason_str(EG_R_IP_LITERAL);
		return;
	}
	d = eg_policy_check_host(pol, host, port);
	if (d.rule != NULL)
		eg_rule_where(d.rule, v->rule, sizeof(v->rule));
	v->reason = eg_reason_str(d.reason);
	if (d.verdict != EG_ALLOW)
		return;
	/* A direct endpoint in report mode is still direct; a reported
	 * denial goes through the chain like any allowed name. */
	v->allow = true;
	v->reported = d.reported;
	v->direct = d.direct && !d.reported;
	v->status = 0;
}
