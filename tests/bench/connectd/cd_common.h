/* cd_common.h - shared helpers of the connectd bench tools. */
#ifndef CD_BENCH_COMMON_H
#define CD_BENCH_COMMON_H

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "host:port" (numeric) -> connected socket, or -1. */
static int
dial(const char *hostport)
{
	char host[256], *colon;
	struct addrinfo hints, *ai, *a;
	int fd = -1;

	snprintf(host, sizeof(host), "%s", hostport);
	if ((colon = strrchr(host, ':')) == NULL)
		return -1;
	*colon = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host[0] == '[' ? host + 1 : host, colon + 1, &hints,
	    &ai) != 0)
		return -1;
	for (a = ai; a != NULL; a = a->ai_next) {
		if ((fd = socket(a->ai_family, a->ai_socktype, 0)) < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* Send CONNECT target and read the answer head; 0 on a 2xx. */
static int
proxy_connect(int fd, const char *target)
{
	char buf[4096];
	size_t n = 0;
	ssize_t k;
	int len;

	len = snprintf(buf, sizeof(buf), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n"
	    "\r\n", target, target);
	if (write(fd, buf, (size_t)len) != len)
		return -1;
	/* Byte at a time: the head must not eat tunnel bytes. */
	while (n < sizeof(buf) - 1) {
		if ((k = read(fd, buf + n, 1)) <= 0)
			return -1;
		n++;
		buf[n] = '\0';
		if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	if (n < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[9] != '2')
		return -1;
	return 0;
}

#endif
