/*
 * wlstatus.c - the workloads in `egressctl status` and `doctor`, from what
 * netjaild reports: one line per configured workload in its STATUS text,
 *
 *   workload=NAME match=KIND:VALUE... reg=KIND/ipvN/PORT,...|none
 *     drop_unregistered_packets=N drop_conflict_packets=N
 *
 * (one line).  reg= is what steering uses: a kind without a registration
 * has its traffic dropped by netjaild, never served by [policy].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "egressctl.h"
#include "wlstatus.h"
#include "workload.h"

/* The line "workload=NAME ..." of text, as a pointer and length. */
static const char *
wl_line(const char *text, const char *name, size_t *lenp)
{
	const char *p = text, *nl;
	size_t n, nl_len = strlen(name);

	if (text == NULL)
		return NULL;
	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (n > 9 + nl_len && strncmp(p, "workload=", 9) == 0 &&
		    strncmp(p + 9, name, nl_len) == 0 &&
		    (p[9 + nl_len] == ' ' || 9 + nl_len == n)) {
			*lenp = n;
			return p;
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	return NULL;
}

bool
ctl_wl_field(const char *text, const char *name, const char *key, char *buf,
    size_t len)
{
	const char *line, *p, *end, *sp;
	size_t n, klen = strlen(key);

	if (len == 0 || (line = wl_line(text, name, &n)) == NULL)
		return false;
	end = line + n;
	for (p = line; p < end; p = sp + 1) {
		if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL)
			sp = end;
		if ((size_t)(sp - p) > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == '=') {
			n = (size_t)(sp - p) - klen - 1;
			if (n >= len)
				n = len - 1;
			memcpy(buf, p + klen + 1, n);
			buf[n] = '\0';
			return true;
		}
		if (sp == end)
			break;
	}
	return false;
}

bool
ctl_wl_listed(const char *text, const char *name)
{
	size_t n;

	return wl_line(text, name, &n) != NULL;
}

/* Does reg ("kind/ipvN/PORT,..." or "none") register kind in any family? */
static bool
reg_has(const char *reg, const char *kind)
{
	const char *p = reg;
	size_t k = strlen(kind);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, kind, k) == 0 && p[k] == '/')
			return true;
		if ((p = strchr(p, ',')) != NULL)
			p++;
	}
	return false;
}

const char *
ctl_wl_missing(const char *reg, bool dns, char *buf, size_t len)
{
	static const char *const kinds[] = { "transparent", "proxy",
	    "dns_udp", "dns_tcp" };
	size_t i, off = 0;
	int n;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (i >= 2 && !dns)
			break;
		if (reg_has(reg, kinds[i]))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "," : "",
		    kinds[i]);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	return buf;
}

/* One workload's summary; nj is netjaild's text (NULL: no answer). */
static void
wl_one(const struct eg_config *cfg, const struct eg_workload *w,
    const char *nj, const struct ctl_opts *o, struct json *j)
{
	char reg[1024], miss[64], du[32], dc[32], m[EG_WL_MATCH_MAX + 8];
	bool listed = nj != NULL && ctl_wl_listed(nj, w->name);
	size_t i;

	if (!listed || !ctl_wl_field(nj, w->name, "reg", reg, sizeof(reg)))
		snprintf(reg, sizeof(reg), "none");
	ctl_wl_missing(reg, cfg->has_dohd, miss, sizeof(miss));
	if (!listed || !ctl_wl_field(nj, w->name,
	    "drop_unregistered_packets", du, sizeof(du)))
		snprintf(du, sizeof(du), "?");
	if (!listed || !ctl_wl_field(nj, w->name, "drop_conflict_packets", dc,
	    sizeof(dc)))
		snprintf(dc, sizeof(dc), "?");
	if (o->json) {
		json_obj_begin(j, NULL);
		json_str(j, "name", w->name);
		json_str(j, "mode", eg_mode_str(w->policy.mode));
		json_arr_begin(j, "matches");
		for (i = 0; i < w->nmatches; i++)
			json_str(j, NULL, eg_wl_match_str(&w->matches[i], m,
			    sizeof(m)));
		json_arr_end(j);
		if (listed)
			json_str(j, "registered", reg);
		else
			json_null(j, "registered");
		json_str(j, "missing", miss[0] ? miss : NULL);
		json_str(j, "drop_unregistered_packets", du);
		json_str(j, "drop_conflict_packets", dc);
		json_obj_end(j);
		return;
	}
	printf("    %s (%s): ", w->name, eg_mode_str(w->policy.mode));
	if (nj == NULL)
		printf("netjaild did not answer\n");
	else if (!listed && ctl_text_get(nj, "workloads_truncated", du,
	    sizeof(du)) != NULL)
		printf("not in netjaild's reply (too many workloads for one "
		    "message)\n");
	else if (!listed)
		printf("netjaild does not report it (an older config?)\n");
	else if (strcmp(reg, "none") == 0)
		printf("no listener registered: its traffic is dropped "
		    "(%s packets so far)\n", du);
	else if (miss[0] != '\0')
		printf("%s; not registered: %s (dropped, %s packets so far)\n",
		    reg, miss, du);
	else
		printf("%s\n", reg);
}

void
ctl_wl_status(const struct eg_config *cfg, const char *nj,
    const struct ctl_opts *o, struct json *j)
{
	size_t i;

	if (o->json) {
		json_arr_begin(j, "workloads");
		for (i = 0; i < cfg->nworkloads; i++)
			wl_one(cfg, &cfg->workloads[i], nj, o, j);
		json_arr_end(j);
		return;
	}
	printf("workloads: default ([policy])%s\n", cfg->nworkloads ? "," :
	    "");
	for (i = 0; i < cfg->nworkloads; i++)
		wl_one(cfg, &cfg->workloads[i], nj, o, j);
}
