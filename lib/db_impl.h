/*
 * lib/db.c's pieces that only its unit tests call from outside
 * (tests/unit); commands and other modules use lib/db.h.
 */
#ifndef SM_DB_IMPL_H
#define SM_DB_IMPL_H

#include "db.h"

/* What to do about server or client error number err. */
enum db_fault db_fault_of(unsigned err);

/* Parse an --ssl-mode name (case-insensitive); -1 when unknown. */
int db_ssl_mode_parse(const char *name, enum db_ssl_mode *mode);

/* Whether the database is on this host (a socket or loopback): no TLS. */
bool db_is_local(const struct db_config *c);

/* What to check after connecting failed with error err; NULL: nothing. */
const char *db_connect_hint(unsigned err);

/* Whether error err means the connection was lost. */
bool db_is_lost(unsigned err);

#endif
