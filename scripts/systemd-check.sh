#!/bin/sh
# Start the systemd units of systemd/ under a real systemd as PID 1 and
# check the pipeline end to end, on a Debian 12 machine that need not run
# systemd itself:
#
#   1. a Debian 12 root file system (debootstrap, from the mirror apt
#      uses) with systemd, MariaDB, curl and the commands' libraries;
#   2. `make install install-systemd PREFIX=/usr/local DESTDIR=` of this
#      checkout into it, /etc/sm from systemd/*.example (root-only files,
#      SM_URL and SM_DB pointed at the container itself, a random
#      database password in /etc/sm/db.cnf);
#   3. booted with systemd-nspawn -b (own network namespace: only lo, no
#      host network change) and driven from the host with nsenter;
#   4. the checks below, each printed; then the container is powered off
#      and $SM_SD_DIR removed, also on failure or interrupt.
#
# Needs root and a Debian mirror; installs debootstrap and
# systemd-container with apt-get if missing.  Takes a few minutes, so it is
# not part of `make check` (tests/cmd/systemd-units.sh is: verify only).
#
#   scripts/systemd-check.sh
#
# SM_SD_DIR          scratch directory, removed at the end (/tmp/sm-systemd)
# SM_SD_MIRROR       Debian mirror (the one apt uses)
# SM_SD_MAX_EXPOSURE highest `systemd-analyze security` score allowed (2.0)
set -eu

W=${SM_SD_DIR:-/tmp/sm-systemd}
MAXEXP=${SM_SD_MAX_EXPOSURE:-2.0}
MACHINE=sm-systemd-check
TOP=$(cd "$(dirname "$0")/.." && pwd)

. "$TOP/scripts/check-lib.sh"
. "$TOP/scripts/nspawn-lib.sh"
nspawn_setup SM_SD_DIR

rows() {	# rows SOURCE: rows of the table with that data_source
	sql "SELECT COUNT(*) FROM sm.system_metrics WHERE data_source='$1'"
}
active() {	# active UNIT: fail unless running, never restarted
	s=$(show "$1" ActiveState)
	n=$(show "$1" NRestarts)
	echo "   $1: $s, $n restarts"
	[ "$s" = active ] && [ "$n" = 0 ] ||
	    fail "$1: $s, $n restarts: $(g journalctl -u "$1" -n 10 -o cat)"
}
stopped_ok() {	# stopped_ok UNIT: its last run ended successfully
	r=$(show "$1" Result)
	st=$(show "$1" ExecMainStatus)
	echo "   $1: result $r, exit status $st"
	[ "$r" = success ] && [ "$st" = 0 ] ||
	    fail "$1: $r/$st: $(g journalctl -u "$1" -n 10 -o cat)"
}

step "build, tools"
make -C "$TOP" >"$W/make.log" 2>&1 || fail "make: $(tail -20 "$W/make.log")"
echo "   make: $(ls "$TOP"/bin | tr '\n' ' ')"
nspawn_tools

step "Debian 12 root file system (debootstrap)"
pkgs=systemd,systemd-sysv,dbus,mariadb-server,curl,ca-certificates,procps
pkgs=$pkgs,libjson-c5,libcurl4,libmariadb3,libmicrohttpd12,libncursesw6
nspawn_debootstrap $pkgs "${SM_SD_MIRROR:-}"

step "make install install-systemd PREFIX=/usr/local DESTDIR=rootfs; /etc/sm"
make -C "$TOP" install install-systemd PREFIX=/usr/local DESTDIR="$R" \
    >>"$W/make.log" 2>&1 || fail "make install: $(tail -20 "$W/make.log")"
