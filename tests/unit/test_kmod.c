/*
 * Unit tests for lib/kmod.c: the /proc/sm/{cpu,mem,procs} files of the
 * sm_metrics module (sm_metrics(4)), from fixture trees, and the sampler's
 * choice of backend.
 */
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

#include "kmod.h"
#include "sample.h"

/* A scratch tree with an empty sm/ (the module's directory). */
static int
setup(void **state)
{
	if (fixture_new(state) == -1)
		return -1;
	return fixture_dir("sm");
}

static void
test_good_cpu(void **state)
{
	struct cpu_times ct;
	struct why why;

	(void)state;
	assert_int_equal(kmod_read_cpu(FIX "kmod-good", &ct, &why), 0);
	assert_int_equal(ct.user, 1000000001);
	assert_int_equal(ct.nice, 2000000002);
	assert_int_equal(ct.system, 3000000003);
	assert_int_equal(ct.idle, 4000000004);
	assert_int_equal(ct.iowait, 5000000005);
	assert_int_equal(ct.irq, 6000000006);
	assert_int_equal(ct.softirq, 7000000007);
	assert_int_equal(ct.steal, 8000000008);
}

static void
test_good_mem(void **state)
{
	struct mem_info mi;
	struct why why;

	(void)state;
	assert_int_equal(kmod_read_mem(FIX "kmod-good", &mi, &why), 0);
	assert_int_equal(mi.total_kib, 2097152);
	assert_int_equal(mi.free_kib, 1048576);
	assert_int_equal(mi.available_kib, 1572864);
}

static void
test_good_procs(void **state)
{
	struct census c;
	struct why why;

	(void)state;
	assert_int_equal(kmod_census(FIX "kmod-good", &c, &why), 0);
	assert_int_equal(c.total, 60);
	assert_int_equal(c.running, 2);
	assert_int_equal(c.sleeping, 50);
	assert_int_equal(c.stopped, 3);
	assert_int_equal(c.zombie, 4);
	assert_int_equal(c.other, 1);
	assert_int_equal(c.threads, 75);
}

static void
test_malformed(void **state)
{
	struct cpu_times ct;
	struct mem_info mi;
	struct census c;
	struct why why;

	(void)state;
	assert_int_equal(kmod_read_cpu(FIX "kmod-malformed", &ct, &why), -1);
	assert_non_null(strstr(why.msg, FIX "kmod-malformed/sm/cpu:1: not a "
	    "JSON object"));
	assert_int_equal(kmod_read_mem(FIX "kmod-malformed", &mi, &why), -1);
	assert_string_equal(why.msg, FIX "kmod-malformed/sm/mem:1: not a JSON "
	    "object (wrong type)");
	assert_int_equal(kmod_census(FIX "kmod-malformed", &c, &why), -1);
	assert_non_null(strstr(why.msg, FIX "kmod-malformed/sm/procs:1: not a "
	    "JSON object"));
}

static void
test_missing_key(void **state)
{
	struct cpu_times ct;
	struct mem_info mi;
	struct census c;
	struct why why;

	(void)state;
	assert_int_equal(kmod_read_cpu(FIX "kmod-missing", &ct, &why), -1);
	assert_string_equal(why.msg, FIX "kmod-missing/sm/cpu:1: \"steal\": "
	    "missing or not an integer");
	assert_int_equal(kmod_read_mem(FIX "kmod-missing", &mi, &why), -1);
	assert_string_equal(why.msg,
	    FIX "kmod-missing/sm/mem:1: \"available\": "
	    "missing or not an integer");
	assert_int_equal(kmod_census(FIX "kmod-missing", &c, &why), -1);
	assert_string_equal(why.msg,
	    FIX "kmod-missing/sm/procs:1: \"threads\": "
	    "missing or not an integer");
}

static void
test_no_module(void **state)
{
	struct cpu_times ct;
	struct why why;

	(void)state;
	/* root/sm exists but is empty: as after a half-done unload */
	assert_int_equal(kmod_read_cpu(root, &ct, &why), -1);
	assert_non_null(strstr(why.msg, "/sm/cpu: No such file or directory "
	    "(is the sm_metrics module loaded?)"));
}

