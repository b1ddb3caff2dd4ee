/*
 * ask.c - `egressctl ask`: a decider for mode = ask (protocol in
 * libegress/ask.h).  Interactive by default: each question is printed and
 * answered from the terminal
 *
 *   a            allow once
 *   A DURATION   allow NAME:PORT for DURATION (1s-24h)
 *   p            allow always: NAME:PORT is appended to --always-file
 *                (an allow.d file: permanent after the next reload)
 *   d            deny (also an empty line, EOF, anything else)
 *
 * --script FILE answers by rules instead, for tests and simple policies:
 * one "PATTERN ANSWER" per line, first match wins, no match denies.
 * PATTERN is a name, "*.SUFFIX" or "*"; ANSWER is once, always, deny, a
 * DURATION, or "ignore" (never answer: the question times out).
 * Every question and answer is printed to stdout, one line each.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ask.h"
#include "config.h"
#include "egressctl.h"

#define RULES_MAX 256
#define QUEUE_MAX 4096
#define DEF_ALWAYS_FILE "/etc/egressjail/allow.d/ask.conf"

struct srule {
	char pat[EG_NAME_MAX + 3];
	char ans[64];
};

struct ask_state {
	int fd;
	const char *always_file;
	struct srule *rules;
	size_t nrules;
	bool script;
	/* interactive: questions waiting for the terminal */
	struct eg_ask_question *queue;
	size_t nq;
	bool prompted;
};

static int
usage(void)
{
	fprintf(stderr, "usage: egressctl ask [--socket PATH] [--script FILE] "
	    "[--always-file FILE]\n");
	return EXIT_CTL_USAGE;
}

