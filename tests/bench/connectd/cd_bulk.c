/*
 * cd_bulk - one bulk stream through a CONNECT proxy, or straight to the
 * target.
 *
 *   cd_bulk PROXY TARGET MBYTES
 *	Echo: writes MBYTES MiB through a tunnel to an echo server in one
 *	thread while another reads what comes back; MiB/s each way.
 *
 *   cd_bulk -m down|up [-t SECONDS] [-w WARMUP] PROXY|direct TARGET
 *	Against cd_sink's bulk port: "down" reads what the sink writes
 *	(server to client, the way egress traffic mostly flows), "up"
 *	writes to it.  Runs WARMUP + SECONDS (default 0.5 + 3) and counts
 *	only the bytes moved after the warm-up.  PROXY "direct" connects
 *	to TARGET itself, resolving its name with the system resolver.
 *
 * PROXY is a numeric host:port; TARGET goes into the CONNECT by name.
 */
#include <pthread.h>

#include "cd_common.h"

#define BUFSZ	(256 * 1024)

struct rd {
	int fd;
	unsigned long long got;
};

static void *
reader(void *arg)
{
	static char buf[BUFSZ];
	struct rd *r = arg;
	ssize_t n;

	while ((n = read(r->fd, buf, sizeof(buf))) > 0)
		r->got += (unsigned long long)n;
	return NULL;
}

static int
echo(int fd, unsigned long long total)
{
	static char buf[65536];
	unsigned long long sent = 0;
	struct rd r;
	pthread_t th;
	double t0, t1;
	ssize_t n;

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
	return sent == total ? 0 : 1;
}

static void
report(const char *mode, unsigned long long bytes, double secs)
{
	double mibps = (double)bytes / (1 << 20) / secs;

	printf("bulk mode=%s bytes=%llu seconds=%.3f MiBps=%.1f Gbps=%.2f\n",
	    mode, bytes, secs, mibps, mibps * 8 * 1.048576 / 1000);
}

static int
down(int fd, double warm, double secs)
{
	static char buf[BUFSZ];
	unsigned long long got = 0, mark = 0;
	double t0, tw = 0, t = 0;
	ssize_t n;

	if (write(fd, "DOWN\n", 5) != 5)
		return 1;
	t0 = now_s();
	for (;;) {
		if ((n = read(fd, buf, sizeof(buf))) <= 0) {
			fprintf(stderr, "cd_bulk: stream ended early\n");
			return 1;
		}
		got += (unsigned long long)n;
		t = now_s();
		if (tw == 0 && t - t0 >= warm) {
			tw = t;
			mark = got;
		}
		if (tw != 0 && t - tw >= secs)
			break;
	}
	report("down", got - mark, t - tw);
	return 0;
}

static int
up(int fd, double warm, double secs)
{
	static char buf[BUFSZ];
	unsigned long long sent = 0, mark = 0, count;
	double t0, tw = 0, t = 0;
	char ans[64];
	ssize_t n;
	size_t k = 0;

	memset(buf, 'u', sizeof(buf));
	if (write(fd, "UP\n", 3) != 3)
		return 1;
	t0 = now_s();
	for (;;) {
		if ((n = write(fd, buf, sizeof(buf))) <= 0)
			return 1;
		sent += (unsigned long long)n;
		t = now_s();
		if (tw == 0 && t - t0 >= warm) {
			tw = t;
			mark = sent;
		}
		if (tw != 0 && t - tw >= secs)
			break;
	}
	shutdown(fd, SHUT_WR);
	while (k < sizeof(ans) - 1 && (n = read(fd, ans + k,
	    sizeof(ans) - 1 - k)) > 0)
		k += (size_t)n;
	ans[k] = '\0';
	count = strtoull(ans, NULL, 10);
	if (count != sent) {
		fprintf(stderr, "cd_bulk: sink counted %llu of %llu bytes\n",
		    count, sent);
		return 1;
	}
	report("up", sent - mark, t - tw);
	return 0;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: cd_bulk PROXY TARGET MBYTES\n"
	    "       cd_bulk -m down|up [-t SECONDS] [-w WARMUP] "
	    "PROXY|direct TARGET\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *mode = "echo";
	double secs = 3, warm = 0.5;
	struct cd_addr a;
	int ch, fd, rc;

	while ((ch = getopt(argc, argv, "m:t:w:")) != -1) {
		switch (ch) {
		case 'm':
			mode = optarg;
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'w':
			warm = atof(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (strcmp(mode, "echo") == 0 ? argc != 3 : argc != 2)
		usage();
	if (secs <= 0 || warm < 0)
		usage();

	if (strcmp(argv[0], "direct") == 0) {
		if (cd_resolve(argv[1], 1, &a) != 0 ||
		    (fd = socket(a.ss.ss_family, SOCK_STREAM, 0)) < 0 ||
		    connect(fd, (struct sockaddr *)&a.ss, a.len) != 0) {
			fprintf(stderr, "cd_bulk: connect to %s failed\n",
			    argv[1]);
			return 1;
		}
	} else if ((fd = dial(argv[0])) < 0 || proxy_connect(fd, argv[1])
	    != 0) {
		fprintf(stderr, "cd_bulk: tunnel to %s via %s failed\n",
		    argv[1], argv[0]);
		return 1;
	}
	if (strcmp(mode, "echo") == 0)
		rc = echo(fd, strtoull(argv[2], NULL, 10) << 20);
	else if (strcmp(mode, "down") == 0)
		rc = down(fd, warm, secs);
	else if (strcmp(mode, "up") == 0)
		rc = up(fd, warm, secs);
	else
		usage();
	close(fd);
	return rc;
}