echo "   units: $(ls "$R/usr/local/lib/systemd/system" | tr '\n' ' ')"
miss=$(chroot "$R" sh -c 'ldd /usr/local/bin/sm-*' | grep 'not found' || true)
[ -z "$miss" ] || fail "libraries missing in the root file system: $miss"
PW=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
TOKEN=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
E=$R/etc/sm
install -d -m 700 "$E"
(
	umask 077
	S=$TOP/systemd
	sed "s/^password=.*/password=$PW/" "$S/db.cnf.example" >"$E/db.cnf"
	sed 's|^SM_URL=.*|SM_URL=http://127.0.0.1:8081/metrics|' \
	    "$S/sm-read-post.env.example" >"$E/sm-read-post.env"
	# SM_STORE_OPTS as in the example: TLS, VERIFY_IDENTITY, the
	# system's CA bundle (which trusts the CA made below)
	sed -e 's|^SM_LISTEN=.*|SM_LISTEN=127.0.0.1:8081|' \
	    -e 's|^SM_DB=.*|SM_DB=mysql://sm@127.0.0.1:3306/sm|' \
	    "$S/sm-store-route-a.env.example" >"$E/sm-store-route-a.env"
	sed 's|8081|8082|' "$E/sm-store-route-a.env" >"$E/sm-store-route-b.env"
	echo "$TOKEN" >"$E/token"
)
ls -l "$E" | sed -n 's/^\([^ ]*\) .* \([^ ]*\)$/   \1 \2/p'
# MariaDB with TLS: a throw-away CA, added to the system's bundle, and a
# certificate for 127.0.0.1
T=$R/etc/mysql/sm-tls
install -d -m 750 "$T"
(
	cd "$T" && umask 077 &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -days 2 -subj "/CN=sm systemd-check CA" \
	    -keyout ca-key.pem -out ca.pem &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=127.0.0.1" -keyout server-key.pem -out server.csr &&
	printf 'subjectAltName=IP:127.0.0.1\n' >ext.cnf &&
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem \
	    -CAcreateserial -days 2 -extfile ext.cnf -out server-cert.pem &&
	rm ca-key.pem server.csr ext.cnf ca.srl
) >"$W/tls.log" 2>&1 || fail "openssl: $(tail -5 "$W/tls.log")"
install -m 644 "$T/ca.pem" "$R/usr/local/share/ca-certificates/sm-check.crt"
printf '[mariadbd]\nssl_ca=%s\nssl_cert=%s\nssl_key=%s\n' \
    /etc/mysql/sm-tls/ca.pem /etc/mysql/sm-tls/server-cert.pem \
    /etc/mysql/sm-tls/server-key.pem >"$R/etc/mysql/mariadb.conf.d/90-sm-tls.cnf"
chmod 644 "$R/etc/mysql/mariadb.conf.d/90-sm-tls.cnf"
chroot "$R" sh -c 'chgrp -R mysql /etc/mysql/sm-tls &&
    chmod 640 /etc/mysql/sm-tls/* && update-ca-certificates' \
    >>"$W/tls.log" 2>&1 || fail "TLS setup: $(tail -5 "$W/tls.log")"
echo "   MariaDB TLS certificate for 127.0.0.1, its CA in the system bundle"

step "boot: systemd-nspawn -b --private-network"
nspawn_boot

step "MariaDB (its own unit): database sm, user sm"
g systemctl is-active --quiet mariadb.service ||
    fail "mariadb.service: $(g systemctl status -n 10 mariadb.service)"
sql "CREATE DATABASE sm;
    CREATE USER 'sm'@'localhost' IDENTIFIED BY '$PW' REQUIRE SSL;
    CREATE USER 'sm'@'127.0.0.1' IDENTIFIED BY '$PW' REQUIRE SSL;
    GRANT ALL ON sm.* TO 'sm'@'localhost';
    GRANT ALL ON sm.* TO 'sm'@'127.0.0.1';"
echo "   $(sql 'SELECT VERSION()'); user sm REQUIRE SSL; password only in" \
    "/etc/sm/db.cnf (0600)"
[ "$(sql "SELECT @@have_ssl")" = YES ] || fail "MariaDB offers no TLS"

step "sm-store@route-a, sm-store@route-b"
g systemctl daemon-reload
g systemctl start sm-store@route-a.service sm-store@route-b.service
for r in a:8081 b:8082; do
	code=000
	i=0
	while [ $i -lt 20 ]; do
		code=$(g curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
		    "http://127.0.0.1:${r#*:}/health" || true)
		[ "$code" = 200 ] && break
		sleep 0.5
		i=$((i + 1))
	done
	echo "   route-${r%:*}: GET /health $code"
	[ "$code" = 200 ] || fail "sm-store@route-${r%:*}: /health $code:" \
	    "$(g journalctl -u "sm-store@route-${r%:*}" -n 10 -o cat)"
	active "sm-store@route-${r%:*}.service"
done
echo "   $(g journalctl -t sm-store -o cat | grep -m1 listening)"
echo "   route-a: $(grep '^SM_STORE_OPTS' "$E/sm-store-route-a.env")"

step "sm-read-post.service (sm-read -i 1 | sm-post to route-a)"
g systemctl start sm-read-post.service
sleep 12
active sm-read-post.service
a=$(rows route-a)
echo "   route-a rows after 12 s: $a"
[ "$a" -ge 8 ] || fail "only $a rows from sm-read-post.service"

step "receiver down: sm-post spools, the next start replays the spool"
g systemctl stop sm-store@route-a.service
sleep 5
g systemctl stop sm-read-post.service
stopped_ok sm-read-post.service
sp=$(g sh -c 'cat /var/lib/private/sm-read-post/spool.ndjson 2>/dev/null' |
    wc -l)
echo "   spooled: $sp records"
[ "$sp" -ge 3 ] || fail "only $sp records spooled with route-a down"
a0=$(rows route-a)
g systemctl start sm-store@route-a.service
sleep 1
g systemctl start sm-read-post.service
sleep 4
echo "   ExecStartPre (replay): $(show sm-read-post.service ExecStartPre |
    sed -n 's/.*status=\([0-9]*\).*/status \1/p')"
