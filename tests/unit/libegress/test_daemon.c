/*
 * test_daemon.c - common start-up: options, config errors and exit codes,
 * runtime directory, socket paths, the privilege drop's fatal path.
 * eg_daemon_init exits by design, so each case runs in a forked child
 * whose status and output are checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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

#include "daemon.h"
#include "eg_build.h"
#include "log.h"

#include "test_list.h"

static char dir[64], good[128], bad[128];
static char out[8192], errout[8192];

static const char good_text[] =
	"[jail]\n"
	"interface = br0\n"
	"group = nogroup\n"
	"log_level = warn\n"
	"[chain]\n"
	"hop = http://10.20.0.2:3128\n"
	"[connectd]\n"
	"user = nobody\n"
	"[dohd]\n"
	"user = nobody\n"
	"upstream = https://dns.example/dns-query 192.0.2.53\n"
	"[netjaild]\n"
	"user = nobody\n";

static const char bad_text[] =
	"[jail]\n"
	"interface = br0\n"
	"bogus_key = 1\n"
	"[chain]\n"
	"hop = htp://x:3128\n";

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/eg-daemon-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(good, sizeof(good), "%s/good.conf", dir);
	snprintf(bad, sizeof(bad), "%s/bad.conf", dir);
	write_file(good, good_text);
	write_file(bad, bad_text);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
slurp(int fd, char *buf, size_t len)
{
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

typedef int (*child_fn)(char **argv, int argc);

/* Run fn(argv) in a child with stdout/stderr captured; exit status. */
static int
run(child_fn fn, const char *const *args)
{
	char *argv[16];
	char tmpl[2][96];
	int fds[2], argc = 0, st, i;
	pid_t pid;

	for (i = 0; i < 2; i++) {
		snprintf(tmpl[i], sizeof(tmpl[i]), "%s/outXXXXXX", dir);
		fds[i] = mkstemp(tmpl[i]);
		assert_true(fds[i] >= 0);
		unlink(tmpl[i]);
	}
	argv[argc++] = (char *)"testd";
	for (i = 0; args[i] != NULL && argc < 15; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[0], 1);
		dup2(fds[1], 2);
		i = fn(argv, argc);
		fflush(stdout);
		_exit(i);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	slurp(fds[0], out, sizeof(out));
	slurp(fds[1], errout, sizeof(errout));
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int
plain_init(char **argv, int argc)
{
	static const char *const extra[] = { "--print", "--uninstall", NULL };
	struct eg_daemon d;
	int i;

	eg_daemon_init(&d, "testd", argc, argv, extra,
	    "  --print   print things\n");
	/* Report what was parsed for the parent to check. */
	printf("argc=%d debug=%d path=%s", d.argc, d.debug, d.config_path);
	for (i = 0; i < d.argc; i++)
		printf(" arg=%s", d.argv[i]);
	printf(" user=%u\n", (unsigned)d.cfg->connectd.user.uid);
	eg_log(EG_LOG_INFO, "shown_at_info", "%s", "");
	eg_log(EG_LOG_WARN, "shown_at_warn", "%s", "");
	eg_config_free(d.cfg);
	free(d.argv);
	return 42;
}

static void
test_daemon_version_help(void **state)
{
	const char *const v[] = { "-V", NULL };
	const char *const lv[] = { "--version", NULL };
	const char *const h[] = { "--help", NULL };

	(void)state;
	assert_int_equal(run(plain_init, v), 0);
	assert_string_equal(out, "testd (egressjail) " EG_VERSION "\n");
	assert_int_equal(run(plain_init, lv), 0);
	assert_int_equal(run(plain_init, h), 0);
	assert_non_null(strstr(out, "usage: testd"));
	assert_non_null(strstr(out, "--check"));
	assert_non_null(strstr(out, "--print   print things"));
}

static void
test_daemon_bad_usage(void **state)
{
	const char *const u1[] = { "--bogus", NULL };
	const char *const u2[] = { "-c", NULL };
	const char *const u3[] = { "stray", NULL };
	const char *const u4[] = { "--printer", NULL };

	(void)state;
	assert_int_equal(run(plain_init, u1), EG_EXIT_CONFIG);
	assert_non_null(strstr(errout, "\"--bogus\""));
	assert_non_null(strstr(errout, "usage:"));
	assert_int_equal(run(plain_init, u2), EG_EXIT_CONFIG);
	assert_int_equal(run(plain_init, u3), EG_EXIT_CONFIG);
	assert_non_null(strstr(errout, "\"stray\""));
	/* A prefix of a daemon option is not that option. */
	assert_int_equal(run(plain_init, u4), EG_EXIT_CONFIG);
}

static void
test_daemon_check(void **state)
{
	const char *ok[] = { "--check", "-c", good, NULL };
	const char *ko[] = { "--check", "--config", bad, NULL };
	const char *missing[] = { "--check", "-c", "/nonexistent/eg.conf",
	    NULL };
	char want[256];

	(void)state;
	assert_int_equal(run(plain_init, ok), 0);
	snprintf(want, sizeof(want), "testd: %s: ok\n", good);
	assert_string_equal(out, want);
	/* Every error, each with file:line, exit 2. */
	assert_int_equal(run(plain_init, ko), EG_EXIT_CONFIG);
	snprintf(want, sizeof(want), "testd: %s:3:", bad);
	assert_non_null(strstr(errout, want));
	snprintf(want, sizeof(want), "testd: %s:5:", bad);
	assert_non_null(strstr(errout, want));
	assert_string_equal(out, "");
	assert_int_equal(run(plain_init, missing), EG_EXIT_CONFIG);
	assert_non_null(strstr(errout, "/nonexistent/eg.conf"));
	/* Without --check, a bad config also stops the daemon. */
	ko[0] = "-d";
	assert_int_equal(run(plain_init, ko), EG_EXIT_CONFIG);
}

static void
test_daemon_extra_opts_and_level(void **state)
{
	char want[256];
	const char *a[] = { "--print", "-c", good, "--uninstall=yes", NULL };
	const char *b[] = { "--config=", NULL, "-d", "--", "--bogus", NULL };
	char cfgarg[160];

	(void)state;
	assert_int_equal(run(plain_init, a), 42);
	snprintf(want, sizeof(want), "argc=2 debug=0 path=%s arg=--print "
	    "arg=--uninstall=yes user=65534\n", good);
	assert_string_equal(out, want);
	/* log_level = warn from the config. */
	assert_null(strstr(errout, "shown_at_info"));
	assert_non_null(strstr(errout, "level=warn daemon=testd "
	    "event=shown_at_warn"));
	/* --config=FILE, -d wins over the config's level, "--" ends. */
	snprintf(cfgarg, sizeof(cfgarg), "--config=%s", good);
	b[0] = cfgarg;
	b[1] = "-d";
	b[2] = "--";
	b[3] = "--bogus";
	b[4] = NULL;
	assert_int_equal(run(plain_init, b), 42);
	assert_non_null(strstr(out, "argc=1 debug=1"));
	assert_non_null(strstr(out, "arg=--bogus"));
	assert_non_null(strstr(errout, "event=shown_at_info"));
}

static void
test_daemon_sock_path(void **state)
{
	struct eg_config cfg;
	char buf[64], tiny[12];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_string_equal(eg_daemon_sock_path(&cfg, "dohd", buf,
	    sizeof(buf)), "/run/egressjail/dohd.sock");
	cfg.jail.runtime_dir = (char *)"/tmp/r";
	assert_string_equal(eg_daemon_sock_path(&cfg, "netjaild", buf,
	    sizeof(buf)), "/tmp/r/netjaild.sock");
	/* Truncated: no path at all rather than a wrong one. */
	assert_null(eg_daemon_sock_path(&cfg, "netjaild", tiny, sizeof(tiny)));
	assert_string_equal(tiny, "");
}

static void
test_daemon_rundir(void **state)
{
	struct eg_config cfg;
	char rd[128], err[256], file[160];
	struct group *gr;
	struct stat st;
	int fd;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(rd, sizeof(rd), "%s/run", dir);
	cfg.jail.runtime_dir = rd;
	cfg.jail.group = (char *)"nogroup";
	gr = getgrnam("nogroup");
	/* Created 1770 with the group, whatever the umask. */
	umask(0);
	assert_int_equal(eg_daemon_rundir(&cfg, err, sizeof(err)), 0);
	umask(022);
	assert_int_equal(lstat(rd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 01770);
	if (gr != NULL && geteuid() == 0)
		assert_int_equal(st.st_gid, gr->gr_gid);
	/* Present and sound: fine. */
	assert_int_equal(eg_daemon_rundir(&cfg, err, sizeof(err)), 0);
	/* Writable by others: refused. */
	chmod(rd, 01777);
	assert_int_equal(eg_daemon_rundir(&cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "writable"));
	/* Group-writable without the sticky bit: refused. */
	chmod(rd, 0770);
	assert_int_equal(eg_daemon_rundir(&cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "sticky"));
	/* Owner-only is fine too. */
	chmod(rd, 0700);
	assert_int_equal(eg_daemon_rundir(&cfg, err, sizeof(err)), 0);
	rmdir(rd);
	/* A symlink or a file in its place: refused. */
	assert_int_equal(symlink("/tmp", rd), 0);
	assert_int_equal(eg_daemon_rundir(&cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a directory"));
	unlink(rd);
	fd = open(rd, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(eg_daemon_rundir(&cfg, err, sizeof(err)), -1);
	unlink(rd);
	/* Parent missing. */
	snprintf(file, sizeof(file), "%s/no/such", dir);
	cfg.jail.runtime_dir = file;
	assert_int_equal(eg_daemon_rundir(&cfg, err, sizeof(err)), -1);
}

static int
drop_child(char **argv, int argc)
{
	struct eg_daemon d;
	uid_t target = (uid_t)atoi(argv[argc - 1]);

	memset(&d, 0, sizeof(d));
	d.name = "testd";
	eg_log_init("testd", EG_LOG_INFO);
	eg_daemon_drop(&d, target, target, NULL, 0);
	printf("uid=%u\n", (unsigned)getuid());
	return 0;
}

static void
test_daemon_drop(void **state)
{
	const char *const root[] = { "0", NULL };
	const char *const nobody[] = { "65534", NULL };

	(void)state;
	/* Never continues privileged: exit 1 with the reason logged. */
	assert_int_equal(run(drop_child, root), EG_EXIT_RUNTIME);
	assert_non_null(strstr(errout, "event=privilege_drop_failed"));
	assert_string_equal(out, "");
	if (geteuid() == 0) {
		assert_int_equal(run(drop_child, nobody), 0);
		assert_string_equal(out, "uid=65534\n");
		assert_non_null(strstr(errout, "event=privileges_dropped"));
	} else {
		/* Cannot become someone else without root. */
		assert_int_equal(run(drop_child, nobody), EG_EXIT_RUNTIME);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(DAEMON_TESTS);

	return cmocka_run_group_tests(tests, setup, teardown);
}
