/*
 * landlock_paths.c - the paths a daemon may still read under Landlock
 * (eg_sandbox_landlock_ro): what every role reads again on a reload (the
 * config, [policy]'s and every workload's allow files), and each role's
 * own files (CA bundle, hosts and zone files).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "addr.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "sandbox.h"

/* Directories are listed rather than files wherever a file may be replaced
 * by rename (editors, sed -i, update-ca-certificates): a Landlock rule
 * holds the inode, so a rule on the old file would not cover the new. */

static bool
ll_has(char *const *out, size_t k, const char *p)
{
	for (size_t i = 0; i < k; i++)
		if (strcmp(out[i], p) == 0)
			return true;
	return false;
}

/* Append a copy of p unless listed already or absent (-1: no room/memory). */
static int
ll_add(char **out, size_t n, size_t *k, const char *p)
{
	struct stat st;

	if (p == NULL || p[0] == '\0' || ll_has(out, *k, p))
		return 0;
	if (stat(p, &st) != 0)
		return 0;	/* absent now: a reload naming it fails */
	if (*k + 1 >= n)
		return -1;
	if ((out[*k] = strdup(p)) == NULL)
		return -1;
	(*k)++;
	out[*k] = NULL;
	return 0;
}

/* The directory holding file (never "/" or "/etc": the file itself). */
static int
ll_add_dir_of(char **out, size_t n, size_t *k, const char *file)
{
	const char *slash;
	char *dir;
	int r;

	if (file == NULL)
		return 0;
	if ((slash = strrchr(file, '/')) == NULL)
		return ll_add(out, n, k, ".");
	if (slash == file)
		return ll_add(out, n, k, file);
	if ((dir = strndup(file, (size_t)(slash - file))) == NULL)
		return -1;
	/* /etc holds the shadow files and every other daemon's secrets:
	 * a file there is listed alone (replacing it then needs a restart). */
	r = strcmp(dir, "/etc") == 0 ? ll_add(out, n, k, file) :
	    ll_add(out, n, k, dir);
	free(dir);
	return r;
}

/* An allow_file glob, relative to confdir unless absolute: the directory
 * above its first wildcard, where a reload expands it again. */
static int
ll_add_glob(char **out, size_t n, size_t *k, const char *confdir,
    const char *pat)
{
	char *abs = NULL;
	size_t meta;
	int r;

	if (pat[0] == '/')
		abs = strdup(pat);
	else if (asprintf(&abs, "%s/%s", confdir, pat) < 0)
		abs = NULL;
	if (abs == NULL)
		return -1;
	meta = strcspn(abs, "*?[");
	abs[meta] = '\0';
	/* "dir/x*.allow" -> "dir/x" -> its directory "dir" */
	r = ll_add_dir_of(out, n, k, abs);
	free(abs);
	return r;
}

/* The allow_file values of the main file, as written (the loaded config
 * keeps only the files they matched then). */
static int
ll_add_globs(char **out, size_t n, size_t *k, const char *config_path)
{
	char *line = NULL, *confdir, *slash;
	size_t cap = 0;
	FILE *fp;
	int r = 0;

	if ((confdir = strdup(config_path)) == NULL)
		return -1;
	if ((slash = strrchr(confdir, '/')) == NULL) {
		free(confdir);
		confdir = strdup(".");
	} else if (slash == confdir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (confdir == NULL)
		return -1;
	if ((fp = fopen(config_path, "re")) == NULL) {
		free(confdir);
		return 0;	/* the loader would have failed first */
	}
	while (r == 0 && getline(&line, &cap, fp) != -1) {
		char *p = line, *e;

		p += strspn(p, " \t");
		if (strncmp(p, "allow_file", 10) != 0)
			continue;
		p += 10;
		p += strspn(p, " \t");
		if (*p++ != '=')
			continue;
		p += strspn(p, " \t");
		/* comments as the loader strips them: ; or # after a blank */
		for (e = p; *e != '\0'; e++)
			if ((*e == ';' || *e == '#') && e > p &&
			    (e[-1] == ' ' || e[-1] == '\t'))
				break;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t' ||
		    e[-1] == '\n' || e[-1] == '\r'))
			e--;
		*e = '\0';
		if (*p != '\0')
			r = ll_add_glob(out, n, k, confdir, p);
	}
	free(line);
	fclose(fp);
	free(confdir);
	return r;
}

