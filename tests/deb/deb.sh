#!/bin/sh
# The Debian packages: scripts/deb.sh builds sm and sm-metrics-dkms from a
# copy of the tree (dpkg-buildpackage -us -uc -b) and fails on any lintian
# error or warning not overridden; then their contents, dependencies and
# maintainer scripts are checked here.  Installing them for real is
# scripts/deb-check.sh's job (by hand: a booted Debian 12 container).
. "$(dirname "$0")/../lib.sh"

D=$SM_TMP/deb
timeout 600 scripts/deb.sh "$D" >"$SM_TMP/deb.log" 2>&1 ||
    fail "scripts/deb.sh: $(tail -30 "$SM_TMP/deb.log")"
grep '^deb: \|^  [EWI]:' "$SM_TMP/deb.log"

V=$(sed -n 's/^VERSION = //p' Makefile)
DV=$(dpkg-parsechangelog -l debian/changelog -SVersion)
[ "${DV%-*}" = "$V" ] || fail "debian/changelog $DV is not Makefile's $V"
sm=$D/sm_${DV}_$(dpkg-architecture -qDEB_HOST_ARCH).deb
dk=$D/sm-metrics-dkms_${DV}_all.deb
[ -f "$sm" ] || fail "no $sm: $(ls "$D")"
[ -f "$dk" ] || fail "no $dk: $(ls "$D")"
# nothing outside the scratch directory (dpkg writes next to the tree)
[ -z "$(find "$SM_TOP/.." -maxdepth 1 -newer "$SM_TMP/deb.log" \
    \( -name 'sm_*' -o -name 'sm-*' \) 2>/dev/null)" ] ||
    fail "build results left next to the checkout"

# has PKG PATH...: the package lists every PATH
has() {
	p=$1
	shift
	dpkg-deb -c "$p" | awk '{ print $6 }' | sed 's|^\./|/|' >"$SM_TMP/list"
	for f in "$@"; do
		grep -qx "$f" "$SM_TMP/list" || fail "$(basename "$p") lacks $f"
	done
}
# the commands and pages `make install` installs, wherever they are
cmds=$(ls cmd | sed 's|^|/usr/bin/|')
mans=$(ls man | grep -v '\.4$' |
    sed 's|^\(.*\)\.\([1-8]\)$|/usr/share/man/man\2/\1.\2.gz|')
# the units and examples of systemd/
units=$(cd systemd && ls ./*.in ./*.timer | sed 's|^\./\(.*\)|\1|; s|\.in$||')
examples=$(cd systemd && ls ./*.example | sed 's|^\./|/etc/sm/|')
# shellcheck disable=SC2086
has "$sm" $cmds $mans $(echo "$units" | sed 's|^|/lib/systemd/system/|') \
    $examples /usr/share/doc/sm/copyright
echo "sm: $(echo $cmds | wc -w) commands, $(echo $mans | wc -w) man pages," \
    "$(echo $units | wc -w) units, $(echo $examples | wc -w) /etc/sm examples"
! grep -q '^/usr/local' "$SM_TMP/list" || fail "sm installs under /usr/local"
! grep -q 'sm_metrics' "$SM_TMP/list" || fail "sm holds the module's files"
src=/usr/src/sm-metrics-${DV%-*}
has "$dk" "$src/dkms.conf" "$src/Kbuild" "$src/Makefile" "$src/sm_metrics.c" \
    /usr/share/man/man4/sm_metrics.4.gz
! grep -Eq '\.(o|ko|cmd|mod)$' "$SM_TMP/list" || fail "build products in $src"
echo "sm-metrics-dkms: $src (dkms.conf, Kbuild, Makefile, sm_metrics.c)," \
    "sm_metrics(4)"

# the units name the packaged commands; the dkms.conf agrees with the
# package's version
x=$SM_TMP/x
dpkg-deb -x "$sm" "$x"
dpkg-deb -x "$dk" "$x"
grep -q 'ExecStart=.*/usr/bin/sm-store ' "$x/lib/systemd/system/sm-store@.service" ||
    fail "sm-store@.service does not run /usr/bin/sm-store"
! grep -rq '@BINDIR@\|/usr/local' "$x/lib/systemd/system" ||
    fail "units not rendered for /usr/bin"
grep -qx "PACKAGE_NAME=\"sm-metrics\"" "$x$src/dkms.conf" ||
    fail "dkms.conf: PACKAGE_NAME"
grep -qx "PACKAGE_VERSION=\"${DV%-*}\"" "$x$src/dkms.conf" ||
    fail "dkms.conf: PACKAGE_VERSION is not ${DV%-*}"
cmp -s kmod/sm_metrics.c "$x$src/sm_metrics.c" || fail "module source differs"

# Depends from the libraries the commands link (${shlibs:Depends})
dep=$(dpkg-deb -f "$sm" Depends)
for l in libc6 libcurl4 libjson-c5 libmariadb3 libmicrohttpd12 libncursesw6; do
	echo "$dep" | grep -q "\\b$l\\b" || fail "sm: Depends lacks $l: $dep"
done
echo "sm Depends: $dep"
dpkg-deb -f "$dk" Depends | grep -q '\bdkms\b' ||
    fail "sm-metrics-dkms does not depend on dkms"

# maintainer scripts: units installed disabled and not started; DKMS
# registers the module on configure and removes it on prerm
c=$SM_TMP/ctl
mkdir "$c"
dpkg-deb -e "$sm" "$c/sm"
dpkg-deb -e "$dk" "$c/dk"
# (dh_installsystemd --no-enable: enabled again only if it was before an
# upgrade, "debian-installed"; --no-start: never started, only restarted
# after an upgrade if running)
grep -q "deb-systemd-helper debian-installed 'sm-read-post.service'" \
    "$c/sm/postinst" || fail "sm's postinst enables sm-read-post.service"
! grep -Eq 'deb-systemd-invoke (start|restart) ' "$c/sm/postinst" ||
    fail "sm's postinst starts a unit"
grep -q "deb-systemd-helper update-state 'sm-read-post.service'" "$c/sm/postinst" ||
    fail "sm-read-post.service not known to deb-systemd-helper (purge)"
grep -q "deb-systemd-helper purge" "$c/sm/postrm" || fail "postrm: no purge"
# every unit stopped on removal (prerm: dh_installsystemd --no-start
# does not), a template's instances too
for u in $units; do
	case $u in
	*@.service) grep -q "'${u%@.service}@\*.service'" "$c/sm/prerm" ;;
	*) grep -q "[ 	]$u\b" "$c/sm/prerm" ;;
	esac || fail "debian/sm.prerm does not stop $u"
