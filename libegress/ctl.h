/*
 * ctl.h - the control socket on a libuv loop, both ends.
 *
 * Server: accepts peers on RUNDIR/NAME.sock, classifies each by SO_PEERCRED
 * (eg_ipc_role_of), reads one message per datagram with eg_ipc_recv, drops
 * the peer on a malformed message or a type its role may not send
 * (eg_ipc_allowed), and hands every good message to the daemon's handler.
 * The handler answers with eg_ctl_reply now or later (it may keep the conn
 * pointer until its on_close callback ran).
 *
 * Client: one connection to a peer daemon with request ids, a timeout per
 * request, and automatic reconnect with backoff.  A request that times out
 * or whose connection drops gets its callback with status -ETIMEDOUT or
 * -ECONNRESET: callers must treat that as "no", never as "yes".
 *
 * Details (ctl.c): a server drops a peer without a role at accept, and one
 * that does not read its replies.  A message handed to a handler or a reply
 * callback points into a buffer that is reused after the call returns:
 * copy what you keep.  eg_ctl_request returns -1 (no callback) only for a
 * request that is not valid to send (EINVAL); otherwise its callback runs
 * exactly once and never from inside eg_ctl_request, with 0, -ETIMEDOUT,
 * -ECONNRESET, -ENOTCONN (not connected now; reconnect is under way),
 * -EPROTO (the reply was not a valid answer), -EAGAIN (socket full) or
 * -ECANCELED (client freed).  Callbacks may free the client.
 */
#ifndef EG_CTL_H
#define EG_CTL_H

#include <stdint.h>
#include <uv.h>

#include "ipc.h"

struct eg_ctl_server;
struct eg_ctl_conn;

typedef void (*eg_ctl_handler)(struct eg_ctl_conn *c, enum eg_role role,
    const struct eg_ipc_msg *msg, void *arg);

struct eg_ctl_server *eg_ctl_server_start(uv_loop_t *loop, const char *path,
    gid_t gid, const struct eg_ipc_roles *roles, enum eg_role self,
    eg_ctl_handler handler, void *arg, char *err, size_t errlen);
/*
 * A daemon's control socket, RUNDIR/<self>.sock, the way all three open
 * it: the peers' roles from cfg (eg_ipc_roles_from_config: the daemon
 * users, root, and the [jail] group members; without that group, root
 * alone), the socket's group that same group.
 */
struct eg_config;
struct eg_ctl_server *eg_ctl_server_open(uv_loop_t *loop,
    const struct eg_config *cfg, enum eg_role self, eg_ctl_handler handler,
    void *arg, char *err, size_t errlen);
void eg_ctl_server_stop(struct eg_ctl_server *s);
/*
 * Called once for each peer the server drops or that hung up (not when the
 * server stops), with the handler's arg, before the conn can be freed:
 * whatever was keyed by the conn must go here.
 */
typedef void (*eg_ctl_drop_cb)(struct eg_ctl_conn *c, enum eg_role role,
    void *arg);
void eg_ctl_server_on_drop(struct eg_ctl_server *s, eg_ctl_drop_cb cb);

int eg_ctl_reply(struct eg_ctl_conn *c, uint16_t type, uint32_t id,
    const void *payload, size_t len);
/* Reply with a header struct followed by a variable part (text, elements). */
int eg_ctl_reply2(struct eg_ctl_conn *c, uint16_t type, uint32_t id,
    const void *head, size_t headlen, const void *tail, size_t taillen);
uid_t eg_ctl_peer_uid(const struct eg_ctl_conn *c);
/* Keep a conn alive across an asynchronous answer. */
void eg_ctl_conn_ref(struct eg_ctl_conn *c);
void eg_ctl_conn_unref(struct eg_ctl_conn *c);
int eg_ctl_conn_closed(const struct eg_ctl_conn *c);

struct eg_ctl_client;

/* status: 0 and msg set on a reply; -errno (msg NULL) otherwise. */
typedef void (*eg_ctl_reply_cb)(int status, const struct eg_ipc_msg *msg,
    void *arg);

struct eg_ctl_client *eg_ctl_client_new(uv_loop_t *loop, const char *path);
void eg_ctl_client_free(struct eg_ctl_client *cl);
/*
 * cb(arg) after every connection the client makes (the first, and each
 * reconnect after the peer went away), in a loop turn of its own, once
 * requests can be sent.  Whatever the peer kept per connection (a
 * registration) is sent again from here.  Set when already connected, it
 * runs for the current connection too.
 */
typedef void (*eg_ctl_connect_cb)(void *arg);
void eg_ctl_client_on_connect(struct eg_ctl_client *cl, eg_ctl_connect_cb cb,
    void *arg);
int eg_ctl_client_connected(const struct eg_ctl_client *cl);
int eg_ctl_request(struct eg_ctl_client *cl, uint16_t type,
    const void *payload, size_t len, uint64_t timeout_ms,
    eg_ctl_reply_cb cb, void *arg);
int eg_ctl_request2(struct eg_ctl_client *cl, uint16_t type,
    const void *head, size_t headlen, const void *tail, size_t taillen,
    uint64_t timeout_ms, eg_ctl_reply_cb cb, void *arg);

#endif
