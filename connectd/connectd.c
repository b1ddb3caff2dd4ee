/*
 * connectd.c - start-up, signals, reload, drain.  The control socket's
 * dispatcher is control.c.
 *
 * Reads top to bottom as the start-up sequence:
 *   1. common options and the config (eg_daemon_init; --check exits here)
 *   2. the first generation: policy engine and TLS context (reads the CA
 *      file while it can)
 *   3. listeners: from systemd socket activation by name ("proxy",
 *      "transparent", "health"), or opened here, IP_TRANSPARENT included,
 *      while still root
 *   4. the event loop and the control socket (RUNDIR/connectd.sock, made
 *      while still root: the runtime directory is root's), the access log
 *   5. drop to [connectd] user with no capability at all
 *   6. as that user: the IPC clients for dohd and netjaild (the peers
 *      know connectd by the uid it connects with), then eg_sandbox_apply:
 *      Landlock (read-only: config and allow directories, CA file, user
 *      database; fatal on failure, skipped on a kernel without it) and
 *      seccomp (fatal on failure)
 *   7. signals, listeners, probes, status polls, READY=1
 * SIGHUP loads a new generation (tunnels keep theirs), SIGTERM drains.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cd.h"
#include "sysres.h"
#include "daemon.h"
#include "lmark.h"
#include "log.h"
#include "notify.h"
#include "sandbox.h"

struct cd *cd_main;

static struct cd the_cd;
static struct eg_daemon d;
static uv_signal_t sig_hup, sig_term, sig_int;
static uv_timer_t drain_check;
static bool drain_deadline_hit;

/* Syscalls connectd needs beyond eg_sandbox_base_syscalls: sockets for
 * the chain and the listeners, reload (reading the config and CA file),
 * getifaddrs for the host's own addresses. */
static const char *const cd_syscalls[] = {
	"accept", "accept4", "bind", "connect", "getpeername", "getsockname",
	"getsockopt", "setsockopt", "listen", "shutdown", "socket",
	"sendto", "recvfrom", "sendmsg", "recvmsg", "read", "write", "readv",
	"writev", "close", "openat", "open", "fstat", "newfstatat", "stat",
	"lseek", "getdents", "getdents64", "getrandom", "ioctl", "fcntl", "pipe2",
	"splice", "epoll_wait", "epoll_pwait", "epoll_ctl", "clock_gettime",
	"gettimeofday", "brk", "mmap", "munmap", "mremap", "madvise",
	"futex", "rt_sigreturn", "rt_sigprocmask", "exit", "exit_group",
	"getpid", "gettid", "uname", "sysinfo", "statx", "access",
	"faccessat", "faccessat2", "readlink", "getuid", "geteuid", "getgid",
	"getegid", "prlimit64", "sched_getaffinity", "socketpair",
	"rt_sigaction", "mprotect", "sched_yield", "nanosleep",
	"clock_nanosleep", "eventfd2", "epoll_create1", "tgkill",
	NULL,
};

