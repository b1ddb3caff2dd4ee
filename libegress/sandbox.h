/*
 * sandbox.h - how every daemon's start-up ends: eg_daemon_drop(), the few
 * steps that must run as the daemon's user, then eg_sandbox_apply().  In
 * the manner of OpenBSD's pledge/unveil: one call, and no way on without.
 */
#ifndef EG_SANDBOX_H
#define EG_SANDBOX_H

#include <stddef.h>

#include "ipc.h"

struct eg_config;

/*
 * Landlock first (its syscalls are on no allow-list), for the roles that
 * have a path list (eg_landlock_paths; netjaild has none: it writes
 * /proc/sys for every jailed link), then a seccomp filter allowing
 * eg_sandbox_base_syscalls and additions, each name once.  Exits the
 * process (EG_EXIT_RUNTIME) on any failure; a kernel without Landlock is
 * logged and is not a failure.
 */
void eg_sandbox_apply(enum eg_role role, const char *const *additions,
    const struct eg_config *cfg, const char *config_path);

/* Syscalls every daemon needs after start-up (libuv loop, logging, IPC). */
extern const char *const eg_sandbox_base_syscalls[];

/*
 * eg_sandbox_base_syscalls followed by those of additions not already
 * listed, NULL-terminated; free() the array (the names are not copied).
 * NULL when memory runs out.
 */
const char **eg_sandbox_syscalls(const char *const *additions);

/*
 * Install a seccomp filter that allows exactly the named syscalls
 * (names as libseccomp knows them, NULL-terminated list) and kills the
 * process on anything else.  Without libseccomp support this fails.
 */
int eg_sandbox_seccomp(const char *const *allow, char *err, size_t errlen);

/*
 * Landlock: allow read-only access to the given paths and nothing else
 * on the file system.  Returns 1 when enforced, 0 when the kernel has no
 * Landlock (not an error), -1 on failure.
 */
int eg_sandbox_landlock_ro(const char *const *paths, char *err, size_t errlen);

/* Upper bound of a role's Landlock list, NULL slot included. */
#define EG_LANDLOCK_MAX	64

/*
 * Fill out[] (n slots) with the paths role reads after start-up, each
 * malloc'd, NULL-terminated.  Every role: the config file's directory,
 * the directory of every allow_file glob and of every file a rule came
 * from, /etc/passwd, /etc/group and /etc/nsswitch.conf for the user
 * lookups of a reload, and /dev/null.  connectd adds the directory of the
 * chain's CA file; dohd those of its CA, hosts and zone files.  A file
 * directly in /etc is listed alone, never /etc; paths that do not exist
 * now are left out.  Returns how many, or -1 when they do not fit or
 * memory runs out (out is then empty).
 */
int eg_landlock_paths(enum eg_role role, const struct eg_config *cfg,
    const char *config_path, char **out, size_t n);
/* Free what eg_landlock_paths() put in out. */
void eg_landlock_paths_free(char **out);

#endif
