/* Command-line helpers every sm command shares. */
#ifndef SM_CLI_H
#define SM_CLI_H

/* Parse a decimal number of seconds (fractions allowed) within [min, max]. */
int cli_parse_seconds(const char *s, double min, double max, double *out);

/* Parse a decimal integer within [min, max]. */
int cli_parse_count(const char *s, long long min, long long max,
    long long *out);

/* Print "PROGRAM VERSION" on stdout and exit 0 (1 when stdout fails). */
void cli_version(void) __attribute__((noreturn));

/* Close stdout, reporting a failed write (full disk); exit status to use. */
int cli_close_stdout(int status);

#endif
