# Host-side steps shared by tests/kmod/run.sh and bench/kmod-bench.sh:
# fetch Debian's packaged kernel and its headers (cached), build
# sm_metrics.ko and the smkt helper, pack an initramfs and boot it under
# qemu with software emulation.  Sourced, not run; POSIX sh.  Every
# function prints what it does on stdout and returns non-zero (with a
# message on stderr) when it fails.

KMOD_TOP=${KMOD_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}

kmod_say() {
	echo "kmod: $*"
}

kmod_die() {
	echo "kmod: FAIL: $*" >&2
	return 1
}

# The name a metapackage depends on (the current ABI's package).
kmod_dep() {
	apt-cache depends "$1" 2>/dev/null |
	    sed -n "s/^ *Depends: \($2\)$/\1/p" | head -1
}

# apt-get download PKG... into the current directory.  As root, apt would
# drop to its _apt user, which cannot write to our cache.
kmod_download() {
	apt-get -q -o APT::Sandbox::User=root download "$@"
}

# kmod_checkpatch CACHE FILE...: the kernel's own scripts/checkpatch.pl
# (--strict), from Debian's linux-source package of the guest's kernel
# series (downloaded once; only the three files it needs are kept, in
# CACHE/checkpatch), over FILE...; any error, warning or check fails.
# Needs KVER (kmod_fetch).
kmod_checkpatch() {
	cache=$1
	shift
	src=linux-source-$(echo "$KVER" | cut -d. -f1,2)
	ver=$(apt-cache show --no-all-versions "$src" 2>/dev/null |
	    sed -n 's/^Version: //p' | head -1)
	[ -n "$ver" ] || { kmod_die "apt-cache: no package $src"; return 1; }
	dir=$cache/checkpatch
	if [ "$(cat "$dir/VERSION" 2>/dev/null)" != "$ver" ]; then
		kmod_say "fetching checkpatch.pl from $src $ver"
		tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-checkpatch.XXXXXX") ||
		    return 1
		(cd "$tmp" && kmod_download "$src" >/dev/null) || {
			rm -rf "$tmp"
			kmod_die "apt-get download $src failed"
			return 1
		}
		# shellcheck disable=SC2086 # the three names
		dpkg-deb --fsys-tarfile "$tmp"/*.deb |
		    tar -xO "./usr/src/$src.tar.xz" |
		    tar -xJ -C "$tmp" $(for f in checkpatch.pl spelling.txt \
		    const_structs.checkpatch; do echo "$src/scripts/$f"; done) &&
		    rm -rf "$dir" && mkdir -p "$dir" &&
		    mv "$tmp/$src/scripts"/* "$dir" &&
		    echo "$ver" >"$dir/VERSION" || {
			rm -rf "$tmp"
			kmod_die "cannot unpack checkpatch.pl from $src"
			return 1
		}
		rm -rf "$tmp"
	fi
	out=$(perl "$dir/checkpatch.pl" --no-tree --strict -f "$@" 2>&1)
	rc=$?
	echo "$out" | sed -n 's/^./kmod: checkpatch: &/p'
	[ $rc -eq 0 ] || { kmod_die "checkpatch.pl --strict: see above"; return 1; }
}

# kmod_fetch CACHE: download (once) Debian's current kernel image and the
# headers to build modules for it, unpack them under CACHE, and set
#   KVER     kernel release (6.1.0-NN-amd64), from the headers package
#   KIMAGE   the kernel image (bzImage)
#   KDIR     the headers tree to build modules against
# Nothing is installed on the host; other versions in CACHE are removed.
kmod_fetch() {
	cache=$1
	mkdir -p "$cache" || return 1
	# one fetch at a time: concurrent test runs share the cache
	exec 9>"$cache/.lock"
	flock 9 || return 1
	if ! apt-cache show linux-headers-amd64 >/dev/null 2>&1; then
		[ "$(id -u)" -eq 0 ] || {
			kmod_die "no apt package lists; run apt-get update" \
			    "as root"
			return 1
		}
		kmod_say "apt-get update (no package lists)"
		apt-get update -qq || return 1
	fi
	hdr=$(kmod_dep linux-headers-amd64 'linux-headers-[^ ]*')
	[ -n "$hdr" ] || {
		kmod_die "apt-cache: linux-headers-amd64 names no headers"
		return 1
	}
	KVER=${hdr#linux-headers-}
	pkgs="linux-image-$KVER $hdr $(apt-cache depends "$hdr" |
	    sed -n 's/^ *Depends: \(linux-\(headers\|kbuild\)-[^ ]*\)$/\1/p')"
	# shellcheck disable=SC2086,SC2116 # the list, on one line
	kmod_say "guest kernel $KVER (packages: $(echo $pkgs))"

	mkdir -p "$cache/debs" || return 1
	keep=
	# one "package version arch sha256" line each (apt-cache is slow)
	# shellcheck disable=SC2086
	info=$(apt-cache show --no-all-versions $pkgs 2>/dev/null | awk '
	    /^Package: / { p = $2 } /^Version: / { v = $2 }
	    /^Architecture: / { a = $2 } /^SHA256: / { s = $2 }
	    /^$/ && p != "" { print p, v, a, s; p = "" }
	    END { if (p != "") print p, v, a, s }')
	for p in $pkgs; do
		# shellcheck disable=SC2046 # into its four fields
		set -- $(echo "$info" | awk -v p="$p" '$1 == p' | head -1)
		[ $# -eq 4 ] ||
		    { kmod_die "apt-cache: no package $p"; return 1; }
		v=$2 sum=$4
		# apt escapes an epoch's colon in the file name
		f=${p}_$(echo "$v" | sed 's/:/%3a/')_$3.deb
		# a download cut short must not poison the cache (checked
		# until the packages are unpacked)
		if [ -f "$cache/debs/$f" ] &&
		    [ ! -e "$cache/$KVER/.unpacked" ] &&
		    ! echo "$sum  $cache/debs/$f" |
		    sha256sum -c --status; then
			kmod_say "cached $f is damaged: downloading again"
			rm -f "$cache/debs/$f"
		fi
		if [ ! -f "$cache/debs/$f" ]; then
			kmod_say "downloading $p $v"
			(cd "$cache/debs" && kmod_download "$p") || {
				kmod_die "apt-get download $p failed"
				return 1
			}
			echo "$sum  $cache/debs/$f" | sha256sum -c --status || {
				rm -f "$cache/debs/$f"
				kmod_die "$f: not what apt-cache describes"
				return 1
			}
		fi
		keep="$keep $f"
	done
	for f in "$cache/debs"/*.deb; do
		case " $keep " in
		*" ${f##*/} "*) ;;
		*) kmod_say "removing old ${f##*/}"; rm -f "$f" ;;
		esac
	done

	root=$cache/$KVER
	if [ ! -e "$root/.unpacked" ]; then
		kmod_say "unpacking into $root"
		rm -rf "$root"
		mkdir -p "$root" || return 1
		for f in $keep; do
			case $f in
			linux-image-*)
				# only the kernel: its modules are not needed
				dpkg-deb --fsys-tarfile "$cache/debs/$f" |
				    tar -x -C "$root" "./boot/vmlinuz-$KVER"
				;;
			*)
				dpkg-deb -x "$cache/debs/$f" "$root"
				;;
			esac || { kmod_die "cannot unpack $f"; return 1; }
		done
		# the headers' Makefile includes the common part by its
		# installed path: point it at the unpacked one
		sed -i "s|^include /usr/src/|include $root/usr/src/|" \
		    "$root/usr/src/linux-headers-$KVER/Makefile" || return 1
		touch "$root/.unpacked"
	fi
	for d in "$cache"/*/; do
		[ "$d" = "$root/" ] || [ ! -e "$d.unpacked" ] ||
		    { kmod_say "removing old ${d%/}"; rm -rf "$d"; }
	done
	exec 9>&-
	KIMAGE=$root/boot/vmlinuz-$KVER
	KDIR=$root/usr/src/linux-headers-$KVER
	[ -f "$KIMAGE" ] && [ -f "$KDIR/Makefile" ] || {
		kmod_die "no $KIMAGE or $KDIR/Makefile"
		return 1
	}
}

# kmod_build_module KDIR DIR: build kmod/ in DIR (a copy, so the checkout
# stays clean) with W=1; fail on any compiler or modpost warning.
kmod_build_module() {
	rm -rf "$2"
	mkdir -p "$2" || return 1
	cp "$KMOD_TOP"/kmod/Kbuild "$KMOD_TOP"/kmod/Makefile \
	    "$KMOD_TOP"/kmod/sm_metrics.c "$2"/ || return 1
	kmod_say "building sm_metrics.ko (W=1) against $1"
	if ! make -C "$2" KDIR="$1" W=1 >"$2/build.log" 2>&1; then
		cat "$2/build.log" >&2
		kmod_die "module build failed"
		return 1
	fi
	if grep -i 'warning' "$2/build.log" >&2; then
		kmod_die "module build printed warnings (above)"
		return 1
	fi
	magic=$(modinfo -F vermagic "$2/sm_metrics.ko")
	case $magic in
	"$KVER "*) kmod_say "built: vermagic $magic" ;;
	*) kmod_die "vermagic \"$magic\" is not for $KVER"; return 1 ;;
	esac
}

# kmod_build_dkms KDIR DIR KO: build kmod/ as DKMS does on a user's
# machine (kmod/dkms.conf, `dkms add`, `dkms build -k KVER`) against KDIR,
# with private DKMS, source and install trees under DIR, and set DKMS_KO to
# the module it made.  Nothing under /var/lib/dkms, /usr/src or /lib/modules
# is written (system-wide `dkms status` is compared before and after).
# Fails, with DKMS's output and the tail of its make.log, if dkms fails,
# `dkms status` does not say "built", the build warned, or the module is
# not the one `make` built as KO (same vermagic and srcversion).
kmod_build_dkms() {
	command -v dkms >/dev/null ||
	    { kmod_die "no dkms (scripts/deps.sh installs it)"; return 1; }
	kd=$1 d=$2 ko=$3
	conf=$KMOD_TOP/kmod/dkms.conf
	name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"$/\1/p' "$conf")
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$conf")
	[ -n "$name" ] && [ -n "$ver" ] || {
		kmod_die "$conf: no PACKAGE_NAME=\"...\" or" \
		    "PACKAGE_VERSION=\"...\" line"
		return 1
	}
	rm -rf "$d"
	mkdir -p "$d/src/$name-$ver" "$d/tree" "$d/lib" || return 1
	cp "$KMOD_TOP"/kmod/Kbuild "$KMOD_TOP"/kmod/Makefile \
	    "$KMOD_TOP"/kmod/sm_metrics.c "$conf" "$d/src/$name-$ver"/ ||
	    return 1
	sys0=$(dkms status 2>&1)
	kmod_say "dkms add + build $name/$ver for $KVER (private trees in $d)"
	# No signing: with the host's sign-file (linux-kbuild-6.1) dkms
	# would sign, and first make /var/lib/dkms/mok.key; these three
	# framework.conf variables are taken from the environment unless
	# /etc/dkms/framework.conf sets them.
	if ! (
	    export sign_file="$d/no-sign-file" \
		mok_signing_key="$d/mok.key" mok_certificate="$d/mok.pub"
	    set -- --dkmstree "$d/tree" --sourcetree "$d/src" \
		--installtree "$d/lib" -m "$name" -v "$ver"
	    dkms add "$@" &&
		dkms build "$@" -k "$KVER" --kernelsourcedir "$kd"
	) >"$d/dkms.log" 2>&1; then
		kmod_dkms_fail "$d" "dkms add/build failed"
		return 1
	fi
	st=$(dkms status --dkmstree "$d/tree" --sourcetree "$d/src" \
	    --installtree "$d/lib" -m "$name" -v "$ver" -k "$KVER" 2>&1)
	echo "$st" | grep -q "^$name/$ver, $KVER, [^:]*: built$" || {
		kmod_dkms_fail "$d" "dkms status says \"$st\", not built"
		return 1
	}
	[ "$(dkms status 2>&1)" = "$sys0" ] || {
		kmod_dkms_fail "$d" "system-wide dkms status changed"
		return 1
	}
	set -- "$d/tree/$name/$ver/$KVER"/*/module/sm_metrics.ko
	[ -f "$1" ] || {
		kmod_dkms_fail "$d" "dkms made no" \
		    "$name/$ver/$KVER/ARCH/module/sm_metrics.ko"
		return 1
	}
	DKMS_KO=$1
	if grep -i 'warning' "$d/tree/$name/$ver/$KVER"/*/log/make.log >&2
	then
		kmod_dkms_fail "$d" "the DKMS build printed warnings (above)"
		return 1
	fi
	for f in vermagic srcversion; do
		a=$(modinfo -F $f "$ko") b=$(modinfo -F $f "$DKMS_KO")
		[ -n "$a" ] && [ "$a" = "$b" ] || {
			kmod_die "$f: make built \"$a\", DKMS \"$b\""
			return 1
		}
	done
	kmod_say "dkms status: $st; same vermagic and srcversion ($b)" \
	    "as the make build"
}

# kmod_dkms_fail DIR MESSAGE...: what dkms said and its make.log's tail.
kmod_dkms_fail() {
	d=$1
	shift
	sed 's/^/dkms: /' "$d/dkms.log" >&2
	# build/make.log while it fails, KVER/ARCH/log/make.log once built
	find "$d/tree" -name make.log -exec sh -c \
	    'echo "kmod: last 30 lines of $1:"; tail -n 30 "$1"' sh {} \; >&2
	kmod_die "$* (DKMS log: $d/dkms.log)"
}

# kmod_build_smkt OUT: the static guest helper.
kmod_build_smkt() {
	kmod_say "building smkt (static)"
	# shellcheck disable=SC2046
	${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static \
	    -pthread -o "$1" "$KMOD_TOP/tests/kmod/smkt.c" \
	    $(pkg-config --cflags --libs json-c) ||
	    { kmod_die "cannot build smkt"; return 1; }
}

# Copy a dynamically linked program and the libraries it loads into STAGE.
kmod_stage_prog() {
	cp "$1" "$2/bin/" || return 1
	for lib in $(ldd "$1" | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p;
	    s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		mkdir -p "$2${lib%/*}" && cp -L "$lib" "$2$lib" || return 1
	done
}

# kmod_initramfs OUT GUEST_SCRIPT MODULE SMKT SM_READ [FILE...]:
# a gzip'd newc cpio with busybox, smkt as /init, the module, sm-read and
# its libraries, GUEST_SCRIPT as /guest.sh and any further FILEs in /.
kmod_initramfs() {
	out=$1 script=$2 module=$3 smkt=$4 smread=$5
	shift 5
	stage=$out.d
	rm -rf "$stage"
	mkdir -p "$stage/bin" "$stage/dev" "$stage/proc" "$stage/sys" \
	    "$stage/tmp" || return 1
	busybox=$(command -v busybox) ||
	    { kmod_die "no busybox (busybox-static)"; return 1; }
	cp "$busybox" "$stage/bin/busybox" || return 1
	for a in $(busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$stage/bin/$a"
	done
	cp "$smkt" "$stage/init" && ln "$stage/init" "$stage/bin/smkt" &&
	    kmod_stage_prog "$smread" "$stage" &&
	    strip --strip-debug -o "$stage/sm_metrics.ko" "$module" &&
	    cp "$script" "$stage/guest.sh" || return 1
	for f in "$@"; do
		cp "$f" "$stage/" || return 1
	done
	(cd "$stage" && find . | LC_ALL=C sort |
	    cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out" ||
	    { kmod_die "cannot pack the initramfs"; return 1; }
	kmod_say "initramfs $(du -k "$out" | cut -f1) KiB"
}

# kmod_boot KIMAGE INITRD MEM_MB CPUS SECONDS LOG [KERNEL_ARG...]: boot
# under TCG (never KVM), console on LOG (and stdout), bounded by a timeout.
# Returns qemu's status, 124 on timeout.
kmod_boot() {
	kmod_say "booting $KVER under qemu -accel tcg (${3} MiB, $4 CPUs," \
	    "timeout $5 s)"
	kimage=$1 initrd=$2 mem=$3 cpus=$4 secs=$5 log=$6
	shift 6
	{ timeout -k 5 "$secs" qemu-system-x86_64 -accel tcg,thread=multi \
	    -M pc -smp "$cpus" -m "$mem" -nodefaults -display none \
	    -no-reboot -serial stdio -kernel "$kimage" -initrd "$initrd" \
	    -append "console=ttyS0 loglevel=5 panic=-1 $*" </dev/null 2>&1;
	    echo $? >"$log.rc"; } | tee "$log"
	return "$(cat "$log.rc")"
}
