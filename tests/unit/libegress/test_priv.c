/*
 * test_priv.c - privilege drop, seccomp and Landlock, each in a forked
 * child (they cannot be undone).  The parts that need root skip without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/socket.h>

#include <cap-ng.h>
#include <linux/capability.h>
#include <uv.h>

#include <cmocka.h>

#include "eg_build.h"
#include "priv.h"
#include "sandbox.h"

#include "test_list.h"

#if HAVE_LIBSECCOMP
#include <seccomp.h>
#endif

#define NOBODY 65534

/* Run fn in a child; return its wait status.  Child failure codes say
 * which check failed; a message goes to stderr. */
static int
in_child(int (*fn)(void *), void *arg)
{
	pid_t pid;
	int st;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void
assert_exit0(int st)
{
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("child failed: status %#x (exit %d)", st,
		    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* Exactly these caps in effective and permitted, nothing else anywhere. */
static int
caps_exactly(const int *caps, size_t n)
{
	unsigned c;
	size_t i;
	bool want;

	if (capng_get_caps_process() != 0)
		return 0;
	for (c = 0; c <= CAP_LAST_CAP; c++) {
		want = false;
		for (i = 0; i < n; i++)
			if ((unsigned)caps[i] == c)
				want = true;
		if (want != (capng_have_capability(CAPNG_EFFECTIVE, c) != 0) ||
		    want != (capng_have_capability(CAPNG_PERMITTED, c) != 0)) {
			fprintf(stderr, "cap %u: want %d\n", c, want);
			return 0;
		}
	}
	return 1;
}

struct drop_args {
	const int *caps;
	size_t ncaps;
	gid_t extra;
};

static int
child_drop(void *p)
{
	struct drop_args *a = p;
	char err[256];
	gid_t groups[64];
	int n, i, found = 0;

	if (eg_priv_drop(NOBODY, NOBODY, a->extra, a->caps, a->ncaps, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "drop: %s\n", err);
		return 1;
	}
	if (getuid() != NOBODY || geteuid() != NOBODY || getgid() != NOBODY)
		return 2;
	if (setuid(0) == 0 || setgid(0) == 0)
		return 3;
	if (!caps_exactly(a->caps, a->ncaps))
		return 4;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 5;
	/* Bounding set cleared of everything else. */
	if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0)
		return 6;
	n = getgroups(64, groups);
	for (i = 0; i < n; i++) {
		if (groups[i] == 0)
			return 7;	/* root's groups must not survive */
		if (groups[i] == a->extra)
			found = 1;
	}
	if (a->extra != (gid_t)-1 && !found)
		return 8;
	/* Ambient holds the kept caps, so an exec'd helper keeps them. */
	for (i = 0; i < (int)a->ncaps; i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET,
		    a->caps[i], 0, 0) != 1)
			return 9;
	return 0;
}

static void
test_priv_drop_keep_net_admin(void **state)
{
	static const int caps[] = { CAP_NET_ADMIN };
	struct drop_args a = { caps, 1, 4321 };

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_exit0(in_child(child_drop, &a));
}

static void
test_priv_drop_no_caps(void **state)
{
	struct drop_args a = { NULL, 0, (gid_t)-1 };

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_exit0(in_child(child_drop, &a));
}

/* Already the target user with more than we want: only trims. */
static int
child_trim(void *p)
{
	static const int two[] = { CAP_NET_ADMIN, CAP_NET_RAW };
	static const int one[] = { CAP_NET_ADMIN };
	char err[256];

	(void)p;
	if (eg_priv_drop(NOBODY, NOBODY, (gid_t)-1, two, 2, err,
	    sizeof(err)) != 0 || !caps_exactly(two, 2)) {
		fprintf(stderr, "first drop: %s\n", err);
		return 1;
	}
	if (eg_priv_drop(NOBODY, NOBODY, (gid_t)-1, one, 1, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "trim: %s\n", err);
		return 2;
	}
	if (!caps_exactly(one, 1))
		return 3;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0,
	    0) != 0)
		return 4;
	/* A cap we no longer hold cannot be kept. */
	if (eg_priv_drop(NOBODY, NOBODY, (gid_t)-1, two, 2, err,
	    sizeof(err)) == 0)
		return 5;
	return 0;
}

static void
test_priv_trim_as_target(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_exit0(in_child(child_trim, NULL));
}

static int
child_refuse(void *p)
{
	char err[256];

	(void)p;
	if (eg_priv_drop(0, 0, (gid_t)-1, NULL, 0, err, sizeof(err)) == 0)
		return 1;
	if (strstr(err, "root") == NULL)
		return 2;
	/* Unprivileged and not the target: cannot become someone else. */
	if (geteuid() == 0 && (setgid(NOBODY) == -1 || setuid(NOBODY) == -1))
		return 3;
	if (eg_priv_drop(NOBODY - 1, NOBODY - 1, (gid_t)-1, NULL, 0, err,
	    sizeof(err)) == 0)
		return 4;
	/* The current user, no caps: fine. */
	if (eg_priv_drop(getuid(), getgid(), (gid_t)-1, NULL, 0, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "self: %s\n", err);
		return 5;
	}
	return 0;
}

