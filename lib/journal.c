/*
 * The sender's write-ahead journal (journal.h): segments of CRC-framed
 * records, a checkpoint replaced atomically, recovery that reads a buffer
 * at a time and cuts at the first bad frame.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/falloc.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"

#define JOURNAL_READ_BUF (64 * 1024)
#define JOURNAL_CKPT "checkpoint"
#define JOURNAL_CKPT_TMP "checkpoint.tmp"
#define JOURNAL_LOCK "lock"

/*
 * CRC-32C, reflected polynomial 0x82F63B78: by the SSE4.2 instruction made
 * for it where the CPU has one, else a table a byte at a time (the same
 * values: tests/unit/test_journal.c checks both against the check value).
 */
static uint32_t crc32c_table[256];

static void
crc32c_init(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78U : c >> 1;
		crc32c_table[i] = c;
	}
}

uint32_t
journal_crc32c_table(uint32_t crc, const void *p, size_t len)
{
	const unsigned char *s = p;

	if (crc32c_table[1] == 0)
		crc32c_init();
	crc = ~crc;
	while (len-- > 0)
		crc = crc32c_table[(crc ^ *s++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t c = ~crc, w;

	for (; len >= 8; len -= 8, s += 8) {
		memcpy(&w, s, 8);
		c = __builtin_ia32_crc32di(c, w);
	}
	for (; len > 0; len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *s++);
	return ~(uint32_t)c;
}
#endif

uint32_t
journal_crc32c(uint32_t crc, const void *p, size_t len)
{
#if defined(__x86_64__)
	static int hw = -1;

	if (hw == -1)
		hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
	if (hw)
		return crc32c_sse42(crc, p, len);
#endif
	return journal_crc32c_table(crc, p, len);
}

void
journal_put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

uint32_t
journal_get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
seg_name(uint64_t num, char *buf, size_t size)
{
	snprintf(buf, size, "%016" PRIx64 ".seg", num);
}

static int
seg_num(const char *name, uint64_t *num)
{
	char *end;
	size_t i;

	if (strlen(name) != 20 || strcmp(name + 16, ".seg") != 0)
		return -1;
	for (i = 0; i < 16; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return -1;
	*num = strtoull(name, &end, 16);
	return 0;
}

/* Frame reader */

static void
jr_close(struct journal_reader *r)
{
	if (r->fd != -1)
		close(r->fd);
	r->fd = -1;
	r->start = r->len = 0;
}

static int
jr_open(const struct journal *j, struct journal_reader *r, uint64_t seg,
    uint64_t off)
{
	char name[32];

	jr_close(r);
	seg_name(seg, name, sizeof(name));
	if ((r->fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	r->seg = seg;
	r->off = off;
	return 0;
}

/* Have at least want bytes buffered; 1, 0 at the limit, -1 (errno). */
static int
jr_want(struct journal_reader *r, size_t want, uint64_t limit)
{
	while (r->len < want) {
		uint64_t at = r->off + r->len;
		size_t room;
		ssize_t got;

		if (r->start + want > r->cap) {
			if (r->start > 0) {
				memmove(r->buf, r->buf + r->start, r->len);
				r->start = 0;
			}
			if (want > r->cap) {
				size_t cap = r->cap ? r->cap : JOURNAL_READ_BUF;
				char *p;

				while (cap < want)
					cap *= 2;
				if ((p = realloc(r->buf, cap)) == NULL)
					return -1;
				r->buf = p;
				r->cap = cap;
			}
		}
		if (at >= limit)
			return 0;
		room = r->cap - r->start - r->len;
		if (room > limit - at)
			room = (size_t)(limit - at);
		got = pread(r->fd, r->buf + r->start + r->len, room,
		    (off_t)at);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			return -1;
		if (got == 0)
			return 0;
		r->len += (size_t)got;
	}
	return 1;
}

enum jr_status { JR_FRAME, JR_END, JR_BAD, JR_ERROR };

/*
 * The next frame of the segment, reading no further than limit; check:
 * its CRC is checked (a frame this process wrote is not: it was never
 * anywhere but in its page cache and this buffer).
 */
static enum jr_status
jr_next(struct journal_reader *r, size_t max_rec, uint64_t limit,
    bool check, const char **rec, size_t *len)
{
	const unsigned char *h;
	uint32_t flen, crc;
	int rc;

	if ((rc = jr_want(r, JOURNAL_FRAME_HDR, limit)) == -1)
		return JR_ERROR;
	if (rc == 0)
		return r->len == 0 ? JR_END : JR_BAD;
	h = (const unsigned char *)r->buf + r->start;
	flen = journal_get_le32(h);
	if (flen > max_rec)
		return JR_BAD;
	if ((rc = jr_want(r, JOURNAL_FRAME_HDR + (size_t)flen, limit)) == -1)
		return JR_ERROR;
	if (rc == 0)
		return JR_BAD;
	h = (const unsigned char *)r->buf + r->start;
	if (check) {
		crc = journal_crc32c(0, h, 4);
		crc = journal_crc32c(crc, h + JOURNAL_FRAME_HDR, flen);
		if (crc != journal_get_le32(h + 4))
			return JR_BAD;
	}
	*rec = (const char *)h + JOURNAL_FRAME_HDR;
	*len = flen;
	r->start += JOURNAL_FRAME_HDR + flen;
	r->len -= JOURNAL_FRAME_HDR + flen;
	r->off += JOURNAL_FRAME_HDR + flen;
	return JR_FRAME;
}

/* Checkpoint */

/*
 * Between syncs the checkpoint is overwritten in place (one pwrite(2) of
 * a line of fixed width: a process that dies leaves either line whole);
 * a sync writes a temporary file, syncs it, renames it over the old one
 * and syncs the directory, and keeps it open for the next overwrites.
 * Power loss amid an overwrite may leave a damaged line: its CRC then
 * fails, and everything in the journal is sent again (ids de-duplicate).
 */
static int
ckpt_write(struct journal *j, struct journal_pos pos, bool sync)
{
	char line[96];
	int fd, n, e;

	n = snprintf(line, sizeof(line), "sm-journal 1 %016" PRIx64 " %020"
	    PRIu64, pos.seg, pos.off);
	n += snprintf(line + n, sizeof(line) - (size_t)n, " %08" PRIx32 "\n",
	    journal_crc32c(0, line, (size_t)n));
	if (!sync && j->ckfd != -1) {
		if (pwrite(j->ckfd, line, (size_t)n, 0) != n)
			return -1;
		j->ack_written = pos;
		return 0;
	}
	fd = openat(j->dirfd, JOURNAL_CKPT_TMP, O_RDWR | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	if (write(fd, line, (size_t)n) != n || (sync && fsync(fd) == -1) ||
	    renameat(j->dirfd, JOURNAL_CKPT_TMP, j->dirfd, JOURNAL_CKPT) ==
	    -1 || (sync && fsync(j->dirfd) == -1)) {
		e = errno != 0 ? errno : ENOSPC;
		close(fd);
		/*
		 * A full disk has no block for a new file: overwrite the
		 * old one in place and sync it, so that acknowledgements
		 * still free segments (power loss amid it costs a resend).
		 */
		if (e == ENOSPC && j->ckfd != -1) {
			(void)unlinkat(j->dirfd, JOURNAL_CKPT_TMP, 0);
			if (pwrite(j->ckfd, line, (size_t)n, 0) == n &&
			    fdatasync(j->ckfd) == 0) {
				j->ack_written = j->ack_synced = pos;
				return 0;
			}
		}
		errno = e;
		return -1;
	}
	if (j->ckfd != -1)
		close(j->ckfd);
	j->ckfd = fd;
	j->ack_written = pos;
	if (sync)
		j->ack_synced = pos;
	return 0;
}

/* 1 read, 0 missing, -1 unreadable or damaged. */
static int
ckpt_read(struct journal *j, struct journal_pos *pos)
{
	char line[96], *crcp;
	unsigned long long seg, off;
	unsigned crc;
	ssize_t n;
	int fd;

	if ((fd = openat(j->dirfd, JOURNAL_CKPT, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	line[n] = '\0';
	if (sscanf(line, "sm-journal 1 %16llx %20llu %8x", &seg, &off,
	    &crc) != 3 || (crcp = strrchr(line, ' ')) == NULL ||
	    journal_crc32c(0, line, (size_t)(crcp - line)) != crc)
		return -1;
	pos->seg = seg;
	pos->off = off;
	return 1;
}

/* Segments */

static int
segs_add(struct journal *j, uint64_t num, uint64_t size)
{
	if (j->nsegs == j->segcap) {
		size_t cap = j->segcap ? j->segcap * 2 : 16;
		struct journal_seg *p = realloc(j->segs, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		j->segs = p;
		j->segcap = cap;
	}
	j->segs[j->nsegs].num = num;
	j->segs[j->nsegs].size = size;
	j->nsegs++;
	return 0;
}

static int
segs_cmp(const void *a, const void *b)
{
	const struct journal_seg *x = a, *y = b;

	return x->num < y->num ? -1 : x->num > y->num;
}

static int
segs_list(struct journal *j, struct why *why)
{
	struct dirent *de;
	struct stat st;
	uint64_t num;
	DIR *dp;
	int fd;

	if ((fd = dup(j->dirfd)) == -1 || (dp = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return why_set(why, "%s: %s", j->dir, strerror(errno));
	}
	while ((de = readdir(dp)) != NULL) {
		if (seg_num(de->d_name, &num) == -1)
			continue;
		if (fstatat(j->dirfd, de->d_name, &st, 0) == -1) {
			why_set(why, "%s/%s: %s", j->dir, de->d_name,
			    strerror(errno));
			closedir(dp);
			return -1;
		}
		if (segs_add(j, num, (uint64_t)st.st_size) == -1) {
			closedir(dp);
			return why_set(why, "out of memory");
		}
		j->bytes += (uint64_t)st.st_size;
	}
	closedir(dp);
	if (j->nsegs > 1)
		qsort(j->segs, j->nsegs, sizeof(*j->segs), segs_cmp);
	return 0;
}

/* Unlink segments [0, n) of the list. */
static void
segs_drop(struct journal *j, size_t n)
{
	char name[32];
	size_t i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		seg_name(j->segs[i].num, name, sizeof(name));
		(void)unlinkat(j->dirfd, name, 0);
		j->bytes -= j->segs[i].size;
	}
	memmove(j->segs, j->segs + n, (j->nsegs - n) * sizeof(*j->segs));
	j->nsegs -= n;
}

/* Start segment num for writing; it becomes the last of the list. */
static int
seg_create(struct journal *j, uint64_t num)
{
	char name[32];
	int fd;

	seg_name(num, name, sizeof(name));
	fd = openat(j->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
	    O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	if (segs_add(j, num, 0) == -1) {
		close(fd);
		(void)unlinkat(j->dirfd, name, 0);
		errno = ENOMEM;
		return -1;
	}
	if (j->wfd != -1)
		close(j->wfd);
	j->wfd = fd;
	j->punched = 0;
	/* the new name reaches the disk with the next directory sync */
	j->dirty = true;
	return 0;
}

static size_t
segs_find(const struct journal *j, uint64_t num)
{
	size_t i;

	for (i = 0; i < j->nsegs; i++)
		if (j->segs[i].num >= num)
			break;
	return i;
}

/*
 * The segment at index i has a bad frame at off: cut it there and drop
 * every segment after it.
 */
static int
recover_cut(struct journal *j, size_t i, uint64_t off,
    struct journal_recovery *rec, struct why *why)
{
	char name[32];
	int fd;

	rec->bad.seg = j->segs[i].num;
	rec->bad.off = off;
	rec->dropped_bytes += j->segs[i].size - off;
	seg_name(j->segs[i].num, name, sizeof(name));
	if ((fd = openat(j->dirfd, name, O_WRONLY | O_CLOEXEC)) == -1 ||
	    ftruncate(fd, (off_t)off) == -1 || fsync(fd) == -1) {
		if (fd != -1)
			close(fd);
		return why_set(why, "%s/%s: %s", j->dir, name,
		    strerror(errno));
	}
	close(fd);
	j->bytes -= j->segs[i].size - off;
	j->segs[i].size = off;
	while (j->nsegs > i + 1) {
		j->nsegs--;
		seg_name(j->segs[j->nsegs].num, name, sizeof(name));
		(void)unlinkat(j->dirfd, name, 0);
		rec->dropped_bytes += j->segs[j->nsegs].size;
		rec->dropped_segs++;
		j->bytes -= j->segs[j->nsegs].size;
	}
	return 0;
}

/* Check every frame past the checkpoint; count what is to be sent. */
static int
recover_scan(struct journal *j, struct journal_recovery *rec,
    struct why *why)
{
	struct journal_reader *r = &j->rd;
	const char *p;
	size_t i, len;
	uint64_t start;

	for (i = segs_find(j, j->ack.seg); i < j->nsegs; i++) {
		/*
		 * From the checkpoint (a frame's end) on: what is before it
		 * may be a hole (journal_punch).
		 */
		if (jr_open(j, r, j->segs[i].num, j->segs[i].num ==
		    j->ack.seg ? j->ack.off : 0) == -1)
			return why_set(why, "%s: segment %016" PRIx64 ": %s",
			    j->dir, j->segs[i].num, strerror(errno));
		for (;;) {
			start = r->off;
			switch (jr_next(r, j->o.max_rec, UINT64_MAX, true, &p,
			    &len)) {
			case JR_FRAME:
				if (len > 0 && p[0] == '\0') {
					j->ctl_len = len < JOURNAL_CTL_MAX ?
					    len : JOURNAL_CTL_MAX;
					memcpy(j->ctl, p, j->ctl_len);
					continue;
				}
				j->ctl_len = 0;
				if (j->ack.seg != j->segs[i].num ||
				    r->off > j->ack.off) {
					/* a checkpoint amid a frame: resend */
					if (j->ack.seg == j->segs[i].num &&
					    start < j->ack.off)
						j->ack.off = start;
					rec->records++;
					rec->bytes += r->off - start;
				}
				continue;
			case JR_END:
				break;
			case JR_BAD:
				jr_close(r);
				if (recover_cut(j, i, start, rec, why) == -1)
					return -1;
				break;
			case JR_ERROR:
				return why_set(why, "%s: segment %016" PRIx64
				    ": %s", j->dir, j->segs[i].num,
				    strerror(errno));
			}
			break;
		}
		if (j->ack.seg == j->segs[i].num &&
		    j->ack.off > j->segs[i].size)
			j->ack.off = j->segs[i].size;
	}
	jr_close(r);
	return 0;
}

/* Open DIR, creating it when missing, and take its lock. */
static int
journal_dir(struct journal *j, struct why *why)
{
	if (mkdir(j->dir, 0700) == -1 && errno != EEXIST)
		return why_set(why, "%s: %s", j->dir, strerror(errno));
	j->dirfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd == -1)
		return why_set(why, "%s: %s", j->dir, strerror(errno));
	j->lockfd = openat(j->dirfd, JOURNAL_LOCK, O_RDWR | O_CREAT |
	    O_CLOEXEC, 0644);
	if (j->lockfd == -1)
		return why_set(why, "%s: %s", j->dir, strerror(errno));
	if (flock(j->lockfd, LOCK_EX | LOCK_NB) == -1)
		return why_set(why, "%s: %s", j->dir, errno == EWOULDBLOCK ?
		    "in use by another process" : strerror(errno));
	/* writable: segments and checkpoints must be created in it */
	if (faccessat(j->dirfd, ".", W_OK, AT_EACCESS) == -1)
		return why_set(why, "%s: %s", j->dir, strerror(errno));
	return 0;
}

static void
journal_release(struct journal *j)
{
	size_t i;

	for (i = 0; i < j->nold; i++)
		close(j->old[i].fd);
	jr_close(&j->rd);
	free(j->rd.buf);
	if (j->wfd != -1)
		close(j->wfd);
	if (j->lockfd != -1)
		close(j->lockfd);
	if (j->ckfd != -1)
		close(j->ckfd);
	if (j->dirfd != -1)
		close(j->dirfd);
	free(j->segs);
	free(j->wbuf);
	free(j->dir);
	memset(j, 0, sizeof(*j));
	j->wfd = j->lockfd = j->dirfd = j->rd.fd = j->ckfd = -1;
}

int
journal_open(struct journal *j, const struct journal_opts *o,
    struct journal_recovery *rec, struct why *why)
{
	struct journal_pos ck = { 0, 0 };
	int rc;

	memset(j, 0, sizeof(*j));
	memset(rec, 0, sizeof(*rec));
	j->wfd = j->lockfd = j->dirfd = j->rd.fd = j->ckfd = -1;
	j->o = *o;
	if (j->o.max_bytes == 0)
		j->o.max_bytes = JOURNAL_MAX_DEFAULT;
	if (j->o.seg_bytes == 0) {
		j->o.seg_bytes = j->o.max_bytes / 8;
		if (j->o.seg_bytes > JOURNAL_SEG_MAX)
			j->o.seg_bytes = JOURNAL_SEG_MAX;
		if (j->o.seg_bytes < JOURNAL_SEG_MIN)
			j->o.seg_bytes = JOURNAL_SEG_MIN;
	}
	if ((j->dir = strdup(o->dir)) == NULL) {
		why_set(why, "out of memory");
		goto out_release;
	}
	if (journal_dir(j, why) == -1 || segs_list(j, why) == -1)
		goto out_release;
	rc = ckpt_read(j, &ck);
	if (rc == -1)
		rec->bad_checkpoint = true;
	if (rc != 1)
		ck.seg = j->nsegs > 0 ? j->segs[0].num : 1, ck.off = 0;
	j->ack = ck;
	/* what the checkpoint is past goes first, once it is synced */
	if (rc == 1 && (ckpt_write(j, ck, true) == -1)) {
		why_set(why, "%s/%s: %s", j->dir, JOURNAL_CKPT,
		    strerror(errno));
		goto out_release;
	}
	segs_drop(j, segs_find(j, ck.seg));
	if (j->nsegs > 0 && j->segs[0].num != ck.seg)
		j->ack.seg = j->segs[0].num, j->ack.off = 0;
	if (recover_scan(j, rec, why) == -1)
		goto out_release;
	/* a new segment for this run: the old ones are only read */
	if (seg_create(j, j->nsegs > 0 ? j->segs[j->nsegs - 1].num + 1 :
	    j->ack.seg + 1) == -1) {
		why_set(why, "%s: %s", j->dir, strerror(errno));
		goto out_release;
	}
	j->own_seg = j->segs[j->nsegs - 1].num;
	/* nothing to send again: start from the new segment */
	if (rec->records == 0) {
		j->ack.seg = j->segs[j->nsegs - 1].num;
		j->ack.off = 0;
	}
	j->unacked = rec->records;
	if (ckpt_write(j, j->ack, true) == -1) {
		why_set(why, "%s/%s: %s", j->dir, JOURNAL_CKPT,
		    strerror(errno));
		goto out_release;
	}
	segs_drop(j, segs_find(j, j->ack.seg));
	j->dirty = false;
	j->rd.seg = j->ack.seg;
	j->rd.off = j->ack.off;
	return 0;
out_release:
	journal_release(j);
	return -1;
}

int
journal_append(struct journal *j, const void *rec, size_t len)
{
	unsigned char hdr[JOURNAL_FRAME_HDR];
	size_t need = JOURNAL_FRAME_HDR + len;
	uint32_t crc;

	if (len > j->o.max_rec) {
		errno = EFBIG;
		return -1;
	}
	if (j->wlen + need > j->wcap) {
		size_t cap = j->wcap ? j->wcap : JOURNAL_READ_BUF;
		char *p;

		while (cap < j->wlen + need)
			cap *= 2;
		if ((p = realloc(j->wbuf, cap)) == NULL)
			return -1;
		j->wbuf = p;
		j->wcap = cap;
	}
	journal_put_le32(hdr, (uint32_t)len);
	crc = journal_crc32c(0, hdr, 4);
	journal_put_le32(hdr + 4, journal_crc32c(crc, rec, len));
	memcpy(j->wbuf + j->wlen, hdr, sizeof(hdr));
	memcpy(j->wbuf + j->wlen + sizeof(hdr), rec, len);
	j->wlen += need;
	j->bytes += need;
	if (len == 0 || ((const char *)rec)[0] != '\0') {
		j->unacked++;
		j->wrecs++;
	}
	return 0;
}

/*
 * Whether everything written is acknowledged: nothing in the segments
 * needs to survive a power loss, so there is nothing to sync but the
 * checkpoint (data that is forgotten need not reach the disk: a segment
 * unlinked before the kernel wrote it back never costs a disk write).
 */
static bool
journal_acked_written(const struct journal *j)
{
	/* control frames after the last record need not be kept */
	return j->unacked == j->wrecs;
}

static bool
journal_acked_all(const struct journal *j)
{
	return j->wlen == 0 && journal_acked_written(j);
}

/*
 * The written segment is full: start the next one.  Its unsynced data
 * is synced by the next tick, not now (its fd kept), unless the list of
 * such segments is full; by then the receivers may have acknowledged it
 * all, and then it is not synced at all.
 */
static int
journal_seg_full(struct journal *j)
{
	const struct journal_seg *s = &j->segs[j->nsegs - 1];
	uint64_t num = s->num;

	if (j->o.sync == JOURNAL_SYNC_NEVER || !j->dirty ||
	    journal_acked_all(j)) {
		/* nothing in it to keep through a power loss */
	} else if (j->o.sync == JOURNAL_SYNC_INTERVAL &&
	    j->nold < JOURNAL_OLD_MAX) {
		/* its fd kept for the tick; seg_create must not close it */
		j->old[j->nold].fd = j->wfd;
		j->old[j->nold++].num = num;
		j->wfd = -1;
	} else if (fdatasync(j->wfd) == -1) {
		return -1;
	}
	if (seg_create(j, num + 1) == -1) {
		/* still writing the full one, as before */
		if (j->wfd == -1)
			j->wfd = j->old[--j->nold].fd;
		return -1;
	}
	return 0;
}

/* Sync the full segments that hold data not acknowledged; close all. */
static int
journal_sync_old(struct journal *j)
{
	int rc = 0;
	size_t i;

	for (i = 0; i < j->nold; i++) {
		if (rc == 0 && j->ack.seg <= j->old[i].num &&
		    fdatasync(j->old[i].fd) == -1)
			rc = -1;
		close(j->old[i].fd);
	}
	j->nold = 0;
	return rc;
}

int
journal_commit(struct journal *j)
{
	struct journal_seg *s = &j->segs[j->nsegs - 1];
	size_t done = 0;
	ssize_t n;
	int e;

	while (done < j->wlen) {
		n = write(j->wfd, j->wbuf + done, j->wlen - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			e = errno;
			/*
			 * All of it or none: a frame cut short is cut off,
			 * or else by recovery (its CRC does not match).
			 */
			if (done > 0 && ftruncate(j->wfd,
			    (off_t)s->size) == -1) {
				/* recovery's cut, then */
			}
			j->err = errno = e;
			return -1;
		}
		done += (size_t)n;
	}
	s->size += j->wlen;
	j->written += j->wlen;
	j->dirty = j->dirty || j->wlen > 0;
	j->wlen = 0;
	j->wrecs = 0;
	j->err = 0;
	if (j->o.sync == JOURNAL_SYNC_BATCH && j->dirty) {
		if (fdatasync(j->wfd) == -1)
			return -1;
		j->dirty = false;
	}
	/* a full segment: the next frames start a new one */
	if (s->size >= j->o.seg_bytes && journal_seg_full(j) == -1)
		return -1;
	return 0;
}

bool
journal_uncommitted(const struct journal *j)
{
	return j->wlen > 0;
}

bool
journal_full(const struct journal *j)
{
	return j->bytes >= j->o.max_bytes;
}

int
journal_read(struct journal *j, const char **rec, size_t *len,
    struct journal_pos *end, struct why *why)
{
	struct journal_reader *r = &j->rd;
	size_t i;

	for (;;) {
		i = segs_find(j, r->seg);
		if (i == j->nsegs)
			return 0;
		if (j->segs[i].num != r->seg) {
			/* a segment gone: the next one, from its start */
			jr_close(r);
			r->seg = j->segs[i].num;
			r->off = 0;
		}
		if (r->fd == -1 && jr_open(j, r, r->seg, r->off) == -1)
			return why_set(why, "%s: segment %016" PRIx64 ": %s",
			    j->dir, r->seg, strerror(errno));
		switch (jr_next(r, j->o.max_rec, j->segs[i].size,
		    r->seg < j->own_seg, rec, len)) {
		case JR_FRAME:
			if (*len > 0 && (*rec)[0] == '\0')
				continue;
			end->seg = r->seg;
			end->off = r->off;
			return 1;
		case JR_END:
			if (i + 1 == j->nsegs)
				return 0;
			jr_close(r);
			r->seg = j->segs[i + 1].num;
			r->off = 0;
			continue;
		case JR_BAD:
			return why_set(why, "%s: segment %016" PRIx64 ": bad "
			    "frame at %" PRIu64, j->dir, r->seg, r->off);
		case JR_ERROR:
			return why_set(why, "%s: segment %016" PRIx64 ": %s",
			    j->dir, r->seg, strerror(errno));
		}
	}
}

void
journal_ack(struct journal *j, struct journal_pos end, uint64_t n)
{
	size_t i = segs_find(j, end.seg);

	/*
	 * The end of a segment that is not written any more: the next
	 * (past empty ones: a process killed just after it started one
	 * leaves it so).
	 */
	while (i + 1 < j->nsegs && j->segs[i].num == end.seg &&
	    end.off >= j->segs[i].size) {
		i++;
		end.seg = j->segs[i].num;
		end.off = 0;
	}
	j->ack = end;
	j->unacked = n < j->unacked ? j->unacked - n : 0;
}

static bool
pos_eq(struct journal_pos a, struct journal_pos b)
{
	return a.seg == b.seg && a.off == b.off;
}

/*
 * The written segment's acknowledged bytes, up to the synced checkpoint:
 * a hole, so that the sync to come writes only what is not acknowledged
 * (the pages dropped are never written; nothing reads them again, and
 * recovery starts at the checkpoint).  A file system without holes
 * (EOPNOTSUPP) syncs them all, as before.
 */
static void
journal_punch(struct journal *j)
{
	const struct journal_seg *s = &j->segs[j->nsegs - 1];
	uint64_t to;

	if (j->ack_synced.seg != s->num)
		return;
	to = j->ack_synced.off & ~(uint64_t)(JOURNAL_PUNCH_MIN - 1);
	if (to < j->punched + JOURNAL_PUNCH_MIN)
		return;
	if (fallocate(j->wfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	    (off_t)j->punched, (off_t)(to - j->punched)) == 0)
		j->punched = to;
}

int
journal_tick(struct journal *j, int64_t now, bool force, struct why *why)
{
	bool durable = force;

	/*
	 * A commit failed (a full disk) and all that is written is
	 * acknowledged: a new segment, so that the written one can go and
	 * give its room back.
	 */
	if (j->err != 0 && journal_acked_written(j) &&
	    j->segs[j->nsegs - 1].size > 0 &&
	    seg_create(j, j->segs[j->nsegs - 1].num + 1) == 0) {
		j->ack.seg = j->segs[j->nsegs - 1].num;
		j->ack.off = 0;
		durable = true;
	}

	switch (j->o.sync) {
	case JOURNAL_SYNC_INTERVAL:
		durable = durable || (now >= j->next_sync &&
		    (j->dirty || !pos_eq(j->ack, j->ack_synced)));
		break;
	case JOURNAL_SYNC_BATCH:
		durable = durable || !pos_eq(j->ack, j->ack_synced);
		break;
	case JOURNAL_SYNC_NEVER:
		/* only to free what the checkpoint is past */
		durable = durable || (j->nsegs > 0 &&
		    j->ack.seg > j->segs[0].num);
		break;
	}
	if (!durable) {
		/* atomic for a crash of the process; synced later */
		if (!pos_eq(j->ack, j->ack_written) &&
		    ckpt_write(j, j->ack, false) == -1)
			return why_set(why, "%s/%s: %s", j->dir,
			    JOURNAL_CKPT, strerror(errno));
		return 0;
	}
	/*
	 * The checkpoint first: acknowledged records need not be on the
	 * disk, so it does not wait for theirs; only then may the segments
	 * it is past go, and their unsynced data with them.
	 */
	if (!pos_eq(j->ack, j->ack_synced) && ckpt_write(j, j->ack,
	    true) == -1)
		return why_set(why, "%s/%s: %s", j->dir, JOURNAL_CKPT,
		    strerror(errno));
	segs_drop(j, segs_find(j, j->ack_synced.seg));
	if (journal_sync_old(j) == -1)
		return why_set(why, "%s: %s", j->dir, strerror(errno));
	if (j->dirty && (j->o.sync != JOURNAL_SYNC_NEVER || force)) {
		/* all acknowledged: only the checkpoint's sync is needed */
		journal_punch(j);
		if ((!journal_acked_all(j) && fdatasync(j->wfd) == -1) ||
		    fsync(j->dirfd) == -1)
			return why_set(why, "%s: %s", j->dir,
			    strerror(errno));
		j->dirty = false;
	}
	j->next_sync = now + j->o.sync_ms;
	return 0;
}

int64_t
journal_due_in(const struct journal *j, int64_t now)
{
	if (!pos_eq(j->ack, j->ack_written))
		return 0;
	switch (j->o.sync) {
	case JOURNAL_SYNC_INTERVAL:
		if (!j->dirty && pos_eq(j->ack, j->ack_synced))
			return -1;
		return j->next_sync > now ? j->next_sync - now : 0;
	case JOURNAL_SYNC_BATCH:
		return pos_eq(j->ack, j->ack_synced) ? -1 : 0;
	case JOURNAL_SYNC_NEVER:
		return j->nsegs > 0 && j->ack.seg > j->segs[0].num ? 0 : -1;
	}
	return -1;
}

int
journal_close(struct journal *j, struct why *why)
{
	int rc = 0;

	if (j->dirfd == -1)
		return 0;
	if (journal_commit(j) == -1) {
		rc = why_set(why, "%s: %s", j->dir, strerror(errno));
		goto out_release;
	}
	/*
	 * All acknowledged: a new empty segment, the checkpoint at its
	 * start, and the last one unlinked with the others: what it held
	 * never has to be written to the disk.
	 */
	if (journal_acked_all(j) && j->segs[j->nsegs - 1].size > 0 &&
	    seg_create(j, j->segs[j->nsegs - 1].num + 1) == 0) {
		j->ack.seg = j->segs[j->nsegs - 1].num;
		j->ack.off = 0;
	}
	if (journal_tick(j, 0, true, why) == -1)
		rc = -1;
out_release:
	journal_release(j);
	return rc;
}

int
journal_parse_sync(const char *s, enum journal_sync *sync, int64_t *ms)
{
	char *end;
	long v;

	if (strcmp(s, "batch") == 0) {
		*sync = JOURNAL_SYNC_BATCH;
		return 0;
	}
	if (strcmp(s, "never") == 0) {
		*sync = JOURNAL_SYNC_NEVER;
		return 0;
	}
	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 3600000)
		return -1;
	*sync = JOURNAL_SYNC_INTERVAL;
	*ms = v;
	return 0;
}
