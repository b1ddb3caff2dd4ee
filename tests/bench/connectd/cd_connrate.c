/*
 * cd_connrate - closed-loop rate of short CONNECT tunnels.
 *
 *   cd_connrate [-m hello|echo] [-T THREADS] [-w WARMUP] [-P PID,...]
 *       PROXY|direct TARGET CLIENTS SECONDS
 *
 * CLIENTS connections are kept in flight by THREADS epoll loops (default
 * 2, clients split between them); each, as soon as it ends, is replaced
 * by a new one: connect to PROXY, CONNECT TARGET, wait for the 2xx, then
 *   hello (cd_sink's hello port): read the server's payload to EOF;
 *   echo (default, an echo target): write one byte, read one byte back.
 * PROXY "direct" skips the proxy: the client connects to TARGET itself
 * (its name resolved once, at start) - the rig's own ceiling.
 *
 * Counts the tunnels that completed after WARMUP seconds (default 1 when
 * SECONDS > 2, else 0) and before the end; prints tunnels per second,
 * failures by kind, and percentiles of the time to first byte (connect
 * start to the first byte of the server's payload) and of the whole
 * connection.
 *
 * -P PID,...: the CPU time (user + system, /proc/PID/stat, every thread
 * and every waited-for child included) those processes used over the
 * counted window, in total and per counted tunnel: the proxy's cost per
 * tunnel when PIDs are every process on its path.
 */
#include <sys/epoll.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>

#include "cd_common.h"

#define MAXCLIENTS	4096
#define MAXTHREADS	16
#define HEADCAP		2048
#define CONN_TIMEOUT	10.0

enum { S_CONNECTING, S_HEAD, S_BODY };
enum { F_CONNECT, F_STATUS, F_SHORT, F_IO, F_TIMEOUT, F_N };
static const char *const fname[F_N] = {
	"connect", "status", "short", "io", "timeout"
};

struct slot {
	int		 fd;
	int		 state;
	double		 t0;		/* connect start */
	double		 tfb;		/* first payload byte */
	size_t		 have;		/* head bytes in buf */
	size_t		 payload;	/* payload bytes read */
	char		 buf[HEADCAP];
};

struct samples {
	double		*v;
	size_t		 n, cap;
};

struct worker {
	pthread_t		 th;
	int			 nslots;
	struct slot		*slots;
	int			 ep;
	struct slot		**redo;		/* to start again */
	int			 nredo;
	struct samples		 ttfb, total;
	unsigned long long	 done, fails[F_N];
};

static struct cd_addr dst;
static const char *target;
static int direct, echo_mode = 1;	/* without -m: an echo target */
static char req[512];
static int reqlen;
static double tstart, twarm, tend;

#define MAXPIDS		32
static long cpupids[MAXPIDS];
static int ncpupids;

static void
push(struct samples *s, double x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 65536;
		if ((s->v = realloc(s->v, s->cap * sizeof(*s->v))) == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	s->v[s->n++] = x;
}

static void start(struct worker *, struct slot *);

static void
finish(struct worker *w, struct slot *s, int fail)
{
	double t = now_s();

	close(s->fd);
	s->fd = -1;
	if (t >= twarm && t <= tend) {
		if (fail >= 0)
			w->fails[fail]++;
		else {
			w->done++;
			push(&w->ttfb, s->tfb - s->t0);
			push(&w->total, t - s->t0);
		}
	}
	if (t < tend)
		w->redo[w->nredo++] = s;
}

static void
start(struct worker *w, struct slot *s)
{
	struct epoll_event ev;

	s->state = S_CONNECTING;
	s->have = s->payload = 0;
	s->tfb = 0;
	s->t0 = now_s();
	if ((s->fd = socket(dst.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK,
	    0)) < 0) {
		perror("socket");
		exit(1);
	}
	if (connect(s->fd, (struct sockaddr *)&dst.ss, dst.len) != 0 &&
	    errno != EINPROGRESS) {
		finish(w, s, F_CONNECT);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
	ev.data.ptr = s;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, s->fd, &ev) != 0) {
		perror("epoll_ctl");
		exit(1);
	}
}

/* Payload bytes arrived: 1 when the connection is complete. */
static int
got_payload(struct slot *s, size_t n)
{
	if (s->payload == 0)
		s->tfb = now_s();
	s->payload += n;
	return echo_mode;
}

