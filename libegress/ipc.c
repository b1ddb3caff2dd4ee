/*
 * ipc.c - SOCK_SEQPACKET messages between the daemons and egressctl.
 *
 * The decoder trusts nothing: the header must describe exactly the datagram
 * that arrived, every type has an exact size (fixed part plus exactly the
 * declared count or length), texts are printable ASCII, names are
 * normalised, set elements are well-formed addresses.  Anything else is
 * EBADMSG and the caller drops the peer.  eg_ipc_send runs the same decoder
 * over what it is about to send, so a daemon never emits a message its peer
 * would have to reject.
 *
 * Roles.  A peer is classified by the credentials the kernel recorded at
 * connect (SO_PEERCRED, SO_PEERGROUPS), never by anything it says.  The
 * daemon uids come first (the daemon users are members of the control
 * group, so that they can reach each other's sockets, and must not become
 * admin through it), then root, then the control group as primary or
 * supplementary group of the connecting process.  We use the groups the
 * kernel reports for the process rather than getgrouplist() of its passwd
 * entry: they are what the process actually holds, and they cannot change
 * between the check and the use.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>

#include "ipc.h"
#include "log.h"

#define HDR_LEN		sizeof(struct eg_ipc_hdr)
#define MAX_GROUPS	256
/* Room for more fds than we accept, so extras are seen and closed. */
#define CMSG_FDS	8

_Static_assert(sizeof(struct eg_ipc_hdr) == 12, "wire header");
_Static_assert(sizeof(struct eg_set_elem) == 24, "wire set element");
_Static_assert(sizeof(struct eg_msg_status) == 12, "wire status");
_Static_assert(sizeof(struct eg_msg_resolve_rep) == 12, "wire resolve rep");

static struct eg_ipc_roles ipc_roles = {
	.netjaild_uid = (uid_t)-1,
	.connectd_uid = (uid_t)-1,
	.dohd_uid = (uid_t)-1,
	.admin_gid = (gid_t)-1,
};

/* ---- names ------------------------------------------------------------ */

const char *
eg_msg_name(uint16_t type)
{
	static const char *const names[EG_MSG__MAX] = {
		[EG_MSG_NONE] = "none",
		[EG_MSG_ERROR] = "error",
		[EG_MSG_STATUS_REQ] = "status_req",
		[EG_MSG_STATUS_REP] = "status_rep",
		[EG_MSG_RELOAD_REQ] = "reload_req",
		[EG_MSG_RELOAD_REP] = "reload_rep",
		[EG_MSG_SET_UPDATE] = "set_update",
		[EG_MSG_SET_ACK] = "set_ack",
		[EG_MSG_RESOLVE_REQ] = "resolve_req",
		[EG_MSG_RESOLVE_REP] = "resolve_rep",
		[EG_MSG_EXPLAIN_REQ] = "explain_req",
		[EG_MSG_EXPLAIN_REP] = "explain_rep",
		[EG_MSG_FD_PASS] = "fd_pass",
	};

	if (type >= EG_MSG__MAX)
		return "unknown";
	return names[type];
}

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

void
eg_ipc_set_roles(const struct eg_ipc_roles *roles)
{
	ipc_roles = *roles;
}

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

bool
eg_ipc_set_allowed(enum eg_role peer, uint8_t set)
{
	switch (peer) {
	case EG_ROLE_DOHD:
		/* DoH addresses are the configured bootstrap ones, never
		 * learned: a DOH update can only widen dohd's way out */
		return set == EG_SET_DIRECT;
	case EG_ROLE_CONNECTD:
		return set == EG_SET_HOPS;
	default:
		return false;
	}
}

bool
eg_ipc_reply_ok(uint16_t req, uint16_t rep)
{
	if (rep == EG_MSG_ERROR)
		return eg_ipc_expects_reply(req);
	switch (req) {
	case EG_MSG_STATUS_REQ:
		return rep == EG_MSG_STATUS_REP;
	case EG_MSG_RELOAD_REQ:
		return rep == EG_MSG_RELOAD_REP;
	case EG_MSG_SET_UPDATE:
		return rep == EG_MSG_SET_ACK;
	case EG_MSG_RESOLVE_REQ:
		return rep == EG_MSG_RESOLVE_REP;
	case EG_MSG_EXPLAIN_REQ:
		return rep == EG_MSG_EXPLAIN_REP;
	default:
		return false;
	}
}

bool
eg_ipc_expects_reply(uint16_t req)
{
	switch (req) {
	case EG_MSG_STATUS_REQ:
	case EG_MSG_RELOAD_REQ:
	case EG_MSG_SET_UPDATE:
	case EG_MSG_RESOLVE_REQ:
	case EG_MSG_EXPLAIN_REQ:
		return true;
	default:
		return false;
	}
}

