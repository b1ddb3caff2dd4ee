/*
 * addr.h - addresses, CIDRs, endpoints, durations and sizes.
 *
 * Every parser here is bounded, takes a NUL-terminated string and fills an
 * out-parameter only on success.  They return true on success; on failure
 * they write a one-line reason (never quoting more than 64 bytes of input)
 * into err when err is not NULL.
 */
#ifndef EG_ADDR_H
#define EG_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define EG_NAME_MAX 253		/* longest DNS name in text form, no dot */
#define EG_LABEL_MAX 63
#define EG_ERR_MAX 256

/* An IP address, either family.  IPv4 is stored in the first 4 bytes. */
struct eg_ip {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint32_t scope;		/* IPv6 scope id, 0 if none */
};

struct eg_cidr {
	struct eg_ip ip;	/* host bits cleared */
	uint8_t plen;
};

/* Inclusive port range; 0-65535 means "any" (":*"). */
struct eg_portrange {
	uint16_t lo, hi;
};

/*
 * An endpoint as written in the config: "host:port", "[v6]:port",
 * "CIDR:port" or "name:port".  Exactly one of is_name / is_cidr / plain
 * address holds.
 */
struct eg_endpoint {
	bool is_name;
	bool is_cidr;
	char name[EG_NAME_MAX + 1];	/* lower case, no trailing dot */
	struct eg_cidr cidr;		/* plen 32/128 for a single address */
	uint16_t port;
};

/*
 * Parse an IP literal in every spelling the resolver would accept:
 * dotted quad, inet_aton short forms ("127.1", "0x7f.1", "017700000001",
 * "2130706433"), IPv6 in any RFC 4291 form including v4-mapped and a
 * "%scope" suffix, optionally in brackets.  A v4-mapped IPv6 address is
 * returned as IPv4 when unmap is true.
 */
bool eg_ip_parse(const char *s, struct eg_ip *out, bool unmap);

/* True when s is an IP literal in any spelling (see eg_ip_parse). */
bool eg_is_ip_literal(const char *s);

bool eg_cidr_parse(const char *s, struct eg_cidr *out, char *err);
bool eg_cidr_contains(const struct eg_cidr *c, const struct eg_ip *ip);
bool eg_ip_equal(const struct eg_ip *a, const struct eg_ip *b);

/* Text form into buf (INET6_ADDRSTRLEN + scope is enough: 64 bytes). */
const char *eg_ip_str(const struct eg_ip *ip, char *buf, size_t len);
const char *eg_cidr_str(const struct eg_cidr *c, char *buf, size_t len);

bool eg_ip_from_sockaddr(const struct sockaddr *sa, struct eg_ip *out,
    uint16_t *port);
socklen_t eg_ip_to_sockaddr(const struct eg_ip *ip, uint16_t port,
    struct sockaddr_storage *ss);

/* "host:port", "[v6]:port", "v4:port" into a sockaddr (no name lookup). */
bool eg_sockaddr_parse(const char *s, struct sockaddr_storage *ss,
    socklen_t *len, char *err);

bool eg_port_parse(const char *s, uint16_t *out);
bool eg_endpoint_parse(const char *s, struct eg_endpoint *out, char *err);

/*
 * Normalise a host name: lower case, one trailing dot removed, LDH plus
 * '_' only, labels 1..63, total <= 253.  out must hold EG_NAME_MAX + 1.
 */
bool eg_name_normalise(const char *in, char *out, char *err);

/*
 * Copy s into buf (cut to len) with the password of a URL in it replaced
 * by "***": "https://user:secret@proxy:8443" gives
 * "https://user:***@proxy:8443".  Broken URLs are hidden up to their last
 * '@'.  Every quoted config value goes through this (eg_err_quote), so no
 * error message or log line carries a hop's password.  Returns buf.
 */
const char *eg_redact_userinfo(const char *s, char *buf, size_t len);

/* Durations: "250ms", "10s", "5m", "2h", bare digits are seconds. */
bool eg_duration_parse(const char *s, uint64_t *ms, char *err);
/* Sizes: "512", "16k", "4M", "1G" (powers of 1024). */
bool eg_size_parse(const char *s, uint64_t *bytes, char *err);
bool eg_bool_parse(const char *s, bool *out);

#endif
