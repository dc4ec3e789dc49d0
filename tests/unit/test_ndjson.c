/* Unit tests for lib/ndjson.c: bounded lines, numbering, odd line ends. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "ndjson.h"

/* A descriptor reading back len bytes of data. */
static int
data_fd(const char *data, size_t len)
{
	int fd = memfd_create("ndjson", 0);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

struct expect {
	enum ndjson_status st;
	unsigned long lineno;
	const char *text;	/* for NDJSON_LINE */
};

static void
check(const char *data, size_t len, size_t max_line,
    const struct expect *want, size_t n)
{
	struct ndjson_reader r;
	const char *line;
	size_t i, got_len;
	int fd = data_fd(data, len);

	assert_int_equal(ndjson_reader_init(&r, fd, max_line), 0);
	for (i = 0; i < n; i++) {
		enum ndjson_status st = ndjson_read(&r, &line, &got_len);

		if (st != want[i].st)
			fail_msg("item %zu: status %d, want %d", i, st,
			    want[i].st);
		if (st == NDJSON_EOF)
			continue;
		if (r.lineno != want[i].lineno)
			fail_msg("item %zu: line %lu, want %lu", i, r.lineno,
			    want[i].lineno);
		if (st == NDJSON_LINE) {
			assert_int_equal(got_len, strlen(want[i].text));
			assert_memory_equal(line, want[i].text, got_len);
		}
	}
	/* EOF is sticky */
	assert_int_equal(ndjson_read(&r, &line, &got_len), NDJSON_EOF);
	ndjson_reader_free(&r);
	close(fd);
}

static void
test_plain(void **state)
{
	static const char data[] = "{\"a\":1}\n{\"b\":2}\n";
	static const struct expect want[] = {
		{ NDJSON_LINE, 1, "{\"a\":1}" },
		{ NDJSON_LINE, 2, "{\"b\":2}" },
		{ NDJSON_EOF, 0, NULL },
	};

	(void)state;
	check(data, sizeof(data) - 1, 0, want, 3);
}

static void
test_crlf_bom_blank_last(void **state)
{
	static const char data[] = "\xef\xbb\xbf{\"a\":1}\r\n\r\n  \n{\"b\":2}";
	static const struct expect want[] = {
		{ NDJSON_LINE, 1, "{\"a\":1}" },
		{ NDJSON_LINE, 4, "{\"b\":2}" },
		{ NDJSON_EOF, 0, NULL },
	};

	(void)state;
	check(data, sizeof(data) - 1, 0, want, 3);
}

static void
test_bom_only_first_line(void **state)
{
	static const char data[] = "a\n\xef\xbb\xbf" "b\n";
	static const struct expect want[] = {
		{ NDJSON_LINE, 1, "a" },
		{ NDJSON_LINE, 2, "\xef\xbb\xbf" "b" },
	};

	(void)state;
	check(data, sizeof(data) - 1, 0, want, 2);
}

static void
test_too_long_between_good(void **state)
{
	char *data;
	size_t n = 0;
	static const struct expect want[] = {
		{ NDJSON_LINE, 1, "12345678" },
		{ NDJSON_TOO_LONG, 2, NULL },
		{ NDJSON_LINE, 3, "ok" },
		{ NDJSON_TOO_LONG, 4, NULL },
		{ NDJSON_LINE, 5, "23456789" },
		{ NDJSON_TOO_LONG, 6, NULL },
		{ NDJSON_EOF, 0, NULL },
	};

	(void)state;
	data = malloc(1 << 20);
	assert_non_null(data);
	/* limit 8: exactly 8 passes, 9 does not; CR does not count */
	n += (size_t)sprintf(data + n, "12345678\n");
	n += (size_t)sprintf(data + n, "123456789\n");
	n += (size_t)sprintf(data + n, "ok\n");
	memset(data + n, 'x', 300000);	/* far longer than any buffer */
	n += 300000;
	n += (size_t)sprintf(data + n, "\n23456789\r\n");
	memset(data + n, 'y', 200000);	/* too long, and no final newline */
	n += 200000;
	check(data, n, 8, want, 7);
	free(data);
}

static void
test_default_limit(void **state)
{
	size_t big = NDJSON_MAX_LINE_DEFAULT;
	char *data = malloc(2 * big + 16);
	static const struct expect want[] = {
		{ NDJSON_LINE, 1, NULL },
		{ NDJSON_TOO_LONG, 2, NULL },
		{ NDJSON_EOF, 0, NULL },
	};
	struct ndjson_reader r;
	const char *line;
	size_t len;
	int fd;

	(void)state;
	(void)want;
	assert_non_null(data);
	memset(data, 'a', big);
	data[big] = '\n';
	memset(data + big + 1, 'b', big + 1);
	data[2 * big + 2] = '\n';
	fd = data_fd(data, 2 * big + 3);
	assert_int_equal(ndjson_reader_init(&r, fd, 0), 0);
	assert_int_equal(ndjson_read(&r, &line, &len), NDJSON_LINE);
	assert_int_equal(len, big);
	assert_int_equal(ndjson_read(&r, &line, &len), NDJSON_TOO_LONG);
	assert_int_equal(r.lineno, 2);
	assert_int_equal(ndjson_read(&r, &line, &len), NDJSON_EOF);
	/* the buffer never grew past one line and a read chunk */
	assert_true(r.cap <= big + 2 + 64 * 1024);
	ndjson_reader_free(&r);
	close(fd);
	free(data);
}

static void
test_many_small_lines(void **state)
{
	struct ndjson_reader r;
	const char *line;
	char *data, want[32];
	size_t len, n = 0;
	unsigned long i;
	int fd;

	(void)state;
	data = malloc(100000 * 12);
	assert_non_null(data);
	for (i = 1; i <= 100000; i++)
		n += (size_t)sprintf(data + n, "%lu\n", i);
	fd = data_fd(data, n);
	assert_int_equal(ndjson_reader_init(&r, fd, 16), 0);
	for (i = 1; i <= 100000; i++) {
		assert_int_equal(ndjson_read(&r, &line, &len), NDJSON_LINE);
		snprintf(want, sizeof(want), "%lu", i);
		assert_int_equal(len, strlen(want));
		assert_memory_equal(line, want, len);
		assert_int_equal(r.lineno, i);
	}
	assert_int_equal(ndjson_read(&r, &line, &len), NDJSON_EOF);
	ndjson_reader_free(&r);
	close(fd);
	free(data);
}

static void
test_nonblocking_pipe(void **state)
{
	struct ndjson_reader r;
	const char *line;
	size_t len;
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	assert_int_equal(ndjson_reader_init(&r, p[0], 0), 0);
	assert_int_equal(ndjson_next(&r, &line, &len), NDJSON_AGAIN);
	assert_int_equal(ndjson_fill(&r), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(write(p[1], "par", 3), 3);
	assert_int_equal(ndjson_fill(&r), 3);
	assert_int_equal(ndjson_next(&r, &line, &len), NDJSON_AGAIN);
	assert_int_equal(write(p[1], "tial\nnext", 9), 9);
	assert_int_equal(ndjson_fill(&r), 9);
	assert_int_equal(ndjson_next(&r, &line, &len), NDJSON_LINE);
	assert_int_equal(len, 7);
	assert_memory_equal(line, "partial", 7);
	assert_int_equal(ndjson_next(&r, &line, &len), NDJSON_AGAIN);
	close(p[1]);
	assert_int_equal(ndjson_fill(&r), 0);
	assert_int_equal(ndjson_next(&r, &line, &len), NDJSON_LINE);
	assert_memory_equal(line, "next", 4);
	assert_int_equal(r.lineno, 2);
	assert_int_equal(ndjson_next(&r, &line, &len), NDJSON_EOF);
	ndjson_reader_free(&r);
	close(p[0]);
}

static void
test_read_error(void **state)
{
	struct ndjson_reader r;
	const char *line;
	size_t len;

	(void)state;
	assert_int_equal(ndjson_reader_init(&r, -1, 0), 0);
	assert_int_equal(ndjson_read(&r, &line, &len), NDJSON_ERROR);
	assert_int_equal(errno, EBADF);
	ndjson_reader_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_crlf_bom_blank_last),
		cmocka_unit_test(test_bom_only_first_line),
		cmocka_unit_test(test_too_long_between_good),
		cmocka_unit_test(test_default_limit),
		cmocka_unit_test(test_many_small_lines),
		cmocka_unit_test(test_nonblocking_pipe),
		cmocka_unit_test(test_read_error),
	};

	return cmocka_run_group_tests_name("ndjson", tests, NULL, NULL);
}