static int
load_script(const char *path, struct ask_state *s)
{
	char line[512], pat[300], ans[64], extra[8];
	FILE *f;
	int ln = 0, bad = 0;

	if ((f = fopen(path, "re")) == NULL) {
		fprintf(stderr, "egressctl ask: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	if ((s->rules = calloc(RULES_MAX, sizeof(*s->rules))) == NULL) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct eg_ask_answer a;
		char probe[80];
		int n;

		ln++;
		if (line[0] == '#' || strspn(line, " \t\r\n") == strlen(line))
			continue;
		n = sscanf(line, "%299s %63s %7s", pat, ans, extra);
		snprintf(probe, sizeof(probe), "1 allow %s", ans);
		if (n != 2 || strlen(pat) > EG_NAME_MAX + 2 ||
		    s->nrules == RULES_MAX ||
		    (strcmp(ans, "deny") != 0 && strcmp(ans, "ignore") != 0 &&
		    !eg_ask_parse_answer(probe, strlen(probe), &a, NULL))) {
			fprintf(stderr, "egressctl ask: %s:%d: want \"PATTERN "
			    "once|always|deny|ignore|DURATION\"\n", path, ln);
			bad++;
			continue;
		}
		snprintf(s->rules[s->nrules].pat, sizeof(s->rules->pat), "%s",
		    pat);
		snprintf(s->rules[s->nrules].ans, sizeof(s->rules->ans), "%s",
		    ans);
		s->nrules++;
	}
	fclose(f);
	return bad > 0 ? -1 : 0;
}

static bool
pat_match(const char *pat, const char *name)
{
	size_t np, nn;

	if (strcmp(pat, "*") == 0 || strcmp(pat, name) == 0)
		return true;
	if (strncmp(pat, "*.", 2) != 0)
		return false;
	np = strlen(pat + 1);
	nn = strlen(name);
	return nn > np && strcmp(name + nn - np, pat + 1) == 0;
}

/* Append NAME:PORT to the always file; the daemon has the grant already. */
static void
write_always(const struct ask_state *s, const struct eg_ask_question *q)
{
	char line[EG_NAME_MAX + 80];
	time_t t = time(NULL);
	struct tm tm;
	int fd, n;

	gmtime_r(&t, &tm);
	/* The comment on a line of its own: an allow file's comments are
	 * whole lines. */
	n = snprintf(line, sizeof(line), "# egressctl ask, "
	    "%04d-%02d-%02dT%02d:%02d:%02dZ\n%s:%u\n", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    q->name, q->arg);
	if ((fd = open(s->always_file, O_WRONLY | O_APPEND | O_CREAT |
	    O_NOFOLLOW | O_CLOEXEC, 0644)) < 0 ||
	    write(fd, line, (size_t)n) != n)
		fprintf(stderr, "egressctl ask: %s: %s (granted until "
		    "connectd restarts only)\n", s->always_file,
		    strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int
send_answer(struct ask_state *s, const struct eg_ask_question *q,
    struct eg_ask_answer *a)
{
	char buf[EG_ASK_LINE_MAX];
	size_t n;

	a->id = q->id;
	if ((n = eg_ask_format_answer(a, buf)) == 0)
		return -1;
	if (a->verdict == EG_ASK_ALWAYS && q->kind == EG_ASK_TCP)
		write_always(s, q);
	else if (a->verdict == EG_ASK_ALWAYS)
		/* A dns question names no port, and a rule without one means
		 * 443 only: writing it would keep less than was granted. */
		fprintf(stderr, "egressctl ask: %s: always for a DNS question "
		    "holds until connectd restarts; for good, add NAME:PORT "
		    "to an allow file\n", q->name);
	printf("answer %.*s", (int)n, buf);
	fflush(stdout);
	return write(s->fd, buf, n) == (ssize_t)n ? 0 : -1;
}

/* "once", "always", "deny", "2s": the answer; false for "ignore". */
static bool
answer_of(const char *word, struct eg_ask_answer *a)
{
	char probe[80];

	memset(a, 0, sizeof(*a));
	if (strcmp(word, "ignore") == 0)
		return false;
	if (strcmp(word, "deny") == 0)
		return true;
	snprintf(probe, sizeof(probe), "1 allow %s", word);
	if (!eg_ask_parse_answer(probe, strlen(probe), a, NULL))
		a->verdict = EG_ASK_DENY;
	return true;
}

static void
prompt(struct ask_state *s)
{
	const struct eg_ask_question *q;
	char src[64];

	if (s->nq == 0 || s->prompted)
		return;
	q = &s->queue[0];
	eg_ip_str(&q->source, src, sizeof(src));
	if (q->kind == EG_ASK_TCP)
		fprintf(stderr, "[%u] %s tcp %s:%u from %s\n", q->id,
		    q->workload, q->name, q->arg, src);
	else
		fprintf(stderr, "[%u] %s dns %s (type %u; an answer holds for "
		    "every port) from %s\n", q->id, q->workload, q->name,
		    q->arg, src);
	fprintf(stderr, "  a: allow once  A DURATION: allow for  "
	    "p: allow always  d: deny > ");
	s->prompted = true;
}

static void
dequeue(struct ask_state *s, size_t i)
{
	memmove(&s->queue[i], &s->queue[i + 1],
	    (s->nq - i - 1) * sizeof(*s->queue));
	s->nq--;
	if (i == 0)
		s->prompted = false;
}

/* One line from the terminal answers the question at the head. */
static int
terminal_line(struct ask_state *s, char *line)
{
	struct eg_ask_answer a;
	char dur[64];

	line[strcspn(line, "\r\n")] = '\0';
	if (s->nq == 0)
		return 0;
	memset(&a, 0, sizeof(a));
	if (strcmp(line, "a") == 0)
		a.verdict = EG_ASK_ONCE;
	else if (strcmp(line, "p") == 0)
		a.verdict = EG_ASK_ALWAYS;
	else if (sscanf(line, "A %63s", dur) == 1)
		(void)answer_of(dur, &a);
	else
		a.verdict = EG_ASK_DENY;
	if (send_answer(s, &s->queue[0], &a) != 0)
		return -1;
	dequeue(s, 0);
	return 0;
}

static int
daemon_line(struct ask_state *s, const char *line, size_t n)
{
	struct eg_ask_question q;
	struct eg_ask_answer a;
	char err[EG_ERR_MAX];
	uint32_t id;
	size_t i;

	if (n == sizeof(EG_ASK_HELLO) - 1 &&
	    memcmp(line, EG_ASK_HELLO, n) == 0) {
		printf("connected\n");
		fflush(stdout);
		return 0;
	}
	if (eg_ask_parse_expired(line, n, &id)) {
		printf("expired %u\n", id);
		fflush(stdout);
		for (i = 0; i < s->nq; i++)
			if (s->queue[i].id == id) {
				if (i == 0)
					fprintf(stderr, "(expired)\n");
				dequeue(s, i);
				break;
			}
		return 0;
	}
	if (!eg_ask_parse_question(line, n, &q, err)) {
		fprintf(stderr, "egressctl ask: connectd sent a bad line: %s\n",
		    err);
		return -1;
	}
	printf("question %.*s\n", (int)n, line);
	fflush(stdout);
	if (s->script) {
		for (i = 0; i < s->nrules; i++)
			if (pat_match(s->rules[i].pat, q.name))
				break;
		if (i < s->nrules && !answer_of(s->rules[i].ans, &a))
			return 0;	/* ignore: let it time out */
		if (i == s->nrules)
			memset(&a, 0, sizeof(a));
		return send_answer(s, &q, &a);
	}
	if (s->nq == QUEUE_MAX) {
		memset(&a, 0, sizeof(a));
		return send_answer(s, &q, &a);
	}
	s->queue[s->nq++] = q;
	return 0;
}

/*
 * The terminal is read with read(2) into tline, never through stdio (its
 * buffer would hide lines from poll), and only while a question waits: a
 * line typed ahead answers the next question, not none.
 */
static int
run(struct ask_state *s)
{
	char buf[EG_ASK_LINE_MAX], tline[256];
	size_t n = 0, tn = 0;
	bool teof = false;
	char *nl;
	ssize_t r;

	for (;;) {
		struct pollfd p[2] = {
			{ s->fd, POLLIN, 0 },
			{ 0, POLLIN, 0 },
		};
		bool term = !s->script && s->nq > 0;

		if (term && (nl = memchr(tline, '\n', tn)) != NULL) {
			size_t len = (size_t)(nl - tline);

			*nl = '\0';
			if (terminal_line(s, tline) != 0)
				return -1;
			memmove(tline, nl + 1, tn - len - 1);
			tn -= len + 1;
			continue;
		}
		if (term && (teof || tn == sizeof(tline) - 1))
			return 0;	/* connectd denies what is left */
		if (term)
			prompt(s);
		if (poll(p, term ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (term && (p[1].revents & (POLLIN | POLLHUP))) {
			r = read(0, tline + tn, sizeof(tline) - 1 - tn);
			if (r <= 0)
				teof = true;
			else
				tn += (size_t)r;
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if ((r = read(s->fd, buf + n, sizeof(buf) - n)) <= 0) {
			fprintf(stderr, "egressctl ask: connectd closed the "
			    "connection\n");
			return r == 0 ? 0 : -1;
		}
		n += (size_t)r;
		while ((nl = memchr(buf, '\n', n)) != NULL) {
			size_t len = (size_t)(nl - buf);

			if (daemon_line(s, buf, len) != 0)
				return -1;
			memmove(buf, nl + 1, n - len - 1);
			n -= len + 1;
		}
		if (n == sizeof(buf))
			return -1;
	}
}

int
cmd_ask(struct ctl_opts *o, int argc, char **argv)
{
	enum { O_SOCKET = 300, O_SCRIPT, O_ALWAYS };
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "script", required_argument, NULL, O_SCRIPT },
		{ "always-file", required_argument, NULL, O_ALWAYS },
		{ NULL, 0, NULL, 0 },
	};
	struct ask_state s;
	struct sockaddr_un sun;
	struct eg_config *cfg = NULL;
	const char *sock = NULL, *script = NULL;
	int ch, rc = EXIT_CTL_FAIL;

	memset(&s, 0, sizeof(s));
	s.fd = -1;
	s.always_file = DEF_ALWAYS_FILE;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case O_SOCKET:
			sock = optarg;
			break;
		case O_SCRIPT:
			script = optarg;
			break;
		case O_ALWAYS:
			s.always_file = optarg;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc)
		return usage();
	if (sock == NULL) {
		if ((cfg = ctl_load_config(o, "ask")) == NULL)
			return EXIT_CTL_CONFIG;
		sock = cfg->ask.socket;
	}
	if (script != NULL && load_script(script, &s) != 0)
		goto out;
	s.script = script != NULL;
	if (!s.script &&
	    (s.queue = calloc(QUEUE_MAX, sizeof(*s.queue))) == NULL)
		goto out;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "egressctl ask: socket path too long\n");
		goto out;
	}
	memcpy(sun.sun_path, sock, strlen(sock));
	if ((s.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(s.fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "egressctl ask: %s: %s\n", sock,
		    strerror(errno));
		goto out;
	}
	rc = run(&s) == 0 ? EXIT_CTL_OK : EXIT_CTL_FAIL;
out:
	if (s.fd >= 0)
		close(s.fd);
	free(s.rules);
	free(s.queue);
	eg_config_free(cfg);
	return rc;
}
