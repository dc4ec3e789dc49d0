/*
 * lib/httpd.c's pieces that only its unit tests call from outside
 * (tests/unit); commands and other modules use lib/httpd.h.
 */
#ifndef SM_HTTPD_IMPL_H
#define SM_HTTPD_IMPL_H

#include "httpd.h"

/*
 * An "Authorization" header value against the token: true only for
 * "Bearer TOKEN" (scheme in any case).  The comparison takes the same time
 * whatever the first differing byte.
 */
bool httpd_token_check(const char *header, const char *token);

#endif
