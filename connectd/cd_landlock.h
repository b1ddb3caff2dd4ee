/*
 * cd_landlock.h - what connectd may read under Landlock.
 */
#ifndef CD_LANDLOCK_H
#define CD_LANDLOCK_H

#include <stddef.h>

#include "config.h"

/* Upper bound of the list the daemon passes, NULL slot included. */
#define CD_LANDLOCK_MAX	64

/*
 * Fill out[] (n slots) with the paths connectd reads after start-up, each
 * malloc'd, NULL-terminated: the config file's directory, the directory of
 * every allow_file glob, the chain CA file's directory, and /etc/passwd,
 * /etc/group and /etc/nsswitch.conf for the user lookups of a reload.
 * Paths that do not exist now are left out.  Returns how many, or -1 when
 * they do not fit or memory runs out (out is then empty).
 */
int connectd_landlock_paths(const struct eg_config *cfg,
    const char *config_path, char **out, size_t n);
/* Free what connectd_landlock_paths() put in out. */
void connectd_landlock_paths_free(char **out);

#endif
