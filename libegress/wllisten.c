/*
 * wllisten.c - workload listener sockets and the pool of marked sockets
 * (see wllisten.h).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmark.h"
#include "wllisten.h"

#define WLL_POOL_MAX	4096	/* workloads: far above any config */

struct eg_wll_pool {
	uint32_t mark;
	size_t cap;			/* sockets per slot */
	size_t left[EG_WLL__SLOTS];
	int *fds[EG_WLL__SLOTS];	/* the first left[s] are unused */
	char why[160];			/* why it is empty, "" */
};

int
eg_wll_family(enum eg_wll_slot s)
{
	return s == EG_WLL_UDP4 || s == EG_WLL_TCP4 ? AF_INET : AF_INET6;
}

bool
eg_wll_tcp(enum eg_wll_slot s)
{
	return s == EG_WLL_TCP4 || s == EG_WLL_TCP6;
}

static int
wll_socket(enum eg_wll_slot s)
{
	return socket(eg_wll_family(s), (eg_wll_tcp(s) ? SOCK_STREAM :
	    SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

void
eg_wll_pool_free(struct eg_wll_pool *p)
{
	if (p == NULL)
		return;
	for (int s = 0; s < EG_WLL__SLOTS; s++) {
		for (size_t i = 0; i < p->left[s]; i++)
			close(p->fds[s][i]);
		free(p->fds[s]);
	}
	free(p);
}

/* Close what was made: an empty pool that says why. */
static void
pool_empty(struct eg_wll_pool *p, const char *why)
{
	for (int s = 0; s < EG_WLL__SLOTS; s++) {
		for (size_t i = 0; i < p->left[s]; i++)
			close(p->fds[s][i]);
		p->left[s] = 0;
	}
	snprintf(p->why, sizeof(p->why), "%s", why);
}

struct eg_wll_pool *
eg_wll_pool_new(uint32_t mark, size_t n, char *err, size_t errlen)
{
	struct eg_wll_pool *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto oom;
	p->mark = mark;
	if (mark == 0)
		return p;
	if (n > WLL_POOL_MAX)
		n = WLL_POOL_MAX;
	p->cap = n;
	for (int s = 0; s < EG_WLL__SLOTS; s++) {
		if ((p->fds[s] = calloc(n ? n : 1, sizeof(int))) == NULL)
			goto oom;
		for (size_t i = 0; i < n; i++) {
			char what[48];
			int fd;

			if ((fd = wll_socket(s)) < 0) {
				snprintf(err, errlen, "workload listeners: "
				    "socket: %s", strerror(errno));
				pool_empty(p, err);
				return p;
			}
			p->fds[s][p->left[s]++] = fd;
			snprintf(what, sizeof(what), "workload listener %s%d",
			    eg_wll_tcp(s) ? "tcp" : "udp",
			    eg_wll_family(s) == AF_INET ? 4 : 6);
			if (eg_lmark_apply(fd, mark, what, err, errlen) < 0) {
				pool_empty(p, err);
				return p;
			}
		}
	}
	return p;
 oom:
	snprintf(err, errlen, "workload listeners: out of memory");
	eg_wll_pool_free(p);
	return NULL;
}

size_t
eg_wll_pool_left(const struct eg_wll_pool *p, enum eg_wll_slot s)
{
	if (p == NULL)
		return 0;
	if (p->mark == 0)
		return SIZE_MAX;
	return p->left[s];
}

int
eg_wll_open(struct eg_wll_pool *p, enum eg_wll_slot s, bool any6,
    uint16_t *port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&ss;
	socklen_t sl;
	int fd, one = 1, zero = 0, e;

	if (p == NULL || s < 0 || s >= EG_WLL__SLOTS) {
		snprintf(err, errlen, "workload listener: no pool");
		errno = EINVAL;
		return -1;
	}
	if (p->mark != 0) {
		if (p->left[s] == 0 && p->why[0] != '\0') {
			snprintf(err, errlen, "no marked socket: %s", p->why);
			errno = EPERM;
			return -1;
		}
		if (p->left[s] == 0) {
			snprintf(err, errlen, "no marked socket left (%zu "
			    "were marked at start; restart to mark more)",
			    p->cap);
			errno = ENOSPC;
			return -1;
		}
		fd = p->fds[s][--p->left[s]];
	} else if ((fd = wll_socket(s)) < 0) {
		e = errno;
		snprintf(err, errlen, "socket: %s", strerror(e));
		errno = e;
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	if (eg_wll_family(s) == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = any6 ? in6addr_any : in6addr_loopback;
		sl = sizeof(*sin6);
	}
	/* No SO_REUSEADDR (a socket from a pool never had it): another
	 * user cannot bind beside ours and take its datagrams. */
	if ((eg_wll_family(s) == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &zero, sizeof(zero)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		e = errno;
		snprintf(err, errlen, "bind %s: %s", eg_wll_family(s) ==
		    AF_INET ? "127.0.0.1" : any6 ? "[::]" : "[::1]",
		    strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	*port = ntohs(eg_wll_family(s) == AF_INET ? sin->sin_port :
	    sin6->sin6_port);
	return fd;
}
