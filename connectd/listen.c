/*
 * listen.c - the listening sockets: the explicit proxy and the
 * transparent intake.  Each accepted connection goes to conn.c.
 *
 * The sockets were opened (or received from the service manager) before
 * the privilege drop; here they only join the loop.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cd.h"

static void
on_accept(uv_stream_t *s, int status)
{
	if (status < 0)
		return;
	cd_conn_accept(s->data);
}

static int
open_listener(struct cd *cd, const char *spec, enum cd_mode mode, int fd,
    char *err, size_t errlen)
{
	struct cd_listener *l;
	socklen_t sl = sizeof(struct sockaddr_storage);
	int rc;

	if (cd->nlis >= sizeof(cd->lis) / sizeof(cd->lis[0])) {
		snprintf(err, errlen, "too many listeners");
		return -1;
	}
	l = &cd->lis[cd->nlis];
	memset(l, 0, sizeof(*l));
	l->cd = cd;
	l->wl = &cd->wl_default;
	l->mode = mode;
	uv_tcp_init(cd->loop, &l->h);
	l->h.data = l;
	if ((rc = uv_tcp_open(&l->h, fd)) != 0) {
		snprintf(err, errlen, "%s: %s", spec, uv_strerror(rc));
		return -1;
	}
	getsockname(fd, (struct sockaddr *)&l->addr, &sl);
	/* Linux copies TCP_NODELAY to every accepted socket: one call here
	 * instead of one per connection. */
	l->nodelay = uv_tcp_nodelay(&l->h, 1) == 0;
	/* An explicit client speaks first, and its head is often in the
	 * socket by the time it is accepted: conn.c tries a read at once. */
	l->read_now = mode == CD_MODE_EXPLICIT;
	if ((rc = uv_listen((uv_stream_t *)&l->h, 1024, on_accept)) != 0) {
		snprintf(err, errlen, "listen %s: %s", spec, uv_strerror(rc));
		return -1;
	}
	l->open = true;
	cd->nlis++;
	return 0;
}

int
cd_listen_start(struct cd *cd, char *err, size_t errlen)
{
	size_t i;

	/* The fds were opened (or received) before the privilege drop. */
	for (i = 0; i < cd->nlfd; i++)
		if (open_listener(cd, cd->lspec[i], cd->lmode[i], cd->lfd[i],
		    err, errlen) != 0)
			return -1;
	cd->listeners_up = true;
	return 0;
}

static void
on_lis_closed(uv_handle_t *h)
{
}

void
cd_listen_stop(struct cd *cd)
{
	size_t i;

	for (i = 0; i < cd->nlis; i++) {
		if (!cd->lis[i].open)
			continue;
		cd->lis[i].open = false;
		uv_close((uv_handle_t *)&cd->lis[i].h, on_lis_closed);
	}
	cd->listeners_up = false;
}
