/*
 * Unit tests for lib/journal.c: frames, checkpoints, recovery of a
 * journal cut at every byte offset, a corrupted frame, a full journal
 * (waiting, or dropping its oldest segment).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "journal.h"

#define NREC 14

struct fixture {
	char dir[64];
	char sub[96];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_journal.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->sub, sizeof(f->sub), "%s/j", f->dir);
	*state = f;
	return 0;
}

static void
rm_dir(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	rm_dir(f->dir);
	free(f);
	return 0;
}

static struct journal_opts
opts(const char *dir, uint64_t seg_bytes, uint64_t max_bytes)
{
	struct journal_opts o = {
		.dir = dir,
		.max_bytes = max_bytes,
		.seg_bytes = seg_bytes,
		.sync = JOURNAL_SYNC_INTERVAL,
		.sync_ms = 500,
		.max_rec = 4096,
	};

	return o;
}

/* Record i: sizes vary, so frames end at irregular offsets. */
static size_t
record(int i, char *buf, size_t size)
{
	int n = snprintf(buf, size, "{\"id\":\"r%d\",\"pad\":\"%.*s\"}", i,
	    (i * 7) % 23, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");

	return (size_t)n;
}

/* Read every committed record; check they are 0..n-1 from first. */
static int
read_all(struct journal *j, int first, int n)
{
	struct journal_pos end;
	struct why why;
	const char *rec;
	char want[128];
	size_t len, wlen;
	int got = 0, rc;

	while ((rc = journal_read(j, &rec, &len, &end, &why)) == 1) {
		assert_true(got < n);
		wlen = record(first + got, want, sizeof(want));
		assert_int_equal(len, wlen);
		assert_memory_equal(rec, want, len);
		got++;
	}
	assert_int_equal(rc, 0);
	return got;
}

/* Opened again, the journal at o has nothing to send. */
static void
reopens_empty(const struct journal_opts *o)
{
	struct journal_recovery rec;
	struct journal j;
	struct why why;

	assert_int_equal(journal_open(&j, o, &rec, &why), 0);
	assert_int_equal(rec.records, 0);
	assert_int_equal(journal_close(&j, &why), 0);
}

static void
test_crc32c(void **state)
{
	(void)state;
	/* the check value of CRC-32C */
	assert_int_equal(journal_crc32c(0, "123456789", 9), 0xE3069283U);
	assert_int_equal(journal_crc32c(journal_crc32c(0, "1234", 4),
	    "56789", 5), 0xE3069283U);
	assert_int_equal(journal_crc32c_table(0, "123456789", 9),
	    0xE3069283U);
	/* the instruction and the table agree, at every length and start */
	{
		char buf[5000];
		size_t i, off;

		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (char)(i * 7 + 3 + (i >> 8));
		for (off = 0; off < 9; off++)
			for (i = 0; i + off <= 300; i += 13)
				assert_int_equal(journal_crc32c(5, buf + off,
				    i), journal_crc32c_table(5, buf + off,
				    i));
		/* past the three-stripe blocks, short and long */
		for (off = 0; off < 9; off += 4)
			for (i = 0; i + off <= sizeof(buf); i += 61)
				assert_int_equal(journal_crc32c(0, buf + off,
				    i), journal_crc32c_table(0, buf + off,
				    i));
	}
}

static void
fill(struct journal *j, int from, int n, bool commit_each)
{
	char buf[128];
	size_t len;
	int i;

	for (i = from; i < from + n; i++) {
		len = record(i, buf, sizeof(buf));
		assert_int_equal(journal_append(j, buf, len), 0);
		if (commit_each)
			assert_int_equal(journal_commit(j), 0);
	}
	assert_int_equal(journal_commit(j), 0);
}

static void
test_roundtrip_and_checkpoint(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = opts(f->sub, 0, 0);
	struct journal_recovery rec;
	struct journal_pos end;
	struct journal j;
	struct why why;
	const char *p;
	size_t len;
	int i;

	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	assert_int_equal(rec.records, 0);
	fill(&j, 0, NREC, false);
	/* acknowledge the first five, in order */
	for (i = 0; i < 5; i++)
		assert_int_equal(journal_read(&j, &p, &len, &end, &why), 1);
	journal_ack(&j, end, 5);
	assert_int_equal(journal_close(&j, &why), 0);

	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	assert_int_equal(rec.records, NREC - 5);
	assert_int_equal(rec.dropped_bytes, 0);
	assert_false(rec.bad_checkpoint);
	assert_int_equal(read_all(&j, 5, NREC - 5), NREC - 5);
	/* a second process on the same journal is refused */
	{
		struct journal j2;
		struct journal_recovery rec2;

		assert_int_equal(journal_open(&j2, &o, &rec2, &why), -1);
		assert_non_null(strstr(why.msg, "in use"));
	}
	assert_int_equal(journal_close(&j, &why), 0);

	/* a damaged checkpoint: everything is sent again, and said so */
	{
		char path[256];
		int fd;

		snprintf(path, sizeof(path), "%s/checkpoint", f->sub);
		fd = open(path, O_WRONLY | O_TRUNC);
		assert_true(fd != -1);
		assert_int_equal(write(fd, "sm-journal 1 x", 14), 14);
		close(fd);
	}
	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	assert_true(rec.bad_checkpoint);
	assert_int_equal(rec.records, NREC);
	assert_int_equal(read_all(&j, 0, NREC), NREC);
	assert_int_equal(journal_close(&j, &why), 0);
}

/* The bytes of every segment, in order, and where each file starts. */
struct image {
	char *bytes;
	size_t len;
	uint64_t num[64];
	size_t start[65];
	int nseg;
	size_t frame_end[NREC];
};

static void
image_take(const char *dir, struct image *im)
{
	char path[256];
	struct stat st;
	uint64_t n;
	int fd;

	memset(im, 0, sizeof(*im));
	im->bytes = malloc(65536);
	for (n = 1; n < 64; n++) {
		snprintf(path, sizeof(path), "%s/%016llx.seg", dir,
		    (unsigned long long)n);
		if (stat(path, &st) == -1)
			continue;
		if (st.st_size == 0)
			continue;
		fd = open(path, O_RDONLY);
		assert_true(fd != -1);
		im->num[im->nseg] = n;
		im->start[im->nseg++] = im->len;
		assert_int_equal(read(fd, im->bytes + im->len,
		    (size_t)st.st_size), st.st_size);
		im->len += (size_t)st.st_size;
		close(fd);
	}
	im->start[im->nseg] = im->len;
}

static void
image_write(const struct image *im, const char *dir, size_t cut)
{
	char path[256];
	size_t a, b;
	int s, fd;

	assert_int_equal(mkdir(dir, 0700), 0);
	for (s = 0; s < im->nseg; s++) {
		a = im->start[s];
		b = im->start[s + 1] < cut ? im->start[s + 1] : cut;
		if (a >= cut && a > 0)
			break;
		snprintf(path, sizeof(path), "%s/%016llx.seg", dir,
		    (unsigned long long)im->num[s]);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd != -1);
		if (b > a)
			assert_int_equal(write(fd, im->bytes + a, b - a),
			    (ssize_t)(b - a));
		close(fd);
	}
}

