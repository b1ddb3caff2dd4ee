/*
 * nl.h - nf_tables over netlink: one batch per transaction, an ack read
 * for every message, and the kernel's error named by the object it hit.
 */
#ifndef NJ_NL_H
#define NJ_NL_H

#include <stddef.h>
#include <stdint.h>

struct mnl_socket;
struct nlmsghdr;

struct nj_nl {
	struct mnl_socket *sk;
	uint32_t portid;
	uint32_t seq;
};

int nl_open(struct nj_nl *nl, int bus, char *err, size_t errlen);
void nl_close(struct nj_nl *nl);

struct nj_batch {
	char *buf;
	size_t len, cap;
	uint32_t first_seq;	/* of the first acked message */
	uint32_t nmsg;		/* acked messages */
	char **what;		/* per acked message, for error text */
	size_t nwhat;
	int oom;
};

void batch_init(struct nj_batch *b, struct nj_nl *nl);
/* Start one nf_tables message; NULL when out of memory. */
struct nlmsghdr *batch_msg(struct nj_batch *b, struct nj_nl *nl,
    uint16_t type, uint16_t flags, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void batch_finish(struct nj_batch *b, struct nj_nl *nl);
void batch_free(struct nj_batch *b);
/* Call after filling the payload of the message batch_msg returned. */
void batch_done(struct nj_batch *b);

/*
 * Send the batch and read an ack for every message.  0 when the kernel
 * committed it, else -errno with "what: strerror (extack)" in err.  A batch
 * that fails changes nothing: nf_tables aborts the whole transaction.
 */
int nl_batch_send(struct nj_nl *nl, struct nj_batch *b, char *err,
    size_t errlen);
/* Close the batch, send it as above and free it: what every caller does. */
int nl_batch_commit(struct nj_nl *nl, struct nj_batch *b, char *err,
    size_t errlen);

/*
 * Send a request (GET, with NLM_F_DUMP or NLM_F_ACK as set by the caller)
 * and run cb on every reply message until done.  Returns 0 or -errno.
 */
typedef int (*nl_msg_cb)(const struct nlmsghdr *nlh, void *arg);
int nl_request(struct nj_nl *nl, struct nlmsghdr *req, nl_msg_cb cb,
    void *arg);

#endif
