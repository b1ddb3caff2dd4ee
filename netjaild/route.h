/*
 * route.h - policy routing for local users' marked TCP, both families:
 *   ip rule add fwmark MARK lookup TABLE
 *   ip route add local default dev lo table TABLE
 */
#ifndef NJ_ROUTE_H
#define NJ_ROUTE_H

#include <stddef.h>
#include <stdint.h>

int route_install(uint32_t mark, uint32_t table, char *err, size_t errlen);
int route_remove(uint32_t mark, uint32_t table, char *err, size_t errlen);
/* 1 when the rule and the route of both families are there, 0 if not. */
int route_verify(uint32_t mark, uint32_t table, char *err, size_t errlen);

#endif
