/*
 * Fixture trees for the unit tests that read /proc-like files: FIX, the
 * committed trees; a scratch tree (root) a test group makes with
 * fixture_new, fills with fixture_dir and put, and removes with
 * fixture_remove.  Included by one test file each, after <cmocka.h>.
 */
#ifndef SM_TEST_FIXTURE_H
#define SM_TEST_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIX "tests/fixtures/"

/* the scratch tree: a directory of /tmp */
static char root[64];

/* Write root/name (its directory made already) holding text. */
static inline void
put(const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* Make the directory root/name; 0, or -1. */
static inline int
fixture_dir(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	return mkdir(path, 0755);
}

/* A new, empty root; 0, or -1 (a cmocka setup's answer). */
static inline int
fixture_new(void **state)
{
	(void)state;
	strcpy(root, "/tmp/sm-unit.XXXXXX");
	return mkdtemp(root) != NULL ? 0 : -1;
}

static inline int
fixture_unlink(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove root and everything in it; 0, or -1 (a cmocka teardown's). */
static inline int
fixture_remove(void **state)
{
	(void)state;
	return nftw(root, fixture_unlink, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
