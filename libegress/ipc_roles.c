/*
 * ipc_roles.c - who is at the other end of a control socket, and the one
 * table of what each role may send to each daemon and which learned set
 * it may change.  Every daemon's control socket and netjaild's set
 * updates ask here.
 *
 * A peer is classified by the credentials the kernel recorded at connect
 * (SO_PEERCRED, SO_PEERGROUPS: ipc_sock.c), never by anything it says.
 * The daemon uids come first (the daemon users are members of the control
 * group, so that they can reach each other's sockets, and must not become
 * admin through it), then root, then the control group as primary or
 * supplementary group of the connecting process.  Without a control group
 * only root is admin: never group root or any other stand-in.
 */
#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "config.h"
#include "ipc.h"

const char *
eg_role_name(enum eg_role r)
{
	switch (r) {
	case EG_ROLE_NETJAILD:
		return "netjaild";
	case EG_ROLE_CONNECTD:
		return "connectd";
	case EG_ROLE_DOHD:
		return "dohd";
	case EG_ROLE_ADMIN:
		return "admin";
	default:
		return "none";
	}
}

/* ---- roles ------------------------------------------------------------ */

enum eg_role
eg_ipc_role_of(const struct eg_ipc_roles *roles, uid_t uid, gid_t gid)
{
	if (uid != 0 && uid != (uid_t)-1) {
		if (uid == roles->netjaild_uid)
			return EG_ROLE_NETJAILD;
		if (uid == roles->connectd_uid)
			return EG_ROLE_CONNECTD;
		if (uid == roles->dohd_uid)
			return EG_ROLE_DOHD;
	}
	if (uid == 0)
		return EG_ROLE_ADMIN;
	if (roles->admin_gid != (gid_t)-1 && gid == roles->admin_gid)
		return EG_ROLE_ADMIN;
	return EG_ROLE_NONE;
}

/*
 * What each daemon accepts as a request, by peer role.  Replies never appear
 * here: they are valid only on the client side of a connection, as the
 * answer to a request that is pending there (eg_ipc_reply_ok).
 */
#define R(x)	(1u << (x))
static const unsigned allowed_table[EG_ROLE__MAX][EG_MSG__MAX] = {
	[EG_ROLE_NETJAILD] = {
		[EG_MSG_STATUS_REQ] = R(EG_ROLE_ADMIN) | R(EG_ROLE_CONNECTD),
		[EG_MSG_RELOAD_REQ] = R(EG_ROLE_ADMIN),
		[EG_MSG_EXPLAIN_REQ] = R(EG_ROLE_ADMIN),
		[EG_MSG_SET_UPDATE] = R(EG_ROLE_DOHD) | R(EG_ROLE_CONNECTD),
		[EG_MSG_WL_LISTEN] = R(EG_ROLE_DOHD) | R(EG_ROLE_CONNECTD),
	},
	[EG_ROLE_DOHD] = {
		[EG_MSG_STATUS_REQ] = R(EG_ROLE_ADMIN) | R(EG_ROLE_CONNECTD),
		[EG_MSG_RELOAD_REQ] = R(EG_ROLE_ADMIN),
		[EG_MSG_EXPLAIN_REQ] = R(EG_ROLE_ADMIN),
		[EG_MSG_RESOLVE_REQ] = R(EG_ROLE_CONNECTD),
	},
	[EG_ROLE_CONNECTD] = {
		[EG_MSG_STATUS_REQ] = R(EG_ROLE_ADMIN),
		[EG_MSG_RELOAD_REQ] = R(EG_ROLE_ADMIN),
		[EG_MSG_EXPLAIN_REQ] = R(EG_ROLE_ADMIN),
		/* mode = ask: dohd's held DNS questions go to the broker */
		[EG_MSG_ASK_REQ] = R(EG_ROLE_DOHD),
	},
};
#undef R

bool
eg_ipc_allowed(enum eg_role daemon, enum eg_role peer, uint16_t type)
{
	if ((unsigned)daemon >= EG_ROLE__MAX || (unsigned)peer >= EG_ROLE__MAX ||
	    type >= EG_MSG__MAX || peer == EG_ROLE_NONE)
		return false;
	return (allowed_table[daemon][type] & (1u << peer)) != 0;
}

/*
 * Which learned set each role may change on netjaild (the table above
 * says who may send SET_UPDATE at all).  Nobody changes DOH: the DoH
 * addresses are the configured bootstrap ones, never learned, and an
 * update could only widen dohd's way out.
 */
#define S(x)	(1u << (x))
static const unsigned set_table[EG_ROLE__MAX] = {
	[EG_ROLE_DOHD] = S(EG_SET_DIRECT),
	[EG_ROLE_CONNECTD] = S(EG_SET_HOPS),
};
#undef S

bool
eg_ipc_set_allowed(enum eg_role peer, uint8_t set)
{
	if ((unsigned)peer >= EG_ROLE__MAX || set >= 32)
		return false;
	return (set_table[peer] & (1u << set)) != 0;
}

/*
 * Which workload listeners each role may register: a daemon steers to
 * its own sockets only.  dohd registering a TCP port as "transparent"
 * would hand a workload's connections to a DNS server, connectd a
 * "dns_udp" port would take its queries past dohd's policy.
 */
#define K(x)	(1u << (x))
static const unsigned wl_kind_table[EG_ROLE__MAX] = {
	[EG_ROLE_CONNECTD] = K(EG_WLL_TRANSPARENT) | K(EG_WLL_PROXY),
	[EG_ROLE_DOHD] = K(EG_WLL_DNS_UDP) | K(EG_WLL_DNS_TCP),
};
#undef K

bool
eg_ipc_wl_kind_allowed(enum eg_role peer, uint8_t kind)
{
	if ((unsigned)peer >= EG_ROLE__MAX || kind >= 32)
		return false;
	return (wl_kind_table[peer] & (1u << kind)) != 0;
}

/* ---- from the config -------------------------------------------------- */

/*
 * The uid a daemon runs as.  A daemon that loads the config for itself
 * alone (dohd: EG_CONFIG_DOHD) leaves the other daemons' users
 * unresolved (uid 0): looked up here, before the privilege drop.  Root
 * or unknown is no daemon's uid: root is admin.
 */
static uid_t
daemon_uid(const struct eg_user *u)
{
	struct passwd *pw;

	if (u->uid != 0)
		return u->uid;
	if (u->name != NULL && (pw = getpwnam(u->name)) != NULL &&
	    pw->pw_uid != 0)
		return pw->pw_uid;
	return (uid_t)-1;
}

void
eg_ipc_roles_from_config(const struct eg_config *cfg,
    struct eg_ipc_roles *roles)
{
	struct group *gr;

	memset(roles, 0, sizeof(*roles));
	roles->netjaild_uid = daemon_uid(&cfg->netjaild.user);
	roles->connectd_uid = daemon_uid(&cfg->connectd.user);
	roles->dohd_uid = daemon_uid(&cfg->dohd.user);
	/* No control group, or one that does not exist: root alone. */
	roles->admin_gid = (gid_t)-1;
	if (cfg->jail.group != NULL && (gr = getgrnam(cfg->jail.group)) != NULL)
		roles->admin_gid = gr->gr_gid;
}
