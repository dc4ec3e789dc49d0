/* UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits. */
#ifndef SM_UUID_H
#define SM_UUID_H

#include <stdbool.h>
#include <stdint.h>

#define UUID_STR_LEN 37		/* 36 characters and NUL */

/*
 * Write a new UUIDv7 in canonical lower-case form.  Identifiers made by one
 * process are strictly increasing, even within one millisecond (RFC 9562,
 * 6.2, method 1: rand_a is a counter seeded at random each millisecond).
 * Returns 0, or -1 with errno set when getrandom(2) fails.
 */
int uuid7_generate(char out[UUID_STR_LEN]);

/* As uuid7_generate, for a given time in milliseconds (used by tests). */
int uuid7_generate_at(int64_t ms, char out[UUID_STR_LEN]);

/* True when s is a UUID in the 8-4-4-4-12 hexadecimal form (any version). */
bool uuid_is_valid(const char *s);

#endif
