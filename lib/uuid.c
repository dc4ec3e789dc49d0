/*
 * UUIDv7 identifiers from the clock and random bytes, and checking the
 * textual form (uuid.h).
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "timefmt.h"
#include "uuid.h"

/* Random bytes from getrandom(2), fetched in blocks to save system calls. */
static int
uuid_random(unsigned char *out, size_t n)
{
	static unsigned char pool[256];
	static size_t avail;

	while (n > 0) {
		size_t take;

		if (avail == 0) {
			ssize_t got = getrandom(pool, sizeof(pool), 0);

			if (got < 0) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			avail = (size_t)got;
		}
		take = n < avail ? n : avail;
		memcpy(out, pool + sizeof(pool) - avail, take);
		/* never hand out the same bytes twice */
		memset(pool + sizeof(pool) - avail, 0, take);
		avail -= take;
		out += take;
		n -= take;
	}
	return 0;
}

/*
 * The 16 bytes as 8-4-4-4-12 lower-case hex digits: by table, not
 * snprintf, whose 16 conversions cost as much as the rest of a line's
 * handling in sm-post (a record without an id gets one).
 */
static void
uuid_format(const unsigned char b[16], char out[UUID_STR_LEN])
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	char *p = out;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[b[i] >> 4];
		*p++ = hex[b[i] & 0xf];
	}
	*p = '\0';
}

int
uuid7_generate_at(int64_t ms, char out[UUID_STR_LEN])
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static int64_t last_ms = -1;
	static unsigned counter;	/* 12 bits: rand_a */
	unsigned char b[16];
	unsigned char r[10];
	unsigned seq;

	pthread_mutex_lock(&lock);
	if (uuid_random(r, sizeof(r)) == -1) {
		pthread_mutex_unlock(&lock);
		return -1;
	}
	if (ms > last_ms) {
		last_ms = ms;
		/* seed below the midpoint so the counter has room to grow */
		counter = ((unsigned)r[0] << 8 | r[1]) & 0x7ff;
	} else if (++counter > 0xfff) {
		/* counter exhausted: borrow the next millisecond */
		last_ms++;
		counter = 0;
	}
	ms = last_ms;
	seq = counter;
	pthread_mutex_unlock(&lock);
	b[0] = (unsigned char)(ms >> 40);
	b[1] = (unsigned char)(ms >> 32);
	b[2] = (unsigned char)(ms >> 24);
	b[3] = (unsigned char)(ms >> 16);
	b[4] = (unsigned char)(ms >> 8);
	b[5] = (unsigned char)ms;
	b[6] = (unsigned char)(0x70 | (seq >> 8));
	b[7] = (unsigned char)seq;
	memcpy(b + 8, r + 2, 8);
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
	uuid_format(b, out);
	return 0;
}

int
uuid7_generate(char out[UUID_STR_LEN])
{
	return uuid7_generate_at(timefmt_now_ms(), out);
}

bool
uuid_is_valid(const char *s)
{
	int i;

	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return s[36] == '\0';
}
