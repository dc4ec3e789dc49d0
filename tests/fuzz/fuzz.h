/*
 * Shared by the libFuzzer targets: a property that does not hold is a
 * crash (abort), so libFuzzer saves the input that broke it, exactly as for
 * a sanitizer report.
 */
#ifndef SM_FUZZ_H
#define SM_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "why.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s: ",		\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

/* A reason must be one line of printable, valid UTF-8 text. */
static inline void
fuzz_check_reason(const struct why *why)
{
	size_t len = strnlen(why->msg, sizeof(why->msg));

	FUZZ_CHECK(len > 0 && len < sizeof(why->msg), "reason length %zu", len);
	FUZZ_CHECK(utf8_valid_prefix(why->msg, len) == len,
	    "reason not UTF-8: %s", why->msg);
	FUZZ_CHECK(memchr(why->msg, '\n', len) == NULL,
	    "reason spans lines: %s", why->msg);
}

#endif
