/*
 * sm-tail --listen's page (web/index.html, app.js, app.css), compiled into
 * the binary: the Makefile turns web/ into a C file of byte arrays
 * (build/gen/webpage_data.c), so that a fresh build serves the page with
 * no files beside it.  --web-root serves another copy from disk instead.
 */
#ifndef SM_WEBPAGE_H
#define SM_WEBPAGE_H

#include <stddef.h>

#include "why.h"

/* One file of the page, as compiled in. */
struct webpage_file {
	const char *name;		/* "index.html"; NULL ends the table */
	const unsigned char *data;
	size_t len;
};

/* The compiled-in files, ended by a NULL name (the generated file). */
extern const struct webpage_file webpage_files[];

/* The compiled-in file called name, or NULL. */
const struct webpage_file *webpage_find(const char *name);

/*
 * Whether dir can serve the page: 0 when dir/index.html is a readable
 * file, else -1 with the path and the reason in why.
 */
int webpage_root_check(const char *dir, struct why *why);

#endif
