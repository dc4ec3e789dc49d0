/* Unit tests for lib/webpage.c: the page compiled in, a --web-root's check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "webpage.h"

static void
test_find(void **state)
{
	const struct webpage_file *f;

	(void)state;
	assert_non_null(f = webpage_find("index.html"));
	assert_true(f->len > 100);
	assert_memory_equal(f->data, "<!DOCTYPE html>", 15);
	assert_non_null(webpage_find("app.js"));
	assert_non_null(webpage_find("app.css"));
	assert_null(webpage_find("index.htm"));
	assert_null(webpage_find("../index.html"));
}

static void
test_root_check(void **state)
{
	char dir[] = "/tmp/test_webpage.XXXXXX", path[64];
	struct why why;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(webpage_root_check(dir, &why), -1);
	snprintf(path, sizeof(path), "%s/index.html", dir);
	assert_non_null(strstr(why.msg, path));
	assert_non_null(strstr(why.msg, "No such file"));
	/* a directory by that name is no page */
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(webpage_root_check(dir, &why), -1);
	assert_non_null(strstr(why.msg, "not a file"));
	assert_int_equal(rmdir(path), 0);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	assert_int_equal(webpage_root_check(dir, &why), 0);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_root_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
