/*
 * sysres.h - the host's resolver for connectd on its own (no [dohd]).
 */
#ifndef CD_SYSRES_H
#define CD_SYSRES_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "addr.h"
#include "cd.h"

struct sysres;

/* The nameservers of resolv_conf (read now), or 127.0.0.1 when none. */
struct sysres *sysres_new(uv_loop_t *loop, const char *resolv_conf);
void sysres_free(struct sysres *sr);
size_t sysres_nameservers(const struct sysres *sr);

/* As cd_resolve(): A, then AAAA when there is no A; cb runs exactly once. */
void sysres_resolve(struct sysres *sr, const char *name, uint64_t timeout_ms,
    cd_resolve_cb cb, void *arg);

/*
 * The answer in buf to question (id, name with its trailing dot, qtype):
 * 0 with the answer section's addresses of that type in a[0..*n) and the
 * rcode, or -1 when buf is not such an answer.  Bounded; fuzzed.
 */
int sysres_parse(const uint8_t *buf, size_t len, uint16_t id,
    const char *name, uint16_t qtype, struct eg_ip *a, size_t max, size_t *n,
    int *rcode);

#endif
