/*
 * test_list.h - every libegress unit test, one list per test program, in the
 * manner of libuv's test/test-list.h.  Each entry is T(test, setup,
 * teardown); the program's main() runs its list with TEST_LIST() (see
 * ../registry.h).  A test must be listed here to run: one defined and not
 * listed is an unused static function, one listed and not defined is
 * undefined, and either fails the build.
 */
#ifndef LIBEGRESS_TEST_LIST_H
#define LIBEGRESS_TEST_LIST_H

#include "../registry.h"

/* test_addr.c */
#define ADDR_TESTS(T) \
	T(test_addr_ipv4_spellings, NULL, NULL) \
	T(test_addr_ip_str_v4_by_hand, NULL, NULL) \
	T(test_addr_ipv4_malformed, NULL, NULL) \
	T(test_addr_ipv6_forms, NULL, NULL) \
	T(test_addr_cidr, NULL, NULL) \
	T(test_addr_ip_equal_and_sockaddr, NULL, NULL) \
	T(test_addr_port, NULL, NULL) \
	T(test_addr_endpoint, NULL, NULL) \
	T(test_addr_name_normalise, NULL, NULL) \
	T(test_addr_duration, NULL, NULL) \
	T(test_addr_size, NULL, NULL) \
	T(test_addr_bool, NULL, NULL) \
	T(test_addr_redact, NULL, NULL)

/* test_ask.c */
#define ASK_TESTS(T) \
	T(test_ask_question_ok, NULL, NULL) \
	T(test_ask_question_bad, NULL, NULL) \
	T(test_ask_answer_ok, NULL, NULL) \
	T(test_ask_answer_bad, NULL, NULL) \
	T(test_ask_expired_and_format, NULL, NULL)

/* test_config.c */
#define CONFIG_TESTS(T) \
	T(test_config_example, NULL, NULL) \
	T(test_config_defaults, NULL, NULL) \
	T(test_config_syntax, NULL, NULL) \
	T(test_config_bytes, NULL, NULL) \
	T(test_config_values, NULL, NULL) \
	T(test_config_hops, NULL, NULL) \
	T(test_config_upstreams, NULL, NULL) \
	T(test_config_huge_lists, NULL, NULL) \
	T(test_config_allow_files, NULL, NULL) \
	T(test_config_rule_cap, NULL, NULL) \
	T(test_config_all_errors, NULL, NULL) \
	T(test_config_users, NULL, NULL) \
	T(test_config_summary, NULL, NULL) \
	T(test_config_secrets_never_quoted, NULL, NULL) \
	T(test_config_inbound, NULL, NULL) \
	T(test_config_each_daemon_alone, NULL, NULL) \
	T(test_config_ask_mode, NULL, NULL)

/* test_config_workload.c */
#define CONFIG_WORKLOAD_TESTS(T) \
	T(test_config_workload_loads, NULL, NULL) \
	T(test_config_workload_gate, NULL, NULL) \
	T(test_config_workload_cgroup_gate, NULL, NULL) \
	T(test_config_workload_header_errors, NULL, NULL) \
	T(test_config_workload_key_errors, NULL, NULL) \
	T(test_config_workload_cross_checks, NULL, NULL) \
	T(test_config_workload_uid_lookup, NULL, NULL) \
	T(test_config_workload_allow_file, NULL, NULL) \
	T(test_config_workload_summary, NULL, NULL)

/* test_ctl.c */
#define CTL_TESTS(T) \
	T(test_ctl_request_reply, setup, teardown) \
	T(test_ctl_async_reply, setup, teardown) \
	T(test_ctl_timeout, setup, teardown) \
	T(test_ctl_server_gone_and_back, setup, teardown) \
	T(test_ctl_disallowed_type, setup, teardown) \
	T(test_ctl_wrong_reply_type, setup, teardown) \
	T(test_ctl_malformed_dropped, setup, teardown) \
	T(test_ctl_on_drop, setup, teardown) \
	T(test_ctl_no_role_refused, setup, teardown) \
	T(test_ctl_free_pending, setup, teardown)

