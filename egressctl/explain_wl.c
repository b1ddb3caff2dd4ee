/*
 * explain_wl.c - which workload `egressctl explain` decides for:
 * `--workload NAME` names it, `--from SOURCE` finds it the way the jail
 * does (eg_wlpol_lookup over every match), and with neither it is
 * [policy], the workload "default".
 *
 * A SOURCE is one of
 *   ADDRESS        a container's address on a jailed bridge; the bridge is
 *                  the host interface whose prefix holds it, when there is
 *                  one, so iface: matches count too
 *   iface:IFNAME   the bridge it enters by (with an ADDRESS: both)
 *   uid:USER       a jailed local user, by name or number
 *   cgroup:PATH    a local process's cgroup v2 path
 * A source two workloads match is a conflict: the jail refuses it, and
 * explain says so with both matches.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <ifaddrs.h>
#include <net/if.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "egressctl.h"
#include "errfmt.h"
#include "explain_wl.h"

/* The match's origin in the config, "file:line". */
static void
match_at(const struct eg_config *cfg, const struct eg_wlpol *w, size_t idx,
    const struct eg_wl_match *hit, char *buf, size_t len)
{
	const struct eg_workload *wl;
	const struct eg_wl_match *m;
	size_t n, j;

	buf[0] = '\0';
	if (idx == 0 || idx > cfg->nworkloads)
		return;
	wl = &cfg->workloads[idx - 1];
	m = eg_wlpol_matches(w, idx, &n);
	if (m == NULL || hit < m || hit >= m + n)
		return;
	j = (size_t)(hit - m);
	if (j < wl->nmatches && wl->matches[j].at.file != NULL)
		snprintf(buf, len, "%s:%d", wl->matches[j].at.file,
		    wl->matches[j].at.line);
}

/* The prefix length of a netmask (its bits set). */
static uint8_t
mask_len(const struct eg_ip *mask)
{
	size_t k, n = mask->family == AF_INET ? 4 : 16;
	uint8_t plen = 0;

	for (k = 0; k < n; k++)
		plen += (uint8_t)__builtin_popcount(mask->addr[k]);
	return plen;
}

/* The host interface whose own prefix holds ip (a bridge's gateway). */
static bool
iface_of(const struct eg_ip *ip, char *name, size_t len)
{
	struct ifaddrs *ifa, *i;
	struct eg_ip mask;
	struct eg_cidr c;
	bool found = false;
	uint16_t port;

	if (getifaddrs(&ifa) != 0)
		return false;
	for (i = ifa; i != NULL && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_netmask == NULL ||
		    i->ifa_addr->sa_family != ip->family)
			continue;
		memset(&c, 0, sizeof(c));
		if (!eg_ip_from_sockaddr(i->ifa_addr, &c.ip, &port))
			continue;
		/* the kernel leaves the mask's family 0 at times */
		memset(&mask, 0, sizeof(mask));
		mask.family = ip->family;
		if (ip->family == AF_INET)
			memcpy(mask.addr, &((const struct sockaddr_in *)
			    (const void *)i->ifa_netmask)->sin_addr, 4);
		else
			memcpy(mask.addr, &((const struct sockaddr_in6 *)
			    (const void *)i->ifa_netmask)->sin6_addr, 16);
		c.plen = mask_len(&mask);
		/* a host route (/32, /128) says nothing about a bridge */
		if (c.plen == (ip->family == AF_INET ? 32 : 128) ||
		    !eg_cidr_contains(&c, ip))
			continue;
		snprintf(name, len, "%s", i->ifa_name);
		found = true;
	}
	freeifaddrs(ifa);
	return found;
}

/* One --from value into src; false with err set. */
static bool
from_one(const char *v, struct eg_wl_source *src, struct ctl_wl *out,
    bool *local, char *err)
{
	struct passwd *pw;
	char *end;
	unsigned long u;

	if (strncmp(v, "uid:", 4) == 0) {
		v += 4;
		if (*v == '\0' || strlen(v) > EG_WL_USER_MAX) {
			eg_seterr(err, "uid: wants a user name or number");
			return false;
		}
		*local = true;
		u = strtoul(v, &end, 10);
		if (*end == '\0' && end != v && u < (unsigned long)(uid_t)-1) {
			src->has_uid = true;
			src->uid = (uid_t)u;
			if ((pw = getpwuid(src->uid)) != NULL)
				snprintf(out->user, sizeof(out->user), "%s",
				    pw->pw_name);
		} else {
			snprintf(out->user, sizeof(out->user), "%s", v);
			if ((pw = getpwnam(v)) != NULL) {
				src->has_uid = true;
				src->uid = pw->pw_uid;
			}
		}
		if (out->user[0] != '\0')
			src->user = out->user;
		return true;
	}
	if (strncmp(v, "cgroup:", 7) == 0) {
		if (v[7] != '/' || strlen(v + 7) > EG_WL_CGROUP_MAX) {
			eg_seterr(err, "cgroup: wants a path from the cgroup "
			    "root, /...");
			return false;
		}
		*local = true;
		snprintf(out->cgroup, sizeof(out->cgroup), "%s", v + 7);
		src->cgroup = out->cgroup;
		return true;
	}
	if (strncmp(v, "iface:", 6) == 0) {
		if (v[6] == '\0' || strlen(v + 6) > EG_WL_IFNAME_MAX ||
		    strchr(v + 6, '*') != NULL) {
			eg_seterr(err, "iface: wants one interface name");
			return false;
		}
		src->bridge = true;
		snprintf(out->ifname, sizeof(out->ifname), "%s", v + 6);
		src->ifname = out->ifname;
		return true;
	}
	if (!eg_ip_parse(v, &src->addr, true)) {
		eg_seterr(err, "want ADDRESS, iface:IFNAME, uid:USER or "
		    "cgroup:PATH");
		return false;
	}
	src->bridge = src->has_addr = true;
	return true;
}

