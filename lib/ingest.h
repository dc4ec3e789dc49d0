/*
 * sm-store's stdin mode: read NDJSON records, hand them to the committer in
 * batches (at most batch rows, or whatever arrived within flush_ms of a
 * batch's first record), report and skip bad lines, echo what was
 * committed, and spool what could not be stored.
 */
#ifndef SM_INGEST_H
#define SM_INGEST_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "spool.h"
#include "store.h"

#define INGEST_FLUSH_MS_DEFAULT 500

struct ingest_config {
	struct store *store;
	int fd;				/* input, usually 0 */
	size_t batch;			/* rows per batch */
	long flush_ms;			/* store a batch this soon */
	size_t max_line;		/* 0: NDJSON_MAX_LINE_DEFAULT */
	bool echo;			/* committed records on stdout */
	bool strict;			/* stop reading at a rejected line */
	struct spool *reject;		/* rejected lines, or NULL */
	struct spool *spool;		/* unstored records, or NULL */
	volatile sig_atomic_t *stop;	/* set by SIGINT/SIGTERM */
};

struct ingest_stats {
	unsigned long long stored;
	unsigned long long duplicates;
	unsigned long long rejected;
	unsigned long long spooled;
	unsigned long long lost;	/* neither stored nor spooled */
};

/*
 * Run until end of input (or *stop, or with strict the first rejected
 * line or record): returns the exit status (sm(7)):
 * 0, 1 when lines were rejected, 3 when records could not be stored.
 */
int ingest_run(const struct ingest_config *c, struct ingest_stats *st);

/* "N stored, N duplicates, N rejected[, N spooled][, N lost]". */
void ingest_summary(const struct ingest_stats *st, char *buf, size_t size);

#endif
