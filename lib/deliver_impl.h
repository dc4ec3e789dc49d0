/*
 * The delivery engine's insides, shared by its parts and by nothing else:
 * deliver.c (the loop, its queues and its input), deliver_opts.c (options),
 * deliver_answer.c (what became of a request: acknowledgements, refusals,
 * retries, the spool, statistics) and deliver_xfer.c (libcurl handles,
 * requests and health probes).  Commands use deliver.h; the unit tests
 * (tests/unit/test_deliver.c) also call the pieces declared first here.
 */
#ifndef SM_DELIVER_IMPL_H
#define SM_DELIVER_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "backoff.h"
#include "clock.h"
#include "balance.h"
#include "batch.h"
#include "deliver.h"
#include "journal.h"
#include "ndjson.h"
#include "spool.h"
#include "why.h"

#define DELIVER_READ_BUDGET 4096	/* lines per turn of the loop */
#define DELIVER_RESP_MAX (4 * 1024 * 1024)
#define DELIVER_POLL_MAX_MS 1000
#define DELIVER_STATUS_MS 250	/* the status line's rewrites, at most */
#define DELIVER_PROBE_TIMEOUT_MS 5000
#define DELIVER_DRAIN_MS_DEFAULT 5000	/* --drain-timeout */
#define DELIVER_JOURNAL_MAX_MIN (1ULL << 20)

/* The engine's pieces its unit tests call too (tests/unit/test_deliver.c). */
enum deliver_verdict {
	DELIVER_OK,		/* 2xx: delivered */
	DELIVER_RETRY,		/* no answer, 408, 429, 5xx: try again */
	DELIVER_REJECT		/* any other answer: the receiver refused */
};

/* What to do after an attempt: answered is false when no HTTP answer. */
enum deliver_verdict deliver_classify(bool answered, long status);

/*
 * Read a refusal's body ({"error":"...","errors":[{"index":I,
 * "reason":"..."}]}): reasons[i] (allocated; caller frees) for each
 * record i < n it names, general the overall reason ("" when none).
 * Returns how many records were named.
 */
size_t deliver_parse_refusal(const char *body, size_t len, size_t n,
    char **reasons, char *general, size_t gsize);

/* scheme://host:port/health for an endpoint URL; NULL when not http(s). */
char *deliver_health_url(const char *url);

/* One easy handle: a request slot, or an endpoint's health probe. */
/* an endpoint that failed TLS verification stays out this long */
#define DELIVER_TLS_HOLD_MS (INT64_C(100) * 365 * 86400 * 1000)

struct xfer {
	CURL *h;
	struct batch *b;		/* the request's records */
	int ep;
	bool probe;			/* a GET /health, not a request */
	bool busy;
	struct batch_buf resp;
	char err[CURL_ERROR_SIZE];
};

struct endpoint {
	const char *url;
	char *url_json;			/* the URL as a JSON string */
	char *health_url;
	char label[2];
	bool failing;			/* alone, and failing: reported */
	int64_t failing_since;		/* ... since then (monotonic ms) */
	bool told_404;			/* the hint of a 404 given */
	bool tls_bad;			/* failed TLS verification: out */
	struct xfer probe;
	int64_t next_probe;
};

/* Where reading the input stands, after a turn of the loop. */
enum deliver_input {
	DELIVER_IN_READABLE,	/* lines may be waiting: read next turn */
	DELIVER_IN_MORE,	/* the turn's budget ran out: turn again now */
	DELIVER_IN_DRAINED,	/* nothing to read: wait on the descriptor */
	DELIVER_IN_BLOCKED,	/* a full batch waits for a request slot */
	DELIVER_IN_DONE		/* end, read error, --strict or a stop */
};

/* How far a stop has gone. */
enum deliver_stop {
	DELIVER_RUNNING,	/* reading and sending */
	DELIVER_STOPPING,	/* one signal: nothing more is read or sent;
				   requests in flight finish, the rest is
				   spooled */
	DELIVER_ABORTING	/* two signals, or a fatal error: requests in
				   flight are cut short and spooled too */
};

