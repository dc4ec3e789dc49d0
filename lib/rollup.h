/*
 * The aggregation of sm-keep's rollup (sm-keep(1), "How a pass rolls
 * up"), in memory: raw rows added into buckets per (host, source, bucket
 * start), each holding the rows' count and, per numeric field, the count
 * of values, the minimum, the maximum and the sum; minute buckets folded
 * into hour buckets; and the buckets written as the rows of an INSERT
 * that merges them into a tier.  What GROUP BY over the raw rows gives,
 * without the server's aggregates.
 */
#ifndef SM_ROLLUP_H
#define SM_ROLLUP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* How a field's values add up: as its raw column holds them. */
enum rollup_kind {
	/*
	 * Integers and DECIMAL: exact, as an integer count of the last
	 * decimal (12.34 as 1234); a sum past 2^63 is an error.
	 */
	ROLLUP_FIXED,
	ROLLUP_REAL,	/* FLOAT, DOUBLE: in double precision */
};

/* One value of a row, as a bound result column holds it. */
union rollup_num {
	int64_t i;
	double d;
};

struct rollup_field {
	enum rollup_kind kind;
	/*
	 * The column's decimals, 0 to 18 (DECIMAL(5,2): 2), which the
	 * figures are written with; ROLLUP_REAL: -1 for FLOAT and DOUBLE (15
	 * digits, as the server turns a double into a DECIMAL).
	 */
	int decimals;
};

/* One field's figures in a bucket; min, max and sum only when n > 0. */
struct rollup_agg {
	union rollup_num min, max, sum;
	uint32_t n;
};

struct rollup_bucket {
	struct rollup_bucket *next;	/* in its hash chain */
	uint64_t hash;
	int64_t start;		/* seconds since the epoch, UTC */
	uint64_t samples;	/* rows */
	size_t host_len, source_len;
	const char *key;	/* host's bytes, then source's */
	struct rollup_agg agg[];	/* one a field */
};

struct rollup;

/*
 * Buckets of bucket_s seconds over nfields fields typed by fields
 * (copied); NULL when out of memory.
 */
struct rollup *rollup_new(int64_t bucket_s, const struct rollup_field *fields,
    size_t nfields);
void rollup_free(struct rollup *r);

/* Empty it, for the next step. */
void rollup_clear(struct rollup *r);

/*
 * Add a row sampled at t (seconds since the epoch, UTC) into its bucket:
 * field k's value v[k], unless null[k].  0, or -1 with errno (ENOMEM;
 * ERANGE: an integer sum past 2^63, the row not added).
 */
int rollup_add(struct rollup *r, const char *host, size_t host_len,
    const char *source, size_t source_len, int64_t t,
    const union rollup_num *v, const char *null);

/*
 * Add every bucket of from into the bucket of r that holds its start
 * (minutes into hours); the same fields.  0, or -1 with errno.
 */
int rollup_fold(struct rollup *r, const struct rollup *from);

size_t rollup_count(const struct rollup *r);	/* buckets */
uint64_t rollup_rows(const struct rollup *r);	/* rows added */

/*
 * The buckets in key order (host, source, start): an array of
 * rollup_count pointers, valid until the rollup changes; NULL when out
 * of memory.
 */
struct rollup_bucket *const *rollup_sorted(struct rollup *r);

/*
 * A DECIMAL's text ("-12.34", n bytes) as a count of its decimals'
 * last digit (decimals 2: -1234) in *v; 0, or -1 when it is not a
 * decimal number, has more decimals, or is past 64 bits.
 */
int rollup_fixed(const char *s, size_t n, int decimals, int64_t *v);

/*
 * Write buckets as the rows of an INSERT's VALUES: "(host, source,
 * 'YYYY-MM-DD HH:MM:SS', samples, n, min, max, sum, ...)", comma
 * separated, in the tier's column order (tier_columns); NULL for a field
 * no row had.  Host and source as utf8mb4 hex literals.  0, or -1 when
 * out of memory or a bucket starts before 1970.
 */
int rollup_values(const struct rollup *r, struct rollup_bucket *const *b,
    size_t n, FILE *out);

#endif
