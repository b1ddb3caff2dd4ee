/*
 * egressctl.h - shared by the subcommands of the admin tool.
 */
#ifndef EGRESSCTL_H
#define EGRESSCTL_H

#include <stdbool.h>

/* Exit statuses, as for the daemons (DESIGN.md "Configuration"). */
#define EXIT_CTL_OK	0
#define EXIT_CTL_FAIL	1	/* runtime failure, or bad usage */
#define EXIT_CTL_CONFIG	2	/* the configuration has errors */

/* Options every subcommand sees, whether given before or after its name. */
struct ctl_opts {
	const char *config;	/* -c FILE, default EG_DEFAULT_CONFIG */
	bool no_user_check;	/* --no-user-check: for tests only */
	bool json;		/* --json: reserved for status/explain */
};

struct ctl_cmd {
	const char *name;
	int (*run)(struct ctl_opts *, int, char **);
	const char *usage;
};

/*
 * Parse the options common to all subcommands (-c, --no-user-check) from
 * argv; returns the index of the first operand, or -1 after printing a
 * usage error.
 */
int ctl_parse_common(struct ctl_opts *, int, char **, const char *);
void ctl_usage(void);

int cmd_check(struct ctl_opts *, int, char **);

#endif
