/*
 * daemon.c - the start-up every daemon shares: options, config, logging,
 * runtime directory and the one place privileges are dropped.
 */
#include "eg_build.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "priv.h"

static void
usage(const char *name, const char *extra, FILE *out)
{
	fprintf(out,
	    "usage: %s [-d] [-c FILE] [--check]%s\n"
	    "  -c, --config FILE  configuration (default %s)\n"
	    "  --check            validate the configuration and exit\n"
	    "  -d, --debug        log at debug level\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         this text\n%s",
	    name, extra != NULL ? " [options]" : "", EG_DEFAULT_CONFIG,
	    extra != NULL ? extra : "");
}

static int
is_extra(const char *arg, const char *const *extra)
{
	for (; extra != NULL && *extra != NULL; extra++)
		if (strcmp(arg, *extra) == 0)
			return 1;
	return 0;
}

void
eg_daemon_init(struct eg_daemon *d, const char *name, int argc, char **argv,
    const char *const *extra_opts, const char *usage_extra)
{
	struct eg_config_errors errs = { NULL, 0 };
	enum eg_log_level lvl = EG_LOG_INFO;
	int i;

	memset(d, 0, sizeof(*d));
	d->name = name;
	d->config_path = EG_DEFAULT_CONFIG;
	d->argv = calloc((size_t)argc + 1, sizeof(char *));
	if (d->argv == NULL) {
		fprintf(stderr, "%s: out of memory\n", name);
		exit(EG_EXIT_RUNTIME);
	}
	eg_log_init(name, EG_LOG_INFO);

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "%s: %s needs a file\n", name, a);
				exit(EG_EXIT_CONFIG);
			}
			d->config_path = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			d->config_path = a + 9;
		} else if (strcmp(a, "--check") == 0) {
			d->check_only = true;
		} else if (strcmp(a, "-d") == 0 || strcmp(a, "--debug") == 0) {
			d->debug = true;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("%s %s\n", name, EG_VERSION);
			exit(EG_EXIT_OK);
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(name, usage_extra, stdout);
			exit(EG_EXIT_OK);
		} else if (is_extra(a, extra_opts)) {
			d->argv[d->argc++] = argv[i];
		} else {
			fprintf(stderr, "%s: unknown argument \"%s\"\n", name,
			    a);
			usage(name, usage_extra, stderr);
			exit(EG_EXIT_CONFIG);
		}
	}

	d->cfg = eg_config_load(d->config_path, 0, &errs);
	if (d->cfg == NULL) {
		for (size_t k = 0; k < errs.n; k++)
			fprintf(stderr, "%s\n", errs.msgs[k]);
		fprintf(stderr, "%s: %s: %zu error%s\n", name, d->config_path,
		    errs.n, errs.n == 1 ? "" : "s");
		eg_config_errors_free(&errs);
		exit(EG_EXIT_CONFIG);
	}
	eg_config_errors_free(&errs);
	if (d->check_only) {
		printf("%s: %s: ok\n", name, d->config_path);
		exit(EG_EXIT_OK);
	}

	if (d->cfg->jail.log_level != NULL)
		(void)eg_log_level_parse(d->cfg->jail.log_level, &lvl);
	if (d->debug)
		lvl = EG_LOG_DEBUG;
	eg_log_set_level(lvl);
}

static int
group_gid(const struct eg_config *cfg, gid_t *gid)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (cfg->jail.group == NULL)
		return -1;
	if (getgrnam_r(cfg->jail.group, &gr, buf, sizeof(buf), &res) != 0 ||
	    res == NULL)
		return -1;
	*gid = gr.gr_gid;
	return 0;
}

int
eg_daemon_rundir(const struct eg_config *cfg, char *err, size_t errlen)
{
	const char *dir = cfg->jail.runtime_dir != NULL ?
	    cfg->jail.runtime_dir : EG_DEFAULT_RUNDIR;
	struct stat st;
	gid_t gid;

	if (lstat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s: not a directory", dir);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	/*
	 * Sticky and group-writable: connectd and dohd (group members)
	 * create their own sockets here, and none can replace another's.
	 */
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (geteuid() == 0 && group_gid(cfg, &gid) == 0 &&
	    chown(dir, 0, gid) == -1) {
		snprintf(err, errlen, "chown %s: %s", dir, strerror(errno));
		return -1;
	}
	if (chmod(dir, 01770) == -1) {
		snprintf(err, errlen, "chmod %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

void
eg_daemon_drop(struct eg_daemon *d, uid_t uid, gid_t gid, const int *caps,
    size_t ncaps)
{
	char err[256];
	gid_t extra = (gid_t)-1;

	(void)group_gid(d->cfg, &extra);
	if (eg_priv_drop(uid, gid, extra, caps, ncaps, err, sizeof(err)) == -1)
		eg_fatal(EG_EXIT_RUNTIME, "privdrop", "uid=%u error=\"%s\"",
		    (unsigned)uid, err);
	eg_log(EG_LOG_INFO, "privdrop", "uid=%u gid=%u caps=%zu",
	    (unsigned)uid, (unsigned)gid, ncaps);
}

const char *
eg_daemon_sock_path(const struct eg_config *cfg, const char *name, char *buf,
    size_t len)
{
	const char *dir = cfg->jail.runtime_dir != NULL ?
	    cfg->jail.runtime_dir : EG_DEFAULT_RUNDIR;

	if ((size_t)snprintf(buf, len, "%s/%s.sock", dir, name) >= len)
		buf[0] = '\0';
	return buf;
}