/* ---- decoding --------------------------------------------------------- */

static bool
text_ok(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != '\n' && (p[i] < 0x20 || p[i] > 0x7e))
			return false;
	return true;
}

/* Host names and address literals: printable, no space, no quote. */
static bool
host_chars_ok(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] > 0x7e || p[i] == '"' || p[i] == '\\')
			return false;
	return true;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static bool
addr_ok(uint8_t family, const uint8_t addr[16])
{
	if (family == AF_INET6)
		return true;
	/* An IPv4 address has exactly one encoding: the tail is zero. */
	return family == AF_INET && all_zero(addr + 4, 12);
}

static bool
decode_result(const uint8_t *p, size_t n)
{
	struct eg_msg_result r;

	if (n < sizeof(r))
		return false;
	memcpy(&r, p, sizeof(r));
	if (r.code < 0 || r.code > 4095)
		return false;
	return r.textlen == n - sizeof(r) && text_ok(p + sizeof(r), r.textlen);
}

static bool
decode_status(const uint8_t *p, size_t n)
{
	struct eg_msg_status s;

	if (n < sizeof(s))
		return false;
	memcpy(&s, p, sizeof(s));
	if (s.ready > 1 || !all_zero(s.pad, sizeof(s.pad)))
		return false;
	return s.textlen == n - sizeof(s) && text_ok(p + sizeof(s), s.textlen);
}

static bool
decode_set_update(const uint8_t *p, size_t n)
{
	struct eg_msg_set_update u;
	struct eg_set_elem e;
	size_t i;

	if (n < sizeof(u))
		return false;
	memcpy(&u, p, sizeof(u));
	if (u.set < EG_SET_DIRECT || u.set > EG_SET_DOH)
		return false;
	if (u.op != EG_SET_ADD && u.op != EG_SET_DEL)
		return false;
	if (u.count < 1 || u.count > EG_SET_MAX_ELEMS)
		return false;
	if (n - sizeof(u) != (size_t)u.count * sizeof(e))
		return false;
	for (i = 0; i < u.count; i++) {
		memcpy(&e, p + sizeof(u) + i * sizeof(e), sizeof(e));
		if (e.pad != 0 || !addr_ok(e.family, e.addr))
			return false;
	}
	return true;
}

/* Copy and normalise a name; false when it is not a valid host name. */
static bool
name_copy(const uint8_t *p, size_t n, char out[EG_NAME_MAX + 1])
{
	char raw[EG_NAME_MAX + 1];

	if (n < 1 || n > EG_NAME_MAX || !host_chars_ok(p, n))
		return false;
	memcpy(raw, p, n);
	raw[n] = '\0';
	return eg_name_normalise(raw, out, NULL);
}

static bool
decode_resolve_req(const uint8_t *p, size_t n)
{
	struct eg_msg_resolve_req r;
	char name[EG_NAME_MAX + 1];

	if (n < sizeof(r))
		return false;
	memcpy(&r, p, sizeof(r));
	if (r.qtype != 1 && r.qtype != 28)
		return false;
	if (r.namelen != n - sizeof(r))
		return false;
	return name_copy(p + sizeof(r), r.namelen, name);
}

static bool
decode_resolve_rep(const uint8_t *p, size_t n)
{
	struct eg_msg_resolve_rep r;
	struct eg_ip ip;
	size_t i;

	if (n < sizeof(r))
		return false;
	memcpy(&r, p, sizeof(r));
	if (r.pad != 0 || r.count > EG_RESOLVE_MAX_ADDRS)
		return false;
	if (n - sizeof(r) != (size_t)r.count * sizeof(ip))
		return false;
	for (i = 0; i < r.count; i++) {
		memcpy(&ip, p + sizeof(r) + i * sizeof(ip), sizeof(ip));
		if (!addr_ok(ip.family, ip.addr))
			return false;
		if (ip.family == AF_INET && ip.scope != 0)
			return false;
	}
	return true;
}

/* A host to explain is a name or an address literal, as egressctl got it. */
static bool
explain_host_copy(const uint8_t *p, size_t n, char out[EG_NAME_MAX + 1])
{
	if (n < 1 || n > EG_NAME_MAX || !host_chars_ok(p, n))
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	if (eg_is_ip_literal(out))
		return true;
	return name_copy(p, n, out);
}

