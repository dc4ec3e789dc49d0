/*
 * Reading a bearer token from a file, for the receiver and the senders
 * alike, and checking an Authorization header against it (token.h).
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "token.h"

int
token_read(const char *path, char **token, struct why *why)
{
	char buf[TOKEN_MAX + 2];
	struct stat st;
	ssize_t got;
	size_t len, start, i;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return why_set(why, "%s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
		warnx("%s: readable by others; chmod 600 it", path);
	got = read(fd, buf, sizeof(buf) - 1);
	if (got < 0) {
		why_set(why, "%s: %s", path, strerror(errno));
		goto out_close;
	}
	buf[got] = '\0';
	len = strcspn(buf, "\r\n");
	if (len > TOKEN_MAX) {
		why_set(why, "%s: token longer than %d bytes", path,
		    TOKEN_MAX);
		goto out_wipe;
	}
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		len--;
	for (start = 0; start < len && isspace((unsigned char)buf[start]);
	    start++)
		;
	if (start == len) {
		why_set(why, "%s: no token on the first line", path);
		goto out_wipe;
	}
	for (i = start; i < len; i++)
		if (!isgraph((unsigned char)buf[i])) {
			why_set(why, "%s: the token holds a space or a "
			    "control character", path);
			goto out_wipe;
		}
	if ((*token = strndup(buf + start, len - start)) == NULL) {
		why_set(why, "out of memory");
		goto out_wipe;
	}
	rc = 0;
out_wipe:
	explicit_bzero(buf, sizeof(buf));
out_close:
	close(fd);
	return rc;
}

bool
token_bearer_ok(const char *header, const char *token)
{
	size_t tlen = strlen(token), glen, i;
	volatile unsigned char d;
	const char *given;

	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
		return false;
	for (given = header + 7; *given == ' '; given++)
		;
	glen = strlen(given);
	while (glen > 0 && given[glen - 1] == ' ')
		glen--;
	/* every byte of the token is compared, whatever differs first */
	d = glen != tlen;
	for (i = 0; i < tlen; i++)
		d |= (unsigned char)token[i] ^
		    (unsigned char)(i < glen ? given[i] : 0);
	return d == 0;
}
