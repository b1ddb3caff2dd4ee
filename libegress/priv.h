/*
 * priv.h - privilege drop (the sandbox that follows it: sandbox.h).  Every
 * failure is fatal to the caller: these functions return -1 with a reason
 * in err, and the daemons exit on it.
 */
#ifndef EG_PRIV_H
#define EG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Become uid/gid (with supplementary groups of that user, plus extra_gid
 * unless it is (gid_t)-1), keeping exactly the capabilities in caps
 * (CAP_* numbers; ncaps 0 = none) in the permitted, effective and ambient
 * sets, bounding set cleared of all others, no_new_privs set.  Works when
 * already running as the target user with the capabilities (systemd
 * AmbientCapabilities): then it only trims.  Verifies the result and fails
 * if any other capability survives or uid 0 can be regained.
 */
int eg_priv_drop(uid_t uid, gid_t gid, gid_t extra_gid, const int *caps,
    size_t ncaps, char *err, size_t errlen);

/* Set PR_SET_NO_NEW_PRIVS. */
int eg_priv_no_new_privs(char *err, size_t errlen);

#endif
