/*
 * lib/procfs.c's pieces that only its unit tests call from outside
 * (tests/unit); commands and other modules use lib/procfs.h.
 */
#ifndef SM_PROCFS_IMPL_H
#define SM_PROCFS_IMPL_H

#include "procfs.h"

/* Add one process in state letter st to the census. */
void census_count(struct census *c, char st);

#endif
