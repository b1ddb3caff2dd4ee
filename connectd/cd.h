/*
 * cd.h - connectd's internal interfaces, shared by its modules.
 *
 *   connectd.c  start-up, signals, reload, drain
 *   control.c   the control socket: admin's status, reload, explain
 *   gen.c       one configuration generation: config, policy, TLS context
 *   listen.c    the listening sockets (explicit and transparent)
 *   wl.c        each [workload]'s own listeners, registered with netjaild
 *   conn.c      one connection: head, decision, dial, refusal, access log
 *   decide.c    policy decision -> what connectd does (pure)
 *   chain.c     the chain dialer
 *   resolve.c   names through dohd (or the host's resolver), TTL cached
 *   ustream.c   upstream byte stream: TCP plus nested TLS over memory BIOs
 *   relay.c     both directions, backpressure, half-close, idle timeout
 *   relay_splice.c  the spliced way (relay.h: the relay's own interface)
 *   probe.c     per-hop probes and readiness
 *   health.c    /live /ready /health /metrics
 *   peerstat.c  the peers' status text as metrics (pure)
 */
#ifndef CD_CD_H
#define CD_CD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>
#include <openssl/ssl.h>

#include "config.h"
#include "ctl.h"
#include "log.h"
#include "peerstat.h"
#include "policy.h"
#include "wlpolicy.h"
#include "workload.h"

#define CD_MAX_HOPS	16
#define CD_MAX_TLS	CD_MAX_HOPS
#define CD_WQ_HIGH	(256 * 1024)	/* stop reading the other side */
#define CD_WQ_LOW	(64 * 1024)	/* and start again */
#define CD_READ_BUF	(64 * 1024)
#define CD_ERR_MAX	200
#define CD_MAX_FIELDS	100		/* header fields in a request head */

/* ---- gen.c: one configuration generation, shared by reference. */
struct cd_gen {
	int refs;
	unsigned id;
	struct eg_config *cfg;
	struct eg_wlpol *wp;	/* one engine per workload (wlpolicy.h) */
	const struct eg_policy *pol;	/* [policy]'s, index 0 of wp */
	SSL_CTX *ssl;		/* client context for https:// hops */
};

struct cd_gen *cd_gen_new(struct eg_config *cfg, char *err, size_t errlen);
struct cd_gen *cd_gen_ref(struct cd_gen *g);
void cd_gen_unref(struct cd_gen *g);

/* ---- decide.c */
enum cd_mode { CD_MODE_EXPLICIT, CD_MODE_TRANSPARENT };

struct cd_verdict {
	bool allow;		/* forward (possibly only because of report mode) */
	bool direct;		/* dial the target directly, not through the chain */
	bool reported;		/* report mode let a denial through */
	int status;		/* refusal status when !allow */
	const char *reason;	/* short token for X-Egressjail-Reason and logs */
	char rule[128];		/* file:line of the matching rule, or "-" */
};

/* Decide for host:port as the client named it.  Never allows on error. */
void cd_decide(const struct eg_policy *pol, enum cd_mode mode,
    const char *host, uint16_t port, struct cd_verdict *v);
const char *cd_mode_str(enum cd_mode m);

/* ---- ask.c: mode = ask, the broker to the decider */
struct cd;
struct cd_ask_wait;
/* allow, and the reason for the access log ("ask-once", "ask-deny"...) */
typedef void (*cd_ask_cb)(void *arg, bool allow, const char *reason);
/* Before the drop: bind [policy] ask_socket when any policy asks. */
void cd_ask_start(struct cd *cd, const struct eg_config *cfg);
/* A denial a decider may overturn (the workload's mode = ask, no rule
 * for the name). */
bool cd_ask_wanted(enum eg_policy_mode mode, const struct cd_verdict *v);
/*
 * Hold host:port of workload wl for the decider.  Returns the wait (cb
 * runs once, unless cancelled first) or NULL when decided at once: *now
 * NULL is allowed (a grant), else the reason of the denial.
 */
