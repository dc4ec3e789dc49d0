/*
 * lib/httpd.c's pieces that only its unit tests call from outside
 * (tests/unit); commands and other modules use lib/httpd.h.
 */
#ifndef SM_HTTPD_IMPL_H
#define SM_HTTPD_IMPL_H

#include "httpd.h"

/*
 * "[ADDR:]PORT" (ADDR an IPv4 address, a name, or [IPv6]; default
 * 127.0.0.1; PORT 0 picks a free one) into addr.  Returns 0, or -1 with
 * the reason in why.
 */
int httpd_parse_listen(const char *spec, struct sockaddr_storage *addr,
    socklen_t *addrlen, struct why *why);

/*
 * An "Authorization" header value against the token: true only for
 * "Bearer TOKEN" (scheme in any case).  The comparison takes the same time
 * whatever the first differing byte.
 */
bool httpd_token_check(const char *header, const char *token);

#endif
