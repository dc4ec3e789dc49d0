/*
 * A write-ahead journal of records in a directory: the sender's records
 * are appended to it before the next input is read, sent from it, and
 * forgotten only once a checkpoint says they were acknowledged.
 *
 * DIR holds segments NNNNNNNNNNNNNNNN.seg (16 hex digits, ascending), each
 * a sequence of frames: a 4-byte little-endian length, a 4-byte CRC-32C
 * (of the length bytes and the payload), the payload.  DIR/checkpoint
 * holds the acknowledged position (segment, offset), written to a
 * temporary file, synced, renamed over the old one and the directory
 * synced; a segment is unlinked only once a synced checkpoint is past it.
 * DIR/lock is flock(2)ed: one process a journal.  A payload that begins
 * with a NUL byte is the caller's control frame, not a record: it is not
 * counted, nor handed out by journal_read(); the last frame, when it is
 * one, is kept for the caller (ctl).
 *
 * Opening recovers: it reads the segments past the checkpoint one buffer
 * at a time (never the whole journal), truncates at the first frame that
 * is cut short or fails its CRC (and drops the segments after it), and
 * says what it dropped.  Only one process writes; the same process reads
 * back what it committed, in order.
 */
#ifndef SM_JOURNAL_H
#define SM_JOURNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "why.h"

#define JOURNAL_FRAME_HDR 8
#define JOURNAL_SYNC_MS_DEFAULT 500
#define JOURNAL_MAX_DEFAULT (256ULL << 20)	/* --journal-max */
#define JOURNAL_SEG_MAX (16ULL << 20)		/* the largest segment */
#define JOURNAL_SEG_MIN (64ULL << 10)
#define JOURNAL_CTL_MAX 32		/* control frames kept at most */
#define JOURNAL_OLD_MAX 8		/* full segments waiting for a sync */
#define JOURNAL_PUNCH_MIN (256U << 10)	/* a hole, at least; a power of 2 */
#define JOURNAL_TAILS 32		/* writes kept to be read back */

enum journal_sync {
	JOURNAL_SYNC_INTERVAL,	/* fdatasync every sync_ms */
	JOURNAL_SYNC_BATCH,	/* fdatasync every commit */
	JOURNAL_SYNC_NEVER	/* only when closed, and to free space */
};

struct journal_opts {
	const char *dir;
	uint64_t max_bytes;	/* segments on disk; 0: the default */
	uint64_t seg_bytes;	/* one segment; 0: max_bytes / 8, bounded */
	enum journal_sync sync;
	int64_t sync_ms;
	size_t max_rec;		/* a longer frame is a bad one */
};

/* A place in the journal: just after a frame, or a segment's start. */
struct journal_pos {
	uint64_t seg;
	uint64_t off;
};

/* What opening found. */
struct journal_recovery {
	uint64_t records;	/* past the checkpoint: to send again */
	uint64_t bytes;
	uint64_t dropped_bytes;	/* after the first bad frame */
	uint64_t dropped_segs;	/* whole segments after it */
	struct journal_pos bad;	/* where the bad frame was */
	bool bad_checkpoint;	/* unreadable: everything is sent again */
};

struct journal_seg {
	uint64_t num;
	uint64_t size;		/* committed bytes */
};

/* A full segment written since the last sync, still open to sync it. */
struct journal_old {
	int fd;
	uint64_t num;
};

/* Frames as written at pos, kept to be read back. */
struct journal_buf {
	char *p;
	size_t len, cap;
	struct journal_pos pos;
};

/* A buffered reader of one segment's frames. */
struct journal_reader {
	int fd;			/* -1: none open */
	uint64_t seg;
	uint64_t off;		/* file offset of buf[start] */
	char *buf;
	size_t cap, start, len;
};

struct journal {
	struct journal_opts o;
	char *dir;
	int dirfd, lockfd, wfd;
	int ckfd;			/* the checkpoint, overwritten */
	struct journal_seg *segs;	/* on disk, ascending; last: written */
	size_t nsegs, segcap;
	uint64_t bytes;			/* in segments, and buffered */
	char *wbuf;			/* frames appended, not written */
	size_t wlen, wcap;
	/* written, oldest first: read back from here, not the file */
	struct journal_buf tail[JOURNAL_TAILS];
	size_t ntail;
	struct journal_buf spare[JOURNAL_TAILS + 1];	/* buffers for wbuf */
	size_t nspare;
	bool dirty;			/* written since the last fdatasync */
	uint64_t punched;		/* the written segment's hole, to */
	struct journal_old old[JOURNAL_OLD_MAX];	/* full, unsynced */
	size_t nold;
	struct journal_pos ack;		/* acknowledged */
	struct journal_pos ack_written;	/* in the checkpoint file */
	struct journal_pos ack_synced;	/* ... and synced */
	int64_t next_sync;		/* monotonic ms */
	struct journal_reader rd;	/* sending reads from here */
	uint64_t own_seg;		/* the first segment this run wrote */
	uint64_t unacked;		/* records not acknowledged */
	uint64_t wrecs;			/* of them, appended, not written */
	uint64_t written;		/* bytes written, for statistics */
	char ctl[JOURNAL_CTL_MAX];	/* the last frame: a control one */
	size_t ctl_len;			/* 0: the last frame is a record */
	int err;			/* errno of the last failed commit */
	bool writing;			/* journal_commit_unlocked() writes */
};

