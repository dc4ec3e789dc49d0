#!/bin/sh
# TLS on both listeners and in the senders (sm-store(1), sm-tail(1),
# SECURITY; sm-post(1)): throw-away certificates made with openssl here;
# handshakes with TLS 1.2 and 1.3, TLS 1.1 refused, plain HTTP on the TLS
# port refused; sm-post --cacert delivers; an unknown CA, an expired
# certificate and another name are each one line and exit 2, with one
# handshake and no retry; sm-split leaves such a receiver out and
# delivers to the other; mutual TLS with and without a client
# certificate; files that do not fit exit 2 naming the file.  About 10 s.
. "$(dirname "$0")/store-lib.sh"

POST="$SM_BIN/sm-post"
SEED="$FIX/seed-records.ndjson"
C=$SM_TMP/pki
mkdir "$C"

# the certificates: a CA, and another that nobody trusts
ossl() {
	openssl "$@" 2>>"$C/openssl.log" || fail "openssl $*: $(cat "$C/openssl.log")"
}
for ca in ca other; do
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$C/$ca.key" -out "$C/$ca.pem" -days 2 \
	    -subj "/CN=sm test $ca"
done
# sign NAME CA DAYS SAN USAGE
sign() {
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$C/$1.key" -out "$C/$1.csr" -subj "/CN=$1"
	printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$4" "$5" \
	    >"$C/$1.ext"
	ossl x509 -req -in "$C/$1.csr" -CA "$C/$2.pem" -CAkey "$C/$2.key" \
	    -CAcreateserial -out "$C/$1.pem" -days "$3" -extfile "$C/$1.ext"
}
HERE="DNS:localhost,IP:127.0.0.1"
sign server ca 2 "$HERE" serverAuth
sign expired ca -1 "$HERE" serverAuth		# not after < now
sign elsewhere ca 2 "DNS:elsewhere.invalid" serverAuth
sign stranger other 2 "$HERE" serverAuth
sign client ca 2 "DNS:client" clientAuth
sign rogue other 2 "DNS:rogue" clientAuth
chmod 600 "$C"/*.key

# tls_recv NAME CERT [ARGS]: a TLS receiver with CERT and its key; sets
# RPID, and HURL (https://localhost:PORT/metrics)
tls_recv() {
	_name=$1
	_cert=$2
	shift 2
	start_receiver "$_name" --tls-cert "$C/$_cert.pem" \
	    --tls-key "$C/$_cert.key" "$@"
	HURL=https://localhost:$RPORT/metrics
}
# handshakes NAME: the failed handshakes the receiver NAME logged
handshakes() {
	grep -c 'http: Error' "$SM_TMP/$1.err" || :
}

echo "files that do not fit: exit 2 naming the file and why"
expect_status 2 "$STORE" --listen 127.0.0.1:0 --tls-cert "$C/server.pem" \
    --tls-key "$C/client.key"
expect_err "$C/client.key: not the key of the certificate in $C/server.pem"
expect_status 2 "$STORE" --listen 127.0.0.1:0 --tls-cert "$C/none.pem" \
    --tls-key "$C/server.key"
expect_err "$C/none.pem: No such file or directory"
expect_status 2 "$STORE" --listen 127.0.0.1:0 --tls-cert "$C/server.key" \
    --tls-key "$C/server.key"
expect_err "$C/server.key: not a PEM certificate"
expect_status 2 "$STORE" --listen 127.0.0.1:0 --tls-cert "$C/server.pem"
expect_err "--tls-cert and --tls-key go together"
expect_status 2 "$STORE" --tls-cert "$C/server.pem" --tls-key "$C/server.key"
expect_err "need --listen"
expect_status 2 "$POST" --cacert "$C/none.pem" https://localhost:1/metrics \
    </dev/null
expect_err "--cacert: $C/none.pem: No such file or directory"
expect_status 2 "$POST" --cert "$C/client.pem" https://localhost:1/metrics \
    </dev/null
expect_err "--cert and --key go together"

tls_recv good server
GOOD=$HURL
GOOD_PORT=$RPORT

echo "handshakes: TLS 1.2 and 1.3; TLS 1.1 refused"
for v in tls1_2 tls1_3; do
	openssl s_client -connect "127.0.0.1:$GOOD_PORT" -"$v" \
	    -CAfile "$C/ca.pem" -verify_return_error </dev/null \
	    >"$SM_TMP/sc" 2>&1 || fail "s_client -$v: $(cat "$SM_TMP/sc")"
	want=$(echo "$v" | sed 's/tls1_/TLSv1./')
	grep -q "^New, $want, Cipher is" "$SM_TMP/sc" ||
	    fail "s_client -$v: $(grep -E '^New|Protocol' "$SM_TMP/sc")"
done
# the client would refuse 1.1 itself at its default level: allow it
if openssl s_client -connect "127.0.0.1:$GOOD_PORT" -tls1_1 \
    -cipher 'DEFAULT@SECLEVEL=0' </dev/null >"$SM_TMP/sc" 2>&1; then
	fail "TLS 1.1 handshake accepted: $(cat "$SM_TMP/sc")"
fi
grep -q "Cipher is (NONE)" "$SM_TMP/sc" ||
    fail "TLS 1.1: $(cat "$SM_TMP/sc")"

echo "plain HTTP on the TLS port: refused"
if curl -s -m 5 -o "$SM_TMP/body" "http://127.0.0.1:$GOOD_PORT/health"; then
	fail "plain HTTP answered: $(cat "$SM_TMP/body")"
fi
code=$(curl -s -m 5 -o "$SM_TMP/body" -w '%{http_code}' --cacert \
    "$C/ca.pem" "https://localhost:$GOOD_PORT/health")
expect_eq "GET /health over TLS" "$code" 200

echo "sm-post --cacert delivers"
sed -n 1,5p "$SEED" >"$SM_TMP/five"
expect_status 0 "$POST" --cacert "$C/ca.pem" "$GOOD" <"$SM_TMP/five"
expect_eq rows "$(rows)" 5
before=$(handshakes good)

echo "an unknown CA: one line, one handshake, no retry, exit 2"
sed -n 6,8p "$SEED" >"$SM_TMP/three"
expect_status 2 "$POST" --cacert "$C/other.pem" --retries 5 \
    --spool "$SM_TMP/spool" "$GOOD" <"$SM_TMP/three"
expect_err "$GOOD: TLS: SSL certificate problem: unable to get local issuer certificate: a configuration error (--cacert, --cert, --key), not retried"
expect_eq "TLS lines" "$(grep -c 'TLS:' "$SM_TMP/err")" 1
! grep -q 'retrying\|gave up' "$SM_TMP/err" ||
    fail "retried: $(cat "$SM_TMP/err")"
expect_eq "spooled" "$(wc -l <"$SM_TMP/spool")" 3
expect_eq rows "$(rows)" 5
wait_for 50 test "$(handshakes good)" -gt "$before"
expect_eq "handshakes the receiver saw" "$(($(handshakes good) - before))" 1

echo "an expired certificate, another name: one line each, exit 2"
tls_recv old expired
expect_status 2 "$POST" --cacert "$C/ca.pem" "$HURL" <"$SM_TMP/three"
expect_err "$HURL: TLS: SSL certificate problem: certificate has expired"
expect_eq "TLS lines" "$(grep -c 'TLS:' "$SM_TMP/err")" 1
tls_recv far elsewhere
expect_status 2 "$POST" --cacert "$C/ca.pem" "$HURL" <"$SM_TMP/three"
expect_err "$HURL: TLS: SSL: no alternative certificate subject name matches target host name 'localhost'"
expect_eq rows "$(rows)" 5

echo "sm-split: a receiver failing verification is left out, the other takes all"
tls_recv odd stranger
expect_status 0 "$SM_BIN/sm-split" --cacert "$C/ca.pem" --retries 2 \
    --health-interval 0 "$HURL" "$GOOD" <"$SM_TMP/three"
expect_err "$HURL: TLS: SSL certificate problem"
expect_eq rows "$(rows)" 8

echo "mutual TLS: a client certificate the CA signs, or 403"
tls_recv mutual server --tls-client-ca "$C/ca.pem"
sed -n 9,10p "$SEED" >"$SM_TMP/two"
expect_status 0 "$POST" --cacert "$C/ca.pem" --cert "$C/client.pem" \
    --key "$C/client.key" "$HURL" <"$SM_TMP/two"
expect_eq rows "$(rows)" 10
sed -n 11p "$SEED" >"$SM_TMP/one"
expect_status 1 "$POST" --cacert "$C/ca.pem" "$HURL" <"$SM_TMP/one"
expect_err "(HTTP 403): a client certificate is required"
expect_status 1 "$POST" --cacert "$C/ca.pem" --cert "$C/rogue.pem" \
    --key "$C/rogue.key" "$HURL" <"$SM_TMP/one"
expect_err "(HTTP 403): client certificate: The certificate is NOT trusted"
expect_eq rows "$(rows)" 10
# /health stays open to probes without a certificate
code=$(curl -s -m 5 -o "$SM_TMP/body" -w '%{http_code}' --cacert \
    "$C/ca.pem" "https://localhost:$RPORT/health")
expect_eq "GET /health without a client certificate" "$code" 200

echo "sm-tail --listen over TLS, mutual"
"$SM_BIN/sm-tail" --listen 127.0.0.1:0 --port-file "$SM_TMP/tail.port" \
    --tls-cert "$C/server.pem" --tls-key "$C/server.key" \
    --tls-client-ca "$C/ca.pem" --web-root "$SM_TOP/web" \
    2>"$SM_TMP/tail.err" &
tpid=$!
at_exit "kill $tpid 2>/dev/null || true"
wait_for 100 test -s "$SM_TMP/tail.port"
T=https://localhost:$(cat "$SM_TMP/tail.port")
code=$(curl -s -m 5 -o "$SM_TMP/body" -w '%{http_code}' --cacert \
    "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key" "$T/rows?n=3")
expect_eq "sm-tail /rows with a client certificate" "$code" 200
grep -q '"sample_id"\|"id"' "$SM_TMP/body" ||
    fail "/rows: $(cat "$SM_TMP/body")"
code=$(curl -s -m 5 -o "$SM_TMP/body" -w '%{http_code}' --cacert \
    "$C/ca.pem" "$T/rows")
expect_eq "sm-tail /rows without one" "$code" 403
if curl -s -m 5 -o /dev/null "http://127.0.0.1:${T##*:}/health"; then
	fail "sm-tail: plain HTTP answered"
fi
kill -TERM $tpid
wait $tpid || fail "sm-tail exited $? on SIGTERM"
stop_receiver
echo "ok"
