/*
 * Strict UTF-8 (RFC 3629).  json-c's own check lets overlong forms and
 * UTF-16 surrogates through, which the database then refuses or, worse,
 * stores as mojibake; every input path checks with this instead.
 */
#ifndef SM_UTF8_H
#define SM_UTF8_H

#include <stddef.h>

/*
 * The length of the valid sequence at s[0] (n bytes left), or 0 when it is
 * not one.  The second byte's range rules out overlong forms (E0, F0),
 * surrogates (ED) and code points past U+10FFFF (F4), as in RFC 3629's
 * grammar.
 */
size_t utf8_seq(const unsigned char *s, size_t n);

/*
 * The length of the longest valid UTF-8 prefix of s (len bytes): len when
 * all of s is valid, else the offset of the first byte of the first bad
 * sequence.  Overlong forms, surrogates (U+D800-U+DFFF), code points past
 * U+10FFFF and sequences cut short are bad; NUL is valid.
 */
size_t utf8_valid_prefix(const char *s, size_t len);

/*
 * A copy of s with each byte that is not part of a valid sequence replaced
 * by U+FFFD, NUL-terminated, its length in *outlen; NULL when out of
 * memory.  For writing text that must be JSON (a reject file) when the
 * input was not UTF-8.
 */
char *utf8_sanitize(const char *s, size_t len, size_t *outlen);

/*
 * s for a message, between double quotes: valid UTF-8 as it is (cpú),
 * control bytes, DEL and bytes of no valid sequence as \xNN, a backslash
 * and a double quote escaped (\\, \"): the message stays one line of
 * UTF-8 that shows what was given.  Cut at a character to fit size (the
 * NUL included; size > 0).  Returns out.
 */
char *utf8_escape(const char *s, char *out, size_t size);

#endif
