/*
 * check.c - `egressctl check`: load the configuration the way the daemons
 * will, users and groups looked up, and print every error or a summary.
 */
#include <stdio.h>

#include "config.h"
#include "egressctl.h"

int
cmd_check(struct ctl_opts *o, int argc, char **argv)
{
	struct eg_config_errors errs;
	struct eg_config *cfg;
	unsigned flags = 0;
	size_t i;
	int first;

	if ((first = ctl_parse_common(o, argc, argv, "check")) < 0)
		return EXIT_CTL_FAIL;
	if (first < argc) {
		fprintf(stderr, "egressctl check: unexpected \"%.64s\"\n",
		    argv[first]);
		return EXIT_CTL_FAIL;
	}
	if (o->json) {
		fprintf(stderr, "egressctl check: --json is not implemented\n");
		return EXIT_CTL_FAIL;
	}
	if (o->no_user_check)
		flags |= EG_CONFIG_NO_USERS;
	cfg = eg_config_load(o->config, flags, &errs);
	if (cfg == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fprintf(stderr, "egressctl check: %zu error%s in %s\n", errs.n,
		    errs.n == 1 ? "" : "s", o->config);
		eg_config_errors_free(&errs);
		return EXIT_CTL_CONFIG;
	}
	eg_config_summary(cfg, stdout);
	eg_config_free(cfg);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("egressctl check: stdout");
		return EXIT_CTL_FAIL;
	}
	return EXIT_CTL_OK;
}
