/*
 * libFuzzer target: alert_rule_parse on one rule (the bytes, up to a NUL).
 *
 * Properties beyond "no crash":
 * - a rejected rule gets a reason that fits and is one line when the
 *   input is (the reason quotes the rule);
 * - an accepted rule's normalised text is accepted again as the very same
 *   rule (kind, field, operator, number, duration, text): normalising is
 *   idempotent and loses nothing;
 * - an event formatted for it is one line of JSON that fits
 *   ALERT_EVENT_MAX.
 */
#include <string.h>

#include "alert.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alert_rule r, again;
	struct alert_event ev;
	char text[512], line[ALERT_EVENT_MAX];
	struct why why;
	size_t n = strnlen((const char *)data, size);
	int len;

	if (n >= sizeof(text))
		return 0;
	memcpy(text, data, n);
	text[n] = '\0';
	if (alert_rule_parse(text, &r, &why) == -1) {
		FUZZ_CHECK(why.msg[0] != '\0', "no reason for \"%s\"", text);
		if (strchr(text, '\n') == NULL)
			FUZZ_CHECK(strchr(why.msg, '\n') == NULL,
			    "reason on two lines: %s", why.msg);
		return 0;
	}
	FUZZ_CHECK(alert_rule_parse(r.text, &again, &why) == 0,
	    "\"%s\" normalised to \"%s\", refused: %s", text, r.text, why.msg);
	FUZZ_CHECK(strcmp(r.text, again.text) == 0 && r.kind == again.kind &&
	    r.for_ms == again.for_ms && (r.kind == ALERT_STALE ||
	    (r.op == again.op && r.threshold == again.threshold &&
	    r.field.offset == again.field.offset)),
	    "\"%s\": \"%s\" became \"%s\"", text, r.text, again.text);

	memset(&ev, 0, sizeof(ev));
	ev.rule = r.text;
	ev.host = text;		/* any bytes but NUL, as a host */
	ev.firing = true;
	ev.has_value = r.kind == ALERT_THRESHOLD;
	ev.value = r.threshold;
	ev.ts_ms = ev.since_ms = r.for_ms;
	if (strlen(text) <= RECORD_HOST_MAX) {
		len = alert_event_format(&ev, line, sizeof(line));
		FUZZ_CHECK(len > 0 && line[len - 1] == '\n' &&
		    memchr(line, '\n', (size_t)len - 1) == NULL,
		    "event for \"%s\": %d", text, len);
	}
	return 0;
}
