/*
 * bench_netjaild - run inside a throwaway network namespace (bench.sh).
 *
 *   bench_netjaild install [N]        time one transaction that installs
 *                                     the table with N direct endpoints
 *                                     (the first creates it, four more
 *                                     replace it), then the read-back
 *   bench_netjaild feed SOCK [N [BASE]] time N SET_UPDATE round trips to a
 *                                     running netjaild the way dohd sends
 *                                     them (dohd/feed.c: one long-lived
 *                                     control connection on a libuv loop,
 *                                     one element per update, from the
 *                                     request to netjaild's SET_ACK, which
 *                                     it sends after the kernel's ack)
 *   bench_netjaild setrt SOCK [N [BASE]] the same with a new connection per
 *                                     update (eg_ipc_call: connect, send,
 *                                     wait for the reply, close)
 *   bench_netjaild refresh SOCK [N [BASE]] as feed, but all N updates carry
 *                                     the same element (update BASE): dohd
 *                                     re-resolving one busy direct name;
 *                                     push it once first (feed SOCK 1 BASE)
 *                                     and every update is a refresh
 *
 * Update i adds 10.(200 + (BASE+i)/65536).x.y:443 (BASE defaults to 0), so
 * a second run with the same BASE refreshes elements that are there.
 *
 * Each prints one line of key=value figures on stdout for bench.sh, which
 * turns rounds of them into RESULT lines.  Nothing here judges a target:
 * tests/bench/report.py does that against tests/bench/targets.txt.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <uv.h>

#include "cfgs.h"
#include "ctl.h"
#include "install.h"
#include "ipc.h"
#include "nl.h"
#include "rules.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The configuration netjaild would read: the "both" test configuration
 * plus n direct endpoints 10.a.b.c:5432 (one element each), so that
 * rules_build fills the set exactly as it does for a real config file.
 */
static struct eg_config *
config_with_directs(int n)
{
	struct eg_config *cfg = nj_test_config("both");
	struct eg_direct *d;
	int i;

	if (cfg == NULL)
		return NULL;
	d = realloc(cfg->jail.direct, (cfg->jail.ndirect + (size_t)n) *
	    sizeof(*d));
	if (d == NULL) {
		nj_test_config_free(cfg);
		return NULL;
	}
	cfg->jail.direct = d;
	for (i = 0; i < n; i++) {
		struct eg_direct *e = &d[cfg->jail.ndirect++];

		memset(e, 0, sizeof(*e));
		e->ep.port = 5432;
		e->ep.cidr.ip.family = AF_INET;
		e->ep.cidr.ip.addr[0] = 10;
		e->ep.cidr.ip.addr[1] = (uint8_t)(i >> 16);
		e->ep.cidr.ip.addr[2] = (uint8_t)(i >> 8);
		e->ep.cidr.ip.addr[3] = (uint8_t)i;
		e->ep.cidr.plen = 32;
	}
	return cfg;
}

