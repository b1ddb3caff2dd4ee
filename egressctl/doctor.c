/*
 * doctor.c - `egressctl doctor`: check the host and the jail, one finding
 * per line, each problem with a hint how to fix it.  Exit 1 on any
 * problem.  Nothing here changes the host: the nf_tables probe runs in a
 * forked child inside a new network namespace, which dies with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "config.h"
#include "daemon.h"
#include "egressctl.h"
#include "helpers.h"
#include "wlstatus.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

enum finding { DR_OK, DR_WARN, DR_PROBLEM };

struct doctor {
	const struct ctl_opts *o;
	struct json j;
	int problems, warnings;
};

static void
say(struct doctor *d, enum finding f, const char *check, const char *fix,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
say(struct doctor *d, enum finding f, const char *check, const char *fix,
    const char *fmt, ...)
{
	static const char *const tag[] = { "ok", "warn", "PROBLEM" };
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (f == DR_PROBLEM)
		d->problems++;
	else if (f == DR_WARN)
		d->warnings++;
	if (d->o->json) {
		json_obj_begin(&d->j, NULL);
		json_str(&d->j, "check", check);
		json_str(&d->j, "result", f == DR_OK ? "ok" : f == DR_WARN ?
		    "warn" : "problem");
		json_str(&d->j, "detail", detail);
		json_str(&d->j, "fix", f != DR_OK ? fix : NULL);
		json_obj_end(&d->j);
		return;
	}
	/* config text is untrusted: no terminal escapes through here */
	printf("%-7s %-10s ", tag[f], check);
	ctl_print_lines(stdout, "", detail);
	if (f != DR_OK && fix != NULL)
		ctl_print_lines(stdout, "                   fix: ", fix);
}

/* ---- kernel */

/* In the child: create and delete a table in one batch; 0 or an errno. */
static int
nft_probe(void)
{
	char buf[16384];
	struct mnl_nlmsg_batch *b;
	struct mnl_socket *nl;
	struct nftnl_table *t;
	struct nlmsghdr *nh;
	struct timeval tv = { 2, 0 };
	uint32_t seq = (uint32_t)time(NULL), portid;
	int acks = 0, r, err = 0, k;
	ssize_t n;

	if ((nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL)
		return errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = errno;
		goto out;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv));
	portid = mnl_socket_get_portid(nl);
	b = mnl_nlmsg_batch_start(buf, sizeof(buf));
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);
	for (k = 0; k < 2; k++) {
		if ((t = nftnl_table_alloc()) == NULL) {
			err = ENOMEM;
			goto out;
		}
		nftnl_table_set_str(t, NFTNL_TABLE_NAME, "egressctl_doctor");
		nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
		nh = nftnl_table_nlmsg_build_hdr(mnl_nlmsg_batch_current(b),
		    k == 0 ? NFT_MSG_NEWTABLE : NFT_MSG_DELTABLE, NFPROTO_INET,
		    (k == 0 ? NLM_F_CREATE : 0) | NLM_F_ACK, seq++);
		nftnl_table_nlmsg_build_payload(nh, t);
		nftnl_table_free(t);
		mnl_nlmsg_batch_next(b);
	}
	nftnl_batch_end(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b),
	    mnl_nlmsg_batch_size(b)) < 0) {
		err = errno;
		goto out;
	}
	while (acks < 2) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n <= 0) {
			err = n < 0 ? errno : EPROTO;
			break;
		}
		r = mnl_cb_run(buf, (size_t)n, 0, portid, NULL, NULL);
		if (r < 0) {
			err = errno;
			break;
		}
		acks++;
	}
out:
	mnl_socket_close(nl);
	return err;
}

