/*
 * sandbox.c - seccomp allow-lists and a read-only Landlock view.
 *
 * The seccomp default is to kill the whole process: a daemon that makes a
 * syscall nobody listed is broken or compromised, and in both cases the
 * jail is better served by its death (systemd restarts it; the rules stay
 * in the kernel) than by an error return it might not check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/landlock.h>

#include "eg_build.h"
#include "priv.h"

#if HAVE_LIBSECCOMP
#include <seccomp.h>
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

#if HAVE_LIBSECCOMP

int
eg_sandbox_seccomp(const char *const *allow, char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int nr, r, ret = -1;
	size_t i;

	if (allow == NULL || allow[0] == NULL) {
		snprintf(err, errlen, "seccomp: empty allow-list");
		return -1;
	}
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	for (i = 0; allow[i] != NULL; i++) {
		/* Names this architecture lacks resolve to a pseudo number
		 * that libseccomp ignores; a typo does not resolve at all. */
		nr = seccomp_syscall_resolve_name(allow[i]);
		if (nr == __NR_SCMP_ERROR) {
			snprintf(err, errlen, "seccomp: unknown syscall \"%.64s\"",
			    allow[i]);
			goto out;
		}
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r != 0 && r != -EDOM) {
			snprintf(err, errlen, "seccomp: %s: %s", allow[i],
			    strerror(-r));
			goto out;
		}
	}
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
