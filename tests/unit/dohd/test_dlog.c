/*
 * test_dlog.c - decision lines in batches: nothing is written until the
 * loop turn ends, then every line whole and in eg_log's format; a reader
 * that stalls never blocks the writer, lines past the buffer are dropped
 * and counted, and the next line says how many.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dlog.h"

#include "test_list.h"

static void
line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dlog_vline(EG_LOG_INFO, "decision", fmt, ap);
	va_end(ap);
}

static void
noop(uv_timer_t *t)
{
}

/* What the pipe holds now (non-blocking read). */
static size_t
slurp(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	return n;
}

static void
test_dlog_batch_and_stall(void **st)
{
	static char buf[8 << 20], first[4096];
	static uv_loop_t loop;
	static uv_timer_t alive;	/* as dohd's listeners: it turns */
	int p[2], saved;
	size_t n, early, nfirst;
	uint64_t dropped;
	char *s;
	unsigned lines = 0;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	saved = dup(STDERR_FILENO);
	/* stderr is the pipe until the end: cmocka reports afterwards */
	assert_true(dup2(p[1], STDERR_FILENO) >= 0);
	uv_loop_init(&loop);
	uv_timer_init(&loop, &alive);
	assert_int_equal(uv_timer_start(&alive, noop, 60000, 0), 0);
	dlog_init(&loop);

	line("src=%s name=%s n=%d", "10.77.0.2", "a.example", 1);
	line("src=%s name=%s n=%d", "10.77.0.2", "b.example", 2);
	early = slurp(p[0], buf, sizeof(buf));		/* not yet */
	uv_run(&loop, UV_RUN_NOWAIT);			/* the turn ends */
	nfirst = slurp(p[0], first, sizeof(first));

	/* Nobody reads: far more than the pipe and the buffer hold. */
	for (int i = 0; i < 20000; i++) {
		line("src=10.77.0.2 name=%s n=%d pad=%0200d", "c.example", i,
		    0);
		if (i % 100 == 0)
			dlog_flush();	/* must return at once */
	}
	dropped = dlog_dropped();
	/* The reader wakes: what was kept comes out whole, then the count. */
	n = 0;
	for (int k = 0; k < 50; k++) {
		size_t got;

		dlog_flush();
		got = slurp(p[0], buf + n, sizeof(buf) - n);
		n += got;
		if (got == 0 && k > 2)
			break;
	}
	line("src=10.77.0.2 name=%s n=%d", "d.example", 3);
	dlog_flush();
	n += slurp(p[0], buf + n, sizeof(buf) - n);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);

	assert_true(dlog_active());
	assert_int_equal(early, 0);
	assert_true(nfirst > 0);
	assert_memory_equal(first, "ts=", 3);
	assert_non_null(strstr(first, " level=info daemon=dohd "
	    "event=decision src=10.77.0.2 name=a.example n=1\n"));
	assert_non_null(strstr(first, "name=b.example n=2\n"));
	assert_true(dropped > 0);
	assert_non_null(strstr(buf, "event=log dropped="));
	assert_non_null(strstr(buf, "name=d.example n=3\n"));
	/* every line whole: each starts with ts= */
	for (s = buf; *s != '\0'; s = strchr(s, '\n') + 1) {
		assert_memory_equal(s, "ts=", 3);
		assert_non_null(strchr(s, '\n'));
		lines++;
	}
	assert_true(lines > 2);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = TEST_LIST(DLOG_TESTS);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
