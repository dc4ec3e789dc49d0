/*
 * Interval ticks aligned to the real-time clock, and sleeping until one
 * (tick.h).
 */
#include <errno.h>
#include <time.h>

#include "tick.h"

int64_t
tick_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
tick_next(int64_t now_ns, int64_t interval_ns)
{
	if (interval_ns <= 0)
		return now_ns;
	return (now_ns / interval_ns + 1) * interval_ns;
}

int
tick_sleep_until(int64_t deadline_ns)
{
	struct timespec ts;
	int rc;

	ts.tv_sec = (time_t)(deadline_ns / 1000000000);
	ts.tv_nsec = (long)(deadline_ns % 1000000000);
	rc = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
	if (rc == EINTR)
		return -1;
	return 0;
}
