/*
 * learn.c - `egressctl learn`: the smallest allowlist that would have
 * admitted what a workload did in learn mode, as a file for allow.d/.
 *
 *   egressctl learn (--records FILE|- | --log FILE|-) [--workload NAME]
 *                   [--since DURATION] [--min-siblings N]
 *
 * The records are lines "WORKLOAD NAME PORT QTYPE COUNT FIRST LAST" (see
 * libegress/learn.h), or the daemons' own log lines (--log: what report
 * mode would have denied, and enforce mode's denials; learn_log.c).
 * Until connectd and dohd keep learn records themselves and hand them
 * over the control socket, one of the two is required.  A file with any
 * bad line gives no allowlist at all: one built from part of the evidence
 * would look complete and is not.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "egressctl.h"
#include "learn.h"

#define LEARN_MAX_RECORDS	1000000
#define LEARN_MAX_ERRORS	20

struct learn_args {
	const char *records;		/* --records or --log */
	bool log;
	const char *workload;		/* default: EG_WL_DEFAULT */
	uint64_t since_ms;		/* 0: everything */
	const char *since_text;
	unsigned min_siblings;
};

static int
usage(void)
{
	fprintf(stderr, "usage: egressctl learn --records FILE|- | --log "
	    "FILE|- [--workload NAME] [--since DURATION] [--min-siblings N]\n");
	return EXIT_CTL_USAGE;
}

static int
parse_args(int argc, char **argv, struct learn_args *a)
{
	enum { O_RECORDS = 300, O_LOG, O_WORKLOAD, O_SINCE, O_MIN };
	static const struct option opts[] = {
		{ "records", required_argument, NULL, O_RECORDS },
		{ "log", required_argument, NULL, O_LOG },
		{ "workload", required_argument, NULL, O_WORKLOAD },
		{ "since", required_argument, NULL, O_SINCE },
		{ "min-siblings", required_argument, NULL, O_MIN },
		{ NULL, 0, NULL, 0 },
	};
	char err[EG_ERR_MAX], *end;
	unsigned long v;
	int ch;

	memset(a, 0, sizeof(*a));
	a->workload = EG_WL_DEFAULT;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case O_RECORDS:
		case O_LOG:
			if (a->records != NULL) {
				fprintf(stderr, "egressctl learn: one of "
				    "--records and --log\n");
				return -1;
			}
			a->records = optarg;
			a->log = ch == O_LOG;
			break;
		case O_WORKLOAD:
			if (strcmp(optarg, EG_WL_DEFAULT) != 0 &&
			    !eg_wl_name_valid(optarg, err)) {
				fprintf(stderr, "egressctl learn: --workload: "
				    "%s\n", err);
				return -1;
			}
			a->workload = optarg;
			break;
		case O_SINCE:
			if (!eg_duration_parse(optarg, &a->since_ms, err) ||
			    a->since_ms == 0) {
				fprintf(stderr, "egressctl learn: --since: "
				    "want a duration such as 2h\n");
				return -1;
			}
			a->since_text = optarg;
			break;
		case O_MIN:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 2 || v > 1000) {
				fprintf(stderr, "egressctl learn: "
				    "--min-siblings: want 2-1000\n");
				return -1;
			}
			a->min_siblings = (unsigned)v;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc || a->records == NULL) {
		if (a->records == NULL)
			fprintf(stderr, "egressctl learn: --records or --log "
			    "is required: the daemons keep no learn records "
			    "yet\n");
		return -1;
	}
	return 0;
}

/*
 * Read the records of one workload seen since `since` (Unix seconds).
 * Returns the number of bad lines (all printed); *ep and *np hold what
 * was taken.
 */
static size_t
read_records(FILE *f, const char *path, const struct learn_args *a,
    int64_t since, struct eg_learn_entry **ep, size_t *np)
{
	size_t max = a->log ? EG_LEARN_LOG_LINE_MAX : EG_LEARN_LINE_MAX;
	char *line, err[EG_ERR_MAX];
	struct eg_learn_entry e, *v = NULL, *nv;
	size_t n = 0, cap = 0, bad = 0, lineno = 0, len;
	bool skipping = false;
	int rc;

	if ((line = malloc(max + 2)) == NULL) {
		fprintf(stderr, "egressctl learn: out of memory\n");
		*ep = NULL;
		*np = 0;
		return 1;
	}
	while (fgets(line, (int)max + 2, f) != NULL) {
		len = strlen(line);
		if (skipping) {		/* the rest of an overlong line */
			skipping = len > 0 && line[len - 1] != '\n';
			continue;
		}
		lineno++;
		if (len > 0 && line[len - 1] != '\n' && !feof(f)) {
			rc = -1;
			snprintf(err, sizeof(err), "longer than %zu bytes",
			    max);
			skipping = true;
		} else if (a->log)
			rc = eg_learn_parse_log(line, &e, err);
		else
			rc = eg_learn_parse_line(line, &e, err);
		if (rc == 0)
			continue;
		if (rc == 1 && n == LEARN_MAX_RECORDS) {
			rc = -1;
			snprintf(err, sizeof(err), "more than %d records",
			    LEARN_MAX_RECORDS);
		}
		if (rc == -1) {
			if (bad++ < LEARN_MAX_ERRORS)
				fprintf(stderr, "egressctl learn: %s:%zu: %s\n",
				    path, lineno, err);
			continue;
		}
		if (strcmp(e.workload, a->workload) != 0 || e.last < since)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				fprintf(stderr, "egressctl learn: out of "
				    "memory\n");
				bad++;
				break;
			}
			v = nv;
		}
		v[n++] = e;
	}
	if (ferror(f)) {
		fprintf(stderr, "egressctl learn: %s: read error\n", path);
		bad++;
	}
	free(line);
	*ep = v;
	*np = n;
	return bad;
}

int
cmd_learn(struct ctl_opts *o, int argc, char **argv)
{
	struct eg_learn_result res;
	struct eg_learn_entry *e = NULL;
	struct learn_args a;
	char err[EG_ERR_MAX], what[128];
	int64_t since = 0;
	size_t n = 0, bad;
	FILE *f;
	int rc = EXIT_CTL_FAIL;

	(void)o;
	if (parse_args(argc, argv, &a) == -1)
		return usage();
	if (a.since_ms > 0)
		since = (int64_t)time(NULL) - (int64_t)(a.since_ms / 1000);
	if (strcmp(a.records, "-") == 0)
		f = stdin;
	else if ((f = fopen(a.records, "re")) == NULL) {
		fprintf(stderr, "egressctl learn: %s: %s\n", a.records,
		    strerror(errno));
		return EXIT_CTL_FAIL;
	}
	bad = read_records(f, a.records, &a, since, &e, &n);
	if (f != stdin)
		fclose(f);
	if (bad > 0) {
		fprintf(stderr, "egressctl learn: %zu bad lines: no "
		    "allowlist\n", bad);
		goto out;
	}
	if (eg_learn_reduce(e, n, a.min_siblings, &res, err) == -1) {
		fprintf(stderr, "egressctl learn: %s\n", err);
		goto out;
	}
	snprintf(what, sizeof(what), "workload %s%s%s", a.workload,
	    a.since_ms > 0 ? ", records seen since " : "",
	    a.since_ms > 0 ? a.since_text : "");
	rc = eg_learn_print(stdout, &res, what) == 0 ? EXIT_CTL_OK :
	    EXIT_CTL_FAIL;
	eg_learn_result_free(&res);
	rc = ctl_flush("learn", rc);
out:
	free(e);
	return rc;
}