/* Each file names its unit; another unit is an error, not a guess. */
static void
test_unit(void **state)
{
	struct cpu_times ct;
	struct mem_info mi;
	struct why why;

	(void)state;
	put("sm/cpu", "{\"unit\":\"us\",\"cpus\":1,\"user\":1,\"nice\":1,"
	    "\"system\":1,\"idle\":1,\"iowait\":1,\"irq\":1,\"softirq\":1,"
	    "\"steal\":1}\n");
	assert_int_equal(kmod_read_cpu(root, &ct, &why), -1);
	assert_non_null(strstr(why.msg, "/sm/cpu:1: \"unit\" is not \"ns\""));
	put("sm/cpu", "{\"cpus\":1,\"user\":1,\"nice\":1,\"system\":1,"
	    "\"idle\":1,\"iowait\":1,\"irq\":1,\"softirq\":1,\"steal\":1}\n");
	assert_int_equal(kmod_read_cpu(root, &ct, &why), -1);
	assert_non_null(strstr(why.msg, "/sm/cpu:1: \"unit\" is not \"ns\""));
	put("sm/mem", "{\"unit\":\"MiB\",\"total\":2,\"free\":1,"
	    "\"available\":1}\n");
	assert_int_equal(kmod_read_mem(root, &mi, &why), -1);
	assert_non_null(strstr(why.msg, "/sm/mem:1: \"unit\" is not \"KiB\""));
	put("sm/mem", "{\"unit\":1,\"total\":2,\"free\":1,\"available\":1}\n");
	assert_int_equal(kmod_read_mem(root, &mi, &why), -1);
	assert_non_null(strstr(why.msg, "/sm/mem:1: \"unit\" is not \"KiB\""));
}

/* CPU nanoseconds use the whole u64 range; counts must fit an int64. */
static void
test_ranges(void **state)
{
	struct cpu_times ct;
	struct mem_info mi;
	struct census c;
	struct why why;

	(void)state;
	put("sm/cpu", "{\"unit\":\"ns\",\"cpus\":512,"
	    "\"user\":18446744073709551614,\"nice\":0,\"system\":1,"
	    "\"idle\":9223372036854775808,\"iowait\":0,\"irq\":0,"
	    "\"softirq\":0,\"steal\":0}\n");
	assert_int_equal(kmod_read_cpu(root, &ct, &why), 0);
	assert_true(ct.user == UINT64_C(18446744073709551614));
	assert_true(ct.idle == UINT64_C(9223372036854775808));

	put("sm/cpu", "{\"unit\":\"ns\",\"cpus\":1,\"user\":-1,\"nice\":0,"
	    "\"system\":1,\"idle\":1,\"iowait\":0,\"irq\":0,\"softirq\":0,"
	    "\"steal\":0}\n");
	assert_int_equal(kmod_read_cpu(root, &ct, &why), -1);
	assert_non_null(strstr(why.msg, "/sm/cpu:1: \"user\": out of range"));

	put("sm/cpu", "{\"unit\":\"ns\",\"cpus\":1,\"user\":1,\"nice\":0,"
	    "\"system\":99999999999999999999,\"idle\":1,\"iowait\":0,"
	    "\"irq\":0,\"softirq\":0,\"steal\":0}\n");
	assert_int_equal(kmod_read_cpu(root, &ct, &why), -1);

	put("sm/mem", "{\"unit\":\"KiB\",\"total\":2.5,\"free\":1,"
	    "\"available\":1}\n");
	assert_int_equal(kmod_read_mem(root, &mi, &why), -1);
	assert_non_null(strstr(why.msg,
	    "\"total\": missing or not an integer"));

	put("sm/mem", "{\"unit\":\"KiB\",\"total\":2,\"free\":3,"
	    "\"available\":1}\n");
	assert_int_equal(kmod_read_mem(root, &mi, &why), -1);
	assert_non_null(strstr(why.msg, "free or available exceeds total"));

	put("sm/procs", "{\"total\":9223372036854775808,\"running\":0,"
	    "\"sleeping\":0,\"stopped\":0,\"zombie\":0,\"other\":0,"
	    "\"threads\":1}\n");
	assert_int_equal(kmod_census(root, &c, &why), -1);
	assert_non_null(strstr(why.msg,
	    "/sm/procs:1: \"total\": out of range"));

	put("sm/procs", "{\"total\":\"3\",\"running\":0,\"sleeping\":0,"
	    "\"stopped\":0,\"zombie\":0,\"other\":0,\"threads\":1}\n");
	assert_int_equal(kmod_census(root, &c, &why), -1);
	assert_non_null(strstr(why.msg,
	    "\"total\": missing or not an integer"));
}

