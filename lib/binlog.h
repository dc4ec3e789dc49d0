/*
 * Reading the inserts into system_metrics from the server's binary log
 * (sm-tail -f --via binlog): the replication protocol of MariaDB
 * Connector/C (mariadb_rpl.h), with the row images decoded here.
 *
 * The binary log holds committed transactions only, in commit order.  A
 * transaction's rows are kept until its commit event (XID, or a COMMIT
 * query) and handed out together; the position after that commit is where
 * reading starts again after a lost connection, so a transaction is never
 * half shown and never shown twice.  Row images are decoded from the
 * TABLE_MAP column types and metadata: Connector/C 3.3.20's
 * mariadb_rpl_extract_rows refuses this table's rows ("Malformed row data
 * packet stream"), so it is not used.  The columns' names and signedness
 * come from information_schema (binlog_row_metadata need not be FULL);
 * each value becomes the text the server would send for it, so that rows
 * are read back by schema_record_from_row exactly as polled rows are.
 *
 * Statements about the table found in the log: TRUNCATE and DROP restart
 * its ids (BINLOG_RESET); ALTER, RENAME, a CREATE that changed its columns
 * and inserts logged as statements cannot be followed in the log
 * (BINLOG_CHANGED): the caller polls, then comes back at a new snapshot
 * with the columns read again.
 */
#ifndef SM_BINLOG_H
#define SM_BINLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>
#include <mariadb_rpl.h>

#include "db.h"
#include "record.h"
#include "row.h"
#include "why.h"

#define BINLOG_FILE_MAX 512
#define BINLOG_HEARTBEAT_MS 500	/* the server's beat while the log is idle */
#define BINLOG_TEXT_MAX 65536	/* bytes of one row's values as text */

/* A place in the binary log. */
struct binlog_pos {
	char file[BINLOG_FILE_MAX];	/* "": none */
	unsigned long long pos;
};

/* A row of a committed transaction. */
struct binlog_row {
	struct rowfmt_row r;
	bool ok;			/* else why says what is wrong */
	struct why why;
};

/* What binlog_next read. */
enum binlog_event {
	BINLOG_IDLE,	/* a heartbeat, or nothing about the table's rows */
	BINLOG_ROWS,	/* a commit: rows[0..nrows) were inserted */
	BINLOG_RESET,	/* TRUNCATE or DROP: the table's ids restart */
	BINLOG_CHANGED,	/* the log cannot be followed for the table here */
	BINLOG_LOST,	/* the server cannot serve the log from pos (why) */
	BINLOG_DOWN	/* the connection failed (why, fault) */
};

/* A column of the table as the log writes it. */
struct binlog_col {
	unsigned char type;	/* enum enum_field_types */
	unsigned meta;		/* from the TABLE_MAP metadata */
};

struct binlog {
	MARIADB_RPL *rpl;	/* NULL: not reading */
	MARIADB_RPL_EVENT *ev;	/* reused for every event */
	MYSQL *m;		/* the caller's, given to binlog_open */
	/* the table, from information_schema */
	char db[256];
	size_t ncols;
	/* each column's index in schema_select_columns */
	int *sel;
	bool *is_unsigned;
	bool *is_uuid;		/* MariaDB's UUID type: 16 bytes in the log */
	/* the table's TABLE_MAP in the current transaction */
	bool mapped;
	unsigned long long table_id;
	struct binlog_col *map;	/* ncols of them when mapped */
	size_t map_size;
	/* where things are */
	struct binlog_pos pos;	/* after the last commit read: resume here */
	char file[BINLOG_FILE_MAX];	/* the file being read */
	bool crc;		/* the events end in a CRC32 */
	bool in_group;		/* inside a transaction */
	bool standalone;	/* a group of one statement, no commit */
	/* the rows of the open transaction */
	struct binlog_row *rows;
	size_t nrows, cap;
	char *text;		/* BINLOG_TEXT_MAX bytes */
	struct why why;
	enum db_fault fault;
};

/* 0, or -1 when out of memory. */
int binlog_init(struct binlog *b);
void binlog_free(struct binlog *b);

/*
 * Can this server's binary log be followed by this user?  Returns 0 when
 * yes; 1 when not, with everything that is missing in why (log_bin,
 * binlog_format=ROW, binlog_row_image=FULL, REPLICATION SLAVE, a MariaDB
 * server); -1 when the server did not answer (why, *fault).
 */
int binlog_check(MYSQL *m, struct why *why, enum db_fault *fault);

/*
 * Inside the caller's consistent snapshot (START TRANSACTION WITH
 * CONSISTENT SNAPSHOT): the table's columns and the binary log position
 * of the snapshot into b->pos.  0, or -1 (b->why, b->fault).
 */
int binlog_snapshot(struct binlog *b, MYSQL *m);

/*
 * Ask the server on m (connected, idle) for its log from b->pos, as
 * replica server_id.  0, or -1 (b->why, b->fault).  m stays the caller's;
 * binlog_close before closing it.
 */
int binlog_open(struct binlog *b, MYSQL *m, unsigned server_id);

/* Stop reading (the connection is left to the caller). */
void binlog_close(struct binlog *b);

/*
 * Wait for the next event (a heartbeat comes every BINLOG_HEARTBEAT_MS
 * while the log is idle) and take it in.
 */
enum binlog_event binlog_next(struct binlog *b);

#endif
