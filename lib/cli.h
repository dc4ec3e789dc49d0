/* Command-line helpers every sm command shares. */
#ifndef SM_CLI_H
#define SM_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How many stop signals the handler cli_catch_stop installs has seen. */
extern volatile sig_atomic_t cli_stop;

/*
 * How a command that reads and polls stops: SIGINT, SIGTERM and SIGHUP
 * each add one to cli_stop and, when wake_fd is not -1, write a byte to it (the
 * write end of a non-blocking pipe that a poll loop watches).  Installed
 * without SA_RESTART so that sleeps and waits end early; SIGPIPE is
 * ignored (a closed reader shows up as EPIPE where the write fails).
 * Called again, it only changes wake_fd (-1: none).  The --listen servers
 * block the same signals instead and wait for them (cli_stop_signals).
 */
void cli_catch_stop(int wake_fd);

/* The same signals as a set, for a command that sigwait()s for them. */
void cli_stop_signals(sigset_t *set);

/*
 * Make argv[0] the program's name as err(3) and warnx(3) give it (the base
 * name, program_invocation_short_name), so that getopt's complaints say
 * "sm-read:" too and not "bin/sm-read:".  Called first in main.
 */
void cli_progname(char *argv[]);

/* What --help prints, and a usage error the usage lines of. */
struct cli_help {
	const char *about;	/* what it does: the man page's NAME line */
	const char *usage;	/* the usage lines */
	const char *options;	/* a line per option; NULL: none */
	const char *environment; /* a line per variable; NULL: none */
};

/*
 * Print the usage: for --help (status 0) on stdout, after a line
 * "PROGRAM - ABOUT" and followed by the options and the environment, then
 * close stdout; for a usage error (status SM_EXIT_USAGE) the usage lines
 * alone on stderr.  Returns the status for main to exit with.
 */
int cli_usage(int status, const struct cli_help *help);

/* A name stored or compared whole: 1 to max bytes, no control characters. */
bool cli_name_ok(const char *s, size_t max);

/* Parse a decimal number (fractions allowed) within [min, max]. */
int cli_parse_number(const char *s, double min, double max, double *out);

/*
 * Parse a duration given in decimal seconds (fractions allowed) within
 * [min, max] seconds, into milliseconds (rounded to the nearest).
 */
int cli_parse_ms(const char *s, double min, double max, int64_t *ms);

/* Parse a decimal integer within [min, max]. */
int cli_parse_count(const char *s, long long min, long long max,
    long long *out);

/* The largest size cli_parse_size takes: 1 EiB. */
#define CLI_SIZE_MAX (1ULL << 60)

/*
 * Parse a size in bytes: "65536", or with K, M, G or T (powers of 1024,
 * either case) as "512M"; at most CLI_SIZE_MAX.  0, or -1 with the
 * reason in *why (when why is not NULL).
 */
int cli_parse_size(const char *s, uint64_t *out, const char **why);

/*
 * One entry of a command's option table (cli_opt): the option's argument
 * goes to the one destination the entry sets, checked as its kind wants.
 * The table ends with an entry whose id is 0.
 */
struct cli_opt {
	int id;			/* getopt_long's value for the option */
	const char *name;	/* as messages name it: "--batch", "-n" */
	long long *count;	/* a decimal integer from min to max */
	/* a duration: decimal seconds from min to max, kept in ms */
	int64_t *ms;
	double *number;		/* a decimal number (fractions), min to max */
	const char **text;	/* 1 to max bytes, no control characters */
	const char **arg;	/* the argument as given (a file name) */
	bool *flag;		/* no argument: set when given */
	/* a count's bounds must be exact as doubles (below 2^53, or 2^62) */
	double min, max;
	/* "want MIN to MAX UNIT" (counts and numbers: optional) */
	const char *unit;
	const char *want;	/* the whole text after "want " instead */
};

/*
 * Apply getopt_long's ch and its argument by the table: 1 when the table
 * has ch, 0 when it has not, -1 after a warning that names the option,
 * the argument and what it wants (the caller then prints its usage).
 * Without unit or want, a count or number wants "MIN to MAX" and a
 * duration "seconds from MIN to MAX".
 */
int cli_opt(const struct cli_opt *table, int ch, const char *arg);

/* -1 after a warning when operands follow the options (getopt's optind). */
int cli_no_operands(int argc, char *argv[]);

/*
 * Print "PROGRAM VERSION" on stdout; SM_EXIT_OK for main to exit with
 * once it closed stdout (cli_close_stdout).
 */
int cli_version(void);

/* Close stdout, reporting a failed write (full disk); exit status to use. */
int cli_close_stdout(int status);

#endif
