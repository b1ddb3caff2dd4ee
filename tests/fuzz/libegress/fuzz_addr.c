/*
 * fuzz_addr.c - every parser of addr.c and value.c (with errfmt.c's
 * quoting) on one string, plus the round trips that must hold whenever a
 * parse succeeds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "addr.c"
#include "errfmt.c"
#include "value.c"

#define INPUT_MAX 600

static void
check_ip(const char *s)
{
	struct eg_ip ip, back;
	char buf[80];

	if (!eg_ip_parse(s, &ip, false)) {
		(void)eg_is_ip_literal(s);
		return;
	}
	if (!eg_is_ip_literal(s))
		abort();
	if (!eg_ip_parse(eg_ip_str(&ip, buf, sizeof(buf)), &back, false) ||
	    !eg_ip_equal(&ip, &back))
		abort();
	if (eg_ip_parse(s, &back, true) && back.family == AF_INET &&
	    ip.family == AF_INET6 && !is_v4_mapped(ip.addr))
		abort();
}

static void
check_cidr(const char *s)
{
	struct eg_cidr c, back;
	char buf[96], err[EG_ERR_MAX];

	if (!eg_cidr_parse(s, &c, err))
		return;
	if (!eg_cidr_contains(&c, &c.ip))
		abort();
	if (!eg_cidr_parse(eg_cidr_str(&c, buf, sizeof(buf)), &back, err) ||
	    back.plen != c.plen || !eg_ip_equal(&back.ip, &c.ip))
		abort();
}

static void
check_name(const char *s)
{
	char out[EG_NAME_MAX + 1], again[EG_NAME_MAX + 1], err[EG_ERR_MAX];

	if (!eg_name_normalise(s, out, err))
		return;
	if (strlen(out) > EG_NAME_MAX || !eg_name_normalise(out, again, err) ||
	    strcmp(out, again) != 0)
		abort();
}

static void
check_rest(const char *s)
{
	struct sockaddr_storage ss;
	struct eg_endpoint ep;
	socklen_t len;
	uint64_t v;
	uint16_t port;
	bool b;
	char err[EG_ERR_MAX];

	err[0] = '\0';
	if (!eg_endpoint_parse(s, &ep, err) && strchr(err, '\n') != NULL)
		abort();
	if (eg_endpoint_parse(s, &ep, err) && ep.port == 0)
		abort();
	if (eg_sockaddr_parse(s, &ss, &len, err) && len == 0)
		abort();
	if (eg_port_parse(s, &port) && port == 0)
		abort();
	(void)eg_duration_parse(s, &v, err);
	(void)eg_size_parse(s, &v, err);
	(void)eg_bool_parse(s, &b);
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[INPUT_MAX + 1];

	if (size > INPUT_MAX)
		size = INPUT_MAX;
	memcpy(s, data, size);
	s[size] = '\0';
	check_ip(s);
	check_cidr(s);
	check_name(s);
	check_rest(s);
	return 0;
}
