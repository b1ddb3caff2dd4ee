/*
 * cd_sink - the target servers of the connectd benchmark.
 *
 *   cd_sink [-t THREADS] [-p PAYLOAD] ADDR BASEPORT
 *
 * Listens on ADDR at three ports, with THREADS event loops (default 2),
 * each with its own SO_REUSEPORT listeners:
 *
 *   BASEPORT     bulk.  The client sends one line first:
 *                  "DOWN\n"     the sink writes until the peer goes away;
 *                  "DOWN n\n"   the sink writes n bytes, then half-closes;
 *                  "UP\n"       the sink counts bytes until EOF, answers
 *                               "<count>\n" and closes.
 *   BASEPORT+1   hello.  Writes PAYLOAD bytes (default 32) at once and
 *                closes, reading nothing: the trivial server of the
 *                connection-rate bench.
 *   BASEPORT+2   hold.  Reads and discards until EOF: idle tunnels and
 *                connectd's canary probes end here.
 *   BASEPORT+3   stat.  Writes "bulk=N hold=M\n", the connections open on
 *                the bulk and hold ports, and closes: the bench waits for
 *                bulk=0 between runs (a proxy may keep the upstream side
 *                of a finished stream open for a while) and checks that
 *                the held tunnels reached the target.
 *
 * Prints "sink ready" on stdout once every listener is up.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NPORT		4
#define CHUNK		(256 * 1024)
#define MAXTHREADS	16
#define MAXPAYLOAD	4096

enum kind { K_FREE, K_LISTEN, K_BULK_HEAD, K_DOWN, K_UP, K_HOLD };

struct conn {
	uint8_t		 kind;
	uint8_t		 port;		/* listener: which port */
	uint8_t		 linelen;
	uint8_t		 unbounded;
	char		 line[32];
	uint64_t	 left;		/* DOWN n: bytes still to write */
	uint64_t	 count;		/* UP: bytes read */
};

static struct conn *conns;		/* indexed by fd */
static int nconns;
static char payload[MAXPAYLOAD];
static size_t payloadlen = 32;
static char chunk[CHUNK];
static struct sockaddr_storage ss;
static socklen_t sslen;
static int baseport;
static pthread_barrier_t up;
static int nbulk, nhold;		/* open connections, atomic */

