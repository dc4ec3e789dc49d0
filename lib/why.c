/* Setting, extending and prefixing a struct why (why.h). */
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
	struct why old = *w;

	if (old.msg[0] == '\0')
		why_set(w, "%s", prefix);
	else
		why_set(w, "%s: %s", prefix, old.msg);
}
