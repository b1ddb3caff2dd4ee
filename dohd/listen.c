/*
 * listen.c - port-53 intake: UDP and TCP on every [dohd] listen address.
 *
 * UDP answers leave from the very address the query was sent to: after an
 * nft redirect or dnat, conntrack maps the answer back only if its source
 * is that address.  A socket bound to one address gets that for free; a
 * wildcard socket learns the address with IP_PKTINFO / IPV6_RECVPKTINFO
 * and sets it on each answer.  Datagrams are read with recvmmsg, and the
 * answers queued and sent with sendmmsg once the batch is handled (or, for
 * answers that came later from upstream, at the end of the loop turn): a
 * syscall per batch, not two per query.
 * TCP uses 2-byte length framing (RFC 1035 4.2.2, RFC 7766): pipelined
 * queries are answered as they complete, a connection has an idle timeout,
 * a bounded number of queries in flight and of bytes buffered.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmark.h"
#include "wllisten.h"
#include "log.h"
#include "notify.h"

#include "listen.h"

#define DL_UDP_BATCH		64	/* datagrams per recvmmsg/sendmmsg */
#define DL_UDP_CMSG		64	/* room for one in6_pktinfo */
#define DL_UDP_RXCMSG		256	/* and for what else a .socket unit
					 * may turn on (timestamps, ...) */
#define DL_TCP_IDLE_MS		10000
#define DL_TCP_MAX_CONNS	256
#define DL_TCP_MAX_INFLIGHT	32
#define DL_MAX_SOCKS		32

/* An answer waiting for the next sendmmsg.  UDP answers never exceed
 * DNS_UDP_MAX (dns_udp_limit); anything larger goes out on its own. */
struct dl_out {
	struct sockaddr_storage peer;
	socklen_t peerlen;
	size_t cmsglen;
	size_t len;
	union {
		size_t align;	/* as struct cmsghdr */
		uint8_t buf[DL_UDP_CMSG];
	} cb;
	uint8_t wire[DNS_UDP_MAX];
};

struct dl_udp {
	struct dlisten *l;
	struct dl_udp *next;		/* every UDP socket, for the flush */
	struct dquery_wl wl;		/* a workload's own; "": default */
	uv_poll_t poll;
	int fd;
	int family;
	int refs;			/* the socket, and queries in flight */
	bool closing;
	unsigned nout;
	struct dl_out out[DL_UDP_BATCH];
	struct mmsghdr omsg[DL_UDP_BATCH];
	struct iovec oiov[DL_UDP_BATCH];
};

struct dl_tcp_conn {
	struct dlisten *l;
	uv_tcp_t tcp;
	uv_timer_t idle;
	int handles;
	int refs;		/* queries in flight hold the conn */
	bool closing;
	bool paused;
	unsigned inflight;
	struct dquery_src src;
	size_t have;
	uint8_t buf[2 + DNS_MAX_MSG];
};

/* What one recvmmsg fills. */
struct dl_rx {
	struct mmsghdr msg[DL_UDP_BATCH];
	struct iovec iov[DL_UDP_BATCH];
	struct sockaddr_storage peer[DL_UDP_BATCH];
	union {
		size_t align;	/* as struct cmsghdr */
		uint8_t buf[DL_UDP_RXCMSG];
	} cb[DL_UDP_BATCH];
	/* A whole datagram each, so no query is ever cut (pages are only
	 * touched as far as datagrams reach). */
	uint8_t buf[DL_UDP_BATCH][DNS_MAX_MSG];
};

/* A TCP listener. */
struct dl_srv {
	struct dlisten *l;
	struct dquery_wl wl;		/* "": default */
	uv_tcp_t tcp;
};

/* One workload's listeners (dlisten_wl_open). */
struct dl_wl {
	struct dlisten *l;
	struct dl_udp *udp[2];		/* IPv4, IPv6; NULL: none */
	struct dl_srv *tcp[2];
};

struct dlisten {
	uv_loop_t *loop;
	struct dohd *d;
	struct dl_udp *udps;		/* default and workloads' */
	size_t nudp;			/* default ones */
	struct dl_srv *tcp[DL_MAX_SOCKS];
	size_t ntcp;
	unsigned nconns;
	uv_check_t flush;	/* answers completed in this loop turn */
	struct dl_rx *rx;
	uint32_t mark;		/* [jail] listener_mark; 0: jails nothing */
};