static void
test_priv_refusals(void **state)
{
	(void)state;
	assert_exit0(in_child(child_refuse, NULL));
}

/* ---- seccomp ---------------------------------------------------------- */

static int
child_seccomp_exec(void *p)
{
	char err[256];
	char *const argv[] = { (char *)"/bin/true", NULL };

	(void)p;
	if (eg_sandbox_seccomp(eg_sandbox_base_syscalls, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "seccomp: %s\n", err);
		return 1;
	}
	syscall(SYS_execve, "/bin/true", argv, NULL);
	return 2;	/* not reached: killed */
}

static void
test_priv_seccomp_kills_execve(void **state)
{
	int st;

	(void)state;
	st = in_child(child_seccomp_exec, NULL);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
		fail_msg("want death by SIGSYS, got status %#x", st);
}

static void
timer_cb(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

/* The base list is enough for a libuv loop with a timer. */
static int
child_seccomp_uv(void *p)
{
	uv_loop_t loop;
	uv_timer_t t;
	char err[256];
	int fired = 0;

	(void)p;
	if (eg_sandbox_seccomp(eg_sandbox_base_syscalls, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "seccomp: %s\n", err);
		return 1;
	}
	if (uv_loop_init(&loop) != 0)
		return 2;
	uv_timer_init(&loop, &t);
	t.data = &fired;
	uv_timer_start(&t, timer_cb, 1, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0 || !fired)
		return 3;
	if (write(2, "", 0) != 0)
		return 4;
	return 0;
}

static void
test_priv_seccomp_base_runs_loop(void **state)
{
	(void)state;
	assert_exit0(in_child(child_seccomp_uv, NULL));
}

static void
test_priv_seccomp_unknown_name(void **state)
{
	static const char *const bad[] = { "read", "no_such_syscall", NULL };
	static const char *const empty[] = { NULL };
	char err[256] = "";

	(void)state;
	/* Fails before anything is loaded, so safe in this process. */
	assert_int_equal(eg_sandbox_seccomp(bad, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no_such_syscall"));
	assert_int_equal(eg_sandbox_seccomp(empty, err, sizeof(err)), -1);
	/* Every name of the base list is known to libseccomp. */
	assert_non_null(eg_sandbox_base_syscalls[0]);
}

/* The base list, then each addition not already in it, once. */
static void
test_priv_sandbox_syscalls_merge(void **state)
{
	static const char *const add[] = { "socket", "read", "socket",
	    "bind", "epoll_wait", NULL };
	const char **all;
	size_t nb = 0, n = 0, socket_n = 0, read_n = 0;

	(void)state;
	while (eg_sandbox_base_syscalls[nb] != NULL)
		nb++;
	assert_non_null(all = eg_sandbox_syscalls(add));
	for (; all[n] != NULL; n++) {
		if (n < nb)
			assert_ptr_equal(all[n], eg_sandbox_base_syscalls[n]);
		socket_n += strcmp(all[n], "socket") == 0;
		read_n += strcmp(all[n], "read") == 0;
	}
	assert_int_equal(n, nb + 2);
	assert_string_equal(all[nb], "socket");
	assert_string_equal(all[nb + 1], "bind");
	assert_int_equal(socket_n, 1);
	assert_int_equal(read_n, 1);
	free(all);
	/* No additions: the base list alone. */
	assert_non_null(all = eg_sandbox_syscalls(NULL));
	for (n = 0; all[n] != NULL; n++)
		;
	assert_int_equal(n, nb);
	free(all);
}

/* An addition is allowed (socket is in no other list, sanitizer builds
 * included); what nobody listed still kills. */
static int
child_sandbox_apply(void *p)
{
	static const char *const add[] = { "socket", NULL };
	char *const argv[] = { (char *)"/bin/true", NULL };
	int fd, out = *(int *)p;

	eg_sandbox_apply(EG_ROLE_NETJAILD, add, NULL, NULL);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1)
		return 3;
	close(fd);
	/* tell the parent socket() went through: SIGSYS alone would not */
	if (write(out, "s", 1) != 1)
		return 5;
	syscall(SYS_execve, "/bin/true", argv, NULL);
	return 4;	/* not reached: killed */
}

static void
test_priv_sandbox_apply(void **state)
{
	char c = 0;
	int st, fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	st = in_child(child_sandbox_apply, &fds[1]);
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	assert_int_equal(c, 's');
	close(fds[0]);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
		fail_msg("want death by SIGSYS after socket(), got status %#x",
		    st);
}

/* A list the filter cannot be built from ends the process: never a
 * daemon running on without its sandbox. */
static int
child_sandbox_apply_bad(void *p)
{
	static const char *const add[] = { "socket", "no_such_syscall", NULL };

	(void)p;
	eg_sandbox_apply(EG_ROLE_NETJAILD, add, NULL, NULL);
	return 2;	/* not reached: exit(EG_EXIT_RUNTIME) */
}

static void
test_priv_sandbox_apply_fails_closed(void **state)
{
	int st;

	(void)state;
	st = in_child(child_sandbox_apply_bad, NULL);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 1)
		fail_msg("want exit 1, got status %#x", st);
}

/* ---- Landlock --------------------------------------------------------- */

static char ro_dir[64], other_dir[64];

static int
child_landlock(void *p)
{
	const char *paths[] = { ro_dir, NULL };
	char err[256], f[128];
	int r, fd;

	(void)p;
	r = eg_sandbox_landlock_ro(paths, err, sizeof(err));
	if (r == 0)
		return 77;	/* no Landlock in this kernel */
	if (r != 1) {
		fprintf(stderr, "landlock: %s\n", err);
		return 1;
	}
	snprintf(f, sizeof(f), "%s/a", ro_dir);
	if ((fd = open(f, O_RDONLY)) == -1)
		return 2;
	close(fd);
	if (open(f, O_WRONLY) != -1 || errno != EACCES)
		return 3;
	snprintf(f, sizeof(f), "%s/b", other_dir);
	if (open(f, O_RDONLY) != -1 || errno != EACCES)
		return 4;
	if (open("/etc/passwd", O_RDONLY) != -1)
		return 5;
	snprintf(f, sizeof(f), "%s/new", ro_dir);
	if (open(f, O_CREAT | O_WRONLY, 0600) != -1)
		return 6;
	return 0;
}

static void
mkfile(const char *dir, const char *name)
{
	char f[128];
	int fd;

	snprintf(f, sizeof(f), "%s/%s", dir, name);
	fd = open(f, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static void
test_priv_landlock(void **state)
{
	const char *bad[] = { "/nonexistent/eg", NULL };
	char err[256];
	int st;

	(void)state;
	snprintf(ro_dir, sizeof(ro_dir), "/tmp/eg-ll-ro-XXXXXX");
	snprintf(other_dir, sizeof(other_dir), "/tmp/eg-ll-x-XXXXXX");
	assert_non_null(mkdtemp(ro_dir));
	assert_non_null(mkdtemp(other_dir));
	mkfile(ro_dir, "a");
	mkfile(other_dir, "b");
	st = in_child(child_landlock, NULL);
	if (!(WIFEXITED(st) && WEXITSTATUS(st) == 77))
		assert_exit0(st);
	/* A path that does not exist is an error, not a silent no-rule. */
	if (WEXITSTATUS(st) != 77)
		assert_int_equal(eg_sandbox_landlock_ro(bad, err, sizeof(err)),
		    -1);
	snprintf(err, sizeof(err), "rm -rf '%s' '%s'", ro_dir, other_dir);
	assert_int_equal(system(err), 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
		skip();
}

#if HAVE_LIBSECCOMP
/*
 * A filter that answers landlock_create_ruleset with ERRNO (what
 * systemd's SystemCallFilter= or systemd-nspawn's own filter do to a call
 * they do not list) must stop the daemon: only ENOSYS and EOPNOTSUPP say
 * "this kernel has no Landlock".  Reading EPERM as "no Landlock" would run
 * the daemon without its file-system sandbox, silently.
 */
static int
child_landlock_errno(void *p)
{
	const char *paths[] = { "/tmp", NULL };
	int want = *(int *)p, r;
	scmp_filter_ctx ctx;
	char err[256] = "";

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(want),
	    SCMP_SYS(landlock_create_ruleset), 0) != 0 ||
	    seccomp_load(ctx) != 0)
		return 10;
	seccomp_release(ctx);
	r = eg_sandbox_landlock_ro(paths, err, sizeof(err));
	if (want == ENOSYS || want == EOPNOTSUPP)
		return r == 0 ? 0 : 1;		/* no Landlock: go on */
	if (r != -1)
		return 2;			/* must refuse */
	if (strstr(err, strerror(want)) == NULL) {
		fprintf(stderr, "landlock error does not say why: %s\n", err);
		return 3;
	}
	return 0;
}

static void
test_priv_landlock_errno(void **state)
{
	static const int errs[] = { EPERM, EACCES, EINVAL, ENOSYS, EOPNOTSUPP };
	size_t i;
	int e;

	(void)state;
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		e = errs[i];
		assert_exit0(in_child(child_landlock_errno, &e));
	}
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(PRIV_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
