/*
 * The sender's write-ahead journal (journal.h): segments of CRC-framed
 * records, a checkpoint replaced atomically, recovery that reads a buffer
 * at a time and cuts at the first bad frame.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
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
/*
 * a(x) b(x) modulo the polynomial, bit-reflected as the CRC holds them
 * (x^0 is the top bit): zlib's multmodp.
 */
static uint32_t
crc32c_multmodp(uint32_t a, uint32_t b)
{
	uint32_t m = 1U << 31, p = 0;

	for (;;) {
		if (a & m) {
			p ^= b;
			if ((a & (m - 1)) == 0)
				break;
		}
		m >>= 1;
		b = b & 1 ? (b >> 1) ^ 0x82F63B78U : b >> 1;
	}
	return p;
}

/*
 * Three streams at once: the instruction takes 3 cycles and can start one
 * a cycle, so a buffer is cut into blocks of three stripes, each stripe's
 * CRC run beside the others from 0 and the three joined by shifting a CRC
 * over a stripe's length of zeros (a product by x^(8 stripe), four table
 * lookups): 2.5x the speed of one stream on long buffers.  Short stripes
 * for records (a few hundred bytes), long ones for input chunks.
 */
#define CRC32C_STRIPE_S 64
#define CRC32C_STRIPE_L 512

