/*
 * The listening side that sm-store --listen (lib/httpd) and sm-tail
 * --listen (lib/web) share: their --listen and --max-connections options,
 * the stop signals their main threads wait for, libmicrohttpd's log, the
 * port file and the address in messages.  No libmicrohttpd here: a
 * command that only parses these options links no HTTP server.
 */
#ifndef SM_HTTPD_LISTEN_H
#define SM_HTTPD_LISTEN_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "why.h"

/*
 * "[ADDR:]PORT" (ADDR an IPv4 address, a name, or [IPv6]; default
 * 127.0.0.1; PORT 0 picks a free one) into addr.  Returns 0, or -1 with
 * the reason in why.
 */
int httpd_parse_listen(const char *spec, struct sockaddr_storage *addr,
    socklen_t *addrlen, struct why *why);

/*
 * The options sm-store --listen and sm-tail --listen share: --listen ADDR
 * (httpd_parse_listen) and --max-connections N (1 to
 * HTTPD_MAX_CONNECTIONS_MAX).  0, or -1 after saying what is wrong (the
 * caller prints its usage).
 */
#define HTTPD_MAX_CONNECTIONS_MAX 100000
int httpd_opt_listen(const char *arg, struct sockaddr_storage *addr,
    socklen_t *addrlen);
int httpd_opt_max_connections(const char *arg, long long *out);

/*
 * --max-per-address N (1 to HTTPD_MAX_CONNECTIONS_MAX): the most
 * connections open at once from one client address (IPv4, or IPv6 whole);
 * MHD closes one more at once, unanswered (MHD_OPTION_PER_IP_CONNECTION_
 * LIMIT).  0, or -1 after saying what is wrong.
 */
int httpd_opt_max_per_address(const char *arg, long long *out);

/*
 * Block the stop signals (cli_stop_signals: SIGINT, SIGTERM, SIGHUP) in
 * this thread and every thread it starts from now on, into stop: a
 * server's main thread then waits for them (sigtimedwait) while MHD's
 * threads never see them.
 */
void httpd_block_stop(sigset_t *stop);

/*
 * MHD's error log, onto stderr through warnx (MHD_OPTION_EXTERNAL_LOGGER),
 * at most RATELOG_BURST lines every RATELOG_WINDOW_MS (lib/ratelog.h): a
 * client can make MHD say something for every connection it opens.
 */
void httpd_log(void *cls, const char *fmt, va_list ap);

/*
 * After libmicrohttpd could not start on addr: why, as a bind(2) of addr
 * (as MHD binds it, SO_REUSEADDR) says, with what to do about it.
 */
void httpd_listen_failed(const struct sockaddr_storage *addr,
    socklen_t addrlen, struct why *why);

/*
 * Say how many lines httpd_log held back in a window that is over (all:
 * in the current one too, at the stop).  Called every second or so.
 */
void httpd_log_flush(bool all);

/*
 * Write port into path, whole or not at all (a temporary file renamed).
 * 0, or -1 with the reason in why.
 */
int httpd_write_port(const char *path, unsigned port, struct why *why);

/* "ADDR:PORT" or "[ADDR]:PORT" for messages, into buf. */
void httpd_describe(const struct sockaddr_storage *ss, unsigned port,
    char *buf, size_t size);

#endif
