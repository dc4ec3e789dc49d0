/*
 * Interval ticks aligned to the real-time clock: tick k of interval T falls
 * on a multiple of T since the epoch, so a long run never drifts and hosts
 * sampling with the same T sample at the same instants.
 */
#ifndef SM_TICK_H
#define SM_TICK_H

#include <stdint.h>

/* The first multiple of interval_ns strictly after now_ns. */
int64_t tick_next(int64_t now_ns, int64_t interval_ns);

/* Sleep until the real-time clock reaches deadline_ns; -1 on EINTR. */
int tick_sleep_until(int64_t deadline_ns);

/* CLOCK_REALTIME in nanoseconds. */
int64_t tick_now_ns(void);

#endif
