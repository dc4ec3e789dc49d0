/* Unit tests for lib/spool.c: spool and reject files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "spool.h"

struct fixture {
	char dir[64];
	char path[96];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_spool.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/file", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static char *
slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_spool_appends(void **state)
{
	struct fixture *f = *state;
	struct spool s;
	struct why why;

	assert_int_equal(spool_open(&s, f->path, &why), 0);
	assert_int_equal(spool_write(&s, "{\"id\":\"1\"}xx", 10), 0);
	assert_int_equal(spool_write(&s, "{\"id\":\"2\"}", 10), 0);
	assert_int_equal(spool_flush(&s), 0);
	/* flushed means on disk for a reader, before the close */
	assert_string_equal(slurp(f->path), "{\"id\":\"1\"}\n{\"id\":\"2\"}\n");
	assert_int_equal(s.records, 2);
	assert_int_equal(spool_close(&s, &why), 0);
	assert_null(s.f);
	/* closing twice is harmless */
	assert_int_equal(spool_close(&s, &why), 0);

	/* a second run appends, never truncates */
	assert_int_equal(spool_open(&s, f->path, &why), 0);
	assert_int_equal(spool_write(&s, "{}", 2), 0);
	assert_int_equal(spool_close(&s, &why), 0);
	assert_string_equal(slurp(f->path), "{\"id\":\"1\"}\n{\"id\":\"2\"}\n"
	    "{}\n");
}

static void
test_reject_entries(void **state)
{
	struct fixture *f = *state;
	struct spool s;
	struct why why;
	struct spool_reject refused = {
		.line = 12, .request = 5, .status = 400,
		.endpoint = "http://127.0.0.1:8081/metrics",
		.reason = "cpu_usage: 150 is not a percentage in [0, 100]",
		.text = "{\"id\":\"x\",\"cpu_usage\":150}", .len = 26,
		.is_record = 1,
	};
	struct spool_reject bad_line = {
		.line = 3, .reason = "invalid JSON at column 1: \"quoted\"",
		.text = "oops\t\"x\"/\\", .len = 10,
	};

	assert_int_equal(spool_open(&s, f->path, &why), 0);
	assert_int_equal(spool_reject(&s, &refused), 0);
	assert_int_equal(spool_reject(&s, &bad_line), 0);
	assert_int_equal(spool_close(&s, &why), 0);
	assert_string_equal(slurp(f->path),
	    "{\"line\":12,\"request\":5,\"status\":400,\"endpoint\":"
	    "\"http://127.0.0.1:8081/metrics\",\"reason\":\"cpu_usage: 150 "
	    "is not a percentage in [0, 100]\",\"record\":{\"id\":\"x\","
	    "\"cpu_usage\":150}}\n"
	    "{\"line\":3,\"reason\":\"invalid JSON at column 1: "
	    "\\\"quoted\\\"\","
	    "\"text\":\"oops\\t\\\"x\\\"/\\\\\"}\n");
}

static void
test_open_fails(void **state)
{
	struct spool s;
	struct why why;

	(void)state;
	assert_int_equal(spool_open(&s, "/nonexistent/dir/spool", &why), -1);
	assert_string_equal(why.msg, "/nonexistent/dir/spool: No such file or "
	    "directory");
	assert_null(s.f);
}

static void
test_write_error_is_reported(void **state)
{
	struct spool s;
	struct why why;
	char big[8192];

	(void)state;
	if (access("/dev/full", W_OK) != 0)
		fail_msg("/dev/full is needed for this test");
	memset(big, 'x', sizeof(big));
	assert_int_equal(spool_open(&s, "/dev/full", &why), 0);
	/* the error shows at the latest when buffered data is pushed out */
	if (spool_write(&s, big, sizeof(big)) == 0)
		assert_int_equal(spool_flush(&s), -1);
	/* ... and again when closing, so a run cannot end quietly */
	assert_int_equal(spool_close(&s, &why), -1);
	assert_string_equal(why.msg, "/dev/full: No space left on device");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spool_appends, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reject_entries, setup,
		    teardown),
		cmocka_unit_test(test_open_fails),
		cmocka_unit_test(test_write_error_is_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
