/*
 * wlpolicy.c - one policy engine per workload, built from one config.
 * What each engine holds is policy.c's (eg_policy_new_conf); this file
 * only decides which parts of the config go into which engine and keeps
 * the names and matches the daemons and egressctl look workloads up by.
 */
#include <stdlib.h>
#include <string.h>

#include "errfmt.h"
#include "wlpolicy.h"

struct wlent {
	char			*name;
	struct eg_policy	*pol;
	size_t			 mfirst;	/* its matches in all[] */
	size_t			 nmatch;
};

/*
 * The matches a source of one side (bridge: iface:, cidr:; local: uid:,
 * cgroup:) can satisfy, in config order, a cidr: one's prefix inline: a
 * connection's cross-check scans a few bytes per workload, not the whole
 * struct eg_wl_match (its text buffer) of every match.
 */
struct side {
	uint32_t		*idx;		/* into all[] */
	struct eg_cidr		*cidr;		/* valid where kind is cidr: */
	bool			*is_cidr;
	size_t			 n;
};

struct eg_wlpol {
	struct wlent		*wl;		/* [0] is [policy] */
	size_t			 n;
	struct eg_wl_match	*all;		/* every match, by workload */
	size_t			 nall;
	struct side		 bridge, local;
};

void
eg_wlpol_free(struct eg_wlpol *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->n; i++) {
		free(w->wl[i].name);
		eg_policy_free(w->wl[i].pol);
	}
	free(w->wl);
	free(w->all);
	free(w->bridge.idx);
	free(w->bridge.cidr);
	free(w->bridge.is_cidr);
	free(w->local.idx);
	free(w->local.cidr);
	free(w->local.is_cidr);
	free(w);
}

/* The side index of every match (after copy_matches). */
static bool
index_sides(struct eg_wlpol *w, char *err)
{
	struct side *sd[2] = { &w->bridge, &w->local };
	size_t i, k, n = w->nall ? w->nall : 1;

	for (k = 0; k < 2; k++)
		if ((sd[k]->idx = calloc(n, sizeof(*sd[k]->idx))) == NULL ||
		    (sd[k]->cidr = calloc(n, sizeof(*sd[k]->cidr))) == NULL ||
		    (sd[k]->is_cidr = calloc(n, sizeof(bool))) == NULL) {
			eg_seterr(err, "workloads: out of memory");
			return false;
		}
	for (i = 0; i < w->nall; i++) {
		const struct eg_wl_match *m = &w->all[i];
		struct side *s = m->kind == EG_WL_IFACE ||
		    m->kind == EG_WL_CIDR ? &w->bridge : &w->local;

		s->idx[s->n] = (uint32_t)i;
		if (m->kind == EG_WL_CIDR) {
			s->is_cidr[s->n] = true;
			s->cidr[s->n] = m->cidr;
		}
		s->n++;
	}
	return true;
}

/* Workload i >= 1's engine from its own section (see wlpolicy.h). */
static struct eg_policy *
build_one(const struct eg_config *cfg, const struct eg_workload *wl,
    const struct eg_cidr *extra, size_t nextra, char *err)
{
	enum eg_policy_mode mode = wl->mode_set ? wl->policy.mode :
	    cfg->policy.mode;
	struct eg_policy *p;
	char perr[EG_ERR_MAX];

	p = eg_policy_new_conf(&wl->policy, mode, cfg->jail.direct,
	    cfg->jail.ndirect, wl->direct, wl->ndirect, extra, nextra, perr);
	if (p == NULL)
		eg_seterr(err, "workload %s: %s", wl->name, perr);
	return p;
}

/* Copy the matches, pointing them at our own names (config-free). */
static bool
copy_matches(struct eg_wlpol *w, const struct eg_config *cfg, char *err)
{
	const struct eg_workload *wl;
	size_t i, j, n = 0;

	for (i = 0; i < cfg->nworkloads; i++) {
		if (cfg->workloads[i].nmatches > SIZE_MAX / 2 - n) {
			eg_seterr(err, "workloads: too many matches");
			return false;
		}
		n += cfg->workloads[i].nmatches;
	}
	if ((w->all = calloc(n ? n : 1, sizeof(*w->all))) == NULL) {
		eg_seterr(err, "workloads: out of memory for %zu matches", n);
		return false;
	}
	for (i = 0; i < cfg->nworkloads; i++) {
		wl = &cfg->workloads[i];
		if (wl->nmatches > 0 && wl->matches == NULL) {
			eg_seterr(err, "workload %s: %zu matches but no list",
			    wl->name, wl->nmatches);
			return false;
		}
		w->wl[i + 1].mfirst = w->nall;
		w->wl[i + 1].nmatch = wl->nmatches;
		for (j = 0; j < wl->nmatches; j++) {
			w->all[w->nall] = wl->matches[j];
			w->all[w->nall].wl = i + 1;
			w->all[w->nall].wl_name = w->wl[i + 1].name;
			/* origins point into the config: not kept */
			w->all[w->nall].at.file = NULL;
			w->nall++;
		}
	}
	return true;
}

