/*
 * test_list.h - every dohd unit test, one list per test program, in the
 * manner of libuv's test/test-list.h.  Each entry is T(test, setup,
 * teardown); the program's main() runs its list with TEST_LIST() (see
 * ../registry.h).  A test must be listed here to run: one defined and not
 * listed is an unused static function, one listed and not defined is
 * undefined, and either fails the build.
 */
#ifndef DOHD_TEST_LIST_H
#define DOHD_TEST_LIST_H

#include "../registry.h"

/* test_ask.c */
#define ASK_TESTS(T) \
	T(test_ask_wanted, NULL, NULL) \
	T(test_ask_hold_coalesces, NULL, NULL) \
	T(test_ask_hold_bounded, NULL, NULL) \
	T(test_ask_hold_fails_closed, NULL, NULL) \
	T(test_ask_query_allowed, setup, teardown) \
	T(test_ask_query_granted_chain, setup, teardown) \
	T(test_ask_query_denied, setup, teardown) \
	T(test_ask_query_not_asked, setup, teardown)

/* test_cache.c */
#define CACHE_TESTS(T) \
	T(test_cache_ttl, NULL, NULL) \
	T(test_cache_negative, NULL, NULL) \
	T(test_cache_lru, NULL, NULL) \
	T(test_cache_disabled, NULL, NULL) \
	T(test_cache_decision_epoch, NULL, NULL) \
	T(test_cache_deny_memo, NULL, NULL)

/* test_dlog.c */
#define DLOG_TESTS(T) \
	T(test_dlog_batch_and_stall, NULL, NULL)

/* test_dns.c */
#define DNS_TESTS(T) \
	T(test_dns_parse_ok, NULL, NULL) \
	T(test_dns_parse_bad, NULL, NULL) \
	T(test_dns_parse_badname, NULL, NULL) \
	T(test_dns_parse_long, NULL, NULL) \
	T(test_dns_error, NULL, NULL) \
	T(test_dns_padding, NULL, NULL) \
	T(test_dns_walk, NULL, NULL) \
	T(test_dns_pointer_chain, NULL, NULL) \
	T(test_dns_answer, NULL, NULL) \
	T(test_dns_addrs, NULL, NULL)

/* test_doh.c */
#define DOH_TESTS(T) \
	T(test_doh_head, NULL, NULL) \
	T(test_doh_response_head, NULL, NULL) \
	T(test_doh_pin, NULL, NULL) \
	T(test_doh_ssl_ctx_verifies_tls12, NULL, NULL)

/* test_listen.c */
#define LISTEN_TESTS(T) \
	T(test_listen_udp_answers_batched, NULL, NULL)

/* test_local.c */
#define LOCAL_TESTS(T) \
	T(test_local_hosts, setup, teardown) \
	T(test_local_zone, setup, teardown) \
	T(test_local_search, setup, teardown) \
	T(test_local_bad_file, NULL, NULL) \
	T(test_local_bad_zone_refused, NULL, NULL) \
	T(test_local_bad_hosts_line_refused, NULL, NULL) \
	T(test_local_hosts_layout, NULL, NULL)

/* test_own.c */
#define OWN_TESTS(T) \
	T(test_own_every_interface_address, NULL, NULL) \
	T(test_own_refresh_picks_up_new_addresses, NULL, NULL)

/* test_query.c */
#define QUERY_TESTS(T) \
	T(test_query_allowed, setup, teardown) \
	T(test_query_denied, setup, teardown) \
	T(test_query_qtypes, setup, teardown) \
	T(test_query_limits, setup, teardown) \
	T(test_query_malformed_query, setup, teardown) \
	T(test_query_strip_internal, setup, teardown) \
	T(test_query_cname, setup, teardown) \
	T(test_query_bad_upstream, setup, teardown) \
	T(test_query_stale, setup, teardown) \
	T(test_query_negative, setup, teardown) \
	T(test_query_direct_feed, setup, teardown) \
	T(test_query_truncation, setup, teardown) \
	T(test_query_no_upstream, setup, teardown) \
	T(test_query_hit_and_reload, setup, teardown) \
	T(test_query_denied_memo, setup, teardown) \
	T(test_query_refused_and_rate, NULL, NULL) \
	T(test_query_report, NULL, NULL)

/* test_upstream.c */
#define UPSTREAM_TESTS(T) \
	T(test_upstream_order, setup, teardown) \
	T(test_upstream_all_refused, setup, teardown)

/* test_wl.c */
#define WL_TESTS(T) \
	T(test_wl_each_workload_its_own_names, setup, teardown) \
	T(test_wl_cache_per_workload, setup, teardown) \
	T(test_wl_reload_renumbers_and_removes, setup, teardown) \
	T(test_wl_counters, setup, teardown) \
	T(test_wl_connectd_lookup, setup, teardown)

#endif