static int
udp_socket(const struct sockaddr_storage *ss, socklen_t sl, char *err,
    size_t errlen)
{
	int fd, one = 1;

	fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		goto fail;
	if (ss->ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	/* No SO_REUSEADDR: with it any user could bind the same UDP
	 * address beside ours and take the queries (see add_udp). */
	if (bind(fd, (const struct sockaddr *)ss, sl) < 0)
		goto fail;
	return fd;
 fail:
	snprintf(err, errlen, "udp socket: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static bool
is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)ss)->
		    sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(
	    &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr);
}

static int
set_pktinfo(int fd, int family)
{
	int one = 1;

	if (family == AF_INET)
		return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one,
		    sizeof(one));
	return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
	    sizeof(one));
}

/* The control message that makes the answer leave from the address the
 * query was sent to; returns its length (0: none). */
static size_t
put_pktinfo(const struct dquery_src *src, uint8_t *buf)
{
	struct cmsghdr *cm = (struct cmsghdr *)(void *)buf;

	if (!src->has_local)
		return 0;
	memset(buf, 0, DL_UDP_CMSG);
	if (src->local.family == AF_INET) {
		struct in_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		memcpy(&pi.ipi_spec_dst, src->local.addr, 4);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	} else {
		struct in6_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		memcpy(&pi.ipi6_addr, src->local.addr, 16);
		pi.ipi6_ifindex = src->ifindex;
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
}

/*
 * Send the queued answers, as many per sendmmsg as the kernel takes.  A
 * full socket buffer drops what is left (the clients retry); any other
 * error drops only the answer it belongs to.
 */
static void
udp_flush(struct dl_udp *u)
{
	unsigned off = 0;

	for (unsigned i = 0; i < u->nout; i++) {
		struct dl_out *o = &u->out[i];
		struct msghdr *mh = &u->omsg[i].msg_hdr;

		u->oiov[i].iov_base = o->wire;
		u->oiov[i].iov_len = o->len;
		memset(mh, 0, sizeof(*mh));
		mh->msg_name = &o->peer;
		mh->msg_namelen = o->peerlen;
		mh->msg_iov = &u->oiov[i];
		mh->msg_iovlen = 1;
		if (o->cmsglen > 0) {
			mh->msg_control = o->cb.buf;
			mh->msg_controllen = o->cmsglen;
		}
	}
	while (off < u->nout) {
		int r = sendmmsg(u->fd, u->omsg + off, u->nout - off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r > 0)
			off += (unsigned)r;
		else if (r < 0 && errno == EINTR)
			continue;
		else if (r < 0 && (errno == EAGAIN || errno == ENOBUFS))
			break;
		else
			off++;	/* this one cannot go: skip it */
	}
	u->nout = 0;
}

static void
flush_all(uv_check_t *h)
{
	struct dlisten *l = h->data;

	for (struct dl_udp *u = l->udps; u != NULL; u = u->next)
		if (u->nout > 0)
			udp_flush(u);
}

/* An answer too large for a batch slot (never for UDP in practice). */
static void
udp_send_one(struct dl_udp *u, const struct dquery_src *src,
    const uint8_t *wire, size_t len)
{
	struct msghdr mh;
	struct iovec iov;
	union {
		size_t align;	/* as struct cmsghdr */
		uint8_t buf[DL_UDP_CMSG];
	} cb;
	size_t cl;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)wire;
	iov.iov_len = len;
	mh.msg_name = (void *)&src->peer;
	mh.msg_namelen = src->peerlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if ((cl = put_pktinfo(src, cb.buf)) > 0) {
		mh.msg_control = cb.buf;
		mh.msg_controllen = cl;
	}
	(void)sendmsg(u->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void
udp_closed(uv_handle_t *h)
{
	struct dl_udp *u = h->data;

	close(u->fd);
	u->fd = -1;
	if (--u->refs == 0)
		free(u);
}

static void
udp_unref(struct dl_udp *u)
{
	if (--u->refs == 0)
		free(u);
}

/* Queue the answer; it leaves with the batch, at the latest at the end
 * of this loop turn (the check handle).  A socket closed meanwhile (its
 * workload left the config) sends nothing. */
static void
udp_reply(void *arg, const struct dquery_src *src, const uint8_t *wire,
    size_t len)
{
	struct dl_udp *u = arg;
	struct dl_out *o;

	if (u->closing || wire == NULL || len == 0) {
		udp_unref(u);
		return;
	}
	if (len > sizeof(o->wire) || src->peerlen > sizeof(o->peer)) {
		udp_send_one(u, src, wire, len);
		udp_unref(u);
		return;
	}
	if (u->nout == DL_UDP_BATCH)
		udp_flush(u);
	o = &u->out[u->nout++];
	memcpy(o->wire, wire, len);
	o->len = len;
	memcpy(&o->peer, &src->peer, src->peerlen);
	o->peerlen = src->peerlen;
	o->cmsglen = put_pktinfo(src, o->cb.buf);
	udp_unref(u);
}

static void
udp_readable(uv_poll_t *p, int status, int events)
{
	struct dl_udp *u = p->data;
	struct dlisten *l = u->l;
	struct dl_rx *rx = l->rx;
	int n;

	if (status < 0 || u->closing)
		return;
	for (int i = 0; i < DL_UDP_BATCH; i++) {
		struct msghdr *mh = &rx->msg[i].msg_hdr;

		rx->iov[i].iov_base = rx->buf[i];
		rx->iov[i].iov_len = sizeof(rx->buf[i]);
		memset(mh, 0, sizeof(*mh));
		mh->msg_name = &rx->peer[i];
		mh->msg_namelen = sizeof(rx->peer[i]);
		mh->msg_iov = &rx->iov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = rx->cb[i].buf;
		mh->msg_controllen = sizeof(rx->cb[i].buf);
	}
	n = recvmmsg(u->fd, rx->msg, DL_UDP_BATCH, MSG_DONTWAIT, NULL);
	/* EAGAIN, or an ICMP error: nothing to do */
	for (int i = 0; i < n; i++) {
		struct msghdr *mh = &rx->msg[i].msg_hdr;
		struct dquery_src src;
		struct cmsghdr *cm;

		memset(&src, 0, sizeof(src));
		src.wl = u->wl;
		/* A cut datagram (never a whole query): dropped unanswered. */
		if (mh->msg_flags & (MSG_TRUNC | MSG_CTRUNC) ||
		    mh->msg_namelen > sizeof(src.peer))
			continue;
		memcpy(&src.peer, mh->msg_name, mh->msg_namelen);
		src.peerlen = mh->msg_namelen;
		if (!eg_ip_from_sockaddr((struct sockaddr *)&src.peer,
		    &src.ip, &src.port))
			continue;
		for (cm = CMSG_FIRSTHDR(mh); cm != NULL;
		    cm = CMSG_NXTHDR(mh, cm)) {
			if (cm->cmsg_level == IPPROTO_IP &&
			    cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				src.local.family = AF_INET;
				memcpy(src.local.addr, &pi.ipi_addr, 4);
				src.has_local = true;
			} else if (cm->cmsg_level == IPPROTO_IPV6 &&
			    cm->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				src.local.family = AF_INET6;
				memcpy(src.local.addr, &pi.ipi6_addr, 16);
				src.ifindex = pi.ipi6_ifindex;
				src.has_local = true;
			}
		}
		u->refs++;
		dquery_handle(l->d, rx->buf[i], rx->msg[i].msg_len, &src,
		    udp_reply, u);
	}
	if (u->nout > 0 && !u->closing)
		udp_flush(u);
}

/* ---- TCP ---- */

static void
tcp_handle_closed(uv_handle_t *h)
{
	struct dl_tcp_conn *c = h->data;

	if (--c->handles == 0 && c->refs == 0) {
		c->l->nconns--;
		free(c);
	}
}

static void
tcp_close(struct dl_tcp_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_close((uv_handle_t *)&c->tcp, tcp_handle_closed);
	uv_close((uv_handle_t *)&c->idle, tcp_handle_closed);
}

static void
tcp_unref(struct dl_tcp_conn *c)
{
	if (--c->refs == 0 && c->closing && c->handles == 0) {
		c->l->nconns--;
		free(c);
	}
}

static void tcp_on_read(uv_stream_t *, ssize_t, const uv_buf_t *);
static void tcp_alloc(uv_handle_t *, size_t, uv_buf_t *);

static void
tcp_written(uv_write_t *w, int status)
{
	free(w->data);
	free(w);
}

static void
tcp_reply(void *arg, const struct dquery_src *src, const uint8_t *wire,
    size_t len)
{
	struct dl_tcp_conn *c = arg;
	uv_write_t *w;
	uv_buf_t b;
	uint8_t *buf;

	c->inflight--;
	if (c->closing || wire == NULL || len == 0 || len > DNS_MAX_MSG)
		goto out;
	if ((buf = malloc(len + 2)) == NULL ||
	    (w = malloc(sizeof(*w))) == NULL) {
		free(buf);
		tcp_close(c);
		goto out;
	}
	dns_put16(buf, (uint16_t)len);
	memcpy(buf + 2, wire, len);
	w->data = buf;
	b = uv_buf_init((char *)buf, (unsigned)len + 2);
	if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, tcp_written) < 0) {
		free(buf);
		free(w);
		tcp_close(c);
		goto out;
	}
	uv_timer_again(&c->idle);
	if (c->paused && c->inflight < DL_TCP_MAX_INFLIGHT) {
		c->paused = false;
		uv_read_start((uv_stream_t *)&c->tcp, tcp_alloc, tcp_on_read);
	}
 out:
	tcp_unref(c);
}

