/*
 * netjaild - installs the jail's nftables table and policy routing, keeps
 * its sets current, answers status.  main() is the start-up sequence.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>

#include "ct.h"
#include "daemon.h"
#include "install.h"
#include "log.h"
#include "netjaild.h"
#include "notify.h"
#include "ports.h"
#include "sandbox.h"
#include "route.h"

static const char *const extra_opts[] = { "--print", "--uninstall", NULL };

/*
 * What netjaild needs beyond the base set: netlink for the table, routes
 * and conntrack; files for a reload (config, allow files, user lookup
 * through nscd) and route_localnet.
 */
static const char *const nj_syscalls[] = {
	"socket", "bind", "connect", "getsockname", "setsockopt",
	"getsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "poll",
	"ppoll", "openat", "read", "write", "close", "fstat", "newfstatat",
	"statx", "lseek", "getdents64", "fcntl", "mmap", "munmap", "brk",
	"futex", "getrandom", "clock_gettime", "getpid", "getuid", "getgid",
	"geteuid", "getegid",
	"unlink", "unlinkat",	/* the control socket, at a clean stop */
	NULL
};

static void
on_signal(uv_signal_t *h, int sig)
{
	struct nj_state *st = h->data;
	char err[256];

	if (sig == SIGHUP) {
		eg_notify_reloading();
		(void)nj_reload(st, err, sizeof(err));
		eg_notify_ready();
		return;
	}
	/* The rules stay: stopping netjaild never opens the jail. */
	eg_notify_stopping();
	eg_log(EG_LOG_INFO, "stopping", "signal=%d rules=kept", sig);
	uv_stop(h->loop);
}

/*
 * Someone may flush the ruleset behind our back (nft flush ruleset, a
 * firewall reload): check the table now and then and put it back whole.
 */
#define NJ_VERIFY_MS	5000

static void
on_verify(uv_timer_t *t)
{
	struct nj_state *st = t->data;
	struct nj_readback rb;
	char err[512];
	int rc;

	if (eg_notify_watchdog_ms())
		eg_notify_watchdog();
	links_verify(&st->links);
	/* routing too: a rule deleted or put in front of ours */
	nj_routing_check(st);
	/* a port a missed link event left open is isolated here */
	if (ports_apply(st->cfg, PORTS_ISOLATE, NULL, err, sizeof(err)) < 0)
		eg_log(EG_LOG_ERR, "port_isolation_failed", "error=\"%s\"",
		    err);
	rc = install_readback(&st->nl, st->rs, &rb);
	if (rc == 0 && rb.whole) {
		install_readback_free(&rb);
		return;
	}
	eg_log(EG_LOG_ERR, "table_broken", "reason=\"%s\" action=reinstall",
	    rc < 0 ? strerror(-rc) : rb.why);
	install_readback_free(&rb);
	if (nj_apply(st, st->cfg, err, sizeof(err)) < 0) {
		/* nothing we can do keeps the jail shut: say so loudly */
		st->ready = false;
		eg_log(EG_LOG_ERR, "reinstall_failed", "error=\"%s\"", err);
	} else
		eg_log(EG_LOG_INFO, "reinstalled", "generation=%u",
		    st->generation);
}

/*
 * rtnetlink tells of every rule change and of route changes in our table:
 * check a moment later (a burst of changes is one check), so a deleted or
 * displaced rule is back within milliseconds, not at the next tick.
 */
#define NJ_ROUTE_SETTLE_MS	20

static uv_timer_t route_settle;

static void
on_route_settle(uv_timer_t *t)
{
	nj_routing_check(t->data);
}

static void
on_route_event(uv_poll_t *p, int status, int events)
{
	struct nj_state *st = p->data;
	int rc;

	rc = status < 0 ? -EIO : route_watch_read(&st->route_watch,
	    st->cfg->jail.route_table);
	if (rc < 0)
		eg_log(EG_LOG_WARN, "routing_watch", "error=\"%s\" "
		    "fallback=watchdog", strerror(-rc));
	if (rc != 0 && !uv_is_active((uv_handle_t *)&route_settle))
		uv_timer_start(&route_settle, on_route_settle,
		    NJ_ROUTE_SETTLE_MS, 0);
}

static void
parse_args(const struct eg_daemon *d, bool *print, bool *uninstall)
{
	int i;

	for (i = 0; i < d->argc; i++) {
		if (strcmp(d->argv[i], "--print") == 0)
			*print = true;
		else if (strcmp(d->argv[i], "--uninstall") == 0)
			*uninstall = true;
		else
			eg_fatal(EG_EXIT_CONFIG, "usage", "arg=\"%s\"",
			    d->argv[i]);
	}
}

