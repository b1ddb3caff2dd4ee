/*
 * printconf.c - what a loaded config holds, in a few lines: the summary
 * `egressctl check` prints.  Hops are shown redacted, never with their
 * password.
 */
#include <stdio.h>

#include "config.h"

static void
summary_users(const struct eg_config *cfg, FILE *out)
{
	size_t i;

	fprintf(out, "jailed users:     %zu", cfg->jail.nusers);
	for (i = 0; i < cfg->jail.nusers; i++)
		fprintf(out, "%s%s", i ? ", " : " (", cfg->jail.users[i].name);
	fprintf(out, "%s\n", cfg->jail.nusers ? ")" : "");
}

void
eg_config_summary(const struct eg_config *cfg, FILE *out)
{
	char buf[80];
	size_t i, j;

	fprintf(out, "config %s: OK\n", cfg->path);
	fprintf(out, "allow rules:      %zu (mode %s)\n", cfg->policy.nrules,
	    eg_mode_str(cfg->policy.mode));
	fprintf(out, "permit_cidr:      %zu\n", cfg->policy.npermit);
	fprintf(out, "chain hops:       %zu%s\n", cfg->chain.nhops,
	    cfg->chain.exit == EG_EXIT_DIRECT ? " (exit = direct)" : "");
	for (i = 0; i < cfg->chain.nhops; i++)
		fprintf(out, "  hop %zu: %s\n", i + 1,
		    cfg->chain.hops[i].url_redacted);
	fprintf(out, "DoH upstreams:    %zu\n", cfg->dohd.nupstreams);
	for (i = 0; i < cfg->dohd.nupstreams; i++) {
		const struct eg_upstream *u = &cfg->dohd.upstreams[i];

		fprintf(out, "  %s via", u->url);
		for (j = 0; j < u->nbootstrap; j++)
			fprintf(out, " %s", eg_ip_str(&u->bootstrap[j], buf,
			    sizeof(buf)));
		fprintf(out, "\n");
	}
	fprintf(out, "jailed interfaces: %zu", cfg->jail.ninterfaces);
	for (i = 0; i < cfg->jail.ninterfaces; i++)
		fprintf(out, "%s%s", i ? ", " : " (", cfg->jail.interfaces[i]);
	fprintf(out, "%s\n", cfg->jail.ninterfaces ? ")" : "");
	summary_users(cfg, out);
	fprintf(out, "direct endpoints: %zu\n", cfg->jail.ndirect);
	fprintf(out, "ipv6:             %s\n",
	    cfg->jail.ipv6 == EG_IPV6_JAIL ? "jail" : "drop");
	fprintf(out, "inbound:          %s\n",
	    cfg->jail.inbound == EG_INBOUND_PUBLISHED ? "published" : "drop");
	if (cfg->nworkloads > 0)
		fprintf(out, "workloads:        %zu\n", cfg->nworkloads);
	for (i = 0; i < cfg->nworkloads; i++) {
		const struct eg_workload *w = &cfg->workloads[i];

		fprintf(out, "  %s: %zu matches, %zu allow rules (mode %s), "
		    "%zu permit_cidr, %zu direct\n", w->name, w->nmatches,
		    w->policy.nrules, eg_mode_str(w->policy.mode),
		    w->policy.npermit, w->ndirect);
	}
}
