/*
 * test_steer.c - registration changes share one table replacement, and
 * each is answered only after it: steer.c is included, nj_apply (the
 * kernel) and nj_wl_ack (the control socket) are recorders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../../netjaild/steer.c"

#include "test_list.h"

static int applies, apply_rc;
static struct { struct eg_ctl_conn *c; uint32_t id; int code;
	int applies; } acks[16];
static size_t nacks;
static struct eg_workload one_wl;
static struct eg_config cfg;
static struct nj_ruleset rs;

int
nj_apply(struct nj_state *st, const struct eg_config *c, char *err,
    size_t errlen)
{
	applies++;
	if (apply_rc)
		snprintf(err, errlen, "kernel says no");
	return apply_rc;
}

void
nj_wl_ack(struct eg_ctl_conn *c, uint32_t id, int code)
{
	acks[nacks].c = c;
	acks[nacks].id = id;
	acks[nacks].code = code;
	acks[nacks++].applies = applies;
}

#define CONN(n)	((struct eg_ctl_conn *)(uintptr_t)(0x1000 * (n)))

static void
setup_state(struct nj_state *st, uv_loop_t *loop)
{
	memset(st, 0, sizeof(*st));
	memset(&cfg, 0, sizeof(cfg));
	cfg.workloads = &one_wl;
	cfg.nworkloads = 1;
	st->cfg = &cfg;
	st->rs = &rs;
	st->loop = loop;
	applies = apply_rc = 0;
	nacks = 0;
	nj_wl_steer_init(st);
}

static void
test_steer_batches_and_answers_after(void **state)
{
	uv_loop_t loop;
	struct nj_state st;

	(void)state;
	uv_loop_init(&loop);
	setup_state(&st, &loop);
	/* nothing pending: an unchanged registration is answered at once */
	nj_wl_steer_later(&st, CONN(1), 1, false);
	assert_int_equal(nacks, 1);
	assert_int_equal(applies, 0);
	/* three changes from two daemons, a connection that goes */
	nj_wl_steer_later(&st, CONN(1), 2, true);
	nj_wl_steer_later(&st, CONN(2), 3, true);
	nj_wl_steer_later(&st, CONN(3), 4, true);
	/* unchanged while a change waits: waits too */
	nj_wl_steer_later(&st, CONN(2), 5, false);
	nj_wl_steer_forget(&st, CONN(3));
	nj_wl_steer_later(&st, NULL, 0, true);
	assert_int_equal(nacks, 1);
	assert_int_equal(applies, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	/* one table for all of them, every answer after it */
	assert_int_equal(applies, 1);
	assert_int_equal(nacks, 4);
	assert_int_equal(acks[1].applies, 1);
	assert_int_equal(acks[3].applies, 1);
	assert_true(acks[1].c == CONN(1) && acks[1].id == 2);
	assert_true(acks[3].c == CONN(2) && acks[3].id == 5);
	assert_int_equal(acks[2].code, 0);
	/* the kernel refuses: the daemons hear it */
	apply_rc = -ENOBUFS;
	nj_wl_steer_later(&st, CONN(1), 6, true);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(applies, 2);
	assert_int_equal(nacks, 5);
	assert_int_equal(acks[4].code, ENOBUFS);
	nj_wl_steer_stop(&st);
	uv_close((uv_handle_t *)&st.steer_timer, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(STEER_TESTS);

	eg_log_init("test_steer", EG_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
