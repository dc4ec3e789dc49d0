/*
 * journal-write: what putting the journal's bytes into the page cache
 * costs the kernel, four ways, for bench/RESULTS.md (issue 25).  Writes
 * TOTAL bytes (357,000,000: 1,000,000 records of 357 bytes) in pieces of
 * 72,000 bytes (one read of the input, framed) into 16 MiB segment files
 * in the current directory, and prints the process's wall, user and
 * system time.  Benchmark tool only: never used by the tests.
 *
 *   journal-write write     write(2) to new files, unlinked when full
 *                           (what lib/journal.c does)
 *   journal-write mmap      fallocate(2) each new file to 16 MiB, map it
 *                           MAP_SHARED, memcpy, unmap and unlink
 *   journal-write populate  the same, MADV_POPULATE_WRITE a MiB ahead
 *   journal-write reuse     write(2) over one file again and again (the
 *                           pages stay in the cache: a recycled segment)
 *
 *   cc -O2 -o journal-write bench/journal-write.c
 */
#define _GNU_SOURCE
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define SEG (16L << 20)
#define PIECE 72000L
#define TOTAL 357000000L
#define MIB (1L << 20)

enum mode { WRITE, MMAP, POPULATE, REUSE };

static double
secs(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* One segment of mode m from fd: how many bytes it took. */
static long
segment(enum mode m, int fd, const char *piece, long left)
{
	long off = 0;
	char *map;

	if (m == WRITE || m == REUSE) {
		for (; off + PIECE <= SEG && off < left; off += PIECE)
			if (pwrite(fd, piece, PIECE, off) != PIECE)
				err(1, "pwrite");
		return off;
	}
	if (fallocate(fd, 0, 0, SEG) == -1)
		err(1, "fallocate");
	map = mmap(NULL, SEG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		err(1, "mmap");
	for (; off + PIECE <= SEG && off < left; off += PIECE) {
		long next = (off / MIB + 1) * MIB;

		/* the next MiB, as the piece reaches into this one's end */
		if (m == POPULATE && off % MIB < PIECE && next < SEG)
			(void)madvise(map + next, MIB, MADV_POPULATE_WRITE);
		memcpy(map + off, piece, PIECE);
	}
	munmap(map, SEG);
	return off;
}

int
main(int argc, char **argv)
{
	static const char *names[] = { "write", "mmap", "populate",
	    "reuse" };
	struct timespec t0, t1;
	struct rusage ru;
	char name[32], *piece;
	long done = 0;
	int m, seg = 0, fd;

	for (m = 0; m < 4; m++)
		if (argc == 2 && strcmp(argv[1], names[m]) == 0)
			break;
	if (m == 4)
		errx(2, "usage: journal-write write|mmap|populate|reuse");
	if ((piece = malloc(PIECE)) == NULL)
		err(1, "malloc");
	memset(piece, 'x', PIECE);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (done < TOTAL) {
		snprintf(name, sizeof(name), "journal-write.%d",
		    m == REUSE ? 0 : seg++);
		fd = open(name, O_RDWR | O_CREAT | (m == REUSE ? 0 : O_TRUNC),
		    0644);
		if (fd == -1)
			err(1, "%s", name);
		done += segment((enum mode)m, fd, piece, TOTAL - done);
		close(fd);
		if (m != REUSE)
			unlink(name);
	}
	if (m == REUSE)
		unlink(name);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru);
	printf("%s: wall %.3f s, user %.3f s, sys %.3f s\n", names[m],
	    (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	    secs(ru.ru_utime), secs(ru.ru_stime));
	free(piece);
	return 0;
}
