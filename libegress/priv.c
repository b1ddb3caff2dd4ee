/*
 * priv.c - become the daemon's user with exactly the capabilities it names.
 *
 * The order matters: the bounding set is trimmed while we still hold
 * CAP_SETPCAP, groups are set while we still hold CAP_SETGID, and the ids
 * change with PR_SET_KEEPCAPS so the named capabilities survive the switch.
 * Afterwards everything is read back; a result that is not exactly what was
 * asked for is a failure, and the callers exit on it.
 */
#include "eg_build.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <linux/capability.h>

#if HAVE_LIBCAPNG
#include <cap-ng.h>
#endif

#include "priv.h"

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
eg_priv_no_new_privs(char *err, size_t errlen)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return fail(err, errlen, "PR_SET_NO_NEW_PRIVS: %s",
		    strerror(errno));
	return 0;
}

#if HAVE_LIBCAPNG
static bool
wanted(int cap, const int *caps, size_t ncaps)
{
	for (size_t i = 0; i < ncaps; i++)
		if (caps[i] == cap)
			return true;
	return false;
}

static int
last_cap(void)
{
	int c = CAP_LAST_CAP;

	/* a newer kernel may know more than our headers */
	while (prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0)
		c++;
	return c;
}

static int
set_groups(uid_t uid, gid_t gid, gid_t extra_gid, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	gid_t groups[64];
	int n = 64, i;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return fail(err, errlen, "uid %u has no passwd entry",
		    (unsigned)uid);
	if (getgrouplist(pw.pw_name, gid, groups, &n) == -1)
		return fail(err, errlen, "%s: too many groups", pw.pw_name);
	if (extra_gid != (gid_t)-1) {
		for (i = 0; i < n && groups[i] != extra_gid; i++)
			;
		if (i == n && n < 64)
			groups[n++] = extra_gid;
	}
	if (setgroups((size_t)n, groups) == -1)
		return fail(err, errlen, "setgroups: %s", strerror(errno));
	return 0;
}

static int
verify(uid_t uid, gid_t gid, const int *caps, size_t ncaps, int last,
    char *err, size_t errlen)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (getresuid(&r, &e, &s) == -1 || r != uid || e != uid || s != uid)
		return fail(err, errlen, "uid is not %u after the drop",
		    (unsigned)uid);
	if (getresgid(&rg, &eg, &sg) == -1 || rg != gid || eg != gid ||
	    sg != gid)
		return fail(err, errlen, "gid is not %u after the drop",
		    (unsigned)gid);
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		return fail(err, errlen, "uid 0 could be regained");
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_get_caps_process() != 0)
		return fail(err, errlen, "cannot read capabilities back");
	for (int c = 0; c <= last; c++) {
		bool want = wanted(c, caps, ncaps);
		int have_e = capng_have_capability(CAPNG_EFFECTIVE,
		    (unsigned)c);
		int have_p = capng_have_capability(CAPNG_PERMITTED,
		    (unsigned)c);

		if (want && (!have_e || !have_p))
			return fail(err, errlen, "capability %d was lost", c);
		if (!want && (have_e || have_p))
			return fail(err, errlen, "capability %d survived", c);
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return fail(err, errlen, "no_new_privs is not set");
	return 0;
}

int
eg_priv_drop(uid_t uid, gid_t gid, gid_t extra_gid, const int *caps,
    size_t ncaps, char *err, size_t errlen)
{
	int last = last_cap();
	bool already = getuid() == uid && geteuid() == uid;

	if (!already && geteuid() != 0)
		return fail(err, errlen, "running as uid %u, neither root nor "
		    "the target uid %u", (unsigned)geteuid(), (unsigned)uid);

	if (!already) {
		for (int c = 0; c <= last; c++) {
			if (wanted(c, caps, ncaps))
				continue;
			if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1 &&
			    errno != EINVAL)
				return fail(err, errlen, "PR_CAPBSET_DROP %d: %s",
				    c, strerror(errno));
		}
		if (set_groups(uid, gid, extra_gid, err, errlen) == -1)
			return -1;
		if (ncaps > 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
			return fail(err, errlen, "PR_SET_KEEPCAPS: %s",
			    strerror(errno));
		if (setresgid(gid, gid, gid) == -1)
			return fail(err, errlen, "setresgid %u: %s",
			    (unsigned)gid, strerror(errno));
		if (setresuid(uid, uid, uid) == -1)
			return fail(err, errlen, "setresuid %u: %s",
			    (unsigned)uid, strerror(errno));
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
			return fail(err, errlen, "PR_SET_KEEPCAPS off: %s",
			    strerror(errno));
	}

	capng_clear(CAPNG_SELECT_CAPS);
	for (size_t i = 0; i < ncaps; i++) {
		if (capng_update(CAPNG_ADD, (capng_type_t)(CAPNG_EFFECTIVE |
		    CAPNG_PERMITTED), (unsigned)caps[i]) != 0)
			return fail(err, errlen, "capability %d unknown",
			    caps[i]);
	}
	if (capng_apply(CAPNG_SELECT_CAPS) != 0)
		return fail(err, errlen, "cannot apply capabilities");
	/* nothing we exec (we exec nothing) may inherit a capability */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		return fail(err, errlen, "PR_CAP_AMBIENT_CLEAR_ALL: %s",
		    strerror(errno));
	if (eg_priv_no_new_privs(err, errlen) == -1)
		return -1;
	return verify(uid, already ? getgid() : gid, caps, ncaps, last, err,
	    errlen);
}
#else
int
eg_priv_drop(uid_t uid, gid_t gid, gid_t extra_gid, const int *caps,
    size_t ncaps, char *err, size_t errlen)
{
	(void)uid; (void)gid; (void)extra_gid; (void)caps; (void)ncaps;
	return fail(err, errlen, "built without libcap-ng: cannot drop "
	    "privileges safely");
}
#endif
