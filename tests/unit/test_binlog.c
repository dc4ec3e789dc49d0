/*
 * Unit tests for lib/binlog.c's row images: each type the table can have,
 * NULLs, columns left out of the image, values past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "binlog_impl.h"

/* A row image being written. */
struct img {
	unsigned char buf[1024];
	size_t len;
};

static void
put(struct img *m, const void *p, size_t n)
{
	memcpy(m->buf + m->len, p, n);
	m->len += n;
}

static void
put_le(struct img *m, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		m->buf[m->len++] = (unsigned char)(v >> (8 * i));
}

static void
put_be(struct img *m, uint64_t v, size_t n)
{
	while (n-- > 0)
		m->buf[m->len++] = (unsigned char)(v >> (8 * n));
}

/* DATETIME2 with fsp 3. */
static void
put_datetime3(struct img *m, unsigned y, unsigned mo, unsigned d,
    unsigned h, unsigned mi, unsigned s, unsigned ms)
{
	uint64_t ymd = (uint64_t)(y * 13 + mo) << 5 | d;
	uint64_t hms = (uint64_t)h << 12 | (uint64_t)mi << 6 | s;

	put_be(m, (ymd << 17 | hms) + UINT64_C(0x8000000000), 5);
	put_be(m, ms * 10, 2);
}

static void
put_str(struct img *m, const char *s, size_t pre)
{
	put_le(m, strlen(s), pre);
	put(m, s, strlen(s));
}

/*
 * The columns: as the TABLE_MAP gives them, each with its index in
 * schema_select_columns (-1: not read).
 */
enum { NCOLS = 16 };
static const struct binlog_col cols[NCOLS] = {
	{ MYSQL_TYPE_LONGLONG, 0 },		/* id */
	{ MYSQL_TYPE_NEWDECIMAL, 5 << 8 | 2 },	/* cpu_usage */
	{ MYSQL_TYPE_LONGLONG, 0 },		/* ram_total */
	{ MYSQL_TYPE_LONG, 0 },			/* ram_free */
	{ MYSQL_TYPE_SHORT, 0 },		/* ram_used */
	{ MYSQL_TYPE_LONG, 0 },			/* total_processes */
	{ MYSQL_TYPE_TINY, 0 },			/* running_processes */
	{ MYSQL_TYPE_INT24, 0 },		/* sleeping_processes */
	{ MYSQL_TYPE_LONG, 0 },			/* stopped_processes */
	{ MYSQL_TYPE_LONG, 0 },			/* zombie_processes */
	{ MYSQL_TYPE_LONG, 0 },			/* threads */
	{ MYSQL_TYPE_DATETIME2, 3 },		/* sampled_at */
	{ MYSQL_TYPE_VARCHAR, 1020 },		/* host */
	{ MYSQL_TYPE_VARCHAR, 200 },		/* data_source */
	{ MYSQL_TYPE_BLOB, 2 },			/* a column sm does not read */
	{ MYSQL_TYPE_STRING, 254 << 8 | 36 },	/* sample_id CHAR(36) */
};
static int sel[NCOLS] = { 0, 6, 8, 9, 11, 13, 14, 15, 16, 17, 18, 2, 4, 19,
	-1, 1 };
static bool uns[NCOLS] = { true };
static bool *uuid_flags;	/* b->is_uuid while decoding: NULL, none */

static void
setup_binlog(struct binlog *b)
{
	assert_int_equal(binlog_init(b), 0);
	b->ncols = NCOLS;
	b->sel = sel;
	b->is_unsigned = uns;
	b->is_uuid = uuid_flags;
}

static void
teardown_binlog(struct binlog *b)
{
	/* the arrays are the test's */
	b->sel = NULL;
	b->is_unsigned = NULL;
	b->is_uuid = NULL;
	binlog_free(b);
}

/* A whole row; threads NULL when null_threads. */
static void
make_row(struct img *m, bool null_threads)
{
	memset(m, 0, sizeof(*m));
	put_le(m, null_threads ? 1 << 10 : 0, 2);	/* NULLs: column 10 */
	put_le(m, UINT64_C(4294967296), 8);	/* id */
	put_be(m, 0x7ff3dd, 3);			/* -12.34 */
	put_le(m, (uint64_t)-5, 8);
	put_le(m, 0xffffffff, 4);		/* -1 */
	put_le(m, 300, 2);
	put_le(m, 113, 4);
	put_le(m, 1, 1);
	put_le(m, 0xfffffe, 3);			/* -2 */
	put_le(m, 0, 4);
	put_le(m, 0, 4);
	if (!null_threads)
		put_le(m, 7, 4);
	put_datetime3(m, 2026, 11, 26, 10, 0, 1, 234);
	put_str(m, "web-1", 2);
	put_str(m, "api", 1);
	put_str(m, "xyz", 2);
	put_str(m, "0000beef-0000-7000-8000-000000000001", 1);
}

static const unsigned char all[2] = { 0xff, 0xff };

/*
 * Decode m (its last cut bytes left out) with columns c present as in
 * present; a row taken whole must have used all of it.
 */
static int
decode(const struct binlog_col *c, const unsigned char *present,
    const struct img *m, size_t cut, struct binlog_row *out, struct why *why)
{
	struct binlog b;
	size_t used = 0;
	int rc;

	setup_binlog(&b);
	rc = binlog_decode_row(&b, c, NCOLS, present, m->buf,
	    m->buf + m->len - cut, out, b.text, &used, why);
	if (rc != -1)
		assert_int_equal(used, m->len - cut);
	teardown_binlog(&b);
	return rc;
}