static void
check_nftables(struct doctor *d)
{
	int pipefd[2], status, flags = CLONE_NEWNET, res = -1;
	pid_t pid;

	if (geteuid() != 0)
		flags |= CLONE_NEWUSER;
	if (pipe(pipefd) == -1) {
		say(d, DR_WARN, "nftables", NULL, "pipe: %s", strerror(errno));
		return;
	}
	if ((pid = fork()) == -1) {
		say(d, DR_WARN, "nftables", NULL, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return;
	}
	if (pid == 0) {
		int e, v;

		close(pipefd[0]);
		/* 10000 + errno: the namespace itself could not be made */
		v = unshare(flags) == -1 ? 10000 + errno : nft_probe();
		e = (int)write(pipefd[1], &v, sizeof(v));
		_exit(e == (int)sizeof(v) ? 0 : 1);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &res, sizeof(res)) != (ssize_t)sizeof(res))
		res = -1;
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (res == 0)
		say(d, DR_OK, "nftables", NULL, "nf_tables: created and deleted "
		    "an inet table in a throwaway network namespace");
	else if (res >= 10000)
		say(d, DR_WARN, "nftables", "run egressctl doctor as root",
		    "cannot make a network namespace to test nf_tables in "
		    "(%s)", strerror(res - 10000));
	else if (res > 0)
		say(d, DR_PROBLEM, "nftables", "load nf_tables (modprobe "
		    "nf_tables) or use a kernel built with CONFIG_NF_TABLES "
		    "and CONFIG_NF_TABLES_INET", "nf_tables refused a table: %s",
		    strerror(res));
	else
		say(d, DR_WARN, "nftables", NULL, "the nf_tables probe died");
}