static void
tcp_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	struct dl_tcp_conn *c = h->data;

	b->base = (char *)c->buf + c->have;
	b->len = sizeof(c->buf) - c->have;
}

static void
tcp_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct dl_tcp_conn *c = s->data;
	size_t off = 0;

	if (n < 0) {
		tcp_close(c);
		return;
	}
	if (n == 0)
		return;
	c->have += (size_t)n;
	uv_timer_again(&c->idle);
	while (!c->closing && c->have - off >= 2) {
		size_t ml = dns_get16(c->buf + off);

		if (ml == 0) {
			tcp_close(c);	/* nothing sensible follows */
			return;
		}
		if (c->have - off < 2 + ml)
			break;
		c->inflight++;
		c->refs++;
		dquery_handle(c->l->d, c->buf + off + 2, ml, &c->src, tcp_reply,
		    c);
		off += 2 + ml;
		if (c->inflight >= DL_TCP_MAX_INFLIGHT && !c->paused) {
			c->paused = true;
			uv_read_stop(s);
			break;
		}
	}
	if (off > 0) {
		memmove(c->buf, c->buf + off, c->have - off);
		c->have -= off;
	}
}

static void
tcp_idle(uv_timer_t *t)
{
	struct dl_tcp_conn *c = t->data;

	/* Queries still being resolved keep the conn open. */
	if (c->inflight == 0)
		tcp_close(c);
}

