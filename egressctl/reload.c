/*
 * reload.c - `egressctl reload`: validate the configuration first (with
 * any error nothing is reloaded), then RELOAD_REQ to every daemon and
 * report each result.  Any daemon down or refusing: exit 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "egressctl.h"

struct reload_res {
	const char *name;
	char path[512];
	bool ok;
	int code;		/* errno value from the daemon, 0 ok */
	char *text;		/* the daemon's text, or NULL */
	char why[1024];		/* when it could not be asked */
};

static void
reload_one(const struct eg_config *cfg, const char *name,
    struct reload_res *r)
{
	const struct eg_msg_result *res;
	struct eg_ipc_msg reply;
	struct eg_msg_error e;
	struct ctl_buf *buf;
	const char *text;

	memset(r, 0, sizeof(*r));
	r->name = name;
	if (ctl_sock_path(cfg, name, r->path, sizeof(r->path)) == NULL) {
		snprintf(r->why, sizeof(r->why), "socket path too long");
		return;
	}
	if ((buf = malloc(sizeof(*buf))) == NULL) {
		snprintf(r->why, sizeof(r->why), "%s", strerror(errno));
		return;
	}
	if (ctl_call(r->path, EG_MSG_RELOAD_REQ, NULL, 0, buf, &reply) == -1) {
		snprintf(r->why, sizeof(r->why), "down: %s: %s", r->path,
		    errno == ETIMEDOUT ? "no answer in time" : strerror(errno));
	} else if (reply.hdr.type == EG_MSG_ERROR) {
		memcpy(&e, reply.payload, sizeof(e));
		r->code = e.code;
		snprintf(r->why, sizeof(r->why), "refused: %s",
		    strerror(e.code));
	} else if ((res = eg_ipc_result(&reply, &text)) == NULL) {
		snprintf(r->why, sizeof(r->why), "malformed reply");
	} else {
		r->code = res->code;
		r->text = ctl_text_dup(text, res->textlen);
		r->ok = res->code == 0;
		if (!r->ok)
			snprintf(r->why, sizeof(r->why), "failed: %s",
			    strerror(res->code));
	}
	free(buf);
}

int
cmd_reload(struct ctl_opts *o, int argc, char **argv)
{
	struct reload_res r[CTL_NDAEMONS];
	struct eg_config *cfg;
	struct json j;
	bool all = true;
	size_t i;
	int first;

	if ((first = ctl_parse_common(o, argc, argv, "reload")) < 0)
		return EXIT_CTL_USAGE;
	if (first < argc) {
		fprintf(stderr, "egressctl reload: unexpected \"%.64s\"\n",
		    argv[first]);
		return EXIT_CTL_USAGE;
	}
	if ((cfg = ctl_load_config(o, "reload")) == NULL) {
		fprintf(stderr, "egressctl reload: nothing reloaded\n");
		return EXIT_CTL_CONFIG;
	}
	/* netjaild first: the others' new config may need its new sets */
	for (i = 0; i < CTL_NDAEMONS; i++) {
		reload_one(cfg, ctl_daemons[i], &r[i]);
		if (!r[i].ok)
			all = false;
	}
	if (o->json) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "command", "reload");
		json_bool(&j, "ok", all);
		json_arr_begin(&j, "daemons");
		for (i = 0; i < CTL_NDAEMONS; i++) {
			json_obj_begin(&j, NULL);
			json_str(&j, "name", r[i].name);
			json_str(&j, "socket", r[i].path);
			json_bool(&j, "ok", r[i].ok);
			json_int(&j, "code", r[i].code);
			if (!r[i].ok)
				json_str(&j, "error", r[i].why);
			json_str(&j, "text", r[i].text);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		for (i = 0; i < CTL_NDAEMONS; i++) {
			printf("%s: %s", r[i].name, r[i].ok ? "reloaded" :
			    r[i].why);
			putchar('\n');
			if (r[i].text != NULL)
				ctl_print_lines(stdout, "    ", r[i].text);
		}
	}
	for (i = 0; i < CTL_NDAEMONS; i++)
		free(r[i].text);
	eg_config_free(cfg);
	return ctl_flush("reload", all ? EXIT_CTL_OK : EXIT_CTL_FAIL);
}
