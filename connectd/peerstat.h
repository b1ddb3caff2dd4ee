/*
 * peerstat.h - the status text of netjaild and dohd, as Prometheus metrics.
 *
 * connectd polls both peers with STATUS_REQ for readiness; the answer
 * carries a text of "key=value\n" lines (egressctl status prints it).  This
 * module keeps what of it is safe to re-export and renders it for
 * /metrics.  The text comes from another process, so it is treated as
 * hostile although the IPC decoder already admits only printable ASCII:
 *
 *   - at most PS_TEXT_MAX bytes and PS_LINES_MAX lines are looked at;
 *   - a line is kept only when its key is 1..PS_KEY_MAX characters of
 *     [a-z0-9_.] and its value is a plain unsigned decimal, 1..PS_VAL_MAX
 *     characters: digits with an optional fraction ("12", "0.250"), an
 *     integer no larger than UINT64_MAX; anything else (text, signs,
 *     exponents, inf/nan, spaces, CR) is skipped, never repaired;
 *   - the first of two lines with the same key wins;
 *   - at most PS_ENTRIES_MAX lines are kept.
 *
 * So nothing a peer writes can put a newline, quote, '#', '{' or space
 * into the exposition: metric names and label values are built from the
 * key's own [a-z0-9_.] characters only, values from [0-9.].
 *
 * Pure: no libuv, no libegress; unit-tested and fuzzed alone.
 */
#ifndef CD_PEERSTAT_H
#define CD_PEERSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PS_TEXT_MAX	16384	/* bytes of one answer looked at */
#define PS_LINES_MAX	1024	/* lines of one answer looked at */
#define PS_ENTRIES_MAX	256	/* numeric lines kept */
#define PS_KEY_MAX	63
#define PS_VAL_MAX	31

struct ps_entry {
	char key[PS_KEY_MAX + 1];
	char val[PS_VAL_MAX + 1];
};

struct ps_stats {
	size_t n;		/* entries kept */
	size_t skipped;		/* lines looked at and not kept */
	bool truncated;		/* the text went past a limit */
	struct ps_entry e[PS_ENTRIES_MAX];
};

/* Forget everything (a poll that was not answered). */
void ps_clear(struct ps_stats *s);

/* Replace s with what text[0..len) holds (a NUL ends it early too). */
void ps_parse(struct ps_stats *s, const char *text, size_t len);

/* Set key to an unsigned value, replacing a parsed one (e.g. the
 * generation from the binary status header).  False if key is invalid or
 * there is no room. */
bool ps_set_u64(struct ps_stats *s, const char *key, uint64_t v);

/* The value kept for key, or NULL. */
const char *ps_get(const struct ps_stats *s, const char *key);

/* The parser's rules, exposed for tests. */
bool ps_key_ok(const char *k, size_t n);
bool ps_value_ok(const char *v, size_t n);

/*
 * Render s as Prometheus text for peer ("dohd" or "netjaild"): known keys
 * as named families with labels (see the table in peerstat.c), any other
 * numeric key as egressjail_<peer>_<key, '.' as '_'> (untyped), unless that
 * name is taken.  Returns a malloc'd text (free it; "" when s is empty),
 * or NULL when out of memory or peer is not [a-z]+.
 */
char *ps_render(const struct ps_stats *s, const char *peer, size_t *len);

/* Names of the families connectd renders itself for each peer; a key
 * never takes one of them. */
extern const char *const ps_reserved[];

#endif
