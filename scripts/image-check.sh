#!/bin/sh
# Build the Dockerfile and run the image with a real container engine, on
# a Debian 12 machine that may have neither an engine nor Docker Hub:
#
#   1. a docker daemon: the one already answering, or Debian's docker.io
#      (installed with apt-get if missing) started here on its own socket
#      and data directory under $SM_IMG_DIR;
#   2. the base image: debootstrap --variant=minbase bookworm from the
#      mirror apt uses, trimmed the way debian:12-slim is, imported as
#      local/debian:bookworm-slim and passed as --build-arg BASE=;
#   3. docker build, then the checks below, each printed;
#   4. the daemon it started is stopped and $SM_IMG_DIR removed.
#
# Needs root and a Debian mirror (no registry).  Takes minutes, so it is
# not part of `make check`; tests/cmd/dockerfile.sh is, without an engine.
#
#   scripts/image-check.sh
#
# SM_IMG_DIR    scratch directory, removed at the end (/tmp/sm-img)
# SM_IMG_MIRROR Debian mirror for the base (the one apt uses)
# SM_IMG_PORT   host port for the sm-store check (18080)
set -eu

W=${SM_IMG_DIR:-/tmp/sm-img}
PORT=${SM_IMG_PORT:-18080}
SUITE=bookworm				# the Dockerfile's debian:12-slim
BASE=local/debian:$SUITE-slim
IMG=sm-image-check:latest
CTR=sm-image-check-store
TOP=$(cd "$(dirname "$0")/.." && pwd)
VERSION=$(sed -n 's/^VERSION = //p' "$TOP/Makefile")

. "$TOP/scripts/check-lib.sh"

[ "$(id -u)" -eq 0 ] || fail "run as root (installs packages, starts dockerd)"
[ -e "$W" ] && fail "$W exists: remove it or set SM_IMG_DIR"
mkdir -p "$W"