static void
test_row(void **state)
{
	struct binlog_row out;
	struct img m;
	struct tm tm = { .tm_year = 126, .tm_mon = 10, .tm_mday = 26,
	    .tm_hour = 10, .tm_sec = 1 };
	struct why why;

	(void)state;
	make_row(&m, false);
	assert_int_equal(decode(cols, all, &m, 0, &out, &why), 0);
	assert_true(out.ok);
	assert_true(out.r.id == UINT64_C(4294967296));
	assert_true(out.r.rec.cpu_usage == -12.34);
	assert_int_equal(out.r.rec.ram_total, -5);
	assert_int_equal(out.r.rec.ram_free, -1);
	assert_int_equal(out.r.rec.ram_used, 300);
	assert_int_equal(out.r.rec.total_processes, 113);
	assert_int_equal(out.r.rec.running_processes, 1);
	assert_int_equal(out.r.rec.sleeping_processes, -2);
	assert_int_equal(out.r.rec.threads, 7);
	assert_int_equal(out.r.rec.ts_ms, (int64_t)timegm(&tm) * 1000 + 234);
	assert_string_equal(out.r.rec.host, "web-1");
	assert_string_equal(out.r.source, "api");
	assert_string_equal(out.r.rec.id,
	    "0000beef-0000-7000-8000-000000000001");
}

static void
test_null_and_absent(void **state)
{
	/* column 14 (the BLOB) left out of the image */
	static const unsigned char no14[2] = { 0xff, 0xbf };
	struct binlog_row out;
	struct img m;
	struct why why;

	(void)state;
	make_row(&m, true);
	assert_int_equal(decode(cols, all, &m, 0, &out, &why), 0);
	assert_int_equal(out.r.rec.threads, -1);
	/* 15 columns present: their NULL bitmap is still 2 bytes */
	make_row(&m, false);
	memmove(m.buf + m.len - 37 - 5, m.buf + m.len - 37, 37);
	m.len -= 5;
	assert_int_equal(decode(cols, no14, &m, 0, &out, &why), 0);
	assert_true(out.ok);
	assert_string_equal(out.r.rec.id,
	    "0000beef-0000-7000-8000-000000000001");
}

static void
test_bad(void **state)
{
	struct binlog_row out;
	struct img m;
	struct why why;
	struct binlog_col odd[NCOLS];

	(void)state;
	make_row(&m, false);
	/* cut short: the value past the end is refused */
	assert_int_equal(decode(cols, all, &m, 3, &out, &why), -1);
	assert_non_null(strstr(why.msg, "ends early"));
	/* a type the reader does not know */
	memcpy(odd, cols, sizeof(odd));
	odd[14].type = 200;
	assert_int_equal(decode(odd, all, &m, 0, &out, &why), -1);
	assert_non_null(strstr(why.msg, "type 200"));
	/* a NULL where sm writes a value: that row alone is bad */
	m.buf[0] = 1 << 1;	/* cpu_usage */
	memmove(m.buf + 2 + 8, m.buf + 2 + 8 + 3, m.len - 2 - 8 - 3);
	m.len -= 3;
	assert_int_equal(decode(cols, all, &m, 0, &out, &why), 1);
	assert_false(out.ok);
	assert_non_null(strstr(out.why.msg, "cpu_usage is NULL"));
}

/* make_row's, its sample_id the n bytes v as the log has a UUID's. */
static void
make_uuid_row(struct img *m, const unsigned char *v, size_t n)
{
	make_row(m, false);
	m->len -= 37;
	put_le(m, n, 1);
	put(m, v, n);
}

/*
 * sample_id in MariaDB's UUID type: 16 bytes in the order of the text,
 * its trailing zero bytes left out of the log, shown as the server shows
 * it (lower case).
 */
static void
test_uuid(void **state)
{
	static const unsigned char v7[] = { 0x01, 0x90, 0xb0, 0x00, 0x00,
	    0x04, 0x7A, 0xBC, 0x80 };
	static bool flags[NCOLS] = { [15] = true };
	unsigned char v[17];
	struct binlog_col c[NCOLS];
	struct binlog_row out;
	struct img m;
	struct why why;
	size_t i;

	(void)state;
	memcpy(c, cols, sizeof(c));
	c[15].meta = 254 << 8 | 16;
	uuid_flags = flags;
	make_uuid_row(&m, v7, sizeof(v7));
	assert_int_equal(decode(c, all, &m, 0, &out, &why), 0);
	assert_true(out.ok);
	assert_string_equal(out.r.rec.id,
	    "0190b000-0004-7abc-8000-000000000000");
	/* all 16 */
	for (i = 0; i < sizeof(v); i++)
		v[i] = (unsigned char)(0xf0 + i);
	make_uuid_row(&m, v, 16);
	assert_int_equal(decode(c, all, &m, 0, &out, &why), 0);
	assert_string_equal(out.r.rec.id,
	    "f0f1f2f3-f4f5-f6f7-f8f9-fafbfcfdfeff");
	/* longer than a UUID: refused, not cut */
	make_uuid_row(&m, v, 17);
	assert_int_equal(decode(c, all, &m, 0, &out, &why), -1);
	assert_non_null(strstr(why.msg, "a UUID of 17 bytes"));
	uuid_flags = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row),
		cmocka_unit_test(test_null_and_absent),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_uuid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
