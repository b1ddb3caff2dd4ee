/*
 * test_landlock_dohd.c - eg_landlock_paths(EG_ROLE_DOHD): the list dohd
 * hands Landlock.  The checks are shared with connectd's test:
 * landlock_check.h.
 */
#include "sandbox.h"

#define LL_ROLE		EG_ROLE_DOHD
#define LL_EXTRA_CONF	"hosts_file = %s/hosts\n"

#include "landlock_check.h"
