/*
 * Following inserts through the binary log: the replication stream,
 * TABLE_MAP and row events decoded here, rows handed out per commit
 * (binlog.h).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mysqld_error.h>

#include "binlog.h"
#include "binlog_impl.h"
#include "schema.h"

#define BINLOG_SEL_MAX 64	/* columns in schema_select_columns, at most */
#define BINLOG_STMT_MAX 4096	/* bytes of a statement looked at */
#define BINLOG_VALUE_LEN 128	/* a server setting or user name, cut */

/* Bit i of a bitmap, lowest bit first. */
#define BINLOG_BIT(map, i) (((map)[(i) / 8] >> ((i) % 8)) & 1)

int
binlog_init(struct binlog *b)
{
	memset(b, 0, sizeof(*b));
	if ((b->text = malloc(BINLOG_TEXT_MAX)) == NULL)
		return -1;
	return 0;
}

void
binlog_close(struct binlog *b)
{
	if (b->ev != NULL) {
		mariadb_free_rpl_event(b->ev);
		b->ev = NULL;
	}
	if (b->rpl != NULL) {
		mariadb_rpl_close(b->rpl);
		b->rpl = NULL;
	}
	b->m = NULL;
}

void
binlog_free(struct binlog *b)
{
	binlog_close(b);
	free(b->sel);
	free(b->is_unsigned);
	free(b->is_uuid);
	free(b->map);
	free(b->rows);
	free(b->text);
	memset(b, 0, sizeof(*b));
}

/* Append "; "-separated text to why. */
static void
binlog_add(struct why *why, const char *fmt, ...)
{
	size_t len = strlen(why->msg);
	va_list ap;

	if (len > 0 && len + 2 < sizeof(why->msg)) {
		strcpy(why->msg + len, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(why->msg + len, sizeof(why->msg) - len, fmt, ap);
	va_end(ap);
}

/*
 * The first row of sql into vals (n columns, copied, each at most
 * BINLOG_VALUE_LEN bytes; "" for NULL or no row).  0, or -1.
 */
static int
binlog_row1(MYSQL *m, const char *sql, char vals[][BINLOG_VALUE_LEN],
    unsigned n, const char *what, struct why *why, enum db_fault *fault)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned i;

	for (i = 0; i < n; i++)
		vals[i][0] = '\0';
	if (mysql_query(m, sql) != 0 || (res = mysql_store_result(m)) ==
	    NULL) {
		*fault = db_error(m, what, why);
		return -1;
	}
	if ((row = mysql_fetch_row(res)) != NULL &&
	    mysql_num_fields(res) >= n)
		for (i = 0; i < n; i++)
			if (row[i] != NULL)
				snprintf(vals[i], BINLOG_VALUE_LEN, "%s",
				    row[i]);
	mysql_free_result(res);
	return 0;
}

int
binlog_check(MYSQL *m, struct why *why, enum db_fault *fault)
{
	char v[4][BINLOG_VALUE_LEN], user[BINLOG_VALUE_LEN];

	if (binlog_row1(m, "SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format, "
	    "@@GLOBAL.binlog_row_image, VERSION()", v, 4,
	    "reading the binary log settings", why, fault) == -1)
		return -1;
	why_clear(why);
	if (strstr(v[3], "MariaDB") == NULL)
		binlog_add(why, "the server is %s, not MariaDB (whose "
		    "Binlog_snapshot_file makes the start exact)", v[3]);
	if (strcmp(v[0], "1") != 0)
		binlog_add(why, "the binary log is off (log_bin)");
	else if (strcasecmp(v[1], "ROW") != 0)
		binlog_add(why, "binlog_format is %s, not ROW", v[1]);
	if (strcmp(v[0], "1") == 0 && strcasecmp(v[2], "FULL") != 0)
		binlog_add(why, "binlog_row_image is %s, not FULL", v[2]);
	/* this user's own grants: information_schema shows them to anyone */
	if (binlog_row1(m, "SELECT CURRENT_USER(), (SELECT COUNT(*) FROM "
	    "information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = "
	    "'REPLICATION SLAVE' AND GRANTEE = CONCAT('''', "
	    "REPLACE(CURRENT_USER(), '@', '''@'''), ''''))", v, 2,
	    "reading the user's privileges", why, fault) == -1)
		return -1;
	if (strcmp(v[1], "0") == 0) {
		snprintf(user, sizeof(user), "%s", v[0]);
		binlog_add(why, "user %s lacks the REPLICATION SLAVE privilege",
		    user);
	}
	return why->msg[0] == '\0' ? 0 : 1;
}

/* The index of column name in schema_select_columns, or -1. */
static int
binlog_sel_index(const char *name)
{
	const char *p = schema_select_columns;
	size_t len = strlen(name);
	int i = 0;

	for (;;) {
		const char *e = strchr(p, ',');
		size_t n = e != NULL ? (size_t)(e - p) : strlen(p);

		if (n == len && strncasecmp(p, name, len) == 0)
			return i;
		if (e == NULL)
			return -1;
		p = e + 1;
		while (*p == ' ')
			p++;
		i++;
	}
}

/* The table's columns, in order, from information_schema.  0, or -1. */
static int
binlog_columns(struct binlog *b, MYSQL *m)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	size_t n, i;

	if (mysql_query(m, "SELECT COLUMN_NAME, COLUMN_TYPE LIKE '%unsigned%',"
	    " DATABASE(), DATA_TYPE = 'uuid' FROM information_schema.COLUMNS"
	    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '"
	    SCHEMA_TABLE "' ORDER BY ORDINAL_POSITION") != 0 ||
	    (res = mysql_store_result(m)) == NULL) {
		b->fault = db_error(m, "reading the table's columns", &b->why);
		return -1;
	}
	n = (size_t)mysql_num_rows(res);
	free(b->sel);
	free(b->is_unsigned);
	free(b->is_uuid);
	b->sel = calloc(n + 1, sizeof(*b->sel));
	b->is_unsigned = calloc(n + 1, sizeof(*b->is_unsigned));
	b->is_uuid = calloc(n + 1, sizeof(*b->is_uuid));
	if (b->sel == NULL || b->is_unsigned == NULL || b->is_uuid == NULL) {
		mysql_free_result(res);
		b->ncols = 0;
		b->fault = DB_FAULT_OTHER;
		return why_set(&b->why, "out of memory");
	}
	for (i = 0; i < n && (row = mysql_fetch_row(res)) != NULL; i++) {
		b->sel[i] = row[0] != NULL ? binlog_sel_index(row[0]) : -1;
		b->is_unsigned[i] = row[1] != NULL && strcmp(row[1], "1") == 0;
		b->is_uuid[i] = row[3] != NULL && strcmp(row[3], "1") == 0;
		if (i == 0)
			snprintf(b->db, sizeof(b->db), "%s", row[2] != NULL ?
			    row[2] : "");
	}
	b->ncols = i;
	mysql_free_result(res);
	/* no table yet: its CREATE comes through the log first */
	b->mapped = false;
	b->map_size = 0;
	return 0;
}