/* test_daemon.c */
#define DAEMON_TESTS(T) \
	T(test_daemon_version_help, NULL, NULL) \
	T(test_daemon_bad_usage, NULL, NULL) \
	T(test_daemon_check, NULL, NULL) \
	T(test_daemon_extra_opts_and_level, NULL, NULL) \
	T(test_daemon_sock_path, NULL, NULL) \
	T(test_daemon_rundir, NULL, NULL) \
	T(test_daemon_drop, NULL, NULL)

/* test_htab.c */
#define HTAB_TESTS(T) \
	T(test_htab_sizes_buckets_once, NULL, NULL) \
	T(test_htab_finds_every_node_of_a_hash, NULL, NULL) \
	T(test_htab_hash_is_keyed, NULL, NULL)

/* test_ipc.c */
#define IPC_TESTS(T) \
	T(test_ipc_header, NULL, NULL) \
	T(test_ipc_fixed_sizes, NULL, NULL) \
	T(test_ipc_result_text, NULL, NULL) \
	T(test_ipc_status, NULL, NULL) \
	T(test_ipc_set_update, NULL, NULL) \
	T(test_ipc_resolve_req, NULL, NULL) \
	T(test_ipc_resolve_req_workload, NULL, NULL) \
	T(test_ipc_resolve_rep, NULL, NULL) \
	T(test_ipc_explain_req, NULL, NULL) \
	T(test_ipc_wl_listen, NULL, NULL) \
	T(test_ipc_wl_listen_roles, NULL, NULL) \
	T(test_ipc_ask_req, NULL, NULL) \
	T(test_ipc_ask_rep, NULL, NULL) \
	T(test_ipc_ask_roles, NULL, NULL) \
	T(test_ipc_accessor_wrong_type, NULL, NULL) \
	T(test_ipc_send_refuses, NULL, NULL) \
	T(test_ipc_unexpected_fd, NULL, NULL) \
	T(test_ipc_recv_truncated, NULL, NULL) \
	T(test_ipc_recv_text_nul, NULL, NULL) \
	T(test_ipc_role_of, NULL, NULL) \
	T(test_ipc_role_table, NULL, NULL) \
	T(test_ipc_set_and_reply_rules, NULL, NULL) \
	T(test_ipc_roles_from_config, NULL, NULL) \
	T(test_ipc_listen, NULL, NULL) \
	T(test_ipc_peer_groups, NULL, NULL) \
	T(test_ipc_call, NULL, NULL) \
	T(test_ipc_seed_corpus, NULL, NULL)

/* test_learn.c */
#define LEARN_TESTS(T) \
	T(test_learn_parse_line, NULL, NULL) \
	T(test_learn_parse_log, NULL, NULL) \
	T(test_learn_table, NULL, NULL) \
	T(test_learn_mode, NULL, NULL) \
	T(test_learn_exact, NULL, NULL) \
	T(test_learn_one_label, NULL, NULL) \
	T(test_learn_any_depth, NULL, NULL) \
	T(test_learn_public_suffix, NULL, NULL) \
	T(test_learn_skipped_and_empty, NULL, NULL) \
	T(test_learn_wide_rule, NULL, NULL) \
	T(test_learn_replay_random, NULL, NULL)

/* test_log.c */
#define LOG_TESTS(T) \
	T(test_log_quote_plain, NULL, NULL) \
	T(test_log_logbuf_head, NULL, NULL) \
	T(test_log_quote_escapes, NULL, NULL) \
	T(test_log_quote_embedded_nul, NULL, NULL) \
	T(test_log_quote_overlong, NULL, NULL) \
	T(test_log_quote_worst_case_fits, NULL, NULL) \
	T(test_log_quote_small_buffer, NULL, NULL) \
	T(test_log_ratelimit, NULL, NULL) \
	T(test_log_ratelimit_clock_back, NULL, NULL) \
	T(test_log_ratelimit_zero_burst, NULL, NULL) \
	T(test_log_line_format, NULL, NULL) \
	T(test_log_line_bounded, NULL, NULL) \
	T(test_log_rl, NULL, NULL) \
	T(test_log_level_parse, NULL, NULL) \
	T(test_log_journal_priority, NULL, NULL) \
	T(test_log_now_monotonic, NULL, NULL)

