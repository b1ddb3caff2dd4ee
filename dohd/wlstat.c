/*
 * wlstat.c - dohd's query counters per workload, for STATUS (and from
 * there connectd's /metrics: egressjail_dohd_workload_queries_total and
 * one family per decision, labelled workload="NAME").  Kept by name, so
 * a reload that renumbers the workloads keeps every count; a workload a
 * reload removed stops being reported.  The global counters are
 * untouched (core.c): these only add.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dohd.h"

enum { DWC_QUERIES, DWC_ALLOWED, DWC_DENIED, DWC_REPORTED, DWC_REFUSED,
    DWC_LOCAL, DWC__MAX };

static const char *const dwc_key[DWC__MAX] = {
	"wl_queries", "wl_allowed", "wl_denied", "wl_reported",
	"wl_refused", "wl_local",
};

struct dwlstat {
	char name[EG_WL_NAME_MAX + 1];
	uint64_t n[DWC__MAX];
};

int
dwlstat_sync(struct dohd *d)
{
	size_t n = eg_wlpol_count(d->wlpol);
	struct dwlstat *v;

	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		snprintf(v[i].name, sizeof(v[i].name), "%s",
		    eg_wlpol_name(d->wlpol, i));
		for (size_t j = 0; j < d->nwlstat; j++)
			if (strcmp(d->wlstat[j].name, v[i].name) == 0)
				memcpy(v[i].n, d->wlstat[j].n, sizeof(v[i].n));
	}
	free(d->wlstat);
	d->wlstat = v;
	d->nwlstat = n;
	return 0;
}

void
dwlstat_free(struct dohd *d)
{
	free(d->wlstat);
	d->wlstat = NULL;
	d->nwlstat = 0;
}

static int
slot(const char *decision)
{
	if (decision == NULL)
		return -1;
	if (strcmp(decision, "allow") == 0)
		return DWC_ALLOWED;
	if (strcmp(decision, "deny") == 0)
		return DWC_DENIED;
	if (strcmp(decision, "report") == 0 || strcmp(decision, "learn") == 0)
		return DWC_REPORTED;
	if (strcmp(decision, "refused") == 0)
		return DWC_REFUSED;
	if (strcmp(decision, "local") == 0)
		return DWC_LOCAL;
	return -1;
}

void
dwlstat_count(struct dohd *d, const struct dquery_wl *t,
    const char *decision)
{
	long i;
	int s;

	if (d->wlstat == NULL)
		return;
	if (t->name[0] == '\0')
		i = 0;
	else if (t->gen == d->wlgen)
		i = (long)t->idx;
	else
		i = eg_wlpol_find(d->wlpol, t->name);
	/* a workload that left the config: counted nowhere (nor, after a
	 * sync that failed, under another's name) */
	if (i < 0 || (size_t)i >= d->nwlstat ||
	    strcmp(d->wlstat[i].name, dquery_wl_name(t)) != 0)
		return;
	d->wlstat[i].n[DWC_QUERIES]++;
	if ((s = slot(decision)) >= 0)
		d->wlstat[i].n[s]++;
}

size_t
dwlstat_text(const struct dohd *d, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	for (size_t i = 0; i < d->nwlstat; i++)
		for (int k = 0; k < DWC__MAX; k++) {
			int n = snprintf(buf + off, len - off, "%s.%s=%llu\n",
			    dwc_key[k], d->wlstat[i].name,
			    (unsigned long long)d->wlstat[i].n[k]);

			if (n < 0 || (size_t)n >= len - off) {
				buf[off] = '\0';
				return off;
			}
			off += (size_t)n;
		}
	return off;
}