static void
step(struct worker *w, struct slot *s, uint32_t events)
{
	char scratch[4096];
	ssize_t n;
	int r;

	if (s->state == S_CONNECTING) {
		if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0)
			return;
		if (!direct) {
			if (send(s->fd, req, (size_t)reqlen, MSG_NOSIGNAL) !=
			    reqlen) {
				finish(w, s, F_CONNECT);
				return;
			}
			s->state = S_HEAD;
		} else {
			if (echo_mode && send(s->fd, "x", 1, MSG_NOSIGNAL) !=
			    1) {
				finish(w, s, F_CONNECT);
				return;
			}
			s->state = S_BODY;
		}
	}
	for (;;) {
		if (s->state == S_HEAD) {
			n = read(s->fd, s->buf + s->have, HEADCAP - s->have);
			if (n > 0) {
				s->have += (size_t)n;
				if ((r = cd_head_done(s->buf, s->have)) < 0) {
					finish(w, s, F_STATUS);
					return;
				}
				if (r == 0) {
					if (s->have == HEADCAP) {
						finish(w, s, F_STATUS);
						return;
					}
					continue;
				}
				s->state = S_BODY;
				if (echo_mode && send(s->fd, "x", 1,
				    MSG_NOSIGNAL) != 1) {
					finish(w, s, F_IO);
					return;
				}
				if (s->have > (size_t)r &&
				    got_payload(s, s->have - (size_t)r)) {
					finish(w, s, -1);
					return;
				}
				continue;
			}
		} else {
			n = read(s->fd, scratch, sizeof(scratch));
			if (n > 0) {
				if (got_payload(s, (size_t)n)) {
					finish(w, s, -1);
					return;
				}
				continue;
			}
		}
		if (n == 0) {
			if (s->state == S_BODY && s->payload > 0)
				finish(w, s, -1);
			else
				finish(w, s, s->state == S_HEAD ? F_STATUS :
				    F_SHORT);
			return;
		}
		if (errno == EAGAIN)
			return;
		finish(w, s, s->state == S_HEAD && s->have == 0 ? F_CONNECT :
		    F_IO);
		return;
	}
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[256];
	double t, lastcheck = 0;
	int i, n;

	if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("epoll_create1");
		exit(1);
	}
	for (i = 0; i < w->nslots; i++)
		start(w, &w->slots[i]);
	while ((t = now_s()) < tend) {
		/* Closed loop: each ended connection is replaced at once. */
		for (i = w->nredo; i > 0; i--)
			start(w, w->redo[--w->nredo]);
		n = epoll_wait(w->ep, ev, 256, 50);
		for (i = 0; i < n; i++) {
			struct slot *s = ev[i].data.ptr;

			if (s->fd >= 0)
				step(w, s, ev[i].events);
		}
		if (t - lastcheck < 0.2)
			continue;
		lastcheck = t;
		for (i = 0; i < w->nslots; i++) {
			struct slot *s = &w->slots[i];

			if (s->fd >= 0 && t - s->t0 > CONN_TIMEOUT)
				finish(w, s, F_TIMEOUT);
		}
	}
	for (i = 0; i < w->nslots; i++)
		if (w->slots[i].fd >= 0)
			close(w->slots[i].fd);
	close(w->ep);
	return NULL;
}

static void
merge(struct samples *into, const struct samples *from)
{
	for (size_t i = 0; i < from->n; i++)
		push(into, from->v[i]);
}

/*
 * CPU seconds (utime + stime + cutime + cstime) of every -P process; -1
 * when one of them is gone (its time went with it).
 */