/* Each tunnel holds two sockets (and a spliced one, briefly, a pipe):
 * take every descriptor the hard limit allows. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			eg_log(EG_LOG_WARN, "start", "error=\"setrlimit "
			    "NOFILE: %s\"", strerror(errno));
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		eg_log(EG_LOG_INFO, "start", "nofile=%llu",
		    (unsigned long long)rl.rlim_cur);
}

static int
open_tcp(const char *spec, bool transparent, uint32_t mark, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char perr[EG_ERR_MAX] = "";
	int fd;

	if (!eg_sockaddr_parse(spec, &ss, &sl, perr)) {
		snprintf(err, errlen, "%s: %s", spec, perr);
		return -1;
	}
	if ((fd = cd_sock_new(ss.ss_family, transparent, mark, spec, err,
	    errlen)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    listen(fd, 1024) != 0) {
		snprintf(err, errlen, "%s: bind: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
add_lfd(struct cd *cd, int fd, enum cd_mode mode, const char *spec)
{
	if (cd->nlfd >= sizeof(cd->lfd) / sizeof(cd->lfd[0]))
		eg_fatal(EG_EXIT_CONFIG, "listen", "error=\"too many listeners\"");
	cd->lfd[cd->nlfd] = fd;
	cd->lmode[cd->nlfd] = mode;
	cd->lspec[cd->nlfd] = strdup(spec);
	cd->nlfd++;
}

static void
open_listeners(struct cd *cd, const struct eg_config *cfg)
{
	uint32_t mark = eg_lmark_required(cfg) ? cfg->jail.listener_mark : 0;
	char err[512];
	size_t i;
	int fd;

	eg_listen_fds_init();
	eg_daemon_listen_fd_check("proxy", cfg->connectd.proxy_listen,
	    cfg->connectd.nproxy_listen, "[connectd] proxy_listen",
	    "connectd.socket");
	eg_daemon_listen_fd_check("transparent",
	    &cfg->connectd.transparent_listen,
	    cfg->connectd.transparent_listen != NULL ? 1 : 0,
	    "[connectd] transparent_listen", "connectd-transparent.socket");
	if ((fd = eg_listen_fd("proxy")) >= 0) {
		add_lfd(cd, fd, CD_MODE_EXPLICIT, "systemd:proxy");
	} else {
		for (i = 0; i < cfg->connectd.nproxy_listen; i++) {
			fd = open_tcp(cfg->connectd.proxy_listen[i], false, mark,
			    err, sizeof(err));
			if (fd < 0)
				eg_fatal(EG_EXIT_RUNTIME, "listen",
				    "error=\"%s\"", err);
			add_lfd(cd, fd, CD_MODE_EXPLICIT,
			    cfg->connectd.proxy_listen[i]);
		}
	}
	if ((fd = eg_listen_fd("transparent")) >= 0) {
		add_lfd(cd, fd, CD_MODE_TRANSPARENT, "systemd:transparent");
	} else if (cfg->connectd.transparent_listen != NULL) {
		fd = open_tcp(cfg->connectd.transparent_listen, true, mark,
		    err, sizeof(err));
		if (fd < 0)
			eg_fatal(EG_EXIT_RUNTIME, "listen", "error=\"%s\"", err);
		add_lfd(cd, fd, CD_MODE_TRANSPARENT,
		    cfg->connectd.transparent_listen);
	}
	cd->health_fd = eg_listen_fd("health");
	if (cd->health_fd < 0 && cfg->connectd.health_listen != NULL) {
		cd->health_fd = open_tcp(cfg->connectd.health_listen, false,
		    0, err, sizeof(err));
		if (cd->health_fd < 0)
			eg_fatal(EG_EXIT_RUNTIME, "listen", "error=\"%s\"", err);
	}
	if (cd->nlfd == 0)
		eg_fatal(EG_EXIT_CONFIG, "listen",
		    "error=\"no proxy_listen or transparent_listen\"");
	/* systemd's sockets: Mark= in the unit, or set here while root */
	for (i = 0; mark != 0 && i < cd->nlfd; i++)
		if (eg_lmark_apply(cd->lfd[i], mark, cd->lspec[i], err,
		    sizeof(err)) != 0)
			eg_fatal(EG_EXIT_RUNTIME, "listen", "error=\"%s\"",
			    err);
}

/* The end of a reload, good or bad: READY=1 again, or for the first time
 * when the new generation no longer waits for the chain. */
static void
reload_done(struct cd *cd)
{
	if (cd->ready_sent)
		eg_notify_ready();
	else
		cd_notify_ready(cd);
}

int
cd_reload(struct cd *cd, char *why, size_t whylen)
{
	struct eg_config_errors errs = { NULL, 0 };
	struct eg_config *cfg;
	struct cd_gen *g;
	char err[300];

	/* Before the first READY=1 a reload is no state change to announce. */
	if (cd->ready_sent)
		eg_notify_reloading();
	cd_alog_flush(cd);
	cfg = eg_config_load(cd->config_path, eg_config_flags_for("connectd"),
	    &errs);
	if (cfg == NULL) {
		snprintf(why, whylen, "%s", errs.n > 0 ? errs.msgs[0] :
		    "config");
		eg_daemon_reload_failed(why, cd->gen->id);
		eg_config_errors_free(&errs);
		reload_done(cd);
		return -1;
	}
	eg_config_errors_free(&errs);
	if ((g = cd_gen_new(cfg, err, sizeof(err))) == NULL) {
		eg_config_free(cfg);
		snprintf(why, whylen, "%s", err);
		eg_daemon_reload_failed(why, cd->gen->id);
		reload_done(cd);
		return -1;
	}
	cd_gen_unref(cd->gen);
	cd->gen = g;
	/* after the swap: a connection on a removed workload's listener,
	 * open until netjaild let go of it, finds no policy and is refused */
	cd_wl_sync(cd, cfg);
	/* Old hop results describe the old chain. */
	memset(cd->hop, 0, sizeof(cd->hop));
	cd->nhopstat = 0;
	eg_log(EG_LOG_INFO, "reload", "result=ok generation=%u rules=%zu "
	    "hops=%zu", g->id, eg_policy_nrules(g->pol), cfg->chain.nhops);
	cd_probe_now(cd);
	reload_done(cd);
	return 0;
}

static void
on_drain_check(uv_timer_t *t)
{
	struct cd *cd = t->data;

	if (cd_conns_count(cd) == 0) {
		eg_log(EG_LOG_INFO, "stop", "drained=1");
		uv_stop(cd->loop);
	}
}

static void
on_drain_deadline(uv_timer_t *t)
{
	struct cd *cd = t->data;

	if (drain_deadline_hit)
		return;
	drain_deadline_hit = true;
	eg_log(EG_LOG_WARN, "stop", "drain_timeout=1 open=%zu",
	    cd_conns_count(cd));
	cd_conns_close_all(cd);
}