struct cd_ask_wait *cd_ask(const struct eg_config *cfg, const char *wl,
    const char *host, uint16_t port, const uv_tcp_t *cli, cd_ask_cb cb,
    void *arg, const char **now);
void cd_ask_cancel(struct cd_ask_wait *w);
size_t cd_ask_pending(void);
/* dohd's EG_MSG_ASK_REQ: answered with EG_MSG_ASK_REP, now or later. */
struct eg_ctl_conn;
struct eg_ipc_msg;
void cd_ask_dns(struct cd *cd, struct eg_ctl_conn *c,
    const struct eg_ipc_msg *m);

/* ---- metrics (health.c renders them) */
enum cd_dec { CD_DEC_ALLOW, CD_DEC_DENY, CD_DEC_REPORT, CD_DEC_ERROR,
    CD_DEC__MAX };

struct cd_hopstat {
	bool tried;
	bool ok;
	uint64_t latency_ms;	/* of this hop's stage */
	uint64_t last_ok_ms;	/* eg_now_ms() of the last success, 0 never */
	uint64_t last_ms;	/* of the last probe result */
	char err[CD_ERR_MAX];
	uint64_t hist[12];	/* latency histogram buckets, see health.c */
	uint64_t hist_sum_ms;
	uint64_t hist_count;
	uint64_t chain_errors;	/* connections that failed at this hop */
};

struct cd_metrics {
	uint64_t conns[2][CD_DEC__MAX];		/* [mode][decision] */
	uint64_t bytes_up, bytes_down;
	uint64_t active;		/* client connections */
	uint64_t tunnels;		/* of those, relaying */
	uint64_t refused_busy;
	uint64_t target_errors;	/* the last hop could not reach the target */
	uint64_t spliced;		/* tunnels switched to splice(2) */
	uint64_t tunnel_cuts;		/* cut by the tunnel judge */
	uint64_t log_lines;		/* access-log lines written */
	uint64_t log_dropped;		/* and dropped (writer stalled) */
};

/* ---- daemon state */
struct cd_wl;
struct cd_listener {
	uv_tcp_t h;
	struct cd *cd;
	struct cd_wl *wl;	/* the workload it names (wl.c) */
	enum cd_mode mode;
	struct sockaddr_storage addr;
	bool open;
	bool nodelay;		/* set on the listener: accepted sockets inherit it */
	bool read_now;		/* try the head's read right after accept */
};

/*
 * ---- wl.c: a workload and its own listeners (docs/WORKLOADS.md: the
 * listener a connection arrives on names its workload).  [policy]'s is
 * cd->wl_default, whose listeners are the configured ones.
 */
#define CD_WL_SPARE	16	/* workloads reloads may add (the pool) */
#define CD_WL_NLIS	4	/* transparent, proxy x IPv4, IPv6 */

enum cd_wlreg {
	CD_WLR_NONE,		/* not registered (no netjaild, not yet) */
	CD_WLR_SENT,		/* asked, no answer yet */
	CD_WLR_OK,		/* netjaild steers to it */
	CD_WLR_REFUSED,		/* netjaild said no: its traffic is dropped */
};

struct cd_wl_lis {
	struct cd_listener l;
	uint8_t kind;		/* EG_WLL_TRANSPARENT, EG_WLL_PROXY */
	int family;
	uint16_t port;
	bool open;
	enum cd_wlreg reg;
	uint32_t seq;		/* of the request in flight */
	uint64_t refused_at;	/* eg_now_ms() of the last refusal */
	char err[64];		/* why refused */
};

struct cd_wl {
	struct cd_wl *next;
	struct cd *cd;
	char name[EG_WL_NAME_MAX + 1];
	int refs;		/* the list, connections, handles, requests */
	bool gone;		/* not in the config any more */
	bool refused;		/* no listener: no marked socket for it */
	size_t nlis;
	struct cd_wl_lis lis[CD_WL_NLIS];
	uint64_t conns[CD_DEC__MAX];	/* connections by decision */
	uint64_t conflicts;	/* refused: the address said another */
	unsigned gen_id;	/* idx is the workload's index in gen_id */
	size_t idx;
};

