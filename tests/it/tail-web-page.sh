#!/bin/sh
# The sm-tail --listen page in a real browser (Debian's chromium, headless,
# driven by tests/web/page.test.js through puppeteer-core).  The first run
# installs puppeteer-core under tests/web/node_modules (npm ci, from
# package-lock.json); later runs reuse it.  The screenshot stays in
# build/tail-web-page.png.
. "$(dirname "$0")/tail-lib.sh"

tail_web_db sm_tail_page_$$
WEB=$SM_TOP/tests/web

puppeteer_ready
# a host seen before the page loads, old enough to be stale
gen_records 3 1 0 web-old | "$SM_BIN/sm-store" --db "$URL" --source a \
    2>/dev/null
mkdir -p "$SM_TOP/build"
DB_URL=$URL DB_PORT=$(db_port) SHOT=$SM_TOP/build/tail-web-page.png SM_TMP=$SM_TMP \
    timeout 120 node "$WEB/page.test.js"
