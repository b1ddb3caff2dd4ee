/*
 * daemon.h - the start-up every daemon shares.
 *
 *   int main(int argc, char **argv) {
 *       struct eg_daemon d;
 *       eg_daemon_init(&d, "connectd", argc, argv);   // args, config, log; exits 0/2
 *       ... open privileged sockets (or take them from systemd) ...
 *       eg_daemon_drop(&d, d.cfg->connectd.user.uid, d.cfg->connectd.user.gid, NULL, 0);
 *       ... run ...
 *   }
 *
 * Options common to all daemons:
 *   -c FILE, --config FILE   config file (default /etc/egressjail/egressjail.conf)
 *   --check                  load and validate, print every error, exit 0 or 2
 *   -d, --debug              log level debug
 *   -V, --version, -h, --help
 * Options a daemon adds are returned in d->rest (argv after the common ones
 * were removed), in order.
 *
 * Exit status: 0 clean stop, 1 runtime failure, 2 bad configuration.
 */
#ifndef EG_DAEMON_H
#define EG_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

#define EG_EXIT_OK	0
#define EG_EXIT_RUNTIME	1
#define EG_EXIT_CONFIG	2

struct eg_daemon {
	const char *name;
	const char *config_path;
	struct eg_config *cfg;		/* loaded, validated */
	bool check_only;
	bool debug;
	int argc;			/* daemon-specific arguments left over */
	char **argv;
};

/*
 * Parse the common options (unknown options starting with '-' that the
 * daemon declares in extra_opts, a NULL-terminated list such as
 * {"--print", "--uninstall", NULL}, are passed through in d->argv),
 * load the config (exit 2 with every error on stderr), start logging.
 * With --check: print "NAME: FILE: ok" and exit 0.
 */
void eg_daemon_init(struct eg_daemon *d, const char *name, int argc,
    char **argv, const char *const *extra_opts, const char *usage_extra);

/* Create the runtime directory (mode 1770, group of the config) if missing;
 * refuse an existing one that others (or the group without sticky) may write. */
int eg_daemon_rundir(const struct eg_config *cfg, char *err, size_t errlen);

/* The rule eg_daemon_rundir applies to an existing directory, shared with
 * egressctl doctor: nobody but the control group (gid group, or none when
 * (gid_t)-1) may write, and the group only with the sticky bit on. */
bool eg_rundir_mode_ok(mode_t mode, gid_t dir_gid, gid_t group);

/*
 * The socket systemd passed under name (FileDescriptorName=), if any, must
 * be bound to one of specs[0..n), the addresses the configuration key
 * names and netjaild's rules deliver to: otherwise exit 2, a configuration
 * error, naming both and the socket unit to edit.  n == 0 checks nothing.
 */
void eg_daemon_listen_fd_check(const char *name, char *const *specs,
    size_t n, const char *key, const char *unit);

/*
 * Drop to uid/gid keeping caps (see eg_priv_drop); when already running as
 * uid it only trims.  Exits 1 on any failure: never continues privileged.
 */
void eg_daemon_drop(struct eg_daemon *d, uid_t uid, gid_t gid,
    const int *caps, size_t ncaps);

/*
 * A reload that failed, in the one shape every daemon logs it:
 * event=reload result=failed error="..." generation=N, N the generation
 * that keeps running.  A good one is event=reload result=ok generation=N
 * (N the new generation) followed by the daemon's own counts.
 */
void eg_daemon_reload_failed(const char *error, unsigned generation);
/* Path of a daemon's control socket: RUNDIR/NAME.sock into buf. */
const char *eg_daemon_sock_path(const struct eg_config *cfg, const char *name,
    char *buf, size_t len);

#endif