/* auto takes the module's files when root/sm exists, procfs otherwise. */
static void
test_sampler_auto(void **state)
{
	struct sampler s;
	struct record rec;
	struct why why;

	(void)state;
	assert_int_equal(sampler_init(&s, FIX "kmod-good", "auto", "h", 10,
	    &why), 0);
	assert_string_equal(s.backend->name, "kmod");
	assert_int_equal(sampler_take(&s, &rec, &why), 0);
	assert_string_equal(rec.collector, "kmod");
	assert_int_equal(rec.ram_total, 2048);
	assert_int_equal(rec.ram_free, 1024);
	assert_int_equal(rec.ram_available, 1536);
	assert_int_equal(rec.ram_used, 512);
	assert_int_equal(rec.total_processes, 60);
	assert_int_equal(rec.running_processes, 2);
	assert_int_equal(rec.sleeping_processes, 50);
	assert_int_equal(rec.stopped_processes, 3);
	assert_int_equal(rec.zombie_processes, 4);
	assert_int_equal(rec.threads, 75);

	assert_int_equal(sampler_init(&s, FIX "proc-basic", "auto", "h", 10,
	    &why), 0);
	assert_string_equal(s.backend->name, "procfs");
}

/* The CPU figure is the busy share between two readings of the file. */
static void
test_sampler_cpu_delta(void **state)
{
	struct sampler s;
	struct record rec;
	struct why why;

	(void)state;
	put("sm/mem", "{\"unit\":\"KiB\",\"total\":2048,\"free\":1024,"
	    "\"available\":1024}\n");
	put("sm/procs", "{\"total\":1,\"running\":1,\"sleeping\":0,"
	    "\"stopped\":0,\"zombie\":0,\"other\":0,\"threads\":1}\n");
	put("sm/cpu", "{\"unit\":\"ns\",\"cpus\":2,\"user\":1000,\"nice\":0,"
	    "\"system\":1000,\"idle\":7000,\"iowait\":1000,\"irq\":0,"
	    "\"softirq\":0,\"steal\":0}\n");
	assert_int_equal(sampler_init(&s, root, "kmod", "h", 10, &why), 0);
	assert_int_equal(sampler_take(&s, &rec, &why), 0);
	/* nothing moved within the window */
	assert_true(rec.cpu_usage == 0.0);
	/* +3000 busy (user, system, softirq), +1000 idle: 75 % */
	put("sm/cpu", "{\"unit\":\"ns\",\"cpus\":2,\"user\":2000,\"nice\":0,"
	    "\"system\":2000,\"idle\":8000,\"iowait\":1000,\"irq\":0,"
	    "\"softirq\":1000,\"steal\":0}\n");
	assert_int_equal(sampler_take(&s, &rec, &why), 0);
	assert_true(rec.cpu_usage > 74.99 && rec.cpu_usage < 75.01);
	assert_true(rec.cpu_free > 24.99 && rec.cpu_free < 25.01);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_cpu),
		cmocka_unit_test(test_good_mem),
		cmocka_unit_test(test_good_procs),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_missing_key),
		cmocka_unit_test_setup_teardown(test_no_module, setup,
		    fixture_remove),
		cmocka_unit_test_setup_teardown(test_unit, setup,
		    fixture_remove),
		cmocka_unit_test_setup_teardown(test_ranges, setup,
		    fixture_remove),
		cmocka_unit_test(test_sampler_auto),
		cmocka_unit_test_setup_teardown(test_sampler_cpu_delta, setup,
		    fixture_remove),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
