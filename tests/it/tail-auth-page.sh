#!/bin/sh
# The sm-tail --listen page in a real browser (Debian's chromium, headless,
# driven by tests/web/auth.test.js through puppeteer-core) behind TLS and
# a login: 401 without credentials; with them the page's stream connects
# and shows a new host.  puppeteer-core as tests/it/tail-web-page.sh
# installs it.  About 10 s.
. "$(dirname "$0")/tail-lib.sh"

tail_web_db sm_tail_auth_page_$$
WEB=$SM_TOP/tests/web

puppeteer_ready
# a throw-away certificate for localhost, and one viewer (SHA-crypt)
T=$SM_TMP/tls
mkdir "$T"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/server.key" -out "$T/server.pem" -days 1 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost \
    2>"$SM_TMP/openssl.err" || fail "openssl: $(cat "$SM_TMP/openssl.err")"
printf 'viewer:%s\n' "$(openssl passwd -6 'page pass')" >"$SM_TMP/users"
chmod 600 "$SM_TMP/users" "$T/server.key"
gen_records 2 1 0 before-login | "$SM_BIN/sm-store" --db "$URL" \
    --source a 2>/dev/null
DB_URL=$URL TLS_DIR=$T USERS=$SM_TMP/users VIEWER=viewer \
    PASSWORD='page pass' SM_TMP=$SM_TMP \
    timeout 90 node "$WEB/auth.test.js"
