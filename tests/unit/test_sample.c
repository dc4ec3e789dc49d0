/* Unit tests for lib/sample.c: records from a fixture tree, state files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"

#include "sample.h"
#include "timefmt.h"

#define BOOT_A "6f1c4e2a-0d57-4b57-9a2b-3f8f0e6c1a11"
#define BOOT_B "0b7c5b7e-3a9f-4c1e-8d2a-9e4f5a6b7c8d"

static char statefile[96];

/* A minimal writable proc tree whose CPU counters a test can move. */
static int
setup(void **state)
{
	if (fixture_new(state) == -1 || fixture_dir("sys") == -1 ||
	    fixture_dir("sys/kernel") == -1 ||
	    fixture_dir("sys/kernel/random") == -1)
		return -1;
	put("sys/kernel/random/boot_id", BOOT_A "\n");
	put("meminfo", "MemTotal: 2048 kB\nMemFree: 1024 kB\n"
	    "MemAvailable: 1536 kB\n");
	put("loadavg", "0 0 0 1/7 1\n");
	put("stat", "cpu  100 0 100 700 100 0 0 0 0 0\n");
	snprintf(statefile, sizeof(statefile), "%s/state", root);
	return 0;
}

static void
test_fixture_record(void **state)
{
	struct sampler s;
	struct record r;
	struct why why;
	int64_t before = timefmt_now_ms();

	(void)state;
	assert_int_equal(sampler_init(&s, FIX "proc-basic", "auto", "fixture",
	    10, &why), 0);
	assert_string_equal(s.backend->name, "procfs");
	assert_int_equal(sampler_take(&s, &r, &why), 0);
	assert_true(uuid_is_valid(r.id));
	assert_true(r.ts_ms >= before && r.ts_ms <= timefmt_now_ms());
	assert_string_equal(r.host, "fixture");
	assert_string_equal(r.collector, "procfs");
	/* the fixture's counters never move: no busy time, never since boot */
	assert_true(r.cpu_usage == 0 && r.cpu_free == 100);
	assert_int_equal(r.ram_total, 3913);
	assert_int_equal(r.ram_free, 2413);
	assert_int_equal(r.ram_available, 2413);
	assert_int_equal(r.ram_used, 1500);
	assert_true(r.ram_percentage > 38.33 && r.ram_percentage < 38.34);
	assert_int_equal(r.total_processes, 10);
	assert_int_equal(r.running_processes, 1);
	assert_int_equal(r.sleeping_processes, 5);
	assert_int_equal(r.stopped_processes, 2);
	assert_int_equal(r.zombie_processes, 1);
	assert_int_equal(r.threads, 251);
	assert_int_equal(record_validate(&r, &why), 0);
}

static void
test_backends(void **state)
{
	struct sampler s;
	struct why why;

	(void)state;
	assert_int_equal(sampler_init(&s, FIX "proc-basic", "kmod", "h", 10,
	    &why), -1);
	assert_string_equal(why.msg,
	    "kmod backend: " FIX "proc-basic/sm: No such "
	    "file or directory (is the sm_metrics module loaded?)");
	assert_int_equal(sampler_init(&s, FIX "proc-basic", "sysfs", "h",
	    10, &why), -1);
	assert_string_equal(why.msg, "unknown backend \"sysfs\" (want auto, "
	    "procfs or kmod)");
}

static void
test_errors_name_file(void **state)
{
	struct sampler s;
	struct record r;
	struct why why;

	(void)state;
	assert_int_equal(sampler_init(&s, FIX "proc-bad-meminfo", "procfs",
	    "h", 10, &why), 0);
	assert_int_equal(sampler_take(&s, &r, &why), -1);
	assert_string_equal(why.msg, FIX "proc-bad-meminfo/meminfo:2: MemFree: "
	    "want a number of kB");
}

static void
test_state_covers_gap(void **state)
{
	struct sampler s;
	struct record r;
	struct why why;

	(void)state;
	unlink(statefile);
	assert_int_equal(sampler_init(&s, root, "procfs", "h", 10, &why), 0);
	assert_int_equal(sampler_state_load(&s, statefile, &why), 0);
	assert_string_equal(why.msg, "");
	assert_int_equal(sampler_take(&s, &r, &why), 0);
	assert_int_equal(sampler_state_save(&s, statefile, &why), 0);

	/* between runs: 1000 ticks, 300 of them busy */
	put("stat", "cpu  300 0 200 1300 200 0 0 0 0 0\n");
	assert_int_equal(sampler_init(&s, root, "procfs", "h", 10, &why), 0);
	assert_int_equal(sampler_state_load(&s, statefile, &why), 1);
	assert_int_equal(sampler_take(&s, &r, &why), 0);
	assert_true(r.cpu_usage == 30.0);
	/* whole MiB each: 2 total - 1 available (1536 kB) */
	assert_int_equal(r.ram_used, 1);
	assert_int_equal(sampler_state_save(&s, statefile, &why), 0);

	/* no time since the save: the state is useless, a window is used */
	assert_int_equal(sampler_init(&s, root, "procfs", "h", 10, &why), 0);
	assert_int_equal(sampler_state_load(&s, statefile, &why), 0);
	assert_non_null(strstr(why.msg, "no CPU time has passed"));
}

static void
test_state_other_boot_or_backend(void **state)
{
	struct sampler s;
	struct record r;
	struct why why;

	(void)state;
	put("stat", "cpu  100 0 100 700 100 0 0 0 0 0\n");
	assert_int_equal(sampler_init(&s, root, "procfs", "h", 10, &why), 0);
	assert_int_equal(sampler_take(&s, &r, &why), 0);
	assert_int_equal(sampler_state_save(&s, statefile, &why), 0);
	put("stat", "cpu  300 0 200 1300 200 0 0 0 0 0\n");

	put("sys/kernel/random/boot_id", BOOT_B "\n");
	assert_int_equal(sampler_init(&s, root, "procfs", "h", 10, &why), 0);
	assert_int_equal(sampler_state_load(&s, statefile, &why), 0);
	assert_non_null(strstr(why.msg, "saved before the last boot"));
	put("sys/kernel/random/boot_id", BOOT_A "\n");

	put("state", "sm-read-state 1 kmod " BOOT_A " 1 1 1 1 1 1 1 1\n");
	assert_int_equal(sampler_state_load(&s, statefile, &why), 0);
	assert_non_null(strstr(why.msg,
	    "saved by the kmod backend, not procfs"));

	put("state", "garbage\n");
	assert_int_equal(sampler_state_load(&s, statefile, &why), -1);
	assert_non_null(strstr(why.msg, "state:1: not an sm-read state file"));
}

static void
test_state_save_fails_cleanly(void **state)
{
	struct sampler s;
	struct record r;
	char path[128];
	struct why why;

	(void)state;
	assert_int_equal(sampler_init(&s, root, "procfs", "h", 10, &why), 0);
	assert_int_equal(sampler_take(&s, &r, &why), 0);
	snprintf(path, sizeof(path), "%s/no/such/dir/state", root);
	assert_int_equal(sampler_state_save(&s, path, &why), -1);
	assert_non_null(strstr(why.msg, "No such file or directory"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_record),
		cmocka_unit_test(test_backends),
		cmocka_unit_test(test_errors_name_file),
		cmocka_unit_test(test_state_covers_gap),
		cmocka_unit_test(test_state_other_boot_or_backend),
		cmocka_unit_test(test_state_save_fails_cleanly),
	};

	return cmocka_run_group_tests_name("sample", tests, setup,
	    fixture_remove);
}