/* Unbound sockets, marked while connectd still could (wl.c). */
struct cd_wlpool {
	int *fd;
	size_t n;
};

struct cd {
	uv_loop_t *loop;
	struct cd_gen *gen;		/* current */
	const char *config_path;
	struct cd_listener lis[16];
	size_t nlis;
	int lfd[16];			/* opened before the drop */
	enum cd_mode lmode[16];
	char *lspec[16];
	size_t nlfd;
	int health_fd;
	uv_tcp_t health;
	struct cd_wl wl_default;	/* [policy]: the configured listeners */
	struct cd_wl *wls;		/* the [workload]s, config order */
	struct cd_wlpool wlpool[2][2];	/* [proxy?][IPv6?] */
	bool wl_hooked;			/* netjaild's on_connect set */
	bool listeners_up;
	bool draining;
	struct eg_ctl_client *dohd;	/* NULL without [dohd] */
	struct eg_ctl_client *netjaild;	/* NULL without [jail] */
	struct sysres *sysres;		/* the host's resolver, without [dohd] */
	struct eg_ctl_server *ctl;
	/* IPC readiness of the peers, from STATUS_REQ polls */
	bool dohd_ready, netjaild_ready;
	uint64_t dohd_at, netjaild_at;
	char dohd_err[160], netjaild_err[160];
	/* netjaild's jailed links that are up and set up ("-": none) */
	char netjaild_ifaces[256];
	/* the last poll was answered, and the numeric part of its text */
	bool dohd_up, netjaild_up;
	struct ps_stats dohd_stats, netjaild_stats;
	/* probes: hops[0..nhops-1], then the canary at index nhops */
	struct cd_hopstat hop[CD_MAX_HOPS + 1];
	size_t nhopstat;
	bool chain_ever_ok;		/* a full-chain probe passed once */
	bool ready_sent;		/* READY=1 went to the service manager */
	bool probe_running;
	uint64_t probe_retry_ms;	/* after failures: 0.5 s doubling */
	uv_timer_t probe_timer, status_timer;
	struct cd_metrics m;
	/* live connections, for drain */
	struct cd_conn *conns;
	uv_timer_t drain_timer;
	uint64_t started_ms;
};

extern struct cd *cd_main;

/* ---- ustream.c */
struct ustream;

struct ustream_cbs {
	void (*on_read)(struct ustream *, const char *, size_t, void *);
	void (*on_eof)(struct ustream *, void *);
	void (*on_error)(struct ustream *, const char *why, void *);
	void (*on_drain)(struct ustream *, void *);	/* queue below low mark */
};

struct ustream *us_new(uv_loop_t *loop);
void us_set_cbs(struct ustream *us, const struct ustream_cbs *cbs, void *arg);
typedef void (*us_done_cb)(struct ustream *, int status, const char *why,
    void *arg);
int us_connect(struct ustream *us, const struct sockaddr *sa, us_done_cb cb,
    void *arg);
/* Wrap everything from now on in one more TLS layer; cb at handshake end. */
int us_start_tls(struct ustream *us, SSL_CTX *ctx, const char *host,
    us_done_cb cb, void *arg);
int us_write(struct ustream *us, const void *p, size_t n);
int us_shutdown(struct ustream *us);
void us_read_start(struct ustream *us);
void us_read_stop(struct ustream *us);
size_t us_queued(const struct ustream *us);
int us_ntls(const struct ustream *us);
int us_fileno(const struct ustream *us);	/* the TCP socket, -1 none */
/* Close; the stream is freed after its handles closed. */
void us_close(struct ustream *us);

/* ---- chain.c */
struct cd_dial;

