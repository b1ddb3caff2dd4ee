/*
 * ipc.h - messages between the daemons and egressctl.
 *
 * Transport: AF_UNIX SOCK_SEQPACKET under the runtime directory, one
 * listening socket per daemon (netjaild.sock, connectd.sock, dohd.sock),
 * mode 0660, group egressjail.  One datagram is one message: a fixed
 * 12-byte header followed by exactly hdr.len payload bytes.  No message
 * carries a file descriptor.
 *
 * ipc.c: the wire format (this header's types, the decoder, accessors);
 * ipc_sock.c: the sockets, credentials, the blocking call; ipc_roles.c:
 * who a peer is and what it may send.
 *
 * All integers are in host byte order (both ends are on the same host).
 * Every decoder checks the exact payload size for its type; anything off by
 * one byte, an unknown type, a type the peer's role may not send, or an fd
 * attached is rejected and the peer disconnected.
 */
#ifndef EG_IPC_H
#define EG_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "addr.h"

#define EG_IPC_MAX_PAYLOAD	16384
#define EG_IPC_MAX_MSG		(sizeof(struct eg_ipc_hdr) + EG_IPC_MAX_PAYLOAD)

struct eg_ipc_hdr {
	uint16_t type;		/* enum eg_msg */
	uint16_t flags;		/* must be 0 */
	uint32_t len;		/* payload bytes that follow */
	uint32_t id;		/* request id, echoed in the reply */
};

enum eg_msg {
	EG_MSG_NONE = 0,
	EG_MSG_ERROR,		/* reply: struct eg_msg_error */
	EG_MSG_STATUS_REQ,	/* empty */
	EG_MSG_STATUS_REP,	/* struct eg_msg_status + text */
	EG_MSG_RELOAD_REQ,	/* empty */
	EG_MSG_RELOAD_REP,	/* struct eg_msg_result + text */
	EG_MSG_SET_UPDATE,	/* struct eg_msg_set_update + elements */
	EG_MSG_SET_ACK,		/* struct eg_msg_result */
	EG_MSG_RESOLVE_REQ,	/* struct eg_msg_resolve_req + name */
	EG_MSG_RESOLVE_REP,	/* struct eg_msg_resolve_rep + addresses */
	EG_MSG_EXPLAIN_REQ,	/* struct eg_msg_explain_req + host */
	EG_MSG_EXPLAIN_REP,	/* struct eg_msg_result + text */
	EG_MSG_WL_LISTEN,	/* struct eg_msg_wl_listen + workload name */
	EG_MSG_WL_ACK,		/* struct eg_msg_result, no text */
	EG_MSG_ASK_REQ,		/* struct eg_msg_ask_req + name + workload */
	EG_MSG_ASK_REP,		/* struct eg_msg_ask_rep + reason */
	EG_MSG__MAX
};

/* Who is at the other end, decided from SO_PEERCRED. */
enum eg_role {
	EG_ROLE_NONE = 0,
	EG_ROLE_NETJAILD,
	EG_ROLE_CONNECTD,
	EG_ROLE_DOHD,
	EG_ROLE_ADMIN,		/* root, or a member of the control group */
	EG_ROLE__MAX
};

struct eg_msg_error {
	int32_t code;		/* errno value */
};

struct eg_msg_result {
	int32_t code;		/* 0 ok, else errno value */
	uint32_t textlen;	/* bytes of text that follow (no NUL) */
};

/* Status: a flag and a text of "key=value\n" lines (printable ASCII). */
struct eg_msg_status {
	uint8_t ready;
	uint8_t pad[3];
	uint32_t generation;	/* config / ruleset generation */
	uint32_t textlen;
};

enum eg_set {
	EG_SET_DIRECT = 1,	/* direct endpoints learned by name (dohd) */
	EG_SET_HOPS,		/* hop addresses learned by name (connectd) */
	EG_SET_DOH,		/* DoH upstream addresses: config only */
};

enum eg_set_op { EG_SET_ADD = 1, EG_SET_DEL = 2 };

struct eg_set_elem {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t pad;
	uint16_t port;
	uint32_t timeout_ms;	/* 0 = no timeout; capped per role */
	uint8_t addr[16];
};

#define EG_SET_MAX_ELEMS 64

struct eg_msg_set_update {
	uint8_t set;		/* enum eg_set */
	uint8_t op;		/* enum eg_set_op */
	uint16_t count;		/* 1..EG_SET_MAX_ELEMS elements follow */
};

/*
 * The name follows, then wllen bytes of the name of the workload whose
 * connection connectd resolves for, so dohd answers under that workload's
 * rules: 0 for [policy]'s, else 1-32 bytes as the config allows a
 * workload name (never "default").  No NULs; pad is zero.
 */
struct eg_msg_resolve_req {
	uint16_t qtype;		/* 1 (A) or 28 (AAAA) */
	uint16_t namelen;	/* 1..253, name bytes follow, no NUL */
	uint8_t wllen;		/* 0..32, workload name bytes after it */
	uint8_t pad[3];
};

