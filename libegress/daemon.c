/*
 * daemon.c - the start-up every daemon shares: options, config, logging,
 * runtime directory, privilege drop.
 *
 * Everything here either succeeds or ends the process with the documented
 * status (0 done, 1 runtime failure, 2 bad configuration or usage): a
 * daemon's main() reads as a straight sequence with no error paths for
 * start-up, and no half-started daemon runs privileged.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "eg_build.h"
#include "log.h"
#include "notify.h"
#include "priv.h"

static void
usage(FILE *out, const char *name, const char *usage_extra)
{
	fprintf(out,
	    "usage: %s [-c FILE] [--check] [-d] [-V] [-h]%s\n"
	    "  -c, --config FILE  config file (default %s)\n"
	    "      --check        validate the config, print every error\n"
	    "  -d, --debug        log at level debug\n"
	    "  -V, --version      print the version\n"
	    "  -h, --help         this text\n"
	    "%s",
	    name, usage_extra != NULL ? " [options]" : "", EG_DEFAULT_CONFIG,
	    usage_extra != NULL ? usage_extra : "");
}

/* Is arg one of the daemon's own options ("--print" or "--print=x")? */
static bool
is_extra(const char *arg, const char *const *extra)
{
	size_t i, n;

	for (i = 0; extra != NULL && extra[i] != NULL; i++) {
		n = strlen(extra[i]);
		if (strncmp(arg, extra[i], n) == 0 &&
		    (arg[n] == '\0' || arg[n] == '='))
			return true;
	}
	return false;
}

/*
 * Split argv: the daemon's own options go to d->argv, the rest stays for
 * getopt_long.  Done by hand first because getopt_long would reject an
 * option it does not know.  "--" ends the options; what follows is the
 * daemon's too.
 */
static char **
split_args(struct eg_daemon *d, int argc, char **argv,
    const char *const *extra, int *ncommon)
{
	char **common;
	int i, rest = 0;

	common = calloc((size_t)argc + 1, sizeof(*common));
	d->argv = calloc((size_t)argc + 1, sizeof(*d->argv));
	if (common == NULL || d->argv == NULL)
		eg_fatal(EG_EXIT_RUNTIME, "start", "error=\"out of memory\"");
	*ncommon = 0;
	d->argc = 0;
	common[(*ncommon)++] = argv[0];
	for (i = 1; i < argc; i++) {
		if (rest || is_extra(argv[i], extra)) {
			d->argv[d->argc++] = argv[i];
		} else if (strcmp(argv[i], "--") == 0) {
			rest = 1;
		} else {
			common[(*ncommon)++] = argv[i];
			/* Keep an option's separate value with it. */
			if ((strcmp(argv[i], "-c") == 0 ||
			    strcmp(argv[i], "--config") == 0) && i + 1 < argc)
				common[(*ncommon)++] = argv[++i];
		}
	}
	return common;
}

static void
parse_common(struct eg_daemon *d, int argc, char **argv,
    const char *usage_extra)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 0;	/* full re-initialisation: init may run twice */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+c:dVh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			d->config_path = optarg;
			break;
		case 'C':
			d->check_only = true;
			break;
		case 'd':
			d->debug = true;
			break;
		case 'V':
			printf("%s (egressjail) %s\n", d->name, EG_VERSION);
			exit(EG_EXIT_OK);
		case 'h':
			usage(stdout, d->name, usage_extra);
			exit(EG_EXIT_OK);
		default:
			fprintf(stderr, "%s: unknown or incomplete option "
			    "\"%.64s\"\n", d->name, argv[optind - 1]);
			usage(stderr, d->name, usage_extra);
			exit(EG_EXIT_CONFIG);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument \"%.64s\"\n", d->name,
		    argv[optind]);
		usage(stderr, d->name, usage_extra);
		exit(EG_EXIT_CONFIG);
	}
}

static void
load_config(struct eg_daemon *d)
{
	struct eg_config_errors errs;
	size_t i;

	d->cfg = eg_config_load(d->config_path, eg_config_flags_for(d->name),
	    &errs);
	if (d->cfg == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s: %s\n", d->name, errs.msgs[i]);
		if (errs.n == 0)
			fprintf(stderr, "%s: %s: cannot load\n", d->name,
			    d->config_path);
		eg_config_errors_free(&errs);
		exit(EG_EXIT_CONFIG);
	}
	eg_config_errors_free(&errs);
}