active sm-read-post.service
a1=$(rows route-a)
echo "   route-a rows $a0 -> $a1"
[ "$a1" -ge $((a0 + sp)) ] || fail "the $sp spooled records were not replayed"
g systemctl stop sm-read-post.service
stopped_ok sm-read-post.service
g sh -c 'cat /var/lib/private/sm-read-post/spool.ndjson 2>/dev/null' |
    sed -n 's/^{"id":"\([^"]*\)".*/\1/p' >"$W/spool-ids"
sp=$(wc -l <"$W/spool-ids")
ids=$(sed "s/.*/'&'/" "$W/spool-ids" | paste -sd, -)
instore() {	# rows holding the ids of $W/spool-ids
	if [ -z "$ids" ]; then echo 0; return; fi
	sql "SELECT COUNT(*) FROM sm.system_metrics WHERE sample_id IN ($ids)"
}
sp_in=$(instore)
echo "   left in the spool at stop (for the next run): $sp, $sp_in of them" \
    "already stored (sent again: ids make it idempotent)"
g systemctl start sm-read-post.service
sleep 3
active sm-read-post.service
echo "   started again: spooled ids stored: $(instore) of $sp"
[ "$(instore)" -eq "$sp" ] || fail "spooled records lost"
g systemctl stop sm-read-post.service
stopped_ok sm-read-post.service

step "sm-read-post.timer + sm-read-post-once.service (to route-b)"
g sed -i 's|127.0.0.1:8081|127.0.0.1:8082|' /etc/sm/sm-read-post.env
b0=$(rows route-b)
once() {
	s=$(date +%s%N)
	g systemctl start sm-read-post-once.service
	echo "   run $1: $((($(date +%s%N) - s) / 1000000)) ms"
	stopped_ok sm-read-post-once.service
}
once 1
b1=$(rows route-b)
echo "   route-b rows $b0 -> $b1 (its own state directory: the service's" \
    "spool is not its to replay)"
[ "$b1" -eq $((b0 + 1)) ] || fail "want $((b0 + 1)) rows"
st1=$(g stat -c %y /var/lib/private/sm-read-post-once/read.state) ||
    fail "no state file after run 1"
