/*
 * cd_connrate - closed-loop CONNECT rate.
 *
 *   cd_connrate PROXY TARGET CLIENTS SECONDS
 *
 * CLIENTS threads each loop: connect to PROXY, CONNECT TARGET, wait for
 * the 2xx, write one byte, read one byte back (an echo target), close.
 * Prints tunnels per second, failures and latency percentiles.
 */
#include <pthread.h>

#include "cd_common.h"

#define MAXLAT 1000000

static const char *proxy, *target;
static double deadline;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static double *lat;
static size_t nlat;
static unsigned long long fails;

static void *
worker(void *arg)
{
	char c;
	double t;
	int fd, ok;

	while ((t = now_s()) < deadline) {
		ok = 0;
		if ((fd = dial(proxy)) >= 0) {
			if (proxy_connect(fd, target) == 0 &&
			    write(fd, "x", 1) == 1 && read(fd, &c, 1) == 1)
				ok = 1;
			close(fd);
		}
		pthread_mutex_lock(&mu);
		if (!ok)
			fails++;
		else if (nlat < MAXLAT)
			lat[nlat++] = now_s() - t;
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	pthread_t th[512];
	int i, n;
	double secs, t0;

	if (argc != 5) {
		fprintf(stderr, "usage: cd_connrate PROXY TARGET CLIENTS "
		    "SECONDS\n");
		return 2;
	}
	proxy = argv[1];
	target = argv[2];
	n = atoi(argv[3]);
	secs = atof(argv[4]);
	if (n < 1 || n > 512 || secs <= 0)
		return 2;
	if ((lat = calloc(MAXLAT, sizeof(*lat))) == NULL)
		return 1;
	t0 = now_s();
	deadline = t0 + secs;
	for (i = 0; i < n; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	secs = now_s() - t0;
	qsort(lat, nlat, sizeof(*lat), cmp);
	printf("connrate clients=%d seconds=%.2f tunnels=%zu fails=%llu "
	    "per_s=%.1f p50_ms=%.2f p99_ms=%.2f\n", n, secs, nlat, fails,
	    (double)nlat / secs, nlat ? lat[nlat / 2] * 1e3 : 0.0,
	    nlat ? lat[nlat * 99 / 100] * 1e3 : 0.0);
	free(lat);
	return 0;
}
