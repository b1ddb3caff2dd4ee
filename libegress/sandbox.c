/*
 * sandbox.c - seccomp allow-lists and a read-only Landlock view.
 *
 * The seccomp default is to kill the whole process: a daemon that makes a
 * syscall nobody listed is broken or compromised, and in both cases the
 * jail is better served by its death (systemd restarts it; the rules stay
 * in the kernel) than by an error return it might not check.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/landlock.h>

#include "daemon.h"
#include "eg_build.h"
#include "log.h"
#include "priv.h"
#include "sandbox.h"

#if HAVE_LIBSECCOMP
#include <seccomp.h>
#endif

/* An AddressSanitizer build (test.sh's build-asan): see below. */
#if defined(__SANITIZE_ADDRESS__)
#define EG_SANITIZER_RUNTIME 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EG_SANITIZER_RUNTIME 1
#endif
#endif

#ifdef EG_SANITIZER_RUNTIME
/*
 * GCC's UBSan runtime reads UBSAN_OPTIONS lazily, at its first report, from
 * /proc/self/environ: in a daemon that has dropped to its user (no longer
 * dumpable, so that file is root's) and sits under Landlock, it cannot, and
 * a report would go on with the defaults (print and continue).  So a
 * sanitizer build makes a report fatal by default; UBSAN_OPTIONS, where
 * readable, still overrides.  The lab's harness also fails a test on any
 * report it finds in a log (tests/lab/lib.sh).
 */
const char *__ubsan_default_options(void);
const char *
__ubsan_default_options(void)
{
	return "halt_on_error=1:abort_on_error=1:print_stacktrace=1";
}
#endif

/*
 * What a libuv daemon does after start-up, whatever its job: run the loop
 * (epoll, timers, the async eventfd, signals through a self-pipe), move
 * bytes on sockets it already has and on ones it accepts, log to stderr,
 * allocate memory, read the clock and random bytes, exit.  Opening files,
 * creating outbound sockets, bind/listen, exec and every identity change
 * are not here: a daemon that needs one adds it to its own list.
 */
const char *const eg_sandbox_base_syscalls[] = {
	/* event loop */
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "poll", "ppoll", "eventfd2", "timerfd_create",
	"timerfd_settime", "timerfd_gettime", "pipe2",
	/* i/o on existing and accepted descriptors */
	"read", "write", "readv", "writev", "pread64", "pwrite64",
	"recvfrom", "sendto", "recvmsg", "sendmsg", "recvmmsg", "sendmmsg",
	"accept4", "shutdown", "close", "getsockopt", "setsockopt",
	"getsockname", "getpeername", "fcntl", "ioctl", "fstat", "newfstatat",
	"statx", "lseek", "dup", "dup3",
	/* memory */
	"mmap", "munmap", "mprotect", "mremap", "brk", "madvise",
	/* threads, time, randomness */
	"futex", "set_robust_list", "sched_yield", "clock_gettime",
	"clock_getres", "clock_nanosleep", "gettimeofday", "nanosleep",
	"getrandom",
	/* signals */
	"rt_sigreturn", "rt_sigprocmask", "rt_sigaction", "sigaltstack",
	"restart_syscall", "tgkill",
	/* identity reads and exit */
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"uname", "exit", "exit_group",
	NULL,
};

const char **
eg_sandbox_syscalls(const char *const *additions)
{
	const char **all;
	size_t nb = 0, na = 0, n, i, j;

	while (eg_sandbox_base_syscalls[nb] != NULL)
		nb++;
	while (additions != NULL && additions[na] != NULL)
		na++;
	if ((all = calloc(nb + na + 1, sizeof(*all))) == NULL)
		return NULL;
	for (n = 0; n < nb; n++)
		all[n] = eg_sandbox_base_syscalls[n];
	for (i = 0; i < na; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(additions[i], all[j]) == 0)
				break;
		if (j == n)
			all[n++] = additions[i];
	}
	all[n] = NULL;
	return all;
}

/*
 * Landlock before seccomp, whose lists do not hold the landlock_*
 * syscalls.  A daemon never runs with less of a sandbox than it asked
 * for: every failure, a path list that cannot be built included, exits.
 */