/* RUNDIR/netjaild.sock; its path is left in sock. */
static void
open_control(struct nj_state *st, char *sock, size_t len)
{
	char err[512];

	eg_daemon_sock_path(st->cfg, "netjaild", sock, len);
	st->srv = eg_ctl_server_open(st->loop, st->cfg, EG_ROLE_NETJAILD,
	    netjaild_dispatch, st, err, sizeof(err));
	if (st->srv == NULL)
		eg_fatal(EG_EXIT_RUNTIME, "control_socket", "path=%s "
		    "error=\"%s\"", sock, err);
	eg_ctl_server_on_drop(st->srv, netjaild_ctl_dropped);
	/* ours after the drop too, so a clean stop can unlink it from the
	 * sticky runtime directory; access stays as the mode and group say */
	if (chown(sock, st->cfg->netjaild.user.uid, (gid_t)-1) == -1)
		eg_log(EG_LOG_WARN, "control_socket_chown", "path=%s "
		    "error=\"%s\"", sock, strerror(errno));
}

/* rtnetlink rule and route events, each checked a moment later. */
static void
watch_routes(struct nj_state *st, uv_poll_t *poll)
{
	char err[512];

	if (route_watch_open(&st->route_watch, err, sizeof(err)) == -1)
		eg_fatal(EG_EXIT_RUNTIME, "routing_watch", "error=\"%s\"", err);
	uv_timer_init(st->loop, &route_settle);
	route_settle.data = st;
	if (uv_poll_init(st->loop, poll,
	    mnl_socket_get_fd(st->route_watch.sk)) != 0)
		eg_fatal(EG_EXIT_RUNTIME, "routing_watch", "error=\"poll\"");
	poll->data = st;
	uv_poll_start(poll, UV_READABLE, on_route_event);
}

/* After a clean stop; the rules stay in the kernel. */
static void
state_free(struct nj_state *st)
{
	int i;

	nl_close(&st->nl);
	nl_close(&st->route_watch);
	rules_free(st->rs);
	nj_wlreg_free(&st->wlregs);
	for (i = 0; i < NJ_SET__MAX; i++) {
		free(st->learned[i].elems);
		free(st->learned_until[i]);
	}
	eg_config_free(st->cfg);
}

/* --print: the ruleset as nft text; never touches the kernel. */
static int
print_ruleset(struct eg_daemon *d)
{
	struct nj_ruleset *rs;
	char err[512];

	if ((rs = rules_build(d->cfg, err, sizeof(err))) == NULL)
		eg_fatal(EG_EXIT_CONFIG, "ruleset", "error=\"%s\"", err);
	rules_print(rs, stdout);
	rules_free(rs);
	eg_config_free(d->cfg);
	free(d->argv);
	return fflush(stdout) == 0 ? EG_EXIT_OK : EG_EXIT_RUNTIME;
}

/* --uninstall: the table, the policy routing, the bridge ports' isolation. */
static int
uninstall_all(struct eg_daemon *d, struct nj_nl *nl)
{
	char err[512];
	int rc;

	rc = install_remove(nl, err, sizeof(err));
	if (rc < 0)
		eg_fatal(EG_EXIT_RUNTIME, "uninstall", "error=\"%s\"", err);
	if (route_remove(d->cfg->jail.fwmark, d->cfg->jail.route_table, err,
	    sizeof(err)) < 0)
		eg_fatal(EG_EXIT_RUNTIME, "uninstall", "error=\"%s\"", err);
	if (ports_apply(d->cfg, PORTS_RELEASE, NULL, err, sizeof(err)) < 0)
		eg_fatal(EG_EXIT_RUNTIME, "uninstall", "error=\"%s\"", err);
	eg_log(EG_LOG_INFO, "uninstalled", "table=%s", rc ? "removed" :
	    "absent");
	nl_close(nl);
	eg_config_free(d->cfg);
	free(d->argv);
	return EG_EXIT_OK;
}

