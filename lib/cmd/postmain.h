/*
 * The one main body of sm-post and sm-split, the two senders over the
 * delivery engine (lib/deliver.h).  Each command keeps its usage, its
 * option table and its defaults, and says how many URLs it takes; this
 * parses the options, checks them and runs the delivery.
 */
#ifndef SM_POSTMAIN_H
#define SM_POSTMAIN_H

#include <getopt.h>

#include "deliver.h"

/* --help's environment lines of both: libcurl reads the proxy variables */
#define POSTMAIN_HELP_ENVIRONMENT \
	"  http_proxy, HTTPS_PROXY, ALL_PROXY, NO_PROXY (or lower case)\n" \
	"                         libcurl's proxy settings, as curl(1)'s\n"

struct postmain {
	/* values: enum deliver_opt_id, and 'h' for --help */
	const struct option *longopts;
	/* the command's usage(): prints and exits with the status */
	void (*usage)(int status) __attribute__((noreturn));
	int min_urls;			/* fewer: warn few */
	/* more: warn many; 0: deliver's limit */
	int max_urls;
	const char *few, *many;
};

/*
 * Parse argv into o (deliver_opts_init'ed, with the command's defaults),
 * check it and deliver standard input; returns the exit status.
 */
int postmain_run(const struct postmain *pm, struct deliver_opts *o,
    int argc, char *argv[]);

#endif
