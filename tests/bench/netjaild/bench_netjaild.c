/*
 * bench_netjaild - run inside a throwaway network namespace (bench.sh).
 *
 *   bench_netjaild install [N]        time one transaction that installs
 *                                     the table with N direct endpoints
 *   bench_netjaild setrt SOCK [N]     time N SET_UPDATE round trips to a
 *                                     running netjaild (as dohd's uid)
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "cfgs.h"
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

static int
bench_install(int n)
{
	struct eg_config *cfg = nj_test_config("both");
	struct nj_ruleset *rs;
	struct nj_nl nl;
	struct nj_readback rb;
	char err[512];
	double t0, t[5];
	int i, k, rc = 1;

	if ((rs = rules_build(cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct nj_elem e;
		uint8_t a[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8),
		    (uint8_t)i };

		rules_elem_addr(&e, AF_INET, a, 32, 5432);
		rules_set_add(&rs->sets[NJ_SET_DIRECT4], &e);
	}
	if (nl_open(&nl, NETLINK_NETFILTER, err, sizeof(err)) == -1)
		goto out;
	/* the first install creates, the rest replace: both are timed */
	for (k = 0; k < 5; k++) {
		t0 = now_ms();
		if (install_table(&nl, rs, err, sizeof(err)) < 0) {
			fprintf(stderr, "install: %s\n", err);
			goto out;
		}
		t[k] = now_ms() - t0;
	}
	t0 = now_ms();
	if (install_readback(&nl, rs, &rb) < 0 || !rb.whole) {
		fprintf(stderr, "read-back: %s\n", rb.why);
		goto out;
	}
	printf("netjaild install: %d direct endpoints, %zu rules, one "
	    "transaction: first %.1f ms, replace median %.1f ms "
	    "(target < 200 ms)\n", n, rs->nrules, t[0],
	    (qsort(t + 1, 4, sizeof(double), cmp_double), t[2]));
	printf("netjaild read-back: %zu elements verified in %.1f ms\n",
	    rb.set_elems[NJ_SET_DIRECT4], now_ms() - t0);
	install_readback_free(&rb);
	rc = t[0] < 200 ? 0 : 1;
	nl_close(&nl);
out:
	rules_free(rs);
	nj_test_config_free(cfg);
	return rc;
}

static int
bench_setrt(const char *sock, int n)
{
	uint8_t buf[EG_IPC_MAX_MSG], req[sizeof(struct eg_msg_set_update) +
	    sizeof(struct eg_set_elem)];
	struct eg_msg_set_update *u = (void *)req;
	struct eg_set_elem *e = (void *)(req + sizeof(*u));
	struct eg_ipc_msg reply;
	const struct eg_msg_result *r;
	double *t, t0;
	int i;

	if ((t = calloc((size_t)n, sizeof(*t))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		memset(req, 0, sizeof(req));
		u->set = EG_SET_DIRECT;
		u->op = EG_SET_ADD;
		u->count = 1;
		e->family = AF_INET;
		e->port = 443;
		e->timeout_ms = 60000;
		e->addr[0] = 10;
		e->addr[1] = 200;
		e->addr[2] = (uint8_t)(i >> 8);
		e->addr[3] = (uint8_t)i;
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
	printf("netjaild set update round trip (connect, add, kernel ack, "
	    "reply): n=%d median %.3f ms p99 %.3f ms\n", n, t[n / 2],
	    t[n * 99 / 100]);
	free(t);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "install") == 0)
		return bench_install(argc > 2 ? atoi(argv[2]) : 10000);
	if (argc >= 3 && strcmp(argv[1], "setrt") == 0)
		return bench_setrt(argv[2], argc > 3 ? atoi(argv[3]) : 1000);
	fprintf(stderr, "usage: bench_netjaild install [N] | setrt SOCK [N]\n");
	return 2;
}
