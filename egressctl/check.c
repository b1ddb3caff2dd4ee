/*
 * check.c - `egressctl check`: load the configuration the way the daemons
 * will, users and groups looked up, and print every error or a summary.
 */
#include <stdio.h>

#include "config.h"
#include "egressctl.h"

static void
check_json(const struct ctl_opts *o, const struct eg_config *cfg)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_str(&j, "command", "check");
	json_str(&j, "config", o->config);
	json_bool(&j, "valid", true);
	json_arr_begin(&j, "errors");
	json_arr_end(&j);
	json_str(&j, "mode", eg_mode_str(cfg->policy.mode));
	json_int(&j, "rules", (long long)cfg->policy.nrules);
	json_int(&j, "hops", (long long)cfg->chain.nhops);
	json_int(&j, "upstreams", (long long)cfg->dohd.nupstreams);
	json_int(&j, "direct", (long long)cfg->jail.ndirect);
	json_int(&j, "interfaces", (long long)cfg->jail.ninterfaces);
	json_int(&j, "users", (long long)cfg->jail.nusers);
	json_str(&j, "runtime_dir", cfg->jail.runtime_dir);
	json_obj_end(&j);
	json_finish(&j);
}

int
cmd_check(struct ctl_opts *o, int argc, char **argv)
{
	struct eg_config *cfg;
	int first;

	if ((first = ctl_parse_common(o, argc, argv, "check")) < 0)
		return EXIT_CTL_USAGE;
	if (first < argc) {
		fprintf(stderr, "egressctl check: unexpected \"%.64s\"\n",
		    argv[first]);
		return EXIT_CTL_USAGE;
	}
	if ((cfg = ctl_load_config(o, "check")) == NULL)
		return EXIT_CTL_CONFIG;
	if (o->json)
		check_json(o, cfg);
	else
		eg_config_summary(cfg, stdout);
	eg_config_free(cfg);
	return ctl_flush("check", EXIT_CTL_OK);
}
