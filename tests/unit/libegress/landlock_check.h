/*
 * landlock_check.h - the body of connectd's and dohd's Landlock unit
 * tests (test_landlock_{connectd,dohd}.c), which define, then include
 * this:
 *   LL_ROLE                     the role eg_landlock_paths() builds for
 *   LL_EXTRA_CONF               [dohd] lines of its own, as a format that
 *                               takes the test directory once ("%s")
 * A forked child applies the list and checks what stays readable (the
 * config, an allow file, the CA and hosts file, the user database) and
 * what does not (a world-readable file elsewhere, /etc/shadow even to
 * root, any write).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "sandbox.h"

#include "test_list.h"

#define LL_PATHS(cfg, conf, paths, n) \
	eg_landlock_paths(LL_ROLE, (cfg), (conf), (paths), (n))
#define LL_FREE		eg_landlock_paths_free
#define LL_MAX		EG_LANDLOCK_MAX

static char dir[64], outside[64];

static void
put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static struct eg_config *
load(char *conf, size_t len)
{
	struct eg_config_errors errs = { NULL, 0 };
	struct eg_config *cfg;
	char path[128], text[1024];

	snprintf(path, sizeof(path), "%s/allow.d", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/allow.d/a.allow", dir);
	put(path, "smoke.test\n");
	snprintf(path, sizeof(path), "%s/hosts", dir);
	put(path, "10.0.0.9 local.test\n");
	snprintf(path, sizeof(path), "%s/other.allow", outside);
	put(path, "other.test\n");
	snprintf(text, sizeof(text),
	    "[jail]\ninterface = br0\n[chain]\nhop = http://10.0.0.1:3128\n"
	    "[dohd]\nupstream = https://doh.test/dns-query 10.0.0.2\n"
	    "ca_file = %s/hosts\n" LL_EXTRA_CONF
	    "[policy]\nallow_file = allow.d/*.allow   ; relative\n", dir, dir);
	snprintf(conf, len, "%s/ej.conf", dir);
	put(conf, text);
	cfg = eg_config_load(conf, EG_CONFIG_NO_USERS, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "config: %s\n", errs.msgs[i]);
	eg_config_errors_free(&errs);
	assert_non_null(cfg);
	return cfg;
}

static bool
listed(char **paths, const char *p)
{
	for (size_t i = 0; paths[i] != NULL; i++)
		if (strcmp(paths[i], p) == 0)
			return true;
	return false;
}

static int
readable(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return -errno;
	close(fd);
	return 0;
}

static void
test_landlock_paths(void **state)
{
	struct eg_config *cfg;
	char conf[128], p[160], *paths[LL_MAX];
	int n;

	(void)state;
	cfg = load(conf, sizeof(conf));
	n = LL_PATHS(cfg, conf, paths, LL_MAX);
	assert_true(n >= 2);
	assert_null(paths[n]);
	for (int i = 0; i < n; i++)
		fprintf(stderr, "path: %s\n", paths[i]);
	assert_true(listed(paths, dir));
	snprintf(p, sizeof(p), "%s/allow.d", dir);
	assert_true(listed(paths, p));
	assert_false(listed(paths, outside));
	assert_false(listed(paths, "/etc"));
	assert_false(listed(paths, "/"));
	if (access("/etc/passwd", F_OK) == 0)
		assert_true(listed(paths, "/etc/passwd"));
	/* libuv's EMFILE reserve, opened again on every accept without it */
	if (access("/dev/null", F_OK) == 0)
		assert_true(listed(paths, "/dev/null"));
	/* Too small a list is an error, never a shorter list. */
	LL_FREE(paths);
	assert_int_equal(LL_PATHS(cfg, conf, paths, 2), -1);
	assert_null(paths[0]);
	eg_config_free(cfg);
}

