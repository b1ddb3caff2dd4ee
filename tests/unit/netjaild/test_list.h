/*
 * test_list.h - every netjaild unit test, one list per test program, in the
 * manner of libuv's test/test-list.h.  Each entry is T(test, setup,
 * teardown); the program's main() runs its list with TEST_LIST() (see
 * ../registry.h).  A test must be listed here to run: one defined and not
 * listed is an unused static function, one listed and not defined is
 * undefined, and either fails the build.
 */
#ifndef NETJAILD_TEST_LIST_H
#define NETJAILD_TEST_LIST_H

#include "../registry.h"

/* test_ctl.c */
#define CTL_TESTS(T) \
	T(test_ctl_dohd_may_push_directs, setup, teardown) \
	T(test_ctl_dohd_may_not_touch_hops, setup, teardown) \
	T(test_ctl_connectd_may_push_hops_only, setup, teardown) \
	T(test_ctl_admin_may_not_push, setup, teardown) \
	T(test_ctl_kernel_refusal_reaches_the_peer, setup, teardown) \
	T(test_ctl_learned_add_refresh_delete, setup, teardown) \
	T(test_ctl_configured_elements_are_not_learned, setup, teardown) \
	T(test_ctl_configured_v6_direct_is_not_learned, setup, teardown) \
	T(test_ctl_learned_age_drops_expired, setup, teardown) \
	T(test_ctl_hostile_direct_wrong_port, setup, teardown) \
	T(test_ctl_hostile_direct_no_names, setup, teardown) \
	T(test_ctl_hostile_direct_wrong_family, setup, teardown) \
	T(test_ctl_hostile_direct_wildcard_addresses, setup, teardown) \
	T(test_ctl_hostile_doh_set, setup, teardown) \
	T(test_ctl_hostile_direct_over_the_bound, setup, teardown) \
	T(test_ctl_hostile_hop_wrong_port, setup, teardown) \
	T(test_ctl_reload_prunes_what_is_gone, setup, teardown) \
	T(test_ctl_wl_register_replace_unregister, setup, teardown) \
	T(test_ctl_wl_kinds_by_role, setup, teardown) \
	T(test_ctl_wl_unknown_workload_and_shared_port, setup, teardown) \
	T(test_ctl_wl_malformed, setup, teardown) \
	T(test_ctl_wl_dropped_with_connection_and_workload, setup, teardown)

/* test_links.c */
#define LINKS_TESTS(T) \
	T(test_links_track, NULL, NULL) \
	T(test_links_malformed, NULL, NULL) \
	T(test_links_safe_name, NULL, NULL)

/* test_steer.c */
#define STEER_TESTS(T) \
	T(test_steer_batches_and_answers_after, NULL, NULL)

/* test_route.c */
#define ROUTE_TESTS(T) \
	T(test_route_rule_ours, NULL, NULL) \
	T(test_route_rule_takes, NULL, NULL) \
	T(test_route_malformed_attrs_not_trusted, NULL, NULL)

/* test_rules.c */
#define RULES_TESTS(T) \
	T(test_rules_tproxy_then_drop, NULL, NULL) \
	T(test_rules_drops_counted, NULL, NULL) \
	T(test_rules_ipv6_drop, NULL, NULL) \
	T(test_rules_directs, NULL, NULL) \
	T(test_rules_learned_directs, NULL, NULL) \
	T(test_rules_directs_repeated, NULL, NULL) \
	T(test_rules_nohops, NULL, NULL) \
	T(test_rules_dns_ipv6_loopback, NULL, NULL) \
	T(test_rules_published_inbound, NULL, NULL) \
	T(test_rules_listener_guard, NULL, NULL) \
	T(test_rules_listener_mark_configured, NULL, NULL) \
	T(test_rules_direct_flows, NULL, NULL) \
	T(test_rules_local_verdict_postrouting, NULL, NULL) \
	T(test_rules_bridge_input_pairs, NULL, NULL) \
	T(test_rules_bridge_input_wildcard_proxy, NULL, NULL) \
	T(test_rules_bridge_spoofed_source, NULL, NULL) \
	T(test_rules_every_term_kind, NULL, NULL) \
	T(test_rules_build_errors, NULL, NULL) \
	T(test_rules_workloads_fail_closed, NULL, NULL) \
	T(test_rules_status_workloads, NULL, NULL) \
	T(test_rules_workloads_uid, NULL, NULL) \
	T(test_rules_workloads_direct, NULL, NULL)

#endif
