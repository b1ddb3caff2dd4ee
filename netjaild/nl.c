/*
 * nl.c - netlink transport for nf_tables batches and dumps.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>

#include "nl.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/* Room kept free for the next message: the largest one we build. */
#define NJ_MSG_ROOM	(80 * 1024)
#define NJ_ACK_TIMEOUT_MS 5000

int
nl_open(struct nj_nl *nl, int bus, char *err, size_t errlen)
{
	int one = 1, size = 4 * 1024 * 1024;

	memset(nl, 0, sizeof(*nl));
	if ((nl->sk = mnl_socket_open(bus)) == NULL) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		return -1;
	}
	if (mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) == -1) {
		snprintf(err, errlen, "netlink bind: %s", strerror(errno));
		mnl_socket_close(nl->sk);
		nl->sk = NULL;
		return -1;
	}
	mnl_socket_setsockopt(nl->sk, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sk, NETLINK_CAP_ACK, &one, sizeof(one));
	/* Acks for a large batch must not overflow the receive buffer. */
	if (setsockopt(mnl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVBUFFORCE,
	    &size, sizeof(size)) == -1)
		setsockopt(mnl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVBUF,
		    &size, sizeof(size));
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

void
nl_close(struct nj_nl *nl)
{
	if (nl->sk != NULL)
		mnl_socket_close(nl->sk);
	nl->sk = NULL;
}

