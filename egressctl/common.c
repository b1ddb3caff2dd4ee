/*
 * common.c - what the subcommands share: loading the config, the control
 * socket paths and one request/reply with a daemon.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "egressctl.h"

const char *const ctl_daemons[CTL_NDAEMONS] = { "netjaild", "connectd",
	"dohd" };

struct eg_config *
ctl_load_config(const struct ctl_opts *o, const char *who)
{
	struct eg_config_errors errs;
	struct eg_config *cfg;
	struct json j;
	size_t i;

	cfg = eg_config_load(o->config, o->extra_flags |
	    eg_config_flags_for("egressctl") |
	    (o->no_user_check ? EG_CONFIG_NO_USERS : 0), &errs);
	if (cfg != NULL)
		return cfg;
	if (o->json) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "command", who);
		json_str(&j, "config", o->config);
		json_bool(&j, "valid", false);
		json_arr_begin(&j, "errors");
		for (i = 0; i < errs.n; i++)
			json_str(&j, NULL, errs.msgs[i]);
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
		fflush(stdout);
	} else {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
	}
	fprintf(stderr, "egressctl %s: %zu error%s in %s\n", who, errs.n,
	    errs.n == 1 ? "" : "s", o->config);
	eg_config_errors_free(&errs);
	return NULL;
}

const char *
ctl_sock_path(const struct eg_config *cfg, const char *name, char *buf,
    size_t len)
{
	const char *dir = cfg->jail.runtime_dir != NULL ?
	    cfg->jail.runtime_dir : EG_DEFAULT_RUNDIR;
	int n;

	n = snprintf(buf, len, "%s/%s.sock", dir, name);
	if (n < 0 || (size_t)n >= len)
		return NULL;
	return buf;
}

int
ctl_call(const char *path, uint16_t type, const void *payload, size_t len,
    struct ctl_buf *buf, struct eg_ipc_msg *reply)
{
	memset(reply, 0, sizeof(*reply));
	/* a reply with a descriptor attached is refused by eg_ipc_recv */
	return eg_ipc_call(path, type, payload, len, buf->b, sizeof(buf->b),
	    reply, CTL_CALL_TIMEOUT_MS);
}

char *
ctl_text_dup(const char *text, size_t n)
{
	char *s;
	size_t i;

	if ((s = malloc(n + 1)) == NULL) {
		perror("egressctl");
		exit(EXIT_CTL_FAIL);
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		s[i] = c == '\n' || (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	s[n] = '\0';
	return s;
}

void
ctl_print_lines(FILE *out, const char *prefix, const char *text)
{
	const char *p = text, *nl;
	size_t i, n;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (n > 0) {
			fputs(prefix, out);
			for (i = 0; i < n; i++) {
				unsigned char c = (unsigned char)p[i];

				putc(c >= 0x20 && c < 0x7f ? c : '?', out);
			}
			putc('\n', out);
		}
		p += n;
		if (*p == '\n')
			p++;
	}
}

int
ctl_flush(const char *who, int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "egressctl %s: stdout: %s\n", who,
		    strerror(errno));
		return EXIT_CTL_FAIL;
	}
	return rc;
}
