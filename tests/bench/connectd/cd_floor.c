/*
 * cd_floor - the floor reference of the connection-rate bench: the least
 * a CONNECT relay can do per tunnel.
 *
 *   cd_floor [-m copy|splice] LISTEN TARGET
 *
 * One thread, one epoll loop, edge-triggered.  Per tunnel: accept, read
 * the request head (it must start with "CONNECT "; its target is ignored:
 * every tunnel goes to TARGET, numeric, fixed at start), a non-blocking
 * connect, the 200 line, bytes both ways until both sides have ended
 * (each end of stream passed on as a shutdown), close.  No policy, no
 * name resolution, no log, no timers, no allocation per tunnel (tunnels
 * come from a free list).  copy (default) moves bytes with read/write
 * through the tunnel's buffer; splice through a pipe per direction,
 * made when the tunnel starts relaying.
 *
 * Its CPU per tunnel is mostly the kernel's: the accept, connect and
 * closes of two TCP connections and the loopback packets they make.  A
 * proxy's CPU per tunnel above this figure is the proxy's own doing.
 * Not a proxy to run anywhere but in the bench: it checks nothing.
 */
#include <sys/epoll.h>

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>

#include "cd_common.h"

#define BUFSZ		16384
#define HEADMAX		4096
#define MAXEV		256

enum { T_HEAD, T_CONNECTING, T_RELAY };

struct tun;

struct side {
	int		 fd;
	struct tun	*t;
};

/* Direction d carries bytes read from s[d] to s[1 - d]. */
struct tun {
	struct side	 s[2];		/* 0 the client, 1 the target */
	int		 state;
	int		 eof[2];	/* s[d] sent its end of stream */
	int		 pipe[2][2];	/* splice: one pipe per direction */
	size_t		 off[2], len[2];/* pending bytes of direction d */
	size_t		 inpipe[2];	/* splice: bytes in direction d's pipe */
	struct tun	*next;
	char		 buf[2][BUFSZ];
};

static const char ok200[] = "HTTP/1.1 200 Connection established\r\n\r\n";
static struct cd_addr dst;
static struct tun *freelist, *deadlist;
static int ep, splice_mode;

static struct tun *
tun_get(void)
{
	struct tun *t;

	if ((t = freelist) != NULL)
		freelist = t->next;
	else if ((t = malloc(sizeof(*t))) == NULL)
		return NULL;
	t->state = T_HEAD;
	t->eof[0] = t->eof[1] = 0;
	t->off[0] = t->off[1] = t->len[0] = t->len[1] = 0;
	t->inpipe[0] = t->inpipe[1] = 0;
	t->pipe[0][0] = t->pipe[0][1] = t->pipe[1][0] = t->pipe[1][1] = -1;
	t->s[0].fd = t->s[1].fd = -1;
	t->s[0].t = t->s[1].t = t;
	return t;
}

/*
 * Close everything of t; close() takes the fds out of the epoll set.  t
 * goes back to the free list only after the current batch of events (one
 * of them may still name it).
 */
static void
tun_end(struct tun *t)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (t->s[i].fd >= 0)
			close(t->s[i].fd);
		t->s[i].fd = -1;
		if (t->pipe[i][0] >= 0) {
			close(t->pipe[i][0]);
			close(t->pipe[i][1]);
		}
	}
	t->next = deadlist;
	deadlist = t;
}

static int
watch(int fd, struct side *s)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = s;
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Direction d with read/write: 0 while it may go on, -1 to end t. */
static int
pump_copy(struct tun *t, int d)
{
	int in = t->s[d].fd, out = t->s[1 - d].fd;
	ssize_t n;

	for (;;) {
		while (t->len[d] > 0) {
			n = send(out, t->buf[d] + t->off[d], t->len[d],
			    MSG_NOSIGNAL);
			if (n < 0)
				return errno == EAGAIN ? 0 : -1;
			t->off[d] += (size_t)n;
			t->len[d] -= (size_t)n;
		}
		if (t->eof[d])
			return 0;
		t->off[d] = 0;
		n = read(in, t->buf[d], BUFSZ);
		if (n > 0) {
			t->len[d] = (size_t)n;
			continue;
		}
		if (n == 0) {
			t->eof[d] = 1;
			(void)shutdown(out, SHUT_WR);
			return 0;
		}
		return errno == EAGAIN ? 0 : -1;
	}
}

/* Direction d through its pipe: as pump_copy. */
static int
pump_splice(struct tun *t, int d)
{
	int in = t->s[d].fd, out = t->s[1 - d].fd;
	ssize_t n;

	for (;;) {
		while (t->inpipe[d] > 0) {
			n = splice(t->pipe[d][0], NULL, out, NULL,
			    t->inpipe[d], SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n < 0)
				return errno == EAGAIN ? 0 : -1;
			t->inpipe[d] -= (size_t)n;
		}
		if (t->eof[d])
			return 0;
		n = splice(in, NULL, t->pipe[d][1], NULL, 1 << 20,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			t->inpipe[d] = (size_t)n;
			continue;
		}
		if (n == 0) {
			t->eof[d] = 1;
			(void)shutdown(out, SHUT_WR);
			return 0;
		}
		return errno == EAGAIN ? 0 : -1;
	}
}

static void
relay(struct tun *t)
{
	int d;

	for (d = 0; d < 2; d++)
		if ((splice_mode ? pump_splice(t, d) : pump_copy(t, d)) != 0) {
			tun_end(t);
			return;
		}
	if (t->eof[0] && t->eof[1] && t->len[0] == 0 && t->len[1] == 0 &&
	    t->inpipe[0] == 0 && t->inpipe[1] == 0)
		tun_end(t);
}

