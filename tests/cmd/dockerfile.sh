#!/bin/sh
# The Dockerfile, checked without a container engine: its build stage's
# COPY set is enough to build and install all seven commands, it installs
# the package of every pkg-config module the Makefile asks about, its run
# stage installs the package of every library they link, and it runs as a
# non-root user.  scripts/image-check.sh builds and runs it for real.
# shellcheck disable=SC2016	# ${BASE} is the Dockerfile's, never expanded here
. "$(dirname "$0")/../lib.sh"

df=Dockerfile
# pkgs_of FILE...: the Debian packages holding these files, one a line
pkgs_of() {
	for f in "$@"; do
		p=$(dpkg -S "$f" 2>/dev/null || dpkg -S "/usr$f" 2>/dev/null ||
		    dpkg -S "$(realpath "$f")" 2>/dev/null || true)
		p=${p%%:*}
		[ -n "$p" ] || fail "no package holds $f"
		echo "$p"
	done
}

# Both stages on one base, debian:12-slim unless --build-arg BASE= says
# otherwise (an engine that cannot pull it imports its own).
grep -qx 'ARG BASE=debian:12-slim' $df || fail "no ARG BASE=debian:12-slim"
[ "$(grep -c '^FROM' $df)" -eq 2 ] || fail "want two stages"
[ "$(grep -c '^FROM \${BASE}' $df)" -eq 2 ] || fail "a stage not FROM \${BASE}"
[ "$(sed -n '/^ARG BASE=/=' $df)" -lt "$(sed -n '/^FROM/=' $df | head -1)" ] ||
    fail "ARG BASE must come before the first FROM"
grep -Eq '^USER [1-9][0-9]*:[1-9][0-9]*$' $df || fail "no numeric non-root USER"

echo "the build stage, from only what it copies"
mkdir "$SM_TMP/src"
sed -n 's|^COPY \([^ -][^ ]*\) .*|\1|p' $df | while read -r p; do
	cp -r "$p" "$SM_TMP/src/"
done
# every pkg-config call make makes is logged: in the build stage a module
# whose -dev package is missing empties the flags of all of them
cat >"$SM_TMP/pkg-config" <<'EOS'
#!/bin/sh
echo "$*" >>"${0%/*}/pkg-config.log"
exec pkg-config "$@"
EOS
chmod +x "$SM_TMP/pkg-config"
make -s -C "$SM_TMP/src" PKG_CONFIG="$SM_TMP/pkg-config" all \
    >"$SM_TMP/build.log" 2>&1 ||
    fail "build from the COPY set: $(tail -5 "$SM_TMP/build.log")"
make -s -C "$SM_TMP/src" PKG_CONFIG="$SM_TMP/pkg-config" install \
    DESTDIR="$SM_TMP/out" PREFIX=/usr/local >/dev/null
for c in sm-alert sm-keep sm-read sm-post sm-split sm-store sm-tail; do
	[ -x "$SM_TMP/out/usr/local/bin/$c" ] || fail "image lacks $c"
	[ -f "$SM_TMP/out/usr/local/share/man/man1/$c.1" ] || fail "image lacks $c.1"
done
# sm-tail --listen's page is compiled into sm-tail (lib/webpage.h)
title=$(grep -o '<title>[^<]*</title>' "$SM_TOP/web/index.html")
[ -n "$title" ] || fail "web/index.html has no <title>"
grep -aqF "$title" "$SM_TMP/out/usr/local/bin/sm-tail" ||
    fail "sm-tail does not carry its page ($title)"

echo "the build stage installs every pkg-config module's package"
buildst=$(sed -n '/^FROM \${BASE} AS build$/,/^FROM/p' $df | grep -v '^#')
[ -s "$SM_TMP/pkg-config.log" ] || fail "make never ran pkg-config"
mods=$(tr ' ' '\n' <"$SM_TMP/pkg-config.log" |
    grep -E '^[A-Za-z][A-Za-z0-9_.+-]*$' | sort -u)
[ -n "$mods" ] || fail "no pkg-config modules in $(cat "$SM_TMP/pkg-config.log")"
for m in $mods; do
	dir=$(pkg-config --variable=pcfiledir "$m") || fail "no $m.pc"
	pkg=$(pkgs_of "$dir/$m.pc")
	echo "$buildst" | grep -qw -- "$pkg" || fail "build stage lacks $pkg ($m)"
	echo "  $m: $pkg"
done

echo "the run stage installs every linked library's package"
runtime=$(sed -n '/^FROM \${BASE}$/,$p' $df | grep -v '^#')
[ -n "$runtime" ] || fail "no run stage (FROM \${BASE})"
for lib in $(for b in "$SM_TMP"/out/usr/local/bin/*; do
	readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; done | sort -u); do
	path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
	[ -n "$path" ] || fail "$lib not found"
	pkg=$(pkgs_of "$path")
	case $pkg in
	libc6|libtinfo6|zlib1g) continue ;;	# in every debian:12-slim
	esac
	echo "$runtime" | grep -qw -- "$pkg" || fail "run stage lacks $pkg ($lib)"
	echo "  $lib: $pkg"
done
# the page's chart library, served by sm-tail from /usr/share/javascript
echo "$runtime" | grep -qw libjs-dygraphs || fail "run stage lacks libjs-dygraphs"
echo ok