/* test_notify.c */
#define NOTIFY_TESTS(T) \
	T(test_notify_ready, NULL, NULL) \
	T(test_notify_status_one_line, NULL, NULL) \
	T(test_notify_watchdog_ms, NULL, NULL) \
	T(test_notify_listen_fds, NULL, NULL) \
	T(test_notify_no_listen_fds, NULL, NULL) \
	T(test_notify_listen_fd_matches, NULL, NULL)

/* test_policy.c */
#define POLICY_TESTS(T) \
	T(test_policy_exact, setup_enforce, teardown) \
	T(test_policy_one_label, setup_enforce, teardown) \
	T(test_policy_any_depth, setup_enforce, teardown) \
	T(test_policy_ports, setup_enforce, teardown) \
	T(test_policy_bad_names, setup_enforce, teardown) \
	T(test_policy_hostn, setup_enforce, teardown) \
	T(test_policy_literals, setup_enforce, teardown) \
	T(test_policy_host_addrs, setup_enforce, teardown) \
	T(test_policy_direct, setup_enforce, teardown) \
	T(test_policy_addr, setup_enforce, teardown) \
	T(test_policy_dns, setup_enforce, teardown) \
	T(test_policy_report, setup_report, teardown) \
	T(test_policy_empty_allowlist, setup_empty, teardown) \
	T(test_policy_rule_where_and_reason_names, setup_enforce, teardown) \
	T(test_policy_rule_good, NULL, NULL) \
	T(test_policy_rule_bad, NULL, NULL) \
	T(test_policy_rule_bounds, NULL, NULL) \
	T(test_policy_new_errors, NULL, NULL) \
	T(test_policy_many_rules_each_found, NULL, NULL)

/* test_priv.c */
#if HAVE_LIBSECCOMP
#define PRIV_COND(T) \
	T(test_priv_landlock_errno, NULL, NULL)
#else
#define PRIV_COND(T)
#endif
#define PRIV_TESTS(T) \
	T(test_priv_drop_keep_net_admin, NULL, NULL) \
	T(test_priv_drop_no_caps, NULL, NULL) \
	T(test_priv_trim_as_target, NULL, NULL) \
	T(test_priv_refusals, NULL, NULL) \
	T(test_priv_seccomp_kills_execve, NULL, NULL) \
	T(test_priv_seccomp_base_runs_loop, NULL, NULL) \
	T(test_priv_seccomp_unknown_name, NULL, NULL) \
	T(test_priv_sandbox_syscalls_merge, NULL, NULL) \
	T(test_priv_sandbox_apply, NULL, NULL) \
	T(test_priv_sandbox_apply_fails_closed, NULL, NULL) \
	T(test_priv_landlock, NULL, NULL) \
	PRIV_COND(T)

/* test_wlpolicy.c */
#define WLPOLICY_TESTS(T) \
	T(test_wlpolicy_names_and_index, NULL, NULL) \
	T(test_wlpolicy_name_allowed_only_in_its_workload, NULL, NULL) \
	T(test_wlpolicy_permit_and_direct_own, NULL, NULL) \
	T(test_wlpolicy_mode_per_workload, NULL, NULL) \
	T(test_wlpolicy_host_addrs_every_engine, NULL, NULL) \
	T(test_wlpolicy_lookup_source, NULL, NULL) \
	T(test_wlpolicy_lookup_same_as_wl_lookup, NULL, NULL)

/* test_workload.c */
#define WORKLOAD_TESTS(T) \
	T(test_workload_parse_good, NULL, NULL) \
	T(test_workload_parse_bad, NULL, NULL) \
	T(test_workload_names, NULL, NULL) \
	T(test_workload_overlap, NULL, NULL) \
	T(test_workload_next_overlap, NULL, NULL) \
	T(test_workload_lookup, NULL, NULL)

/* landlock_check.h */
#define LANDLOCK_TESTS(T) \
	T(test_landlock_paths, setup, teardown) \
	T(test_landlock_enforced, setup, teardown) \
	T(test_landlock_workload_allow_files, setup, teardown)

/* test_wllisten.c */
#define WLLISTEN_TESTS(T) \
	T(test_wllisten_unmarked_opens_each_slot, NULL, NULL) \
	T(test_wllisten_pool_marked_and_bounded, NULL, NULL) \
	T(test_wllisten_unprivileged_refuses, NULL, NULL) \
	T(test_wlreg_client_registers_again, NULL, NULL)

#endif
