/*
 * Strict UTF-8 (RFC 3629): the valid prefix of a buffer, a copy with bad
 * bytes replaced by U+FFFD, for JSON written from bad input, and a copy
 * escaped for a message (utf8.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

size_t
utf8_valid_prefix(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t off = 0, n;

	while (off < len) {
		/* ASCII runs are the common case: eight bytes at a time */
		if (len - off >= 8) {
			uint64_t w;

			memcpy(&w, p + off, sizeof(w));
			if ((w & 0x8080808080808080ULL) == 0) {
				off += 8;
				continue;
			}
		}
		if (p[off] < 0x80) {
			off++;
			continue;
		}
		if ((n = utf8_seq(p + off, len - off)) == 0)
			return off;
		off += n;
	}
	return len;
}

char *
utf8_sanitize(const char *s, size_t len, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t off = 0, o = 0, n;
	char *out;

	/* at worst every byte becomes three */
	if (len > (SIZE_MAX - 1) / 3 || (out = malloc(len * 3 + 1)) == NULL)
		return NULL;
	while (off < len) {
		if ((n = utf8_seq(p + off, len - off)) == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			off++;
			continue;
		}
		memcpy(out + o, p + off, n);
		o += n;
		off += n;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

char *
utf8_escape(const char *s, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, used = 0, n;
	char piece[5];

	while (i < len) {
		n = utf8_seq(p + i, len - i);
		if (p[i] < 0x20 || p[i] == 0x7f || n == 0) {
			snprintf(piece, sizeof(piece), "\\x%02x", p[i]);
			n = 1;
		} else if (p[i] == '\\' || p[i] == '"') {
			snprintf(piece, sizeof(piece), "\\%c", p[i]);
		} else {
			memcpy(piece, s + i, n);
			piece[n] = '\0';
		}
		if (used + strlen(piece) >= size)
			break;
		memcpy(out + used, piece, strlen(piece));
		used += strlen(piece);
		i += n;
	}
	out[used] = '\0';
	return out;
}
