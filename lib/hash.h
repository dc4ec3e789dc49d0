/*
 * FNV-1a, 64 bits, of a string: the hash of the tables keyed by host
 * name (lib/alert's hosts, lib/feed's pairs).  Host names are short, and
 * this is cheap for them.
 */
#ifndef SM_HASH_H
#define SM_HASH_H

#include <stdint.h>

static inline uint64_t
hash_string(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

#endif
