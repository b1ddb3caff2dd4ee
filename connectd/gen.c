/*
 * gen.c - one configuration generation: the loaded config, the policy
 * engine built from it, and the TLS client context for https:// hops.
 * A reload builds a new generation; connections keep a reference to the
 * one they started with, so a reload never changes a tunnel in flight.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "cd.h"
#include "hostaddr.h"

struct cd_gen *
cd_gen_new(struct eg_config *cfg, char *err, size_t errlen)
{
	static unsigned next_id = 1;
	struct cd_gen *g;
	struct eg_cidr *own;
	char perr[EG_ERR_MAX] = "";
	size_t nown;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->refs = 1;
	g->id = next_id++;
	g->cfg = cfg;
	/* the host's own addresses are never a destination (policy.h); not
	 * knowing them is an error, not an empty list (a unit whose
	 * RestrictAddressFamilies= lacks AF_NETLINK made it one) */
	if (eg_host_addrs(&own, &nown) != 0) {
		snprintf(err, errlen, "the host's own addresses: %s",
		    strerror(errno));
		goto bad;
	}
	g->wp = eg_wlpol_new(cfg, own, nown, perr);
	free(own);
	if (g->wp == NULL) {
		snprintf(err, errlen, "policy: %s", perr);
		goto bad;
	}
	g->pol = eg_wlpol_get(g->wp, 0);
	if ((g->ssl = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, "TLS context failed");
		goto bad;
	}
	SSL_CTX_set_min_proto_version(g->ssl, TLS1_2_VERSION);
	SSL_CTX_set_verify(g->ssl, SSL_VERIFY_PEER, NULL);
	/* Load the trust only when an https:// hop needs it, so a missing
	 * CA file does not stop an all-http chain. */
	for (size_t i = 0; i < cfg->chain.nhops; i++) {
		if (!cfg->chain.hops[i].tls)
			continue;
		if (SSL_CTX_load_verify_locations(g->ssl,
		    cfg->chain.ca_file ? cfg->chain.ca_file :
		    EG_DEFAULT_CA_FILE, NULL) != 1) {
			snprintf(err, errlen, "[chain] ca_file %s: %s",
			    cfg->chain.ca_file ? cfg->chain.ca_file :
			    EG_DEFAULT_CA_FILE,
			    ERR_reason_error_string(ERR_get_error()));
			ERR_clear_error();
			goto bad;
		}
		break;
	}
	return g;
bad:
	eg_wlpol_free(g->wp);
	SSL_CTX_free(g->ssl);
	free(g);
	return NULL;
}

struct cd_gen *
cd_gen_ref(struct cd_gen *g)
{
	g->refs++;
	return g;
}

void
cd_gen_unref(struct cd_gen *g)
{
	if (g == NULL || --g->refs > 0)
		return;
	eg_wlpol_free(g->wp);
	SSL_CTX_free(g->ssl);
	eg_config_free(g->cfg);
	free(g);
}
