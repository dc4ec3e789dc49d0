/*
 * lib/tail.c's pieces that only its unit tests call from outside
 * (tests/unit); commands and other modules use lib/tail.h.
 */
#ifndef SM_TAIL_IMPL_H
#define SM_TAIL_IMPL_H

#include "tail.h"

/* Does row pass the filters? */
bool tail_filter_match(const struct tail_filter *f,
    const struct rowfmt_row *row);

#endif
