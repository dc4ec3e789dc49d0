/* Unit tests for lib/procfs.c against fixture /proc trees. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"

#include "procfs_impl.h"


static void
test_cpu(void **state)
{
	struct cpu_times ct;
	struct why why;

	(void)state;
	assert_int_equal(procfs_read_cpu(FIX "proc-basic", &ct, &why), 0);
	assert_int_equal(ct.user, 10132153);
	assert_int_equal(ct.nice, 290696);
	assert_int_equal(ct.system, 3084719);
	assert_int_equal(ct.idle, 46828483);
	assert_int_equal(ct.iowait, 16683);
	assert_int_equal(ct.irq, 0);
	assert_int_equal(ct.softirq, 25195);
	assert_int_equal(ct.steal, 0);
	assert_int_equal(cpu_times_total(&ct), 10132153 + 290696 + 3084719 +
	    46828483 + 16683 + 25195);
}

static void
test_cpu_malformed(void **state)
{
	struct cpu_times ct;
	struct why why;

	(void)state;
	assert_int_equal(procfs_read_cpu(FIX "proc-bad-stat", &ct, &why), -1);
	assert_string_equal(why.msg, FIX "proc-bad-stat/stat:1: want 8 or more "
	    "counters after \"cpu\"");
	assert_int_equal(procfs_read_cpu(FIX "nonexistent", &ct, &why), -1);
	assert_string_equal(why.msg, FIX "nonexistent/stat: No such file or "
	    "directory");
}

static void
test_busy_percent(void **state)
{
	struct cpu_times a = { 100, 0, 100, 700, 100, 0, 0, 0 };
	struct cpu_times b = a;

	(void)state;
	/* 1000 more ticks: 200 user, 50 system, 50 steal, 600 idle, 100 io */
	b.user += 200;
	b.system += 50;
	b.steal += 50;
	b.idle += 600;
	b.iowait += 100;
	assert_true(cpu_times_busy_percent(&a, &b) == 30.0);
	/* no time passed, or counters went backwards: no busy time */
	assert_true(cpu_times_busy_percent(&a, &a) == 0.0);
	assert_true(cpu_times_busy_percent(&b, &a) == 0.0);
}

static void
test_mem(void **state)
{
	struct mem_info mi;
	struct why why;

	(void)state;
	assert_int_equal(procfs_read_mem(FIX "proc-basic", &mi, &why), 0);
	assert_int_equal(mi.total_kib, 4006912);
	assert_int_equal(mi.free_kib, 2471296);
	assert_int_equal(mi.available_kib, 2470912);
}

static void
test_mem_malformed(void **state)
{
	struct mem_info mi;
	struct why why;

	(void)state;
	assert_int_equal(procfs_read_mem(FIX "proc-bad-meminfo", &mi, &why),
	    -1);
	assert_string_equal(why.msg, FIX "proc-bad-meminfo/meminfo:2: MemFree: "
	    "want a number of kB");
	assert_int_equal(procfs_read_mem(FIX "proc-no-memavailable", &mi,
	    &why), -1);
	assert_string_equal(why.msg, FIX "proc-no-memavailable/meminfo:7: no "
	    "MemAvailable line");
}

static void
test_census(void **state)
{
	struct census c;
	struct why why;

	(void)state;
	assert_int_equal(procfs_census(FIX "proc-basic", &c, &why), 0);
	/* 47 vanished (no stat), 48 exited (empty stat): skipped */
	assert_int_equal(c.total, 10);
	assert_int_equal(c.running, 1);		/* 40, "a) b) (c d" */
	assert_int_equal(c.sleeping, 5);	/* S S I D S(")") */
	assert_int_equal(c.stopped, 2);		/* T t */
	assert_int_equal(c.zombie, 1);
	assert_int_equal(c.other, 1);		/* P */
	assert_int_equal(c.threads, 251);
}

/*
 * read() and close() as the library sees them: with vanish set, reading
 * that process's stat fails as for a process gone mid-read (ESRCH), and
 * every close() then leaves another errno, as close() may.
 */
static const char *vanish;

ssize_t
read(int fd, void *buf, size_t n)
{
	char link[64], path[256];
	ssize_t len;

	if (vanish != NULL) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, path, sizeof(path) - 1);
		if (len > 0) {
			path[len] = '\0';
			if (strstr(path, vanish) != NULL) {
				errno = ESRCH;
				return -1;
			}
		}
	}
	return syscall(SYS_read, fd, buf, n);
}

int
close(int fd)
{
	int rc = (int)syscall(SYS_close, fd);

	if (vanish != NULL)
		errno = EIO;
	return rc;
}

static void
test_census_vanished_mid_read(void **state)
{
	struct census c;
	struct why why;
	int rc;

	(void)state;
	vanish = "/proc-basic/40/stat";
	rc = procfs_census(FIX "proc-basic", &c, &why);
	vanish = NULL;
	assert_int_equal(rc, 0);
	assert_int_equal(c.total, 9);
	assert_int_equal(c.running, 0);
}

static void
test_census_malformed(void **state)
{
	struct census c;
	struct why why;

	(void)state;
	assert_int_equal(procfs_census(FIX "proc-bad-pidstat", &c, &why), -1);
	assert_string_equal(why.msg, FIX "proc-bad-pidstat/46/stat:1: no state "
	    "letter after \"(command) \"");
}

static void
test_census_count(void **state)
{
	struct census c;
	const char *s = "RSDITtZXPW";

	(void)state;
	memset(&c, 0, sizeof(c));
	for (; *s != '\0'; s++)
		census_count(&c, *s);
	assert_int_equal(c.total, 10);
	assert_int_equal(c.running, 1);
	assert_int_equal(c.sleeping, 3);
	assert_int_equal(c.stopped, 2);
	assert_int_equal(c.zombie, 1);
	assert_int_equal(c.other, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu),
		cmocka_unit_test(test_cpu_malformed),
		cmocka_unit_test(test_busy_percent),
		cmocka_unit_test(test_mem),
		cmocka_unit_test(test_mem_malformed),
		cmocka_unit_test(test_census),
		cmocka_unit_test(test_census_malformed),
		cmocka_unit_test(test_census_vanished_mid_read),
		cmocka_unit_test(test_census_count),
	};

	return cmocka_run_group_tests_name("procfs", tests, NULL, NULL);
}
