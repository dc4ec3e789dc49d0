#!/bin/sh
# Install the Debian 12 packages sm needs to build, test and run its demo.
# Idempotent: does nothing when everything is present.  As root it runs
# apt-get; otherwise it prints the exact command to run.
#
#   scripts/deps.sh          install what is missing
#   scripts/deps.sh --list   print the package list
set -eu

PACKAGES="
build-essential
pkg-config
libjson-c-dev
libcurl4-openssl-dev
libmariadb-dev
libmicrohttpd-dev
libgnutls28-dev
libcrypt-dev
libcmocka-dev
libncurses-dev
mariadb-server
mariadb-client
galera-4
rsync
openssl
mandoc
procps
psmisc
iproute2
curl
tmux
faketime
wrk
valgrind
clang
libclang-rt-14-dev
busybox-static
cpio
kmod
libelf1
dkms
qemu-system-x86
systemd
yamllint
python3-yaml
libjs-dygraphs
prometheus
debhelper
dh-dkms
dpkg-dev
fakeroot
lintian
faketime
"

if [ "${1:-}" = --list ]; then
	echo $PACKAGES
	exit 0
fi

missing=
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
# kubectl renders deploy/k8s: any one already installed, or Debian 12's
# own (kubernetes-client, 1.20; tests/cmd/k8s.sh copes with its kustomize)
if ! command -v kubectl >/dev/null 2>&1; then
	missing="$missing kubernetes-client"
fi
# the browser test (tests/it/tail-web-page.sh): Debian's chromium, and node
# with npm for puppeteer-core; any node already installed will do (one
# from elsewhere may bundle its own npm, which Debian's npm conflicts with)
if ! command -v node >/dev/null 2>&1; then
	missing="$missing nodejs"
fi
if ! command -v npm >/dev/null 2>&1; then
	missing="$missing npm"
fi
if [ ! -x /usr/bin/chromium ]; then
	missing="$missing chromium"
fi
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run as root:  apt-get update && $cmd" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
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
