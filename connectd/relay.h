/*
 * relay.h - what the relay's two halves share; private to them.
 *
 *   relay.c         the tunnel's life, the buffered way, the judge, the
 *                   held EOF
 *   relay_splice.c  the switch to splice(2) and the spliced way
 */
#ifndef CD_RELAY_H
#define CD_RELAY_H

#include "cd.h"

struct sdir {				/* one direction when spliced */
	int from, to;			/* 0 client, 1 upstream */
	int pipe[2];			/* -1 while nothing is in flight */
	size_t inpipe;
	bool eof;			/* the source ended */
	bool shut;			/* and the destination was shut */
};

struct cd_relay {
	uv_loop_t *loop;
	struct cd_metrics *m;		/* the daemon's counters */
	const struct cd_relay_cbs *cbs;	/* the connection's part */
	void *arg;
	uv_tcp_t *cli;
	struct ustream *up;
	uv_timer_t idle;
	uv_timer_t hold;		/* the client's EOF, held back */
	uv_timer_t jtimer;		/* bytes held by the judge */
	struct judge *judge;		/* NULL: nothing (more) to judge */
	bool observe;			/* report mode: judge, never cut */
	uint64_t judge_ms;
	uv_shutdown_t sreq;
	uint64_t idle_ms, last;
	uint64_t fin_hold_ms;		/* 0: pass the client's EOF at once */
	uint64_t up_last;		/* the upstream's last bytes */
	uint64_t down_at_up;		/* bytes_down when the client last sent */
	bool fin_held;			/* the client's EOF waits on hold */
	uint64_t bytes_up, bytes_down;
	bool cli_eof, up_eof;		/* read side ended */
	bool cli_shut;			/* we shut the client's write side */
	bool cli_reading;
	bool done;
	/* spliced */
	bool spliced;
	int nopen;			/* handles still to close */
	int fd[2];			/* our dups: client, upstream */
	int pev[2];			/* events polled on each */
	uv_poll_t poll[2];
	struct sdir dir[2];		/* 0 client->up, 1 up->client */
};

/* relay.c */
void relay_end(struct cd_relay *r, const char *err);
bool relay_answer_pending(const struct cd_relay *r);
void relay_fin_hold(struct cd_relay *r);
void relay_fin_release(struct cd_relay *r);
size_t relay_cli_queued(struct cd_relay *r);
void relay_cli_read_stop(struct cd_relay *r);

/* relay_splice.c */
/* Switch to splice when the tunnel qualifies (see relay_splice.c). */
void relay_maybe_splice(struct cd_relay *r);
/* Spliced: pass the client's held EOF on to the upstream. */
void relay_splice_fin(struct cd_relay *r);
/* At the end: close the dups, give the pipes back. */
void relay_splice_free(struct cd_relay *r);

#endif
