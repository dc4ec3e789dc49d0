/*
 * lib/feed.c's pieces that only its unit tests call from outside
 * (tests/unit); commands and other modules use lib/feed.h.
 */
#ifndef SM_FEED_IMPL_H
#define SM_FEED_IMPL_H

#include "feed.h"

/* The pair (host, source), or NULL. */
struct feed_pair *feed_pair_get(const struct feed *f, const char *host,
    const char *source);

/* Is the host of p (its newest row of any source) stale at now_ms? */
bool feed_pair_stale(const struct feed *f, const struct feed_pair *p,
    int64_t now_ms);

#endif
