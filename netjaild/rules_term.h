/*
 * rules_term.h - shared by rules_print.c and rules_nftnl.c, which write a
 * rule's terms through rules_term.c's table; not for the rest of netjaild.
 */
#ifndef NJ_RULES_TERM_H
#define NJ_RULES_TERM_H

#include <stdint.h>
#include <stdio.h>

#include "rules.h"

struct nftnl_rule;

/* One term as nft text (no separator) and as libnftnl expressions. */
void rules_term_print(const struct nj_term *t, FILE *out);
void rules_term_emit(struct nftnl_rule *r, const struct nj_term *t);

/* An address of family (NFPROTO_* or AF_*) as nft prints it (rules_print.c). */
void rules_print_addr(int family, const uint8_t *a, FILE *out);

#endif
