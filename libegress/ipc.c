/*
 * ipc.c - the wire format of the messages between the daemons and
 * egressctl: names, the decoder, typed accessors, which reply answers
 * which request.  The sockets that carry them: ipc_sock.c; who may send
 * what: ipc_roles.c.
 *
 * The decoder trusts nothing: the header must describe exactly the datagram
 * that arrived, every type has an exact size (fixed part plus exactly the
 * declared count or length), texts are printable ASCII, names are
 * normalised, set elements are well-formed addresses.  Anything else is
 * EBADMSG and the caller drops the peer.  eg_ipc_send runs the same decoder
 * over what it is about to send, so a daemon never emits a message its peer
 * would have to reject.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include "ipc.h"
#include "workload.h"

#define HDR_LEN		sizeof(struct eg_ipc_hdr)

_Static_assert(sizeof(struct eg_ipc_hdr) == 12, "wire header");
_Static_assert(sizeof(struct eg_set_elem) == 24, "wire set element");
_Static_assert(sizeof(struct eg_msg_status) == 12, "wire status");
_Static_assert(sizeof(struct eg_msg_resolve_rep) == 12, "wire resolve rep");
_Static_assert(sizeof(struct eg_msg_wl_listen) == 8, "wire wl listen");
_Static_assert(sizeof(struct eg_msg_ask_req) == 24, "wire ask req");
_Static_assert(sizeof(struct eg_msg_ask_rep) == 4, "wire ask rep");
_Static_assert(EG_IPC_WL_NAME_MAX == EG_WL_NAME_MAX, "workload name");

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
		[EG_MSG_WL_LISTEN] = "wl_listen",
		[EG_MSG_WL_ACK] = "wl_ack",
		[EG_MSG_ASK_REQ] = "ask_req",
		[EG_MSG_ASK_REP] = "ask_rep",
	};

	if (type >= EG_MSG__MAX)
		return "unknown";
	return names[type];
}

/* ---- requests and their replies ------------------------------------ */

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
	case EG_MSG_WL_LISTEN:
		return rep == EG_MSG_WL_ACK;
	case EG_MSG_ASK_REQ:
		return rep == EG_MSG_ASK_REP;
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
	case EG_MSG_WL_LISTEN:
	case EG_MSG_ASK_REQ:
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

static bool wl_name_copy(const uint8_t *p, size_t n,
    char out[EG_IPC_WL_NAME_MAX + 1]);

/* The name, then nothing ([policy]'s) or a workload's name (never
 * "default": that is the empty rest). */
static bool
decode_resolve_req_wl(const uint8_t *p, size_t n,
    char name[EG_NAME_MAX + 1], char wl[EG_IPC_WL_NAME_MAX + 1])
{
	struct eg_msg_resolve_req r;
	size_t rest;

	if (n < sizeof(r))
		return false;
	memcpy(&r, p, sizeof(r));
	if (r.qtype != 1 && r.qtype != 28)
		return false;
	if (r.pad[0] != 0 || r.pad[1] != 0 || r.pad[2] != 0 ||
	    r.wllen > EG_IPC_WL_NAME_MAX ||
	    (size_t)r.namelen + r.wllen != n - sizeof(r))
		return false;
	if (!name_copy(p + sizeof(r), r.namelen, name))
		return false;
	rest = r.wllen;
	wl[0] = '\0';
	return rest == 0 || wl_name_copy(p + sizeof(r) + r.namelen, rest, wl);
}

