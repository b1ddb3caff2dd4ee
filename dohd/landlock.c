/*
 * landlock.c - the paths dohd may still read once it runs:
 * dohd_landlock_paths() builds the list eg_sandbox_landlock_ro() gets
 * after the privilege drop; a unit test builds the same list.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "landlock.h"
#include "priv.h"

void
dohd_landlock_paths_free(char **out)
{
	eg_landlock_paths_free(out);
}

int
dohd_landlock_paths(const struct eg_config *cfg, const char *config_path,
    char **out, size_t n)
{
	size_t k = 0;

	if (n == 0)
		return -1;
	out[0] = NULL;
	/* The CA file is read before the sandbox (upstreams change on
	 * restart only) but OpenSSL may look again; hosts and zone files
	 * are read again on every reload. */
	if (eg_landlock_add_common(out, n, &k, cfg, config_path) < 0 ||
	    eg_landlock_add_dir_of(out, n, &k, cfg->dohd.ca_file != NULL ?
	    cfg->dohd.ca_file : EG_DEFAULT_CA_FILE) < 0 ||
	    eg_landlock_add_dir_of(out, n, &k, cfg->dohd.hosts_file) < 0 ||
	    eg_landlock_add_dir_of(out, n, &k, cfg->dohd.zone_file) < 0) {
		dohd_landlock_paths_free(out);
		return -1;
	}
	return (int)k;
}
