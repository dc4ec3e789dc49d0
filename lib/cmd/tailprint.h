/*
 * sm-tail without --dashboard or --listen: the history, and with -f the
 * new rows, printed on stdout (lib/rowfmt.h's formats), following through
 * lib/followrun.h.
 */
#ifndef SM_TAILPRINT_H
#define SM_TAILPRINT_H

#include <signal.h>
#include <stdint.h>

#include "rowfmt.h"
#include "tail.h"

/*
 * Print the history and, with cfg->follow, new rows every interval_ms
 * until *stop, in format kind on stdout.  Diagnostics go to stderr.
 * Returns the exit status.
 */
int tail_print(const struct tail_config *cfg, enum rowfmt_kind kind,
    int64_t interval_ms, volatile sig_atomic_t *stop);

#endif
