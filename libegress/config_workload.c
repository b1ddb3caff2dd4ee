/*
 * config_workload.c - [workload NAME] sections: the header, the match key,
 * and the checks across workloads once every line is read.  The policy
 * keys of a workload (allow, allow_file, permit_cidr, mode, direct) are
 * the [policy] and [jail] setters of config_keys.c, writing into the
 * section's struct eg_workload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

/* "[workload NAME]": starts a workload, or S_BAD when it cannot. */
void
cfg_workload_section(struct loader *ld, int line, const char *name)
{
	struct eg_config *c = ld->cfg;
	struct eg_workload *w;
	char err[EG_ERR_MAX], q[EG_QUOTE_BUF];
	size_t i;

	ld->sect = S_BAD;
	eg_err_quote(name, q, sizeof(q));
	if (!eg_wl_name_valid(name, err)) {
		cfg_errorf(ld, "%s:%d: \"[workload %s]\": %s", ld->file, line,
		    q, err);
		return;
	}
	for (i = 0; i < c->nworkloads; i++) {
		if (strcmp(c->workloads[i].name, name) == 0) {
			cfg_errorf(ld, "%s:%d: \"[workload %s]\": section "
			    "repeated (first at line %d)", ld->file, line, q,
			    c->workloads[i].at.line);
			return;
		}
	}
	if (c->nworkloads == MAX_WORKLOADS) {
		cfg_errorf(ld, "%s:%d: \"[workload %s]\": more than %d "
		    "workloads", ld->file, line, q, MAX_WORKLOADS);
		return;
	}
	if (!cfg_grow(ld, &c->workloads, c->nworkloads, sizeof(*w)))
		return;
	w = &c->workloads[c->nworkloads];
	memset(w, 0, sizeof(*w));
	if ((w->name = cfg_xstrdup(ld, name)) == NULL)
		return;
	w->at = (struct eg_origin){ ld->file, line };
	w->policy.mode = EG_MODE_ENFORCE;
	ld->wl = c->nworkloads++;
	snprintf(ld->wl_label, sizeof(ld->wl_label), "workload %s", name);
	/* each section takes its keys afresh: "mode" once per workload */
	for (i = 0; i < cfg_nkeys; i++) {
		if (cfg_keys[i].sect != S_WORKLOAD)
			continue;
		ld->key_line[i] = 0;
		ld->cap_hit[i + 1] = false;
	}
	ld->sect = S_WORKLOAD;
}

bool
cfg_add_match(struct loader *ld, const struct keydef *k, const char *v,
    struct eg_origin at, char *err)
{
	struct eg_workload *w = &ld->cfg->workloads[ld->wl];
	struct eg_wl_match m;
	char a[EG_WL_MATCH_MAX + 8], b[EG_WL_MATCH_MAX + 8];
	size_t i;
	gid_t gid;
	int r;

	(void)k;
	if (ld->nmatches >= MAX_MATCHES_ALL) {
		snprintf(err, EG_ERR_MAX, "more than %d match lines in all "
		    "workloads", MAX_MATCHES_ALL);
		return false;
	}
	if (!eg_wl_match_parse(v, &m, err))
		return false;
	eg_wl_match_str(&m, a, sizeof(a));
	for (i = 0; i < w->nmatches; i++) {
		if (strcmp(a, eg_wl_match_str(&w->matches[i], b,
		    sizeof(b))) == 0) {
			snprintf(err, EG_ERR_MAX, "listed twice (first at "
			    "line %d)", w->matches[i].at.line);
			return false;
		}
	}
	if (m.kind == EG_WL_UID && !(ld->flags & EG_CONFIG_NO_USERS)) {
		if ((r = cfg_lookup_user(m.text, &m.uid, &gid)) != 0) {
			cfg_lookup_reason(r, err, EG_ERR_MAX, "user");
			return false;
		}
		m.has_uid = true;
	}
	if (!cfg_grow(ld, &w->matches, w->nmatches, sizeof(m)))
		return false;
	m.wl = ld->wl;
	m.wl_name = w->name;
	m.at = at;
	w->matches[w->nmatches++] = m;
	ld->nmatches++;
	return true;
}

/* Does a [jail] interface entry take every link the match v names? */
static bool
iface_jailed(const struct eg_config *c, const char *v)
{
	size_t i;

	for (i = 0; i < c->jail.ninterfaces; i++) {
		const char *p = c->jail.interfaces[i];

		if (!eg_ifname_is_pattern(p)) {
			if (!eg_ifname_is_pattern(v) && strcmp(p, v) == 0)
				return true;
		} else if (strncmp(p, v, strlen(p) - 1) == 0)
			return true;	/* "br-*" takes "br-ci" and "br-c*" */
	}
	return false;
}