struct deliver {
	struct deliver_opts o;
	CURLM *multi;
	struct curl_slist *post_hdr, *probe_hdr;
	struct xfer *slots;
	struct xfer **idle;		/* free slots, a stack */
	long nidle;
	long busy;			/* slots in flight */
	struct endpoint ep[BALANCE_MAX];
	struct balance bal;
	struct backoff bo;
	struct spool reject, spool;
	struct ndjson_reader in;
	int in_flags;			/* to restore O_NONBLOCK */
	struct json_tokener *tok;
	struct batch *fill;		/* being filled from input */
	int64_t fill_since;
	struct batch *ready, *ready_tail;	/* to send now, FIFO */
	struct batch *waiting;		/* backing off */
	struct batch *free;
	long live;			/* sealed, not finished */
	unsigned long next_request;
	enum deliver_input input;
	enum deliver_stop stop;
	int wake[2];			/* a byte per stop signal */
	unsigned signals;		/* stop signals seen */
	/*
	 * Fields marked "both" are written by one of the loop and the
	 * journal's intake thread and read by the other: _Atomic, or
	 * under jlock.
	 */
	_Atomic bool fatal;		/* out of memory, or libcurl failed;
					   both: release/acquire */
	int tls_bad;			/* endpoints out for TLS */
	bool answered;			/* some endpoint answered HTTP */
	bool acks_gone;			/* stdout reader went away */
	bool acks_dirty;
	int64_t status_ms;		/* the status line last written */
	_Atomic bool write_failed;	/* reject or spool file; both */
	_Atomic bool read_failed;	/* input; both */
	int64_t drain_end;		/* a stop reads on until then */
	/* --journal (deliver_journal.c) */
	bool journaling;
	struct journal j;
	struct batch_buf jrec;		/* one record, prepared */
	/* the intake thread: reads, frames and writes the input */
	pthread_mutex_t jlock;		/* d->j and d->reject: both */
	pthread_cond_t jroom;		/* the loop says: room, or stop */
	pthread_t ithr;
	bool ithr_on;			/* started, not joined */
	int ievfd;			/* it says: records written, or done */
	int istopfd;			/* the loop says: stop reading */
	_Atomic bool istop;		/* ... (release/acquire) */
	_Atomic bool idone;		/* it ended (release/acquire) */
	_Atomic uint64_t icommits;	/* its commits */
	_Atomic uint64_t iseen;		/* ... the loop has fed from */
	_Atomic bool lwait;		/* the loop waits on ievfd */
	/* its counts, copied into c by the loop (relaxed) */
	_Atomic unsigned long ijournaled, ibad_lines;
	_Atomic unsigned long jdropped;	/* lost to a full journal: both */
	uint64_t jdropped_to;		/* segments before it dropped:
					   both, under jlock */
	_Atomic bool refused;		/* a receiver refused (--strict) */
	struct journal_buf jst;		/* frames staged by it */
	uint64_t jst_recs;		/* ... records among them */
	bool in_eof;			/* the input ended */
	int tp[2];			/* a pipe the input is tee(2)d into */
	int devnull;			/* where what was peeked is spliced */
	size_t taken;			/* peeked, not yet taken out */
	uint32_t taken_crc;		/* ... their CRC-32C */
	bool undelivered;		/* kept after --max-time */
	bool poll_in;			/* wait for the input to be readable */
	bool jfull;			/* full: not reading */
	bool jfull_told;		/* ... and said so */
	int64_t jfull_said;		/* when it was last said */
	bool jstuck;			/* reported a failed write */
	bool jdrop_failed;		/* reported a failed drop ... */
	int64_t jdrop_retry;		/* ... tried again then */
	bool jtick_failed;		/* reported a failed checkpoint */
	int64_t jretry;			/* try a failed write again then */
	unsigned long jline;		/* records read back this run */
	struct jpend {			/* sealed batches, in order */
		uint64_t seq;
		struct journal_pos end;
		uint64_t n;
		bool done;
	} *jring;
	size_t jhead, jcount, jcap;
	uint64_t jseq;			/* of the last batch sealed */
	struct deliver_counts c;
	/* --metrics-file (delivermetrics.c) */
	int64_t metrics_due;		/* the next write */
	bool metrics_failed;		/* the last write failed, and said so */
	char *metrics_sender;		/* "sender": the file name, no .prom */
};