static int
reserve(struct nj_batch *b)
{
	char *n;
	size_t ncap;

	if (b->cap - b->len >= NJ_MSG_ROOM)
		return 0;
	ncap = b->cap ? b->cap * 2 : 4 * NJ_MSG_ROOM;
	while (ncap - b->len < NJ_MSG_ROOM)
		ncap *= 2;
	if ((n = realloc(b->buf, ncap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	/* nftnl writes into the buffer: keep the unused part zeroed. */
	memset(n + b->cap, 0, ncap - b->cap);
	b->buf = n;
	b->cap = ncap;
	return 0;
}

void
batch_init(struct nj_batch *b, struct nj_nl *nl)
{
	memset(b, 0, sizeof(*b));
	if (reserve(b) == -1)
		return;
	nftnl_batch_begin(b->buf, nl->seq++);
	b->len = NLMSG_ALIGN(((struct nlmsghdr *)b->buf)->nlmsg_len);
	b->first_seq = nl->seq;
}

struct nlmsghdr *
batch_msg(struct nj_batch *b, struct nj_nl *nl, uint16_t type,
    uint16_t flags, const char *fmt, ...)
{
	struct nlmsghdr *nlh;
	char **w;
	va_list ap;

	if (b->oom || reserve(b) == -1)
		return NULL;
	if (b->nwhat % 64 == 0) {
		w = reallocarray(b->what, b->nwhat + 64, sizeof(*w));
		if (w == NULL) {
			b->oom = 1;
			return NULL;
		}
		b->what = w;
	}
	va_start(ap, fmt);
	if (vasprintf(&b->what[b->nwhat], fmt, ap) == -1) {
		va_end(ap);
		b->oom = 1;
		return NULL;
	}
	va_end(ap);
	b->nwhat++;
	nlh = nftnl_nlmsg_build_hdr(b->buf + b->len, type, NFPROTO_INET,
	    flags | NLM_F_ACK, nl->seq++);
	b->nmsg++;
	return nlh;
}

/* The caller filled the last message: account for its length. */
static void
batch_close_last(struct nj_batch *b)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(b->buf + b->len);

	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

void
batch_finish(struct nj_batch *b, struct nj_nl *nl)
{
	if (b->oom || reserve(b) == -1)
		return;
	nftnl_batch_end(b->buf + b->len, nl->seq++);
	batch_close_last(b);
}

void
batch_free(struct nj_batch *b)
{
	size_t i;

	for (i = 0; i < b->nwhat; i++)
		free(b->what[i]);
	free(b->what);
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

void
batch_done(struct nj_batch *b)
{
	if (!b->oom)
		batch_close_last(b);
}

static const char *
extack_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	size_t off;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	mnl_attr_for_each(a, nlh, off) {
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG)
			return mnl_attr_get_str(a);
	}
	return NULL;
}

int
nl_batch_send(struct nj_nl *nl, struct nj_batch *b, char *err, size_t errlen)
{
	char rbuf[64 * 1024];
	struct pollfd pfd;
	uint32_t acked = 0;
	int fd = mnl_socket_get_fd(nl->sk), sz, rc = 0, got_err = 0;
	ssize_t n;

	if (b->oom) {
		snprintf(err, errlen, "building the batch: out of memory");
		return -ENOMEM;
	}
	/* A transaction is one sendmsg: make room for all of it. */
	sz = (int)b->len + 4096;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (mnl_socket_sendto(nl->sk, b->buf, b->len) < 0) {
		rc = -errno;
		snprintf(err, errlen, "sending batch of %zu bytes: %s", b->len,
		    strerror(errno));
		return rc;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (acked < b->nmsg) {
		const struct nlmsghdr *nlh;

		if (poll(&pfd, 1, got_err ? 200 : NJ_ACK_TIMEOUT_MS) <= 0) {
			if (got_err)
				break;
			snprintf(err, errlen, "no ack from the kernel for "
			    "%u of %u messages", b->nmsg - acked, b->nmsg);
			return -ETIMEDOUT;
		}
		if ((n = mnl_socket_recvfrom(nl->sk, rbuf, sizeof(rbuf))) < 0) {
			rc = -errno;
			snprintf(err, errlen, "reading acks: %s",
			    strerror(errno));
			return rc;
		}
		for (nlh = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, (int)n);
		    nlh = mnl_nlmsg_next(nlh, (int *)&n)) {
			const struct nlmsgerr *e;
			uint32_t i;
			const char *x;

			/* stale answers to earlier requests are not ours */
			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_seq - b->first_seq >= b->nmsg)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			acked++;
			if (e->error == 0 || got_err)
				continue;
			got_err = 1;
			rc = e->error;
			i = nlh->nlmsg_seq - b->first_seq;
			x = extack_msg(nlh);
			snprintf(err, errlen, "%s: %s%s%s%s",
			    i < b->nwhat ? b->what[i] : "batch",
			    strerror(-e->error), x ? " (" : "", x ? x : "",
			    x ? ")" : "");
		}
	}
	return rc;
}

int
nl_batch_commit(struct nj_nl *nl, struct nj_batch *b, char *err,
    size_t errlen)
{
	int rc;

	batch_finish(b, nl);
	rc = nl_batch_send(nl, b, err, errlen);
	batch_free(b);
	return rc;
}

int
nl_request(struct nj_nl *nl, struct nlmsghdr *req, nl_msg_cb cb, void *arg)
{
	char buf[65536];
	uint32_t seq = req->nlmsg_seq;
	ssize_t n;
	int rc = 0;

	if (mnl_socket_sendto(nl->sk, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		const struct nlmsghdr *nlh;
		int left;

		if ((n = mnl_socket_recvfrom(nl->sk, buf, sizeof(buf))) < 0)
			return -errno;
		left = (int)n;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left);
		    nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_seq != seq ||
			    nlh->nlmsg_pid != nl->portid)
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE)
				return rc;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e =
				    mnl_nlmsg_get_payload(nlh);
				/* 0: the ack */
				return e->error ? e->error : rc;
			}
			if (rc == 0 && cb != NULL)
				rc = cb(nlh, arg);
			/* a single answer; with NLM_F_ACK its ack follows */
			if (!(nlh->nlmsg_flags & NLM_F_MULTI) &&
			    !(req->nlmsg_flags & NLM_F_ACK))
				return rc;
		}
	}
}
