#!/bin/sh
# Install the Debian 12 packages a goal needs, and only those, saying which
# and why.  Idempotent: does nothing when everything is present.  As root it
# runs apt-get; otherwise it prints the exact command to run.
#
#   scripts/deps.sh [build|demo|deb|check]   install what the goal lacks
#                                            (check, every test: the default)
#   scripts/deps.sh --list [GOAL]            print the goal's package list
#
# Goals: build (make: the compiler and the libraries' -dev packages), demo
# (make demo: build, MariaDB, Chromium for the dashboard's screenshot), deb
# (make deb: build and the packaging tools), check (make check: all).
set -eu

# GOAL PACKAGE WHY: a package and the first goal that needs it (demo and
# deb include build; check includes everything)
PACKAGES="
build build-essential the C compiler and make
build pkg-config the libraries' compiler flags
build libjson-c-dev JSON (every command)
build libcurl4-openssl-dev HTTP client (sm-post, sm-split)
build libmariadb-dev MariaDB Connector/C (sm-store, sm-tail)
build libmicrohttpd-dev HTTP server (sm-store --listen, sm-tail --listen)
build libgnutls28-dev TLS on the listeners (--tls-cert)
build libcrypt-dev password hashes (sm-tail --auth-file)
build libncurses-dev the terminal dashboard (sm-tail)
demo mariadb-server the private database (scripts/mariadb.sh)
demo mariadb-client its client (scripts/mariadb.sh)
demo openssl the private database's TLS certificate
demo procps pkill (the demo stops its readers first)
demo iproute2 ss (a free port for the demo's database)
deb debhelper dpkg-buildpackage (make deb)
deb dh-dkms the module's package (make deb)
deb dpkg-dev dpkg-buildpackage (make deb)
deb fakeroot dpkg-buildpackage (make deb)
deb lintian the packages' lint (make deb)
check libcmocka-dev the unit tests
check galera-4 the Galera chaos test
check rsync the Galera chaos test (state transfer)
check mandoc make lint-man
check groff-base make lint-man (a line groff cannot break)
check binutils tests/cmd/usage-agree.sh (nm -D: who reads the environment)
check psmisc the tests (fuser, killall)
check curl the tests' HTTP requests
check tmux the terminal dashboard's test
check wrk the HTTP load tests
check valgrind make test-valgrind
check clang the fuzz targets (libFuzzer)
check libclang-rt-14-dev the fuzz targets (libFuzzer)
check busybox-static the kernel module's test (qemu initramfs)
check cpio the kernel module's test (qemu initramfs)
check kmod the kernel module's test
check libelf1 the kernel module's build
check dkms the kernel module's DKMS test
check qemu-system-x86 the kernel module's test
check systemd the units' checks (systemd-analyze)
check yamllint the Kubernetes manifests' lint
check python3-yaml the Kubernetes manifests' checks
check libjs-dygraphs the dashboard page's chart library
check prometheus the /metrics checks (promtool), the scrape test
check prometheus-node-exporter the senders' --metrics-file in the scrape test
check faketime a stepped clock (sm-alert), a table made days ago (sm-keep)
"

list=no
if [ "${1:-}" = --list ]; then
	list=yes
	shift
fi
goal=${1:-check}
case $goal in
build) goals="build" ;;
demo) goals="build demo" ;;
deb) goals="build deb" ;;
check) goals="build demo deb check" ;;
*)	echo "usage: scripts/deps.sh [--list] [build|demo|deb|check]" >&2
	exit 2 ;;
esac

# the goal's packages, a line each: "PACKAGE WHY"
wanted=$(echo "$PACKAGES" | while read -r g p reason; do
	case " $goals " in
	*" $g "*) echo "$p $reason" ;;
	esac
done)
# Chromium: the demo's screenshot and the browser test
# (tests/it/tail-web-page.sh), which also wants node with npm for
# puppeteer-core; any node already installed will do (one from elsewhere
# may bundle its own npm, which Debian's npm conflicts with).  kubectl
# renders deploy/k8s: any one already installed, or Debian 12's own
# (kubernetes-client, 1.20; tests/cmd/k8s.sh copes with its kustomize).
case $goal in
demo | check) wanted="$wanted
chromium the dashboard's screenshot, the browser test" ;;
esac
if [ "$goal" = check ]; then
	wanted="$wanted
nodejs the browser test (puppeteer-core)
npm the browser test (puppeteer-core)
kubernetes-client kubectl (the Kubernetes manifests' checks)"
fi

if [ "$list" = yes ]; then
	echo "$wanted" | awk '{ print $1 }' | paste -sd' ' -
	exit 0
fi

# present PACKAGE: installed, or what it provides is there
present() {
	case $1 in
	chromium) [ -x /usr/bin/chromium ] ;;
	nodejs) command -v node >/dev/null 2>&1 ;;
	npm) command -v npm >/dev/null 2>&1 ;;
	kubernetes-client) command -v kubectl >/dev/null 2>&1 ;;
	*) dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null |
	    grep -q '^install ok installed$' ;;
	esac
}
missing=
why=
nl='
'
missing_why=$(echo "$wanted" | while read -r p reason; do
	present "$p" || echo "$p $reason"
done)
if [ -n "$missing_why" ]; then
	missing=$(echo "$missing_why" | awk '{ printf " %s", $1 }')
	why=$(echo "$missing_why" | sed 's/^\([^ ]*\) /  \1: /')
	why="$nl$why"
fi
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: make $goal needs these Debian packages:$why" >&2
	echo "deps: run as root:  apt-get update && $cmd" >&2
	exit 1
fi
echo "deps: installing for make $goal:$why" >&2
export DEBIAN_FRONTEND=noninteractive
# services must not start on install: the tests run a private server
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