echo "   state file: /var/lib/private/sm-read-post-once/read.state ($st1)"
# a CPU busy for 3 s, then idle: only a sample measuring from the state
# file (the previous run) sees it
g timeout 3 sh -c 'while :; do :; done' || true
sleep 2
once 2
b2=$(rows route-b)
st2=$(g stat -c %y /var/lib/private/sm-read-post-once/read.state)
cpu=$(sql "SELECT cpu_usage FROM sm.system_metrics
    WHERE data_source='route-b' ORDER BY sampled_at DESC LIMIT 1")
echo "   route-b rows $b2; state rewritten ($st2); cpu_usage $cpu %" \
    "(1 of $(nproc) CPUs busy 3 s of the 5 s since run 1)"
[ "$b2" -eq $((b1 + 1)) ] || fail "want $((b1 + 1)) rows"
[ "$st2" != "$st1" ] || fail "run 2 did not rewrite the state file"
awk -v c="$cpu" 'BEGIN { exit !(c >= 12) }' ||
    fail "cpu_usage $cpu: the sample did not cover the time since run 1"
! g journalctl -u sm-read-post-once.service -o cat | grep -i 'state.*ignor' ||
    fail "the state file was ignored"
g systemctl enable --now sm-read-post.timer 2>&1 | sed 's/^/   /'
next=$(show sm-read-post.timer NextElapseUSecRealtime)
echo "   timer: next elapse $next; waiting for it"
i=0
while [ "$(show sm-read-post.timer LastTriggerUSec)" = "" ] ||
    [ "$(show sm-read-post.timer LastTriggerUSec)" = n/a ]; do
	[ $i -lt 75 ] || fail "sm-read-post.timer did not fire in 75 s"
	sleep 1
	i=$((i + 1))
done
sleep 2
echo "   timer fired: $(show sm-read-post.timer LastTriggerUSec)"
stopped_ok sm-read-post-once.service
b3=$(rows route-b)
echo "   route-b rows $b3"
[ "$b3" -eq $((b2 + 1)) ] || fail "want $((b2 + 1)) rows"
g systemctl disable --now sm-read-post.timer >/dev/null 2>&1

step "bearer token as a credential (drop-ins of the units' comments)"
for u in sm-store@route-b.service sm-read-post-once.service; do
	g mkdir -p "/etc/systemd/system/$u.d"
	printf '[Service]\nLoadCredential=token:/etc/sm/token\nEnvironment=SM_TOKEN_OPTS=--token-file=%%d/token\n' |
	    g sh -c "cat >/etc/systemd/system/$u.d/token.conf"
done
g systemctl daemon-reload
g systemctl restart sm-store@route-b.service
sleep 1
code=$(g curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary '{}' \
    http://127.0.0.1:8082/metrics || true)
echo "   POST without the token: $code"
[ "$code" = 401 ] || fail "sm-store accepted a request without the token"
once 3
b4=$(rows route-b)
echo "   route-b rows $b4"
[ "$b4" -eq $((b3 + 1)) ] || fail "want $((b3 + 1)) rows with the token"

step "rows: data_source and host"
sql "SELECT data_source, host, collector, COUNT(*) FROM sm.system_metrics
    GROUP BY 1, 2, 3" | sed 's/^/   /'
bad=$(sql "SELECT COUNT(*) FROM sm.system_metrics
    WHERE data_source NOT IN ('route-a', 'route-b') OR host <> '$MACHINE'")
[ "$bad" = 0 ] || fail "$bad rows with another data_source or host"

step "sm-store@ stops cleanly on SIGTERM"
g systemctl stop sm-store@route-a.service sm-store@route-b.service
for r in a b; do
	stopped_ok "sm-store@route-$r.service"
done
echo "   $(g journalctl -t sm-store -o cat | grep -m1 'stopped on signal')"

step "journal of the sm units"
g journalctl -o short-precise -u 'sm-*' >"$W/journal.txt"
echo "   $(wc -l <"$W/journal.txt") lines; from the programs:"
grep -E ' (sm-store|sm-read-post)\[' "$W/journal.txt" |
    sed -e 's/^[^ ]* [^ ]* [^ ]* [^ ]* /     /' -e 's/\[[0-9]*\]//' |
    cut -c1-150 | sort | uniq -c |
    sort -rn | head -12
if grep -E 'Failed with result|code=killed|status=(31|SYS)|core-dump|Permission denied|Read-only file system|Operation not permitted|Bad system call| sh\[' \
    "$W/journal.txt"; then
	fail "errors in the journal (above)"
fi
echo "   no failure, denial, seccomp kill or untagged line"

step "systemd-analyze security (exposure, at most $MAXEXP)"
for u in sm-read-post.service sm-read-post-once.service \
    sm-store@route-a.service; do
	e=$(g systemd-analyze security --no-pager "$u" |
	    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	echo "   $u: $e"
	awk -v e="$e" -v m="$MAXEXP" 'BEGIN { exit !(e != "" && e <= m) }' ||
	    fail "$u: exposure $e above $MAXEXP"
done

step "the password and the token are nowhere to be seen"
for s in "$PW" "$TOKEN"; do
	n=0
	for u in sm-store@route-a sm-store@route-b sm-read-post \
	    sm-read-post-once sm-read-post.timer; do
		n=$((n + $(g systemctl show "$u" | grep -c -F "$s" || true)))
	done
	n=$((n + $(g systemctl show-environment | grep -c -F "$s" || true)))
	n=$((n + $(g ps auxwwe | grep -c -F "$s" || true)))
	n=$((n + $(g journalctl -o verbose | grep -c -F "$s" || true)))
	n=$((n + $(g sh -c 'cat /proc/[0-9]*/cmdline /proc/[0-9]*/environ' \
	    2>/dev/null | tr '\0' '\n' | grep -c -F "$s" || true)))
	[ "$n" = 0 ] || fail "a secret seen $n times"
done
echo "   not in systemctl show, show-environment, ps auxwwe," \
    "journalctl -o verbose, /proc/*/cmdline or environ"

step "power off"
nspawn_poweroff
took
