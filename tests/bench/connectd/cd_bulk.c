/*
 * cd_bulk - throughput through a CONNECT proxy.
 *
 *   cd_bulk PROXY TARGET MBYTES
 *
 * Opens one tunnel to TARGET (an echo or discard-and-count server) through
 * PROXY, writes MBYTES MiB in one thread while another reads whatever
 * comes back, and prints MiB/s each way.
 */
#include <pthread.h>
#include <sys/socket.h>

#include "cd_common.h"

struct rd {
	int fd;
	unsigned long long got;
};

static void *
reader(void *arg)
{
	struct rd *r = arg;
	char buf[65536];
	ssize_t n;

	while ((n = read(r->fd, buf, sizeof(buf))) > 0)
		r->got += (unsigned long long)n;
	return NULL;
}

int
main(int argc, char **argv)
{
	static char buf[65536];
	unsigned long long total, sent = 0;
	struct rd r;
	pthread_t th;
	double t0, t1;
	ssize_t n;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: cd_bulk PROXY TARGET MBYTES\n");
		return 2;
	}
	total = strtoull(argv[3], NULL, 10) << 20;
	if ((fd = dial(argv[1])) < 0 || proxy_connect(fd, argv[2]) != 0) {
		fprintf(stderr, "cd_bulk: tunnel to %s via %s failed\n",
		    argv[2], argv[1]);
		return 1;
	}
	memset(buf, 'x', sizeof(buf));
	r.fd = fd;
	r.got = 0;
	t0 = now_s();
	pthread_create(&th, NULL, reader, &r);
	while (sent < total) {
		size_t k = total - sent < sizeof(buf) ? total - sent :
		    sizeof(buf);

		if ((n = write(fd, buf, k)) <= 0)
			break;
		sent += (unsigned long long)n;
	}
	shutdown(fd, SHUT_WR);
	pthread_join(th, NULL);
	t1 = now_s();
	printf("bulk sent=%llu received=%llu seconds=%.3f up_MiBps=%.1f "
	    "down_MiBps=%.1f\n", sent, r.got, t1 - t0,
	    (double)sent / (1 << 20) / (t1 - t0),
	    (double)r.got / (1 << 20) / (t1 - t0));
	close(fd);
	return sent == total ? 0 : 1;
}
