/*
 * own.c - the host's own addresses, which dohd strips from every answer
 * (for hop and direct names too): the listeners and every address of
 * every interface, not only the listeners.  Read at start (a failure is
 * fatal), on reload, and every DOHD_OWN_REFRESH_MS, so an address added
 * later (a Docker bridge's gateway, a VPN tunnel, a loopback alias) is
 * stripped within seconds; a change goes into the live policy and
 * empties the cache, which may hold answers that were filtered without it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "control.h"
#include "hostaddr.h"
#include "log.h"
#include "own.h"

static int
cidr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct eg_cidr));
}

int
downaddrs_read(const struct eg_config *cfg, struct eg_cidr **out, size_t *n)
{
	struct eg_cidr *h, *v;
	size_t k = 0, nh, i;

	if (eg_host_addrs(&h, &nh) != 0)
		return errno ? -errno : -EIO;
	if ((v = calloc(cfg->dohd.nlisten + nh + 1, sizeof(*v))) == NULL) {
		free(h);
		return -ENOMEM;
	}
	for (i = 0; i < cfg->dohd.nlisten; i++) {
		struct sockaddr_storage ss;
		socklen_t sl;
		uint16_t port;

		if (!eg_sockaddr_parse(cfg->dohd.listen[i], &ss, &sl, NULL) ||
		    !eg_ip_from_sockaddr((struct sockaddr *)&ss, &v[k].ip,
		    &port))
			continue;
		v[k].ip.scope = 0;
		v[k].plen = v[k].ip.family == AF_INET ? 32 : 128;
		k++;
	}
	memcpy(v + k, h, nh * sizeof(*h));
	k += nh;
	free(h);
	/* sorted, so a refresh compares sets, not the kernel's order */
	qsort(v, k, sizeof(*v), cidr_cmp);
	*out = v;
	*n = k;
	return 0;
}

int
downaddrs_refresh(struct dohd_app *a)
{
	struct eg_cidr *v;
	char err[EG_ERR_MAX];
	size_t n;
	int rc;

	if ((rc = downaddrs_read(a->boot_cfg, &v, &n)) < 0)
		return rc;
	if (n == a->nextra && memcmp(v, a->extra_deny, n * sizeof(*v)) == 0) {
		free(v);
		return 0;
	}
	if (a->core.wlpol != NULL &&
	    !eg_wlpol_set_host_addrs(a->core.wlpol, v, n, err)) {
		free(v);
		eg_log(EG_LOG_WARN, "host_addrs", "error=\"%s\"", err);
		return -EINVAL;
	}
	eg_log(EG_LOG_INFO, "host_addrs", "count=%zu was=%zu", n, a->nextra);
	free(a->extra_deny);
	a->extra_deny = v;
	a->nextra = n;
	if (a->core.cache != NULL)
		dcache_flush(a->core.cache);
	return 1;
}

static struct eg_ratelimit refresh_rl = EG_RATELIMIT_INIT(60000, 1);

static void
on_refresh(uv_timer_t *t)
{
	struct dohd_app *a = t->data;
	int rc;

	/* the old set stays: it never shrinks on a failed read */
	if ((rc = downaddrs_refresh(a)) < 0)
		eg_log_rl(&refresh_rl, EG_LOG_WARN, "host_addrs", "error=\"%s\" "
		    "effect=\"the last set stays\"", strerror(-rc));
}

void
downaddrs_start(struct dohd_app *a, uv_timer_t *t)
{
	uv_timer_init(a->loop, t);
	t->data = a;
	uv_timer_start(t, on_refresh, DOHD_OWN_REFRESH_MS, DOHD_OWN_REFRESH_MS);
}