static bool
decode_explain_req(const uint8_t *p, size_t n)
{
	struct eg_msg_explain_req r;
	char host[EG_NAME_MAX + 1];

	if (n < sizeof(r))
		return false;
	memcpy(&r, p, sizeof(r));
	if (r.hostlen != n - sizeof(r))
		return false;
	return explain_host_copy(p + sizeof(r), r.hostlen, host);
}

static bool
decode_payload(uint16_t type, const uint8_t *p, size_t n)
{
	struct eg_msg_error e;

	switch (type) {
	case EG_MSG_STATUS_REQ:
	case EG_MSG_RELOAD_REQ:
		return n == 0;
	case EG_MSG_ERROR:
		if (n != sizeof(e))
			return false;
		memcpy(&e, p, sizeof(e));
		return e.code > 0 && e.code <= 4095;
	case EG_MSG_STATUS_REP:
		return decode_status(p, n);
	case EG_MSG_RELOAD_REP:
	case EG_MSG_SET_ACK:
	case EG_MSG_EXPLAIN_REP:
		return decode_result(p, n) &&
		    (type != EG_MSG_SET_ACK || n == sizeof(struct eg_msg_result));
	case EG_MSG_SET_UPDATE:
		return decode_set_update(p, n);
	case EG_MSG_RESOLVE_REQ:
		return decode_resolve_req(p, n);
	case EG_MSG_RESOLVE_REP:
		return decode_resolve_rep(p, n);
	case EG_MSG_EXPLAIN_REQ:
		return decode_explain_req(p, n);
	case EG_MSG_FD_PASS:
		return n == sizeof(struct eg_msg_fd_pass);
	default:
		return false;
	}
}

