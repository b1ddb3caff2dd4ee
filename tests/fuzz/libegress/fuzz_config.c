/*
 * fuzz_config.c - the config loader on arbitrary bytes.
 *
 * Every file of the loader is included, not only config.c: the library's
 * copies would otherwise be linked in beside these and clash.
 *
 * glob(3) is replaced so that an input naming a glob over the root cannot
 * send the fuzzer walking the file system; the line scanner, every key
 * parser and the cross-key checks still see the input.
 */
#include <glob.h>
#include <stddef.h>
#include <stdint.h>

static int fuzz_glob(const char *, int, int (*)(const char *, int),
    glob_t *);
#define glob(p, f, e, g) fuzz_glob(p, f, e, g)

#include "config.c"
#include "config_check.c"
#include "config_keys.c"
#include "config_url.c"
#include "config_workload.c"
#include "printconf.c"

static int
fuzz_glob(const char *pat, int flags, int (*errfn)(const char *, int),
    glob_t *g)
{
	(void)pat;
	(void)flags;
	(void)errfn;
	memset(g, 0, sizeof(*g));
	return GLOB_NOMATCH;
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eg_config_errors errs;
	struct eg_config *cfg;
	FILE *devnull;
	size_t i;

	/* [workload] sections taken, so their success path is reached */
	cfg = eg_config_load_buf("fuzz.conf", (const char *)data, size,
	    EG_CONFIG_NO_USERS | EG_CONFIG_WORKLOADS |
	    EG_CONFIG_CGROUP, &errs);
	/* exactly one of: a config, or at least one error */
	if ((cfg == NULL) == (errs.n == 0))
		abort();
	for (i = 0; i < errs.n; i++)
		if (strchr(errs.msgs[i], '\n') != NULL)
			abort();	/* a message is one line */
	if (cfg != NULL && (devnull = fopen("/dev/null", "w")) != NULL) {
		eg_config_summary(cfg, devnull);
		fclose(devnull);
	}
	eg_config_free(cfg);
	eg_config_errors_free(&errs);
	return 0;
}
