/* cd_common.h - shared helpers of the connectd bench tools. */
#ifndef CD_BENCH_COMMON_H
#define CD_BENCH_COMMON_H

#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A resolved address: resolved once, dialled many times. */
struct cd_addr {
	struct sockaddr_storage	ss;
	socklen_t		len;
};

static inline double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * "host:port" or "[v6]:port" -> the first address; numeric only unless
 * names is set (then through the system resolver, /etc/hosts first).
 */
static inline int
cd_resolve(const char *hostport, int names, struct cd_addr *out)
{
	char host[256], *colon, *h = host;
	struct addrinfo hints, *ai;

	snprintf(host, sizeof(host), "%s", hostport);
	if ((colon = strrchr(host, ':')) == NULL)
		return -1;
	*colon = '\0';
	if (host[0] == '[') {
		h = host + 1;
		if (colon > host && colon[-1] == ']')
			colon[-1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (names ? 0 : AI_NUMERICHOST);
	if (getaddrinfo(h, colon + 1, &hints, &ai) != 0)
		return -1;
	memcpy(&out->ss, ai->ai_addr, ai->ai_addrlen);
	out->len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* "host:port" (numeric) -> connected socket, or -1. */
static inline int
dial(const char *hostport)
{
	struct cd_addr a;
	int fd;

	if (cd_resolve(hostport, 0, &a) != 0)
		return -1;
	if ((fd = socket(a.ss.ss_family, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a.ss, a.len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The CONNECT request for target, into buf; its length. */
static inline int
cd_connect_req(char *buf, size_t len, const char *target)
{
	return snprintf(buf, len, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n",
	    target, target);
}

/*
 * An answer head in buf[0..n): 0 while incomplete, -1 when it is not a
 * 2xx, else the head's length (the bytes after it are tunnel bytes).
 */
static inline int
cd_head_done(const char *buf, size_t n)
{
	const char *end;

	if ((end = memmem(buf, n, "\r\n\r\n", 4)) == NULL)
		return n >= 8192 ? -1 : 0;
	if (end - buf < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[9] != '2')
		return -1;
	return (int)(end - buf) + 4;
}

/* Send CONNECT target and read the answer head; 0 on a 2xx. */
static inline int
proxy_connect(int fd, const char *target)
{
	char buf[4096];
	size_t n = 0;
	ssize_t k;
	int len;

	len = cd_connect_req(buf, sizeof(buf), target);
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
	return cd_head_done(buf, n) > 0 ? 0 : -1;
}

/* The open-files soft limit raised to the hard one; the result. */
static inline long
cd_nofile_max(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	return rl.rlim_cur > 1000000 ? 1000000 : (long)rl.rlim_cur;
}

static inline int
cd_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Percentile p (0..100) of sorted v[0..n); 0 when empty. */
static inline double
cd_pct(const double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)n);
	return v[i >= n ? n - 1 : i];
}

#endif