int
binlog_snapshot(struct binlog *b, MYSQL *m)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	if (binlog_columns(b, m) == -1)
		return -1;
	if (b->ncols == 0 && mysql_query(m, "SELECT DATABASE()") == 0 &&
	    (res = mysql_store_result(m)) != NULL) {
		if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL)
			snprintf(b->db, sizeof(b->db), "%s", row[0]);
		mysql_free_result(res);
	}
	b->pos.file[0] = '\0';
	b->pos.pos = 0;
	if (mysql_query(m, "SHOW STATUS LIKE 'binlog_snapshot_%'") != 0 ||
	    (res = mysql_store_result(m)) == NULL) {
		b->fault = db_error(m, "reading the snapshot's log position",
		    &b->why);
		return -1;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] == NULL || row[1] == NULL)
			continue;
		if (strcasecmp(row[0], "Binlog_snapshot_file") == 0)
			snprintf(b->pos.file, sizeof(b->pos.file), "%s",
			    row[1]);
		else if (strcasecmp(row[0], "Binlog_snapshot_position") == 0)
			b->pos.pos = strtoull(row[1], NULL, 10);
	}
	mysql_free_result(res);
	if (b->pos.file[0] == '\0' || b->pos.pos == 0) {
		b->fault = DB_FAULT_CONFIG;
		return why_set(&b->why, "the server gives no binary log "
		    "position for a snapshot (Binlog_snapshot_file)");
	}
	return 0;
}

int
binlog_open(struct binlog *b, MYSQL *m, unsigned server_id)
{
	char sql[256], vals[1][BINLOG_VALUE_LEN];

	binlog_close(b);
	b->in_group = false;
	b->standalone = false;
	b->mapped = false;
	b->nrows = 0;
	/*
	 * What a replica says: it checks the events' CRC32 itself (else the
	 * server refuses a log written with checksums), it understands
	 * MariaDB's GTID events, and it wants a heartbeat while the log is
	 * idle so that a wait for rows ends and a dead link is noticed.
	 */
	snprintf(sql, sizeof(sql), "SET @master_binlog_checksum = "
	    "@@GLOBAL.binlog_checksum, @mariadb_slave_capability = 4, "
	    "@master_heartbeat_period = %lld",
	    (long long)BINLOG_HEARTBEAT_MS * 1000000);
	if (mysql_query(m, sql) != 0) {
		b->fault = db_error(m, "asking for the binary log", &b->why);
		return -1;
	}
	/* the events carry a CRC32 (or not): a ROTATE is read knowing it */
	if (binlog_row1(m, "SELECT @@GLOBAL.binlog_checksum", vals, 1,
	    "asking for the binary log", &b->why, &b->fault) == -1)
		return -1;
	b->crc = strcasecmp(vals[0], "NONE") != 0;
	if ((b->rpl = mariadb_rpl_init(m)) == NULL) {
		b->fault = db_error(m, "asking for the binary log", &b->why);
		return -1;
	}
	if (mariadb_rpl_optionsv(b->rpl, MARIADB_RPL_FILENAME, b->pos.file,
	    strlen(b->pos.file)) != 0 ||
	    mariadb_rpl_optionsv(b->rpl, MARIADB_RPL_START,
	    (unsigned long)b->pos.pos) != 0 ||
	    mariadb_rpl_optionsv(b->rpl, MARIADB_RPL_SERVER_ID,
	    server_id) != 0 ||
	    mariadb_rpl_optionsv(b->rpl, MARIADB_RPL_FLAGS, 0u) != 0 ||
	    mariadb_rpl_open(b->rpl) != 0) {
		b->fault = db_error(m, "asking for the binary log", &b->why);
		binlog_close(b);
		return -1;
	}
	b->m = m;
	snprintf(b->file, sizeof(b->file), "%s", b->pos.file);
	return 0;
}

