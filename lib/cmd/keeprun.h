/*
 * sm-keep's body (sm-keep(1)): connect, roll up, apply retention, and
 * with follow do it again every interval until stopped.
 */
#ifndef SM_KEEPRUN_H
#define SM_KEEPRUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "dbconf.h"
#include "keep.h"
#include "keepsize.h"

struct keeprun_config {
	const struct db_config *db;
	struct keep_config keep;
	struct keepsize_config size;	/* limits by size; 0: none */
	bool follow;		/* again every interval_ms, until stopped */
	int64_t interval_ms;
	bool verbose;		/* a line per pass even when idle */
	volatile const sig_atomic_t *stop;
};

/* Returns an SM_EXIT_* status; each failure reported on stderr. */
int keeprun(const struct keeprun_config *c);

#endif