/*
 * A journal of NREC records over several small segments, cut at every
 * byte offset: every record complete before the cut is recovered, in
 * order, and the rest is dropped and counted.
 */
static void
test_cut_at_every_offset(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = opts(f->sub, 120, 0);
	struct journal_recovery rec;
	struct journal j;
	struct image im;
	struct why why;
	char cutdir[160];
	size_t cut, complete, boundary;
	int i, got, s;

	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	fill(&j, 0, NREC, true);
	assert_int_equal(journal_close(&j, &why), 0);
	image_take(f->sub, &im);
	assert_true(im.nseg >= 3);
	/* frames never straddle segments: the image is one stream */
	{
		size_t at = 0;
		char buf[128];

		for (i = 0; i < NREC; i++) {
			at += JOURNAL_FRAME_HDR + record(i, buf, sizeof(buf));
			im.frame_end[i] = at;
		}
		assert_int_equal(at, im.len);
	}
	snprintf(cutdir, sizeof(cutdir), "%s/cut", f->dir);
	for (cut = 0; cut <= im.len; cut++) {
		image_write(&im, cutdir, cut);
		o.dir = cutdir;
		assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
		complete = 0;
		boundary = 0;
		while (complete < NREC && im.frame_end[complete] <= cut)
			boundary = im.frame_end[complete++];
		assert_int_equal(rec.records, complete);
		/* a cut at a segment's start leaves no bytes to drop */
		for (s = 0; s < im.nseg; s++)
			if (im.start[s] <= cut && cut <= im.start[s + 1] &&
			    im.start[s] > boundary)
				boundary = im.start[s];
		assert_int_equal(rec.dropped_bytes, cut - boundary);
		got = read_all(&j, 0, NREC);
		assert_int_equal(got, (int)complete);
		assert_int_equal(journal_close(&j, &why), 0);
		rm_dir(cutdir);
	}
	free(im.bytes);
}

