/*
 * wlstatus.h - workloads as netjaild reports them (egressctl status and
 * doctor).
 */
#ifndef EGRESSCTL_WLSTATUS_H
#define EGRESSCTL_WLSTATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "egressctl.h"

struct eg_config;

/* Is there a "workload=NAME ..." line in netjaild's text? */
bool ctl_wl_listed(const char *text, const char *name);
/* The value of KEY= in that line, copied into buf (cut to fit). */
bool ctl_wl_field(const char *text, const char *name, const char *key,
    char *buf, size_t len);
/*
 * The listener kinds reg (netjaild's reg= value) lacks, comma separated,
 * "" when none: transparent and proxy always, dns_udp and dns_tcp when
 * dns (dohd runs).
 */
const char *ctl_wl_missing(const char *reg, bool dns, char *buf, size_t len);
/*
 * The workloads block of `egressctl status`: text lines, or the
 * "workloads" array in JSON.  nj: netjaild's status text, NULL when it
 * did not answer.
 */
void ctl_wl_status(const struct eg_config *cfg, const char *nj,
    const struct ctl_opts *o, struct json *j);

#endif
