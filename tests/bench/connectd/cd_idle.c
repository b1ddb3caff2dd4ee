/*
 * cd_idle - hold many idle CONNECT tunnels open.
 *
 *   cd_idle [-c INFLIGHT] [-T SECONDS] PROXY TARGET N
 *
 * Opens N tunnels through PROXY (numeric host:port) to TARGET (cd_sink's
 * hold port, by name), at most INFLIGHT (default 200) handshakes at a
 * time, and checks that each was answered 2xx.  Then prints
 *
 *   idle tunnels=N ok=K failed=F seconds=S [status_XXX=n ...] ...
 *   idle ready
 *
 * and holds every good tunnel, sending nothing, until SIGTERM or SIGINT.
 * SIGUSR1, and the end, print how many are still open:
 *
 *   idle check open=A closed=B
 *
 * (a tunnel the proxy closed reads EOF or an error).  Handshakes still
 * unanswered after SECONDS (default 30) count as failed (timeout).
 */
#include <sys/epoll.h>

#include <signal.h>
#include <stdint.h>

#include "cd_common.h"

#define HEADCAP		2048

enum { S_CONNECTING, S_HEAD };

struct hs {
	int	 fd;
	int	 state;
	size_t	 have;
	char	 buf[HEADCAP];
};

static struct cd_addr proxy;
static char req[512];
static int reqlen;
static int *held;
static int nheld;
static unsigned long status[600], f_connect, f_eof, f_timeout, f_other;

static void
fail_status(const char *buf, size_t n)
{
	int code = 0;

	if (n >= 12 && memcmp(buf, "HTTP/1.", 7) == 0)
		code = atoi(buf + 9);
	if (code >= 100 && code < 600)
		status[code]++;
	else
		f_other++;
}

static int
begin(int ep, struct hs *h)
{
	struct epoll_event ev;

	h->state = S_CONNECTING;
	h->have = 0;
	if ((h->fd = socket(proxy.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK,
	    0)) < 0) {
		perror("cd_idle: socket");
		return -1;
	}
	if (connect(h->fd, (struct sockaddr *)&proxy.ss, proxy.len) != 0 &&
	    errno != EINPROGRESS) {
		f_connect++;
		close(h->fd);
		h->fd = -1;
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
	ev.data.ptr = h;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, h->fd, &ev) != 0) {
		perror("cd_idle: epoll_ctl");
		return -1;
	}
	return 0;
}

/* Advance one handshake; the slot's fd is -1 once it is over. */
static void
step(int ep, struct hs *h, uint32_t events)
{
	ssize_t n;
	int r;

	if (h->state == S_CONNECTING) {
		if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0)
			return;
		if (send(h->fd, req, (size_t)reqlen, MSG_NOSIGNAL) != reqlen) {
			f_connect++;
			goto drop;
		}
		h->state = S_HEAD;
	}
	for (;;) {
		n = read(h->fd, h->buf + h->have, HEADCAP - h->have);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (h->have > 0)
				fail_status(h->buf, h->have);
			else if (n == 0)
				f_eof++;
			else
				f_connect++;
			goto drop;
		}
		h->have += (size_t)n;
		if ((r = cd_head_done(h->buf, h->have)) < 0 ||
		    (r == 0 && h->have == HEADCAP)) {
			fail_status(h->buf, h->have);
			goto drop;
		}
		if (r > 0)
			break;
	}
	epoll_ctl(ep, EPOLL_CTL_DEL, h->fd, NULL);
	held[nheld++] = h->fd;
	h->fd = -1;
	return;
drop:
	close(h->fd);
	h->fd = -1;
}

static void
check(void)
{
	int i, open = 0, closed = 0;
	char c;

	for (i = 0; i < nheld; i++) {
		if (recv(held[i], &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
		    errno == EAGAIN)
			open++;
		else
			closed++;
	}
	printf("idle check open=%d closed=%d\n", open, closed);
	fflush(stdout);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: cd_idle [-c INFLIGHT] [-T SECONDS] PROXY "
	    "TARGET N\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct epoll_event ev[256];
	struct hs *hs;
	sigset_t set;
	double t0, limit = 30;
	long nofile;
	int ch, ep, i, k, n, total, started = 0, active = 0, inflight = 200;
	int sig;

	while ((ch = getopt(argc, argv, "c:T:")) != -1) {
		switch (ch) {
		case 'c':
			inflight = atoi(optarg);
			break;
		case 'T':
			limit = atof(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 3 || inflight < 1 || limit <= 0)
		usage();
	total = atoi(argv[2]);
	if (total < 1)
		usage();
	if (cd_resolve(argv[0], 0, &proxy) != 0) {
		fprintf(stderr, "cd_idle: bad proxy %s\n", argv[0]);
		return 2;
	}
	nofile = cd_nofile_max();
	if (nofile < (long)total + inflight + 16) {
		fprintf(stderr, "cd_idle: open-files limit %ld is too low for "
		    "%d tunnels\n", nofile, total);
		return 1;
	}
	reqlen = cd_connect_req(req, sizeof(req), argv[1]);
	if (inflight > total)
		inflight = total;
	if ((held = calloc((size_t)total, sizeof(*held))) == NULL ||
	    (hs = calloc((size_t)inflight, sizeof(*hs))) == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("cd_idle");
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	t0 = now_s();
	for (i = 0; i < inflight; i++)
		hs[i].fd = -1;
	for (;;) {
		/* Refill the free slots while tunnels remain to open. */
		active = 0;
		for (i = 0; i < inflight; i++) {
			if (hs[i].fd < 0 && started < total &&
			    now_s() - t0 < limit) {
				started++;
				if (begin(ep, &hs[i]) != 0)
					return 1;
			}
			if (hs[i].fd >= 0)
				active++;
		}
		if (active == 0 && (started == total || now_s() - t0 >= limit))
			break;
		if (now_s() - t0 >= limit) {
			for (i = 0; i < inflight; i++) {
				if (hs[i].fd >= 0) {
					close(hs[i].fd);
					hs[i].fd = -1;
					f_timeout++;
				}
			}
			break;
		}
		n = epoll_wait(ep, ev, 256, 100);
		for (k = 0; k < n; k++) {
			struct hs *h = ev[k].data.ptr;

			if (h->fd >= 0)
				step(ep, h, ev[k].events);
		}
	}
	f_timeout += (unsigned long)(total - started);
	printf("idle tunnels=%d ok=%d failed=%d seconds=%.2f", total, nheld,
	    total - nheld, now_s() - t0);
	for (i = 100; i < 600; i++)
		if (status[i] > 0)
			printf(" status_%d=%lu", i, status[i]);
	printf(" fail_connect=%lu fail_eof=%lu fail_timeout=%lu "
	    "fail_other=%lu\nidle ready\n", f_connect, f_eof, f_timeout,
	    f_other);
	fflush(stdout);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		check();
		if (sig != SIGUSR1)
			break;
	}
	for (i = 0; i < nheld; i++)
		close(held[i]);
	return 0;
}
