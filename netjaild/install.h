/*
 * install.h - put the described table into the kernel in one transaction,
 * read it back, remove it.
 */
#ifndef NJ_INSTALL_H
#define NJ_INSTALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nl.h"
#include "rules.h"

/* Elements per NEWSETELEM message: the element list nests in a 64k attr. */
#define NJ_ELEMS_PER_MSG 400

/* 1 when the table exists, 0 when not, -errno on failure. */
int install_table_exists(struct nj_nl *nl);
/* Replace the table whole: delete (if present) and add in one batch. */
int install_table(struct nj_nl *nl, const struct nj_ruleset *rs, char *err,
    size_t errlen);
/* The same, adding extra[set] elements (learned ones) to each set. */
int install_table_with(struct nj_nl *nl, const struct nj_ruleset *rs,
    const struct nj_set *extra, char *err, size_t errlen);
/* 1 removed, 0 there was none, -errno on failure. */
int install_remove(struct nj_nl *nl, char *err, size_t errlen);

/* Counter of one counted drop rule, read from the kernel. */
struct nj_counter {
	char chain[32];
	char comment[NJ_COMMENT_MAX];
	uint64_t packets, bytes;
};

struct nj_readback {
	bool whole;
	char why[256];			/* first difference when not whole */
	size_t nrules, nchains, nsets;
	size_t set_elems[NJ_SET__MAX];
	struct nj_counter *counters;
	size_t ncounters;
};

/*
 * Dump the table and compare it with rs: every chain with its hook, every
 * rule's expressions in order, every set with its flags and at least its
 * configured elements.  -errno when the dump itself failed.
 */
int install_readback(struct nj_nl *nl, const struct nj_ruleset *rs,
    struct nj_readback *rb);
void install_readback_free(struct nj_readback *rb);

#endif
