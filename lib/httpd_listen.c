/*
 * The listening side both HTTP servers share (httpd_listen.h): parsing
 * --listen and --max-connections, blocking the stop signals, MHD's log
 * through warnx (rate-limited: lib/ratelog), the port file, an address
 * for messages.
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "httpd_listen.h"
#include "ratelog.h"

/* MHD's log lines, one budget for the process (MHD logs from its threads) */
static pthread_mutex_t httpd_log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ratelog httpd_log_rate;

int
httpd_parse_listen(const char *spec, struct sockaddr_storage *addr,
    socklen_t *addrlen, struct why *why)
{
	struct addrinfo hints, *res;
	char host[256] = "127.0.0.1";
	const char *port = spec, *colon;
	size_t i;
	int rc;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL || end[1] != ':' ||
		    (size_t)(end - spec) - 1 >= sizeof(host))
			return why_set(why, "want [IPv6]:PORT");
		memcpy(host, spec + 1, (size_t)(end - spec) - 1);
		host[end - spec - 1] = '\0';
		port = end + 2;
	} else if ((colon = strrchr(spec, ':')) != NULL) {
		if ((size_t)(colon - spec) >= sizeof(host))
			return why_set(why, "address too long");
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
		if (strchr(host, ':') != NULL)
			return why_set(why, "an IPv6 address goes in "
			    "brackets: [ADDR]:PORT");
		if (strcmp(host, "*") == 0 || host[0] == '\0')
			strcpy(host, "0.0.0.0");
		port = colon + 1;
	}
	if (port[0] == '\0' || strlen(port) > 5)
		return why_set(why, "want [ADDR:]PORT");
	for (i = 0; port[i] != '\0'; i++)
		if (!isdigit((unsigned char)port[i]))
			return why_set(why, "port \"%s\" is not a number",
			    port);
	if (atoi(port) > 65535)
		return why_set(why, "port %s out of range", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return why_set(why, "%s: %s", host, gai_strerror(rc));
	memcpy(addr, res->ai_addr, res->ai_addrlen);
	*addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int
httpd_opt_listen(const char *arg, struct sockaddr_storage *addr,
    socklen_t *addrlen)
{
	struct why why;

	if (httpd_parse_listen(arg, addr, addrlen, &why) == 0)
		return 0;
	warnx("--listen: \"%s\": %s", arg, why.msg);
	return -1;
}

/* A count of connections, 1 to HTTPD_MAX_CONNECTIONS_MAX, for option. */
static int
httpd_opt_connections(const char *option, const char *arg, long long *out)
{
	if (cli_parse_count(arg, 1, HTTPD_MAX_CONNECTIONS_MAX, out) == 0)
		return 0;
	warnx("%s: \"%s\": want 1 to %d", option, arg,
	    HTTPD_MAX_CONNECTIONS_MAX);
	return -1;
}

int
httpd_opt_max_connections(const char *arg, long long *out)
{
	return httpd_opt_connections("--max-connections", arg, out);
}

int
httpd_opt_max_per_address(const char *arg, long long *out)
{
	return httpd_opt_connections("--max-per-address", arg, out);
}

void
httpd_block_stop(sigset_t *stop)
{
	cli_stop_signals(stop);
	pthread_sigmask(SIG_BLOCK, stop, NULL);
}

/* Say how many of MHD's lines were held back, if any. */
static void
httpd_log_held(unsigned long long held)
{
	if (held > 0)
		warnx("http: %llu more line%s like these suppressed (at most "
		    "%d every %d s)", held, held == 1 ? "" : "s",
		    RATELOG_BURST, RATELOG_WINDOW_MS / 1000);
}

void
httpd_log(void *cls, const char *fmt, va_list ap)
{
	unsigned long long held;
	char buf[512];
	size_t len;
	bool ok;

	(void)cls;
	pthread_mutex_lock(&httpd_log_lock);
	ok = ratelog_take(&httpd_log_rate, clock_mono_ms(), &held);
	pthread_mutex_unlock(&httpd_log_lock);
	httpd_log_held(held);
	if (!ok)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* of the port it was given (0 with an address): httpd_listen_failed */
	if (strncmp(buf, "Failed to bind to port ", 23) == 0)
		return;
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	warnx("http: %s", buf);
}

void
httpd_listen_failed(const struct sockaddr_storage *addr, socklen_t addrlen,
    struct why *why)
{
	int fd, on = 1, e = 0;

	if ((fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) == -1) {
		why_set(why, "cannot listen: socket: %s", strerror(errno));
		return;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (const struct sockaddr *)addr, addrlen) == -1)
		e = errno;
	close(fd);
	if (e == EADDRINUSE)
		why_set(why, "cannot listen: the port is in use by another "
		    "program (ss -ltnp shows which); stop it or choose "
		    "another port (0: any free one)");
	else if (e == EADDRNOTAVAIL)
		why_set(why, "cannot listen: no interface of this host has "
		    "that address");
	else if (e == EACCES)
		why_set(why, "cannot listen: %s (a port below 1024 needs "
		    "privilege)", strerror(e));
	else if (e != 0)
		why_set(why, "cannot listen: %s", strerror(e));
	else
		why_set(why, "cannot listen (libmicrohttpd could not start; "
		    "see its message above)");
}

void
httpd_log_flush(bool all)
{
	unsigned long long held;

	pthread_mutex_lock(&httpd_log_lock);
	held = ratelog_flush(&httpd_log_rate, clock_mono_ms(), all);
	pthread_mutex_unlock(&httpd_log_lock);
	httpd_log_held(held);
}

int
httpd_write_port(const char *path, unsigned port, struct why *why)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path,
	    (long)getpid()) >= (int)sizeof(tmp))
		return why_set(why, "%s: name too long", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return why_set(why, "%s: %s", tmp, strerror(errno));
	fprintf(f, "%u\n", port);
	if (fclose(f) == EOF) {
		unlink(tmp);
		return why_set(why, "%s: %s", tmp, strerror(errno));
	}
	/* all at once: a reader never sees half a number */
	if (rename(tmp, path) == -1) {
		unlink(tmp);
		return why_set(why, "%s: %s", path, strerror(errno));
	}
	return 0;
}

void
httpd_describe(const struct sockaddr_storage *ss, unsigned port, char *buf,
    size_t size)
{
	char host[NI_MAXHOST];

	if (getnameinfo((const struct sockaddr *)ss, sizeof(*ss), host,
	    sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
		strcpy(host, "?");
	snprintf(buf, size, ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	    host, port);
}
