# A debootstrapped Debian 12 booted with systemd-nspawn, for the by-hand
# checks (scripts/systemd-check.sh, scripts/deb-check.sh); sourced after
# scripts/check-lib.sh, not run.  The caller sets $W (scratch directory)
# and $MACHINE, calls nspawn_setup, and runs commands in the container
# with g.  The root file system is $R.

SUITE=bookworm
R=$W/rootfs
nspawn_pid=
leader=
nspawn_run_before=
[ -d /run/systemd/nspawn ] && nspawn_run_before=yes

# nspawn_setup SETTING: as root, $W made (it must not exist: SETTING is
# the variable that moves it), and the cleanup at exit: the container
# powered off (nspawn_cleanup), then finish
nspawn_setup() {
	[ "$(id -u)" -eq 0 ] || fail "run as root (debootstrap, systemd-nspawn)"
	[ -e "$W" ] && fail "$W exists: remove it or set $1"
	mkdir -p "$W"
	trap nspawn_exit EXIT
	trap 'exit 130' INT TERM
}
nspawn_exit() {
	rc=$?
	set +e
	trap - EXIT INT TERM
	echo "== cleaning up"
	nspawn_cleanup
	finish $rc
}

# g CMD...: run CMD in the container (all its namespaces, its root)
g() {
	nsenter -t "$leader" -a -- env -i \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    SYSTEMD_PAGER= SYSTEMD_COLORS=0 LC_ALL=C.UTF-8 "$@"
}
show() { g systemctl show -p "$2" --value "$1"; }	# show UNIT PROPERTY
sql() { g mariadb -N -B -e "$*"; }	# sql STATEMENTS: as MariaDB's root

# nspawn_tools: debootstrap and systemd-nspawn, installed if missing
nspawn_tools() {
	command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
	command -v systemd-nspawn >/dev/null 2>&1 ||
	    apt_install systemd-container
	echo "   $(systemd-nspawn --version | head -1)"
}

# nspawn_debootstrap PKGS [MIRROR]: $R, a minimal Debian 12 with the
# packages PKGS (comma-separated), from MIRROR or else the mirror apt
# uses; exports http_proxy if apt uses a proxy.  Sets MIRROR.
nspawn_debootstrap() {
	MIRROR=${2:-$(apt-cache policy 2>/dev/null |
	    awk -v s="$SUITE/main" '$3 == s { print $2; exit }')}
	MIRROR=${MIRROR:-http://deb.debian.org/debian}
	proxy=${http_proxy:-$(apt-config dump 2>/dev/null |
	    sed -n 's/^Acquire::http::Proxy "\(.*\)";$/\1/p' | head -1)}
	[ -z "$proxy" ] || export http_proxy="$proxy"
	echo "   mirror $MIRROR${proxy:+, proxy $proxy}"
	debootstrap --variant=minbase --include="$1" $SUITE "$R" "$MIRROR" \
	    >"$W/debootstrap.log" 2>&1 ||
	    fail "debootstrap: $(tail -5 "$W/debootstrap.log")"
	echo "$MACHINE" >"$R/etc/hostname"
	echo "   $(du -sh "$R" | cut -f1), with $(echo "$1" | tr , ' ')"
}

# nspawn_boot: boot $R (own network namespace: only lo, no host network
# change; the console in $W/console.log); sets nspawn_pid and leader and
# waits until the system is running.
nspawn_boot() {
	systemd-nspawn -D "$R" -b -M "$MACHINE" --register=no --keep-unit \
	    --private-network --console=read-only >"$W/console.log" 2>&1 &
	nspawn_pid=$!
	i=0
	while [ $i -lt 60 ]; do
		leader=$(pgrep -P "$nspawn_pid" | head -1)
		[ -n "$leader" ] &&
		    [ "$(cat /proc/"$leader"/comm 2>/dev/null)" = systemd ] &&
		    break
		kill -0 "$nspawn_pid" 2>/dev/null ||
		    fail "systemd-nspawn exited: $(tail -5 "$W/console.log")"
		sleep 0.5
		i=$((i + 1))
	done
	[ $i -lt 60 ] ||
	    fail "no systemd in the container: $(tail -5 "$W/console.log")"
	sleep 1
	state=$(g timeout 90 systemctl is-system-running --wait || true)
	echo "   $(head -1 "$R/usr/lib/os-release" | cut -d'"' -f2);" \
	    "$(g systemctl --version | head -1) as PID 1: $state"
	[ "$state" = running ] ||
	    fail "system $state: $(g systemctl --failed --no-legend)"
}

# nspawn_wait_exit: wait up to 30 s for the container to end (0 if it did)
nspawn_wait_exit() {
	i=0
	while kill -0 "$nspawn_pid" 2>/dev/null && [ $i -lt 30 ]; do
		sleep 1
		i=$((i + 1))
	done
	! kill -0 "$nspawn_pid" 2>/dev/null
}

# nspawn_poweroff: the last step, a clean power-off (fails otherwise)
nspawn_poweroff() {
	g systemctl poweroff
	nspawn_wait_exit
	if wait "$nspawn_pid"; then
		echo "   $(grep -m1 "shut down" "$W/console.log")"
		nspawn_pid=
	else
		fail "systemd-nspawn exited $?: $(tail -5 "$W/console.log")"
	fi
}

# nspawn_cleanup: from the EXIT trap: the container powered off (killed if
# it will not), what nspawn leaves under /run and mounts under $W removed
nspawn_cleanup() {
	if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
		g systemctl poweroff >/dev/null 2>&1
		if ! nspawn_wait_exit; then
			kill "$nspawn_pid"	# nspawn kills the container
			sleep 3
			kill -9 "$nspawn_pid" 2>/dev/null
		fi
		wait "$nspawn_pid" 2>/dev/null
		echo "   container $MACHINE powered off"
	fi
	# what nspawn leaves under /run when it is not on a tmpfs
	rm -rf "/run/systemd/nspawn/propagate/$MACHINE" \
	    "/run/systemd/nspawn/locks/machine-$MACHINE"
	[ -n "$nspawn_run_before" ] || rm -rf /run/systemd/nspawn
	awk -v w="$W/" 'index($2, w) == 1 { print $2 }' /proc/mounts |
	    sort -r | while read -r m; do umount -l "$m"; done
}
