/*
 * hostaddr.c - the host's own addresses, read from the kernel
 * (getifaddrs: one rtnetlink dump).  The policy engine never permits
 * them as a destination or as an answer (policy.h), whatever the
 * interface: a loopback alias, a Docker bridge's gateway, an uplink.
 * All of them, however many: a list cut short would let the rest through.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>

#include "hostaddr.h"

int
eg_host_addrs(struct eg_cidr **out, size_t *nout)
{
	struct ifaddrs *ifa, *i;
	struct eg_cidr *v;
	size_t n = 0, cap = 0;
	uint16_t port;

	if (getifaddrs(&ifa) != 0)
		return -1;
	for (i = ifa; i != NULL; i = i->ifa_next)
		cap++;
	if ((v = calloc(cap ? cap : 1, sizeof(*v))) == NULL) {
		freeifaddrs(ifa);
		errno = ENOMEM;
		return -1;
	}
	for (i = ifa; i != NULL && n < cap; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (!eg_ip_from_sockaddr(i->ifa_addr, &v[n].ip, &port))
			continue;
		v[n].plen = v[n].ip.family == AF_INET ? 32 : 128;
		v[n].ip.scope = 0;
		n++;
	}
	freeifaddrs(ifa);
	*out = v;
	*nout = n;
	return 0;
}