static void
test_corrupt_frame_in_the_middle(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = opts(f->sub, 120, 0);
	struct journal_recovery rec;
	struct journal j;
	struct image im;
	struct why why;
	char path[256];
	size_t at = 0, total = 0;
	char buf[128];
	int i, fd;

	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	fill(&j, 0, NREC, false);	/* one segment */
	assert_int_equal(journal_close(&j, &why), 0);
	/* a second segment after it, written by a second run */
	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	assert_int_equal(rec.records, NREC);
	fill(&j, 0, NREC, false);
	assert_int_equal(journal_close(&j, &why), 0);
	image_take(f->sub, &im);
	total = im.len;
	for (i = 0; i < 6; i++)
		at += JOURNAL_FRAME_HDR + record(i, buf, sizeof(buf));
	/* flip a byte in the payload of record 6 */
	snprintf(path, sizeof(path), "%s/%016llx.seg", f->sub,
	    (unsigned long long)im.num[0]);
	fd = open(path, O_RDWR);
	assert_true(fd != -1);
	assert_int_equal(pread(fd, buf, 1, (off_t)(at + 12)), 1);
	buf[0] ^= 0x20;
	assert_int_equal(pwrite(fd, buf, 1, (off_t)(at + 12)), 1);
	close(fd);
	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	assert_int_equal(rec.records, 6);
	assert_int_equal(rec.dropped_bytes, total - at);
	assert_int_equal(rec.bad.seg, im.num[0]);
	assert_int_equal(rec.bad.off, at);
	assert_true(rec.dropped_segs >= 1);	/* empty ones too */
	assert_int_equal(read_all(&j, 0, NREC), 6);
	assert_int_equal(journal_close(&j, &why), 0);
	free(im.bytes);
}

static int
count_segments(const char *dir)
{
	char path[256];
	struct stat st;
	int n = 0, k;

	for (k = 1; k < 200; k++) {
		snprintf(path, sizeof(path), "%s/%016x.seg", dir, k);
		if (stat(path, &st) == 0)
			n++;
	}
	return n;
}

