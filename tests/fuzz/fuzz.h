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
fuzz_check_reason(const char *why, size_t size)
{
	size_t len = strnlen(why, size);

	FUZZ_CHECK(len > 0 && len < size, "reason length %zu", len);
	FUZZ_CHECK(utf8_valid_prefix(why, len) == len,
	    "reason not UTF-8: %s", why);
	FUZZ_CHECK(memchr(why, '\n', len) == NULL, "reason spans lines: %s",
	    why);
}

#endif
