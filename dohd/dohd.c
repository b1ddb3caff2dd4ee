/*
 * dohd.c - start-up, read top to bottom: config, policy, local data, the
 * core, listeners and the control socket (still privileged when started
 * as root), signals, the drop to [dohd] user with no capabilities, the
 * DoH upstreams and the netjaild feed (start_clients), eg_sandbox_apply:
 * Landlock (read-only: the config and allow directories, CA, hosts and
 * zone files, the user database; fatal on failure, skipped on a kernel
 * without it) and the seccomp filter (fatal when it cannot be
 * installed), READY, the loop.  The control socket's dispatcher is
 * control.c, the reload reload.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "notify.h"
#include "policy.h"
#include "sandbox.h"

#include "dask.h"
#include "control.h"
#include "dlog.h"
#include "feed.h"
#include "listen.h"
#include "own.h"
#include "upstream.h"
#include "wl.h"

/* On top of eg_sandbox_base_syscalls: UDP with pktinfo, TCP to the
 * upstreams, reading the config, CA and data files again on reload. */
static const char *const dohd_syscalls[] = {
	"socket", "connect", "bind", "listen", "accept4", "getsockname",
	"getpeername", "getsockopt", "setsockopt", "sendmsg", "recvmsg",
	"sendto", "recvfrom", "sendmmsg", "recvmmsg", "shutdown",
	"read", "write", "readv", "writev", "pread64", "close", "fcntl",
	"openat", "newfstatat", "fstat", "lseek", "getdents64", "statx",
	"epoll_wait", "epoll_pwait", "epoll_ctl", "epoll_create1",
	"ioctl", "getrandom", "clock_gettime", "gettimeofday",
	"mmap", "munmap", "mremap", "brk", "madvise", "mprotect",
	"futex", "rt_sigreturn", "rt_sigprocmask", "rt_sigaction",
	"getpid", "gettid", "uname", "pipe2", "eventfd2", "exit",
	"exit_group", "tgkill", "access", "faccessat", "faccessat2",
	"umask", "fchmod", "fchown", "unlink", "unlinkat", "socketpair",
	NULL,
};

static struct dohd_app app;

static void
on_signal(uv_signal_t *s, int sig)
{
	char text[512];

	if (sig == SIGHUP) {
		(void)dohd_reload(&app, text, sizeof(text));
		return;
	}
	eg_log(EG_LOG_INFO, "stop", "signal=%d", sig);
	eg_notify_stopping();
	uv_stop(s->loop);
}

/*
 * As dohd's user, before the sandbox: the DoH upstreams (their TLS
 * context reads the CA file now) and the feed of learned direct
 * endpoints to netjaild, which knows dohd by the uid it connects with.
 */
static void
start_clients(struct dohd_app *a, const struct eg_config *cfg)
{
	struct dask_broker broker;
	char err[EG_ERR_MAX];

	if ((a->ups = dupstream_new(a->loop, cfg, err, sizeof(err))) == NULL)
		eg_fatal(EG_EXIT_CONFIG, "upstream", "error=\"%s\"", err);
	dupstream_resolver(a->ups, &a->core.res);
	if ((a->feed = dfeed_new(a->loop, cfg)) == NULL)
		eg_fatal(EG_EXIT_RUNTIME, "feed", "error=\"out of memory\"");
	dfeed_feeder(a->feed, &a->core.feeder);
	dwl_start(a, dfeed_client(a->feed));
	/* mode = ask: held queries, connectd's broker (ask.c) */
	if ((a->askc = dask_connectd_new(a->loop, cfg)) == NULL)
		eg_fatal(EG_EXIT_RUNTIME, "ask", "error=\"out of memory\"");
	dask_connectd_broker(a->askc, &broker);
	if ((a->core.ask = dask_new(&broker)) == NULL)
		eg_fatal(EG_EXIT_RUNTIME, "ask", "error=\"out of memory\"");
}

/* The level eg_daemon_init gave the log (a reload keeps it). */
static bool
log_info(const struct eg_daemon *dm, const struct eg_config *cfg)
{
	enum eg_log_level lvl = EG_LOG_INFO;

	if (dm->debug)
		return true;
	if (cfg->jail.log_level != NULL &&
	    !eg_log_level_parse(cfg->jail.log_level, &lvl))
		lvl = EG_LOG_INFO;
	return lvl <= EG_LOG_INFO;
}