void
eg_sandbox_apply(enum eg_role role, const char *const *additions,
    const struct eg_config *cfg, const char *config_path)
{
	char *paths[EG_LANDLOCK_MAX], err[EG_ERR_MAX];
	const char **all;
	int n, r;

	if (role == EG_ROLE_CONNECTD || role == EG_ROLE_DOHD) {
		n = eg_landlock_paths(role, cfg, config_path, paths,
		    EG_LANDLOCK_MAX);
		if (n < 0)
			eg_fatal(EG_EXIT_RUNTIME, "landlock", "error=\"path "
			    "list: too many paths or out of memory\"");
		r = eg_sandbox_landlock_ro((const char *const *)paths, err,
		    sizeof(err));
		eg_landlock_paths_free(paths);
		if (r < 0)
			eg_fatal(EG_EXIT_RUNTIME, "landlock", "error=\"%s\"",
			    err);
		if (r == 0)
			eg_log(EG_LOG_INFO, "landlock", "enforced=0 note=\""
			    "kernel without Landlock: seccomp only\"");
		else
			eg_log(EG_LOG_INFO, "landlock", "enforced=1 paths=%d",
			    n);
	}
	if ((all = eg_sandbox_syscalls(additions)) == NULL)
		eg_fatal(EG_EXIT_RUNTIME, "sandbox", "error=\"seccomp: out of "
		    "memory\"");
	r = eg_sandbox_seccomp(all, err, sizeof(err));
	free(all);
	if (r == -1)
		eg_fatal(EG_EXIT_RUNTIME, "sandbox", "error=\"%s\"", err);
}

#if HAVE_LIBSECCOMP

/*
 * Sanitizer builds only (-Db_sanitize=address,undefined: test.sh's
 * build-asan, which the lab and e2e suites run against).  The ASan/LSan
 * runtime makes syscalls of its own in a sandboxed daemon: a report reads
 * /proc/self/maps and the binary to name frames, and may start a
 * symbolizer (fork; its execve is NOT added, so that child dies and the
 * frames stay addresses); LeakSanitizer, at exit, stops the world from a
 * cloned tracer thread that lists /proc/self/task, attaches to every
 * thread with ptrace, waits for them and reads their registers.  Without
 * these the filter kills the daemon in the middle of a report (SIGSYS
 * instead of the report) or at its clean exit (no leak check at all).  So
 * here, and only when the compiler says AddressSanitizer is on, they are
 * added to whatever allow-list a daemon passes.  A release build never
 * compiles this list; the lab's seccomp checks (Seccomp: 2 in
 * /proc/PID/status, a forbidden call kills) hold in both builds, because
 * execve, socket families, bind and the identity calls are not in it.
 */
#ifdef EG_SANITIZER_RUNTIME
static const char *const sanitizer_syscalls[] = {
	/* reports: module list, /proc/self/maps, the binary, stderr */
	"openat", "open", "close", "read", "pread64", "write", "readlink",
	"readlinkat", "lseek", "fstat", "newfstatat", "stat", "lstat",
	"statx", "getdents", "getdents64", "mmap", "munmap", "mprotect",
	"madvise", "sched_setaffinity",
	"prlimit64", "getrlimit", "sched_getaffinity", "getpid", "gettid",
	"getppid", "sigaltstack", "rt_sigaction", "rt_sigprocmask",
	"tgkill", "tkill", "kill", "exit", "exit_group", "sched_yield",
	"nanosleep", "clock_nanosleep", "pipe", "pipe2", "dup", "dup2", "dup3",
	"wait4", "waitid",
	/* LeakSanitizer's stop-the-world tracer */
	"clone", "clone3", "fork", "vfork", "prctl", "ptrace", "arch_prctl",
	"set_robust_list", "rseq", "futex",
	NULL,
};
#endif

/* Add name unless allow already lists it (-1 and err on failure). */
static int
add_allow(scmp_filter_ctx ctx, const char *name, bool may_lack, char *err,
    size_t errlen)
{
	int nr, r;

	/* Names this architecture lacks resolve to a pseudo number that
	 * libseccomp ignores; a typo does not resolve at all. */
	nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR) {
		if (may_lack)
			return 0;
		snprintf(err, errlen, "seccomp: unknown syscall \"%.64s\"",
		    name);
		return -1;
	}
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	if (r != 0 && r != -EDOM && r != -EEXIST) {
		snprintf(err, errlen, "seccomp: %s: %s", name, strerror(-r));
		return -1;
	}
	return 0;
}