/* Run in a fresh network namespace: the first install creates the table. */
static int
bench_install(int n)
{
	struct eg_config *cfg = config_with_directs(n);
	struct nj_ruleset *rs = NULL;
	struct nj_nl nl;
	struct nj_readback rb;
	char err[512];
	double t0, t[5], build_ms, rb_ms;
	int k, rc = 1;

	if (cfg == NULL) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	t0 = now_ms();
	if ((rs = rules_build(cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	build_ms = now_ms() - t0;
	if (nl_open(&nl, NETLINK_NETFILTER, err, sizeof(err)) == -1) {
		fprintf(stderr, "netlink: %s\n", err);
		goto out;
	}
	/* the first install creates, the rest replace: both are timed */
	for (k = 0; k < 5; k++) {
		t0 = now_ms();
		if (install_table(&nl, rs, err, sizeof(err)) < 0) {
			fprintf(stderr, "install: %s\n", err);
			goto close;
		}
		t[k] = now_ms() - t0;
	}
	t0 = now_ms();
	if (install_readback(&nl, rs, &rb) < 0 || !rb.whole) {
		fprintf(stderr, "read-back: %s\n", rb.why);
		goto close;
	}
	rb_ms = now_ms() - t0;
	qsort(t + 1, 4, sizeof(double), cmp_double);
	printf("install n=%d rules=%zu elems=%zu build_ms=%.3f create_ms=%.3f "
	    "replace_ms=%.3f readback_ms=%.3f\n", n, rs->nrules,
	    rb.set_elems[NJ_SET_DIRECT4], build_ms, t[0], (t[2] + t[3]) / 2,
	    rb_ms);
	install_readback_free(&rb);
	rc = 0;
close:
	nl_close(&nl);
out:
	rules_free(rs);
	nj_test_config_free(cfg);
	return rc;
}

/* One element per update, as dohd sends it for a freshly resolved name. */
static void
fill_update(uint8_t *req, size_t len, int i)
{
	struct eg_msg_set_update *u = (void *)req;
	struct eg_set_elem *e = (void *)(req + sizeof(*u));

	memset(req, 0, len);
	u->set = EG_SET_DIRECT;
	u->op = EG_SET_ADD;
	u->count = 1;
	e->family = AF_INET;
	e->port = 443;
	e->timeout_ms = 60000;
	e->addr[0] = 10;
	e->addr[1] = (uint8_t)(200 + (i >> 16));
	e->addr[2] = (uint8_t)(i >> 8);
	e->addr[3] = (uint8_t)i;
}

struct feed {
	struct eg_ctl_client *cl;
	uv_timer_t wait;
	double *t, t0;
	int n, i, base, failed, waited;
	bool same;			/* refresh: one element N times */
	const char *what;
};

static void feed_next(struct feed *f);

static void
feed_stop(struct feed *f)
{
	uv_timer_stop(&f->wait);
	uv_close((uv_handle_t *)&f->wait, NULL);
	eg_ctl_client_free(f->cl);
	f->cl = NULL;
}

static void
on_feed_ack(int status, const struct eg_ipc_msg *msg, void *arg)
{
	struct feed *f = arg;
	const struct eg_msg_result *r;

	if (status != 0 || msg == NULL || msg->hdr.type != EG_MSG_SET_ACK ||
	    (r = eg_ipc_result(msg, NULL)) == NULL || r->code != 0) {
		fprintf(stderr, "set update %d failed (status %d)\n", f->i,
		    status);
		f->failed = 1;
		feed_stop(f);
		return;
	}
	f->t[f->i++] = now_ms() - f->t0;
	if (f->i == f->n) {
		feed_stop(f);
		return;
	}
	feed_next(f);
}

static void
feed_next(struct feed *f)
{
	uint8_t req[sizeof(struct eg_msg_set_update) +
	    sizeof(struct eg_set_elem)];

	fill_update(req, sizeof(req), f->same ? f->base : f->base + f->i);
	f->t0 = now_ms();
	if (eg_ctl_request(f->cl, EG_MSG_SET_UPDATE, req, sizeof(req), 1000,
	    on_feed_ack, f) < 0) {
		fprintf(stderr, "set update %d not sent\n", f->i);
		f->failed = 1;
		feed_stop(f);
	}
}

/* Start once the client is connected (it connects in the background). */
static void
on_feed_wait(uv_timer_t *h)
{
	struct feed *f = h->data;

	if (eg_ctl_client_connected(f->cl)) {
		uv_timer_stop(&f->wait);
		feed_next(f);
	} else if (++f->waited > 500) {
		fprintf(stderr, "no connection to netjaild\n");
		f->failed = 1;
		feed_stop(f);
	}
}

static int
bench_feed(const char *sock, int n, int base, bool same)
{
	uv_loop_t *loop = uv_default_loop();
	struct feed f;

	memset(&f, 0, sizeof(f));
	f.n = n;
	f.base = base;
	f.same = same;
	f.what = same ? "refresh" : "feed";
	if ((f.t = calloc((size_t)n, sizeof(*f.t))) == NULL)
		return 1;
	if ((f.cl = eg_ctl_client_new(loop, sock)) == NULL) {
		fprintf(stderr, "eg_ctl_client_new failed\n");
		free(f.t);
		return 1;
	}
	uv_timer_init(loop, &f.wait);
	f.wait.data = &f;
	uv_timer_start(&f.wait, on_feed_wait, 0, 10);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
	if (!f.failed) {
		qsort(f.t, (size_t)n, sizeof(double), cmp_double);
		printf("%s n=%d median_ms=%.4f p99_ms=%.4f\n", f.what, n,
		    f.t[n / 2], f.t[n * 99 / 100]);
	}
	free(f.t);
	return f.failed;
}

static int
bench_setrt(const char *sock, int n, int base)
{
	uint8_t buf[EG_IPC_MAX_MSG], req[sizeof(struct eg_msg_set_update) +
	    sizeof(struct eg_set_elem)];
	struct eg_ipc_msg reply;
	const struct eg_msg_result *r;
	double *t, t0;
	int i;

	if ((t = calloc((size_t)n, sizeof(*t))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		fill_update(req, sizeof(req), base + i);
		t0 = now_ms();
		if (eg_ipc_call(sock, EG_MSG_SET_UPDATE, req, sizeof(req), buf,
		    sizeof(buf), &reply, 1000) < 0 ||
		    (r = eg_ipc_result(&reply, NULL)) == NULL || r->code != 0) {
			fprintf(stderr, "set update %d failed\n", i);
			free(t);
			return 1;
		}
		t[i] = now_ms() - t0;
	}
	qsort(t, (size_t)n, sizeof(double), cmp_double);
	printf("setrt n=%d median_ms=%.4f p99_ms=%.4f\n", n, t[n / 2],
	    t[n * 99 / 100]);
	free(t);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "install") == 0)
		return bench_install(argc > 2 ? atoi(argv[2]) : 10000);
	if (argc >= 3 && strcmp(argv[1], "feed") == 0)
		return bench_feed(argv[2], argc > 3 ? atoi(argv[3]) : 1000,
		    argc > 4 ? atoi(argv[4]) : 0, false);
	if (argc >= 3 && strcmp(argv[1], "refresh") == 0)
		return bench_feed(argv[2], argc > 3 ? atoi(argv[3]) : 200,
		    argc > 4 ? atoi(argv[4]) : 0, true);
	if (argc >= 3 && strcmp(argv[1], "setrt") == 0)
		return bench_setrt(argv[2], argc > 3 ? atoi(argv[3]) : 1000,
		    argc > 4 ? atoi(argv[4]) : 0);
	fprintf(stderr, "usage: bench_netjaild install [N] | feed SOCK [N [BASE]] "
	    "| setrt SOCK [N [BASE]] | refresh SOCK [N [BASE]]\n");
	return 2;
}
