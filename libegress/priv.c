/*
 * priv.c - dropping to the daemon's user, keeping named capabilities.
 *
 * The order matters and is the usual one: supplementary groups and gid
 * while still root, then uid with keep-caps so the named capabilities
 * survive, then trim every set to exactly the list, then no_new_privs.
 * Nothing is trusted to have worked: the result is read back from the
 * kernel and compared, and uid 0 must not be reachable any more.
 *
 * Already the target user (systemd User= with AmbientCapabilities=): no
 * identity change is possible or needed; the sets are trimmed to the list.
 * The bounding set can only be trimmed with CAP_SETPCAP, which such a
 * process does not hold; no_new_privs then stops any execve from gaining
 * what the bounding set would still allow, so that is not an error.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "eg_build.h"
#include "priv.h"

#if HAVE_LIBCAPNG
#include <cap-ng.h>
#endif

#define MAX_GROUPS	256
/* Highest capability number we look at; unknown ones read as absent. */
#define CAP_SCAN_MAX	63

int
eg_priv_no_new_privs(char *err, size_t errlen)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The user's groups from the group database, plus extra_gid. */
static int
set_groups(uid_t uid, gid_t gid, gid_t extra_gid, char *err, size_t errlen)
{
	gid_t groups[MAX_GROUPS];
	struct passwd *pw;
	int n = MAX_GROUPS - 1, i;
	bool have_extra = false;

	errno = 0;
	pw = getpwuid(uid);
	if (pw != NULL) {
		if (getgrouplist(pw->pw_name, gid, groups, &n) == -1) {
			snprintf(err, errlen, "user %s is in too many groups",
			    pw->pw_name);
			return -1;
		}
	} else {
		groups[0] = gid;
		n = 1;
	}
	for (i = 0; i < n; i++)
		if (groups[i] == extra_gid)
			have_extra = true;
	if (extra_gid != (gid_t)-1 && !have_extra)
		groups[n++] = extra_gid;
	if (setgroups((size_t)n, groups) == -1) {
		snprintf(err, errlen, "setgroups: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static bool
cap_listed(int cap, const int *caps, size_t ncaps)
{
	size_t i;

	for (i = 0; i < ncaps; i++)
		if (caps[i] == cap)
			return true;
	return false;
}

static int
verify_ids(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1) {
		snprintf(err, errlen, "getresuid: %s", strerror(errno));
		return -1;
	}
	if (ru != uid || eu != uid || su != uid) {
		snprintf(err, errlen, "uids are %u/%u/%u, want %u",
		    (unsigned)ru, (unsigned)eu, (unsigned)su, (unsigned)uid);
		return -1;
	}
	if (rg != gid || eg != gid || sg != gid) {
		snprintf(err, errlen, "gids are %u/%u/%u, want %u",
		    (unsigned)rg, (unsigned)eg, (unsigned)sg, (unsigned)gid);
		return -1;
	}
	/* The real test: can we get root back? */
	if (setuid(0) == 0 || seteuid(0) == 0) {
		snprintf(err, errlen, "uid 0 can be regained");
		return -1;
	}
	return 0;
}

#if HAVE_LIBCAPNG

static int
capng_want(const int *caps, size_t ncaps, bool bounds, char *err,
    size_t errlen)
{
	capng_type_t sets = CAPNG_EFFECTIVE | CAPNG_PERMITTED |
	    CAPNG_INHERITABLE | CAPNG_AMBIENT;
	size_t i;

	capng_clear(bounds ? CAPNG_SELECT_ALL :
	    CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT);
	for (i = 0; i < ncaps; i++) {
		if (caps[i] < 0 || caps[i] > CAP_SCAN_MAX ||
		    capng_update(CAPNG_ADD, sets, (unsigned)caps[i]) != 0 ||
		    (bounds && capng_update(CAPNG_ADD, CAPNG_BOUNDING_SET,
		    (unsigned)caps[i]) != 0)) {
			snprintf(err, errlen, "capability %d: not known",
			    caps[i]);
			return -1;
		}
	}
	return 0;
}

/* Every set read back from the kernel holds exactly what was asked. */
static int
verify_caps(const int *caps, size_t ncaps, bool bounds, char *err,
    size_t errlen)
{
	int c;
	bool want;

	if (capng_get_caps_process() != 0) {
		snprintf(err, errlen, "cannot read capabilities back");
		return -1;
	}
	for (c = 0; c <= CAP_SCAN_MAX; c++) {
		want = cap_listed(c, caps, ncaps);
		if (want != (capng_have_capability(CAPNG_EFFECTIVE, c) != 0) ||
		    want != (capng_have_capability(CAPNG_PERMITTED, c) != 0) ||
		    want != (capng_have_capability(CAPNG_AMBIENT, c) != 0) ||
		    (!want && capng_have_capability(CAPNG_INHERITABLE, c)) ||
		    (bounds && !want &&
		    capng_have_capability(CAPNG_BOUNDING_SET, c))) {
			snprintf(err, errlen, "capability %s (%d) is %s",
			    capng_capability_to_name((unsigned)c) ?
			    capng_capability_to_name((unsigned)c) : "?", c,
			    want ? "missing" : "still held");
			return -1;
		}
	}
	return 0;
}

static int
change_id(uid_t uid, gid_t gid, const int *caps, size_t ncaps, char *err,
    size_t errlen)
{
	int r;

	if (capng_want(caps, ncaps, true, err, errlen) == -1)
		return -1;
	/* Groups ourselves: capng only knows "none" or "initgroups". */
	r = capng_change_id((int)uid, (int)gid, CAPNG_CLEAR_BOUNDING);
	if (r != 0) {
		snprintf(err, errlen, "capng_change_id to %u:%u failed (%d)",
		    (unsigned)uid, (unsigned)gid, r);
		return -1;
	}
	return 0;
}

static int
apply_sets(const int *caps, size_t ncaps, char *err, size_t errlen)
{
	if (capng_want(caps, ncaps, false, err, errlen) == -1)
		return -1;
	/* Ambient last: it needs the cap already permitted+inheritable. */
	if (capng_apply(CAPNG_SELECT_CAPS) != 0 ||
	    capng_apply(CAPNG_SELECT_AMBIENT) != 0) {
		snprintf(err, errlen, "cannot set capabilities: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

#else	/* !HAVE_LIBCAPNG */

static int
change_id(uid_t uid, gid_t gid, const int *caps, size_t ncaps, char *err,
    size_t errlen)
{
	(void)caps;
	if (ncaps > 0) {
		snprintf(err, errlen, "built without libcap-ng: cannot keep "
		    "capabilities");
		return -1;
	}
	if (setresgid(gid, gid, gid) == -1 || setresuid(uid, uid, uid) == -1) {
		snprintf(err, errlen, "cannot become %u:%u: %s", (unsigned)uid,
		    (unsigned)gid, strerror(errno));
		return -1;
	}
	return 0;
}

static int
apply_sets(const int *caps, size_t ncaps, char *err, size_t errlen)
{
	(void)caps;
	if (ncaps > 0) {
		snprintf(err, errlen, "built without libcap-ng: cannot keep "
		    "capabilities");
		return -1;
	}
	return 0;
}

static int
verify_caps(const int *caps, size_t ncaps, bool bounds, char *err,
    size_t errlen)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	(void)caps;
	(void)ncaps;
	(void)bounds;
	if (syscall(SYS_capget, &h, d) == -1 || d[0].effective != 0 ||
	    d[1].effective != 0 || d[0].permitted != 0 || d[1].permitted != 0) {
		snprintf(err, errlen, "capabilities survived the drop");
		return -1;
	}
	return 0;
}

#endif

int
eg_priv_drop(uid_t uid, gid_t gid, gid_t extra_gid, const int *caps,
    size_t ncaps, char *err, size_t errlen)
{
	bool change = getuid() != uid || geteuid() != uid;

	if (uid == 0 || gid == 0) {
		snprintf(err, errlen, "refusing to run as root (%u:%u)",
		    (unsigned)uid, (unsigned)gid);
		return -1;
	}
	if (change) {
		if (geteuid() != 0) {
			snprintf(err, errlen, "running as uid %u, cannot "
			    "become %u", (unsigned)geteuid(), (unsigned)uid);
			return -1;
		}
		if (set_groups(uid, gid, extra_gid, err, errlen) == -1 ||
		    change_id(uid, gid, caps, ncaps, err, errlen) == -1)
			return -1;
	}
	if (apply_sets(caps, ncaps, err, errlen) == -1)
		return -1;
	if (eg_priv_no_new_privs(err, errlen) == -1)
		return -1;
	if (verify_ids(uid, gid, err, errlen) == -1)
		return -1;
	return verify_caps(caps, ncaps, change, err, errlen);
}