/* The request head arrived whole: dial the target. */
static void
head(struct tun *t)
{
	char *end;
	ssize_t n;
	int fd;

	for (;;) {
		n = read(t->s[0].fd, t->buf[0] + t->len[0],
		    HEADMAX - t->len[0]);
		if (n <= 0) {
			if (n < 0 && errno == EAGAIN)
				return;
			tun_end(t);
			return;
		}
		t->len[0] += (size_t)n;
		if ((end = memmem(t->buf[0], t->len[0], "\r\n\r\n", 4)) !=
		    NULL)
			break;
		if (t->len[0] == HEADMAX) {
			tun_end(t);
			return;
		}
	}
	if (t->len[0] < 8 || memcmp(t->buf[0], "CONNECT ", 8) != 0) {
		tun_end(t);
		return;
	}
	/* Bytes after the head are the client's first tunnel bytes. */
	t->off[0] = (size_t)(end + 4 - t->buf[0]);
	t->len[0] -= t->off[0];
	if ((fd = socket(dst.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0) {
		tun_end(t);
		return;
	}
	t->s[1].fd = fd;
	if ((connect(fd, (struct sockaddr *)&dst.ss, dst.len) != 0 &&
	    errno != EINPROGRESS) || watch(fd, &t->s[1]) != 0) {
		tun_end(t);
		return;
	}
	t->state = T_CONNECTING;
}

/* The target's side became writable: connected, or refused. */
static void
connected(struct tun *t)
{
	socklen_t sl = sizeof(int);
	int err = 0;

	if (getsockopt(t->s[1].fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0 ||
	    err != 0) {
		tun_end(t);
		return;
	}
	/* An empty socket buffer takes the 200 line whole. */
	if (send(t->s[0].fd, ok200, sizeof(ok200) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(ok200) - 1) {
		tun_end(t);
		return;
	}
	if (splice_mode) {
		if (pipe2(t->pipe[0], O_NONBLOCK | O_CLOEXEC) != 0 ||
		    pipe2(t->pipe[1], O_NONBLOCK | O_CLOEXEC) != 0) {
			tun_end(t);
			return;
		}
		/* The head's leftover, if any, goes out as bytes. */
		if (t->len[0] > 0 && send(t->s[1].fd, t->buf[0] + t->off[0],
		    t->len[0], MSG_NOSIGNAL) != (ssize_t)t->len[0]) {
			tun_end(t);
			return;
		}
		t->len[0] = 0;
	}
	t->state = T_RELAY;
	relay(t);
}

static void
accept_all(int lfd)
{
	struct tun *t;
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) >= 0) {
		if ((t = tun_get()) == NULL) {
			close(fd);
			continue;
		}
		t->s[0].fd = fd;
		if (watch(fd, &t->s[0]) != 0) {
			tun_end(t);
			continue;
		}
		/* The request is often there already. */
		head(t);
	}
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: cd_floor [-m copy|splice] LISTEN TARGET\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct side lside;
	struct epoll_event ev[MAXEV];
	struct cd_addr la;
	int ch, i, n, lfd, one = 1;

	while ((ch = getopt(argc, argv, "m:")) != -1) {
		switch (ch) {
		case 'm':
			if (strcmp(optarg, "copy") == 0)
				splice_mode = 0;
			else if (strcmp(optarg, "splice") == 0)
				splice_mode = 1;
			else
				usage();
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();
	if (cd_resolve(argv[0], 0, &la) != 0 || cd_resolve(argv[1], 0,
	    &dst) != 0) {
		fprintf(stderr, "cd_floor: LISTEN and TARGET: numeric "
		    "host:port\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	(void)cd_nofile_max();
	if ((lfd = socket(la.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) !=
	    0 || bind(lfd, (struct sockaddr *)&la.ss, la.len) != 0 ||
	    listen(lfd, 4096) != 0) {
		perror("cd_floor: listen");
		return 1;
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("epoll_create1");
		return 1;
	}
	lside.fd = lfd;
	memset(ev, 0, sizeof(ev[0]));
	ev[0].events = EPOLLIN;
	ev[0].data.ptr = &lside;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev[0]) != 0) {
		perror("epoll_ctl");
		return 1;
	}
	fprintf(stderr, "floor ready mode=%s\n", splice_mode ? "splice" :
	    "copy");
	for (;;) {
		if ((n = epoll_wait(ep, ev, MAXEV, -1)) < 0) {
			if (errno == EINTR)
				continue;
			perror("epoll_wait");
			return 1;
		}
		/*
		 * A tunnel ended by an earlier event of this batch may still
		 * have one queued for its other side: its fds are -1 now.
		 */
		for (i = 0; i < n; i++) {
			struct side *s = ev[i].data.ptr;
			struct tun *t = s->t;

			if (s == &lside) {
				accept_all(lfd);
				continue;
			}
			if (s->fd < 0)
				continue;
			switch (t->state) {
			case T_HEAD:
				head(t);
				break;
			case T_CONNECTING:
				if (s == &t->s[1])
					connected(t);
				break;
			default:
				relay(t);
			}
		}
		while (deadlist != NULL) {
			struct tun *t = deadlist;

			deadlist = t->next;
			t->next = freelist;
			freelist = t;
		}
	}
}