/* Exit codes name the failed check. */
static int
child(const char *conf)
{
	struct eg_config *cfg;
	struct eg_config_errors errs = { NULL, 0 };
	char *paths[LL_MAX], err[256], p[160];
	int r;

	if ((cfg = eg_config_load(conf, EG_CONFIG_NO_USERS, &errs)) == NULL)
		return 10;
	if (LL_PATHS(cfg, conf, paths, LL_MAX) < 0)
		return 11;
	r = eg_sandbox_landlock_ro((const char *const *)paths, err,
	    sizeof(err));
	LL_FREE(paths);
	eg_config_free(cfg);
	if (r == 0)
		return 77;
	if (r < 0) {
		fprintf(stderr, "landlock: %s\n", err);
		return 12;
	}
	if (readable(conf) != 0)
		return 20;
	snprintf(p, sizeof(p), "%s/allow.d/a.allow", dir);
	if (readable(p) != 0)
		return 21;
	snprintf(p, sizeof(p), "%s/hosts", dir);
	if (readable(p) != 0)
		return 22;
	if (access("/etc/passwd", F_OK) == 0 && readable("/etc/passwd") != 0)
		return 23;
	/* A reload reads it all again, users looked up. */
	if ((cfg = eg_config_load(conf, 0, &errs)) == NULL &&
	    errs.n > 0 && strstr(errs.msgs[0], "Permission denied") != NULL) {
		fprintf(stderr, "reload: %s\n", errs.msgs[0]);
		return 24;
	}
	eg_config_errors_free(&errs);
	eg_config_free(cfg);
	snprintf(p, sizeof(p), "%s/other.allow", outside);
	if (readable(p) != -EACCES)
		return 30;
	if (access("/etc/shadow", F_OK) == 0 &&
	    readable("/etc/shadow") != -EACCES)
		return 31;
	if (open(conf, O_WRONLY | O_APPEND) != -1 || errno != EACCES)
		return 32;
	snprintf(p, sizeof(p), "%s/new", dir);
	if (open(p, O_WRONLY | O_CREAT, 0644) != -1 || errno != EACCES)
		return 33;
	return 0;
}

static void
test_landlock_enforced(void **state)
{
	struct eg_config *cfg;
	char conf[128];
	pid_t pid;
	int st;

	(void)state;
	cfg = load(conf, sizeof(conf));
	eg_config_free(cfg);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child(conf));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		skip();
	if (WEXITSTATUS(st) != 0)
		fail_msg("child failed check %d", WEXITSTATUS(st));
}

/*
 * A workload's allow files are read again on a reload like [policy]'s:
 * their directory is listed (by the allow_file line and by the files its
 * rules came from) and stays readable under Landlock, while a directory
 * no section names does not.
 */
static void
test_landlock_workload_allow_files(void **state)
{
	struct eg_config_errors errs = { NULL, 0 };
	struct eg_config *cfg;
	char conf[128], wldir[64], p[160], text[1024], *paths[LL_MAX];
	pid_t pid;
	int n, st;

	(void)state;
	strcpy(wldir, "/tmp/ejll-wl.XXXXXX");
	assert_non_null(mkdtemp(wldir));
	chmod(wldir, 0755);
	snprintf(p, sizeof(p), "%s/ci.allow", wldir);
	put(p, "ci.test\n");
	snprintf(text, sizeof(text),
	    "[jail]\ninterface = br-*\n[chain]\nhop = http://10.0.0.1:3128\n"
	    "[dohd]\nupstream = https://doh.test/dns-query 10.0.0.2\n"
	    "ca_file = %s/hosts\n"
	    "[policy]\nallow = smoke.test\n"
	    "[workload ci]\nmatch = iface:br-ci\nallow_file = %s/*.allow\n",
	    dir, wldir);
	snprintf(p, sizeof(p), "%s/hosts", dir);
	put(p, "10.0.0.9 local.test\n");
	snprintf(conf, sizeof(conf), "%s/ej.conf", dir);
	put(conf, text);
	cfg = eg_config_load(conf, EG_CONFIG_NO_USERS | EG_CONFIG_WORKLOADS,
	    &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "config: %s\n", errs.msgs[i]);
	eg_config_errors_free(&errs);
	assert_non_null(cfg);
	assert_int_equal(cfg->workloads[0].policy.nrules, 1);
	n = LL_PATHS(cfg, conf, paths, LL_MAX);
	assert_true(n >= 2);
	assert_true(listed(paths, wldir));
	assert_false(listed(paths, outside));
	snprintf(p, sizeof(p), "%s/other.allow", outside);
	put(p, "other.test\n");
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		int r = eg_sandbox_landlock_ro((const char *const *)paths, err,
		    sizeof(err));

		if (r == 0)
			_exit(77);
		if (r < 0)
			_exit(12);
		snprintf(p, sizeof(p), "%s/ci.allow", wldir);
		if (readable(p) != 0)
			_exit(40);
		snprintf(p, sizeof(p), "%s/other.allow", outside);
		_exit(readable(p) == -EACCES ? 0 : 41);
	}
	LL_FREE(paths);
	eg_config_free(cfg);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	snprintf(text, sizeof(text), "rm -rf '%s'", wldir);
	assert_int_equal(system(text), 0);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		skip();
	if (WEXITSTATUS(st) != 0)
		fail_msg("child failed check %d", WEXITSTATUS(st));
}

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/ejll-conf.XXXXXX");
	strcpy(outside, "/tmp/ejll-out.XXXXXX");
	if (mkdtemp(dir) == NULL || mkdtemp(outside) == NULL)
		return -1;
	chmod(dir, 0755);
	chmod(outside, 0755);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[200];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, outside);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(LANDLOCK_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