static double
cpu_now(void)
{
	char path[64], buf[1024], *p;
	unsigned long long v[4];
	double sum = 0;
	long tck = sysconf(_SC_CLK_TCK);
	FILE *f;
	int i, ok;

	for (i = 0; i < ncpupids; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/stat", cpupids[i]);
		if ((f = fopen(path, "r")) == NULL)
			return -1;
		ok = fgets(buf, sizeof(buf), f) != NULL;
		fclose(f);
		/* After the last ')': comm may hold spaces and parens. */
		if (!ok || (p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
		    "%*u %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3]) !=
		    4)
			return -1;
		sum += (double)(v[0] + v[1] + v[2] + v[3]) / (double)tck;
	}
	return sum;
}

static void
sleep_until(double t)
{
	double d;
	struct timespec ts;

	while ((d = t - now_s()) > 0) {
		ts.tv_sec = (time_t)d;
		ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: cd_connrate [-m hello|echo] [-T THREADS] "
	    "[-w WARMUP] [-P PID,...] PROXY|direct TARGET CLIENTS SECONDS\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct worker wk[MAXTHREADS];
	struct samples ttfb = { 0 }, total = { 0 };
	unsigned long long done = 0, fails[F_N] = { 0 }, nf = 0;
	double secs, warm = -1, cpu0 = -1, cpu1 = -1;
	char *pl, *e;
	int ch, i, k, nclients, nthreads = 2;

	while ((ch = getopt(argc, argv, "m:T:w:P:")) != -1) {
		switch (ch) {
		case 'P':
			for (pl = optarg; *pl != '\0'; pl = e) {
				if (ncpupids == MAXPIDS)
					usage();
				cpupids[ncpupids++] = strtol(pl, &e, 10);
				if (e == pl || cpupids[ncpupids - 1] <= 0 ||
				    (*e != ',' && *e != '\0'))
					usage();
				if (*e == ',')
					e++;
			}
			break;
		case 'm':
			if (strcmp(optarg, "echo") == 0)
				echo_mode = 1;
			else if (strcmp(optarg, "hello") == 0)
				echo_mode = 0;
			else
				usage();
			break;
		case 'T':
			nthreads = atoi(optarg);
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
	if (argc != 4)
		usage();
	target = argv[1];
	nclients = atoi(argv[2]);
	secs = atof(argv[3]);
	if (warm < 0)
		warm = secs > 2 ? 1 : 0;
	if (nclients < 1 || nclients > MAXCLIENTS || secs <= 0 ||
	    nthreads < 1 || nthreads > MAXTHREADS)
		usage();
	if (nthreads > nclients)
		nthreads = nclients;
	direct = strcmp(argv[0], "direct") == 0;
	if (cd_resolve(direct ? target : argv[0], direct, &dst) != 0) {
		fprintf(stderr, "cd_connrate: cannot resolve %s\n",
		    direct ? target : argv[0]);
		return 1;
	}
	reqlen = cd_connect_req(req, sizeof(req), target);
	(void)cd_nofile_max();

	tstart = now_s();
	twarm = tstart + warm;
	tend = twarm + secs;
	for (i = 0, k = 0; i < nthreads; i++) {
		wk[i].nslots = nclients / nthreads +
		    (i < nclients % nthreads);
		if ((wk[i].slots = calloc((size_t)wk[i].nslots,
		    sizeof(*wk[i].slots))) == NULL ||
		    (wk[i].redo = calloc((size_t)wk[i].nslots,
		    sizeof(*wk[i].redo))) == NULL) {
			perror("calloc");
			return 1;
		}
		k += wk[i].nslots;
		pthread_create(&wk[i].th, NULL, run, &wk[i]);
	}
	if (ncpupids > 0) {
		sleep_until(twarm);
		cpu0 = cpu_now();
		sleep_until(tend);
		cpu1 = cpu_now();
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(wk[i].th, NULL);
		done += wk[i].done;
		for (k = 0; k < F_N; k++)
			fails[k] += wk[i].fails[k];
		merge(&ttfb, &wk[i].ttfb);
		merge(&total, &wk[i].total);
	}
	for (k = 0; k < F_N; k++)
		nf += fails[k];
	qsort(ttfb.v, ttfb.n, sizeof(double), cd_cmp_double);
	qsort(total.v, total.n, sizeof(double), cd_cmp_double);
	printf("connrate mode=%s clients=%d threads=%d seconds=%.2f "
	    "tunnels=%llu fails=%llu per_s=%.1f ttfb_p50_ms=%.3f "
	    "ttfb_p99_ms=%.3f p50_ms=%.3f p99_ms=%.3f", echo_mode ? "echo" :
	    "hello", nclients, nthreads, secs, done, nf,
	    (double)done / secs, cd_pct(ttfb.v, ttfb.n, 50) * 1e3,
	    cd_pct(ttfb.v, ttfb.n, 99) * 1e3, cd_pct(total.v, total.n, 50) *
	    1e3, cd_pct(total.v, total.n, 99) * 1e3);
	for (k = 0; k < F_N; k++)
		printf(" fail_%s=%llu", fname[k], fails[k]);
	if (ncpupids > 0 && cpu0 >= 0 && cpu1 >= 0 && done > 0)
		printf(" cpu_s=%.3f cpu_pct=%.1f cpu_us_per_tunnel=%.2f",
		    cpu1 - cpu0, (cpu1 - cpu0) / secs * 100,
		    (cpu1 - cpu0) / (double)done * 1e6);
	else if (ncpupids > 0)
		printf(" cpu_s=gone");
	printf("\n");
	free(ttfb.v);
	free(total.v);
	return 0;
}
