/* The one monotonic clock every module measures intervals and deadlines by. */
#ifndef SM_CLOCK_H
#define SM_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC: never jumps with the wall clock. */
int64_t clock_mono_ms(void);

/* Microseconds on the same clock, to time what takes less than one. */
int64_t clock_mono_us(void);

/*
 * A condition variable whose pthread_cond_timedwait deadlines are on
 * CLOCK_MONOTONIC (a wall clock stepped back does not stall the wait);
 * 0, or an error number.
 */
int clock_cond_init(pthread_cond_t *cv);

/* The deadline ms (clock_mono_ms) as such a wait wants it. */
struct timespec clock_mono_timespec(int64_t ms);

#endif