/* Full: appending stops; acknowledging and a sync free segments. */
static void
test_full_journal(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = opts(f->sub, 256, 2048);
	struct journal_recovery rec;
	struct journal_pos end;
	struct journal j;
	struct why why;
	const char *p;
	size_t len;
	int n = 0, before;

	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	while (!journal_full(&j)) {
		fill(&j, n % NREC, 1, true);
		n++;
		assert_true(n < 1000);
	}
	assert_true(j.bytes >= 2048);
	assert_true(j.bytes < 2048 + 64);
	before = count_segments(f->sub);
	assert_true(before >= 7);
	/* acknowledged but not yet synced: nothing is unlinked */
	while (journal_read(&j, &p, &len, &end, &why) == 1)
		continue;
	journal_ack(&j, end, (uint64_t)n);
	assert_int_equal(journal_tick(&j, j.next_sync - 1, false, &why), 0);
	assert_int_equal(count_segments(f->sub), before);
	assert_true(journal_full(&j));
	/* the synced checkpoint lets every segment but the last go */
	assert_int_equal(journal_tick(&j, j.next_sync, false, &why), 0);
	assert_int_equal(count_segments(f->sub), 1);
	assert_false(journal_full(&j));
	assert_int_equal(journal_close(&j, &why), 0);
	reopens_empty(&o);
}

/*
 * Records 0..n-1 appended one commit each to segments of seg_bytes: the
 * index of the segment each goes to, as journal_commit() starts a new one.
 */
static void
seg_index(int n, uint64_t seg_bytes, int *idx)
{
	char buf[128];
	uint64_t size = 0;
	int i, s = 0;

	for (i = 0; i < n; i++) {
		idx[i] = s;
		size += JOURNAL_FRAME_HDR + record(i, buf, sizeof(buf));
		if (size >= seg_bytes) {
			s++;
			size = 0;
		}
	}
}

static bool
seg_exists(const char *dir, uint64_t num)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%016llx.seg", dir,
	    (unsigned long long)num);
	return stat(path, &st) == 0;
}

/* Records 0, 1, ... one a commit until j is full; how many. */
static int
fill_until_full(struct journal *j)
{
	int n = 0;

	while (!journal_full(j)) {
		fill(j, n, 1, true);
		n++;
		assert_true(n < 1000);
	}
	return n;
}

/*
 * --journal-full drop: the oldest segment goes, its records never read
 * counted as lost; the checkpoint is at the next one's start, reading
 * goes on there, a late acknowledgement of a record of it moves nothing
 * back, and a reopened journal has the rest.  Only the written segment:
 * nothing to drop.
 */
