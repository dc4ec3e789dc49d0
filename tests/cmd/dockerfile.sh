#!/bin/sh
# The Dockerfile, checked without a container engine: its build stage's
# COPY set is enough to build and install all five commands, its run
# stage installs the package of every library they link, and it runs as a
# non-root user.
. "$(dirname "$0")/../lib.sh"

df=Dockerfile
[ "$(grep -c '^FROM debian:12-slim' $df)" -eq 2 ] || fail "want two debian:12-slim stages"
grep -Eq '^USER [1-9][0-9]*:[1-9][0-9]*$' $df || fail "no numeric non-root USER"

echo "the build stage, from only what it copies"
mkdir "$SM_TMP/src"
sed -n 's|^COPY \([^ -][^ ]*\) .*|\1|p' $df | while read -r p; do
	cp -r "$p" "$SM_TMP/src/"
done
make -s -C "$SM_TMP/src" all >"$SM_TMP/build.log" 2>&1 ||
    fail "build from the COPY set: $(tail -5 "$SM_TMP/build.log")"
make -s -C "$SM_TMP/src" install DESTDIR="$SM_TMP/out" PREFIX=/usr/local \
    >/dev/null
for c in sm-read sm-post sm-split sm-store sm-tail; do
	[ -x "$SM_TMP/out/usr/local/bin/$c" ] || fail "image lacks $c"
	[ -f "$SM_TMP/out/usr/local/share/man/man1/$c.1" ] || fail "image lacks $c.1"
done

echo "the run stage installs every linked library's package"
runtime=$(sed -n '/^FROM debian:12-slim$/,$p' $df)
for lib in $(for b in "$SM_TMP"/out/usr/local/bin/*; do
	readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; done | sort -u); do
	path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
	[ -n "$path" ] || fail "$lib not found"
	pkg=$(dpkg -S "$path" 2>/dev/null || dpkg -S "/usr$path" 2>/dev/null ||
	    dpkg -S "$(realpath "$path")" 2>/dev/null || true)
	pkg=${pkg%%:*}
	[ -n "$pkg" ] || fail "no package holds $lib"
	case $pkg in
	libc6|libtinfo6|zlib1g) continue ;;	# in every debian:12-slim
	esac
	echo "$runtime" | grep -qw "$pkg" || fail "run stage lacks $pkg ($lib)"
	echo "  $lib: $pkg"
done
echo ok
