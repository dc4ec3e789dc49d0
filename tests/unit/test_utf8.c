/* Unit tests for lib/utf8.c: strict UTF-8, and the U+FFFD copy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "utf8.h"

/* The valid prefix of a string literal (NULs included). */
#define PREFIX(lit) utf8_valid_prefix(lit, sizeof(lit) - 1)

static void
test_valid(void **state)
{
	(void)state;
	assert_int_equal(PREFIX(""), 0);
	assert_int_equal(PREFIX("plain ascii"), 11);
	assert_int_equal(PREFIX("a\0b"), 3);		/* NUL is UTF-8 */
	assert_int_equal(PREFIX("\xc2\x80"), 2);		/* U+0080 */
	assert_int_equal(PREFIX("\xc3\xb1" "and" "\xc3\xba"), 7); /* ñandú */
	assert_int_equal(PREFIX("\xe0\xa0\x80"), 3);		/* U+0800 */
	assert_int_equal(PREFIX("\xe6\x97\xa5"), 3);		/* 日 */
	assert_int_equal(PREFIX("\xed\x9f\xbf"), 3);		/* U+D7FF */
	assert_int_equal(PREFIX("\xee\x80\x80"), 3);		/* U+E000 */
	assert_int_equal(PREFIX("\xef\xbb\xbf"), 3);		/* BOM */
	assert_int_equal(PREFIX("\xef\xbf\xbd"), 3);		/* U+FFFD */
	assert_int_equal(PREFIX("\xf0\x90\x80\x80"), 4);	/* U+10000 */
	assert_int_equal(PREFIX("\xf0\x9f\x98\x80"), 4);	/* emoji */
	assert_int_equal(PREFIX("\xf4\x8f\xbf\xbf"), 4);	/* U+10FFFF */
}

static void
test_invalid(void **state)
{
	(void)state;
	assert_int_equal(PREFIX("ab\xff"), 2);
	assert_int_equal(PREFIX("ab\xfe"), 2);
	assert_int_equal(PREFIX("a\x80"), 1);		/* lone continuation */
	assert_int_equal(PREFIX("a\xbf"), 1);
	assert_int_equal(PREFIX("a\xc0\xaf"), 1);	/* overlong "/" */
	assert_int_equal(PREFIX("a\xc1\xbf"), 1);	/* overlong */
	assert_int_equal(PREFIX("a\xe0\x80\xaf"), 1);	/* overlong, 3 bytes */
	assert_int_equal(PREFIX("a\xe0\x9f\xbf"), 1);
	assert_int_equal(PREFIX("a\xf0\x80\x80\xaf"), 1);	/* 4 bytes */
	assert_int_equal(PREFIX("a\xf0\x8f\xbf\xbf"), 1);
	assert_int_equal(PREFIX("a\xed\xa0\x80"), 1);	/* surrogate D800 */
	assert_int_equal(PREFIX("a\xed\xbf\xbf"), 1);	/* surrogate DFFF */
	assert_int_equal(PREFIX("a\xf4\x90\x80\x80"), 1);	/* > 10FFFF */
	assert_int_equal(PREFIX("a\xf5\x80\x80\x80"), 1);
	assert_int_equal(PREFIX("a\xf8\x88\x80\x80\x80"), 1);	/* 5 bytes */
	/* cut short at the end */
	assert_int_equal(PREFIX("a\xe2\x82"), 1);
	assert_int_equal(PREFIX("a\xe2\x82z"), 1);	/* cut short inside */
	assert_int_equal(PREFIX("a\xf0\x9f\x98"), 1);
	assert_int_equal(PREFIX("a\xc3"), 1);
	assert_int_equal(PREFIX("\xc3\xb1\xc3"), 2);	/* after a good one */
	/* the length bounds the look-ahead */
	assert_int_equal(utf8_valid_prefix("\xe6\x97\xa5", 2), 0);
}

static void
test_sanitize(void **state)
{
	size_t n;
	char *s;

	(void)state;
	s = utf8_sanitize("ok", 2, &n);
	assert_non_null(s);
	assert_int_equal(n, 2);
	assert_string_equal(s, "ok");
	free(s);
	s = utf8_sanitize("a\xff" "b\xc0\xaf\xc3\xb1", 7, &n);
	assert_non_null(s);
	assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
	    "\xc3\xb1");
	assert_int_equal(n, strlen(s));
	assert_int_equal(utf8_valid_prefix(s, n), n);
	free(s);
	s = utf8_sanitize("x\xe2\x82", 3, &n);	/* cut short at the end */
	assert_non_null(s);
	assert_string_equal(s, "x\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	s = utf8_sanitize("", 0, &n);
	assert_non_null(s);
	assert_int_equal(n, 0);
	free(s);
}

static void
test_escape(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(utf8_escape("cp\xc3\xba_usage", buf, sizeof(buf)),
	    "cp\xc3\xba_usage");
	assert_string_equal(utf8_escape("a\x01\x1b[2J\x7f\n", buf,
	    sizeof(buf)), "a\\x01\\x1b[2J\\x7f\\x0a");
	assert_string_equal(utf8_escape("q\"b\\", buf, sizeof(buf)),
	    "q\\\"b\\\\");
	/* bad bytes: overlong, cut short */
	assert_string_equal(utf8_escape("\xc0\xaf\xe2\x82", buf, sizeof(buf)),
	    "\\xc0\\xaf\\xe2\\x82");
	/* cut to fit at a whole character or escape */
	assert_string_equal(utf8_escape("ab\xc3\xba", buf, 4), "ab");
	assert_string_equal(utf8_escape("ab\x01", buf, 6), "ab");
	assert_string_equal(utf8_escape("ab\x01", buf, 7), "ab\\x01");
	assert_string_equal(utf8_escape("", buf, 1), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
