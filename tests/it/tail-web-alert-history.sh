#!/bin/sh
# The sm-tail --listen page's stored alerts in a real browser (Debian's
# chromium, headless, driven by tests/web/alerts.test.js through
# puppeteer-core): an alert that fired and resolved under sm-tail
# --keep-alerts is listed in the host's view and the overview's recent
# alerts after sm-tail restarted.  About 10 s.
. "$(dirname "$0")/tail-lib.sh"

tail_web_db sm_tail_webalert_$$

puppeteer_ready
DB_URL=$URL SM_TMP=$SM_TMP timeout 120 node "$SM_TOP/tests/web/alerts.test.js"