#define EG_RESOLVE_MAX_ADDRS 16

struct eg_msg_resolve_rep {
	int32_t rcode;		/* DNS rcode, or -errno */
	uint32_t ttl;
	uint16_t count;		/* struct eg_ip entries follow */
	uint16_t pad;
};

struct eg_msg_explain_req {
	uint16_t port;		/* 0 = DNS view only */
	uint16_t hostlen;	/* bytes of host that follow, no NUL */
};

/*
 * A workload's own listener (docs/WORKLOADS.md): connectd and dohd open
 * one per workload, kind and family on a port the kernel picked, and
 * register it with netjaild, which steers that workload's jailed traffic
 * to it.  connectd registers the TCP kinds, dohd the DNS ones
 * (eg_ipc_wl_kind_allowed).
 */
enum eg_wl_listener {
	EG_WLL_TRANSPARENT = 1,	/* connectd's transparent listener (TCP) */
	EG_WLL_PROXY,		/* connectd's explicit proxy (TCP) */
	EG_WLL_DNS_UDP,		/* dohd over UDP */
	EG_WLL_DNS_TCP,		/* dohd over TCP */
};
#define EG_WLL__MAX	(EG_WLL_DNS_TCP + 1)

#define EG_IPC_WL_NAME_MAX	32	/* EG_WL_NAME_MAX, workload.h */

enum eg_wl_listen_op { EG_WL_REGISTER = 1, EG_WL_UNREGISTER = 2 };

struct eg_msg_wl_listen {
	uint8_t op;		/* enum eg_wl_listen_op */
	uint8_t kind;		/* enum eg_wl_listener */
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t namelen;	/* 1..32 bytes of the name follow, no NUL */
	uint16_t port;		/* register: 1-65535; unregister: 0 */
	uint16_t pad;
};

/*
 * mode = ask (docs/ASK.md): dohd holds a DNS question for a name no rule
 * admits and asks connectd's broker, which keeps the one grant table and
 * the decider.  connectd replies when it knows: at once from its grant
 * table or when it cannot ask (no decider, too many questions), else when
 * the decider answers or ask_timeout ends the question.  dohd stops
 * waiting after ask_dns_hold; a reply that comes later is dropped there
 * and the grant it carried stays in connectd's table.
 */
struct eg_msg_ask_req {
	uint16_t qtype;		/* 1..65535 */
	uint8_t namelen;	/* 1..253 bytes of the name follow */
	uint8_t wllen;		/* 1..32 bytes of the workload follow them */
	uint8_t family;		/* the DNS client's: AF_INET or AF_INET6 */
	uint8_t pad[3];
	uint8_t addr[16];	/* its address (v4: the first 4 bytes) */
};

#define EG_ASK_REASON_MAX	32

struct eg_msg_ask_rep {
	uint8_t allow;		/* 1: resolve it; 0: deny */
	uint8_t reasonlen;	/* 1..32 bytes of reason follow: [a-z-] */
	uint16_t pad;
};

/* A decoded message: header, payload pointer into the receive buffer. */
struct eg_ipc_msg {
	struct eg_ipc_hdr hdr;
	const uint8_t *payload;
};

/* ---- ipc_sock.c: transport ------------------------------------------ */

/* Listening socket: created 0660, chowned to gid (or -1 to leave). */
int eg_ipc_listen(const char *path, gid_t gid);
/* Connect to a daemon's socket; returns fd or -1 with errno set. */
int eg_ipc_connect(const char *path);

/* Who the uids of the config are, so a peer can be classified. */
struct eg_ipc_roles {
	uid_t netjaild_uid, connectd_uid, dohd_uid;
	gid_t admin_gid;	/* control group, or -1; root is always admin */
};
/*
 * Classify the peer of a connected socket: SO_PEERCRED uid/gid through
 * eg_ipc_role_of(), and, when that says none, the control group among the
 * peer's supplementary groups as the kernel reports them (SO_PEERGROUPS).
 */
int eg_ipc_peer_role(int fd, const struct eg_ipc_roles *roles,
    enum eg_role *role, uid_t *uid, pid_t *pid);

/*
 * Send one message.  Returns 0 or -1 with errno set.  eg_ipc_decode runs
 * over the message first: EINVAL if it is not valid.
 */
int eg_ipc_send(int sock, uint16_t type, uint32_t id, const void *payload,
    size_t len);
/* The same, payload gathered from iov (at most EG_IPC_MAX_PAYLOAD bytes). */
int eg_ipc_sendv(int sock, uint16_t type, uint32_t id,
    const struct iovec *iov, int iovcnt);
/*
 * Receive one message into buf (EG_IPC_MAX_MSG bytes) and decode the
 * header.  Returns 1 with msg filled, 0 on EOF, -1 on error (errno set;
 * EBADMSG for a malformed message or one with a descriptor attached,
 * which is closed and not passed on).
 */