/* deliver.c */
void deliver_fatal(struct deliver *d, const char *what);
bool deliver_is_fatal(const struct deliver *d);
struct batch *deliver_batch_get(struct deliver *d);
bool deliver_seal(struct deliver *d);
void deliver_bad_line(struct deliver *d, unsigned long lineno,
    const char *line, size_t len, const char *why);
void deliver_too_long(struct deliver *d);
void deliver_input_failed(struct deliver *d);
void deliver_batch_put(struct deliver *d, struct batch *b);
void ready_push(struct deliver *d, struct batch *b, bool front);

/* deliver_journal.c */
int deliver_journal_open(struct deliver *d, struct why *why);
void deliver_journal_read(struct deliver *d, int64_t now);
void deliver_journal_stop_reading(struct deliver *d, int64_t now);
bool deliver_journal_in_done(const struct deliver *d);
bool deliver_journal_wait(struct deliver *d, bool on);
void deliver_journal_sealed(struct deliver *d, struct batch *b);
void deliver_journal_done(struct deliver *d, const struct batch *b);
size_t deliver_journal_lost(struct deliver *d, const struct batch *b);
size_t deliver_journal_keep(struct deliver *d, const struct batch *b);
void deliver_journal_tick(struct deliver *d, int64_t now);
int64_t deliver_journal_due_in(const struct deliver *d, int64_t now);
void deliver_journal_counts(struct deliver *d);
void deliver_journal_close(struct deliver *d);

/* delivermetrics.c */
int deliver_metrics_open(struct deliver *d, struct why *why);
void deliver_metrics_tick(struct deliver *d, int64_t now);
int64_t deliver_metrics_due_in(const struct deliver *d, int64_t now);
void deliver_metrics_close(struct deliver *d);
/* The file's text: every counter, running 1 or 0; NULL out of memory. */
char *deliver_metrics_text(const struct deliver *d, bool running);

/* deliver_answer.c */
void deliver_write_failed(struct deliver *d, struct spool *s);
void deliver_finish(struct deliver *d, struct batch *b);
void deliver_spool(struct deliver *d, struct batch *b, bool sealed);
void deliver_interrupt(struct deliver *d, struct batch *b, bool sealed,
    const char *what);
void deliver_ack(struct deliver *d, struct batch *b, long status, double ms,
    struct json_object *answer);
void deliver_report(struct deliver *d, int ep, enum balance_change ch,
    const char *why);
void deliver_retry(struct deliver *d, struct batch *b, int64_t now,
    int64_t retry_after);
void deliver_refused(struct deliver *d, struct batch *b, long status,
    const struct xfer *x, double ms, struct json_object *answer);
struct json_object *deliver_parse_body(const char *body, size_t len);
const char *deliver_get_string(struct json_object *obj, const char *key);

/* deliver_xfer.c */
int xfer_init(struct xfer *x, struct curl_slist *hdr,
    const struct deliver_opts *o);
void xfer_free(struct xfer *x);
void deliver_start(struct deliver *d, struct batch *b, int64_t now);
void probe_start(struct deliver *d, struct endpoint *e);
void deliver_reap(struct deliver *d);
int deliver_headers(struct deliver *d, struct why *why);
int deliver_endpoints(struct deliver *d, struct why *why);

#endif
