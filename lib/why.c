#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "why.h"

int
why_set(struct why *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void
why_clear(struct why *w)
{
	w->msg[0] = '\0';
}

void
why_append(struct why *w, const char *fmt, ...)
{
	size_t len = strlen(w->msg);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->msg + len, sizeof(w->msg) - len, fmt, ap);
	va_end(ap);
}

void
why_prefix(struct why *w, const char *prefix)
{
	char old[WHY_LEN];
	size_t plen = strlen(prefix), olen;

	memcpy(old, w->msg, sizeof(old));
	olen = strlen(old);
	if (plen > sizeof(w->msg) - 1)
		plen = sizeof(w->msg) - 1;
	memcpy(w->msg, prefix, plen);
	if (olen > 0 && plen + 2 < sizeof(w->msg)) {
		memcpy(w->msg + plen, ": ", 2);
		plen += 2;
		if (olen > sizeof(w->msg) - 1 - plen)
			olen = sizeof(w->msg) - 1 - plen;
		memcpy(w->msg + plen, old, olen);
		plen += olen;
	}
	w->msg[plen] = '\0';
}
