/*
 * landlock.h - what dohd may read under Landlock.
 */
#ifndef DOHD_LANDLOCK_H
#define DOHD_LANDLOCK_H

#include <stddef.h>

#include "config.h"

/* Upper bound of the list the daemon passes, NULL slot included. */
#define DOHD_LANDLOCK_MAX	64

/*
 * Fill out[] (n slots) with the paths dohd reads after start-up, each
 * malloc'd, NULL-terminated: the config file's directory, the directory of
 * every allow_file glob, the directories of the CA, hosts and zone files
 * (a file in /etc itself is listed alone), and /etc/passwd, /etc/group and
 * /etc/nsswitch.conf for the user lookups of a reload.  Paths that do not
 * exist now are left out.  Returns how many, or -1 when they do not fit or
 * memory runs out (out is then empty).
 */
int dohd_landlock_paths(const struct eg_config *cfg, const char *config_path,
    char **out, size_t n);
/* Free what dohd_landlock_paths() put in out. */
void dohd_landlock_paths_free(char **out);

#endif