done
for s in postinst prerm; do
	grep -qx 'DKMS_NAME=sm-metrics' "$c/dk/$s" &&
	    grep -qx "DKMS_VERSION=${DV%-*}" "$c/dk/$s" ||
	    fail "sm-metrics-dkms $s: not sm-metrics ${DV%-*}"
done
grep -q '/usr/lib/dkms/common.postinst' "$c/dk/postinst" ||
    fail "sm-metrics-dkms postinst does not register with DKMS"
grep -q 'dkms remove -m $DKMS_NAME' "$c/dk/prerm" ||
    fail "sm-metrics-dkms prerm does not remove from DKMS"
[ "$(sort "$c/sm/conffiles")" = "$(echo "$examples" | sort)" ] ||
    fail "conffiles: $(cat "$c/sm/conffiles"), want $examples"
echo "maintainer scripts: units disabled, DKMS add/build/install and remove"

# each lintian override (if any) still needed: without them lintian fails
# on each overridden tag (and on nothing else: scripts/deb.sh passed)
set +e
(cd "$D" && lintian --no-override --fail-on error,warning ./*.changes) \
    >"$SM_TMP/lintian-raw" 2>&1
rc=$?
set -e
if ls debian/*.lintian-overrides >/dev/null 2>&1; then
	[ $rc -ne 0 ] || fail "lintian passes without the overrides: drop them"
else
	[ $rc -eq 0 ] || fail "lintian: $(grep '^[EW]:' "$SM_TMP/lintian-raw")"
fi
for f in $(ls debian/*.lintian-overrides 2>/dev/null); do
	p=$(basename "$f" .lintian-overrides)
	grep -v '^#' "$f" | awk 'NF { print $1 }' | while read -r t; do
		grep -q "^[EW]: $p: $t" "$SM_TMP/lintian-raw" ||
		    fail "$f: $t is not reported any more: drop the override"
		echo "override $p: $t (still needed)"
	done
done

# one version: a Makefile VERSION the changelog does not have stops the
# build before it starts
cp -r "$D/src" "$SM_TMP/bad"
sed -i 's/^VERSION = .*/VERSION = 9.9.9/' "$SM_TMP/bad/Makefile"
(cd "$SM_TMP/bad" && ./debian/rules override_dh_auto_configure) \
    >"$SM_TMP/bad.log" 2>&1 && fail "a version mismatch was not caught"
grep -q 'Makefile VERSION 9.9.9 != changelog' "$SM_TMP/bad.log" ||
    fail "version mismatch: $(cat "$SM_TMP/bad.log")"
echo "a Makefile VERSION other than the changelog's fails the build"
echo ok