/* The directories of the files a policy's rules came from. */
static int
ll_add_rule_files(char **out, size_t n, size_t *k, const struct eg_config *cfg,
    const struct eg_policy_conf *pc)
{
	for (size_t i = 0; i < pc->nrules; i++) {
		const char *f = pc->rules[i].at.file;

		if (f != NULL && (cfg->path == NULL || strcmp(f, cfg->path) != 0) &&
		    ll_add_dir_of(out, n, k, f) < 0)
			return -1;
	}
	return 0;
}

/* What every list holds: the main file's directory (reload reads it
 * again, maybe a new inode), the allow_file directories, and what glibc
 * reads for the user and group lookups a reload makes. */
static int
ll_add_common(char **out, size_t n, size_t *k, const struct eg_config *cfg,
    const char *config_path)
{
	static const char *const nss[] = {
		"/etc/nsswitch.conf", "/etc/passwd", "/etc/group", NULL,
	};

	if (ll_add_dir_of(out, n, k, config_path) < 0 ||
	    ll_add_globs(out, n, k, config_path) < 0)
		return -1;
	/* Files the rules came from, in case a glob escaped the scan:
	 * [policy]'s and every workload's, each reloaded alike. */
	if (ll_add_rule_files(out, n, k, cfg, &cfg->policy) < 0)
		return -1;
	for (size_t w = 0; w < cfg->nworkloads; w++)
		if (ll_add_rule_files(out, n, k, cfg,
		    &cfg->workloads[w].policy) < 0)
			return -1;
	for (size_t i = 0; nss[i] != NULL; i++)
		if (ll_add(out, n, k, nss[i]) < 0)
			return -1;
	/* libuv keeps a descriptor of /dev/null in reserve for EMFILE;
	 * denied, it tries again on every accept and connect. */
	return ll_add(out, n, k, "/dev/null");
}

void
eg_landlock_paths_free(char **out)
{
	for (size_t i = 0; out != NULL && out[i] != NULL; i++) {
		free(out[i]);
		out[i] = NULL;
	}
}


int
eg_landlock_paths(enum eg_role role, const struct eg_config *cfg,
    const char *config_path, char **out, size_t n)
{
	size_t k = 0;
	int r;

	if (n == 0)
		return -1;
	out[0] = NULL;
	r = ll_add_common(out, n, &k, cfg, config_path);
	if (r == 0 && role == EG_ROLE_CONNECTD)
		/* The trust for https:// hops, loaded again by each
		 * generation. */
		r = ll_add_dir_of(out, n, &k, cfg->chain.ca_file != NULL ?
		    cfg->chain.ca_file : EG_DEFAULT_CA_FILE);
	else if (r == 0 && role == EG_ROLE_DOHD) {
		/* The CA file is read before the sandbox (upstreams change
		 * on restart only) but OpenSSL may look again; hosts and
		 * zone files are read again on every reload. */
		if (ll_add_dir_of(out, n, &k, cfg->dohd.ca_file != NULL ?
		    cfg->dohd.ca_file : EG_DEFAULT_CA_FILE) < 0 ||
		    ll_add_dir_of(out, n, &k, cfg->dohd.hosts_file) < 0 ||
		    ll_add_dir_of(out, n, &k, cfg->dohd.zone_file) < 0)
			r = -1;
	}
	if (r < 0) {
		eg_landlock_paths_free(out);
		return -1;
	}
	return (int)k;
}
