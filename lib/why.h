/* The reason a call failed, as one line of text for a diagnostic. */
#ifndef SM_WHY_H
#define SM_WHY_H

#define WHY_LEN 512	/* room for the longest reason sm gives, and more */

/*
 * A failure's reason.  A struct rather than a bare char * so the size
 * travels with the buffer: a callee never has to be told how big it is.
 */
struct why {
	char msg[WHY_LEN];
};

/* Format the reason (cut to fit, always terminated); returns -1. */
int why_set(struct why *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Make the reason empty: "nothing to report". */
void why_clear(struct why *w);

/* Append formatted text to the reason, cut to fit. */
void why_append(struct why *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Put "prefix: " before the reason (just prefix when it is empty), cutting
 * the end to fit.
 */
void why_prefix(struct why *w, const char *prefix);

#endif
