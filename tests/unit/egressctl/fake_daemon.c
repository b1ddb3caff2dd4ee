/*
 * fake_daemon DIR NAME:MODE... - answer egressctl on DIR/NAME.sock the way
 * a daemon would, for the status and reload tests.  MODE is ready,
 * notready or refuse (EG_MSG_ERROR to everything).  Listens, then forks:
 * the parent prints the child's pid and exits, so the sockets exist when
 * the caller goes on.  The child serves until SIGTERM, or 60 s at most.
 *
 * The status text carries quotes and backslashes: --json must escape them.
 * DIR/NAME.extra, when it exists, is appended to NAME's status text (the
 * workload lines of netjaild, for the workload status tests).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"

#define MAXD 3

struct fake {
	char dir[256];
	char name[32];
	int mode;		/* 0 ready, 1 notready, 2 refuse */
	int lfd;
};

static void
answer(const struct fake *f, int fd)
{
	static _Alignas(8) uint8_t buf[EG_IPC_MAX_MSG + 8];
	struct eg_ipc_msg m;
	struct eg_msg_status st;
	struct eg_msg_result res;
	struct eg_msg_error e = { EPERM };
	struct iovec iov[2];
	char text[4096], path[sizeof(f->dir) + sizeof(f->name) + 16];
	FILE *fp;
	size_t k;
	int n;

	while (eg_ipc_recv(fd, buf, sizeof(buf), &m) == 1) {
		if (f->mode == 2) {
			eg_ipc_send(fd, EG_MSG_ERROR, m.hdr.id, &e, sizeof(e));
			continue;
		}
		switch (m.hdr.type) {
		case EG_MSG_STATUS_REQ:
			n = snprintf(text, sizeof(text), "generation=7\n"
			    "drop_other_packets=42\nnote=say \"hi\" \\ <%s>\n"
			    "reason=%s\n", f->name, f->mode == 1 ?
			    "hop 1 \"proxy-a\" failed" : "-");
			snprintf(path, sizeof(path), "%.255s/%.31s.extra", f->dir,
			    f->name);
			if (n > 0 && (size_t)n < sizeof(text) &&
			    (fp = fopen(path, "r")) != NULL) {
				k = fread(text + n, 1, sizeof(text) - 1 -
				    (size_t)n, fp);
				n += (int)k;
				fclose(fp);
			}
			memset(&st, 0, sizeof(st));
			st.ready = f->mode == 0;
			st.generation = 7;
			st.textlen = (uint32_t)n;
			iov[0].iov_base = &st;
			iov[0].iov_len = sizeof(st);
			iov[1].iov_base = text;
			iov[1].iov_len = (size_t)n;
			eg_ipc_sendv(fd, EG_MSG_STATUS_REP, m.hdr.id, iov, 2);
			break;
		case EG_MSG_RELOAD_REQ:
			n = snprintf(text, sizeof(text), "%s", f->mode == 1 ?
			    "bad allow file" : "reloaded generation=8");
			res.code = f->mode == 1 ? EINVAL : 0;
			res.textlen = (uint32_t)n;
			iov[0].iov_base = &res;
			iov[0].iov_len = sizeof(res);
			iov[1].iov_base = text;
			iov[1].iov_len = (size_t)n;
			eg_ipc_sendv(fd, EG_MSG_RELOAD_REP, m.hdr.id, iov, 2);
			break;
		default:
			e.code = EOPNOTSUPP;
			eg_ipc_send(fd, EG_MSG_ERROR, m.hdr.id, &e, sizeof(e));
			break;
		}
	}
}

int
main(int argc, char **argv)
{
	struct fake f[MAXD];
	struct pollfd pfd[MAXD];
	char path[512], *colon;
	int nf = 0, i, fd;
	pid_t pid;

	if (argc < 3 || argc - 2 > MAXD) {
		fprintf(stderr, "usage: fake_daemon DIR NAME:MODE...\n");
		return 2;
	}
	for (i = 2; i < argc; i++, nf++) {
		if ((colon = strchr(argv[i], ':')) == NULL ||
		    (size_t)(colon - argv[i]) >= sizeof(f[nf].name))
			return 2;
		snprintf(f[nf].dir, sizeof(f[nf].dir), "%s", argv[1]);
		memcpy(f[nf].name, argv[i], (size_t)(colon - argv[i]));
		f[nf].name[colon - argv[i]] = '\0';
		f[nf].mode = strcmp(colon + 1, "ready") == 0 ? 0 :
		    strcmp(colon + 1, "notready") == 0 ? 1 : 2;
		snprintf(path, sizeof(path), "%s/%s.sock", argv[1], f[nf].name);
		if ((f[nf].lfd = eg_ipc_listen(path, (gid_t)-1)) == -1) {
			perror(path);
			return 1;
		}
		pfd[nf].fd = f[nf].lfd;
		pfd[nf].events = POLLIN;
	}
	fflush(stdout);
	if ((pid = fork()) == -1)
		return 1;
	if (pid > 0) {
		printf("%ld\n", (long)pid);
		return 0;
	}
	/* let $(...) of the caller end: nothing of ours holds its pipe */
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	alarm(60);
	for (;;) {
		if (poll(pfd, (nfds_t)nf, -1) == -1 && errno != EINTR)
			return 1;
		for (i = 0; i < nf; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if ((fd = accept(f[i].lfd, NULL, NULL)) == -1)
				continue;
			answer(&f[i], fd);
			close(fd);
		}
	}
}
