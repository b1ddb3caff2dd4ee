/*
 * control.h - dohd's control socket (STATUS, RESOLVE, RELOAD, EXPLAIN).
 */
#ifndef DOHD_CONTROL_H
#define DOHD_CONTROL_H

#include "app.h"

/* RUNDIR/dohd.sock, before the privilege drop. */
int dohd_control_start(struct dohd_app *a, char *err, size_t errlen);

#endif
