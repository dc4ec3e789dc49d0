/*
 * sm-tail's output formats for rows read back from system_metrics:
 *
 *   ndjson  the record in the canonical dialect, the shape sm-read writes
 *           (so sm-tail -f | sm-post re-ships it);
 *   table   aligned columns, one row a line, the header repeated every
 *           screenful on a terminal;
 *   seed    the replaced system's nested realtime payload:
 *           {"cpu":..,"ram":..,"ram_details":{"total","used","free"},
 *            "processes":{"total_procesos","procesos_corriendo",
 *            "procesos_durmiendo","procesos_zombies","procesos_parados"},
 *            "data_source":..,"timestamp":..}
 */
#ifndef SM_ROWFMT_H
#define SM_ROWFMT_H

#include <stdbool.h>
#include <stddef.h>

#include "row.h"

#define ROWFMT_LINE_MAX 4096	/* one formatted row, header included */
#define ROWFMT_HOST_WIDTH 16	/* table: wider names are cut */
#define ROWFMT_SOURCE_WIDTH 12

enum rowfmt_kind {
	ROWFMT_NDJSON,
	ROWFMT_TABLE,
	ROWFMT_SEED
};

struct rowfmt {
	enum rowfmt_kind kind;
	unsigned header_every;	/* table: rows a header covers; 0: once */
	unsigned long since_header;	/* rows written under the last one */
	bool header_done;
};

/* Parse "ndjson", "table" or "seed"; -1 when unknown. */
int rowfmt_parse(const char *name, enum rowfmt_kind *kind);

/*
 * header_every: for a table on a terminal, the rows that fit under one
 * header (the screen's height less one); 0 writes the header once.
 */
void rowfmt_init(struct rowfmt *f, enum rowfmt_kind kind,
    unsigned header_every);

/*
 * Format one row as one line (a table header line before it when one is
 * due) into buf.  Returns the length, or -1 when it does not fit or memory
 * runs out.
 */
int rowfmt_row(struct rowfmt *f, const struct rowfmt_row *row, char *buf,
    size_t size);

/*
 * Copy s into dst (size bytes) for a terminal: control characters and
 * broken UTF-8 become '?', at most width characters are kept (the last a
 * '~' when cut), and with pad the rest is filled with spaces up to width.
 * Returns the bytes written, NUL not counted.
 */
size_t rowfmt_cell(char *dst, size_t size, const char *s, unsigned width,
    bool pad);

#endif
