/*
 * nj_tool - test helper: print or install the ruleset of a named test
 * config in the current network namespace (run it only in a throwaway
 * namespace), or time an install with many direct endpoints.
 *
 *   nj_tool print NAME | install NAME | readback NAME | remove
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "cfgs.h"
#include "install.h"
#include "nl.h"
#include "rules.h"

int
main(int argc, char **argv)
{
	struct eg_config *cfg = NULL;
	struct nj_ruleset *rs = NULL;
	struct nj_readback rb;
	struct nj_nl nl;
	char err[512];
	int rc = 1;

	if (argc < 2)
		goto usage;
	if (strcmp(argv[1], "remove") != 0) {
		if (argc < 3 || (cfg = nj_test_config(argv[2])) == NULL)
			goto usage;
		if ((rs = rules_build(cfg, err, sizeof(err))) == NULL) {
			fprintf(stderr, "build: %s\n", err);
			goto out;
		}
	}
	if (strcmp(argv[1], "print") == 0) {
		rules_print(rs, stdout);
		rc = 0;
		goto out;
	}
	if (nl_open(&nl, NETLINK_NETFILTER, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	if (strcmp(argv[1], "remove") == 0)
		rc = install_remove(&nl, err, sizeof(err)) < 0;
	else if (strcmp(argv[1], "install") == 0)
		rc = install_table(&nl, rs, err, sizeof(err)) < 0;
	else if (strcmp(argv[1], "readback") == 0) {
		if (install_readback(&nl, rs, &rb) < 0 || !rb.whole) {
			snprintf(err, sizeof(err), "not whole: %s", rb.why);
			rc = 1;
		} else {
			printf("whole chains=%zu rules=%zu sets=%zu "
			    "counters=%zu\n", rb.nchains, rb.nrules, rb.nsets,
			    rb.ncounters);
			rc = 0;
		}
		install_readback_free(&rb);
	}
	if (rc)
		fprintf(stderr, "%s: %s\n", argv[1], err);
	nl_close(&nl);
out:
	rules_free(rs);
	nj_test_config_free(cfg);
	return rc;
usage:
	fprintf(stderr, "usage: nj_tool print|install|readback NAME | remove\n");
	return 2;
}