struct eg_wlpol *
eg_wlpol_new(const struct eg_config *cfg, const struct eg_cidr *extra_deny,
    size_t nextra, char *err)
{
	struct eg_wlpol *w;
	size_t i;

	if (cfg == NULL) {
		eg_seterr(err, "workloads: no configuration");
		return NULL;
	}
	if (cfg->nworkloads > 0 && cfg->workloads == NULL) {
		eg_seterr(err, "workloads: %zu workloads but no list",
		    cfg->nworkloads);
		return NULL;
	}
	if (cfg->nworkloads >= SIZE_MAX / sizeof(struct wlent) - 1 ||
	    (w = calloc(1, sizeof(*w))) == NULL) {
		eg_seterr(err, "workloads: out of memory");
		return NULL;
	}
	if ((w->wl = calloc(cfg->nworkloads + 1, sizeof(*w->wl))) == NULL) {
		eg_seterr(err, "workloads: out of memory");
		goto fail;
	}
	w->n = cfg->nworkloads + 1;
	if ((w->wl[0].name = strdup(EG_WL_DEFAULT)) == NULL) {
		eg_seterr(err, "workloads: out of memory");
		goto fail;
	}
	for (i = 0; i < cfg->nworkloads; i++) {
		const char *nm = cfg->workloads[i].name;

		if (nm == NULL || !eg_wl_name_valid(nm, NULL) ||
		    (w->wl[i + 1].name = strdup(nm)) == NULL) {
			eg_seterr(err, "workload #%zu: bad name or out of "
			    "memory", i + 1);
			goto fail;
		}
	}
	if ((w->wl[0].pol = eg_policy_new(cfg, extra_deny, nextra,
	    err)) == NULL)
		goto fail;
	for (i = 0; i < cfg->nworkloads; i++)
		if ((w->wl[i + 1].pol = build_one(cfg, &cfg->workloads[i],
		    extra_deny, nextra, err)) == NULL)
			goto fail;
	if (!copy_matches(w, cfg, err) || !index_sides(w, err))
		goto fail;
	return w;
fail:
	eg_wlpol_free(w);
	return NULL;
}

size_t
eg_wlpol_count(const struct eg_wlpol *w)
{
	return w != NULL ? w->n : 0;
}

const char *
eg_wlpol_name(const struct eg_wlpol *w, size_t i)
{
	return w != NULL && i < w->n ? w->wl[i].name : NULL;
}

const struct eg_policy *
eg_wlpol_get(const struct eg_wlpol *w, size_t i)
{
	return w != NULL && i < w->n ? w->wl[i].pol : NULL;
}

/* Linear: at most 1025 names, and callers look up by listener, not name. */
long
eg_wlpol_find(const struct eg_wlpol *w, const char *name)
{
	size_t i;

	if (w == NULL || name == NULL)
		return -1;
	for (i = 0; i < w->n; i++)
		if (strcmp(w->wl[i].name, name) == 0)
			return (long)i;
	return -1;
}

bool
eg_wlpol_set_host_addrs(struct eg_wlpol *w, const struct eg_cidr *extra,
    size_t nextra, char *err)
{
	struct eg_cidr **v;
	size_t i;

	if (w == NULL) {
		eg_seterr(err, "workloads: none");
		return false;
	}
	/*
	 * All or none: every copy is made before any engine takes one, so
	 * engines never disagree about the host's own addresses (one left
	 * with the old list could let a workload reach a new host address).
	 */
	if ((v = calloc(w->n, sizeof(*v))) == NULL) {
		eg_seterr(err, "workloads: out of memory");
		return false;
	}
	for (i = 0; i < w->n; i++) {
		if (!eg_policy_host_addrs_copy(extra, nextra, &v[i], err)) {
			while (i > 0)
				free(v[--i]);
			free(v);
			return false;
		}
	}
	for (i = 0; i < w->n; i++)
		eg_policy_host_addrs_take(w->wl[i].pol, v[i], nextra);
	free(v);
	return true;
}

/*
 * eg_wl_lookup's answer (the first match that holds; a conflict when one
 * of another workload holds too) over the matches of the source's side
 * only: a bridge source never satisfies uid: or cgroup:, a local one
 * never iface: or cidr: (eg_wl_match_source).
 */
enum eg_wl_found
eg_wlpol_lookup(const struct eg_wlpol *w, const struct eg_wl_source *src,
    size_t *idx, size_t *other, const struct eg_wl_match **hit)
{
	const struct eg_wl_match *h = NULL, *m;
	const struct side *s;
	size_t i;
	bool holds;

	*idx = 0;
	if (other != NULL)
		*other = 0;
	if (hit != NULL)
		*hit = NULL;
	if (w == NULL || src == NULL || w->nall == 0)
		return EG_WL_NONE;
	s = src->bridge ? &w->bridge : &w->local;
	for (i = 0; i < s->n; i++) {
		if (s->is_cidr[i])
			holds = src->has_addr &&
			    eg_cidr_contains(&s->cidr[i], &src->addr);
		else
			holds = eg_wl_match_source(&w->all[s->idx[i]], src);
		if (!holds)
			continue;
		m = &w->all[s->idx[i]];
		if (h == NULL) {
			h = m;
			continue;
		}
		if (m->wl != h->wl) {
			*idx = h->wl;
			if (other != NULL)
				*other = m->wl;
			if (hit != NULL)
				*hit = h;
			return EG_WL_CONFLICT;
		}
	}
	if (h == NULL)
		return EG_WL_NONE;
	*idx = h->wl;
	if (hit != NULL)
		*hit = h;
	return EG_WL_FOUND;
}

const struct eg_wl_match *
eg_wlpol_matches(const struct eg_wlpol *w, size_t i, size_t *n)
{
	*n = 0;
	if (w == NULL || i == 0 || i >= w->n)
		return NULL;
	*n = w->wl[i].nmatch;
	return w->all + w->wl[i].mfirst;
}
