/*
 * priv.h - privilege drop and sandboxing.  Every failure is fatal to the
 * caller: these functions return -1 with a reason in err, and the daemons
 * exit on it.  There is no "continue without sandbox".
 */
#ifndef EG_PRIV_H
#define EG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Become uid/gid (with supplementary groups of that user, plus extra_gid
 * unless it is (gid_t)-1), keeping exactly the capabilities in caps
 * (CAP_* numbers; ncaps 0 = none) in the permitted, effective and ambient
 * sets, bounding set cleared of all others, no_new_privs set.  Works when
 * already running as the target user with the capabilities (systemd
 * AmbientCapabilities): then it only trims.  Verifies the result and fails
 * if any other capability survives or uid 0 can be regained.
 */
int eg_priv_drop(uid_t uid, gid_t gid, gid_t extra_gid, const int *caps,
    size_t ncaps, char *err, size_t errlen);

/* Set PR_SET_NO_NEW_PRIVS. */
int eg_priv_no_new_privs(char *err, size_t errlen);

/*
 * Install a seccomp filter that allows exactly the named syscalls
 * (names as libseccomp knows them, NULL-terminated list) and kills the
 * process on anything else.  Without libseccomp support this fails.
 */
int eg_sandbox_seccomp(const char *const *allow, char *err, size_t errlen);

/* Syscalls every daemon needs after start-up (libuv loop, logging, IPC). */
extern const char *const eg_sandbox_base_syscalls[];

/*
 * Landlock: allow read-only access to the given paths and nothing else
 * on the file system.  Returns 1 when enforced, 0 when the kernel has no
 * Landlock (not an error), -1 on failure.
 */
int eg_sandbox_landlock_ro(const char *const *paths, char *err, size_t errlen);

/*
 * Building the path list for eg_sandbox_landlock_ro (landlock_paths.c).
 * out has n slots and stays NULL-terminated; *k counts the entries.  Each
 * returns 0, or -1 when the list is full or memory runs out.  Paths that do
 * not exist are skipped; a file directly in /etc is listed alone, never /etc.
 */
struct eg_config;
int eg_landlock_add(char **out, size_t n, size_t *k, const char *path);
/* The directory of file (the file itself when it sits directly in /etc). */
int eg_landlock_add_dir_of(char **out, size_t n, size_t *k, const char *file);
/* The config file's directory, the allow_file directories, and what glibc
 * reads for the user lookups of a reload. */
int eg_landlock_add_common(char **out, size_t n, size_t *k,
    const struct eg_config *cfg, const char *config_path);
void eg_landlock_paths_free(char **out);
/*
 * Enforce a list built above (n entries, or -1 when building failed) and
 * free it.  Any failure is fatal (exit 1): a daemon never runs with less
 * of a sandbox than it asked for.  Returns 1 enforced, 0 no Landlock here.
 */
int eg_landlock_enforce(char **paths, int n);

#endif
