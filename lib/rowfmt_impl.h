/*
 * lib/rowfmt.c's pieces that only its unit tests call from outside
 * (tests/unit); commands and other modules use lib/rowfmt.h.
 */
#ifndef SM_ROWFMT_IMPL_H
#define SM_ROWFMT_IMPL_H

#include "rowfmt.h"

/* The table's header line (with its newline). */
int rowfmt_header(char *buf, size_t size);

#endif
