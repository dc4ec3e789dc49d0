/* The one monotonic clock every module measures intervals and deadlines by. */
#ifndef SM_CLOCK_H
#define SM_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC: never jumps with the wall clock. */
int64_t clock_mono_ms(void);

#endif