static void
tcp_accept(uv_stream_t *srv, int status)
{
	struct dl_srv *sv = srv->data;
	struct dlisten *l = sv->l;
	struct dl_tcp_conn *c;
	struct sockaddr_storage ss;
	int sl = sizeof(ss);

	if (status < 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->l = l;
	uv_tcp_init(l->loop, &c->tcp);
	uv_timer_init(l->loop, &c->idle);
	c->tcp.data = c->idle.data = c;
	c->handles = 2;
	l->nconns++;
	if (uv_accept(srv, (uv_stream_t *)&c->tcp) < 0 ||
	    l->nconns > DL_TCP_MAX_CONNS ||
	    uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) < 0 ||
	    !eg_ip_from_sockaddr((struct sockaddr *)&ss, &c->src.ip,
	    &c->src.port)) {
		tcp_close(c);
		return;
	}
	c->src.tcp = true;
	c->src.wl = sv->wl;
	uv_timer_start(&c->idle, tcp_idle, DL_TCP_IDLE_MS, DL_TCP_IDLE_MS);
	uv_read_start((uv_stream_t *)&c->tcp, tcp_alloc, tcp_on_read);
}

/* ---- set-up ---- */

/*
 * The listener mark (lmark.h), so the jail delivers DNS to this socket
 * and to no squatter's.  A UDP socket also loses SO_REUSEADDR (systemd
 * sets it on every socket): while a socket with it is bound, any user can
 * bind the same address and port with it too, and unicast queries then
 * go to the newer socket.  Without it that bind fails (EADDRINUSE).
 */
