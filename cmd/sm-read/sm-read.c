/*
 * sm-read: sample the host's CPU, memory and process states and write one
 * NDJSON record per sample on stdout.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "exitcode.h"
#include "record.h"
#include "sample.h"
#include "tick.h"

static const struct cli_help help = {
	.about = "sample CPU, memory and process states as NDJSON records",
	.usage =
	    "usage: sm-read [-h] [-i seconds] [-n count] "
	    "[--backend auto|procfs|kmod]\n"
	    "               [--cpu-window seconds] "
	    "[--dialect canonical|seed] [--host name]\n"
	    "               [--proc-root dir] [--state file] [--version]\n",
	.options =
	    "  -i seconds             a sample every this often "
	    "(clock-aligned)\n"
	    "  -n count               this many samples, then exit "
	    "(0: no end)\n"
	    "  --backend name         auto, procfs or kmod (/proc/sm)\n"
	    "  --cpu-window seconds   the first sample's CPU window (0.25)\n"
	    "  --dialect name         canonical or seed (Spanish keys)\n"
	    "  --host name            the host field (gethostname)\n"
	    "  --proc-root dir        read this instead of /proc\n"
	    "  --state file           CPU counters kept between runs\n"
	    "  --version              the version\n",
};

static void __attribute__((noreturn))
usage(int status)
{
	exit(cli_usage(status, &help));
}

/* Write one line; false when the reader has gone (EPIPE). */
static bool
emit(const char *line, size_t len)
{
	if (fwrite(line, 1, len, stdout) != len || fflush(stdout) == EOF) {
		if (errno == EPIPE)
			return false;
		err(SM_EXIT_PARTIAL, "stdout");
	}
	return true;
}

#ifndef SM_NO_MAIN
int
main(int argc, char *argv[])
{
	enum { OPT_BACKEND = 256, OPT_CPU_WINDOW, OPT_DIALECT, OPT_HOST,
	    OPT_PROC_ROOT, OPT_STATE, OPT_VERSION };
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "count", required_argument, NULL, 'n' },
		{ "cpu-window", required_argument, NULL, OPT_CPU_WINDOW },
		{ "dialect", required_argument, NULL, OPT_DIALECT },
		{ "help", no_argument, NULL, 'h' },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "interval", required_argument, NULL, 'i' },
		{ "proc-root", required_argument, NULL, OPT_PROC_ROOT },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	const char *backend = "auto", *proc_root = "/proc", *state = NULL;
	const char *host_opt = NULL;
	char host[RECORD_HOST_MAX + 1] = "";
	struct why why;
	char line[4096];
	enum record_dialect dialect = RECORD_CANONICAL;
	int64_t interval_ms = -1, cpu_window_ms = SAMPLE_CPU_WINDOW_MS_DEFAULT;
	long long count = -1, i;
	struct sampler sampler;
	int64_t next_ns, last_ns = 0;
	int ch, status = SM_EXIT_OK;
	const struct cli_opt opts[] = {
		{ 'n', "-n", .count = &count, .min = 0, .max = 1LL << 62,
		    .want = "a count, 0 for no end" },
		{ OPT_CPU_WINDOW, "--cpu-window", .ms = &cpu_window_ms,
		    .min = 0.01, .max = 60 },
		{ OPT_HOST, "--host", .text = &host_opt,
		    .max = RECORD_HOST_MAX },
		{ 'i', "-i", .ms = &interval_ms, .min = 0, .max = 86400 },
		{ OPT_PROC_ROOT, "--proc-root", .arg = &proc_root },
		{ OPT_STATE, "--state", .arg = &state },
		{ 0 }
	};

	cli_progname(argv);
	while ((ch = getopt_long(argc, argv, "hi:n:", longopts, NULL)) != -1) {
		switch (cli_opt(opts, ch, optarg)) {
		case 1:
			continue;
		case -1:
			usage(SM_EXIT_USAGE);
		}
		switch (ch) {
		case OPT_BACKEND:
			if (strcmp(optarg, "auto") != 0 &&
			    strcmp(optarg, "procfs") != 0 &&
			    strcmp(optarg, "kmod") != 0) {
				warnx("--backend: \"%s\": want auto, procfs "
				    "or kmod", optarg);
				usage(SM_EXIT_USAGE);
			}
			backend = optarg;
			break;
		case OPT_DIALECT:
			if (record_dialect_parse(optarg, &dialect) == -1) {
				warnx("--dialect: \"%s\": want canonical or "
				    "seed", optarg);
				usage(SM_EXIT_USAGE);
			}
			break;
		case OPT_VERSION:
			return cli_close_stdout(cli_version());
		case 'h':
			usage(SM_EXIT_OK);
		default:
			usage(SM_EXIT_USAGE);
		}
	}
	if (cli_no_operands(argc, argv) == -1)
		usage(SM_EXIT_USAGE);
	if (host_opt != NULL)
		snprintf(host, sizeof(host), "%s", host_opt);
	/* like vmstat: one sample, unless an interval asks for a stream */
	if (count < 0)
		count = interval_ms < 0 ? 1 : 0;
	if (interval_ms < 0)
		interval_ms = 1000;
	if (host[0] == '\0' && gethostname(host, sizeof(host) - 1) == -1)
		err(SM_EXIT_USAGE, "gethostname");

	if (sampler_init(&sampler, proc_root, backend, host, cpu_window_ms,
	    &why) == -1)
		errx(strcmp(backend, "kmod") == 0 ? SM_EXIT_UNAVAILABLE :
		    SM_EXIT_USAGE, "%s", why.msg);
	if (state != NULL) {
		int got = sampler_state_load(&sampler, state, &why);

		if (got == -1)
			errx(SM_EXIT_USAGE, "--state: %s", why.msg);
		if (got == 0 && why.msg[0] != '\0')
			warnx("--state: %s; measuring over %.2f s instead",
			    why.msg, (double)cpu_window_ms / 1000);
	}
	cli_catch_stop(-1);

	for (i = 0; (count == 0 || i < count) && !cli_stop; i++) {
		struct record rec;
		int len;

		if (i > 0) {
			int64_t step = interval_ms * 1000000;

			next_ns = tick_next(tick_now_ns(), step);
			/* a CPU figure over a sliver of a tick says little */
			if (next_ns - last_ns < step / 2)
				next_ns += step;
			if (tick_sleep_until(next_ns) == -1 && cli_stop)
				break;
		}
		if (sampler_take(&sampler, &rec, &why) == -1) {
			warnx("%s", why.msg);
			status = SM_EXIT_PARTIAL;
			break;
		}
		if ((len = record_format(&rec, dialect, line,
		    sizeof(line))) == -1)
			errx(SM_EXIT_PARTIAL, "cannot format a record");
		last_ns = tick_now_ns();
		if (!emit(line, (size_t)len))
			break;
	}
	if (state != NULL && sampler_state_save(&sampler, state, &why) == -1) {
		warnx("--state: %s", why.msg);
		status = SM_EXIT_PARTIAL;
	}
	return cli_close_stdout(status);
}
#endif