/* Loaded, built in, or present as a loadable module: 1; 0 none; -1 unknown. */
static int
kmod_state(const char *mod)
{
	char line[512], path[512], want[128];
	struct utsname u;
	struct stat sb;
	FILE *f;
	int found = 0;
	size_t ml = strlen(mod);
	static const char *const ext[] = { ".ko", ".ko.xz", ".ko.zst",
		".ko.gz" };
	size_t i;

	if ((f = fopen("/proc/modules", "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, mod, ml) == 0 && line[ml] == ' ')
				found = 1;
		fclose(f);
		if (found)
			return 1;
	}
	if (uname(&u) == -1)
		return -1;
	snprintf(path, sizeof(path), "/lib/modules/%s", u.release);
	if (stat(path, &sb) == -1)
		return -1;
	snprintf(want, sizeof(want), "/%s.ko", mod);
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.builtin",
	    u.release);
	if ((f = fopen(path, "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strstr(line, want) != NULL)
				found = 1;
		fclose(f);
		if (found)
			return 1;
	}
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(path, sizeof(path),
		    "/lib/modules/%s/kernel/net/netfilter/%s%s", u.release, mod,
		    ext[i]);
		if (stat(path, &sb) == 0)
			return 1;
		snprintf(path, sizeof(path),
		    "/lib/modules/%s/kernel/net/ipv4/netfilter/%s%s", u.release,
		    mod, ext[i]);
		if (stat(path, &sb) == 0)
			return 1;
	}
	return 0;
}

static void
check_kmods(struct doctor *d)
{
	static const struct {
		const char *mod, *what;
	} mods[] = {
		{ "nft_tproxy", "tproxy of local users' TCP" },
		{ "nft_socket", "socket match for tproxy" },
		{ "nft_redir", "redirect of bridge TCP and DNS" },
		{ "nft_nat", "dnat of bridge traffic to 127.0.0.1" },
		{ "nft_chain_nat", "nat chains" },
	};
	size_t i;
	int st;

	for (i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		st = kmod_state(mods[i].mod);
		if (st == 1)
			say(d, DR_OK, "kernel", NULL, "%s available (%s)",
			    mods[i].mod, mods[i].what);
		else if (st == 0)
			say(d, DR_PROBLEM, "kernel", "install the kernel's "
			    "netfilter modules (linux-modules-extra) or enable "
			    "it in the kernel config", "%s not found: needed for "
			    "%s", mods[i].mod, mods[i].what);
		else
			say(d, DR_WARN, "kernel", "check by hand: modinfo MODULE",
			    "cannot tell whether %s is available (no "
			    "/lib/modules for this kernel)", mods[i].mod);
	}
}

static void
check_cgroup(struct doctor *d)
{
	struct statfs sf;

	if (statfs("/sys/fs/cgroup", &sf) == 0 &&
	    (unsigned long)sf.f_type == (unsigned long)CGROUP2_SUPER_MAGIC)
		say(d, DR_OK, "cgroup", NULL, "cgroup v2 mounted on "
		    "/sys/fs/cgroup");
	else
		say(d, DR_PROBLEM, "cgroup", "boot with systemd.unified_cgroup_"
		    "hierarchy=1 (or mount -t cgroup2 none /sys/fs/cgroup)",
		    "cgroup v2 is not mounted on /sys/fs/cgroup");
}

/* ---- users, runtime directory, sockets, ports, files */

static void
check_user(struct doctor *d, const char *role, const char *name)
{
	struct passwd *pw;

	if (name == NULL)
		return;
	errno = 0;
	if ((pw = getpwnam(name)) != NULL)
		say(d, DR_OK, "users", NULL, "%s user \"%s\" exists (uid %u)",
		    role, name, (unsigned)pw->pw_uid);
	else
		say(d, DR_PROBLEM, "users", "create it: systemd-sysusers, or "
		    "useradd --system --no-create-home --shell /usr/sbin/nologin "
		    "NAME", "%s user \"%s\" does not exist", role, name);
}

static void
check_users(struct doctor *d, const struct eg_config *cfg)
{
	const char *group = cfg != NULL && cfg->jail.group != NULL ?
	    cfg->jail.group : "egressjail";
	size_t i;

	check_user(d, "netjaild", cfg != NULL ? cfg->netjaild.user.name :
	    "egressjail");
	check_user(d, "connectd", cfg != NULL ? cfg->connectd.user.name :
	    "egress-connect");
	check_user(d, "dohd", cfg != NULL ? cfg->dohd.user.name :
	    "egress-dns");
	for (i = 0; cfg != NULL && i < cfg->jail.nusers; i++)
		check_user(d, "jailed", cfg->jail.users[i].name);
	if (getgrnam(group) != NULL)
		say(d, DR_OK, "users", NULL, "control group \"%s\" exists", group);
	else
		say(d, DR_PROBLEM, "users", "create it: systemd-sysusers, or "
		    "groupadd --system NAME", "control group \"%s\" does not "
		    "exist", group);
}

/* The same rule the daemons apply at start (eg_rundir_mode_ok): the
 * packaged 1770 root:GROUP is right, anything wider is not. */
static void
check_rundir(struct doctor *d, const char *dir, const char *group)
{
	struct group *gr = getgrnam(group);
	gid_t gid = gr != NULL ? gr->gr_gid : (gid_t)-1;
	struct stat sb;

	if (stat(dir, &sb) == -1) {
		say(d, DR_PROBLEM, "rundir", "start netjaild (it creates it), "
		    "or systemd-tmpfiles --create", "%s: %s", dir,
		    strerror(errno));
		return;
	}
	if (!S_ISDIR(sb.st_mode))
		say(d, DR_PROBLEM, "rundir", "remove it and start netjaild",
		    "%s is not a directory", dir);
	else if (!eg_rundir_mode_ok(sb.st_mode, sb.st_gid, gid))
		say(d, DR_PROBLEM, "rundir", "chmod 1770 the directory and "
		    "chgrp it to the control group (as the package's "
		    "tmpfiles.d/egressjail.conf does)", "%s is writable by "
		    "others, by a group other than \"%s\" or without the "
		    "sticky bit (mode %04o)", dir, group,
		    (unsigned)(sb.st_mode & 07777));
	else
		say(d, DR_OK, "rundir", NULL, "%s (mode %04o)", dir,
		    (unsigned)(sb.st_mode & 07777));
}

static bool
check_daemon(struct doctor *d, const struct eg_config *cfg, const char *name)
{
	struct ctl_status st;
	bool up;

	ctl_query_status(cfg, name, &st);
	up = st.state == CTL_READY || st.state == CTL_NOT_READY;
	if (st.state == CTL_READY)
		say(d, DR_OK, "daemons", NULL, "%s answers on %s and is ready "
		    "(generation %u)", name, st.path, st.generation);
	else if (st.state == CTL_NOT_READY)
		say(d, DR_PROBLEM, "daemons", "see egressctl status and the "
		    "daemon's log (journalctl -u UNIT)", "%s is not ready: %s",
		    name, st.why);
	else
		say(d, DR_PROBLEM, "daemons", "start it (systemctl start "
		    "UNIT) and check its log", "%s %s: %s", name,
		    ctl_state_name(st.state), st.why);
	ctl_status_free(&st);
	return up;
}

/*
 * Policy routing as netjaild last found it (its status): whole, repaired
 * (whole again: netjaild had to put a rule or route back, which means
 * something on the host removes or outranks it), displaced (a rule
 * netjaild cannot get in front of takes the jailed users' marked TCP).
 */
static void
check_routing(struct doctor *d, const struct eg_config *cfg)
{
	struct ctl_status st;
	char state[32], by[128], last[256], n[16];

	ctl_query_status(cfg, "netjaild", &st);
	if (!st.answered || ctl_text_get(st.text, "routing", state,
	    sizeof(state)) == NULL) {
		ctl_status_free(&st);
		return;
	}
	if (strcmp(state, "displaced") == 0)
		say(d, DR_PROBLEM, "routing", "delete that rule or give it a "
		    "higher preference (ip rule show); the jail stays shut "
		    "meanwhile", "displaced by %s: the jailed users' TCP "
		    "fails", ctl_text_get(st.text, "routing_displaced_by", by,
		    sizeof(by)) ? by : "a rule in front");
	else if (strcmp(state, "repaired") == 0)
		say(d, DR_WARN, "routing", "find what removes or outranks "
		    "netjaild's rule (networkd's ManageForeignRoutingPolicy"
		    "Rules, wg-quick, an ip rule flush)", "repaired %s "
		    "time(s), last: %s", ctl_text_get(st.text,
		    "routing_repairs", n, sizeof(n)) ? n : "?",
		    ctl_text_get(st.text, "routing_last_repair", last,
		    sizeof(last)) ? last : "?");
	else if (strcmp(state, "whole") == 0)
		say(d, DR_OK, "routing", NULL, "the fwmark rule is first and "
		    "its route is there, both families");
	else
		say(d, DR_PROBLEM, "routing", "see netjaild's log",
		    "policy routing %s", state);
	ctl_status_free(&st);
}

/*
 * Layer 2 as netjaild last found it: every port of a jailed bridge
 * isolated, or left switching for a direct endpoint inside the bridge's
 * subnet (its non-IP frames between ports are then not judged).
 */
static void
check_bridge_ports(struct doctor *d, const struct eg_config *cfg)
{
	struct ctl_status st;
	char ports[32], iso[32], sw[32], why[256];
	unsigned long np, ni, ns;

	ctl_query_status(cfg, "netjaild", &st);
	if (!st.answered || ctl_text_get(st.text, "bridge_ports", ports,
	    sizeof(ports)) == NULL) {
		ctl_status_free(&st);
		return;
	}
	np = strtoul(ports, NULL, 10);
	ni = ctl_text_get(st.text, "bridge_ports_isolated", iso,
	    sizeof(iso)) ? strtoul(iso, NULL, 10) : 0;
	ns = ctl_text_get(st.text, "bridge_ports_switched", sw,
	    sizeof(sw)) ? strtoul(sw, NULL, 10) : 0;
	if (strcmp(ports, "error") == 0)
		say(d, DR_PROBLEM, "bridge ports", "see netjaild's log",
		    "cannot list them: %s", ctl_text_get(st.text,
		    "bridge_ports_reason", why, sizeof(why)) ? why : "?");
	else if (ni < np)
		say(d, DR_PROBLEM, "bridge ports", "see netjaild's log "
		    "(event=port_isolation_failed); bridge link show",
		    "%lu of %lu port(s) of jailed bridges not isolated: a "
		    "workload reaches its neighbours at layer 2", np - ni, np);
	else if (ns > 0)
		say(d, DR_WARN, "bridge ports", "keep workloads that forward "
		    "(a second, unjailed network) off such a bridge, or give "
		    "the direct endpoint outside its subnet", "%lu port(s) "
		    "left switching for a direct endpoint inside their "
		    "bridge's subnet: only their IP is judged between ports",
		    ns);
	else
		say(d, DR_OK, "bridge ports", NULL, "%lu port(s) of jailed "
		    "bridges isolated: nothing is switched between them", np);
	ctl_status_free(&st);
}

/*
 * Each workload's listeners as netjaild has them registered: a kind with
 * none has its traffic dropped (fail closed, but the workload is cut off),
 * which means connectd or dohd is down, refused the workload or could not
 * register it.
 */
static void
check_workloads(struct doctor *d, const struct eg_config *cfg)
{
	static const char fix[] = "(re)start connectd and dohd and see their "
	    "logs (event=wl_listen); egressctl status shows the "
	    "registrations";
	struct ctl_status st;
	char reg[1024], miss[64], du[32];
	size_t i;

	ctl_query_status(cfg, "netjaild", &st);
	for (i = 0; st.answered && i < cfg->nworkloads; i++) {
		const char *name = cfg->workloads[i].name;

		if (!ctl_wl_listed(st.text, name)) {
			if (ctl_text_get(st.text, "workloads_truncated", du,
			    sizeof(du)) == NULL)
				say(d, DR_WARN, "workloads", "egressctl reload",
				    "workload %s: netjaild does not report it: "
				    "it runs another config", name);
			continue;	/* else: its reply was full */
		}
		if (!ctl_wl_field(st.text, name, "reg", reg, sizeof(reg)))
			snprintf(reg, sizeof(reg), "none");
		if (!ctl_wl_field(st.text, name, "drop_unregistered_packets",
		    du, sizeof(du)))
			snprintf(du, sizeof(du), "?");
		ctl_wl_missing(reg, cfg->has_dohd, miss, sizeof(miss));
		if (strcmp(reg, "none") == 0)
			say(d, DR_WARN, "workloads", fix, "workload %s has no "
			    "listener registered in netjaild: all its traffic "
			    "is dropped (%s packets so far)", name, du);
		else if (miss[0] != '\0')
			say(d, DR_WARN, "workloads", fix, "workload %s: no %s "
			    "listener registered in netjaild: that traffic is "
			    "dropped (%s packets so far)", name, miss, du);
		else
			say(d, DR_OK, "workloads", NULL, "workload %s: every "
			    "listener registered (%s)", name, reg);
	}
	ctl_status_free(&st);
}

/* Is addr:port free for a listener (the owning daemon being down)? */
static void
check_port(struct doctor *d, const char *owner, const char *addr, int type)
{
	struct sockaddr_storage ss;
	char err[EG_ERR_MAX];
	socklen_t sl;
	int fd, one = 1, e;
	const char *proto = type == SOCK_DGRAM ? "udp" : "tcp";

	if (!eg_sockaddr_parse(addr, &ss, &sl, err)) {
		say(d, DR_PROBLEM, "ports", "fix the listen address in the "
		    "config", "%s listen \"%s\": %s", owner, addr, err);
		return;
	}
	if ((fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0)) == -1) {
		say(d, DR_WARN, "ports", NULL, "socket: %s", strerror(errno));
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	e = bind(fd, (struct sockaddr *)&ss, sl) == 0 ? 0 : errno;
	close(fd);
	if (e == 0)
		say(d, DR_OK, "ports", NULL, "%s %s/%s is free", owner, addr,
		    proto);
	else if (e == EADDRINUSE)
		say(d, DR_PROBLEM, "ports", "find it with ss -lntup and stop it, "
		    "or change the listen address", "%s %s/%s is in use by "
		    "something else while %s is down: %s cannot start, and "
		    "the jail refuses jailed traffic to it (no listener mark)",
		    owner, addr, proto, owner, owner);
	else if (e == EACCES)
		say(d, DR_WARN, "ports", "run doctor as root to test it",
		    "%s %s/%s: cannot test as this user", owner, addr, proto);
	else
		say(d, DR_PROBLEM, "ports", "use an address of this host",
		    "%s %s/%s: %s", owner, addr, proto, strerror(e));
}

static void
check_file(struct doctor *d, const char *what, const char *path)
{
	if (path == NULL)
		return;
	if (access(path, R_OK) == 0)
		say(d, DR_OK, "files", NULL, "%s %s is readable", what, path);
	else
		say(d, DR_PROBLEM, "files", "create the file or fix the path in "
		    "the config", "%s %s: %s", what, path, strerror(errno));
}

static void
check_config_files(struct doctor *d, const struct eg_config *cfg)
{
	check_file(d, "[chain] ca_file", cfg->chain.ca_file);
	check_file(d, "[dohd] ca_file", cfg->dohd.ca_file);
	check_file(d, "[dohd] hosts_file", cfg->dohd.hosts_file);
	check_file(d, "[dohd] zone_file", cfg->dohd.zone_file);
}

/*
 * Services that act for a jailed user reach the network as themselves,
 * past the jail.  Usable by a jailed user: a warning (a problem for the
 * container sockets, which are root on the host); present but not
 * usable: ok, named, since a group change would open it.
 */
static void
check_helpers(struct doctor *d, const struct eg_config *cfg)
{
	struct helper_found f[16];
	size_t n, i;

	/* the docker group is root on the host once dockerd runs */
	for (i = 0; i < cfg->jail.nusers; i++)
		if (helpers_user_in_group(cfg->jail.users[i].name, "docker"))
			say(d, DR_PROBLEM, "helpers", "gpasswd -d USER docker",
			    "jailed user %s is in the docker group: it can start "
			    "containers outside the jail (root on the host)",
			    cfg->jail.users[i].name);
	n = helpers_scan("", cfg, f, sizeof(f) / sizeof(f[0]));
	for (i = 0; i < n; i++) {
		const struct helper_def *h = f[i].def;

		if (!f[i].usable) {
			say(d, DR_OK, "helpers", NULL, "%s (%s%s) is present; "
			    "no jailed user can use it", h->name, f[i].path,
			    f[i].setid ? ", setuid/setgid" : "");
			continue;
		}
		say(d, h->root_equivalent ? DR_PROBLEM : DR_WARN, "helpers",
		    h->fix, "%s (%s%s): jailed user %s can use it: %s",
		    h->name, f[i].path, f[i].setid ? ", setuid/setgid" : "",
		    f[i].user, h->what);
	}
}

int
cmd_doctor(struct ctl_opts *o, int argc, char **argv)
{
	struct eg_config_errors errs;
	struct eg_config *cfg;
	struct doctor d;
	bool up[CTL_NDAEMONS];
	size_t i;
	int first;

	if ((first = ctl_parse_common(o, argc, argv, "doctor")) < 0)
		return EXIT_CTL_USAGE;
	if (first < argc) {
		fprintf(stderr, "egressctl doctor: unexpected \"%.64s\"\n",
		    argv[first]);
		return EXIT_CTL_USAGE;
	}
	memset(&d, 0, sizeof(d));
	d.o = o;
	if (o->json) {
		json_init(&d.j, stdout);
		json_obj_begin(&d.j, NULL);
		json_str(&d.j, "command", "doctor");
		json_str(&d.j, "config", o->config);
		json_arr_begin(&d.j, "findings");
	}
	/* users are checked below, one finding each, not as config errors */
	cfg = eg_config_load(o->config, EG_CONFIG_NO_USERS |
	    eg_config_flags_for("egressctl"), &errs);
	if (cfg == NULL) {
		for (i = 0; i < errs.n; i++)
			say(&d, DR_PROBLEM, "config", "egressctl check; then fix "
			    "the line named", "%s", errs.msgs[i]);
		eg_config_errors_free(&errs);
	} else {
		say(&d, DR_OK, "config", NULL, "%s is valid", o->config);
	}
	check_nftables(&d);
	check_kmods(&d);
	check_cgroup(&d);
	if (!o->no_user_check)
		check_users(&d, cfg);
	if (cfg != NULL) {
		check_rundir(&d, cfg->jail.runtime_dir != NULL ?
		    cfg->jail.runtime_dir : EG_DEFAULT_RUNDIR,
		    cfg->jail.group != NULL ? cfg->jail.group : "egressjail");
		for (i = 0; i < CTL_NDAEMONS; i++)
			up[i] = check_daemon(&d, cfg, ctl_daemons[i]);
		if (up[0]) {
			check_routing(&d, cfg);
			check_bridge_ports(&d, cfg);
			if (cfg->nworkloads > 0)
				check_workloads(&d, cfg);
		}
		if (!up[1]) {
			for (i = 0; i < cfg->connectd.nproxy_listen; i++)
				check_port(&d, "connectd",
				    cfg->connectd.proxy_listen[i], SOCK_STREAM);
			if (cfg->connectd.transparent_listen != NULL)
				check_port(&d, "connectd",
				    cfg->connectd.transparent_listen,
				    SOCK_STREAM);
			if (cfg->connectd.health_listen != NULL)
				check_port(&d, "connectd",
				    cfg->connectd.health_listen, SOCK_STREAM);
		}
		if (!up[2]) {
			for (i = 0; i < cfg->dohd.nlisten; i++) {
				check_port(&d, "dohd", cfg->dohd.listen[i],
				    SOCK_STREAM);
				check_port(&d, "dohd", cfg->dohd.listen[i],
				    SOCK_DGRAM);
			}
		}
		check_config_files(&d, cfg);
		check_helpers(&d, cfg);
	} else {
		check_rundir(&d, EG_DEFAULT_RUNDIR, "egressjail");
	}
	if (o->json) {
		json_arr_end(&d.j);
		json_int(&d.j, "problems", d.problems);
		json_int(&d.j, "warnings", d.warnings);
		json_obj_end(&d.j);
		json_finish(&d.j);
	} else {
		printf("%d problem%s, %d warning%s\n", d.problems,
		    d.problems == 1 ? "" : "s", d.warnings,
		    d.warnings == 1 ? "" : "s");
	}
	eg_config_free(cfg);
	return ctl_flush("doctor", d.problems ? EXIT_CTL_FAIL : EXIT_CTL_OK);
}