int
main(int argc, char **argv)
{
	struct eg_daemon d;
	struct nj_state st;
	uv_loop_t *loop;
	uv_signal_t sig[4];
	uv_timer_t verify;
	uv_poll_t route_poll;
	struct ports_watch pw;
	uint64_t every;
	const int caps[] = { CAP_NET_ADMIN };
	const int signals[] = { SIGHUP, SIGTERM, SIGINT, SIGQUIT };
	char err[512], sock[256];
	bool print = false, uninstall = false;
	int i;

	eg_daemon_init(&d, "netjaild", argc, argv, extra_opts,
	    "  --print        print the ruleset as nft text and exit\n"
	    "  --uninstall    remove the table, rules and routes and exit\n");
	parse_args(&d, &print, &uninstall);

	if (print)
		return print_ruleset(&d);

	/*
	 * What the builder refuses (a cgroup: match, a name in a workload's
	 * direct, a uid: that is no [jail] user) is the config's fault:
	 * exit 2 with file:line, before the kernel is touched.
	 */
	if (!uninstall) {
		struct nj_ruleset *rs = rules_build(d.cfg, err, sizeof(err));

		if (rs == NULL)
			eg_fatal(EG_EXIT_CONFIG, "config", "error=\"%s\"",
			    err);
		rules_free(rs);
	}
	memset(&st, 0, sizeof(st));
	st.config_path = d.config_path;
	st.cfg = d.cfg;
	if (nl_open(&st.nl, NETLINK_NETFILTER, err, sizeof(err)) == -1)
		eg_fatal(EG_EXIT_RUNTIME, "netlink", "error=\"%s\"", err);

	if (uninstall)
		return uninstall_all(&d, &st.nl);

	/* table, sets, rules in one batch; read back; routes both families */
	if (nj_apply(&st, d.cfg, err, sizeof(err)) < 0)
		eg_fatal(EG_EXIT_RUNTIME, "install", "error=\"%s\"", err);
	eg_log(EG_LOG_INFO, "installed", "table=inet-%s rules=%zu "
	    "generation=%u", NJ_TABLE, st.rs->nrules, st.generation);

	if (eg_daemon_rundir(d.cfg, err, sizeof(err)) == -1)
		eg_fatal(EG_EXIT_RUNTIME, "rundir", "error=\"%s\"", err);
	loop = uv_default_loop();
	st.loop = loop;

	/*
	 * Jailed links present now, and from here on each one that appears:
	 * route_localnet, and connections opened before the jail cut.
	 */
	if (links_start(&st.links, &st.cfg, loop, err, sizeof(err)) == -1)
		eg_fatal(EG_EXIT_RUNTIME, "links", "error=\"%s\"", err);
	nj_cut_stale_directs(&st);
	nj_wl_steer_init(&st);
	open_control(&st, sock, sizeof(sock));
	/* before the drop: what it may join is not ours to decide later */
	watch_routes(&st, &route_poll);
	if (ports_watch_start(loop, &pw, &st.cfg, err, sizeof(err)) == -1)
		eg_fatal(EG_EXIT_RUNTIME, "link_events", "error=\"%s\"", err);
	for (i = 0; i < 4; i++) {
		uv_signal_init(loop, &sig[i]);
		sig[i].data = &st;
		uv_signal_start(&sig[i], on_signal, signals[i]);
	}

	/* from here on: only CAP_NET_ADMIN, as the configured user */
	eg_daemon_drop(&d, d.cfg->netjaild.user.uid, d.cfg->netjaild.user.gid,
	    caps, 1);
	eg_sandbox_apply(EG_ROLE_NETJAILD, nj_syscalls, d.cfg, d.config_path);

	every = eg_notify_watchdog_ms() / 2;
	if (every == 0 || every > NJ_VERIFY_MS)
		every = NJ_VERIFY_MS;
	uv_timer_init(loop, &verify);
	verify.data = &st;
	uv_timer_start(&verify, on_verify, every, every);

	st.ready = true;
	eg_notify_ready();
	eg_notify_status("jail installed, generation %u", st.generation);
	eg_log(EG_LOG_INFO, "ready", "socket=%s", sock);
	uv_run(loop, UV_RUN_DEFAULT);

	eg_ctl_server_stop(st.srv);
	links_stop(&st.links);
	ports_watch_stop(&pw);
	/* one more turn of the loop, so the closed handles are freed */
	uv_timer_stop(&verify);
	nj_wl_steer_stop(&st);
	for (i = 0; i < 4; i++)
		uv_signal_stop(&sig[i]);
	uv_run(loop, UV_RUN_NOWAIT);
	state_free(&st);
	/* st.cfg was the live one: a reload freed d.cfg when it replaced it */
	d.cfg = NULL;
	free(d.argv);
	/* last: a clean stop is seen to have got past the sandbox */
	eg_log(EG_LOG_INFO, "stopped", "rules=kept");
	return EG_EXIT_OK;
}
