/*
 * Capped exponential backoff with jitter, for retrying deliveries: the
 * delay before retry round r is drawn from [d/2, d] with d = min(cap,
 * base * 2^r), so retries of many senders spread out yet never come
 * sooner than half the nominal delay.
 */
#ifndef SM_BACKOFF_H
#define SM_BACKOFF_H

#include <stdint.h>

#define BACKOFF_BASE_MS 100	/* first retry round */
#define BACKOFF_CAP_MS 10000	/* no round waits longer (Retry-After may) */

struct backoff {
	int64_t base_ms;
	int64_t cap_ms;
	uint64_t state;		/* xorshift64* state, never 0 */
};

/* Seed from getrandom(2) (a fixed seed when seed is not 0: tests). */
void backoff_init(struct backoff *b, int64_t base_ms, int64_t cap_ms,
    uint64_t seed);

/* The nominal delay of round r (0-based): min(cap, base * 2^r). */
int64_t backoff_nominal_ms(const struct backoff *b, unsigned round);

/* A jittered delay for round r, in [nominal / 2, nominal]. */
int64_t backoff_delay_ms(struct backoff *b, unsigned round);

/*
 * The wait before the next attempt: the jittered delay of round r, or the
 * receiver's Retry-After when that is longer (retry_after_s <= 0: none).
 */
int64_t backoff_wait_ms(struct backoff *b, unsigned round,
    int64_t retry_after_s);

#endif
