/* cfgs.h - hand-built configurations for the netjaild tests. */
#ifndef NJ_TEST_CFGS_H
#define NJ_TEST_CFGS_H

#include "config.h"

extern const char *const nj_test_config_names[];
/* NULL for an unknown name; free with nj_test_config_free. */
struct eg_config *nj_test_config(const char *name);
void nj_test_config_free(struct eg_config *cfg);
/* The workload listeners registered for a test config; NULL: none. */
struct nj_wlregs;
const struct nj_wlregs *nj_test_wlregs(const char *name);

#endif