/* --from values (at most two: an iface: and an address) into src. */
static bool
from_source(const char *const *from, size_t nfrom, struct eg_wl_source *src,
    struct ctl_wl *out, char *err)
{
	bool local = false;
	size_t i;

	memset(src, 0, sizeof(*src));
	for (i = 0; i < nfrom; i++)
		if (!from_one(from[i], src, out, &local, err))
			return false;
	if (local && src->bridge) {
		eg_seterr(err, "a source is a local socket (uid:, cgroup:) or "
		    "a bridge's (ADDRESS, iface:), not both");
		return false;
	}
	if (nfrom == 2 && (local ? (src->user == NULL && !src->has_uid) ||
	    src->cgroup == NULL : !src->has_addr || src->ifname == NULL)) {
		eg_seterr(err, "two --from: an ADDRESS and its iface:, or a "
		    "uid: and a cgroup:");
		return false;
	}
	if (src->has_addr && src->ifname == NULL &&
	    iface_of(&src->addr, out->ifname, sizeof(out->ifname))) {
		src->ifname = out->ifname;
		out->iface_guessed = true;
	}
	return true;
}

int
ctl_wl_select(const struct eg_config *cfg, const struct eg_wlpol *w,
    const char *workload, const char *const *from, size_t nfrom,
    struct ctl_wl *out, char *err)
{
	const struct eg_wl_match *hit = NULL;
	struct eg_wl_source src;
	char buf[EG_WL_MATCH_MAX + 8];
	long i;

	memset(out, 0, sizeof(*out));
	if (workload != NULL && nfrom > 0) {
		eg_seterr(err, "--workload or --from, not both");
		return -1;
	}
	if (nfrom > 2) {
		eg_seterr(err, "--from at most twice");
		return -1;
	}
	if (workload != NULL) {
		if ((i = eg_wlpol_find(w, workload)) < 0) {
			eg_seterrq(err, workload, "--workload: the config has "
			    "no such workload");
			return -1;
		}
		out->idx = (size_t)i;
		out->how = "named";
		return 0;
	}
	if (nfrom == 0) {
		out->how = "default";
		return 0;
	}
	if (!from_source(from, nfrom, &src, out, err))
		return -1;
	out->found = eg_wlpol_lookup(w, &src, &out->idx, &out->other, &hit);
	out->how = "from";
	if (out->found == EG_WL_NONE)
		return 0;
	snprintf(out->match, sizeof(out->match), "%s",
	    eg_wl_match_str(hit, buf, sizeof(buf)));
	match_at(cfg, w, out->idx, hit, out->at, sizeof(out->at));
	if (out->found == EG_WL_CONFLICT) {
		const struct eg_wl_match *m;
		size_t n, k;

		/* the other workload's match that holds, for the message */
		m = eg_wlpol_matches(w, out->other, &n);
		for (k = 0; k < n; k++) {
			if (!eg_wl_match_source(&m[k], &src))
				continue;
			snprintf(out->omatch, sizeof(out->omatch), "%s",
			    eg_wl_match_str(&m[k], buf, sizeof(buf)));
			match_at(cfg, w, out->other, &m[k], out->oat,
			    sizeof(out->oat));
			break;
		}
	}
	return 0;
}

void
ctl_wl_report(const struct ctl_wl *s, const struct eg_wlpol *w,
    const struct ctl_opts *o, struct json *j)
{
	const char *name = eg_wlpol_name(w, s->idx);

	if (o->json) {
		if (s->found == EG_WL_CONFLICT) {
			json_null(j, "workload");
			json_arr_begin(j, "conflict");
			json_str(j, NULL, name);
			json_str(j, NULL, eg_wlpol_name(w, s->other));
			json_arr_end(j);
		} else {
			json_str(j, "workload", name);
		}
		json_str(j, "workload_by", s->how);
		json_str(j, "match", s->match[0] ? s->match : NULL);
		json_str(j, "match_at", s->at[0] ? s->at : NULL);
		json_str(j, "bridge", s->iface_guessed ? s->ifname : NULL);
		return;
	}
	if (s->iface_guessed)
		printf("source    on bridge %s (the host's prefix holds it)\n",
		    s->ifname);
	if (s->found == EG_WL_CONFLICT) {
		printf("workload  conflict: [workload %s] match \"%s\" at %s "
		    "and [workload %s] match \"%s\" at %s both hold: the jail "
		    "refuses this source\n", name, s->match, s->at,
		    eg_wlpol_name(w, s->other), s->omatch, s->oat);
		return;
	}
	if (s->found == EG_WL_FOUND)
		printf("workload  %s (match \"%s\" at %s)\n", name, s->match,
		    s->at);
	else if (s->idx == 0)
		printf("workload  default ([policy]%s)\n",
		    strcmp(s->how, "from") == 0 ? ": no workload matches this "
		    "source" : "");
	else
		printf("workload  %s\n", name);
}
