/*
 * sm-post's and sm-split's shared main body: options parsed, checked,
 * then the delivery run (postmain.h).
 */
#include <err.h>
#include <getopt.h>

#include <curl/curl.h>

#include "cli.h"
#include "exitcode.h"
#include "postmain.h"

int
postmain_run(const struct postmain *pm, struct deliver_opts *o, int argc,
    char *argv[])
{
	struct why why;
	int ch, status;

	while ((ch = getopt_long(argc, argv, "H:h", pm->longopts,
	    NULL)) != -1) {
		switch (ch) {
		case DELIVER_OPT_VERSION:
			return cli_version();
		case 'h':
			pm->usage(SM_EXIT_OK);
		case '?':
			pm->usage(SM_EXIT_USAGE);
		default:
			if (deliver_opt(o, ch, optarg, &why) == -1) {
				warnx("%s", why.msg);
				pm->usage(SM_EXIT_USAGE);
			}
		}
	}
	o->urls = argv + optind;
	o->nurls = argc - optind;
	if (o->nurls < pm->min_urls) {
		warnx("%s", pm->few);
		pm->usage(SM_EXIT_USAGE);
	}
	if (pm->max_urls > 0 && o->nurls > pm->max_urls) {
		warnx("%s", pm->many);
		pm->usage(SM_EXIT_USAGE);
	}
	/* before deliver_opts_check, whose URL checks use libcurl */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		warnx("cannot initialise libcurl");
		return SM_EXIT_UNAVAILABLE;
	}
	if (deliver_opts_check(o, &why) == -1) {
		warnx("%s", why.msg);
		curl_global_cleanup();
		pm->usage(SM_EXIT_USAGE);
	}
	deliver_opts_output(o);
	status = deliver_command(o);
	curl_global_cleanup();
	return status;
}