struct cd_dial_result {
	int status;		/* 0 ok; else the HTTP status to refuse with */
	int hop;		/* 1-based hop that failed, 0 none/target */
	char why[CD_ERR_MAX];
	char path[256];		/* the hops used, for the access log */
	struct ustream *us;	/* on success: the tunnel, callbacks unset */
	char *extra;		/* bytes that followed the last CONNECT answer */
	size_t nextra;
};

typedef void (*cd_dial_cb)(const struct cd_dial_result *r, void *arg);
/* Per stage: stage 1..nhops is hop k reached, nhops+1 the target. */
typedef void (*cd_stage_cb)(int stage, int ok, uint64_t ms, const char *why,
    void *arg);

/*
 * Dial host:port through the chain of gen (or directly when direct or
 * exit = direct); pol, one of gen's engines (the connection's workload's,
 * wl by name), checks the target's addresses, and dohd resolves the
 * target by wl's rules.  upto > 0 stops after hop upto (probes),
 * with a tunnel through hops 1..upto.  The callback runs exactly once,
 * unless the dial was cancelled first.
 */
struct cd_dial *cd_dial_start(struct cd *cd, struct cd_gen *gen,
    const struct eg_policy *pol, const char *wl, const char *host,
    uint16_t port, bool direct, int upto, cd_dial_cb cb, cd_stage_cb stage,
    void *arg);
void cd_dial_cancel(struct cd_dial *d);

/* ---- resolve.c */
/* Resolve a name through dohd; only connectd on its own, without a
 * [dohd] section, asks the host's resolver (sysres.c). */
typedef void (*cd_resolve_cb)(int status, const struct eg_ip *addrs,
    size_t n, const char *why, void *arg);
/* wl: the workload the name is for (dohd answers by its rules and they
 * are cached apart); NULL or "default" for [policy]'s and the hops. */
void cd_resolve(struct cd *cd, const char *name, const char *wl,
    uint64_t timeout_ms, cd_resolve_cb cb, void *arg);
/* A and AAAA both, the union (the resolve check); any error fails it. */
void cd_resolve_all(struct cd *cd, const char *name, const char *wl,
    uint64_t timeout_ms, cd_resolve_cb cb, void *arg);

/* ---- listen.c: the listening sockets */
int cd_listen_start(struct cd *cd, char *err, size_t errlen);
void cd_listen_stop(struct cd *cd);

/* ---- wl.c */
/* Before the drop: the pool of marked sockets for the workloads of cfg
 * and CD_WL_SPARE more. */
void cd_wl_pool_open(struct cd *cd, const struct eg_config *cfg);
/* Make the workload listeners match cfg: open and register new ones,
 * unregister and close those of workloads cfg no longer has. */
void cd_wl_sync(struct cd *cd, const struct eg_config *cfg);
/* Register again what is not registered (the netjaild poll's tick). */
void cd_wl_tick(struct cd *cd);
void cd_wl_stop(struct cd *cd);
/* Every workload served: its listeners registered (there is a netjaild). */
bool cd_wl_ready(struct cd *cd, char *why, size_t whylen);
struct sbuf;
enum cd_wl_fmt { CD_WLF_STATUS, CD_WLF_READY, CD_WLF_JSON };
/* Each workload and its listeners' registration state: STATUS lines
 * "workload=NAME listeners=KIND/ipvN:PORT:STATE,...", /ready lines, or
 * /health's "workloads":[...], member (with its comma). */
void cd_wl_describe(struct cd *cd, struct sbuf *b, enum cd_wl_fmt fmt);
/* connectd_workload_* families */
void cd_wl_metrics(struct cd *cd, struct sbuf *b);
struct cd_wl *cd_wl_ref(struct cd_wl *w);
void cd_wl_unref(struct cd_wl *w);
const char *cd_wlreg_str(enum cd_wlreg r);
/*
 * The engine for a connection from src (NULL: unknown) on one of w's
 * listeners: w's in g.  NULL with *reason set when g has no w (a reload
 * removed it while its listeners waited for netjaild to let go) or when
 * src belongs to another workload by a cidr: match (a conflict, detail
 * names both).
 */