static bool
decode_resolve_req(const uint8_t *p, size_t n)
{
	char name[EG_NAME_MAX + 1], wl[EG_IPC_WL_NAME_MAX + 1];

	return decode_resolve_req_wl(p, n, name, wl);
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

const char *
eg_wl_listener_name(uint8_t kind)
{
	switch (kind) {
	case EG_WLL_TRANSPARENT:
		return "transparent";
	case EG_WLL_PROXY:
		return "proxy";
	case EG_WLL_DNS_UDP:
		return "dns_udp";
	case EG_WLL_DNS_TCP:
		return "dns_tcp";
	default:
		return "unknown";
	}
}

/* A workload name as the config allows it; "default" is not one. */
static bool
wl_name_copy(const uint8_t *p, size_t n, char out[EG_IPC_WL_NAME_MAX + 1])
{
	char err[EG_ERR_MAX];

	if (n < 1 || n > EG_IPC_WL_NAME_MAX)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	/* a NUL inside would cut the name short of what was sent */
	return strlen(out) == n && eg_wl_name_valid(out, err);
}

/* One encoding per meaning: unregister carries port 0, pad is zero. */
static bool
decode_wl_listen(const uint8_t *p, size_t n)
{
	struct eg_msg_wl_listen w;
	char name[EG_IPC_WL_NAME_MAX + 1];

	if (n < sizeof(w))
		return false;
	memcpy(&w, p, sizeof(w));
	if (w.kind < EG_WLL_TRANSPARENT || w.kind >= EG_WLL__MAX)
		return false;
	if (w.family != AF_INET && w.family != AF_INET6)
		return false;
	if (w.pad != 0 || w.namelen != n - sizeof(w))
		return false;
	switch (w.op) {
	case EG_WL_REGISTER:
		if (w.port == 0)
			return false;
		break;
	case EG_WL_UNREGISTER:
		if (w.port != 0)
			return false;
		break;
	default:
		return false;
	}
	return wl_name_copy(p + sizeof(w), w.namelen, name);
}

/* An ask's workload: [policy]'s "default" or a configured workload. */
static bool
ask_wl_copy(const uint8_t *p, size_t n, char out[EG_IPC_WL_NAME_MAX + 1])
{
	if (n == sizeof(EG_WL_DEFAULT) - 1 &&
	    memcmp(p, EG_WL_DEFAULT, n) == 0) {
		memcpy(out, EG_WL_DEFAULT, sizeof(EG_WL_DEFAULT));
		return true;
	}
	return wl_name_copy(p, n, out);
}

/*
 * One encoding per meaning: the name already normalised (the decider
 * sees what the policy was asked about), pad zero, an IPv4 address's tail
 * zero.
 */
static bool
ask_req_copy(const uint8_t *p, size_t n, char name[EG_NAME_MAX + 1],
    char wl[EG_IPC_WL_NAME_MAX + 1])
{
	struct eg_msg_ask_req r;

	if (n < sizeof(r))
		return false;
	memcpy(&r, p, sizeof(r));
	if (r.qtype == 0 || !all_zero(r.pad, sizeof(r.pad)) ||
	    !addr_ok(r.family, r.addr))
		return false;
	if (r.namelen < 1 || r.wllen < 1 ||
	    (size_t)r.namelen + r.wllen != n - sizeof(r))
		return false;
	if (!name_copy(p + sizeof(r), r.namelen, name) ||
	    strlen(name) != r.namelen ||
	    memcmp(name, p + sizeof(r), r.namelen) != 0 ||
	    eg_is_ip_literal(name))
		return false;
	return ask_wl_copy(p + sizeof(r) + r.namelen, r.wllen, wl);
}

static bool
decode_ask_req(const uint8_t *p, size_t n)
{
	char name[EG_NAME_MAX + 1], wl[EG_IPC_WL_NAME_MAX + 1];

	return ask_req_copy(p, n, name, wl);
}

/* A reason as the access log spells it: "ask-once", "ask-timeout". */
static bool
ask_rep_copy(const uint8_t *p, size_t n, char out[EG_ASK_REASON_MAX + 1])
{
	struct eg_msg_ask_rep r;
	size_t i;

	if (n < sizeof(r))
		return false;
	memcpy(&r, p, sizeof(r));
	if (r.allow > 1 || r.pad != 0 || r.reasonlen < 1 ||
	    r.reasonlen > EG_ASK_REASON_MAX || r.reasonlen != n - sizeof(r))
		return false;
	for (i = 0; i < r.reasonlen; i++) {
		uint8_t c = p[sizeof(r) + i];

		if ((c < 'a' || c > 'z') && c != '-')
			return false;
		out[i] = (char)c;
	}
	out[i] = '\0';
	return true;
}

static bool
decode_ask_rep(const uint8_t *p, size_t n)
{
	char reason[EG_ASK_REASON_MAX + 1];

	return ask_rep_copy(p, n, reason);
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
	case EG_MSG_WL_ACK:
		/* the acks are the bare result: the reason goes to the log */
		return decode_result(p, n) && ((type != EG_MSG_SET_ACK &&
		    type != EG_MSG_WL_ACK) || n == sizeof(struct eg_msg_result));
	case EG_MSG_SET_UPDATE:
		return decode_set_update(p, n);
	case EG_MSG_RESOLVE_REQ:
		return decode_resolve_req(p, n);
	case EG_MSG_RESOLVE_REP:
		return decode_resolve_rep(p, n);
	case EG_MSG_EXPLAIN_REQ:
		return decode_explain_req(p, n);
	case EG_MSG_WL_LISTEN:
		return decode_wl_listen(p, n);
	case EG_MSG_ASK_REQ:
		return decode_ask_req(p, n);
	case EG_MSG_ASK_REP:
		return decode_ask_rep(p, n);
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
eg_ipc_resolve_req_wl(const struct eg_ipc_msg *m, char name[EG_NAME_MAX + 1],
    char wl[EG_IPC_WL_NAME_MAX + 1])
{
	if (m->hdr.type != EG_MSG_RESOLVE_REQ ||
	    !decode_resolve_req_wl(m->payload, m->hdr.len, name, wl))
		return NULL;
	return (const struct eg_msg_resolve_req *)(const void *)m->payload;
}

const struct eg_msg_resolve_req *
eg_ipc_resolve_req(const struct eg_ipc_msg *m, char name[EG_NAME_MAX + 1])
{
	char wl[EG_IPC_WL_NAME_MAX + 1];

	return eg_ipc_resolve_req_wl(m, name, wl);
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
	    m->hdr.type != EG_MSG_EXPLAIN_REP &&
	    m->hdr.type != EG_MSG_WL_ACK)
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

const struct eg_msg_wl_listen *
eg_ipc_wl_listen(const struct eg_ipc_msg *m,
    char name[EG_IPC_WL_NAME_MAX + 1])
{
	const struct eg_msg_wl_listen *w;

	if (m->hdr.type != EG_MSG_WL_LISTEN ||
	    !decode_wl_listen(m->payload, m->hdr.len))
		return NULL;
	w = (const struct eg_msg_wl_listen *)(const void *)m->payload;
	if (!wl_name_copy(m->payload + sizeof(*w), w->namelen, name))
		return NULL;
	return w;
}

const struct eg_msg_ask_req *
eg_ipc_ask_req(const struct eg_ipc_msg *m, char name[EG_NAME_MAX + 1],
    char workload[EG_IPC_WL_NAME_MAX + 1])
{
	if (m->hdr.type != EG_MSG_ASK_REQ ||
	    !ask_req_copy(m->payload, m->hdr.len, name, workload))
		return NULL;
	return (const struct eg_msg_ask_req *)(const void *)m->payload;
}

const struct eg_msg_ask_rep *
eg_ipc_ask_rep(const struct eg_ipc_msg *m, char reason[EG_ASK_REASON_MAX + 1])
{
	if (m->hdr.type != EG_MSG_ASK_REP ||
	    !ask_rep_copy(m->payload, m->hdr.len, reason))
		return NULL;
	return (const struct eg_msg_ask_rep *)(const void *)m->payload;
}