static int
guard(struct dlisten *l, int fd, const char *proto, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct eg_ip ip;
	uint16_t port = 0;
	char what[80], a[64] = "?";
	int zero = 0;

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    eg_ip_from_sockaddr((struct sockaddr *)&ss, &ip, &port))
		eg_ip_str(&ip, a, sizeof(a));
	snprintf(what, sizeof(what), "%s %s%s%s:%u", proto,
	    ss.ss_family == AF_INET6 ? "[" : "", a,
	    ss.ss_family == AF_INET6 ? "]" : "", port);
	if (l->mark != 0 && eg_lmark_apply(fd, l->mark, what, err,
	    errlen) != 0)
		return -1;
	if (strcmp(proto, "udp") == 0 && setsockopt(fd, SOL_SOCKET,
	    SO_REUSEADDR, &zero, sizeof(zero)) < 0) {
		snprintf(err, errlen, "%s: SO_REUSEADDR: %s", what,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* wl: a workload's socket (no limit: the pool bounds them), else one of
 * [dohd] listen. */
static struct dl_udp *
add_udp(struct dlisten *l, int fd, const struct dquery_wl *wl, char *err,
    size_t errlen)
{
	struct dl_udp *u;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (wl == NULL && l->nudp == DL_MAX_SOCKS) {
		snprintf(err, errlen, "too many listen addresses");
		return NULL;
	}
	if (guard(l, fd, "udp", err, errlen) < 0)
		return NULL;
	/* Bound to one address, the answers leave from it: no control
	 * message to build, send and parse for each of them. */
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    (is_wildcard(&ss) && set_pktinfo(fd, ss.ss_family) < 0)) {
		snprintf(err, errlen, "udp pktinfo: %s", strerror(errno));
		return NULL;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (wl != NULL)
		u->wl = *wl;
	else
		l->nudp++;
	u->next = l->udps;
	l->udps = u;
	u->l = l;
	u->fd = fd;
	u->refs = 1;
	u->family = ss.ss_family;
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	uv_poll_init(l->loop, &u->poll, fd);
	u->poll.data = u;
	uv_poll_start(&u->poll, UV_READABLE, udp_readable);
	return u;
}

static void
srv_closed(uv_handle_t *h)
{
	free(h->data);
}

/* Bound by uv (ss) or already bound (fd); wl as for add_udp.  On failure
 * the handle is closed. */
static struct dl_srv *
add_tcp(struct dlisten *l, int fd, const struct sockaddr_storage *ss,
    const struct dquery_wl *wl, char *err, size_t errlen)
{
	struct dl_srv *sv;
	int r;

	if (wl == NULL && l->ntcp == DL_MAX_SOCKS) {
		snprintf(err, errlen, "too many listen addresses");
		return NULL;
	}
	if ((sv = calloc(1, sizeof(*sv))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sv->l = l;
	if (wl != NULL)
		sv->wl = *wl;
	uv_tcp_init(l->loop, &sv->tcp);
	sv->tcp.data = sv;
	if (fd >= 0)
		r = uv_tcp_open(&sv->tcp, fd);
	else
		r = uv_tcp_bind(&sv->tcp, (const struct sockaddr *)ss,
		    ss->ss_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
	/* marked before listen(): it never takes a connection unmarked */
	if (r == 0 && (r = uv_fileno((uv_handle_t *)&sv->tcp, &fd)) == 0 &&
	    guard(l, fd, "tcp", err, errlen) < 0) {
		uv_close((uv_handle_t *)&sv->tcp, srv_closed);
		return NULL;
	}
	if (r == 0)
		r = uv_listen((uv_stream_t *)&sv->tcp, 128, tcp_accept);
	if (r < 0) {
		snprintf(err, errlen, "tcp listen: %s", uv_strerror(r));
		uv_close((uv_handle_t *)&sv->tcp, srv_closed);
		return NULL;
	}
	if (wl == NULL)
		l->tcp[l->ntcp++] = sv;
	return sv;
}

struct dlisten *
dlisten_open(uv_loop_t *loop, struct dohd *d, const struct eg_config *cfg,
    char *err, size_t errlen)
{
	struct dlisten *l;
	int ufd, tfd;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->loop = loop;
	l->d = d;
	l->mark = eg_lmark_required(cfg) ? cfg->jail.listener_mark : 0;
	/* Virtual size only: pages are touched as far as datagrams reach. */
	if ((l->rx = calloc(1, sizeof(*l->rx))) == NULL) {
		free(l);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	uv_check_init(loop, &l->flush);
	l->flush.data = l;
	uv_check_start(&l->flush, flush_all);
	uv_unref((uv_handle_t *)&l->flush);
	/* systemd socket activation first: no privilege needed at all. */
	ufd = eg_listen_fd("dns-udp");
	tfd = eg_listen_fd("dns-tcp");
	if (ufd >= 0 || tfd >= 0) {
		if (ufd >= 0 && add_udp(l, ufd, NULL, err, errlen) == NULL)
			goto fail;
		if (tfd >= 0 && add_tcp(l, tfd, NULL, NULL, err, errlen) ==
		    NULL)
			goto fail;
		return l;
	}
	for (size_t i = 0; i < cfg->dohd.nlisten; i++) {
		struct sockaddr_storage ss;
		socklen_t sl;
		char e[EG_ERR_MAX];

		if (!eg_sockaddr_parse(cfg->dohd.listen[i], &ss, &sl, e)) {
			snprintf(err, errlen, "listen %s: %s",
			    cfg->dohd.listen[i], e);
			goto fail;
		}
		if ((ufd = udp_socket(&ss, sl, err, errlen)) < 0)
			goto fail;
		if (add_udp(l, ufd, NULL, err, errlen) == NULL) {
			close(ufd);
			goto fail;
		}
		if (add_tcp(l, -1, &ss, NULL, err, errlen) == NULL)
			goto fail;
	}
	if (l->nudp == 0) {
		snprintf(err, errlen, "no listen address");
		goto fail;
	}
	return l;
 fail:
	/* Start-up failure: the process exits, the kernel closes fds. */
	return NULL;
}

/* ---- a workload's own listeners ---- */

static void
udp_close(struct dl_udp *u)
{
	struct dl_udp **pp;

	for (pp = &u->l->udps; *pp != NULL; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	if (u->nout > 0)
		udp_flush(u);
	u->closing = true;
	uv_poll_stop(&u->poll);
	uv_close((uv_handle_t *)&u->poll, udp_closed);
}

void
dlisten_wl_close(struct dl_wl *w)
{
	if (w == NULL)
		return;
	for (int f = 0; f < 2; f++) {
		if (w->udp[f] != NULL)
			udp_close(w->udp[f]);
		if (w->tcp[f] != NULL)
			uv_close((uv_handle_t *)&w->tcp[f]->tcp, srv_closed);
	}
	free(w);
}

struct dl_wl *
dlisten_wl_open(struct dlisten *l, struct eg_wll_pool *pool,
    const struct dquery_wl *tag, uint16_t ports[EG_WLL__SLOTS], char *err,
    size_t errlen)
{
	struct dl_wl *w;
	char e[EG_ERR_MAX];

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->l = l;
	for (int s = 0; s < EG_WLL__SLOTS; s++) {
		int f = eg_wll_family(s) == AF_INET ? 0 : 1;
		int fd;

		ports[s] = 0;
		/* IPv6 on [::]: a bridge's IPv6 DNS is redirected to the
		 * bridge's address (no route_localnet), a local user's
		 * DNATed to ::1; netjaild's input rules take only what its
		 * own NAT sent there from jailed sources. */
		fd = eg_wll_open(pool, s, true, &ports[s], e, sizeof(e));
		/* A host without IPv6 serves IPv4 only; netjaild drops the
		 * workload's IPv6 DNS, as for anything unregistered. */
		if (fd < 0 && f == 1 && errno == EADDRNOTAVAIL)
			continue;
		if (fd < 0) {
			snprintf(err, errlen, "%s", e);
			goto fail;
		}
		if (eg_wll_tcp(s)) {
			if ((w->tcp[f] = add_tcp(l, fd, NULL, tag, e,
			    sizeof(e))) == NULL) {
				snprintf(err, errlen, "%s", e);
				goto fail;
			}
		} else if ((w->udp[f] = add_udp(l, fd, tag, e, sizeof(e))) ==
		    NULL) {
			close(fd);
			snprintf(err, errlen, "%s", e);
			goto fail;
		}
	}
	return w;
 fail:
	dlisten_wl_close(w);
	return NULL;
}

void
dlisten_wl_retag(struct dl_wl *w, const struct dquery_wl *tag)
{
	for (int f = 0; f < 2; f++) {
		if (w->udp[f] != NULL)
			w->udp[f]->wl = *tag;
		if (w->tcp[f] != NULL)
			w->tcp[f]->wl = *tag;
	}
}
