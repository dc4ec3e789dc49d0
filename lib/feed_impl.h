/*
 * lib/feed.c's pieces that only its unit tests call from outside
 * (tests/unit); commands and other modules use lib/feed.h.
 */
#ifndef SM_FEED_IMPL_H
#define SM_FEED_IMPL_H

#include "feed.h"

/* Is the host of pairs[i] stale at now_ms? */
bool feed_pair_stale(const struct feed *f, size_t i, int64_t now_ms);

#endif