static bool
uid_jailed(const struct eg_config *c, const struct eg_wl_match *m)
{
	size_t i;

	for (i = 0; i < c->jail.nusers; i++) {
		const struct eg_user *u = &c->jail.users[i];

		if (strcmp(u->name, m->text) == 0 ||
		    (m->has_uid && u->uid == m->uid && u->uid != 0))
			return true;
	}
	return false;
}

/*
 * A match names traffic the jail must already take: a workload narrows
 * the policy of jailed traffic, it never jails anything by itself, so a
 * typo cannot leave a user unjailed while a section seems to hold it.
 */
static void
check_jailed(struct loader *ld, const struct eg_workload *w)
{
	const struct eg_config *c = ld->cfg;
	char label[EG_WL_NAME_MAX + 16], text[EG_WL_MATCH_MAX + 8];
	const char *why;
	size_t i;

	snprintf(label, sizeof(label), "workload %s", w->name);
	for (i = 0; i < w->nmatches; i++) {
		const struct eg_wl_match *m = &w->matches[i];

		why = NULL;
		if (m->kind == EG_WL_IFACE && !iface_jailed(c, m->text))
			why = "not a jailed interface: add it to [jail] "
			    "interface";
		else if (m->kind == EG_WL_CIDR && c->jail.ninterfaces == 0)
			why = "matches sources on jailed bridges, and [jail] "
			    "jails no interface";
		else if (m->kind == EG_WL_UID && !uid_jailed(c, m))
			why = "not a jailed user: add it to [jail] user";
		else if (m->kind == EG_WL_CGROUP &&
		    !(ld->flags & EG_CONFIG_CGROUP))
			why = "cgroup: matches are not enforced by this "
			    "version (iface:, cidr: and uid: are; "
			    "docs/WORKLOADS.md)";
		if (why != NULL)
			cfg_key_error(ld, m->at, label, "match",
			    eg_wl_match_str(m, text, sizeof(text)), why);
	}
}

static void
check_overlaps(struct loader *ld)
{
	const struct eg_config *c = ld->cfg;
	struct eg_wl_match *all;
	char label[EG_WL_NAME_MAX + 16], a[EG_WL_MATCH_MAX + 8];
	char b[EG_WL_MATCH_MAX + 8], why[EG_ERR_MAX];
	size_t n = 0, i, j;

	if (ld->nmatches < 2)
		return;
	if ((all = calloc(ld->nmatches, sizeof(*all))) == NULL) {
		ld->oom = true;
		return;
	}
	for (i = 0; i < c->nworkloads; i++)
		for (j = 0; j < c->workloads[i].nmatches && n < ld->nmatches;
		    j++)
			all[n++] = c->workloads[i].matches[j];
	i = j = 0;
	while (eg_wl_next_overlap(all, n, &i, &j)) {
		snprintf(label, sizeof(label), "workload %s", all[j].wl_name);
		snprintf(why, sizeof(why), "overlaps [workload %s] match "
		    "\"%s\" (%s:%d): a source belongs to one workload only",
		    all[i].wl_name, eg_wl_match_str(&all[i], b, sizeof(b)),
		    all[i].at.file, all[i].at.line);
		cfg_key_error(ld, all[j].at, label, "match",
		    eg_wl_match_str(&all[j], a, sizeof(a)), why);
	}
	free(all);
}

void
cfg_check_workloads(struct loader *ld)
{
	struct eg_config *c = ld->cfg;
	size_t i;

	if (c->nworkloads == 0)
		return;
	for (i = 0; i < c->nworkloads; i++) {
		struct eg_workload *w = &c->workloads[i];

		if (w->nmatches == 0)
			cfg_errorf(ld, "%s:%d: [workload %s]: no match line: "
			    "say which jailed traffic it is for", w->at.file,
			    w->at.line, w->name);
		if (!w->mode_set)
			w->policy.mode = c->policy.mode;
		check_jailed(ld, w);
	}
	check_overlaps(ld);
	if (!(ld->flags & EG_CONFIG_WORKLOADS))
		cfg_errorf(ld, "%s:%d: [workload %s]: per-workload policy is "
		    "not enforced by the daemons of this version; remove the "
		    "[workload] sections (docs/WORKLOADS.md)",
		    c->workloads[0].at.file, c->workloads[0].at.line,
		    c->workloads[0].name);
}

void
cfg_workloads_free(struct eg_config *c)
{
	size_t i;

	for (i = 0; i < c->nworkloads; i++) {
		free(c->workloads[i].name);
		free(c->workloads[i].matches);
		cfg_policy_conf_free(&c->workloads[i].policy);
		free(c->workloads[i].direct);
	}
	free(c->workloads);
}