/*
 * CRC-32C (Castagnoli) of len bytes, continuing crc (0 to start); by the
 * CPU's instruction when it has one.  _table: always by table.
 */
uint32_t journal_crc32c(uint32_t crc, const void *p, size_t len);
uint32_t journal_crc32c_table(uint32_t crc, const void *p, size_t len);

/*
 * Open (creating DIR when missing, one level), lock and recover; report
 * what was found in rec.  -1 with the reason in why: DIR not writable,
 * locked by another process, a read error.
 */
int journal_open(struct journal *j, const struct journal_opts *o,
    struct journal_recovery *rec, struct why *why);

/*
 * Append one record (len bytes) in memory; journal_commit() writes it.
 * -1 when out of memory or len is over max_rec.
 */
int journal_append(struct journal *j, const void *rec, size_t len);

/*
 * Frame a record into st, apart from the journal (no lock needed); then
 * journal_put() appends st's frames (nrecs records) as journal_append()
 * would have, and empties st.  -1 when out of memory or over max_rec.
 */
int journal_stage(struct journal_buf *st, size_t max_rec, const void *rec,
    size_t len);
int journal_put(struct journal *j, struct journal_buf *st, uint64_t nrecs);

/*
 * Write what was appended to the segment (and fdatasync it under
 * JOURNAL_SYNC_BATCH), then start a new segment when this one is full.
 * 0, or -1 with errno (ENOSPC...): nothing of it is in the segment then,
 * it stays appended, and the next commit tries again.
 */
int journal_commit(struct journal *j);

/*
 * journal_commit() for a caller whose lock covers j, held: the write(2)
 * (and a sync under JOURNAL_SYNC_BATCH) without it, so that other
 * threads read, acknowledge and tick meanwhile.  Only the calling thread
 * may append and commit.
 */
int journal_commit_unlocked(struct journal *j, pthread_mutex_t *lock);

/* Appended records wait to be written (a commit failed). */
bool journal_uncommitted(const struct journal *j);

/* Segments the checkpoint is past wait to be unlinked (by a tick). */
bool journal_passed(const struct journal *j);

/* Over max_bytes: stop appending until acknowledgements free segments. */
bool journal_full(const struct journal *j);

/*
 * The next committed record in order: 1 with *rec (valid until the next
 * call or commit), *len and *end, the position after it; 0 when none is
 * committed yet; -1 with why on a read error or a bad frame.
 */
int journal_read(struct journal *j, const char **rec, size_t *len,
    struct journal_pos *end, struct why *why);

/*
 * Records up to end (n of them) were acknowledged, in order; an end
 * before the checkpoint (journal_drop_oldest) moves nothing.
 */
void journal_ack(struct journal *j, struct journal_pos end, uint64_t n);

/* What journal_drop_oldest() dropped. */
struct journal_drop {
	uint64_t seg;		/* the segment */
	uint64_t records;	/* in it past the checkpoint */
	uint64_t unread;	/* ... of them, never handed out: lost */
	uint64_t bytes;		/* freed */
};

/*
 * Full, and dropping rather than waiting: the segment holding the
 * checkpoint goes, unless it is the one written.  The checkpoint moves to
 * the next segment's start and is synced before the segment is unlinked;
 * the reader, when in it, moves there too.  Its records not handed out by
 * journal_read() are lost (not acknowledged, unacked less them); those
 * handed out stay counted in unacked until journal_ack(), whose position
 * before the checkpoint then moves nothing.  1 with what went in *drop,
 * 0 when only the written segment is left, -1 with why.
 */
int journal_drop_oldest(struct journal *j, struct journal_drop *drop,
    struct why *why);

/*
 * Timed work, now a monotonic ms: fdatasync a written segment, write the
 * checkpoint (synced when due, renamed only between), unlink segments a
 * synced checkpoint is past.  force does all of it now.  -1 with why.
 */
int journal_tick(struct journal *j, int64_t now, bool force,
    struct why *why);

/* Milliseconds until journal_tick() has work, or -1: none pending. */
int64_t journal_due_in(const struct journal *j, int64_t now);

/*
 * Commit, sync, checkpoint and close (and unlock).  -1 with why when
 * any of it failed; j is closed either way.
 */
int journal_close(struct journal *j, struct why *why);

/* 4 bytes, little-endian, as frames have them. */
void journal_put_le32(unsigned char *p, uint32_t v);
uint32_t journal_get_le32(const unsigned char *p);

/* Parse --sync: "batch", "never" or milliseconds; -1 when bad. */
int journal_parse_sync(const char *s, enum journal_sync *sync,
    int64_t *ms);

#endif