static void
begin_drain(struct cd *cd)
{
	if (cd->draining)
		return;
	eg_notify_stopping();
	cd->draining = true;
	eg_log(EG_LOG_INFO, "stop", "draining=1 open=%zu", cd_conns_count(cd));
	cd_listen_stop(cd);
	cd_wl_stop(cd);
	cd_probe_stop(cd);
	uv_timer_init(cd->loop, &drain_check);
	drain_check.data = cd;
	uv_timer_start(&drain_check, on_drain_check, 0, 50);
	uv_timer_init(cd->loop, &cd->drain_timer);
	cd->drain_timer.data = cd;
	uv_timer_start(&cd->drain_timer, on_drain_deadline,
	    cd->gen->cfg->connectd.drain_timeout_ms ?
	    cd->gen->cfg->connectd.drain_timeout_ms : 10000, 0);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct cd *cd = s->data;
	char why[EG_ERR_MAX + 64];

	if (signum == SIGHUP)
		(void)cd_reload(cd, why, sizeof(why));
	else
		begin_drain(cd);
}

/* After the drop: the peers tell roles apart by SO_PEERCRED, and only
 * connectd's own user may push hop addresses or ask for resolutions. */
static void
start_clients(struct cd *cd, const struct eg_config *cfg)
{
	char path[512];

	/* on its own: no netjaild without [jail], no dohd without [dohd]
	 * (then the host's resolver); a restart changes that, not a reload */
	if (cfg->has_dohd) {
		eg_daemon_sock_path(cfg, "dohd", path, sizeof(path));
		cd->dohd = eg_ctl_client_new(cd->loop, path);
	}
	if (cfg->has_jail) {
		eg_daemon_sock_path(cfg, "netjaild", path, sizeof(path));
		cd->netjaild = eg_ctl_client_new(cd->loop, path);
	}
	if (!cfg->has_dohd) {
		/* read now: Landlock hides /etc once we run */
		if ((cd->sysres = sysres_new(cd->loop, "/etc/resolv.conf")) ==
		    NULL) {
			eg_log(EG_LOG_ERR, "start", "error=\"out of memory\"");
			exit(EG_EXIT_RUNTIME);
		}
		eg_log(EG_LOG_INFO, "resolver", "source=host nameservers=%zu "
		    "note=\"no [dohd]: names resolve with /etc/resolv.conf\"",
		    sysres_nameservers(cd->sysres));
	}
}

int
main(int argc, char **argv)
{
	struct cd *cd = &the_cd;
	struct eg_config *cfg;
	char err[300];

	eg_daemon_init(&d, "connectd", argc, argv, NULL, NULL);
	cfg = d.cfg;
	cd_main = cd;
	cd->config_path = d.config_path;
	cd->started_ms = eg_now_ms();
	cd->health_fd = -1;
	signal(SIGPIPE, SIG_IGN);

	if ((cd->gen = cd_gen_new(cfg, err, sizeof(err))) == NULL)
		eg_fatal(EG_EXIT_CONFIG, "start", "error=\"%s\"", err);

	raise_nofile();
	open_listeners(cd, cfg);
	cd_wl_pool_open(cd, cfg);

	cd->loop = uv_default_loop();
	cd_control_start(cd, cfg);
	cd_ask_start(cd, cfg);
	/* Before the drop: a pipe on stderr is reopened through /proc. */
	cd_alog_init(cd, cfg);

	eg_daemon_drop(&d, cfg->connectd.user.uid, cfg->connectd.user.gid,
	    NULL, 0);
	start_clients(cd, cfg);
	eg_sandbox_apply(EG_ROLE_CONNECTD, cd_syscalls, cfg, d.config_path);

	uv_signal_init(cd->loop, &sig_hup);
	uv_signal_init(cd->loop, &sig_term);
	uv_signal_init(cd->loop, &sig_int);
	sig_hup.data = sig_term.data = sig_int.data = cd;
	uv_signal_start(&sig_hup, on_signal, SIGHUP);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_start(&sig_int, on_signal, SIGINT);

	if (cd_listen_start(cd, err, sizeof(err)) != 0)
		eg_fatal(EG_EXIT_RUNTIME, "listen", "error=\"%s\"", err);
	cd_wl_sync(cd, cfg);
	if (cd->health_fd >= 0 &&
	    cd_health_start(cd, cd->health_fd, err, sizeof(err)) != 0)
		eg_fatal(EG_EXIT_RUNTIME, "listen", "error=\"%s\"", err);
	cd_probe_start(cd);
	cd_status_poll_start(cd);

	eg_log(EG_LOG_INFO, "start", "listeners=%zu rules=%zu hops=%zu "
	    "exit=%s mode=%s", cd->nlfd, eg_policy_nrules(cd->gen->pol),
	    cfg->chain.nhops, cfg->chain.exit == EG_EXIT_DIRECT ? "direct" :
	    "hop", eg_mode_str(cfg->policy.mode));
	cd_notify_ready(cd);
	uv_run(cd->loop, UV_RUN_DEFAULT);
	cd_alog_flush(cd);
	eg_log(EG_LOG_INFO, "stop", "status=0");
	return EG_EXIT_OK;
}
