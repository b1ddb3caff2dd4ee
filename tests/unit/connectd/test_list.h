/*
 * test_list.h - every connectd unit test, one list per test program, in the
 * manner of libuv's test/test-list.h.  Each entry is T(test, setup,
 * teardown); the program's main() runs its list with TEST_LIST() (see
 * ../registry.h).  A test must be listed here to run: one defined and not
 * listed is an unused static function, one listed and not defined is
 * undefined, and either fails the build.
 */
#ifndef CONNECTD_TEST_LIST_H
#define CONNECTD_TEST_LIST_H

#include "../registry.h"

/* test_chainreq.c */
#define CHAINREQ_TESTS(T) \
	T(test_chainreq_base64_rfc4648_vectors, NULL, NULL) \
	T(test_chainreq_connect_plain, NULL, NULL) \
	T(test_chainreq_connect_auth, NULL, NULL) \
	T(test_chainreq_connect_refused, NULL, NULL)

/* test_decide.c */
#define DECIDE_TESTS(T) \
	T(test_decide_allow, NULL, NULL) \
	T(test_decide_deny, NULL, NULL) \
	T(test_decide_report, NULL, NULL) \
	T(test_decide_direct, NULL, NULL) \
	T(test_decide_empty_allowlist, NULL, NULL)

/* test_wl.c */
#define WL_TESTS(T) \
	T(test_wl_policy_is_the_listeners, NULL, NULL) \
	T(test_wl_policy_conflict_refused, NULL, NULL) \
	T(test_wl_policy_gone_refused, NULL, NULL)

/* test_http.c */
#define HTTP_TESTS(T) \
	T(test_http_connect_ok, NULL, NULL) \
	T(test_http_absolute_ok, NULL, NULL) \
	T(test_http_origin, NULL, NULL) \
	T(test_http_malformed, NULL, NULL) \
	T(test_http_nul, NULL, NULL) \
	T(test_http_duplicates_allowed, NULL, NULL) \
	T(test_http_limits, NULL, NULL) \
	T(test_http_truncated, NULL, NULL) \
	T(test_http_response, NULL, NULL) \
	T(test_http_refusal, NULL, NULL) \
	T(test_http_probe_lax, NULL, NULL) \
	T(test_http_probe_malformed, NULL, NULL)

/* test_judge.c */
#define JUDGE_TESTS(T) \
	T(test_judge_tls_sni, NULL, NULL) \
	T(test_judge_buffer_on_demand, NULL, NULL) \
	T(test_judge_tls_no_sni_and_ech, NULL, NULL) \
	T(test_judge_http_keepalive, NULL, NULL) \
	T(test_judge_http_chunked, NULL, NULL) \
	T(test_judge_http_refused_shapes, NULL, NULL) \
	T(test_judge_other_protocols_pass, NULL, NULL) \
	T(test_judge_after_request, NULL, NULL)

/* test_peerstat.c */
#define PEERSTAT_TESTS(T) \
	T(test_peerstat_dohd, NULL, NULL) \
	T(test_peerstat_netjaild, NULL, NULL) \
	T(test_peerstat_peer_scoped, NULL, NULL) \
	T(test_peerstat_newlines_and_injection, NULL, NULL) \
	T(test_peerstat_key_grammar, NULL, NULL) \
	T(test_peerstat_value_grammar, NULL, NULL) \
	T(test_peerstat_duplicates_and_collisions, NULL, NULL) \
	T(test_peerstat_limits_keep_first, NULL, NULL) \
	T(test_peerstat_random_lines_render_clean, NULL, NULL)

/* test_relay.c */
#define RELAY_TESTS(T) \
	T(test_relay_switch_with_deferred_write, NULL, NULL) \
	T(test_relay_short_tunnel_stays_buffered, NULL, NULL) \
	T(test_relay_answer_and_fin_in_one_segment, NULL, NULL) \
	T(test_relay_takes_over_client_reads, NULL, NULL) \
	T(test_relay_half_close_held_buffered, NULL, NULL) \
	T(test_relay_half_close_passed_at_once, NULL, NULL) \
	T(test_relay_half_close_upstream_ends_first, NULL, NULL) \
	T(test_relay_half_close_held_spliced, NULL, NULL) \
	T(test_relay_judged_server_first, NULL, NULL) \
	T(test_relay_judged_sni_cut, NULL, NULL) \
	T(test_relay_judged_keepalive_cut, NULL, NULL) \
	T(test_relay_judged_hold_timeout, NULL, NULL) \
	T(test_relay_judged_report_mode, NULL, NULL)

/* test_sni.c */
#define SNI_TESTS(T) \
	T(test_sni_simple, NULL, NULL) \
	T(test_sni_fragmented, NULL, NULL) \
	T(test_sni_ech, NULL, NULL) \
	T(test_sni_none, NULL, NULL) \
	T(test_sni_ip_literal_is_returned_for_the_caller, NULL, NULL) \
	T(test_sni_not_tls, NULL, NULL) \
	T(test_sni_malformed, NULL, NULL) \
	T(test_sni_bound, NULL, NULL) \
	T(test_sni_mutations, NULL, NULL)

/* test_sysres.c */
#define SYSRES_TESTS(T) \
	T(test_sysres_parse_takes_only_our_answer, NULL, NULL) \
	T(test_sysres_resolves_over_udp, ns_start, ns_stop) \
	T(test_sysres_no_nameserver_means_localhost, NULL, NULL)

#endif
