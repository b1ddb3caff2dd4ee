/*
 * egressctl.h - shared by the subcommands of the admin tool.
 */
#ifndef EGRESSCTL_H
#define EGRESSCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ipc.h"

struct eg_config;

/* Exit statuses, as in egressctl(8). */
#define EXIT_CTL_OK	0
#define EXIT_CTL_FAIL	1	/* unreachable, not ready, denied, a problem */
#define EXIT_CTL_CONFIG	2	/* the configuration has errors */
#define EXIT_CTL_USAGE	2	/* bad usage: never mistaken for "not ready" */

/* How long one daemon may take to answer a control request. */
#define CTL_CALL_TIMEOUT_MS	3000

/* Options every subcommand sees, whether given before or after its name. */
struct ctl_opts {
	const char *config;	/* -c FILE, default EG_DEFAULT_CONFIG */
	bool no_user_check;	/* --no-user-check: for tests only */
	bool json;		/* --json: one JSON document on stdout */
	unsigned extra_flags;	/* eg_config_load flags a subcommand adds */
};

struct ctl_cmd {
	const char *name;
	int (*run)(struct ctl_opts *, int, char **);
	const char *usage;
};

/*
 * Parse the options common to all subcommands (-c, --json,
 * --no-user-check) from argv; returns the index of the first operand, or
 * -1 after printing a usage error.
 */
int ctl_parse_common(struct ctl_opts *, int, char **, const char *);
/*
 * The same with a subcommand's own long options (struct option, val
 * 300 and up, at most 8): cb(arg, val, optarg) takes each, false on bad
 * usage.
 */
struct option;
int ctl_parse_opts(struct ctl_opts *, int, char **, const char *,
    const struct option *, bool (*)(void *, int, const char *), void *);
void ctl_usage(void);

int cmd_check(struct ctl_opts *, int, char **);
int cmd_status(struct ctl_opts *, int, char **);
int cmd_reload(struct ctl_opts *, int, char **);
int cmd_explain(struct ctl_opts *, int, char **);
int cmd_doctor(struct ctl_opts *, int, char **);
int cmd_learn(struct ctl_opts *, int, char **);
int cmd_ask(struct ctl_opts *, int, char **);

/* ---- common.c: config and daemons */

/* The daemons in the order egressctl asks them. */
extern const char *const ctl_daemons[3];
#define CTL_NDAEMONS 3

/*
 * Load the config as the options say (users looked up unless
 * --no-user-check).  On errors print them (text, or as JSON with the
 * subcommand's name) and return NULL.
 */
struct eg_config *ctl_load_config(const struct ctl_opts *o, const char *who);
/* RUNDIR/NAME.sock into buf; NULL when it does not fit. */
const char *ctl_sock_path(const struct eg_config *cfg, const char *name,
    char *buf, size_t len);

/* A receive buffer for one message, aligned for the typed accessors. */
struct ctl_buf {
	_Alignas(8) uint8_t b[EG_IPC_MAX_MSG + 8];
};
/* eg_ipc_call with egressctl's timeout; -1 and errno as eg_ipc_call. */
int ctl_call(const char *path, uint16_t type, const void *payload,
    size_t len, struct ctl_buf *buf, struct eg_ipc_msg *reply);
/* Copy n bytes of daemon text into a NUL-terminated, printable string. */
char *ctl_text_dup(const char *text, size_t n);
/* Write text to out, one "prefix line" per line, non-printables as '?'. */
void ctl_print_lines(FILE *out, const char *prefix, const char *text);
/* Finish stdout; EXIT_CTL_FAIL if it could not be written. */
int ctl_flush(const char *who, int rc);

/* ---- status.c: one daemon's answer to STATUS_REQ (doctor uses it too) */

enum ctl_state { CTL_DOWN, CTL_ERROR, CTL_NOT_READY, CTL_READY };

struct ctl_status {
	const char *name;
	char path[512];
	enum ctl_state state;
	bool answered;		/* a valid STATUS_REP came back */
	uint32_t generation;
	char *text;		/* key=value lines, printable, or NULL */
	char why[1024];		/* down / error / not ready: why */
};

void ctl_query_status(const struct eg_config *cfg, const char *name,
    struct ctl_status *st);
void ctl_status_free(struct ctl_status *st);
const char *ctl_state_name(enum ctl_state s);
const char *ctl_text_get(const char *text, const char *key, char *buf,
    size_t len);

/* ---- json.c: a small writer; every string is escaped byte by byte */

#define JSON_MAX_DEPTH 16

struct json {
	FILE *out;
	int depth;
	bool first[JSON_MAX_DEPTH + 1];
};

void json_init(struct json *j, FILE *out);
/* key is NULL inside arrays and for the top-level value. */
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_str(struct json *j, const char *key, const char *val);
void json_strn(struct json *j, const char *key, const char *val, size_t n);
void json_int(struct json *j, const char *key, long long val);
void json_bool(struct json *j, const char *key, bool val);
void json_null(struct json *j, const char *key);
/* Ends the document with a newline. */
void json_finish(struct json *j);
/* The quoted, escaped form of n bytes of s. */
void json_escape(FILE *out, const char *s, size_t n);
/* "key=value\n" lines as members of the current object. */
void json_kv_lines(struct json *j, const char *text);

#endif
