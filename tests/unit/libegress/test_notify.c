/* test_notify.c - sd_notify messages on a test socket, socket activation. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "eg_build.h"
#include "notify.h"

#include "test_list.h"

static char dir[64], path[128];
static int sock = -1;

static int
setup(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/eg-notify-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/notify", dir);
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock == -1 || bind(sock, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return -1;
	return setenv("NOTIFY_SOCKET", path, 1);
}

static int
teardown(void **state)
{
	(void)state;
	close(sock);
	unlink(path);
	rmdir(dir);
	return 0;
}

/* The next datagram, or "" when none is waiting. */
static const char *
next(void)
{
	static char buf[512];
	ssize_t n;

	n = recv(sock, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
test_notify_ready(void **state)
{
	(void)state;
#if HAVE_LIBSYSTEMD
	eg_notify_ready();
	assert_string_equal(next(), "READY=1");
	eg_notify_stopping();
	assert_string_equal(next(), "STOPPING=1");
	eg_notify_watchdog();
	assert_string_equal(next(), "WATCHDOG=1");
	eg_notify_reloading();
	assert_memory_equal(next(), "RELOADING=1\nMONOTONIC_USEC=", 27);
#else
	eg_notify_ready();
	assert_string_equal(next(), "");
	skip();
#endif
}

static void
test_notify_status_one_line(void **state)
{
	(void)state;
#if HAVE_LIBSYSTEMD
	eg_notify_status("rules=%d", 3);
	assert_string_equal(next(), "STATUS=rules=3");
	/* A value from elsewhere cannot smuggle READY=1 in. */
	eg_notify_status("bad %s", "x\nREADY=1\x01");
	assert_string_equal(next(), "STATUS=bad x?READY=1?");
	assert_string_equal(next(), "");
#else
	skip();
#endif
}

static void
test_notify_watchdog_ms(void **state)
{
	char pid[32];

	(void)state;
	unsetenv("WATCHDOG_USEC");
	assert_int_equal(eg_notify_watchdog_ms(), 0);
#if HAVE_LIBSYSTEMD
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	setenv("WATCHDOG_USEC", "2500000", 1);
	assert_int_equal(eg_notify_watchdog_ms(), 2500);
	/* Meant for another process. */
	setenv("WATCHDOG_PID", "1", 1);
	assert_int_equal(eg_notify_watchdog_ms(), 0);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
#else
	(void)pid;
#endif
}

static int
child_listen(void)
{
	char pid[32];
	int p[2], q[2];

	if (pipe(p) == -1 || pipe(q) == -1)
		return 1;
	if (dup2(p[0], 3) == -1 || dup2(q[0], 4) == -1)
		return 2;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "2", 1);
	setenv("LISTEN_FDNAMES", "proxy:health", 1);
	if (eg_listen_fds_init() != 2)
		return 3;
	if (eg_listen_fd("proxy") != 3 || eg_listen_fd("health") != 4)
		return 4;
	if (eg_listen_fd("transparent") != -1 || eg_listen_fd("") != -1)
		return 5;
	if ((fcntl(4, F_GETFD) & FD_CLOEXEC) == 0)
		return 6;
	/* The variables are consumed, not left for children. */
	if (getenv("LISTEN_FDS") != NULL)
		return 7;
	return 0;
}

static void
test_notify_listen_fds(void **state)
{
	pid_t pid;
	int st;

	(void)state;
#if HAVE_LIBSYSTEMD
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_listen());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
#else
	(void)pid;
	(void)st;
	(void)child_listen;
	skip();
#endif
}

static void
test_notify_no_listen_fds(void **state)
{
	(void)state;
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	assert_int_equal(eg_listen_fds_init(), 0);
	assert_int_equal(eg_listen_fd("proxy"), -1);
}

/* A passed socket is compared with the configured address: same address
 * and port only; got always says where the socket really is. */
static void
test_notify_listen_fd_matches(void **state)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	char spec[64], want_got[64], got[80];
	unsigned port;
	int fd;

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	port = ntohs(sin.sin_port);
	snprintf(want_got, sizeof(want_got), "127.0.0.1:%u", port);

	snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
	assert_true(eg_listen_fd_matches(fd, spec, got, sizeof(got)));
	assert_string_equal(got, want_got);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", port == 65535 ? 1 :
	    port + 1);
	assert_false(eg_listen_fd_matches(fd, spec, got, sizeof(got)));
	assert_string_equal(got, want_got);
	snprintf(spec, sizeof(spec), "127.0.0.2:%u", port);
	assert_false(eg_listen_fd_matches(fd, spec, got, sizeof(got)));
	snprintf(spec, sizeof(spec), "[::1]:%u", port);
	assert_false(eg_listen_fd_matches(fd, spec, got, sizeof(got)));
	assert_false(eg_listen_fd_matches(fd, "not an address", got,
	    sizeof(got)));
	close(fd);
	/* not a socket at all */
	assert_false(eg_listen_fd_matches(fd, want_got, got, sizeof(got)));
	assert_string_equal(got, "(unknown)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(NOTIFY_TESTS);

	return cmocka_run_group_tests(tests, setup, teardown);
}
