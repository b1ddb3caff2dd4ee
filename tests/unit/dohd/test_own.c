/*
 * test_own.c - dohd's host's own addresses: every address of every
 * interface, not only the listeners, never permitted (not even by a
 * permit_cidr that covers it); and an address the host gains later is
 * picked up by a refresh (in a network namespace of its own).
 */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "hostaddr.h"
#include "own.h"
#include "policy.h"

#include "test_list.h"

static const char conf[] =
    "[dohd]\nlisten = 10.9.9.9:53\n"
    "upstream = https://dns.example/dns-query 192.0.2.53\n"
    "[policy]\npermit_cidr = 0.0.0.0/0\npermit_cidr = ::/0\n"
    "allow = a.example\n";

static struct eg_config *
load(void)
{
	struct eg_config_errors e;
	struct eg_config *c = eg_config_load_buf("t.conf", conf, strlen(conf),
	    EG_CONFIG_NO_USERS | EG_CONFIG_DOHD, &e);

	assert_non_null(c);
	return c;
}

static bool
denied_as_host(const struct eg_policy *p, const struct eg_ip *ip)
{
	struct eg_decision d = eg_policy_check_addr(p, ip);

	return d.verdict != EG_ALLOW && d.reason == EG_R_HOST_ADDR;
}

static void
test_own_every_interface_address(void **state)
{
	struct eg_config *cfg = load();
	struct eg_cidr *ifs, *v;
	struct eg_policy *p;
	struct eg_ip listener = { .family = AF_INET, .addr = { 10, 9, 9, 9 } };
	char err[EG_ERR_MAX];
	size_t n, k, i;

	(void)state;
	assert_int_equal(downaddrs_read(cfg, &v, &n), 0);
	assert_int_equal(eg_host_addrs(&ifs, &k), 0);
	assert_true(k > 0);	/* lo at least */
	assert_int_equal(n, k + 1);
	assert_non_null(p = eg_policy_new(cfg, v, n, err));
	assert_true(denied_as_host(p, &listener));
	for (i = 0; i < k; i++)
		if (!denied_as_host(p, &ifs[i].ip)) {
			char b[64];

			fail_msg("%s is not a host address",
			    eg_ip_str(&ifs[i].ip, b, sizeof(b)));
		}
	/* sorted: a refresh compares sets */
	for (size_t j = 1; j < n; j++)
		assert_true(memcmp(&v[j - 1], &v[j], sizeof(*v)) <= 0);
	eg_policy_free(p);
	free(v);
	free(ifs);
	eg_config_free(cfg);
}

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "child: %s:%d: %s\n", \
	__FILE__, __LINE__, #c); _exit(1); } } while (0)

/* In a new network namespace: add an address, refresh, it is denied. */
static void
test_own_refresh_picks_up_new_addresses(void **state)
{
	struct eg_ip ip = { .family = AF_INET, .addr = { 10, 66, 0, 1 } };
	int st;
	pid_t pid;

	(void)state;
	if ((pid = fork()) == 0) {
		static struct dohd_app a;
		const struct eg_policy *pol;
		char err[EG_ERR_MAX];

		if (unshare(CLONE_NEWNET) != 0)
			_exit(77);
		if (system("ip link set lo up && ip link add ejo0 type veth "
		    "peer name ejo1 && ip link set ejo0 up") != 0)
			_exit(77);
		a.boot_cfg = a.cfg = load();
		CHECK(downaddrs_read(a.boot_cfg, &a.extra_deny, &a.nextra) == 0);
		CHECK((a.core.wlpol = eg_wlpol_new(a.cfg, a.extra_deny,
		    a.nextra, err)) != NULL);
		pol = eg_wlpol_get(a.core.wlpol, 0);
		CHECK(eg_policy_check_addr(pol, &ip).verdict ==
		    EG_ALLOW);
		CHECK(downaddrs_refresh(&a) == 0);
		CHECK(system("ip addr add 10.66.0.1/24 dev ejo0") == 0);
		CHECK(downaddrs_refresh(&a) == 1);
		CHECK(denied_as_host(pol, &ip));
		/* the rest of its subnet is not the host's */
		ip.addr[3] = 2;
		CHECK(eg_policy_check_addr(pol, &ip).verdict ==
		    EG_ALLOW);
		CHECK(downaddrs_refresh(&a) == 0);
		CHECK(system("ip addr del 10.66.0.1/24 dev ejo0") == 0);
		CHECK(downaddrs_refresh(&a) == 1);
		ip.addr[3] = 1;
		CHECK(eg_policy_check_addr(pol, &ip).verdict ==
		    EG_ALLOW);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(st), 0);
}

int
main(void)
{
	const struct CMUnitTest t[] = TEST_LIST(OWN_TESTS);

	return cmocka_run_group_tests_name("dohd_own", t, NULL, NULL);
}
