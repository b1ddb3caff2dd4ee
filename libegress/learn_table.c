/*
 * learn_table.c - what a daemon in learn mode has seen the allowlist
 * would deny, kept so that each (name, port, qtype) is reported once at
 * once and its repeats as counts now and then.
 *
 * The evidence leaves the daemon as log lines (event=learn, see
 * eg_learn_line), which egressctl learn --log reads back: a new entry is
 * logged the moment it is first seen, so no name is ever held back by a
 * daemon that goes quiet or stops; repeats are only counted, and the
 * counts since the last report go out when a note finds the interval
 * over.  The table is bounded: once full, new entries are still logged at
 * once, only no longer folded (more lines, nothing lost).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "learn.h"
#include "learn_table.h"
#include "log.h"

struct item {
	struct eg_hnode node;
	struct eg_learn_entry e;	/* count/first/last: since reported */
};

struct eg_learn_table {
	struct eg_htab h;
	struct item *items;
	size_t n, max;
	int64_t interval, last_flush;
	uint64_t unfolded;		/* new entries past max */
};

struct eg_learn_table *
eg_learn_table_new(size_t max, int64_t interval_s)
{
	struct eg_learn_table *t;

	if (max == 0 || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->items = calloc(max, sizeof(*t->items))) == NULL ||
	    !eg_htab_init(&t->h, max, max)) {
		free(t->items);
		free(t);
		return NULL;
	}
	t->max = max;
	t->interval = interval_s;
	return t;
}

void
eg_learn_table_free(struct eg_learn_table *t)
{
	if (t == NULL)
		return;
	eg_htab_free(&t->h);
	free(t->items);
	free(t);
}

static uint64_t
key_hash(const struct eg_learn_table *t, const char *name, uint16_t port,
    uint16_t qtype)
{
	return eg_htab_hash(&t->h, (uint64_t)port << 16 | qtype, name,
	    strlen(name));
}

/* Report every entry's counts since the last report, then zero them. */
static void
flush(struct eg_learn_table *t, int64_t now, eg_learn_emit_fn emit,
    void *arg)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (t->items[i].e.count == 0)
			continue;
		emit(arg, &t->items[i].e);
		t->items[i].e.count = 0;
	}
	t->last_flush = now;
}

int
eg_learn_table_note(struct eg_learn_table *t, const char *workload,
    const char *name, uint16_t port, uint16_t qtype, int64_t now,
    eg_learn_emit_fn emit, void *arg)
{
	struct eg_learn_entry e;
	struct eg_hnode *nd;
	struct item *it;
	char norm[EG_NAME_MAX + 1];
	uint64_t h;

	memset(&e, 0, sizeof(e));
	/* normalised, so the log line needs no quoting of its own */
	if (strlen(workload) > EG_WL_NAME_MAX || eg_is_ip_literal(name) ||
	    !eg_name_normalise(name, norm, NULL) ||
	    (port == 0) == (qtype == 0))
		return -1;
	name = norm;
	if (t->last_flush == 0)
		t->last_flush = now;	/* the interval starts with the table */
	h = key_hash(t, name, port, qtype);
	for (nd = eg_htab_first(&t->h, h); nd != NULL; nd = eg_htab_next(nd)) {
		it = (struct item *)nd;
		if (it->e.port != port || it->e.qtype != qtype ||
		    strcmp(it->e.name, name) != 0 ||
		    strcmp(it->e.workload, workload) != 0)
			continue;
		if (it->e.count == 0)
			it->e.first = now;
		it->e.count++;
		it->e.last = now;
		if (now - t->last_flush >= t->interval)
			flush(t, now, emit, arg);
		return 0;
	}
	memcpy(e.workload, workload, strlen(workload) + 1);
	memcpy(e.name, name, strlen(name) + 1);
	e.port = port;
	e.qtype = qtype;
	e.count = 1;
	e.first = e.last = now;
	emit(arg, &e);			/* the first sighting, at once */
	if (t->n == t->max) {
		t->unfolded++;
		return 1;
	}
	it = &t->items[t->n++];
	it->e = e;
	it->e.count = 0;		/* reported already */
	it->node.hash = h;
	eg_htab_insert(&t->h, &it->node);
	return 1;
}

size_t
eg_learn_table_size(const struct eg_learn_table *t)
{
	return t->n;
}

uint64_t
eg_learn_table_unfolded(const struct eg_learn_table *t)
{
	return t->unfolded;
}

void
eg_learn_table_flush(struct eg_learn_table *t, int64_t now,
    eg_learn_emit_fn emit, void *arg)
{
	flush(t, now, emit, arg);
}

int
eg_learn_line(const struct eg_learn_entry *e, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "workload=%s name=\"%s\" port=%u qtype=%u "
	    "count=%llu first=%lld last=%lld", e->workload, e->name, e->port,
	    e->qtype, (unsigned long long)e->count, (long long)e->first,
	    (long long)e->last);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* -- the daemon's one table ------------------------------------------------ */

static struct eg_learn_table *daemon_table;
static bool daemon_table_failed;

static void
log_emit(void *arg, const struct eg_learn_entry *e)
{
	char b[EG_LEARN_LINE_MAX];

	(void)arg;
	if (eg_learn_line(e, b, sizeof(b)) == 0)
		eg_log(EG_LOG_WARN, "learn", "%s", b);	/* never below log_level */
}

bool
eg_learn_note(const char *workload, const char *reason, const char *name,
    uint16_t port, uint16_t qtype)
{
	struct eg_learn_entry e;

	if (!eg_learn_allowlist_reason(reason))
		return false;
	if (daemon_table == NULL && !daemon_table_failed &&
	    (daemon_table = eg_learn_table_new(EG_LEARN_TABLE_MAX,
	    EG_LEARN_INTERVAL)) == NULL) {
		daemon_table_failed = true;
		eg_log(EG_LOG_WARN, "learn", "error=\"no memory for the learn "
		    "table: every record is logged, none folded\"");
	}
	if (daemon_table != NULL)
		return eg_learn_table_note(daemon_table, workload, name, port,
		    qtype, (int64_t)time(NULL), log_emit, NULL) >= 0;
	/* without a table every sighting is a line of its own */
	memset(&e, 0, sizeof(e));
	if (strlen(workload) > EG_WL_NAME_MAX || eg_is_ip_literal(name) ||
	    !eg_name_normalise(name, e.name, NULL) ||
	    (port == 0) == (qtype == 0))
		return false;
	memcpy(e.workload, workload, strlen(workload) + 1);
	e.port = port;
	e.qtype = qtype;
	e.count = 1;
	e.first = e.last = (int64_t)time(NULL);
	log_emit(NULL, &e);
	return true;
}
