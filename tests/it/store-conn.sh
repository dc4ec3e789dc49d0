#!/bin/sh
# sm-store's connection: URL forms, where the password comes from (never
# shown), option files, TLS modes (usage errors: tests/cmd/sm-store-cli.sh).
# Runs against a private server of its own, so the TLS counters are its
# alone.
. "$(dirname "$0")/store-lib.sh"

private_server
PW=$PDB_PASSWORD
URL=$PDB_URL
CA="$SM_TMP/pdb/tls/ca.pem"
SOCK="$SM_TMP/pdb/mysqld.sock"
unset SM_DB SM_DB_PASSWORD SM_DB_SOCKET_URL
ONE="$SM_TMP/one"
sed -n 1p "$FIX/seed-records.ndjson" >"$ONE"
ssl_accepts() {
	pdb sql --skip-ssl -N -e "SHOW GLOBAL STATUS LIKE 'Ssl_accepts'" |
	    cut -f2
}
# no_password: no output of the last expect_status shows the password
no_password() {
	! grep -qF -- "$PW" "$SM_TMP/err" "$SM_TMP/out" ||
	    fail "the password was printed"
}

echo "the password from SM_DB_PASSWORD"
expect_status 0 env SM_DB_PASSWORD="$PW" "$STORE" --db "$URL" <"$ONE"
expect_err "sm-store: 1 stored, 0 duplicates, 0 rejected"
no_password

echo "the password from an option file, group [sm], or [client] with the user"
printf '[client]\nconnect-timeout=3\n[sm]\npassword=%s\n' "$PW" \
    >"$SM_TMP/sm.cnf"
chmod 600 "$SM_TMP/sm.cnf"
expect_status 0 "$STORE" --db "$URL" --defaults-file "$SM_TMP/sm.cnf" <"$ONE"
expect_err "sm-store: 1 stored, 0 duplicates, 0 rejected"
printf '[client]\nuser=sm\npassword=%s\n' "$PW" >"$SM_TMP/client.cnf"
chmod 600 "$SM_TMP/client.cnf"
expect_status 0 "$STORE" --db "mysql://127.0.0.1:$PDB_PORT/sm" \
    --defaults-file "$SM_TMP/client.cnf" <"$ONE"
expect_err "sm-store: 1 stored, 0 duplicates, 0 rejected"
no_password
expect_status 2 "$STORE" --db "$URL" --defaults-file "$SM_TMP/missing.cnf" \
    <"$ONE"
expect_err "sm-store: $SM_TMP/missing.cnf: No such file or directory"

echo "a wrong or missing password: exit 2, and it is not shown"
expect_status 2 env SM_DB_PASSWORD="not-$PW" "$STORE" --db "$URL" <"$ONE"
expect_err "sm-store: database sm@127.0.0.1:$PDB_PORT/sm: connect: Access denied for user 'sm'@"
# the message says where the password comes from
expect_err "; check the password: SM_DB_PASSWORD, or password= in the [client] or [sm] group of the option file (--defaults-file, ~/.my.cnf)"
no_password
expect_status 2 env HOME="$SM_TMP" "$STORE" --db "$URL" <"$ONE"
expect_err "(using password: NO)"

echo "a password in --db works, warns, and is gone from ps"
start_receiver pw --db "mysql://sm:$PW@127.0.0.1:$PDB_PORT/sm"
CODE=$(curl -s -o "$SM_TMP/body" -w '%{http_code}' "$RURL/health")
expect_answer 200 '{"status":"ok","api":"sm-store"}'
grep -q "sm-store: --db: a password in the URL is visible to other users" \
    "$SM_TMP/pw.err" || fail "no warning: $(cat "$SM_TMP/pw.err")"
tr '\0' ' ' <"/proc/$RPID/cmdline" >"$SM_TMP/cmdline"
grep -q "mysql://sm:x*@127.0.0.1:$PDB_PORT/sm" "$SM_TMP/cmdline" ||
    fail "cmdline: $(cat "$SM_TMP/cmdline")"
! grep -qF -- "$PW" "$SM_TMP/cmdline" || fail "password visible in ps"
! ps -o args= -p "$RPID" | grep -qF -- "$PW" || fail "password visible in ps"
! grep -qF -- "$PW" "$SM_TMP/pw.err" || fail "password in the log"
stop_receiver

echo "a Unix socket URL"
before=$(ssl_accepts)
expect_status 0 env SM_DB_PASSWORD="$PW" "$STORE" \
    --db "mysql://sm@localhost/sm?socket=$SOCK" <"$ONE"
expect_err "sm-store: 1 stored, 0 duplicates, 0 rejected"
expect_eq "TLS on a socket" "$(ssl_accepts)" "$before"

echo "TLS: used over TCP unless disabled or on loopback; certificates checked on request"
[ -f "$CA" ] || fail "the test server has no TLS certificate (openssl?)"
export SM_DB_PASSWORD="$PW"
before=$(ssl_accepts)
expect_status 0 "$STORE" --db "$URL" --ssl-mode DISABLED <"$ONE"
expect_eq "TLS handshakes, DISABLED" "$(ssl_accepts)" "$before"
# loopback: nothing on the way, so no TLS unless asked (sm-store(1))
expect_status 0 "$STORE" --db "$URL" <"$ONE"
expect_eq "TLS handshakes, default on loopback" "$(ssl_accepts)" "$before"
expect_status 0 "$STORE" --db "$URL" --ssl-mode PREFERRED <"$ONE"
expect_eq "TLS handshakes, PREFERRED" "$(ssl_accepts)" $((before + 1))
expect_status 0 "$STORE" --db "$URL" --ssl-mode REQUIRED <"$ONE"
expect_eq "TLS handshakes, REQUIRED" "$(ssl_accepts)" $((before + 2))
expect_status 0 "$STORE" --db "$URL" --ssl-mode VERIFY_IDENTITY \
    --ssl-ca "$CA" <"$ONE"
expect_eq "TLS handshakes, VERIFY_IDENTITY" "$(ssl_accepts)" $((before + 3))
expect_status 0 "$STORE" \
    --db "$URL?ssl-mode=verify_ca&ssl-ca=$CA" <"$ONE"
expect_eq "TLS handshakes, VERIFY_CA" "$(ssl_accepts)" $((before + 4))
expect_status 2 "$STORE" --db "$URL" --ssl-mode VERIFY_CA <"$ONE"
expect_err "sm-store: database sm@127.0.0.1:$PDB_PORT/sm: connect: TLS/SSL error:"
expect_err "check --ssl-mode and --ssl-ca"
expect_err "certificate"
expect_status 2 "$STORE" --db "$URL" --ssl-mode REQUIRED \
    --ssl-ca "$SM_TMP/none.pem" <"$ONE"
expect_err "sm-store: ssl-ca $SM_TMP/none.pem: No such file or directory"
echo "ok"
