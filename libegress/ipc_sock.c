/*
 * ipc_sock.c - the transport under ipc.c's messages: AF_UNIX
 * SOCK_SEQPACKET sockets, one message per datagram, the peer's
 * credentials as the kernel recorded them, and a blocking call for
 * egressctl and probes.
 *
 * No message type carries a file descriptor.  A datagram that arrives
 * with one (or any other control message) is rejected, and every
 * descriptor the kernel installed with it is closed: a peer cannot make
 * us hold its files.
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

#include "ipc.h"
#include "log.h"

#define HDR_LEN		sizeof(struct eg_ipc_hdr)
#define MAX_GROUPS	256
/* Room for more fds than a peer should ever attach, so all are closed. */
#define CMSG_FDS	8

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


/* ---- send and receive ------------------------------------------------- */

int
eg_ipc_sendv(int sock, uint16_t type, uint32_t id, const struct iovec *iov,
    int iovcnt)
{
	_Alignas(8) uint8_t buf[EG_IPC_MAX_MSG];
	struct eg_ipc_hdr h = { .type = type, .flags = 0, .id = id };
	struct eg_ipc_msg check;
	struct msghdr mh;
	struct iovec out;
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
	/* Never send what the peer has to reject. */
	if (eg_ipc_decode(buf, HDR_LEN + len, &check) == -1) {
		errno = EINVAL;
		return -1;
	}
	out.iov_base = buf;
	out.iov_len = HDR_LEN + len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &out;
	mh.msg_iovlen = 1;
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) == -1)
		return -1;
	return 0;
}

int
eg_ipc_send(int sock, uint16_t type, uint32_t id, const void *payload,
    size_t len)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)payload,
	    .iov_len = len };

	return eg_ipc_sendv(sock, type, id, &iov, len > 0 ? 1 : 0);
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
	/* No type carries a descriptor: one attached is hostile. */
	if (nfds != 0 || eg_ipc_decode(buf, (size_t)n, msg) == -1)
		goto bad;
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
	if (eg_ipc_send(fd, type, id, payload, len) == -1)
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
