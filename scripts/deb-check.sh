#!/bin/sh
# Install the Debian packages (debian/, scripts/deb.sh) on a Debian 12
# machine running systemd, use them, and take them away again:
#
#   1. scripts/deb.sh builds sm and sm-metrics-dkms (lintian clean);
#   2. a Debian 12 root file system (debootstrap, from the mirror apt
#      uses) with systemd and MariaDB; apt, in it, resolves the packages'
#      dependencies from that mirror and downloads them (linux-headers-amd64
#      too: dkms recommends it); the container itself has no network;
#   3. booted with systemd-nspawn -b (own network namespace: only lo) and
#      driven from the host with nsenter: the dependencies installed, the
#      file list taken, then `apt-get install ./sm_*.deb
#      ./sm-metrics-dkms_*.deb`;
#   4. the checks below, each printed: units installed disabled and
#      stopped; `dkms status` shows sm-metrics built and installed for the
#      container's linux-headers kernel (built only, never loaded);
#      /etc/sm from the packaged examples, sm-store@route-a and
#      sm-read-post enabled and rows arriving in MariaDB; `apt-get remove`
#      stops the units and leaves only the conffiles, the admin's files and
#      the services' state; `apt-get purge` (after the admin removed their
#      own files from /etc/sm) leaves the file list as it was before the
#      install;
#   5. the container is powered off and $SM_DEB_DIR removed, also on
#      failure or interrupt.
#
# Needs root and a Debian mirror; installs debootstrap and
# systemd-container with apt-get if missing.  Takes several minutes (most
# of it debootstrap and the downloads), so it is not part of `make check`
# (tests/deb/deb.sh is: build, lintian, contents).
#
#   scripts/deb-check.sh
#
# SM_DEB_DIR     scratch directory, removed at the end (/tmp/sm-deb)
# SM_DEB_MIRROR  Debian mirror (the one apt uses)
set -eu

W=${SM_DEB_DIR:-/tmp/sm-deb}
MACHINE=sm-deb-check
TOP=$(cd "$(dirname "$0")/.." && pwd)

. "$TOP/scripts/check-lib.sh"
. "$TOP/scripts/nspawn-lib.sh"
nspawn_setup SM_DEB_DIR

rows() {	# rows: rows of the table from route-a, from this machine
	sql "SELECT COUNT(*) FROM sm.system_metrics
	    WHERE data_source='route-a' AND host='$MACHINE'"
}
# files NAME: the container's file list into $W/NAME (names only; one
# file system: no /proc, /sys, /dev, /run, /tmp), without what changes by
# itself or belongs to others: logs, apt's and dpkg's own books, the
# database's data (the admin's), systemd's clocks and seeds
files() {
	g find / -xdev | LC_ALL=C sort | grep -Ev \
	    '^/var/(log|cache)/|^/var/lib/(apt|mysql)/|^/var/lib/dpkg/[^i]|^/var/lib/dpkg/info$|^/var/lib/systemd/(random-seed|timers|catalog|pstore|coredump)|^/etc/ld\.so\.cache$' \
	    >"$W/$1"
}
# diffs A B: what B has that A lacks (+) and what A has that B lacks (-)
diffs() {
	diff "$W/$1" "$W/$2" | sed -n 's/^> /+ /p; s/^< /- /p'
}

step "build the packages (scripts/deb.sh), tools"
"$TOP/scripts/deb.sh" "$W/deb" >"$W/deb.log" 2>&1 ||
    fail "scripts/deb.sh: $(tail -20 "$W/deb.log")"
grep '^deb: ' "$W/deb.log" | sed 's/^/   /'
SM=$(cd "$W/deb" && ls sm_*.deb)
DK=$(cd "$W/deb" && ls sm-metrics-dkms_*.deb)
DV=$(dpkg-deb -f "$W/deb/$SM" Version)
echo "   $SM, $DK"
nspawn_tools

step "Debian 12 root file system (debootstrap)"
nspawn_debootstrap systemd,systemd-sysv,dbus,mariadb-server,ca-certificates,curl,procps \
    "${SM_DEB_MIRROR:-}"