static uint64_t
binlog_le(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

static uint64_t
binlog_be(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Bytes of a DECIMAL's group of digits, by digits. */
static const unsigned char binlog_dig2bytes[10] = {
	0, 1, 1, 2, 2, 3, 3, 4, 4, 4
};

/* The bytes a DECIMAL(prec, scale) takes. */
static size_t
binlog_decimal_size(unsigned prec, unsigned scale)
{
	unsigned intg = prec - scale;

	return (intg / 9) * 4 + binlog_dig2bytes[intg % 9] +
	    (scale / 9) * 4 + binlog_dig2bytes[scale % 9];
}

/*
 * A DECIMAL in MariaDB's binary form (groups of nine digits, big-endian,
 * the sign in the top bit, negative numbers inverted) as the server
 * prints it: "-12.30".  Returns the text's length.
 */
static size_t
binlog_decimal(const unsigned char *src, unsigned prec, unsigned scale,
    char *out, size_t size)
{
	unsigned char buf[40];
	unsigned intg = prec - scale, i, lead = intg % 9, tail = scale % 9;
	size_t n = binlog_decimal_size(prec, scale), len = 0, at = 0;
	bool neg, any = false;
	uint64_t v;

	memcpy(buf, src, n);
	neg = (buf[0] & 0x80) == 0;
	buf[0] ^= 0x80;
	if (neg)
		for (i = 0; i < n; i++)
			buf[i] ^= 0xff;
	if (neg)
		len += (size_t)snprintf(out + len, size - len, "-");
	if (lead > 0) {
		v = binlog_be(buf + at, binlog_dig2bytes[lead]);
		at += binlog_dig2bytes[lead];
		if (v != 0) {
			len += (size_t)snprintf(out + len, size - len,
			    "%" PRIu64, v);
			any = true;
		}
	}
	for (i = 0; i < intg / 9; i++, at += 4) {
		v = binlog_be(buf + at, 4);
		if (any)
			len += (size_t)snprintf(out + len, size - len,
			    "%09" PRIu64, v);
		else if (v != 0) {
			len += (size_t)snprintf(out + len, size - len,
			    "%" PRIu64, v);
			any = true;
		}
	}
	if (!any)
		len += (size_t)snprintf(out + len, size - len, "0");
	if (scale > 0)
		len += (size_t)snprintf(out + len, size - len, ".");
	for (i = 0; i < scale / 9; i++, at += 4)
		len += (size_t)snprintf(out + len, size - len, "%09" PRIu64,
		    binlog_be(buf + at, 4));
	if (tail > 0)
		len += (size_t)snprintf(out + len, size - len, "%0*" PRIu64,
		    (int)tail, binlog_be(buf + at, binlog_dig2bytes[tail]));
	return len < size ? len : size - 1;
}

/* Fractional seconds of fsp digits: (bytes read, microseconds). */
static size_t
binlog_frac(const unsigned char *p, unsigned fsp, unsigned long *usec)
{
	size_t n = (fsp + 1) / 2;

	*usec = 0;
	if (n == 1)
		*usec = (unsigned long)p[0] * 10000;
	else if (n == 2)
		*usec = (unsigned long)binlog_be(p, 2) * 100;
	else if (n == 3)
		*usec = (unsigned long)binlog_be(p, 3);
	return n;
}

/* "YYYY-MM-DD HH:MM:SS[.f...]", fsp digits of fraction. */
static size_t
binlog_datetime_text(char *out, size_t size, unsigned y, unsigned mo,
    unsigned d, unsigned h, unsigned mi, unsigned s, unsigned fsp,
    unsigned long usec)
{
	unsigned long div = 1;
	unsigned i;
	int n;

	n = snprintf(out, size, "%04u-%02u-%02u %02u:%02u:%02u", y, mo, d, h,
	    mi, s);
	if (fsp > 0 && fsp <= 6) {
		for (i = fsp; i < 6; i++)
			div *= 10;
		n += snprintf(out + n, size - (size_t)n, ".%0*lu", (int)fsp,
		    usec / div);
	}
	return (size_t)n < size ? (size_t)n : size - 1;
}

/*
 * A UUID column's value as the log has it (16 bytes in the order of the
 * text, trailing zero bytes left out) into out as lower-case text, what
 * the server shows.  0, or -1 when it is longer, or out too small.
 */
static int
binlog_uuid(const unsigned char *p, size_t n, char *out, size_t size,
    size_t *tlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (n > 16 || size < UUID_STR_LEN)
		return -1;
	for (i = 0; i < 16; i++) {
		unsigned v = i < n ? p[i] : 0;

		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[v >> 4];
		out[o++] = hex[v & 15];
	}
	out[o] = '\0';
	*tlen = o;
	return 0;
}

/*
 * One value of column c at p: *len gets the bytes it takes; when out is
 * not NULL, its text goes there (size bytes) and its length into *tlen.
 * 0, or -1 (why: a type this reader does not know, or a value past end).
 */
static int
binlog_value(const struct binlog_col *c, bool is_unsigned, bool is_uuid,
    const unsigned char *p, const unsigned char *end, char *out, size_t size,
    size_t *len, size_t *tlen, struct why *why)
{
	size_t avail = (size_t)(end - p), n = 0, pre = 0;
	unsigned long usec;
	uint64_t v;
	int64_t sv;
	bool text = true;	/* a type whose text this reader can write */
	unsigned type = c->type, real, fsp;

	switch (type) {
	case MYSQL_TYPE_TINY: n = 1; break;
	case MYSQL_TYPE_SHORT: n = 2; break;
	case MYSQL_TYPE_INT24: n = 3; break;
	case MYSQL_TYPE_LONG: n = 4; break;
	case MYSQL_TYPE_LONGLONG: n = 8; break;
	case MYSQL_TYPE_YEAR: n = 1; break;
	case MYSQL_TYPE_FLOAT: n = 4; break;
	case MYSQL_TYPE_DOUBLE: n = 8; break;
	case MYSQL_TYPE_DATE: n = 3; break;
	case MYSQL_TYPE_DATETIME: n = 8; break;
	case MYSQL_TYPE_TIMESTAMP: n = 4; break;
	case MYSQL_TYPE_DATETIME2: n = 5 + (c->meta + 1) / 2; break;
	case MYSQL_TYPE_TIMESTAMP2: n = 4 + (c->meta + 1) / 2; break;
	case MYSQL_TYPE_TIME2: n = 3 + (c->meta + 1) / 2; text = false; break;
	case MYSQL_TYPE_NEWDECIMAL:
		if ((c->meta >> 8) > 65 || (c->meta & 0xff) > (c->meta >> 8))
			return why_set(why, "a DECIMAL(%u,%u) column",
			    c->meta >> 8, c->meta & 0xff);
		n = binlog_decimal_size(c->meta >> 8, c->meta & 0xff);
		break;
	case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_VAR_STRING:
		pre = c->meta > 255 ? 2 : 1;
		break;
	case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_GEOMETRY:
	case MYSQL_TYPE_JSON:
		pre = c->meta >= 1 && c->meta <= 4 ? c->meta : 4;
		break;
	case MYSQL_TYPE_BIT:
		n = (c->meta & 0xff) + ((c->meta >> 8) + 7) / 8;
		text = false;
		break;
	case MYSQL_TYPE_STRING:
		real = c->meta >> 8;
		n = c->meta & 0xff;
		if ((real & 0x30) != 0x30) {
			n |= ((real & 0x30) ^ 0x30) << 4;
			real |= 0x30;
		}
		if (real == MYSQL_TYPE_ENUM || real == MYSQL_TYPE_SET) {
			text = false;
			break;
		}
		pre = n > 255 ? 2 : 1;
		n = 0;
		break;
	default:
		return why_set(why, "a column of type %u, which the "
		    "binary log reader does not know", type);
	}
	if (pre > 0) {
		if (avail < pre)
			return why_set(why, "a row image ends early");
		n = pre + (size_t)binlog_le(p, pre);
	}
	if (avail < n)
		return why_set(why, "a row image ends early");
	*len = n;
	if (out == NULL)
		return 0;
	if (!text)
		return why_set(why, "a column of type %u, which the binary "
		    "log reader cannot show", type);
	switch (type) {
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_LONGLONG:
		v = binlog_le(p, n);
		if (is_unsigned) {
			*tlen = (size_t)snprintf(out, size, "%" PRIu64, v);
			break;
		}
		/* sign-extend the n-byte value */
		sv = n < 8 && (v >> (n * 8 - 1)) != 0 ?
		    (int64_t)(v | ~((UINT64_C(1) << (n * 8)) - 1)) :
		    (int64_t)v;
		*tlen = (size_t)snprintf(out, size, "%" PRId64, sv);
		break;
	case MYSQL_TYPE_YEAR:
		*tlen = (size_t)snprintf(out, size, "%u", p[0] == 0 ? 0 :
		    1900u + p[0]);
		break;
	case MYSQL_TYPE_FLOAT: {
		float f;
		uint32_t u = (uint32_t)binlog_le(p, 4);

		memcpy(&f, &u, sizeof(f));
		/* the digits the server prints for a FLOAT */
		*tlen = (size_t)snprintf(out, size, "%.6g", (double)f);
		break;
	}
	case MYSQL_TYPE_DOUBLE: {
		double d;

		v = binlog_le(p, 8);
		memcpy(&d, &v, sizeof(d));
		*tlen = (size_t)snprintf(out, size, "%.15g", d);
		break;
	}
	case MYSQL_TYPE_DATE:
		v = binlog_le(p, 3);
		*tlen = (size_t)snprintf(out, size, "%04u-%02u-%02u",
		    (unsigned)(v >> 9), (unsigned)(v >> 5) & 15,
		    (unsigned)v & 31);
		break;
	case MYSQL_TYPE_DATETIME:
		v = binlog_le(p, 8);	/* YYYYMMDDhhmmss as a number */
		*tlen = binlog_datetime_text(out, size,
		    (unsigned)(v / 10000000000),
		    (unsigned)(v / 100000000 % 100),
		    (unsigned)(v / 1000000 % 100), (unsigned)(v / 10000 % 100),
		    (unsigned)(v / 100 % 100), (unsigned)(v % 100), 0, 0);
		break;
	case MYSQL_TYPE_DATETIME2: {
		uint64_t ymd, ym, hms;

		/* 1 sign bit, 17 bits year * 13 + month, 5 day, 5 hour ... */
		v = binlog_be(p, 5) - UINT64_C(0x8000000000);
		ymd = v >> 17;
		ym = ymd >> 5;
		hms = v & 0x1ffff;
		fsp = c->meta;
		binlog_frac(p + 5, fsp, &usec);
		*tlen = binlog_datetime_text(out, size, (unsigned)(ym / 13),
		    (unsigned)(ym % 13), (unsigned)(ymd & 31),
		    (unsigned)(hms >> 12), (unsigned)(hms >> 6) & 63,
		    (unsigned)hms & 63, fsp, usec);
		break;
	}
	case MYSQL_TYPE_TIMESTAMP:
	case MYSQL_TYPE_TIMESTAMP2: {
		struct tm tm;
		time_t secs;

		/* sm's sessions are in UTC (db_connect) */
		if (type == MYSQL_TYPE_TIMESTAMP) {
			secs = (time_t)binlog_le(p, 4);
			fsp = 0;
			usec = 0;
		} else {
			secs = (time_t)binlog_be(p, 4);
			fsp = c->meta;
			binlog_frac(p + 4, fsp, &usec);
		}
		gmtime_r(&secs, &tm);
		*tlen = binlog_datetime_text(out, size,
		    (unsigned)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
		    (unsigned)tm.tm_mday, (unsigned)tm.tm_hour,
		    (unsigned)tm.tm_min, (unsigned)tm.tm_sec, fsp, usec);
		break;
	}
	case MYSQL_TYPE_NEWDECIMAL:
		*tlen = binlog_decimal(p, c->meta >> 8, c->meta & 0xff, out,
		    size);
		break;
	default:	/* the strings */
		if (is_uuid) {
			if (binlog_uuid(p + pre, n - pre, out, size,
			    tlen) == -1)
				return why_set(why, "a UUID of %zu bytes",
				    n - pre);
			break;
		}
		if (n - pre >= size)
			return why_set(why, "a value of %zu bytes", n - pre);
		memcpy(out, p + pre, n - pre);
		out[n - pre] = '\0';
		*tlen = n - pre;
		break;
	}
	if (*tlen >= size)
		return why_set(why, "a row too long to show");
	return 0;
}

int
binlog_decode_row(const struct binlog *b, const struct binlog_col *cols,
    size_t n, const unsigned char *present, const unsigned char *p,
    const unsigned char *end, struct binlog_row *out, char *text,
    size_t *used, struct why *why)
{
	char *vals[BINLOG_SEL_MAX];
	unsigned long lens[BINLOG_SEL_MAX];
	const unsigned char *start = p, *nulls;
	size_t i, k = 0, npresent = 0, nb, len = 0, tlen = 0, at = 0;
	unsigned long long rowid;

	memset(vals, 0, sizeof(vals));
	memset(lens, 0, sizeof(lens));
	for (i = 0; i < n; i++)
		npresent += BINLOG_BIT(present, i);
	nb = (npresent + 7) / 8;
	if ((size_t)(end - p) < nb)
		return why_set(why, "a row image ends early");
	nulls = p;
	p += nb;
	for (i = 0; i < n; i++) {
		int s = i < b->ncols ? b->sel[i] : -1;
		bool show = s >= 0 && s < BINLOG_SEL_MAX;

		if (!BINLOG_BIT(present, i))
			continue;
		k++;
		if (BINLOG_BIT(nulls, k - 1))
			continue;
		if (binlog_value(&cols[i], i < b->ncols && b->is_unsigned[i],
		    i < b->ncols && b->is_uuid != NULL && b->is_uuid[i],
		    p, end, show ? text + at : NULL, BINLOG_TEXT_MAX - at,
		    &len, &tlen, why) == -1)
			return -1;
		p += len;
		if (show) {
			vals[s] = text + at;
			lens[s] = (unsigned long)tlen;
			at += tlen + 1;
		}
	}
	*used = (size_t)(p - start);
	memset(&out->r, 0, sizeof(out->r));
	out->r.id = vals[0] != NULL ? strtoull(vals[0], NULL, 10) : 0;
	out->ok = schema_record_from_row(vals, lens, &out->r.rec, &rowid,
	    out->r.source, &out->why) == 0;
	return out->ok ? 0 : 1;
}

/* The metadata bytes each type has in a TABLE_MAP event. */
static size_t
binlog_meta_size(unsigned type)
{
	switch (type) {
	case MYSQL_TYPE_FLOAT:
	case MYSQL_TYPE_DOUBLE:
	case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_GEOMETRY:
	case MYSQL_TYPE_JSON:
	case MYSQL_TYPE_TIMESTAMP2:
	case MYSQL_TYPE_DATETIME2:
	case MYSQL_TYPE_TIME2:
		return 1;
	case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_NEWDECIMAL:
	case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_ENUM:
	case MYSQL_TYPE_SET:
	case MYSQL_TYPE_BIT:
		return 2;
	default:
		return 0;
	}
}

static bool
binlog_str_eq(const MARIADB_STRING *s, const char *z)
{
	return s->length == strlen(z) && memcmp(s->str, z, s->length) == 0;
}

/* The followed table's TABLE_MAP: its column types, checked. */
static enum binlog_event
binlog_table_map(struct binlog *b, const MARIADB_RPL_EVENT *ev)
{
	const struct st_mariadb_rpl_table_map_event *tm = &ev->event.table_map;
	const unsigned char *types =
	    (const unsigned char *)tm->column_types.str;
	const unsigned char *meta = (const unsigned char *)tm->metadata.str;
	size_t i, at = 0, n = tm->column_count, msize;
	struct binlog_col *map;
	bool same;

	if (!binlog_str_eq(&tm->database, b->db) ||
	    !binlog_str_eq(&tm->table, SCHEMA_TABLE))
		return BINLOG_IDLE;
	if (b->ncols == 0) {
		why_set(&b->why, "the table was made after the binary log "
		    "was joined: its columns are read again");
		return BINLOG_CHANGED;
	}
	if (n != b->ncols || tm->column_types.length < n) {
		why_set(&b->why, "the table has %zu columns in the binary "
		    "log, %zu when the log was joined: its columns changed", n,
		    b->ncols);
		return BINLOG_CHANGED;
	}
	if ((map = calloc(n, sizeof(*map))) == NULL) {
		why_set(&b->why, "out of memory");
		return BINLOG_CHANGED;
	}
	for (i = 0; i < n; i++) {
		map[i].type = types[i];
		msize = binlog_meta_size(types[i]);
		if (at + msize > tm->metadata.length) {
			free(map);
			why_set(&b->why, "a TABLE_MAP event ends early");
			return BINLOG_CHANGED;
		}
		if (msize == 1)
			map[i].meta = meta[at];
		else if (msize == 2 && (types[i] == MYSQL_TYPE_VARCHAR ||
		    types[i] == MYSQL_TYPE_VAR_STRING))
			map[i].meta = (unsigned)binlog_le(meta + at, 2);
		else if (msize == 2)	/* (precision, scale), (type, length) */
			map[i].meta = (unsigned)binlog_be(meta + at, 2);
		at += msize;
	}
	/* the first map after joining the log is the one the columns fit */
	same = b->map_size == 0 || memcmp(b->map, map, n * sizeof(*map)) == 0;
	free(b->map);
	b->map = map;
	b->map_size = n;
	if (!same) {
		why_set(&b->why, "the table's column types changed");
		return BINLOG_CHANGED;
	}
	b->mapped = true;
	b->table_id = tm->table_id;
	return BINLOG_IDLE;
}

/* The rows of an insert into the followed table, kept until the commit. */
static enum binlog_event
binlog_rows(struct binlog *b, const MARIADB_RPL_EVENT *ev)
{
	const struct st_mariadb_rpl_rows_event *re = &ev->event.rows;
	const unsigned char *p = re->row_data, *end = p + re->row_data_size;
	size_t used;

	if (!b->mapped || re->table_id != b->table_id)
		return BINLOG_IDLE;
	if (ev->event_type != WRITE_ROWS_EVENT_V1 &&
	    ev->event_type != WRITE_ROWS_EVENT) {
		if (ev->event_type != WRITE_ROWS_COMPRESSED_EVENT_V1 &&
		    ev->event_type != WRITE_ROWS_COMPRESSED_EVENT)
			return BINLOG_IDLE;	/* updates, deletes */
		why_set(&b->why, "inserts logged compressed "
		    "(log_bin_compress)");
		return BINLOG_CHANGED;
	}
	if (re->column_count != b->map_size) {
		why_set(&b->why, "a rows event of %u columns for a table of "
		    "%zu", re->column_count, b->map_size);
		return BINLOG_CHANGED;
	}
	while (p < end) {
		if (b->nrows == b->cap) {
			size_t cap = b->cap > 0 ? b->cap * 2 : 64;
			struct binlog_row *rows = realloc(b->rows,
			    cap * sizeof(*rows));

			if (rows == NULL) {
				why_set(&b->why, "out of memory");
				return BINLOG_CHANGED;
			}
			b->rows = rows;
			b->cap = cap;
		}
		if (binlog_decode_row(b, b->map, b->map_size,
		    re->column_bitmap, p, end, &b->rows[b->nrows], b->text,
		    &used, &b->why) == -1)
			return BINLOG_CHANGED;
		p += used;
		b->nrows++;
	}
	return BINLOG_IDLE;
}

/* The statement's first word is word (case-insensitive)? */
static bool
binlog_verb(const char *stmt, const char *word)
{
	size_t n = strlen(word);

	while (*stmt == ' ' || *stmt == '\n' || *stmt == '\t' ||
	    *stmt == '(')
		stmt++;
	return strncasecmp(stmt, word, n) == 0 &&
	    (stmt[n] == '\0' || stmt[n] == ' ' || stmt[n] == '\n' ||
	    stmt[n] == '\t');
}

/* Whether stmt names the table itself (not system_metrics_1m, say). */
static bool
binlog_names_table(const char *stmt)
{
	const char *p = stmt;
	size_t n = strlen(SCHEMA_TABLE);

	while ((p = strcasestr(p, SCHEMA_TABLE)) != NULL) {
		char after = p[n];

		if ((p == stmt || !(isalnum((unsigned char)p[-1]) ||
		    p[-1] == '_')) && !(isalnum((unsigned char)after) ||
		    after == '_'))
			return true;
		p += n;
	}
	return false;
}

/*
 * sm-keep's partition work (sm-keep(1)): days made ahead, days dropped.
 * The rows that stay, and the columns, are as they were.
 */
static bool
binlog_partition_ddl(const char *stmt)
{
	return binlog_verb(stmt, "ALTER") &&
	    (strcasestr(stmt, " DROP PARTITION ") != NULL ||
	    strcasestr(stmt, " REORGANIZE PARTITION ") != NULL ||
	    strcasestr(stmt, " ADD PARTITION ") != NULL) &&
	    strcasestr(stmt, " COLUMN ") == NULL;
}

/* A statement in the log (DDL, or a change logged as a statement). */
static enum binlog_event
binlog_query(struct binlog *b, const MARIADB_RPL_EVENT *ev, bool *commit)
{
	const struct st_mariadb_rpl_query_event *q = &ev->event.query;
	char stmt[BINLOG_STMT_MAX];
	size_t n = q->statement.length < sizeof(stmt) - 1 ?
	    q->statement.length : sizeof(stmt) - 1;
	size_t i;

	memcpy(stmt, q->statement.str, n);
	stmt[n] = '\0';
	/* one line, for the message that may quote it */
	for (i = 0; i < n; i++)
		if (stmt[i] == '\n' || stmt[i] == '\r' || stmt[i] == '\t')
			stmt[i] = ' ';
	*commit = false;
	if (binlog_verb(stmt, "BEGIN")) {
		b->in_group = true;
		b->nrows = 0;
		return BINLOG_IDLE;
	}
	if (binlog_verb(stmt, "COMMIT")) {
		*commit = true;
		return BINLOG_IDLE;
	}
	if (binlog_verb(stmt, "ROLLBACK")) {
		b->nrows = 0;
		b->in_group = false;
		return BINLOG_IDLE;
	}
	/* about the table: in its database, or naming the database */
	if (!binlog_names_table(stmt) ||
	    (!binlog_str_eq(&q->database, b->db) && strstr(stmt, b->db) ==
	    NULL))
		return BINLOG_IDLE;
	if (binlog_verb(stmt, "TRUNCATE") || binlog_verb(stmt, "DROP")) {
		b->mapped = false;
		return BINLOG_RESET;
	}
	if (binlog_partition_ddl(stmt)) {
		b->mapped = false;
		return BINLOG_IDLE;
	}
	if (binlog_verb(stmt, "ALTER") || binlog_verb(stmt, "RENAME")) {
		why_set(&b->why, "the table was altered: %.200s", stmt);
		return BINLOG_CHANGED;
	}
	if (binlog_verb(stmt, "INSERT") || binlog_verb(stmt, "REPLACE") ||
	    binlog_verb(stmt, "LOAD")) {
		why_set(&b->why, "an insert into the table was logged as a "
		    "statement (binlog_format is not ROW for its session)");
		return BINLOG_CHANGED;
	}
	/* CREATE (IF NOT EXISTS): its TABLE_MAPs are checked against ours */
	b->mapped = false;
	return BINLOG_IDLE;
}

/*
 * A ROTATE event, read from the packet: Connector/C 3.3.20 takes its
 * position and file name from the wrong bytes.  The packet is the OK
 * byte, the 19-byte header, the 8-byte position, the name, the CRC32.
 */
static int
binlog_rotate(struct binlog *b, const MARIADB_RPL_EVENT *ev)
{
	const unsigned char *raw = ev->raw_data;
	size_t crc = b->crc ? 4 : 0, n;

	if (raw == NULL || ev->raw_data_size <= 1 + 19 + 8 + crc)
		return why_set(&b->why, "a ROTATE event too short");
	n = ev->raw_data_size - (1 + 19 + 8) - crc;
	if (n >= sizeof(b->file))
		return why_set(&b->why, "a ROTATE event's file name of %zu "
		    "bytes", n);
	memcpy(b->file, raw + 1 + 19 + 8, n);
	b->file[n] = '\0';
	if (!b->in_group) {
		snprintf(b->pos.file, sizeof(b->pos.file), "%s", b->file);
		b->pos.pos = binlog_le(raw + 1 + 19, 8);
	}
	return 0;
}

enum binlog_event
binlog_next(struct binlog *b)
{
	MARIADB_RPL_EVENT *ev;
	enum binlog_event rc = BINLOG_IDLE;
	bool commit = false;

	if (b->rpl == NULL) {
		b->fault = DB_FAULT_CONNECTION;
		why_set(&b->why, "not reading the binary log");
		return BINLOG_DOWN;
	}
	if (b->ev != NULL) {
		mariadb_free_rpl_event(b->ev);
		b->ev = NULL;
	}
	/* a fresh event each time: the library frees one it cannot parse */
	if ((ev = mariadb_rpl_fetch(b->rpl, NULL)) == NULL) {
		if (mysql_errno(b->m) == 0) {
			b->fault = DB_FAULT_CONNECTION;
			why_set(&b->why, "the server ended the binary log");
			return BINLOG_DOWN;
		}
		/*
		 * The client's errors (2000 and up: a TLS error as the
		 * server goes away, too) mean the link; the server's (1236:
		 * a purged or missing file, 1227: the grant revoked) mean
		 * that it will not serve the log from here.
		 */
		b->fault = db_error(b->m, "reading the binary log", &b->why);
		if (mysql_errno(b->m) >= 2000) {
			b->fault = DB_FAULT_CONNECTION;
			return BINLOG_DOWN;
		}
		return BINLOG_LOST;
	}
	b->ev = ev;
	switch (ev->event_type) {
	case ROTATE_EVENT:
		/* a new file (or, first of all, the one asked for) */
		if (binlog_rotate(b, ev) == -1) {
			b->fault = DB_FAULT_OTHER;
			return BINLOG_LOST;
		}
		return BINLOG_IDLE;
	case GTID_EVENT:
		b->in_group = true;
		b->standalone = (ev->event.gtid.flags & FL_STANDALONE) != 0;
		b->nrows = 0;
		break;
	case TABLE_MAP_EVENT:
		rc = binlog_table_map(b, ev);
		break;
	case WRITE_ROWS_EVENT_V1:
	case WRITE_ROWS_EVENT:
	case WRITE_ROWS_COMPRESSED_EVENT_V1:
	case WRITE_ROWS_COMPRESSED_EVENT:
		rc = binlog_rows(b, ev);
		break;
	case QUERY_EVENT:
		rc = binlog_query(b, ev, &commit);
		if (b->standalone)
			commit = true;
		break;
	case XID_EVENT:
		commit = true;
		break;
	default:
		break;
	}
	if (commit) {
		b->in_group = false;
		b->standalone = false;
		if (rc == BINLOG_IDLE && b->nrows > 0)
			rc = BINLOG_ROWS;
	}
	/* between transactions: this is where to come back to */
	if (!b->in_group && ev->next_event_pos > 0) {
		snprintf(b->pos.file, sizeof(b->pos.file), "%s", b->file);
		b->pos.pos = ev->next_event_pos;
	}
	return rc;
}
