/*
 * egressctl - the admin tool: check the config, explain a decision, and
 * ask the daemons for status and reload over their control sockets.
 *
 *   egressctl [-c FILE] SUBCOMMAND [-c FILE] [ARGS...]
 *
 * One file per subcommand; this one only parses the common options and
 * dispatches.  --no-user-check is deliberately missing from the usage
 * text: it exists for the test suite, which checks configs on hosts where
 * the system users egressjail, egress-connect and egress-dns do not exist.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "eg_build.h"
#include "egressctl.h"

static const struct ctl_cmd cmds[] = {
	{ "check", cmd_check, "check          validate the configuration "
	    "and print a summary" },
	{ "status", cmd_status, "status         readiness and counters of "
	    "each daemon" },
	{ "reload", cmd_reload, "reload         validate, then have every "
	    "daemon reload" },
	{ "doctor", cmd_doctor, "doctor         check the host and the jail, "
	    "with a fix for each problem" },
	{ "explain", cmd_explain, "explain [--workload NAME | --from "
	    "ADDRESS|uid:USER] HOST[:PORT]\n"
	    "                 what the jail does with it, for which workload, "
	    "and which rule says so" },
	{ "learn", cmd_learn, "learn --records|--log FILE  the allowlist "
	    "that admits what was denied or would have been" },
	{ "ask", cmd_ask, "ask [--script FILE]  answer mode = ask's "
	    "questions (root)" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

enum { OPT_NO_USER_CHECK = 256, OPT_JSON };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	/* tests only: run check where the system users do not exist */
	{ "no-user-check", no_argument, NULL, OPT_NO_USER_CHECK },
	{ "json", no_argument, NULL, OPT_JSON },
	{ NULL, 0, NULL, 0 },
};

void
ctl_usage(void)
{
	size_t i;

	fprintf(stderr, "usage: egressctl [-c FILE] [--json] SUBCOMMAND "
	    "[ARGS]\n"
	    "  -c FILE        configuration file (default %s)\n"
	    "  --json         one JSON document on stdout\n"
	    "subcommands:\n", EG_DEFAULT_CONFIG);
	for (i = 0; i < NCMDS; i++)
		fprintf(stderr, "  %s\n", cmds[i].usage);
}

/*
 * getopt stops at the first operand ('+'), so the options before the
 * subcommand and those after it are parsed by the same code.  A
 * subcommand's own options (extra, at most CTL_MAX_EXTRA_OPTS, values
 * from 300 up) go to its callback, which returns false on bad usage.
 */
#define CTL_MAX_EXTRA_OPTS 8

int
ctl_parse_opts(struct ctl_opts *o, int argc, char **argv, const char *who,
    const struct option *extra, bool (*cb)(void *, int, const char *),
    void *arg)
{
	struct option all[sizeof(longopts) / sizeof(longopts[0]) +
	    CTL_MAX_EXTRA_OPTS];
	size_t n = 0, k;
	int ch;

	for (k = 0; longopts[k].name != NULL; k++)
		all[n++] = longopts[k];
	for (k = 0; extra != NULL && extra[k].name != NULL &&
	    k < CTL_MAX_EXTRA_OPTS; k++)
		all[n++] = extra[k];
	memset(&all[n], 0, sizeof(all[n]));
	optind = 0;	/* glibc: 0 resets getopt's state fully */
	while ((ch = getopt_long(argc, argv, "+c:hV", all, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case OPT_NO_USER_CHECK:
			o->no_user_check = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case 'V':
			printf("egressctl %s\n", EG_VERSION);
			exit(EXIT_CTL_OK);
		case 'h':
			ctl_usage();
			exit(EXIT_CTL_OK);
		default:
			if (ch >= 300 && cb != NULL && cb(arg, ch, optarg))
				break;
			fprintf(stderr, "egressctl%s%s: bad usage\n",
			    who ? " " : "", who ? who : "");
			ctl_usage();
			return -1;
		}
	}
	return optind;
}

int
ctl_parse_common(struct ctl_opts *o, int argc, char **argv, const char *who)
{
	return ctl_parse_opts(o, argc, argv, who, NULL, NULL, NULL);
}

int
main(int argc, char **argv)
{
	struct ctl_opts o = { EG_DEFAULT_CONFIG, false, false, 0 };
	const char *name;
	size_t i;
	int first;

	if ((first = ctl_parse_common(&o, argc, argv, NULL)) < 0)
		return EXIT_CTL_USAGE;
	if (first >= argc) {
		ctl_usage();
		return EXIT_CTL_USAGE;
	}
	name = argv[first];
	for (i = 0; i < NCMDS; i++)
		if (strcmp(name, cmds[i].name) == 0)
			return cmds[i].run(&o, argc - first, argv + first);
	fprintf(stderr, "egressctl: unknown subcommand \"%.64s\"\n", name);
	ctl_usage();
	return EXIT_CTL_USAGE;
}
