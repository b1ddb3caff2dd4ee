/*
 * hostaddr.c - the host's own addresses, read from the kernel
 * (getifaddrs: one rtnetlink dump).  The policy engine never permits
 * them as a destination or as an answer (policy.h), whatever the
 * interface: a loopback alias, a Docker bridge's gateway, an uplink.
 */
#include <ifaddrs.h>
#include <string.h>

#include "hostaddr.h"

int
eg_host_addrs(struct eg_cidr *out, size_t max)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;
	uint16_t port;

	if (getifaddrs(&ifa) != 0)
		return -1;
	for (i = ifa; i != NULL && n < max; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (!eg_ip_from_sockaddr(i->ifa_addr, &out[n].ip, &port))
			continue;
		out[n].plen = out[n].ip.family == AF_INET ? 32 : 128;
		out[n].ip.scope = 0;
		n++;
	}
	freeifaddrs(ifa);
	return (int)n;
}