const struct eg_policy *cd_wl_policy(struct cd_wl *w, const struct cd_gen *g,
    const struct eg_ip *src, const char **reason, char *detail,
    size_t detaillen);
/* A socket for a listener: options set, the mark applied (mark 0: none);
 * not bound.  -1 with err set. */
int cd_sock_new(int family, bool transparent, uint32_t mark,
    const char *what, char *err, size_t errlen);

/* ---- conn.c: one connection's life */
struct cd_conn;
void cd_conn_accept(struct cd_listener *l);
void cd_conns_close_all(struct cd *cd);
size_t cd_conns_count(struct cd *cd);

/* ---- alog.c: the access log, buffered, never blocking the loop */
void cd_alog_init(struct cd *cd, const struct eg_config *cfg);
void cd_alog(struct cd *cd, enum eg_log_level lvl, const char *event,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void cd_alog_flush(struct cd *cd);

/* ---- relay.c: it knows its connection only through these callbacks
 * (arg is the connection) */
struct cd_relay;
struct judge;
struct cd_relay_cbs {
	/* the relay ended: err NULL when both directions ended cleanly */
	void (*done)(void *arg, const char *err);
	/* the relay took both sockets over (dups): close the client handle
	 * and the ustream now */
	void (*release)(void *arg);
	/* the tunnel judge cut the tunnel (observe: report mode, it would
	 * have) with what it saw */
	void (*tunnel_cut)(void *arg, const char *why, const char *seen,
	    bool observe);
};
struct cd_relay_opts {
	/* bytes and splices are counted here; active bounds the pipes */
	struct cd_metrics *m;
	uint64_t idle_ms;
	/* > 0: hold the client's EOF until the upstream has been quiet that
	 * long (hops that end a tunnel at the first EOF) */
	uint64_t fin_hold_ms;
	/* the client's bytes go through this judge (the relay frees it);
	 * held bytes wait at most judge_ms; observe: log, never cut */
	struct judge *judge;
	uint64_t judge_ms;
	bool observe;
	/* the client stream is reading still: the relay takes the reads
	 * over as they are, without a stop and a start */
	bool cli_reading;
};
struct cd_relay *cd_relay_start(uv_loop_t *loop, uv_tcp_t *cli,
    struct ustream *up, const struct cd_relay_opts *o,
    const struct cd_relay_cbs *cbs, void *arg);
/* Client bytes read before the relay started, as if it had read them. */
void cd_relay_cli_bytes(struct cd_relay *r, const char *p, size_t n);
void cd_relay_stats(const struct cd_relay *r, uint64_t *up, uint64_t *down);
bool cd_relay_spliced(const struct cd_relay *r);
void cd_relay_close(struct cd_relay *r);

/* ---- connectd.c */
/* Load a new generation (tunnels keep theirs); logs the outcome.  -1
 * with why set when it failed: the old generation keeps running. */
int cd_reload(struct cd *cd, char *why, size_t whylen);

/* ---- control.c */
void cd_control_start(struct cd *cd, const struct eg_config *cfg);

/* ---- probe.c */
void cd_probe_start(struct cd *cd);
void cd_probe_stop(struct cd *cd);
void cd_probe_now(struct cd *cd);	/* after a reload */
bool cd_hops_healthy(struct cd *cd, char *why, size_t whylen);
bool cd_ready(struct cd *cd, char *why, size_t whylen);
/* READY=1, once: at start, or with block_start_until_hops_healthy only
 * after the first full-chain probe passed. */
void cd_notify_ready(struct cd *cd);
void cd_status_poll_start(struct cd *cd);

/* ---- health.c */
int cd_health_start(struct cd *cd, int fd, char *err, size_t errlen);
/* Render into a malloc'd buffer (free it). */
char *cd_render_metrics(struct cd *cd, size_t *len);
char *cd_render_health(struct cd *cd, size_t *len);

#endif