step "apt resolves the packages' dependencies from the mirror (downloaded)"
install -d "$R/root/debs"
cp "$W/deb/$SM" "$W/deb/$DK" "$R/root/debs/"
chroot "$R" apt-get update -q >"$W/apt-chroot.log" 2>&1 ||
    fail "apt-get update: $(tail -5 "$W/apt-chroot.log")"
chroot "$R" apt-get install -s -q "/root/debs/$SM" "/root/debs/$DK" \
    >"$W/apt-sim.log" 2>&1 || fail "apt-get -s: $(tail -10 "$W/apt-sim.log")"
deps=$(awk '$1 == "Inst" && $2 != "sm" && $2 != "sm-metrics-dkms" { print $2 }' \
    "$W/apt-sim.log" | tr '\n' ' ')
echo "   $(echo $deps | wc -w) packages: $deps" | fold -s -w 76 |
    sed '2,$s/^/     /'
HDR=$(echo "$deps" | tr ' ' '\n' | grep -E '^linux-headers-[0-9].*-amd64$' |
    head -1) || fail "apt would install no linux-headers-VERSION-amd64"
KVER=${HDR#linux-headers-}
echo "   kernel headers: $HDR"
chroot "$R" apt-get install -y -q --download-only "/root/debs/$SM" \
    "/root/debs/$DK" >>"$W/apt-chroot.log" 2>&1 ||
    fail "apt-get --download-only: $(tail -5 "$W/apt-chroot.log")"
echo "   $(ls "$R/var/cache/apt/archives" | grep -c '\.deb$') .deb files in" \
    "the container's apt cache ($(du -sh "$R/var/cache/apt/archives" | cut -f1))"

step "boot: systemd-nspawn -b --private-network"
nspawn_boot

step "the dependencies installed (offline, from the cache); file list"
# shellcheck disable=SC2086
g env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-download \
    $deps >"$W/apt-deps.log" 2>&1 ||
    fail "apt-get install dependencies: $(tail -10 "$W/apt-deps.log")"
echo "   $(grep -c '^Setting up' "$W/apt-deps.log") packages set up;" \
    "/lib/modules: $(g ls /lib/modules | tr '\n' ' ')"
g dkms status >"$W/dkms0" 2>&1
echo "   dkms status: $(cat "$W/dkms0" | wc -l) lines"
files before
echo "   $(wc -l <"$W/before") files and directories"

step "apt-get install ./$SM ./$DK"
# (no --no-download: apt takes local files through its download step;
# with everything else installed there is nothing to fetch)
g env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    "/root/debs/$SM" "/root/debs/$DK" >"$W/apt-install.log" 2>&1 ||
    fail "apt-get install: $(tail -20 "$W/apt-install.log")"
n=$(grep -c '^Setting up' "$W/apt-install.log")
grep -E '^Setting up|Building (for|initial)|^Done|depmod|dkms' \
    "$W/apt-install.log" | sed 's/^/   | /'
[ "$n" -eq 2 ] || fail "$n packages set up, want 2 (the dependencies came first)"
for p in sm sm-metrics-dkms; do
	s=$(g dpkg-query -W -f='${Status} ${Version}' $p)
	echo "   $p: $s"
	[ "$s" = "install ok installed $DV" ] || fail "$p: $s"
done
cmds=$(cd "$R/usr/bin" && ls sm-*)
for c in $cmds; do
	g "$c" --version >/dev/null || fail "$c --version"
done
echo "   $(g sm-read --version); $(echo $cmds | wc -w) commands run" \
    "(their libraries are there)"
ls "$R/usr/share/man/man1" | grep -q '^sm-read\.1\.gz$' || fail "no sm-read(1)"

step "units: installed, disabled, not running"
for u in $(cd "$R/lib/systemd/system" && ls sm-* |
    sed 's/@\.service$/@route-a.service/'); do
	e=$(g systemctl is-enabled "$u" 2>/dev/null || true)
	a=$(g systemctl is-active "$u" 2>/dev/null || true)
	l=$(show "$u" FragmentPath)
	echo "   $u: $e, $a ($l)"
	case $e in disabled | static) ;; *) fail "$u is $e" ;; esac
	[ "$a" = inactive ] || fail "$u is $a"
	case $l in /lib/systemd/system/*) ;; *) fail "$u from $l" ;; esac
done
g systemd-analyze verify --man=no /lib/systemd/system/sm-read-post.service \
    /lib/systemd/system/sm-store@.service 2>"$W/verify" ||
    fail "systemd-analyze verify: $(cat "$W/verify")"
echo "   systemd-analyze verify: clean"

step "DKMS: sm-metrics built for the container's kernel headers (not loaded)"
g dkms status | sed 's/^/   | /'
st=$(g dkms status -m sm-metrics -v "${DV%-*}" -k "$KVER")
echo "$st" | grep -q "^sm-metrics/${DV%-*}, $KVER, x86_64: installed" ||
    fail "dkms status: '$st', want sm-metrics/${DV%-*} installed for $KVER"
ko=/lib/modules/$KVER/updates/dkms/sm_metrics.ko
g test -f "$ko" || fail "no $ko"
vm=$(g modinfo -F vermagic "$ko")
echo "   $ko: vermagic $vm"
case $vm in "$KVER "*) ;; *) fail "vermagic $vm is not $KVER" ;; esac
g grep -q "sm_metrics" "/lib/modules/$KVER/modules.dep" ||
    fail "depmod did not index sm_metrics for $KVER"
[ ! -e /proc/sm ] && ! grep -qs '^sm_metrics ' /proc/modules ||
    fail "sm_metrics is loaded"
echo "   in modules.dep of $KVER; not loaded (the container runs the" \
    "host's kernel, $(uname -r))"

step "/etc/sm from the examples; enable --now sm-store@route-a sm-read-post"
PW=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
sql "CREATE DATABASE sm;
    CREATE USER 'sm'@'127.0.0.1' IDENTIFIED BY '$PW';
    GRANT ALL ON sm.* TO 'sm'@'127.0.0.1';"
E=$R/etc/sm
(
	umask 077
	sed "s/^password=.*/password=$PW/" "$E/db.cnf.example" >"$E/db.cnf"
	# no TLS here (scripts/systemd-check.sh covers it): SM_STORE_OPTS empty
	sed -e 's|^SM_LISTEN=.*|SM_LISTEN=127.0.0.1:8081|' \
	    -e 's|^SM_DB=.*|SM_DB=mysql://sm@127.0.0.1:3306/sm|' \
	    -e 's|^SM_STORE_OPTS=.*|SM_STORE_OPTS=|' \
	    "$E/sm-store-route-a.env.example" >"$E/sm-store-route-a.env"
	sed 's|^SM_URL=.*|SM_URL=http://127.0.0.1:8081/metrics|' \
	    "$E/sm-read-post.env.example" >"$E/sm-read-post.env"
)
ADMIN="/etc/sm/db.cnf /etc/sm/sm-read-post.env /etc/sm/sm-store-route-a.env"
echo "   $(ls "$E" | tr '\n' ' ')"
g systemctl enable --now sm-store@route-a.service sm-read-post.service 2>&1 |
    sed 's/^/   /'