int
eg_ipc_decode(const uint8_t *buf, size_t n, struct eg_ipc_msg *msg)
{
	struct eg_ipc_hdr h;

	/* Typed accessors hand out struct pointers into buf. */
	if (buf == NULL || ((uintptr_t)buf & 3) != 0)
		goto bad;
	if (n < HDR_LEN || n > EG_IPC_MAX_MSG)
		goto bad;
	memcpy(&h, buf, HDR_LEN);
	if (h.flags != 0 || h.len != n - HDR_LEN)
		goto bad;
	if (!decode_payload(h.type, buf + HDR_LEN, h.len))
		goto bad;
	msg->hdr = h;
	msg->payload = buf + HDR_LEN;
	msg->fd = -1;
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

/* ---- typed accessors -------------------------------------------------- */

const struct eg_msg_set_update *
eg_ipc_set_update(const struct eg_ipc_msg *m, const struct eg_set_elem **elems)
{
	if (m->hdr.type != EG_MSG_SET_UPDATE ||
	    !decode_set_update(m->payload, m->hdr.len))
		return NULL;
	if (elems != NULL)
		*elems = (const struct eg_set_elem *)(const void *)(m->payload +
		    sizeof(struct eg_msg_set_update));
	return (const struct eg_msg_set_update *)(const void *)m->payload;
}

const struct eg_msg_resolve_req *
eg_ipc_resolve_req(const struct eg_ipc_msg *m, char name[EG_NAME_MAX + 1])
{
	const struct eg_msg_resolve_req *r;

	if (m->hdr.type != EG_MSG_RESOLVE_REQ ||
	    !decode_resolve_req(m->payload, m->hdr.len))
		return NULL;
	r = (const struct eg_msg_resolve_req *)(const void *)m->payload;
	if (!name_copy(m->payload + sizeof(*r), r->namelen, name))
		return NULL;
	return r;
}

const struct eg_msg_resolve_rep *
eg_ipc_resolve_rep(const struct eg_ipc_msg *m, const struct eg_ip **addrs)
{
	if (m->hdr.type != EG_MSG_RESOLVE_REP ||
	    !decode_resolve_rep(m->payload, m->hdr.len))
		return NULL;
	if (addrs != NULL)
		*addrs = (const struct eg_ip *)(const void *)(m->payload +
		    sizeof(struct eg_msg_resolve_rep));
	return (const struct eg_msg_resolve_rep *)(const void *)m->payload;
}

const struct eg_msg_status *
eg_ipc_status(const struct eg_ipc_msg *m, const char **text)
{
	if (m->hdr.type != EG_MSG_STATUS_REP ||
	    !decode_status(m->payload, m->hdr.len))
		return NULL;
	if (text != NULL)
		*text = (const char *)m->payload + sizeof(struct eg_msg_status);
	return (const struct eg_msg_status *)(const void *)m->payload;
}

const struct eg_msg_result *
eg_ipc_result(const struct eg_ipc_msg *m, const char **text)
{
	if (m->hdr.type != EG_MSG_RELOAD_REP &&
	    m->hdr.type != EG_MSG_SET_ACK &&
	    m->hdr.type != EG_MSG_EXPLAIN_REP)
		return NULL;
	if (!decode_payload(m->hdr.type, m->payload, m->hdr.len))
		return NULL;
	if (text != NULL)
		*text = (const char *)m->payload + sizeof(struct eg_msg_result);
	return (const struct eg_msg_result *)(const void *)m->payload;
}

const struct eg_msg_explain_req *
eg_ipc_explain_req(const struct eg_ipc_msg *m, char host[EG_NAME_MAX + 1])
{
	const struct eg_msg_explain_req *r;

	if (m->hdr.type != EG_MSG_EXPLAIN_REQ ||
	    !decode_explain_req(m->payload, m->hdr.len))
		return NULL;
	r = (const struct eg_msg_explain_req *)(const void *)m->payload;
	if (!explain_host_copy(m->payload + sizeof(*r), r->hostlen, host))
		return NULL;
	return r;
}

/* ---- sockets ---------------------------------------------------------- */

static int
sun_fill(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (path == NULL || path[0] == '\0' ||
	    strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

/*
 * Remove a socket left by a previous run.  A path that is not a socket is
 * never removed, and a socket someone still listens on means another
 * instance is running.
 */
static int
unlink_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, r;

	if (lstat(sun->sun_path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (r == 0 || errno == EAGAIN) {
		errno = EADDRINUSE;
		return -1;
	}
	if (unlink(sun->sun_path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

int
eg_ipc_listen(const char *path, gid_t gid)
{
	struct sockaddr_un sun;
	mode_t omask;
	int fd = -1, r, saved;

	if (sun_fill(&sun, path) == -1 || unlink_stale(&sun) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/*
	 * Created owner-only whatever the caller's umask, and opened to the
	 * group only once the group is right: never a moment with a wider
	 * mode than 0660 or the wrong group.  By path, because fchown() on
	 * a socket fd changes the socket inode, not the file bind() made;
	 * the runtime directory is writable by root only, so the path is
	 * still ours.
	 */
	omask = umask(0177);
	r = bind(fd, (const struct sockaddr *)&sun, sizeof(sun));
	umask(omask);
	if (r == -1)
		goto fail;
	if (gid != (gid_t)-1 && lchown(path, (uid_t)-1, gid) == -1)
		goto fail_unlink;
	if (chmod(path, 0660) == -1)
		goto fail_unlink;
	if (listen(fd, 64) == -1)
		goto fail_unlink;
	return fd;
fail_unlink:
	saved = errno;
	unlink(path);
	errno = saved;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
eg_ipc_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd, saved;

	if (sun_fill(&sun, path) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (const struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static bool
peer_in_group(int fd, gid_t want)
{
	gid_t groups[MAX_GROUPS];
	socklen_t len = sizeof(groups);
	size_t i;

	if (want == (gid_t)-1)
		return false;
	/* Too many groups to read is "not a member": fail closed. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1)
		return false;
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == want)
			return true;
	return false;
}

int
eg_ipc_peer_role(int fd, const struct eg_ipc_roles *roles, enum eg_role *role,
    uid_t *uid, pid_t *pid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	enum eg_role r;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1)
		return -1;
	if (len != sizeof(cr)) {
		errno = EPROTO;
		return -1;
	}
	r = eg_ipc_role_of(roles, cr.uid, cr.gid);
	if (r == EG_ROLE_NONE && peer_in_group(fd, roles->admin_gid))
		r = EG_ROLE_ADMIN;
	if (role != NULL)
		*role = r;
	if (uid != NULL)
		*uid = cr.uid;
	if (pid != NULL)
		*pid = cr.pid;
	return 0;
}

int
eg_ipc_accept(int lfd, enum eg_role *role, uid_t *uid, pid_t *pid)
{
	int fd, saved;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd == -1)
		return -1;
	if (eg_ipc_peer_role(fd, &ipc_roles, role, uid, pid) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* ---- send and receive ------------------------------------------------- */

int
eg_ipc_sendv(int sock, uint16_t type, uint32_t id, const struct iovec *iov,
    int iovcnt, int fd)
{
	_Alignas(8) uint8_t buf[EG_IPC_MAX_MSG];
	union {
		struct cmsghdr hdr;
		uint8_t buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct eg_ipc_hdr h = { .type = type, .flags = 0, .id = id };
	struct eg_ipc_msg check;
	struct msghdr mh;
	struct iovec out;
	struct cmsghdr *c;
	size_t len = 0;
	int i;

	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > EG_IPC_MAX_PAYLOAD - len) {
			errno = EMSGSIZE;
			return -1;
		}
		if (iov[i].iov_len > 0)
			memcpy(buf + HDR_LEN + len, iov[i].iov_base,
			    iov[i].iov_len);
		len += iov[i].iov_len;
	}
	h.len = (uint32_t)len;
	memcpy(buf, &h, HDR_LEN);
	/* Never send what the peer has to reject, fd rule included. */
	if (eg_ipc_decode(buf, HDR_LEN + len, &check) == -1 ||
	    (fd >= 0) != (type == EG_MSG_FD_PASS)) {
		errno = EINVAL;
		return -1;
	}
	out.iov_base = buf;
	out.iov_len = HDR_LEN + len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &out;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) == -1)
		return -1;
	return 0;
}

int
eg_ipc_send(int sock, uint16_t type, uint32_t id, const void *payload,
    size_t len, int fd)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)payload,
	    .iov_len = len };

	return eg_ipc_sendv(sock, type, id, &iov, len > 0 ? 1 : 0, fd);
}

static void
close_fds(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

/* Collect every fd the kernel installed; false on any other cmsg. */
static bool
collect_fds(struct msghdr *mh, int *fds, size_t *nfds)
{
	struct cmsghdr *c;
	size_t i, n;
	bool ok = true;

	*nfds = 0;
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0)) {
			ok = false;
			continue;
		}
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n && *nfds < CMSG_FDS; i++)
			memcpy(&fds[(*nfds)++], CMSG_DATA(c) + i * sizeof(int),
			    sizeof(int));
	}
	return ok;
}

int
eg_ipc_recv(int sock, uint8_t *buf, size_t buflen, struct eg_ipc_msg *msg)
{
	union {
		struct cmsghdr hdr;
		uint8_t buf[CMSG_SPACE(CMSG_FDS * sizeof(int))];
	} cm;
	int fds[CMSG_FDS];
	struct msghdr mh;
	struct iovec iov;
	size_t nfds = 0;
	ssize_t n;
	bool cm_ok;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = buflen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	cm_ok = collect_fds(&mh, fds, &nfds);
	if (n == 0) {
		/* A zero-length datagram is as good as a hang-up. */
		close_fds(fds, nfds);
		return 0;
	}
	if (!cm_ok || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0)
		goto bad;
	if (eg_ipc_decode(buf, (size_t)n, msg) == -1)
		goto bad;
	if (msg->hdr.type == EG_MSG_FD_PASS ? nfds != 1 : nfds != 0)
		goto bad;
	msg->fd = nfds == 1 ? fds[0] : -1;
	/* Convenience only: text at the tail reads as a C string too. */
	if ((size_t)n < buflen)
		buf[n] = '\0';
	return 1;
bad:
	close_fds(fds, nfds);
	errno = EBADMSG;
	return -1;
}

/* ---- blocking call ---------------------------------------------------- */

static int
wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t now;
	int r;

	for (;;) {
		now = eg_now_ms();
		if (now >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&pfd, 1, (int)(deadline - now > 60000 ? 60000 :
		    deadline - now));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r > 0)
			return 0;
	}
}

static uint32_t
next_id(void)
{
	static uint32_t id;

	if (id == 0)
		id = (uint32_t)getpid() << 8;
	if (++id == 0)
		id = 1;
	return id;
}

int
eg_ipc_call(const char *path, uint16_t type, const void *payload, size_t len,
    uint8_t *buf, size_t buflen, struct eg_ipc_msg *reply, int timeout_ms)
{
	uint64_t deadline = eg_now_ms() + (uint64_t)(timeout_ms > 0 ?
	    timeout_ms : 0);
	uint32_t id = next_id();
	int fd, r, saved;

	fd = eg_ipc_connect(path);
	if (fd == -1)
		return -1;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		goto fail;
	if (wait_fd(fd, POLLOUT, deadline) == -1)
		goto fail;
	if (eg_ipc_send(fd, type, id, payload, len, -1) == -1)
		goto fail;
	for (;;) {
		if (wait_fd(fd, POLLIN, deadline) == -1)
			goto fail;
		r = eg_ipc_recv(fd, buf, buflen, reply);
		if (r == -1 && errno == EAGAIN)
			continue;
		if (r == -1)
			goto fail;
		if (r == 0) {
			errno = ECONNRESET;
			goto fail;
		}
		break;
	}
	if (reply->hdr.id != id || !eg_ipc_reply_ok(type, reply->hdr.type)) {
		if (reply->fd >= 0)
			close(reply->fd);
		reply->fd = -1;
		errno = EPROTO;
		goto fail;
	}
	close(fd);
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}
