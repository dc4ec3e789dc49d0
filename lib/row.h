/*
 * A row of table system_metrics read back (sm-tail, its dashboards and
 * its feed): the table's id, the record, and data_source.  The type every
 * reader and view shares; lib/rowfmt.h formats it.
 */
#ifndef SM_ROW_H
#define SM_ROW_H

#include "record.h"

/* data_source's width (SCHEMA_SOURCE_MAX; rowfmt.c checks they agree). */
#define ROWFMT_SOURCE_MAX 50

/* A row of system_metrics. */
struct rowfmt_row {
	unsigned long long id;		/* the table's id column */
	struct record rec;
	char source[ROWFMT_SOURCE_MAX + 1];	/* data_source; "" when NULL */
};

#endif