sleep 12
for u in sm-store@route-a.service sm-read-post.service; do
	s=$(show "$u" ActiveState)
	n=$(show "$u" NRestarts)
	echo "   $u: $s, $n restarts, $(g systemctl is-enabled "$u")"
	[ "$s" = active ] && [ "$n" = 0 ] ||
	    fail "$u: $s/$n: $(g journalctl -u "$u" -n 10 -o cat)"
done
a=$(rows)
echo "   rows from route-a, host $MACHINE, after 12 s: $a"
[ "$a" -ge 8 ] || fail "only $a rows"
sleep 3
b=$(rows)
echo "   3 s later: $b"
[ "$b" -gt "$a" ] || fail "rows stopped arriving"
sql "SELECT id, sample_id, host, data_source, sampled_at FROM sm.system_metrics
    ORDER BY id DESC LIMIT 2" | sed 's/^/   | /'

step "apt-get remove sm sm-metrics-dkms"
g env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q sm sm-metrics-dkms \
    >"$W/apt-remove.log" 2>&1 ||
    fail "apt-get remove: $(tail -20 "$W/apt-remove.log")"
grep -E '^Removing|dkms|rmmod|depmod' "$W/apt-remove.log" | sed 's/^/   | /'
for u in sm-store@route-a.service sm-read-post.service; do
	s=$(show "$u" ActiveState)
	echo "   $u: $s"
	[ "$s" = inactive ] || fail "$u still $s after remove"
