/*
 * dns_null.c - the fastest DNS "server" this machine can run: every UDP
 * query comes back as its own answer (QR and RA set, RCODE NXDOMAIN, no
 * records), read and written in batches of 64.  dnsperf against it shows
 * the ceiling of the client and the loopback path, so a resolver measured
 * near that figure is limited by dnsperf, not by itself.
 *
 * Usage: dns_null ADDR PORT    (runs until killed)
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH	64
#define MSGMAX	1500

int
main(int argc, char **argv)
{
	static uint8_t buf[BATCH][MSGMAX];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage peer[BATCH];
	struct sockaddr_in sin;
	int fd, one = 1;

	if (argc != 3)
		errx(2, "usage: dns_null ADDR PORT");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1)
		errx(2, "bad address %s", argv[1]);
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		err(1, "socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		err(1, "bind");
	for (;;) {
		int n, k = 0;

		memset(mm, 0, sizeof(mm));
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = MSGMAX;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &peer[i];
			mm[i].msg_hdr.msg_namelen = sizeof(peer[i]);
		}
		/* Block for the first datagram, take what else is queued. */
		if ((n = recvmmsg(fd, mm, BATCH, MSG_WAITFORONE, NULL)) <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			if (mm[i].msg_len < 12)
				continue;
			buf[i][2] |= 0x80;		/* QR */
			buf[i][3] = (uint8_t)((buf[i][3] & 0x70) | 0x80 | 3);
			iov[i].iov_len = mm[i].msg_len;
			if (i != k)
				mm[k] = mm[i];
			k++;
		}
		if (k > 0)
			(void)sendmmsg(fd, mm, (unsigned)k, 0);
	}
}
