/*
 * status.c - `egressctl status`: ask each daemon for STATUS_REQ and say
 * whether it is ready, why not, and what it reports (key=value lines).
 * A daemon that does not answer is down; anything but all ready exits 1.
 * With [workload] sections, a block per workload says which listeners
 * netjaild has registered for it (wlstatus.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "egressctl.h"
#include "wlstatus.h"

const char *
ctl_state_name(enum ctl_state s)
{
	switch (s) {
	case CTL_READY:
		return "ready";
	case CTL_NOT_READY:
		return "not ready";
	case CTL_ERROR:
		return "error";
	case CTL_DOWN:
	default:
		return "down";
	}
}

/* The value of "key=" in a daemon's text, copied into buf, or NULL. */
const char *
ctl_text_get(const char *text, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key), n;
	const char *p = text, *nl;

	if (text == NULL || len == 0)
		return NULL;
	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			n -= klen + 1;
			if (n >= len)
				n = len - 1;
			memcpy(buf, p + klen + 1, n);
			buf[n] = '\0';
			return buf;
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	return NULL;
}

void
ctl_query_status(const struct eg_config *cfg, const char *name,
    struct ctl_status *st)
{
	const struct eg_msg_status *s;
	struct eg_ipc_msg reply;
	struct eg_msg_error e;
	struct ctl_buf *buf;
	const char *text;

	memset(st, 0, sizeof(*st));
	st->name = name;
	st->state = CTL_DOWN;
	if (ctl_sock_path(cfg, name, st->path, sizeof(st->path)) == NULL) {
		snprintf(st->why, sizeof(st->why), "socket path too long");
		return;
	}
	if ((buf = malloc(sizeof(*buf))) == NULL) {
		snprintf(st->why, sizeof(st->why), "%s", strerror(errno));
		return;
	}
	if (ctl_call(st->path, EG_MSG_STATUS_REQ, NULL, 0, buf, &reply) == -1) {
		snprintf(st->why, sizeof(st->why), "%s: %s", st->path,
		    errno == ETIMEDOUT ? "no answer in time" : strerror(errno));
		goto out;
	}
	if (reply.hdr.type == EG_MSG_ERROR) {
		memcpy(&e, reply.payload, sizeof(e));
		st->state = CTL_ERROR;
		snprintf(st->why, sizeof(st->why), "refused: %s",
		    strerror(e.code));
		goto out;
	}
	if ((s = eg_ipc_status(&reply, &text)) == NULL) {
		st->state = CTL_ERROR;
		snprintf(st->why, sizeof(st->why), "malformed status reply");
		goto out;
	}
	st->answered = true;
	st->generation = s->generation;
	st->text = ctl_text_dup(text, s->textlen);
	if (s->ready) {
		st->state = CTL_READY;
	} else {
		st->state = CTL_NOT_READY;
		if (ctl_text_get(st->text, "reason", st->why,
		    sizeof(st->why)) == NULL || strcmp(st->why, "-") == 0)
			snprintf(st->why, sizeof(st->why), "no reason given");
	}
out:
	free(buf);
}

void
ctl_status_free(struct ctl_status *st)
{
	free(st->text);
	st->text = NULL;
}

static void
print_text(const struct ctl_status *st)
{
	printf("%s: %s", st->name, ctl_state_name(st->state));
	if (st->answered)
		printf(" (generation %u)", st->generation);
	if (st->state != CTL_READY)
		printf(": %s", st->why);
	putchar('\n');
	if (st->text != NULL)
		ctl_print_lines(stdout, "    ", st->text);
}

static void
print_json(struct json *j, const struct ctl_status *st)
{
	json_obj_begin(j, NULL);
	json_str(j, "name", st->name);
	json_str(j, "socket", st->path);
	json_str(j, "state", ctl_state_name(st->state));
	json_bool(j, "ready", st->state == CTL_READY);
	if (st->answered)
		json_int(j, "generation", st->generation);
	else
		json_null(j, "generation");
	if (st->state != CTL_READY)
		json_str(j, "reason", st->why);
	json_obj_begin(j, "status");
	if (st->text != NULL)
		json_kv_lines(j, st->text);
	json_obj_end(j);
	json_obj_end(j);
}

int
cmd_status(struct ctl_opts *o, int argc, char **argv)
{
	struct ctl_status st[CTL_NDAEMONS];
	struct ctl_opts lo;
	struct eg_config *cfg;
	struct json j;
	bool all = true;
	size_t i;
	int first;

	if ((first = ctl_parse_common(o, argc, argv, "status")) < 0)
		return EXIT_CTL_USAGE;
	if (first < argc) {
		fprintf(stderr, "egressctl status: unexpected \"%.64s\"\n",
		    argv[first]);
		return EXIT_CTL_USAGE;
	}
	/* the config names the sockets only: its workloads are read even
	 * while the daemons' gate refuses them (they then show as down) */
	lo = *o;
	lo.extra_flags |= EG_CONFIG_WORKLOADS;
	if ((cfg = ctl_load_config(&lo, "status")) == NULL)
		return EXIT_CTL_CONFIG;
	for (i = 0; i < CTL_NDAEMONS; i++) {
		ctl_query_status(cfg, ctl_daemons[i], &st[i]);
		if (st[i].state != CTL_READY)
			all = false;
	}
	if (o->json) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "command", "status");
		json_bool(&j, "ready", all);
		json_arr_begin(&j, "daemons");
		for (i = 0; i < CTL_NDAEMONS; i++)
			print_json(&j, &st[i]);
		json_arr_end(&j);
		if (cfg->nworkloads > 0)
			ctl_wl_status(cfg, st[0].answered ? st[0].text : NULL,
			    o, &j);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		for (i = 0; i < CTL_NDAEMONS; i++)
			print_text(&st[i]);
		if (cfg->nworkloads > 0)
			ctl_wl_status(cfg, st[0].answered ? st[0].text : NULL,
			    o, &j);
		printf("jail: %s\n", all ? "ready" : "NOT READY");
	}
	for (i = 0; i < CTL_NDAEMONS; i++)
		ctl_status_free(&st[i]);
	eg_config_free(cfg);
	return ctl_flush("status", all ? EXIT_CTL_OK : EXIT_CTL_FAIL);
}