int
main(int argc, char **argv)
{
	uv_signal_t sig[4];
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT };
	char err[EG_ERR_MAX];
	const struct eg_config *cfg;
	struct eg_wlpol *wlpol;
	struct dlocal *local = NULL;
	static uv_timer_t own_timer;
	int rc;

	eg_daemon_init(&app.dm, "dohd", argc, argv, NULL, NULL);
	app.boot_cfg = app.cfg = app.dm.cfg;
	cfg = app.boot_cfg;
	app.loop = uv_default_loop();
	signal(SIGPIPE, SIG_IGN);
	if (eg_listen_fds_init() < 0)
		eg_fatal(EG_EXIT_RUNTIME, "start", "what=listen_fds");
	eg_daemon_listen_fd_check("dns-udp", cfg->dohd.listen,
	    cfg->dohd.nlisten, "[dohd] listen", "dohd.socket");
	eg_daemon_listen_fd_check("dns-tcp", cfg->dohd.listen,
	    cfg->dohd.nlisten, "[dohd] listen", "dohd-tcp.socket");

	/* listeners and every address of the host: never an answer */
	if ((rc = downaddrs_read(cfg, &app.extra_deny, &app.nextra)) < 0)
		eg_fatal(EG_EXIT_RUNTIME, "start",
		    "what=host_addrs error=\"%s\"", strerror(-rc));
	if ((wlpol = eg_wlpol_new(cfg, app.extra_deny, app.nextra, err)) ==
	    NULL)
		eg_fatal(EG_EXIT_CONFIG, "start",
		    "what=policy error=\"%s\"", err);
	if ((cfg->dohd.hosts_file != NULL || cfg->dohd.zone_file != NULL) &&
	    (local = dlocal_load(cfg->dohd.hosts_file, cfg->dohd.zone_file,
	    err, sizeof(err))) == NULL)
		eg_fatal(EG_EXIT_CONFIG, "start",
		    "what=local_data error=\"%s\"", err);
	if (dcore_init(&app.core, cfg, wlpol, local, err, sizeof(err)) < 0)
		eg_fatal(EG_EXIT_RUNTIME, "start", "error=\"%s\"", err);
	app.core.log_info = log_info(&app.dm, cfg);
	if (dwlstat_sync(&app.core) < 0)
		eg_fatal(EG_EXIT_RUNTIME, "start", "error=\"out of memory\"");

	/* Privileged part: ports below 1024, the runtime directory. */
	if ((app.listen = dlisten_open(app.loop, &app.core, cfg, err,
	    sizeof(err))) == NULL)
		eg_fatal(EG_EXIT_RUNTIME, "listen", "error=\"%s\"", err);
	/* the workloads' own, marked now or from the pool later */
	if (dwl_init(&app, cfg, err, sizeof(err)) < 0)
		eg_fatal(EG_EXIT_RUNTIME, "listen", "what=workloads "
		    "error=\"%s\"", err);
	if (eg_daemon_rundir(cfg, err, sizeof(err)) < 0)
		eg_fatal(EG_EXIT_RUNTIME, "rundir", "error=\"%s\"", err);
	if (dohd_control_start(&app, err, sizeof(err)) < 0)
		eg_fatal(EG_EXIT_RUNTIME, "control", "error=\"%s\"", err);

	/* Still privileged: a pipe on stderr may be root's. */
	if (app.core.log_info)
		dlog_init(app.loop);
	/* handled once the loop runs */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		uv_signal_init(app.loop, &sig[i]);
		uv_signal_start(&sig[i], on_signal, sigs[i]);
	}

	eg_daemon_drop(&app.dm, cfg->dohd.user.uid, cfg->dohd.user.gid, NULL,
	    0);
	start_clients(&app, cfg);
	eg_sandbox_apply(EG_ROLE_DOHD, dohd_syscalls, cfg, app.dm.config_path);
	downaddrs_start(&app, &own_timer);

	app.ready = true;
	eg_log(EG_LOG_INFO, "ready", "listen=%zu upstreams=%zu rules=%zu "
	    "workloads=%zu local=%zu", cfg->dohd.nlisten, cfg->dohd.nupstreams,
	    eg_policy_nrules(eg_wlpol_get(wlpol, 0)), cfg->nworkloads,
	    dlocal_count(local));
	eg_notify_ready();
	uv_run(app.loop, UV_RUN_DEFAULT);
	dlog_flush();
	return EG_EXIT_OK;
}