done
! g ps -e -o comm= | grep -Ex 'sm-(read|post|split|store|tail)' ||
    fail "sm processes left running"
st=$(g dkms status)
echo "   dkms status: ${st:-(empty)}"
! echo "$st" | grep -q sm-metrics || fail "DKMS still knows sm-metrics"
g test ! -e "$ko" || fail "$ko left"
files removed
diffs before removed | sed 's/^/   /'
# Not ours: DKMS's own module-signing key (made at its first build of any
# module, kept with dkms) and depmod's indexes of the headers' kernel
# (made when a module is installed for it; a machine running that kernel
# has them anyway), which must no longer name the module.
OTHERS='^\+ /var/lib/dkms/mok\.(key|pub)$|^\+ /usr/lib/modules/'"$KVER"'/modules\.[a-z.]+$'
! g grep -rqs sm_metrics "/lib/modules/$KVER/" ||
    fail "depmod's indexes still name sm_metrics: $(g grep -rls sm_metrics "/lib/modules/$KVER/")"
# What remove keeps: conffiles, the admin's files, the services' state,
# the enablement links, and what dpkg and deb-systemd-helper need to
# purge later.
unexpected=$(diffs before removed | grep -Ev "$OTHERS" | grep -Ev \
    '^\+ /etc/sm(/[^/]+\.example|/db\.cnf|/sm-read-post\.env|/sm-store-route-a\.env)?$|^\+ /var/lib/(private(/sm-read-post(/.*)?)?|sm-read-post)$|^\+ /etc/systemd/system/multi-user\.target\.wants/(sm-read-post|sm-store@route-a)\.service$|^\+ /var/lib/dpkg/info/sm\.(list|postrm|conffiles|md5sums)$|^\+ /var/lib/systemd/deb-systemd-helper-enabled/sm-[^/]+\.(service|timer)\.dsh-also$' ||
    true)
[ -z "$unexpected" ] || fail "remove left: $unexpected"
echo "   left: the conffiles, the admin's /etc/sm files, the spool, the" \
    "enablement links and dpkg's books for the purge; no binary, unit," \
    "module or module source"

step "the admin removes their own files; apt-get purge sm sm-metrics-dkms"
# shellcheck disable=SC2086
g rm $ADMIN
g env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q sm sm-metrics-dkms \
    >"$W/apt-purge.log" 2>&1 ||
    fail "apt-get purge: $(tail -20 "$W/apt-purge.log")"
grep -E '^Purging|warning' "$W/apt-purge.log" | sed 's/^/   | /'
s=$(g dpkg-query -W -f='${db:Status-Abbrev}' sm sm-metrics-dkms 2>/dev/null || true)
echo "   dpkg: '${s:-unknown to dpkg}'"
case $s in *rc*|*ii*) fail "dpkg still lists them: $s" ;; esac
files purged
left=$(diffs before purged)
echo "$left" | sed 's/^/   /'
unexpected=$(echo "$left" | grep -Ev "^\$|$OTHERS" || true)
[ -z "$unexpected" ] || fail "purge left: $unexpected"
echo "   the file list is the one before the install, but for DKMS's key" \
    "and depmod's indexes (above; not ours)"

step "power off"
nspawn_poweroff
took
