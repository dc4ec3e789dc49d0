/*
 * Bearer tokens in files (--token-file): the one reader the receiver
 * (sm-store --listen) and the senders (sm-post, sm-split) share, so both
 * sides read the same file the same way.
 */
#ifndef SM_TOKEN_H
#define SM_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "why.h"

#define TOKEN_MAX 4096		/* bytes */

/*
 * The token on the first line of path, surrounding white space removed:
 * 1 to TOKEN_MAX printable bytes, no space inside.  Warns when others may
 * read the file.  Returns 0 with *token allocated (wipe it with
 * explicit_bzero before freeing), or -1 with the reason in why.  The bytes
 * read are wiped either way.
 */
int token_read(const char *path, char **token, struct why *why);

/*
 * An "Authorization" header value against token: true only for "Bearer
 * TOKEN", as RFC 7235 reads it: the scheme in any case, one or more
 * spaces after it, spaces around the token ignored (the field's optional
 * white space).  The comparison takes the same time whatever the first
 * differing byte.  sm-store's token and sm-tail's /metrics token alike.
 */
bool token_bearer_ok(const char *header, const char *token);

#endif
