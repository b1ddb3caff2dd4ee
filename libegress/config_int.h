/*
 * config_int.h - private to libegress: what the parts of the config loader
 * share.  A key's line goes config.c (scanner) -> config_keys.c (the table
 * and its setters; config_url.c for the URL keys) -> config_check.c (the
 * defaults and the checks across keys, once every line is read);
 * printconf.c prints what was loaded.
 */
#ifndef EG_CONFIG_INT_H
#define EG_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "errfmt.h"
#include "workload.h"

#define FILE_MAX	(1024 * 1024)	/* bytes in any one file */

#define MAX_RULES	100000		/* in one policy */
#define MAX_RULES_ALL	1000000		/* in [policy] and every workload */
#define MAX_WORKLOADS	1024
#define MAX_MATCHES	256		/* in one workload */
#define MAX_MATCHES_ALL	4096		/* in all: overlaps are n^2 */
#define MAX_LISTEN	16
#define MAX_ALLOW_FILES	1000

/*
 * The public struct plus what only the loader needs to keep: the names of
 * every file read, which origins point into.
 */
struct config_priv {
	struct eg_config pub;
	char **files;
	size_t nfiles;
};

/* S_WORKLOAD is "[workload NAME]", the one section given many times. */
enum sect { S_JAIL, S_CHAIN, S_CONNECTD, S_DOHD, S_NETJAILD, S_POLICY,
	S_WORKLOAD, S_COUNT, S_NONE = -1, S_BAD = -2 };

extern const char *const cfg_sect_names[S_COUNT];

struct loader;
struct keydef;

/*
 * A setter parses one value given on one line.  On a bad value it writes
 * the reason to err (EG_ERR_MAX bytes) and returns false; out of memory it
 * sets ld->oom and may leave err empty.
 */
typedef bool (*key_fn)(struct loader *, const struct keydef *,
    const char *, struct eg_origin, char *);

struct keydef {
	enum sect sect;
	const char *name;
	key_fn fn;
	size_t off;		/* the member it sets: of struct eg_config, or
				   of struct eg_workload in S_WORKLOAD */
	size_t cap;		/* a list key: most entries; 0: given once */
	size_t count;		/* a list key: its entry count's offset */
	uint64_t min, max;	/* numbers, sizes and durations */
	const char *const *words;	/* set_enum: value i is words[i] */
};

struct loader {
	struct config_priv *priv;
	struct eg_config *cfg;
	struct eg_config_errors *errs;
	unsigned flags;
	const char *dir;	/* allow_file globs relative to this; NULL: cwd */
	const char *file;	/* the file being read (owned by priv) */
	enum sect sect;
	const char *sect_name;	/* as written, for unknown sections */
	int sect_line[S_COUNT];
	int *key_line;		/* first line of each key, by keydef index */
	bool *cap_hit;		/* a list cap already reported */
	bool oom;
	size_t wl;		/* S_WORKLOAD: the section's workload */
	char wl_label[EG_WL_NAME_MAX + 16];	/* "workload NAME" */
	size_t nmatches;	/* match lines of all workloads */
	size_t nrules_all;	/* allow rules of all policies */
};

/* config.c: messages, memory, the scanner and the allow files */
void cfg_errorf(struct loader *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void cfg_key_error(struct loader *, struct eg_origin, const char *,
    const char *, const char *, const char *);
bool cfg_grow(struct loader *, void *, size_t, size_t);
char *cfg_xstrdup(struct loader *, const char *);
bool cfg_is_ws(char);
bool cfg_add_allow_file(struct loader *, const struct keydef *,
    const char *, struct eg_origin, char *);
void cfg_policy_conf_free(struct eg_policy_conf *);

/* config_keys.c: the key table and the setters */
extern const struct keydef cfg_keys[];
extern const size_t cfg_nkeys;
const struct keydef *cfg_find_key(enum sect, const char *, size_t *);
int cfg_key_seen(const struct loader *, enum sect, const char *);
size_t cfg_list_count(struct loader *, const struct keydef *);
bool cfg_rule_add(struct loader *, const char *, struct eg_origin, char *);
bool cfg_strlist_add(struct loader *, char ***, size_t *, const char *,
    char *);
int cfg_lookup_user(const char *, uid_t *, gid_t *);
int cfg_lookup_group(const char *);
const char *cfg_lookup_reason(int, char *, size_t, const char *);

/* config_url.c: [chain] hop and [dohd] upstream */
bool cfg_add_hop(struct loader *, const struct keydef *, const char *,
    struct eg_origin, char *);
bool cfg_add_upstream(struct loader *, const struct keydef *, const char *,
    struct eg_origin, char *);
void cfg_hop_clear(struct eg_hop *);
void cfg_upstream_clear(struct eg_upstream *);

/* the section name for messages: "jail", ..., or "workload NAME" */
const char *cfg_sect_label(const struct loader *);
/* the policy the current section's allow/permit_cidr keys add to */
struct eg_policy_conf *cfg_cur_policy(struct loader *);

/* config_workload.c: [workload NAME] sections */
void cfg_workload_section(struct loader *, int, const char *);
bool cfg_add_match(struct loader *, const struct keydef *, const char *,
    struct eg_origin, char *);
void cfg_check_workloads(struct loader *);
void cfg_workloads_free(struct eg_config *);

/* config_check.c: defaults, then the checks across keys */
bool cfg_set_defaults(struct loader *);
void cfg_fill_unset(struct loader *);
void cfg_check_all(struct loader *);

#endif
