#!/bin/sh
# The sm-tail --listen page's time ranges, zoom, gaps, search, sort and
# host view in a real browser (Debian's chromium, headless, driven by
# tests/web/range.test.js through puppeteer-core), the page served from
# the copy compiled into sm-tail.  The first run installs puppeteer-core
# under tests/web/node_modules (npm ci, from package-lock.json); later runs
# reuse it.  Screenshots stay in build/tail-web-*.png.  About 20 s.
. "$(dirname "$0")/tail-lib.sh"

tail_web_db sm_tail_range_$$
WEB=$SM_TOP/tests/web

puppeteer_ready
mkdir -p "$SM_TOP/build"
DB_URL=$URL SHOT_DIR=$SM_TOP/build SM_TMP=$SM_TMP \
    timeout 120 node "$WEB/range.test.js"
