#!/bin/sh
# The systemd units: rendered for the binaries under test, they pass
# systemd-analyze verify, and they keep their hardening and secrets rules.
. "$(dirname "$0")/../lib.sh"

scripts/units.sh "$SM_BIN" "$SM_TMP/units"
cd "$SM_TMP/units"
units=$(ls)
echo "units: $(echo $units)"
[ "$(echo "$units" | wc -l)" -eq 8 ] || fail "want 8 units"
# shellcheck disable=SC2086
systemd-analyze verify --man=no $units 2>"$SM_TMP/verify" ||
    fail "systemd-analyze verify: $(cat "$SM_TMP/verify")"
[ ! -s "$SM_TMP/verify" ] || fail "verify warnings: $(cat "$SM_TMP/verify")"
echo "systemd-analyze verify: clean"

for u in *.service; do
	for want in DynamicUser=yes ProtectSystem=strict NoNewPrivileges=yes \
	    PrivateTmp=yes CapabilityBoundingSet=; do
		grep -qx "$want" "$u" || fail "$u lacks $want"
	done
	grep -q "$SM_BIN/sm-" "$u" || fail "$u: binaries not rendered"
	! grep -q '@[A-Z]*@' "$u" || fail "$u: placeholder left"
	# no secret in a unit: passwords and tokens come as credentials
	if grep -v '^#' "$u" | grep -Eiq 'password|bearer|mysql://[^@/]*:'; then
		fail "$u holds a secret outside its comments"
	fi
done
grep -q '^LoadCredential=db.cnf:/etc/sm/db.cnf$' sm-store@.service ||
    fail "sm-store@: database credentials not loaded as a credential"
grep -q -- '--defaults-file "$CREDENTIALS_DIRECTORY/db.cnf"' sm-store@.service ||
    fail "sm-store@: does not read the credential"
grep -q '^LoadCredential=db.cnf:/etc/sm/db.cnf$' sm-keep.service ||
    fail "sm-keep: database credentials not loaded as a credential"
grep -q '^Unit=sm-keep.service$' sm-keep.timer ||
    fail "sm-keep.timer does not run sm-keep.service"
grep -q '^Type=oneshot$' sm-keep.service || fail "sm-keep: not a oneshot"
grep -q -- '-n 1 --state read.state' sm-read-post-once.service ||
    fail "timer service: not a one-shot sample with --state"
grep -q -- 'sm-post .*--journal "$STATE_DIRECTORY/journal"' \
    sm-read-post.service ||
    fail "sm-read-post: sm-post does not journal under its StateDirectory"
grep -q '^LoadCredential=db.cnf:/etc/sm/db.cnf$' sm-tail-web.service ||
    fail "sm-tail-web: database credentials not loaded as a credential"
grep -q -- "$SM_BIN/sm-tail --listen \"\$SM_LISTEN\" --defaults-file" \
    sm-tail-web.service || fail "sm-tail-web: not sm-tail --listen"
grep -qx 'Environment=SM_LISTEN=127.0.0.1:8090 SM_TAIL_WEB_OPTS=' \
    sm-tail-web.service || fail "sm-tail-web: not on loopback by default"
grep -q "sm-tail -f -n 0 .*| $SM_BIN/sm-alert --rules /etc/sm/alerts.rules" \
    sm-alert.service || fail "sm-alert: not sm-tail -f | sm-alert --rules"
grep -qx "ExecStartPre=$SM_BIN/sm-alert --rules /etc/sm/alerts.rules" \
    sm-alert.service || fail "sm-alert: rules not checked before the start"
grep -q '^LoadCredential=db.cnf:/etc/sm/db.cnf$' sm-alert.service ||
    fail "sm-alert: database credentials not loaded as a credential"
# the example rules are rules sm-alert takes
"$SM_BIN/sm-alert" --rules "$SM_TOP/systemd/alerts.rules.example" \
    </dev/null 2>"$SM_TMP/rules" || fail "alerts.rules.example: $(cat "$SM_TMP/rules")"
grep -qx 'Unit=sm-read-post-once.service' sm-read-post.timer ||
    fail "timer: wrong unit"
echo ok