static uint32_t crc32c_shift_s[4][256], crc32c_shift_l[4][256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;
static bool crc32c_hw;

static void
crc32c_shift_init(uint32_t tab[4][256], size_t stripe)
{
	uint32_t x8n = 1U << 31, sq = 1U << 23;	/* 1, x^8 */
	size_t n = stripe;
	int k, b;

	/* x^(8 stripe) by squaring */
	for (; n > 0; n >>= 1, sq = crc32c_multmodp(sq, sq))
		if (n & 1)
			x8n = crc32c_multmodp(x8n, sq);
	for (k = 0; k < 4; k++)
		for (b = 0; b < 256; b++)
			tab[k][b] = crc32c_multmodp(x8n, (uint32_t)b << 8 * k);
}

static void
crc32c_hw_init(void)
{
	crc32c_hw = __builtin_cpu_supports("sse4.2");
	crc32c_shift_init(crc32c_shift_s, CRC32C_STRIPE_S);
	crc32c_shift_init(crc32c_shift_l, CRC32C_STRIPE_L);
}

static inline uint64_t
crc32c_shift(uint32_t tab[4][256], uint64_t c)
{
	return tab[0][c & 0xff] ^ tab[1][(c >> 8) & 0xff] ^
	    tab[2][(c >> 16) & 0xff] ^ tab[3][(c >> 24) & 0xff];
}

__attribute__((target("sse4.2"))) static uint64_t
crc32c_3way(uint64_t c, const unsigned char *s, size_t stripe,
    uint32_t tab[4][256])
{
	uint64_t c1 = 0, c2 = 0, w0, w1, w2;
	size_t i;

	for (i = 0; i < stripe; i += 8) {
		memcpy(&w0, s + i, 8);
		memcpy(&w1, s + stripe + i, 8);
		memcpy(&w2, s + 2 * stripe + i, 8);
		c = __builtin_ia32_crc32di(c, w0);
		c1 = __builtin_ia32_crc32di(c1, w1);
		c2 = __builtin_ia32_crc32di(c2, w2);
	}
	c = crc32c_shift(tab, c) ^ c1;
	return crc32c_shift(tab, c) ^ c2;
}

__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t c = ~crc, w;

	for (; len >= 3 * CRC32C_STRIPE_L; len -= 3 * CRC32C_STRIPE_L,
	    s += 3 * CRC32C_STRIPE_L)
		c = crc32c_3way(c, s, CRC32C_STRIPE_L, crc32c_shift_l);
	for (; len >= 3 * CRC32C_STRIPE_S; len -= 3 * CRC32C_STRIPE_S,
	    s += 3 * CRC32C_STRIPE_S)
		c = crc32c_3way(c, s, CRC32C_STRIPE_S, crc32c_shift_s);
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
	(void)pthread_once(&crc32c_once, crc32c_hw_init);
	if (crc32c_hw)
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
 * A failure names the file or step that failed (the temporary file, the
 * rename, the directory's sync), so that the reason can be acted on.
 */
static int
ckpt_write(struct journal *j, struct journal_pos pos, bool sync,
    struct why *why)
{
	char line[96];
	const char *what = "/" JOURNAL_CKPT_TMP;
	int fd, n, e;

	n = snprintf(line, sizeof(line), "sm-journal 1 %016" PRIx64 " %020"
	    PRIu64, pos.seg, pos.off);
	n += snprintf(line + n, sizeof(line) - (size_t)n, " %08" PRIx32 "\n",
	    journal_crc32c(0, line, (size_t)n));
	errno = 0;
	if (!sync && j->ckfd != -1) {
		if (pwrite(j->ckfd, line, (size_t)n, 0) != n)
			return why_set(why, "%s/%s: %s", j->dir, JOURNAL_CKPT,
			    strerror(errno != 0 ? errno : ENOSPC));
		j->ack_written = pos;
		return 0;
	}
	fd = openat(j->dirfd, JOURNAL_CKPT_TMP, O_RDWR | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0644);
	if (fd == -1)
		return why_set(why, "%s/%s: %s", j->dir, JOURNAL_CKPT_TMP,
		    strerror(errno));
	if (write(fd, line, (size_t)n) != n || (sync && fsync(fd) == -1))
		goto out_failed;
	what = ": renaming " JOURNAL_CKPT_TMP " to " JOURNAL_CKPT;
	if (renameat(j->dirfd, JOURNAL_CKPT_TMP, j->dirfd, JOURNAL_CKPT) == -1)
		goto out_failed;
	what = ": syncing the directory";
	if (sync && fsync(j->dirfd) == -1)
		goto out_failed;
	if (j->ckfd != -1)
		close(j->ckfd);
	j->ckfd = fd;
	j->ack_written = pos;
	if (sync)
		j->ack_synced = pos;
	return 0;
out_failed:
	e = errno != 0 ? errno : ENOSPC;
	close(fd);
	/*
	 * A full disk has no block for a new file: overwrite the old one in
	 * place and sync it, so that acknowledgements still free segments
	 * (power loss amid it costs a resend).
	 */
	if (e == ENOSPC && j->ckfd != -1) {
		(void)unlinkat(j->dirfd, JOURNAL_CKPT_TMP, 0);
		if (pwrite(j->ckfd, line, (size_t)n, 0) == n &&
		    fdatasync(j->ckfd) == 0) {
			j->ack_written = j->ack_synced = pos;
			return 0;
		}
	}
	return why_set(why, "%s%s: %s", j->dir, what, strerror(e));
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
	for (i = 0; i < j->ntail; i++)
		free(j->tail[i].p);
	for (i = 0; i < j->nspare; i++)
		free(j->spare[i].p);
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
	if (rc == 1 && ckpt_write(j, ck, true, why) == -1)
		goto out_release;
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
	if (ckpt_write(j, j->ack, true, why) == -1)
		goto out_release;
	segs_drop(j, segs_find(j, j->ack.seg));
	j->dirty = false;
	j->rd.seg = j->ack.seg;
	j->rd.off = j->ack.off;
	return 0;
out_release:
	journal_release(j);
	return -1;
}

/* Room for want bytes in a buffer that grows by doubling; -1: ENOMEM. */
static int
buf_reserve(char **buf, size_t *bcap, size_t want)
{
	size_t cap = *bcap ? *bcap : JOURNAL_READ_BUF;
	char *p;

	if (want <= *bcap)
		return 0;
	while (cap < want)
		cap *= 2;
	if ((p = realloc(*buf, cap)) == NULL)
		return -1;
	*buf = p;
	*bcap = cap;
	return 0;
}

/* One frame of rec into a growing buffer; -1 as journal_append(). */
static int
frame_add(char **buf, size_t *blen, size_t *bcap, size_t max_rec,
    const void *rec, size_t len)
{
	unsigned char hdr[JOURNAL_FRAME_HDR];
	size_t need = JOURNAL_FRAME_HDR + len;
	uint32_t crc;

	if (len > max_rec) {
		errno = EFBIG;
		return -1;
	}
	if (buf_reserve(buf, bcap, *blen + need) == -1)
		return -1;
	journal_put_le32(hdr, (uint32_t)len);
	crc = journal_crc32c(0, hdr, 4);
	journal_put_le32(hdr + 4, journal_crc32c(crc, rec, len));
	memcpy(*buf + *blen, hdr, sizeof(hdr));
	memcpy(*buf + *blen + sizeof(hdr), rec, len);
	*blen += need;
	return 0;
}

int
journal_append(struct journal *j, const void *rec, size_t len)
{
	if (frame_add(&j->wbuf, &j->wlen, &j->wcap, j->o.max_rec, rec,
	    len) == -1)
		return -1;
	j->bytes += JOURNAL_FRAME_HDR + len;
	if (len == 0 || ((const char *)rec)[0] != '\0') {
		j->unacked++;
		j->wrecs++;
	}
	return 0;
}

/*
 * Frame one record into st, not into the journal (a thread of its own
 * frames; journal_put() hands the frames over).  -1 as journal_append().
 */
int
journal_stage(struct journal_buf *st, size_t max_rec, const void *rec,
    size_t len)
{
	return frame_add(&st->p, &st->len, &st->cap, max_rec, rec, len);
}

int
journal_put(struct journal *j, struct journal_buf *st, uint64_t nrecs)
{
	char *p;
	size_t cap;

	if (st->len == 0)
		return 0;
	if (j->wlen == 0) {
		/* no copy: the buffers change hands */
		p = j->wbuf;
		cap = j->wcap;
		j->wbuf = st->p;
		j->wcap = st->cap;
		j->wlen = st->len;
		st->p = p;
		st->cap = cap;
	} else {
		if (buf_reserve(&j->wbuf, &j->wcap, j->wlen + st->len) == -1)
			return -1;
		memcpy(j->wbuf + j->wlen, st->p, st->len);
		j->wlen += st->len;
	}
	j->bytes += st->len;
	j->unacked += nrecs;
	j->wrecs += nrecs;
	st->len = 0;
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

/* The sending reader is past the end of b. */
static bool
journal_read_past(const struct journal *j, const struct journal_buf *b)
{
	return j->rd.seg > b->pos.seg || (j->rd.seg == b->pos.seg &&
	    j->rd.off >= b->pos.off + b->len);
}

/* Tail i's buffer goes to the spares. */
static void
journal_tail_drop(struct journal *j, size_t i)
{
	j->spare[j->nspare++] = j->tail[i];
	memmove(j->tail + i, j->tail + i + 1, (j->ntail - i - 1) *
	    sizeof(*j->tail));
	j->ntail--;
}

/*
 * What was just written at pos (wlen bytes of wbuf) is kept for sending
 * to read back without a pread(2) and its copy (the reader is behind by
 * the reads of one turn of the loop): added to the last tail when it
 * follows it and fits (the "\0R" frame after a chunk), else wbuf becomes
 * a tail and a spare buffer wbuf.  Tails the reader is past are spares
 * again; the oldest goes when all are taken (the reader reads the file).
 */
static void
journal_tail_keep(struct journal *j, struct journal_pos pos)
{
	struct journal_buf *t = j->ntail > 0 ? &j->tail[j->ntail - 1] : NULL;

	if (t != NULL && t->pos.seg == pos.seg &&
	    t->pos.off + t->len == pos.off && t->len + j->wlen <= t->cap) {
		memcpy(t->p + t->len, j->wbuf, j->wlen);
		t->len += j->wlen;
		return;
	}
	while (j->ntail > 0 && journal_read_past(j, &j->tail[0]))
		journal_tail_drop(j, 0);
	if (j->ntail == JOURNAL_TAILS)
		journal_tail_drop(j, 0);
	t = &j->tail[j->ntail++];
	t->p = j->wbuf;
	t->cap = j->wcap;
	t->len = j->wlen;
	t->pos = pos;
	j->wbuf = NULL;
	j->wcap = 0;
	if (j->nspare > 0) {
		j->wbuf = j->spare[--j->nspare].p;
		j->wcap = j->spare[j->nspare].cap;
	}
}

/*
 * The reader's next frame from a tail, when it is in one and the
 * reader's buffer is empty: 1 with *rec and *len, else 0.
 */
static int
journal_tail_next(struct journal *j, const char **rec, size_t *len)
{
	struct journal_reader *r = &j->rd;
	const struct journal_buf *t;
	uint64_t at;
	uint32_t flen;
	size_t i;

	if (r->len > 0)
		return 0;
	for (i = 0; i < j->ntail; i++) {
		t = &j->tail[i];
		if (r->seg == t->pos.seg && r->off >= t->pos.off &&
		    r->off < t->pos.off + t->len)
			break;
	}
	if (i == j->ntail)
		return 0;
	at = r->off - t->pos.off;
	if (t->len - at < JOURNAL_FRAME_HDR)
		return 0;
	flen = journal_get_le32((const unsigned char *)t->p + at);
	if (t->len - at - JOURNAL_FRAME_HDR < flen)
		return 0;
	*rec = t->p + at + JOURNAL_FRAME_HDR;
	*len = flen;
	r->off += JOURNAL_FRAME_HDR + flen;
	return 1;
}

/*
 * Write len bytes at the end of the segment (size bytes long) through fd:
 * all of them or none.  0, or -1 with errno.
 */
static int
commit_write(int fd, const char *buf, size_t len, uint64_t size)
{
	size_t done = 0;
	ssize_t n;
	int e;

	while (done < len) {
		n = write(fd, buf + done, len - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			e = errno;
			/*
			 * All of it or none: a frame cut short is cut off,
			 * or else by recovery (its CRC does not match).
			 */
			if (done > 0 && ftruncate(fd, (off_t)size) == -1) {
				/* recovery's cut, then */
			}
			errno = e;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/*
 * What was appended is written (and, under JOURNAL_SYNC_BATCH, synced:
 * synced says so): it becomes the segment's, to be read back; a full
 * segment makes way for the next.
 */
static int
commit_done(struct journal *j, bool synced)
{
	struct journal_seg *s = &j->segs[j->nsegs - 1];

	if (j->wlen > 0)
		journal_tail_keep(j, (struct journal_pos){ s->num, s->size });
	s->size += j->wlen;
	j->written += j->wlen;
	j->dirty = (j->dirty || j->wlen > 0) && !synced;
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

int
journal_commit(struct journal *j)
{
	const struct journal_seg *s = &j->segs[j->nsegs - 1];

	if (commit_write(j->wfd, j->wbuf, j->wlen, s->size) == -1) {
		j->err = errno;
		return -1;
	}
	return commit_done(j, false);
}

int
journal_commit_unlocked(struct journal *j, pthread_mutex_t *lock)
{
	uint64_t size = j->segs[j->nsegs - 1].size;
	bool synced = false;
	int rc, e, fd = j->wfd;

	if (j->wlen == 0)
		return commit_done(j, false);
	/*
	 * Only this thread appends, writes and starts segments while
	 * writing is set (journal_tick leaves the written segment be);
	 * what is read back is only what commit_done() made the segment's.
	 */
	j->writing = true;
	pthread_mutex_unlock(lock);
	rc = commit_write(fd, j->wbuf, j->wlen, size);
	e = errno;
	/* a failed sync is tried again by commit_done(), under the lock */
	if (rc == 0 && j->o.sync == JOURNAL_SYNC_BATCH)
		synced = fdatasync(fd) == 0;
	pthread_mutex_lock(lock);
	j->writing = false;
	if (rc == -1) {
		j->err = errno = e;
		return -1;
	}
	return commit_done(j, synced);
}

bool
journal_uncommitted(const struct journal *j)
{
	return j->wlen > 0;
}

bool
journal_passed(const struct journal *j)
{
	return j->nsegs > 0 && j->ack.seg > j->segs[0].num;
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
		if (r->seg >= j->own_seg && journal_tail_next(j, rec, len)) {
			if (*len > 0 && (*rec)[0] == '\0')
				continue;
			end->seg = r->seg;
			end->off = r->off;
			return 1;
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
	/* before the checkpoint: records of a segment dropped meanwhile */
	if (end.seg > j->ack.seg || (end.seg == j->ack.seg &&
	    end.off > j->ack.off))
		j->ack = end;
	j->unacked = n < j->unacked ? j->unacked - n : 0;
}

/*
 * Records (not control frames) in segment index i from off to its end,
 * in one read with a reader of its own; *past, those of them that begin
 * at split or after.  -1 (errno) on a read error.  A bad frame ends the
 * count: recovery cut what follows one.
 */
static int64_t
seg_count(const struct journal *j, size_t i, uint64_t off, uint64_t split,
    int64_t *past)
{
	struct journal_reader r = { .fd = -1 };
	const char *p;
	size_t len;
	uint64_t start;
	int64_t n = 0;

	*past = 0;
	if (off >= j->segs[i].size)
		return 0;
	if (jr_open(j, &r, j->segs[i].num, off) == -1)
		return -1;
	for (start = r.off; jr_next(&r, j->o.max_rec, j->segs[i].size, false,
	    &p, &len) == JR_FRAME; start = r.off)
		if (len == 0 || p[0] != '\0') {
			n++;
			*past += start >= split;
		}
	jr_close(&r);
	free(r.buf);
	return n;
}

int
journal_drop_oldest(struct journal *j, struct journal_drop *drop,
    struct why *why)
{
	struct journal_pos next;
	size_t i = segs_find(j, j->ack.seg), k;
	int64_t all, unread;

	memset(drop, 0, sizeof(*drop));
	/* only the written segment: nothing may go */
	if (i + 1 >= j->nsegs)
		return 0;
	drop->seg = j->segs[i].num;
	next.seg = j->segs[i + 1].num;
	next.off = 0;
	/* those from where the sending reader is on were never read */
	all = seg_count(j, i, j->segs[i].num == j->ack.seg ? j->ack.off : 0,
	    j->rd.seg > drop->seg ? UINT64_MAX : j->rd.seg == drop->seg ?
	    j->rd.off : 0, &unread);
	if (all == -1)
		return why_set(why, "%s: segment %016" PRIx64 ": %s", j->dir,
		    drop->seg, strerror(errno));
	/* the checkpoint past it, synced, before the segment goes */
	if (ckpt_write(j, next, true, why) == -1)
		return -1;
	j->ack = next;
	drop->records = (uint64_t)all;
	drop->unread = (uint64_t)unread;
	/* what was read stays counted until journal_ack() */
	j->unacked = drop->unread < j->unacked ? j->unacked - drop->unread :
	    0;
	if (j->rd.seg <= drop->seg) {
		jr_close(&j->rd);
		j->rd.seg = next.seg;
		j->rd.off = 0;
	}
	for (k = 0; k < j->ntail;)
		if (j->tail[k].pos.seg <= drop->seg)
			journal_tail_drop(j, k);
		else
			k++;
	/* a full one not synced yet: its room goes with its descriptor */
	for (k = 0; k < j->nold;)
		if (j->old[k].num <= drop->seg) {
			close(j->old[k].fd);
			memmove(j->old + k, j->old + k + 1, (--j->nold - k) *
			    sizeof(*j->old));
		} else {
			k++;
		}
	drop->bytes = j->bytes;
	segs_drop(j, segs_find(j, next.seg));
	drop->bytes -= j->bytes;
	return 1;
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
	if (j->err != 0 && !j->writing && journal_acked_written(j) &&
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
		durable = durable || journal_passed(j);
		break;
	}
	if (!durable) {
		/* atomic for a crash of the process; synced later */
		if (!pos_eq(j->ack, j->ack_written) &&
		    ckpt_write(j, j->ack, false, why) == -1)
			return -1;
		return 0;
	}
	/*
	 * The checkpoint first: acknowledged records need not be on the
	 * disk, so it does not wait for theirs; only then may the segments
	 * it is past go, and their unsynced data with them.
	 */
	if (!pos_eq(j->ack, j->ack_synced) && ckpt_write(j, j->ack,
	    true, why) == -1)
		return -1;
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
		return journal_passed(j) ? 0 : -1;
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
