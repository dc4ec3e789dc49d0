/*
 * lib/binlog.c's pieces that only its unit tests call from outside
 * (tests/unit); commands and other modules use lib/binlog.h.
 */
#ifndef SM_BINLOG_IMPL_H
#define SM_BINLOG_IMPL_H

#include "binlog.h"

/*
 * Decode one row image of the columns cols (n of them; present: the
 * rows event's column bitmap) at p (end: the end of the event's rows)
 * into out; *used gets the bytes it took.  Exposed for the unit tests.
 * 0, -1 when a value cannot be read (the rest of the event neither; why),
 * or 1 when this row alone is wrong (out->ok false).
 */
int binlog_decode_row(const struct binlog *b, const struct binlog_col *cols,
    size_t n, const unsigned char *present, const unsigned char *p,
    const unsigned char *end, struct binlog_row *out, char *text,
    size_t *used, struct why *why);

#endif
