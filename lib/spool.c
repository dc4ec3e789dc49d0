/*
 * Spool and reject files: records that were not delivered, and refused ones
 * with their reason, written so nothing is dropped unseen (spool.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "spool.h"
#include "utf8.h"

int
spool_open(struct spool *s, const char *path, struct why *why)
{
	int fd;

	memset(s, 0, sizeof(*s));
	if ((s->path = strdup(path)) == NULL) {
		why_set(why, "%s: out of memory", path);
		return -1;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		why_set(why, "%s: %s", path, strerror(errno));
		goto out_free_path;
	}
	if ((s->f = fdopen(fd, "a")) == NULL) {
		why_set(why, "%s: %s", path, strerror(errno));
		close(fd);
		goto out_free_path;
	}
	return 0;
out_free_path:
	free(s->path);
	s->path = NULL;
	return -1;
}

/* Remember the first error, for spool_close() to report. */
static int
spool_failed(struct spool *s)
{
	if (s->err == 0)
		s->err = errno != 0 ? errno : EIO;
	return -1;
}

int
spool_write(struct spool *s, const char *rec, size_t len)
{
	if (fwrite(rec, 1, len, s->f) != len || putc('\n', s->f) == EOF)
		return spool_failed(s);
	s->records++;
	return 0;
}

/*
 * A JSON string literal for s (len bytes), escaped by json-c.  JSON is
 * UTF-8, and json-c copies other bytes through: those become U+FFFD.
 */
static int
spool_put_string(FILE *f, const char *s, size_t len)
{
	struct json_object *o;
	const char *txt;
	char *clean = NULL;
	int rc = -1;

	if (utf8_valid_prefix(s, len) < len &&
	    (s = clean = utf8_sanitize(s, len, &len)) == NULL)
		return -1;
	if ((o = json_object_new_string_len(s, (int)len)) == NULL)
		goto out_free_clean;
	txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (txt != NULL && fputs(txt, f) != EOF)
		rc = 0;
	json_object_put(o);
out_free_clean:
	free(clean);
	return rc;
}

static int
spool_reject_entry(struct spool *s, const struct spool_reject *r)
{
	FILE *f = s->f;

	if (fprintf(f, "{\"line\":%lu", r->line) < 0)
		return -1;
	if (r->request > 0 && fprintf(f, ",\"request\":%lu", r->request) < 0)
		return -1;
	if (r->status > 0 && fprintf(f, ",\"status\":%d", r->status) < 0)
		return -1;
	if (r->endpoint != NULL && (fputs(",\"endpoint\":", f) == EOF ||
	    spool_put_string(f, r->endpoint, strlen(r->endpoint)) == -1))
		return -1;
	if (fputs(",\"reason\":", f) == EOF ||
	    spool_put_string(f, r->reason, strlen(r->reason)) == -1)
		return -1;
	if (r->is_record) {
		/* checked to be one JSON object: keep it byte for byte */
		if (fputs(",\"record\":", f) == EOF ||
		    fwrite(r->text, 1, r->len, f) != r->len)
			return -1;
	} else if (fputs(",\"text\":", f) == EOF ||
	    spool_put_string(f, r->text, r->len) == -1) {
		return -1;
	}
	if (fputs("}\n", f) == EOF)
		return -1;
	s->records++;
	return 0;
}

int
spool_reject(struct spool *s, const struct spool_reject *r)
{
	return spool_reject_entry(s, r) == -1 ? spool_failed(s) : 0;
}

int
spool_flush(struct spool *s)
{
	return fflush(s->f) == EOF ? spool_failed(s) : 0;
}

int
spool_close(struct spool *s, struct why *why)
{
	int rc = 0;

	if (s->f == NULL)
		return 0;
	/* a pipe or terminal cannot be synced (EINVAL): nothing to do */
	if (fflush(s->f) == EOF || ferror(s->f) ||
	    (fsync(fileno(s->f)) == -1 && errno != EINVAL)) {
		(void)spool_failed(s);
		rc = -1;
	}
	if (fclose(s->f) == EOF) {
		(void)spool_failed(s);
		rc = -1;
	}
	if (rc == -1)
		why_set(why, "%s: %s", s->path,
		    strerror(s->err));
	s->f = NULL;
	free(s->path);
	s->path = NULL;
	return rc;
}