started=
# what dockerd changes in the host's network, put back if it was not there
docker0_before=
ip link show docker0 >/dev/null 2>&1 && docker0_before=yes
iptables_before=
command -v iptables >/dev/null 2>&1 || iptables_before=none
iptables -n -L DOCKER >/dev/null 2>&1 && iptables_before=yes
forward_policy=$(iptables -S FORWARD 2>/dev/null | awk '$1 == "-P" { print $3 }')
ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)
iptables_clean() {
	for t in filter nat; do
		iptables -t $t -S | grep '^-A' | grep -E -- '-j DOCKER|docker0' |
		    sed 's/^-A/-D/' | while read -r r; do
			eval "iptables -t $t $r"
		done
		for c in DOCKER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2 \
		    DOCKER-USER; do
			iptables -t $t -F $c && iptables -t $t -X $c
		done 2>/dev/null
	done
	[ -z "$forward_policy" ] || iptables -P FORWARD "$forward_policy"
	echo "$ip_forward" >/proc/sys/net/ipv4/ip_forward
	echo "   removed dockerd's iptables rules, FORWARD policy" \
	    "${forward_policy:-unchanged}, ip_forward $ip_forward"
}
cleanup() {
	rc=$?
	set +e
	trap - EXIT INT TERM
	echo "== cleaning up"
	[ -n "${DOCKER:-}" ] && $DOCKER rm -f "$CTR" >/dev/null 2>&1
	if [ -n "$started" ]; then
		pid=$(cat "$W/dockerd.pid" 2>/dev/null)
		if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
			i=0
			while kill -0 "$pid" 2>/dev/null && [ $i -lt 30 ]; do
				sleep 1
				i=$((i + 1))
			done
			kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
			echo "   stopped dockerd (pid $pid)"
		fi
		[ -n "$docker0_before" ] || ip link delete docker0 2>/dev/null
		[ -n "$iptables_before" ] || iptables_clean
		# whatever the daemon left mounted under $W
		awk -v w="$W/" 'index($2, w) == 1 { print $2 }' /proc/mounts |
		    sort -r | while read -r m; do umount -l "$m"; done
	elif [ -n "${DOCKER:-}" ]; then
		# (the build stage's untagged image stays: docker image prune)
		$DOCKER rmi -f "$IMG" "$BASE" >/dev/null 2>&1
	fi
	finish $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "container engine"
# Debian's client matches its daemon (20.10, classic builder); another
# docker on PATH may want buildx.
if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
if command -v $DOCKER >/dev/null 2>&1 && $DOCKER info >/dev/null 2>&1; then
	echo "   using the daemon already running (left running)"
else
	command -v dockerd >/dev/null 2>&1 || apt_install docker.io
	DOCKER=/usr/bin/docker
	for driver in overlay2 vfs; do
		rm -rf "$W/docker" "$W/run"
		dockerd --data-root "$W/docker" --exec-root "$W/run" \
		    --pidfile "$W/dockerd.pid" -H "unix://$W/docker.sock" \
		    --storage-driver $driver >"$W/dockerd.log" 2>&1 &
		started=yes
		export DOCKER_HOST="unix://$W/docker.sock"
		i=0
		while ! $DOCKER info >/dev/null 2>&1 && [ $i -lt 30 ]; do
			kill -0 $! 2>/dev/null || break
			sleep 1
			i=$((i + 1))
		done
		$DOCKER info >/dev/null 2>&1 && break
		echo "   dockerd with $driver failed: $(tail -3 "$W/dockerd.log")"
		kill $! 2>/dev/null; wait $! 2>/dev/null || true
		[ $driver = vfs ] && fail "no docker daemon runs here"
	done
	echo "   started $(dockerd --version) (pid $(cat "$W/dockerd.pid")," \
	    "storage $driver), logs in $W/dockerd.log"
fi

step "base image $BASE from debootstrap"
command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
mirror_of() {	# mirror_of SUITE: the URI apt fetches SUITE/main from
	apt-cache policy 2>/dev/null |
	    awk -v s="$1/main" '$3 == s { print $2; exit }'
}
MIRROR=${SM_IMG_MIRROR:-$(mirror_of $SUITE)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=$(mirror_of $SUITE-security)
SECURITY=${SECURITY:-http://deb.debian.org/debian-security}
# a proxy apt uses goes to debootstrap and to the build's apt-get too
proxy=${http_proxy:-$(apt-config dump 2>/dev/null |
    sed -n 's/^Acquire::http::Proxy "\(.*\)";$/\1/p' | head -1)}
buildargs=
if [ -n "$proxy" ]; then
	export http_proxy="$proxy"
	buildargs="--build-arg http_proxy=$proxy --network host"
	echo "   proxy $proxy (build on the host network)"
fi
echo "   mirror $MIRROR, security $SECURITY"
R=$W/rootfs
debootstrap --variant=minbase $SUITE "$R" "$MIRROR" >"$W/debootstrap.log" 2>&1 ||
    fail "debootstrap: $(tail -5 "$W/debootstrap.log")"
# what debian:12-slim has: all three suites, no apt caches, no docs
cat >"$R/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY $SUITE-security main
EOF
printf '%s\n' 'Dir::Cache::pkgcache "";' 'Dir::Cache::srcpkgcache "";' \
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb || true"; };' \
    >"$R/etc/apt/apt.conf.d/docker-clean"
echo 'Acquire::Languages "none";' >"$R/etc/apt/apt.conf.d/docker-no-languages"
printf 'path-exclude %s\n' '/usr/share/doc/*' '/usr/share/man/*' \
    '/usr/share/info/*' '/usr/share/locale/*' '/usr/share/groff/*' \
    '/usr/share/lintian/*' >"$R/etc/dpkg/dpkg.cfg.d/docker"
echo 'path-include /usr/share/doc/*/copyright' >>"$R/etc/dpkg/dpkg.cfg.d/docker"
find "$R/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
rm -rf "$R"/usr/share/man/* "$R"/usr/share/info/* "$R"/usr/share/locale/* \
    "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb \
    "$R"/var/lib/apt/lists/*
tar -C "$R" -c . | $DOCKER import - "$BASE" >/dev/null
rm -rf "$R"
echo "   $BASE: $($DOCKER image ls "$BASE" --format '{{.Size}}')"

step "docker build --build-arg BASE=$BASE"
# shellcheck disable=SC2086	# buildargs is words
$DOCKER build --build-arg BASE="$BASE" $buildargs -t "$IMG" "$TOP" \
    >"$W/build.log" 2>&1 || fail "docker build: $(tail -20 "$W/build.log")"
grep -q 'Sending build context' "$W/build.log" &&
    echo "   $(grep -m1 'Sending build context' "$W/build.log")"
echo "   image $IMG: $($DOCKER image ls "$IMG" --format '{{.Size}}')" \
    "(base $($DOCKER image ls "$BASE" --format '{{.Size}}'))"

run() { $DOCKER run --rm "$IMG" "$@"; }

step "runs as a non-root user"
u=$($DOCKER inspect -f '{{.Config.User}}' "$IMG")
uid=$(run id -u)
echo "   USER $u; id -u: $uid"
[ "$uid" != 0 ] || fail "runs as root"

step "each command's --version, as that user"
for c in sm-read sm-post sm-split sm-store sm-tail sm-alert sm-keep; do
	v=$(run $c --version) || fail "$c --version exited $?"
	echo "   $v"
	[ "$v" = "$c $VERSION" ] || fail "$c --version: '$v', want '$c $VERSION'"
	$DOCKER run --rm --entrypoint test "$IMG" \
	    -f /usr/local/share/man/man1/$c.1 || fail "no man page $c.1"
done
miss=$($DOCKER run --rm --entrypoint sh "$IMG" -c \
    'ldd /usr/local/bin/sm-* | grep "not found"' || true)
[ -z "$miss" ] || fail "libraries missing: $miss"
echo "   every library each links is there (ldd)"
run >/dev/null 2>&1 || fail "the default CMD (sm-read --help) exited $?"
echo "   the default CMD exits 0"

step "sm-read -n 1: one JSON record (read-only root, no capabilities)"
rec=$($DOCKER run --rm --read-only --cap-drop ALL \
    --security-opt no-new-privileges "$IMG" sm-read -n 1) ||
    fail "sm-read -n 1 exited $?"
echo "   $rec" | cut -c1-160
[ "$(echo "$rec" | wc -l)" -eq 1 ] || fail "want one line"
if command -v python3 >/dev/null 2>&1; then
	echo "$rec" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
assert isinstance(r, dict) and r["cpu_usage"] >= 0 and r["ram_total"] > 0, r
' || fail "not a valid record"
	echo "   valid JSON, cpu_usage and ram_total set"
else
	case $rec in '{"'*'}') ;; *) fail "not a JSON object" ;; esac
fi

step "sm-store --listen 0.0.0.0:8080, GET /health from the host"
command -v curl >/dev/null 2>&1 || apt_install curl
# as deploy/k8s runs it: read-only root, no capabilities; no database
$DOCKER run -d --name "$CTR" --read-only --cap-drop ALL \
    --security-opt no-new-privileges -p "127.0.0.1:$PORT:8080" \
    -e SM_DB=mysql://sm@127.0.0.1:3306/sm \
    "$IMG" sm-store --listen 0.0.0.0:8080 --source image-check >/dev/null
code=000
i=0
while [ $i -lt 20 ]; do
	code=$(curl -s -o "$W/health" -w '%{http_code}' --max-time 3 \
	    "http://127.0.0.1:$PORT/health" || true)
	[ "$code" = 000 ] || break
	sleep 0.5
	i=$((i + 1))
done
echo "   GET /health: $code $(cat "$W/health" 2>/dev/null)"
case $code in
200|503) ;;
*) fail "GET /health answered $code; logs: $($DOCKER logs "$CTR" 2>&1 | tail -5)" ;;
esac
# the manifests' liveness probe, with the image's own curl
# shellcheck disable=SC2016	# expanded in the container
$DOCKER exec "$CTR" sh -c 'code=$(curl -s -o /dev/null -w "%{http_code}" \
    --max-time 3 http://127.0.0.1:8080/health); [ "$code" = 200 ] ||
    [ "$code" = 503 ]' || fail "the liveness probe fails in the container"
echo "   the manifests' liveness probe passes inside the container"
s=$(date +%s)
$DOCKER stop -t 10 "$CTR" >/dev/null
ec=$($DOCKER inspect -f '{{.State.ExitCode}}' "$CTR")
echo "   docker stop: exit $ec after $(($(date +%s) - s)) s;" \
    "$($DOCKER logs "$CTR" 2>&1 | tail -1)"
[ "$ec" = 0 ] || fail "sm-store exited $ec on SIGTERM"
$DOCKER rm "$CTR" >/dev/null
took