static void
die(const char *what)
{
	fprintf(stderr, "cd_sink: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
drop(int ep, int fd)
{
	/* Free the slot first: once closed, another loop may get the fd. */
	if (fd < nconns) {
		if (conns[fd].kind == K_HOLD)
			__atomic_fetch_sub(&nhold, 1, __ATOMIC_RELAXED);
		else if (conns[fd].kind != K_FREE &&
		    conns[fd].kind != K_LISTEN)
			__atomic_fetch_sub(&nbulk, 1, __ATOMIC_RELAXED);
		conns[fd].kind = K_FREE;
	}
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
}

static void
watch(int ep, int fd, int op, uint32_t ev)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.fd = fd;
	if (epoll_ctl(ep, op, fd, &e) == -1)
		die("epoll_ctl");
}

static int
listener(int port)
{
	struct sockaddr_storage a = ss;
	int fd, one = 1;

	if (a.ss_family == AF_INET)
		((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)port);
	if ((fd = socket(a.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1)
		die("SO_REUSEPORT");
	if (bind(fd, (struct sockaddr *)&a, sslen) == -1)
		die("bind");
	if (listen(fd, 4096) == -1)
		die("listen");
	return fd;
}

/* Write as much as the socket takes; -1 when the connection is done. */
static int
pump_down(struct conn *c, int fd)
{
	ssize_t n;
	size_t k;

	for (;;) {
		k = CHUNK;
		if (!c->unbounded && c->left < k)
			k = (size_t)c->left;
		if (k == 0) {
			shutdown(fd, SHUT_WR);
			return 0;
		}
		n = send(fd, chunk, k, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		if (!c->unbounded)
			c->left -= (uint64_t)n;
	}
}

static void
bulk_head(int ep, int fd, struct conn *c)
{
	ssize_t n;
	char *nl;

	n = read(fd, c->line + c->linelen, sizeof(c->line) - 1 - c->linelen);
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		drop(ep, fd);
		return;
	}
	c->linelen += (uint8_t)n;
	c->line[c->linelen] = '\0';
	if ((nl = strchr(c->line, '\n')) == NULL) {
		if (c->linelen == sizeof(c->line) - 1)
			drop(ep, fd);
		return;
	}
	*nl = '\0';
	if (strcmp(c->line, "UP") == 0) {
		c->kind = K_UP;
		/* Bytes after the line count too. */
		c->count = (uint64_t)(c->linelen - (size_t)(nl + 1 - c->line));
	} else if (strncmp(c->line, "DOWN", 4) == 0) {
		c->kind = K_DOWN;
		c->unbounded = c->line[4] == '\0';
		c->left = c->unbounded ? 0 : strtoull(c->line + 4, NULL, 10);
		watch(ep, fd, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
		if (pump_down(c, fd) == -1)
			drop(ep, fd);
	} else
		drop(ep, fd);
}

static void
readable(int ep, int fd, struct conn *c)
{
	static __thread char buf[CHUNK];
	char ans[32];
	ssize_t n;
	int len;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			c->count += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return;
		break;
	}
	if (n == 0 && c->kind == K_UP) {
		len = snprintf(ans, sizeof(ans), "%llu\n",
		    (unsigned long long)c->count);
		(void)send(fd, ans, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	drop(ep, fd);
}

static void
accept_all(int ep, int lfd, int port)
{
	char st[64];
	int fd, len;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		if (port == 1) {
			(void)send(fd, payload, payloadlen,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		if (port == 3) {
			len = snprintf(st, sizeof(st), "bulk=%d hold=%d\n",
			    __atomic_load_n(&nbulk, __ATOMIC_RELAXED),
			    __atomic_load_n(&nhold, __ATOMIC_RELAXED));
			(void)send(fd, st, (size_t)len,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		if (fd >= nconns) {
			close(fd);
			continue;
		}
		memset(&conns[fd], 0, sizeof(conns[fd]));
		conns[fd].kind = port == 0 ? K_BULK_HEAD : K_HOLD;
		__atomic_fetch_add(port == 0 ? &nbulk : &nhold, 1,
		    __ATOMIC_RELAXED);
		watch(ep, fd, EPOLL_CTL_ADD, EPOLLIN);
	}
}

static void *
loop(void *arg)
{
	struct epoll_event ev[256];
	struct conn *c;
	int ep, fd, i, n, p;

	(void)arg;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	for (p = 0; p < NPORT; p++) {
		fd = listener(baseport + p);
		if (fd >= nconns)
			die("listener fd");
		conns[fd].kind = K_LISTEN;
		conns[fd].port = (uint8_t)p;
		watch(ep, fd, EPOLL_CTL_ADD, EPOLLIN);
	}
	pthread_barrier_wait(&up);
	for (;;) {
		if ((n = epoll_wait(ep, ev, 256, -1)) < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			fd = ev[i].data.fd;
			c = &conns[fd];
			switch (c->kind) {
			case K_LISTEN:
				accept_all(ep, fd, c->port);
				break;
			case K_BULK_HEAD:
				bulk_head(ep, fd, c);
				break;
			case K_DOWN:
				if (ev[i].events & (EPOLLIN | EPOLLERR |
				    EPOLLHUP)) {
					readable(ep, fd, c);
					break;
				}
				if (pump_down(c, fd) == -1)
					drop(ep, fd);
				break;
			case K_UP:
			case K_HOLD:
				readable(ep, fd, c);
				break;
			default:
				break;
			}
		}
	}
	return NULL;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: cd_sink [-t THREADS] [-p PAYLOAD] ADDR "
	    "BASEPORT\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	pthread_t th[MAXTHREADS];
	struct rlimit rl;
	int ch, i, nthreads = 2;
	size_t k;

	while ((ch = getopt(argc, argv, "t:p:")) != -1) {
		switch (ch) {
		case 't':
			nthreads = atoi(optarg);
			break;
		case 'p':
			payloadlen = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || nthreads < 1 || nthreads > MAXTHREADS ||
	    payloadlen < 1 || payloadlen > MAXPAYLOAD)
		usage();
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, argv[0], &((struct sockaddr_in *)&ss)->sin_addr)
	    == 1) {
		ss.ss_family = AF_INET;
		sslen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, argv[0],
	    &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		sslen = sizeof(struct sockaddr_in6);
	} else
		usage();
	baseport = atoi(argv[1]);
	if (baseport < 1 || baseport > 65535 - NPORT)
		usage();

	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	nconns = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < 1000000 ? (int)rl.rlim_cur : 1000000;
	if ((conns = calloc((size_t)nconns, sizeof(*conns))) == NULL)
		die("calloc");
	for (k = 0; k < payloadlen; k++)
		payload[k] = "cd_sink hello\n"[k % 14];
	memset(chunk, 'd', sizeof(chunk));

	/* Listeners are made in the threads; wait until all can accept. */
	pthread_barrier_init(&up, NULL, (unsigned)nthreads + 1);
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, loop, NULL) != 0)
			die("pthread_create");
	pthread_barrier_wait(&up);
	printf("sink ready addr=%s ports=%d-%d threads=%d payload=%zu\n",
	    argv[0], baseport, baseport + NPORT - 1, nthreads, payloadlen);
	fflush(stdout);
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	return 0;
}