void
eg_daemon_init(struct eg_daemon *d, const char *name, int argc, char **argv,
    const char *const *extra_opts, const char *usage_extra)
{
	enum eg_log_level lvl = EG_LOG_INFO;
	char **common;
	int ncommon;

	memset(d, 0, sizeof(*d));
	d->name = name;
	d->config_path = EG_DEFAULT_CONFIG;
	eg_log_init(name, EG_LOG_INFO);
	common = split_args(d, argc, argv, extra_opts, &ncommon);
	parse_common(d, ncommon, common, usage_extra);
	free(common);
	load_config(d);
	if (d->check_only) {
		printf("%s: %s: ok\n", name, d->config_path);
		fflush(stdout);
		eg_config_free(d->cfg);
		free(d->argv);
		exit(EG_EXIT_OK);
	}
	if (d->cfg->jail.log_level != NULL &&
	    !eg_log_level_parse(d->cfg->jail.log_level, &lvl))
		lvl = EG_LOG_INFO;
	eg_log_init(name, d->debug ? EG_LOG_DEBUG : lvl);
}

static const char *
rundir_of(const struct eg_config *cfg)
{
	return cfg->jail.runtime_dir != NULL ? cfg->jail.runtime_dir :
	    EG_DEFAULT_RUNDIR;
}

/*
 * The directory holds the control sockets, whose modes are the access
 * control: it must be a real directory (not a symlink) that nobody but
 * its owner can write, owned by root or by us.
 */
/*
 * connectd and dohd run as their own users under systemd and create their
 * sockets here, so the control group may write; the sticky bit keeps one
 * daemon from replacing another's socket.  Anything wider (others, another
 * group, group without sticky) is refused.
 */
bool
eg_rundir_mode_ok(mode_t mode, gid_t dir_gid, gid_t group)
{
	if ((mode & 002) != 0)
		return false;
	if ((mode & 020) == 0)
		return true;
	return (mode & S_ISVTX) != 0 && group != (gid_t)-1 && dir_gid == group;
}

void
eg_daemon_listen_fd_check(const char *name, char *const *specs, size_t n,
    const char *key, const char *unit)
{
	char got[80];
	size_t i;
	int fd;

	if ((fd = eg_listen_fd(name)) < 0 || n == 0)
		return;
	for (i = 0; i < n; i++)
		if (eg_listen_fd_matches(fd, specs[i], got, sizeof(got)))
			return;
	eg_fatal(EG_EXIT_CONFIG, "listen", "error=\"systemd's socket '%s' is "
	    "on %s, not on %s %s: the jail delivers there; make %s's "
	    "Listen*= and the key agree (systemctl edit %s)\"", name, got,
	    key, specs[0], unit, unit);
}

int
eg_daemon_rundir(const struct eg_config *cfg, char *err, size_t errlen)
{
	const char *dir = rundir_of(cfg);
	struct group *gr = NULL;
	struct stat st;
	gid_t gid = (gid_t)-1;
	mode_t omask;
	int r;

	if (cfg->jail.group != NULL && (gr = getgrnam(cfg->jail.group)) != NULL)
		gid = gr->gr_gid;
	omask = umask(077);
	r = mkdir(dir, 0700);
	umask(omask);
	if (r == 0) {
		/* Group first, then open to it: never a moment too wide. */
		if ((gid != (gid_t)-1 && chown(dir, (uid_t)-1, gid) == -1) ||
		    chmod(dir, 01770) == -1) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a directory", dir);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, not root", dir,
		    (unsigned)st.st_uid);
		return -1;
	}
	if (!eg_rundir_mode_ok(st.st_mode, st.st_gid, gid)) {
		snprintf(err, errlen, "%s: writable by others or without the "
		    "sticky bit (mode %04o)", dir,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

void
eg_daemon_drop(struct eg_daemon *d, uid_t uid, gid_t gid, const int *caps,
    size_t ncaps)
{
	struct group *gr = NULL;
	gid_t extra = (gid_t)-1;
	char err[256], q[4 * 256 + 8];

	/* The control group, so the daemons can reach each other's sockets. */
	if (d->cfg != NULL && d->cfg->jail.group != NULL &&
	    (gr = getgrnam(d->cfg->jail.group)) != NULL)
		extra = gr->gr_gid;
	if (eg_priv_drop(uid, gid, extra, caps, ncaps, err, sizeof(err)) != 0)
		eg_fatal(EG_EXIT_RUNTIME, "privilege_drop_failed",
		    "uid=%u gid=%u error=%s", (unsigned)uid, (unsigned)gid,
		    eg_log_quote(err, strlen(err), 256, q, sizeof(q)));
	eg_log(EG_LOG_INFO, "privileges_dropped", "uid=%u gid=%u caps=%zu",
	    (unsigned)uid, (unsigned)gid, ncaps);
}

void
eg_daemon_reload_failed(const char *error, unsigned generation)
{
	eg_log(EG_LOG_ERR, "reload", "result=failed error=\"%s\" "
	    "generation=%u", error, generation);
}

const char *
eg_daemon_sock_path(const struct eg_config *cfg, const char *name, char *buf,
    size_t len)
{
	int n;

	n = snprintf(buf, len, "%s/%s.sock", rundir_of(cfg), name);
	if (n < 0 || (size_t)n >= len) {
		/* An empty path connects nowhere: no surprise socket. */
		if (len > 0)
			buf[0] = '\0';
		return NULL;
	}
	return buf;
}