static void
test_full_drop(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = opts(f->sub, 256, 2048);
	struct journal_recovery rec;
	struct journal_pos end1, end2, end, ack;
	struct journal_drop jd;
	struct journal j;
	struct why why;
	const char *p;
	size_t len;
	uint64_t first, second;
	int idx[1000], n = 0, k, k2, i, fd;
	char path[256], seg0[4096];
	size_t seg0_len;

	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	/* one segment, the written one: nothing to drop */
	fill(&j, 0, 1, true);
	assert_int_equal(journal_drop_oldest(&j, &jd, &why), 0);
	assert_int_equal(j.unacked, 1);
	assert_int_equal(journal_close(&j, &why), 0);
	rm_dir(f->sub);

	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	n = fill_until_full(&j);
	seg_index(n, 256, idx);
	for (k = 0; k < n && idx[k] == 0; k++)
		continue;
	assert_true(k > 2 && k < n);
	first = j.segs[0].num;
	second = j.segs[1].num;
	/* its bytes, to play a kill before its unlink below */
	snprintf(path, sizeof(path), "%s/%016llx.seg", f->sub,
	    (unsigned long long)first);
	fd = open(path, O_RDONLY);
	assert_true(fd != -1);
	seg0_len = (size_t)read(fd, seg0, sizeof(seg0));
	assert_true(seg0_len >= 256 && seg0_len < sizeof(seg0));
	close(fd);
	/* two records handed out (a request in flight), not acknowledged */
	assert_int_equal(journal_read(&j, &p, &len, &end1, &why), 1);
	assert_int_equal(journal_read(&j, &p, &len, &end2, &why), 1);
	assert_int_equal(end2.seg, first);
	assert_int_equal(journal_drop_oldest(&j, &jd, &why), 1);
	assert_int_equal(jd.seg, first);
	assert_int_equal(jd.records, (uint64_t)k);
	assert_int_equal(jd.unread, (uint64_t)(k - 2));
	assert_true(jd.bytes >= 256);
	assert_false(seg_exists(f->sub, first));
	assert_true(seg_exists(f->sub, second));
	assert_false(journal_full(&j));
	/* the checkpoint at the next segment's start, synced */
	assert_int_equal(j.ack.seg, second);
	assert_int_equal(j.ack.off, 0);
	assert_int_equal(j.ack_synced.seg, second);
	assert_int_equal(j.ack_synced.off, 0);
	/* the two in flight are still waited for */
	assert_int_equal(j.unacked, (uint64_t)(n - k + 2));
	/* their late acknowledgement: counted, the checkpoint stays */
	journal_ack(&j, end2, 2);
	assert_int_equal(j.ack.seg, second);
	assert_int_equal(j.ack.off, 0);
	assert_int_equal(j.unacked, (uint64_t)(n - k));
	journal_ack(&j, end1, 0);
	assert_int_equal(j.ack.seg, second);
	assert_int_equal(j.ack.off, 0);
	/* reading goes on from the next segment's first record */
	for (i = k; i < k + 3; i++) {
		char want[128];
		size_t wlen = record(i, want, sizeof(want));

		assert_int_equal(journal_read(&j, &p, &len, &end, &why), 1);
		assert_int_equal(len, wlen);
		assert_memory_equal(p, want, len);
	}
	journal_ack(&j, end, 3);
	ack = end;
	assert_int_equal(journal_close(&j, &why), 0);
	assert_false(seg_exists(f->sub, first));

	/* reopened: the rest, from the checkpoint */
	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	assert_int_equal(rec.records, (uint64_t)(n - k - 3));
	assert_int_equal(j.ack.seg, ack.seg);
	assert_int_equal(j.ack.off, ack.off);
	/* a dropped segment read from its file: counted from the checkpoint */
	for (k2 = k; k2 < n && idx[k2] == idx[k + 3]; k2++)
		continue;
	assert_true(k2 < n);
	assert_int_equal(journal_drop_oldest(&j, &jd, &why), 1);
	assert_int_equal(jd.seg, ack.seg);
	assert_int_equal(jd.records, (uint64_t)(k2 - k - 3));
	assert_int_equal(jd.unread, jd.records);
	assert_false(seg_exists(f->sub, ack.seg));
	assert_int_equal(j.unacked, (uint64_t)(n - k2));
	assert_int_equal(read_all(&j, k2, n - k2), n - k2);
	assert_int_equal(journal_close(&j, &why), 0);
	/*
	 * A kill between the synced checkpoint and the unlink leaves the
	 * segment: it is not sent again, and goes at the next open.
	 */
	snprintf(path, sizeof(path), "%s/%016llx.seg", f->sub,
	    (unsigned long long)first);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd != -1);
	assert_int_equal(write(fd, seg0, seg0_len), (ssize_t)seg0_len);
	close(fd);
	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	assert_int_equal(rec.records, (uint64_t)(n - k2));
	assert_false(seg_exists(f->sub, first));
	assert_int_equal(read_all(&j, k2, n - k2), n - k2);
	assert_int_equal(journal_close(&j, &why), 0);
}

/*
 * A drop whose checkpoint cannot be written (here checkpoint.tmp is a
 * directory) drops nothing: the segment, the checkpoint and the count
 * stay, the journal stays full (the caller waits instead), and the next
 * try, once it can be written, drops.
 */
