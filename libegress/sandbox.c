/*
 * sandbox.c - seccomp allow-lists and Landlock.
 *
 * The seccomp default action kills the whole process: a daemon that tries a
 * call it never needed is compromised or broken, and either way it must
 * stop rather than continue half-confined.
 */
#include "eg_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/landlock.h>

#if HAVE_LIBSECCOMP
#include <seccomp.h>
#endif

#include "priv.h"

/*
 * What a libuv daemon that logs to stderr and talks over sockets it already
 * has needs after start-up.  Daemons add their own (socket, connect, ...).
 */
const char *const eg_sandbox_base_syscalls[] = {
	/* I/O on descriptors we hold */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "close",
	"lseek", "fstat", "newfstatat", "statx", "fcntl", "ioctl", "dup",
	"dup3", "pipe2",
	/* the event loop */
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"eventfd2", "timerfd_create", "timerfd_settime", "poll", "ppoll",
	/* sockets we hold */
	"accept4", "recvfrom", "recvmsg", "recvmmsg", "sendto", "sendmsg",
	"sendmmsg", "shutdown", "getsockname", "getpeername", "getsockopt",
	"setsockopt",
	/* memory */
	"mmap", "munmap", "mprotect", "mremap", "brk", "madvise",
	/* signals, time, identity, threads' housekeeping */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday",
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"getrandom", "futex", "sched_yield", "sched_getaffinity", "rseq",
	"set_robust_list", "restart_syscall", "prlimit64", "uname",
	"tgkill",
	/* reload: read the config and allow files again */
	"openat", "getdents64", "readlink",
	"exit", "exit_group",
	NULL
};

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

#if HAVE_LIBSECCOMP
int
eg_sandbox_seccomp(const char *const *allow, char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int rc = -1, nr;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		return fail(err, errlen, "seccomp_init failed");
	for (; *allow != NULL; allow++) {
		nr = seccomp_syscall_resolve_name(*allow);
		if (nr == __NR_SCMP_ERROR) {
			fail(err, errlen, "unknown syscall \"%s\"", *allow);
			goto out;
		}
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0) {
			fail(err, errlen, "seccomp_rule_add \"%s\"", *allow);
			goto out;
		}
	}
	/* libseccomp sets no_new_privs itself (SCMP_FLTATR_CTL_NNP) */
	if ((rc = seccomp_load(ctx)) != 0) {
		fail(err, errlen, "seccomp_load: %s", strerror(-rc));
		rc = -1;
		goto out;
	}
	rc = 0;
out:
	seccomp_release(ctx);
	return rc;
}
#else
int
eg_sandbox_seccomp(const char *const *allow, char *err, size_t errlen)
{
	(void)allow;
	return fail(err, errlen, "built without libseccomp");
}
#endif

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

static uint64_t
handled_fs(int abi)
{
	uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;

	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	return all;
}

int
eg_sandbox_landlock_ro(const char *const *paths, char *err, size_t errlen)
{
	struct landlock_ruleset_attr attr;
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int abi, rs = -1, fd, rc = -1;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		if (errno == ENOSYS || errno == EOPNOTSUPP)
			return 0;
		return fail(err, errlen, "landlock: %s", strerror(errno));
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = handled_fs(abi);
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rs < 0)
		return fail(err, errlen, "landlock_create_ruleset: %s",
		    strerror(errno));
	for (; paths != NULL && *paths != NULL; paths++) {
		if ((fd = open(*paths, O_PATH | O_CLOEXEC)) == -1) {
			if (errno == ENOENT)
				continue;	/* nothing to read there */
			fail(err, errlen, "%s: %s", *paths, strerror(errno));
			goto out;
		}
		memset(&pb, 0, sizeof(pb));
		pb.parent_fd = fd;
		pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE;
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
			pb.allowed_access |= LANDLOCK_ACCESS_FS_READ_DIR;
		if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH,
		    &pb, 0) == -1) {
			fail(err, errlen, "landlock_add_rule %s: %s", *paths,
			    strerror(errno));
			close(fd);
			goto out;
		}
		close(fd);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		fail(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		goto out;
	}
	if (syscall(SYS_landlock_restrict_self, rs, 0) == -1) {
		fail(err, errlen, "landlock_restrict_self: %s",
		    strerror(errno));
		goto out;
	}
	rc = 1;
out:
	close(rs);
	return rc;
}