int eg_ipc_recv(int sock, uint8_t *buf, size_t buflen, struct eg_ipc_msg *msg);

/* Blocking request/reply with a timeout, for egressctl and probes. */
int eg_ipc_call(const char *path, uint16_t type, const void *payload,
    size_t len, uint8_t *buf, size_t buflen, struct eg_ipc_msg *reply,
    int timeout_ms);

/* ---- ipc_roles.c: who may send what ----------------------------------- */

/* The role of uid/gid: a daemon's uid, root, the control group (primary). */
enum eg_role eg_ipc_role_of(const struct eg_ipc_roles *roles, uid_t uid,
    gid_t gid);
/*
 * The roles of a config: each daemon's user (looked up by name when the
 * config left it unresolved; root or unknown is no daemon) and the control
 * group [jail] group (-1 when unset or unknown: then only root is admin).
 */
struct eg_config;
void eg_ipc_roles_from_config(const struct eg_config *cfg,
    struct eg_ipc_roles *roles);
/*
 * May a peer of this role send this type (as a request) to this daemon?
 * Reply types are never allowed here: they are valid only on a client
 * socket, as the answer to a pending request (eg_ipc_reply_ok).
 */
bool eg_ipc_allowed(enum eg_role daemon, enum eg_role peer, uint16_t type);
/* May this peer touch this set (dohd: DIRECT, connectd: HOPS)?  Nobody
 * sends DOH: the DoH addresses are the configured bootstrap ones. */
bool eg_ipc_set_allowed(enum eg_role peer, uint8_t set);
/* May this peer register a listener of this kind (connectd: transparent
 * and proxy; dohd: dns_udp and dns_tcp)? */
bool eg_ipc_wl_kind_allowed(enum eg_role peer, uint8_t kind);
const char *eg_role_name(enum eg_role r);

/* ---- ipc.c: wire format ----------------------------------------------- */

/* Does request type req get a reply, and is rep a valid reply to it? */
bool eg_ipc_expects_reply(uint16_t req);
bool eg_ipc_reply_ok(uint16_t req, uint16_t rep);

/*
 * Pure decoder over a received datagram: header sanity, length equality,
 * per-type payload checks.  Used by eg_ipc_recv and by the fuzzer.
 * buf must be 4-byte aligned (accessors return struct pointers into it).
 * Returns 0 or -1 with errno EBADMSG.
 *
 * Texts (status, result) are textlen bytes of printable ASCII and '\n',
 * not NUL-terminated in general (eg_ipc_recv adds a NUL after the datagram
 * when buf has room).  Names are checked with eg_name_normalise(); set
 * elements and resolved addresses must be AF_INET (last 12 address bytes
 * zero) or AF_INET6.
 */
int eg_ipc_decode(const uint8_t *buf, size_t n, struct eg_ipc_msg *msg);

/* Typed payload accessors: validate and return a pointer, or NULL. */
const struct eg_msg_set_update *eg_ipc_set_update(const struct eg_ipc_msg *m,
    const struct eg_set_elem **elems);
const struct eg_msg_resolve_req *eg_ipc_resolve_req(const struct eg_ipc_msg *m,
    char name[EG_NAME_MAX + 1]);
/* The same, and the workload's name in wl ("" for [policy]'s). */
const struct eg_msg_resolve_req *eg_ipc_resolve_req_wl(
    const struct eg_ipc_msg *m, char name[EG_NAME_MAX + 1],
    char wl[EG_IPC_WL_NAME_MAX + 1]);
const struct eg_msg_resolve_rep *eg_ipc_resolve_rep(const struct eg_ipc_msg *m,
    const struct eg_ip **addrs);
const struct eg_msg_status *eg_ipc_status(const struct eg_ipc_msg *m,
    const char **text);
const struct eg_msg_result *eg_ipc_result(const struct eg_ipc_msg *m,
    const char **text);
const struct eg_msg_explain_req *eg_ipc_explain_req(const struct eg_ipc_msg *m,
    char host[EG_NAME_MAX + 1]);

/*
 * A workload listener registration; name gets the workload's name, which
 * is valid as eg_wl_name_valid() says (never "default": [policy]'s
 * listeners are the configured ones).
 */
const struct eg_msg_wl_listen *eg_ipc_wl_listen(const struct eg_ipc_msg *m,
    char name[EG_IPC_WL_NAME_MAX + 1]);
const char *eg_wl_listener_name(uint8_t kind);

/*
 * An ask request: name normalised, workload "default" or a workload name
 * (eg_wl_name_valid); an ask reply: reason NUL-terminated.
 */
const struct eg_msg_ask_req *eg_ipc_ask_req(const struct eg_ipc_msg *m,
    char name[EG_NAME_MAX + 1], char workload[EG_IPC_WL_NAME_MAX + 1]);
const struct eg_msg_ask_rep *eg_ipc_ask_rep(const struct eg_ipc_msg *m,
    char reason[EG_ASK_REASON_MAX + 1]);

const char *eg_msg_name(uint16_t type);

#endif
