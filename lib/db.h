/*
 * Connecting to the MySQL/MariaDB server, in one place for every command,
 * from a struct db_config (lib/dbconf.h): time-outs, TLS, and a UTC
 * session.  Also: which server errors mean "reconnect and retry".
 *
 * The caller runs mysql_library_init() once before and mysql_library_end()
 * once after; threads other than the main one call mysql_thread_init().
 */
#ifndef SM_DB_H
#define SM_DB_H

#include <mysql.h>

#include "dbconf.h"
#include "why.h"

/*
 * Connect: a session with autocommit on, utf8mb4, time_zone '+00:00' and
 * strict SQL mode.  Returns the handle, or NULL with the reason in why and
 * the kind of failure in *fault.
 */
MYSQL *db_connect(const struct db_config *c, struct why *why,
    enum db_fault *fault);

/*
 * Whether the server takes writes as a cluster member: a Galera node
 * outside the primary component, or joining, answers every statement
 * with error 1047 while its connections stay open.  DB_FAULT_NONE when
 * ready (or not a Galera node), DB_FAULT_CONNECTION with the state in why.
 */
enum db_fault db_node_ready(MYSQL *m, struct why *why);

/* The fault and "message (errno)" of the last error on m, into why. */
enum db_fault db_error(MYSQL *m, const char *what, struct why *why);

/* As db_error, for a prepared statement. */
enum db_fault db_stmt_error(MYSQL_STMT *st, const char *what, struct why *why);

#endif
