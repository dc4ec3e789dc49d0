/*
 * What every command's main shares: stop signals, usage, --help and
 * --version text, option tables and their value parsing, closing stdout
 * (cli.h).
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "exitcode.h"

#ifndef SM_VERSION
#define SM_VERSION "unknown"
#endif

volatile sig_atomic_t cli_stop;
static volatile sig_atomic_t cli_wake_fd = -1;

static void
cli_on_stop(int sig)
{
	int saved = errno, fd = cli_wake_fd;

	(void)sig;
	cli_stop++;
	if (fd != -1)
		(void)!write(fd, "", 1);
	errno = saved;
}

void
cli_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

void
cli_catch_stop(int wake_fd)
{
	struct sigaction sa;

	cli_wake_fd = wake_fd;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cli_on_stop;	/* no SA_RESTART: waits end early */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void
cli_progname(char *argv[])
{
	argv[0] = program_invocation_short_name;
}

int
cli_usage(int status, const struct cli_help *help)
{
	if (status == SM_EXIT_OK) {
		printf("%s - %s\n", program_invocation_short_name,
		    help->about);
		fputs(help->usage, stdout);
		if (help->options != NULL)
			printf("\noptions (the man page has the whole story):\n"
			    "%s", help->options);
		if (help->environment != NULL)
			printf("\nenvironment:\n%s", help->environment);
		return cli_close_stdout(status);
	}
	fputs(help->usage, stderr);
	return status;
}

bool
cli_name_ok(const char *s, size_t max)
{
	size_t len = strlen(s), i;

	if (len == 0 || len > max)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

int
cli_parse_number(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) ||
	    v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
cli_parse_ms(const char *s, double min, double max, int64_t *ms)
{
	double v;

	if (cli_parse_number(s, min, max, &v) == -1)
		return -1;
	*ms = (int64_t)llround(v * 1000);
	return 0;
}

int
cli_parse_count(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
cli_parse_size(const char *s, uint64_t *out, const char **why)
{
	static const char units[] = "kmgt";
	const char *u, *reason;
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	reason = "not a size: a whole number and K, M, G or T";
	if (!isdigit((unsigned char)s[0]))
		goto out_bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	reason = "too large";
	if (errno != 0)
		goto out_bad;
	if (*end != '\0') {
		reason = "unknown unit: K, M, G or T (powers of 1024)";
		if ((u = strchr(units, tolower((unsigned char)*end))) ==
		    NULL || end[1] != '\0')
			goto out_bad;
		shift = 10 * (unsigned)(u - units + 1);
	}
	/* checked before the shift, which would overflow past 2^64 */
	reason = "too large";
	if (v > CLI_SIZE_MAX >> shift)
		goto out_bad;
	*out = (uint64_t)v << shift;
	return 0;
out_bad:
	if (why != NULL)
		*why = reason;
	return -1;
}

/* The text after "want " for e's bounds, into buf. */
static void
cli_opt_want(const struct cli_opt *e, char *buf, size_t size)
{
	const char *sp = e->unit != NULL ? " " : "";
	const char *unit = e->unit != NULL ? e->unit : "";

	if (e->want != NULL)
		snprintf(buf, size, "%s", e->want);
	else if (e->count != NULL)
		snprintf(buf, size, "%lld to %lld%s%s", (long long)e->min,
		    (long long)e->max, sp, unit);
	else if (e->number != NULL || e->unit != NULL)
		snprintf(buf, size, "%.15g to %.15g%s%s", e->min, e->max, sp,
		    unit);
	else	/* %.15g: 2592000, not %g's 2.592e+06 */
		snprintf(buf, size, "seconds from %.15g to %.15g", e->min,
		    e->max);
}

int
cli_opt(const struct cli_opt *table, int ch, const char *arg)
{
	const struct cli_opt *e;
	char want[128];
	int bad = 0;

	for (e = table; e->id != 0 && e->id != ch; e++)
		;
	if (e->id == 0)
		return 0;
	if (e->count != NULL)
		bad = cli_parse_count(arg, (long long)e->min,
		    (long long)e->max, e->count);
	else if (e->ms != NULL)
		bad = cli_parse_ms(arg, e->min, e->max, e->ms);
	else if (e->number != NULL)
		bad = cli_parse_number(arg, e->min, e->max, e->number);
	else if (e->text != NULL) {
		/* not the argument: it may hold the control characters */
		if (!cli_name_ok(arg, (size_t)e->max)) {
			warnx("%s: want 1 to %zu bytes, no control characters",
			    e->name, (size_t)e->max);
			return -1;
		}
		*e->text = arg;
	} else if (e->arg != NULL)
		*e->arg = arg;
	else if (e->flag != NULL)
		*e->flag = true;
	if (bad == -1) {
		cli_opt_want(e, want, sizeof(want));
		warnx("%s: \"%s\": want %s", e->name, arg, want);
		return -1;
	}
	return 1;
}

int
cli_no_operands(int argc, char *argv[])
{
	if (optind == argc)
		return 0;
	warnx("unexpected argument \"%s\"", argv[optind]);
	return -1;
}

int
cli_version(void)
{
	printf("%s %s\n", program_invocation_short_name, SM_VERSION);
	return SM_EXIT_OK;
}

int
cli_close_stdout(int status)
{
	/* a reader that went away (EPIPE) is not a failure of ours */
	if (fclose(stdout) == EOF && errno != EPIPE) {
		warn("stdout");
		return status == SM_EXIT_OK ? SM_EXIT_PARTIAL : status;
	}
	return status;
}
