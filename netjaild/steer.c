/*
 * steer.c - the workload listeners changed (a daemon registered or
 * unregistered one, or its control connection went): the table is
 * rebuilt with the new ports and replaced in one batch, as on a reload,
 * so a workload's traffic moves from one listener to the next (or to the
 * "workload unregistered" drop) with no moment in between.  Its own file
 * so the control-socket tests can stand in for it.
 *
 * A replacement costs what the table costs (measured: 180 ms with 100
 * uid: workloads, WORKLOADS.md), and connectd and dohd register every
 * workload's listeners at once when they start, without waiting for
 * each answer.  So the changes of NJ_STEER_BATCH_MS are taken together:
 * the first arms a timer, the table is replaced once when it fires, and
 * only then is each of them answered: a daemon hears "yes" when the
 * kernel steers to its port, never before (an unregistered port another
 * workload registers next must not meet the old steering).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netjaild.h"

#define NJ_STEER_BATCH_MS	20

static void
steer_flush(struct nj_state *st)
{
	struct nj_steer_ack *a;
	size_t i, n;
	int rc;

	st->steer_armed = false;
	rc = nj_wl_steer(st);
	/* the answers of this batch; later ones arm the timer again */
	a = st->steer_acks;
	n = st->nsteer_acks;
	st->steer_acks = NULL;
	st->nsteer_acks = st->steer_cap = 0;
	for (i = 0; i < n; i++)
		nj_wl_ack(a[i].conn, a[i].id, rc < 0 ? -rc : 0);
	free(a);
}

static void
on_steer(uv_timer_t *t)
{
	steer_flush(t->data);
}

void
nj_wl_steer_init(struct nj_state *st)
{
	uv_timer_init(st->loop, &st->steer_timer);
	st->steer_timer.data = st;
	st->steer_init = true;
}

void
nj_wl_steer_stop(struct nj_state *st)
{
	if (st->steer_init)
		uv_timer_stop(&st->steer_timer);
	free(st->steer_acks);
	st->steer_acks = NULL;
	st->nsteer_acks = st->steer_cap = 0;
}

void
nj_wl_steer_later(struct nj_state *st, struct eg_ctl_conn *c, uint32_t id,
    bool changed)
{
	struct nj_steer_ack *v;

	/* nothing waits for the kernel: answer now */
	if (!changed && !st->steer_armed) {
		if (c != NULL)
			nj_wl_ack(c, id, 0);
		return;
	}
	if (c != NULL) {
		if (st->nsteer_acks == st->steer_cap) {
			size_t cap = st->steer_cap ? st->steer_cap * 2 : 16;

			if ((v = reallocarray(st->steer_acks, cap,
			    sizeof(*v))) == NULL) {
				/* no room to wait: steer now, then answer */
				st->steer_armed = false;
				if (st->steer_init)
					uv_timer_stop(&st->steer_timer);
				nj_wl_ack(c, id, nj_wl_steer(st) < 0 ? EIO : 0);
				return;
			}
			st->steer_acks = v;
			st->steer_cap = cap;
		}
		st->steer_acks[st->nsteer_acks].conn = c;
		st->steer_acks[st->nsteer_acks++].id = id;
	}
	if (!st->steer_armed) {
		if (!st->steer_init) {
			/* no loop (never in the daemon): at once */
			steer_flush(st);
			return;
		}
		st->steer_armed = true;
		uv_timer_start(&st->steer_timer, on_steer, NJ_STEER_BATCH_MS,
		    0);
	}
}

void
nj_wl_steer_forget(struct nj_state *st, const struct eg_ctl_conn *c)
{
	size_t i = 0;

	while (i < st->nsteer_acks)
		if (st->steer_acks[i].conn == c)
			st->steer_acks[i] = st->steer_acks[--st->nsteer_acks];
		else
			i++;
}

int
nj_wl_steer(struct nj_state *st)
{
	char err[256];
	int rc;

	/* no workloads: the registrations were all refused */
	if (st->cfg == NULL || st->cfg->nworkloads == 0 || st->rs == NULL)
		return 0;
	if ((rc = nj_apply(st, st->cfg, err, sizeof(err))) < 0)
		eg_log(EG_LOG_ERR, "wl_steer_failed", "error=\"%s\" "
		    "effect=\"the previous steering stays; listeners that "
		    "went are guarded by the listener mark\"", err);
	else
		eg_log(EG_LOG_INFO, "wl_steered", "generation=%u "
		    "registrations=%zu", st->generation, st->wlregs.n);
	return rc < 0 ? rc : 0;
}
