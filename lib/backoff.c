/*
 * Capped exponential backoff with jitter: the delay before each retry
 * round (backoff.h).
 */
#include <sys/random.h>
#include <time.h>

#include "backoff.h"

void
backoff_init(struct backoff *b, int64_t base_ms, int64_t cap_ms,
    uint64_t seed)
{
	b->base_ms = base_ms > 0 ? base_ms : 1;
	b->cap_ms = cap_ms >= b->base_ms ? cap_ms : b->base_ms;
	if (seed == 0 && getrandom(&seed, sizeof(seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(seed)) {
		struct timespec ts;

		/* jitter only spreads load: the clock is random enough */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
	}
	b->state = seed != 0 ? seed : 0x9e3779b97f4a7c15ULL;
}

int64_t
backoff_nominal_ms(const struct backoff *b, unsigned round)
{
	int64_t d = b->base_ms;

	while (round-- > 0 && d < b->cap_ms)
		d *= 2;
	return d < b->cap_ms ? d : b->cap_ms;
}

/* xorshift64* (Vigna): fast, and plenty for jitter. */
static uint64_t
backoff_random(struct backoff *b)
{
	b->state ^= b->state >> 12;
	b->state ^= b->state << 25;
	b->state ^= b->state >> 27;
	return b->state * 0x2545f4914f6cdd1dULL;
}

int64_t
backoff_delay_ms(struct backoff *b, unsigned round)
{
	int64_t d = backoff_nominal_ms(b, round);
	uint64_t span = (uint64_t)(d - d / 2) + 1;

	return d / 2 + (int64_t)(backoff_random(b) % span);
}

int64_t
backoff_wait_ms(struct backoff *b, unsigned round, int64_t retry_after_s)
{
	int64_t d = backoff_delay_ms(b, round);

	/* bound the receiver's wish so a huge value cannot overflow */
	if (retry_after_s > 86400)
		retry_after_s = 86400;
	if (retry_after_s > 0 && retry_after_s * 1000 > d)
		d = retry_after_s * 1000;
	return d;
}