static void
test_full_drop_ckpt_fails(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = opts(f->sub, 256, 2048);
	struct journal_recovery rec;
	struct journal_drop jd;
	struct journal_pos ack;
	struct journal j;
	struct why why;
	uint64_t first, unacked;
	char tmp[256];

	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	(void)fill_until_full(&j);
	first = j.segs[0].num;
	ack = j.ack;
	unacked = j.unacked;
	snprintf(tmp, sizeof(tmp), "%s/checkpoint.tmp", f->sub);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(journal_drop_oldest(&j, &jd, &why), -1);
	/* the file that failed, named */
	assert_non_null(strstr(why.msg, "/checkpoint.tmp: Is a directory"));
	assert_true(seg_exists(f->sub, first));
	assert_int_equal(j.segs[0].num, first);
	assert_int_equal(j.ack.seg, ack.seg);
	assert_int_equal(j.ack.off, ack.off);
	assert_int_equal(j.unacked, unacked);
	assert_true(journal_full(&j));
	assert_int_equal(rmdir(tmp), 0);
	assert_int_equal(journal_drop_oldest(&j, &jd, &why), 1);
	assert_int_equal(jd.seg, first);
	assert_false(seg_exists(f->sub, first));
	assert_int_equal(journal_close(&j, &why), 0);
}

/*
 * Full segments with records not yet acknowledged are synced by the next
 * tick (at most JOURNAL_OLD_MAX wait); a process killed after it loses
 * nothing; a clean stop with every record acknowledged leaves one empty
 * segment (the others unlinked, never synced).
 */
