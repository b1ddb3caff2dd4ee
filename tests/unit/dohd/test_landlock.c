/*
 * test_landlock.c - dohd_landlock_paths(): the list dohd hands Landlock.
 * The checks are shared with connectd's test: ../landlock_check.h.
 */
#include "landlock.h"

#define LL_PATHS	dohd_landlock_paths
#define LL_FREE		dohd_landlock_paths_free
#define LL_MAX		DOHD_LANDLOCK_MAX
#define LL_EXTRA_CONF	"hosts_file = %s/hosts\n"

#include "../landlock_check.h"
