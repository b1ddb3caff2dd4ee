/*
 * cd_landlock.c - the paths connectd may still read once it runs:
 * connectd_landlock_paths() builds the list eg_sandbox_landlock_ro() gets
 * after the privilege drop; a unit test builds the same list.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cd_landlock.h"
#include "priv.h"

void
connectd_landlock_paths_free(char **out)
{
	eg_landlock_paths_free(out);
}

int
connectd_landlock_paths(const struct eg_config *cfg, const char *config_path,
    char **out, size_t n)
{
	size_t k = 0;

	if (n == 0)
		return -1;
	out[0] = NULL;
	/* The trust for https:// hops, loaded again by each generation. */
	if (eg_landlock_add_common(out, n, &k, cfg, config_path) < 0 ||
	    eg_landlock_add_dir_of(out, n, &k, cfg->chain.ca_file != NULL ?
	    cfg->chain.ca_file : EG_DEFAULT_CA_FILE) < 0) {
		connectd_landlock_paths_free(out);
		return -1;
	}
	return (int)k;
}
