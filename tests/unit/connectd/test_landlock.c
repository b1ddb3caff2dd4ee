/*
 * test_landlock.c - connectd_landlock_paths(): the list connectd hands
 * Landlock.  The checks are shared with dohd's test: ../landlock_check.h.
 */
#include "cd_landlock.h"

#define LL_PATHS	connectd_landlock_paths
#define LL_FREE		connectd_landlock_paths_free
#define LL_MAX		CD_LANDLOCK_MAX
/* connectd reads no hosts file; the format still takes the directory */
#define LL_EXTRA_CONF	"; %s/hosts is connectd's CA file only\n"

#include "../landlock_check.h"