int
eg_sandbox_seccomp(const char *const *allow, char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int r, ret = -1;
	size_t i;

	if (allow == NULL || allow[0] == NULL) {
		snprintf(err, errlen, "seccomp: empty allow-list");
		return -1;
	}
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	for (i = 0; allow[i] != NULL; i++)
		if (add_allow(ctx, allow[i], false, err, errlen) == -1)
			goto out;
#ifdef EG_SANITIZER_RUNTIME
	for (i = 0; sanitizer_syscalls[i] != NULL; i++)
		if (add_allow(ctx, sanitizer_syscalls[i], true, err,
		    errlen) == -1)
			goto out;
#endif
	/* seccomp_load sets no_new_privs itself (SCMP_FLTATR_CTL_NNP). */
	if ((r = seccomp_load(ctx)) != 0) {
		snprintf(err, errlen, "seccomp_load: %s", strerror(-r));
		goto out;
	}
	ret = 0;
out:
	seccomp_release(ctx);
	return ret;
}

#else

int
eg_sandbox_seccomp(const char *const *allow, char *err, size_t errlen)
{
	(void)allow;
	snprintf(err, errlen, "built without libseccomp: cannot sandbox");
	return -1;
}

#endif

/* ---- Landlock ---------------------------------------------------------- */

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER	(1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV	(1ULL << 15)
#endif

#define LL_READ_ONLY	(LANDLOCK_ACCESS_FS_READ_FILE | \
    LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_FILE_RIGHTS	(LANDLOCK_ACCESS_FS_EXECUTE | \
    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
    LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* Every file-system right the running kernel's ABI knows: all handled. */
static uint64_t
ll_handled(int abi)
{
	uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;	/* ABI 1 */

	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return all;
}

static int
ll_add_path(int rfd, const char *path, char *err, size_t errlen)
{
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int fd, r;

	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		snprintf(err, errlen, "landlock: %.200s: %s", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	memset(&pb, 0, sizeof(pb));
	pb.parent_fd = fd;
	/* Directory rights on a file are EINVAL. */
	pb.allowed_access = S_ISDIR(st.st_mode) ? LL_READ_ONLY :
	    (LL_READ_ONLY & LL_FILE_RIGHTS);
	r = (int)syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0);
	if (r == -1)
		snprintf(err, errlen, "landlock: %.200s: %s", path,
		    strerror(errno));
	close(fd);
	return r == -1 ? -1 : 0;
}

int
eg_sandbox_landlock_ro(const char *const *paths, char *err, size_t errlen)
{
	struct landlock_ruleset_attr attr;
	int abi, rfd, ret = -1;
	size_t i;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		if (errno == ENOSYS || errno == EOPNOTSUPP)
			return 0;
		snprintf(err, errlen, "landlock: %s", strerror(errno));
		return -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = ll_handled(abi);
	rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rfd == -1) {
		snprintf(err, errlen, "landlock: create ruleset: %s",
		    strerror(errno));
		return -1;
	}
	for (i = 0; paths != NULL && paths[i] != NULL; i++)
		if (ll_add_path(rfd, paths[i], err, errlen) == -1)
			goto out;
#ifdef EG_SANITIZER_RUNTIME
	/* Sanitizer builds only: LeakSanitizer lists /proc/PID/task and reads
	 * /proc/PID/maps at exit, and a report names frames by reading the
	 * binary.  Read-only, like everything else here; opening "/proc/self"
	 * follows the link, so the rule is on this process's own directory. */
	for (i = 0; i < 2; i++)
		if (ll_add_path(rfd, i == 0 ? "/proc/self" : "/proc/self/exe",
		    err, errlen) == -1)
			goto out;
#endif
	if (eg_priv_no_new_privs(err, errlen) == -1)
		goto out;
	if (syscall(SYS_landlock_restrict_self, rfd, 0) == -1) {
		snprintf(err, errlen, "landlock: restrict: %s",
		    strerror(errno));
		goto out;
	}
	ret = 1;
out:
	close(rfd);
	return ret;
}
