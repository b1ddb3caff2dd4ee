/*
 * lmark.c - the listener mark (see lmark.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lmark.h"

bool
eg_lmark_required(const struct eg_config *cfg)
{
	return cfg->jail.ninterfaces > 0 || cfg->jail.nusers > 0;
}

int64_t
eg_lmark_get(int fd)
{
	uint32_t m = 0;
	socklen_t l = sizeof(m);

	if (getsockopt(fd, SOL_SOCKET, SO_MARK, &m, &l) != 0 ||
	    l != sizeof(m))
		return -1;
	return m;
}

int
eg_lmark_apply(int fd, uint32_t mark, const char *what, char *err,
    size_t errlen)
{
	int64_t have = eg_lmark_get(fd);

	if (have == (int64_t)mark)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == 0)
		return 0;
	snprintf(err, errlen, "%s: SO_MARK 0x%x: %s: the jail refuses "
	    "jailed traffic to an unmarked listener; start as root or use "
	    "a .socket unit with Mark=%u", what, mark, strerror(errno),
	    mark);
	return -1;
}