static void
test_deferred_sync_and_clean_stop(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = opts(f->sub, 256, 1 << 20);
	struct journal_recovery rec;
	struct journal_pos end;
	struct journal j;
	struct why why;
	const char *p;
	char path[256];
	struct stat st;
	size_t len;
	pid_t pid;
	int i, status;

	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	for (i = 0; i < 4; i++)
		fill(&j, 0, NREC, true);
	assert_true(count_segments(f->sub) > JOURNAL_OLD_MAX);
	assert_true(j.nold > 0);
	assert_true(j.nold <= JOURNAL_OLD_MAX);
	assert_int_equal(journal_tick(&j, j.next_sync, true, &why), 0);
	assert_int_equal(j.nold, 0);
	/* the first 2 x NREC acknowledged, then the process dies */
	for (i = 0; i < 2 * NREC; i++)
		assert_int_equal(journal_read(&j, &p, &len, &end, &why), 1);
	journal_ack(&j, end, 2 * NREC);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		fill(&j, 0, NREC, true);
		_exit(journal_tick(&j, j.next_sync, false, &why) == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	/* two fills not acknowledged, and the dead child's one */
	assert_int_equal(journal_close(&j, &why), 0);
	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	assert_int_equal(rec.records, 3 * NREC);
	for (i = 0; i < 3 * NREC; i++)
		assert_int_equal(journal_read(&j, &p, &len, &end, &why), 1);
	assert_int_equal(journal_read(&j, &p, &len, &end, &why), 0);
	journal_ack(&j, end, 3 * NREC);
	assert_int_equal(journal_close(&j, &why), 0);
	/* one segment is left, empty, and the checkpoint at its start */
	assert_int_equal(count_segments(f->sub), 1);
	for (i = 1; i < 200; i++) {
		snprintf(path, sizeof(path), "%s/%016x.seg", f->sub, i);
		if (stat(path, &st) == 0)
			assert_int_equal(st.st_size, 0);
	}
	reopens_empty(&o);
}

/*
 * The acknowledged part of the written segment becomes a hole at a
 * durable tick (its pages are never written), and a process killed after
 * it recovers exactly the records not acknowledged.
 */
static void
test_punch(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = opts(f->sub, 16 << 20, 128 << 20);
	struct journal_recovery rec;
	struct journal_pos end;
	struct journal j;
	struct why why;
	const char *p;
	char path[256];
	struct stat st;
	size_t len;
	int i, n = 0;

	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	while (j.segs[j.nsegs - 1].size < 2 * JOURNAL_PUNCH_MIN + 4096) {
		fill(&j, 0, NREC, false);
		n += NREC;
	}
	/* all but the last NREC acknowledged */
	for (i = 0; i < n - NREC; i++)
		assert_int_equal(journal_read(&j, &p, &len, &end, &why), 1);
	journal_ack(&j, end, (uint64_t)(n - NREC));
	assert_int_equal(journal_tick(&j, j.next_sync, false, &why), 0);
	assert_true(j.punched >= JOURNAL_PUNCH_MIN);
	assert_true(j.punched <= end.off);
	snprintf(path, sizeof(path), "%s/%016llx.seg", f->sub,
	    (unsigned long long)j.segs[j.nsegs - 1].num);
	assert_int_equal(stat(path, &st), 0);
	assert_true((uint64_t)st.st_blocks * 512 <=
	    (uint64_t)st.st_size - j.punched + 8192);
	/* what a killed process leaves: reopened without closing */
	{
		struct journal j2 = j;

		close(j2.lockfd);	/* the lock goes with the process */
		j.lockfd = -1;
		assert_int_equal(journal_open(&j2, &o, &rec, &why), 0);
		assert_int_equal(rec.records, NREC);
		assert_int_equal(rec.dropped_bytes, 0);
		assert_int_equal(read_all(&j2, 0, NREC), NREC);
		assert_int_equal(journal_close(&j2, &why), 0);
	}
	assert_int_equal(journal_close(&j, &why), 0);
}

/*
 * journal_commit_unlocked(): called and returning with the lock held, the
 * records readable after it as after journal_commit(); a failed write
 * (a full disk) leaves them appended, tried again by the next commit.
 */
static void
test_commit_unlocked(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = opts(f->sub, 0, 0);
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct journal_recovery rec;
	struct journal j;
	struct why why;
	char buf[128];
	size_t len;
	int i, full, saved;

	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	pthread_mutex_lock(&lock);
	for (i = 0; i < NREC; i++) {
		len = record(i, buf, sizeof(buf));
		assert_int_equal(journal_append(&j, buf, len), 0);
	}
	assert_int_equal(journal_commit_unlocked(&j, &lock), 0);
	/* held again: another thread could not take it */
	assert_int_equal(pthread_mutex_trylock(&lock), EBUSY);
	assert_false(j.writing);
	assert_false(journal_uncommitted(&j));
	assert_int_equal(read_all(&j, 0, NREC), NREC);
	/* a write that fails: nothing of it is the segment's */
	full = open("/dev/full", O_WRONLY);
	assert_true(full != -1);
	saved = dup(j.wfd);
	assert_int_equal(dup2(full, j.wfd), j.wfd);
	len = record(NREC, buf, sizeof(buf));
	assert_int_equal(journal_append(&j, buf, len), 0);
	assert_int_equal(journal_commit_unlocked(&j, &lock), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(j.err, ENOSPC);
	assert_int_equal(pthread_mutex_trylock(&lock), EBUSY);
	assert_true(journal_uncommitted(&j));
	assert_int_equal(dup2(saved, j.wfd), j.wfd);
	close(saved);
	close(full);
	assert_int_equal(journal_commit_unlocked(&j, &lock), 0);
	assert_int_equal(read_all(&j, NREC, 1), 1);
	pthread_mutex_unlock(&lock);
	assert_int_equal(journal_close(&j, &why), 0);
	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	assert_int_equal(rec.records, NREC + 1);
	assert_int_equal(journal_close(&j, &why), 0);
}

/* A disk that fills: the commit fails whole, and is tried again. */
static void
test_disk_full(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = opts(f->sub, 0, 0);
	struct journal_recovery rec;
	struct journal j;
	struct why why;
	char buf[128];
	size_t len;
	int full, saved;

	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	fill(&j, 0, 3, false);
	full = open("/dev/full", O_WRONLY);
	assert_true(full != -1);
	saved = dup(j.wfd);
	assert_int_equal(dup2(full, j.wfd), j.wfd);
	len = record(3, buf, sizeof(buf));
	assert_int_equal(journal_append(&j, buf, len), 0);
	assert_int_equal(journal_commit(&j), -1);
	assert_int_equal(j.err, ENOSPC);
	assert_true(journal_uncommitted(&j));
	/* what is committed can still be read; the rest is not yet */
	assert_int_equal(read_all(&j, 0, 3), 3);
	assert_int_equal(dup2(saved, j.wfd), j.wfd);
	close(saved);
	close(full);
	assert_int_equal(journal_commit(&j), 0);
	assert_false(journal_uncommitted(&j));
	assert_int_equal(read_all(&j, 3, 1), 1);
	assert_int_equal(journal_close(&j, &why), 0);
	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	assert_int_equal(rec.records, 4);
	assert_int_equal(journal_close(&j, &why), 0);
}

static void
test_not_a_directory(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o;
	struct journal_recovery rec;
	struct journal j;
	struct why why;
	char file[160], sub[200];
	int fd;

	snprintf(file, sizeof(file), "%s/file", f->dir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	assert_true(fd != -1);
	close(fd);
	snprintf(sub, sizeof(sub), "%s/j", file);
	o = opts(sub, 0, 0);
	assert_int_equal(journal_open(&j, &o, &rec, &why), -1);
	assert_non_null(strstr(why.msg, "Not a directory"));
}

static void
test_parse(void **state)
{
	enum journal_sync s;
	int64_t ms = 0;

	(void)state;
	assert_int_equal(journal_parse_sync("batch", &s, &ms), 0);
	assert_int_equal(s, JOURNAL_SYNC_BATCH);
	assert_int_equal(journal_parse_sync("never", &s, &ms), 0);
	assert_int_equal(s, JOURNAL_SYNC_NEVER);
	assert_int_equal(journal_parse_sync("250", &s, &ms), 0);
	assert_int_equal(s, JOURNAL_SYNC_INTERVAL);
	assert_int_equal(ms, 250);
	assert_int_equal(journal_parse_sync("0", &s, &ms), -1);
	assert_int_equal(journal_parse_sync("often", &s, &ms), -1);
}

/*
 * Records are read back from the writes kept in memory and, when the
 * reader fell behind more writes than are kept, from the file: in order,
 * each once, across segments, with control frames between.
 */
static void
test_read_back(void **state)
{
	struct fixture *f = *state;
	struct journal_opts o = opts(f->sub, 64 << 10, 0);
	struct journal_recovery rec;
	struct journal j;
	struct why why;
	int next = 0, got = 0, round;

	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	for (round = 0; round < 6; round++) {
		/* round 2: behind by more writes than are kept */
		int writes = round == 2 ? 3 * JOURNAL_TAILS : round + 1, w;

		for (w = 0; w < writes; w++) {
			fill(&j, next, 37, false);
			next += 37;
			/* a small write after it, as "\0R" follows a chunk */
			assert_int_equal(journal_append(&j, "\0R", 2), 0);
			assert_int_equal(journal_commit(&j), 0);
		}
		got += read_all(&j, got, next - got);
		assert_int_equal(got, next);
	}
	assert_true(j.nsegs > 2);
	assert_int_equal(journal_close(&j, &why), 0);
	/* the next process reads them all back from the files */
	assert_int_equal(journal_open(&j, &o, &rec, &why), 0);
	assert_int_equal(rec.records, (uint64_t)next);
	assert_int_equal(read_all(&j, 0, next), next);
	assert_int_equal(journal_close(&j, &why), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_roundtrip_and_checkpoint,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_at_every_offset,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_corrupt_frame_in_the_middle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_journal, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_full_drop, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_deferred_sync_and_clean_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_punch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_drop_ckpt_fails,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_unlocked, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_a_directory, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_back, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
