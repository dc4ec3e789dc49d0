/*
 * lib/balance.c's pieces that only its unit tests call from outside
 * (tests/unit); commands and other modules use lib/balance.h.
 */
#ifndef SM_BALANCE_IMPL_H
#define SM_BALANCE_IMPL_H

#include "balance.h"

/* True when endpoint i may take a request now (up, or due a trial). */
bool balance_usable(const struct balance *b, int i, int64_t now);

#endif
