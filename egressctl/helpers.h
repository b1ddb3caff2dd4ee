/*
 * helpers.h - host services that act for a jailed user (doctor).
 */
#ifndef CTL_HELPERS_H
#define CTL_HELPERS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum helper_kind { HELPER_SOCKET, HELPER_MAILER };

struct helper_def {
	const char *name;
	const char *path;		/* a socket, or a mailer program */
	enum helper_kind kind;
	bool root_equivalent;		/* using it is root on the host */
	const char *what;		/* what a jailed user gets from it */
	const char *fix;
};

struct helper_found {
	const struct helper_def *def;
	char path[512];
	bool setid;			/* a setuid or setgid program */
	bool usable;			/* a jailed user may use it */
	char user[64];			/* the first such user */
};

/* The helpers doctor looks for. */
const struct helper_def *helpers_defs(size_t *n);

/*
 * The helpers present under root ("" for the host; tests give a temp
 * directory), into out.  usable: a jailed user of cfg may write the
 * socket or execute the program, by the permission bits and its groups.
 */
size_t helpers_scan(const char *root, const struct eg_config *cfg,
    struct helper_found *out, size_t max);

/* Is user a member of group (primary or supplementary)? */
bool helpers_user_in_group(const char *user, const char *group);

#endif
