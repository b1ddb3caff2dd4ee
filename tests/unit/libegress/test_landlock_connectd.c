/*
 * test_landlock_connectd.c - eg_landlock_paths(EG_ROLE_CONNECTD): the list
 * connectd hands Landlock.  The checks are shared with dohd's test:
 * landlock_check.h.
 */
#include "sandbox.h"

#define LL_ROLE		EG_ROLE_CONNECTD
/* connectd reads no hosts file; the format still takes the directory */
#define LL_EXTRA_CONF	"; %s/hosts is connectd's CA file only\n"

#include "landlock_check.h"
