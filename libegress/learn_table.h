/*
 * learn_table.h - a daemon's learn-mode record of what the allowlist
 * would have denied (see learn_table.c), reported as event=learn log
 * lines that egressctl learn --log reads back.
 */
#ifndef EG_LEARN_TABLE_H
#define EG_LEARN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "htab.h"
#include "learn.h"

#define EG_LEARN_TABLE_MAX	16384	/* entries folded per daemon */
#define EG_LEARN_INTERVAL	60	/* seconds between count reports */

struct eg_learn_table;

/* Hand one record to the log: its first sighting, or counts since. */
typedef void (*eg_learn_emit_fn)(void *arg, const struct eg_learn_entry *e);

struct eg_learn_table *eg_learn_table_new(size_t max, int64_t interval_s);
void eg_learn_table_free(struct eg_learn_table *t);

/*
 * Note a connection (port, qtype 0) or a query (qtype, port 0) to name
 * that the allowlist would have denied, at now (Unix seconds).  A new
 * entry is emitted at once (1); a repeat is counted (0), and when the
 * interval since the last report is over every count goes out.  -1: not
 * a name, or both or neither of port and qtype.
 */
int eg_learn_table_note(struct eg_learn_table *t, const char *workload,
    const char *name, uint16_t port, uint16_t qtype, int64_t now,
    eg_learn_emit_fn emit, void *arg);
/* Emit every count not reported yet (on stop, on reload). */
void eg_learn_table_flush(struct eg_learn_table *t, int64_t now,
    eg_learn_emit_fn emit, void *arg);
size_t eg_learn_table_size(const struct eg_learn_table *t);
/* New entries seen once the table was full: logged, not folded. */
uint64_t eg_learn_table_unfolded(const struct eg_learn_table *t);

/*
 * The daemon's own table (made on first use), logging through eg_log:
 * note a would-be denial for reason (eg_reason_str) in learn mode.  false
 * when it is not one a rule could change (an IP literal, an internal
 * address) or not a name: the caller logs it as report mode would.
 */
bool eg_learn_note(const char *workload, const char *reason,
    const char *name, uint16_t port, uint16_t qtype);

/* The fields of an event=learn line for e: "workload=... name=... ...". */
int eg_learn_line(const struct eg_learn_entry *e, char *buf, size_t len);

#endif
