#!/bin/sh
# Lay out the final musl image's file tree in $1 (Alpine-like paths), from
# musl-builder: static busybox, musl loader, the /opt/musl libraries,
# /usr/local (CPython), CA bundle, zoneinfo, a few terminfo entries.
set -eu
out="${1:?usage: assemble-musl.sh OUTDIR}"
rm -rf "$out"; mkdir -p "$out"; cd "$out"
mkdir -p bin sbin usr/bin usr/sbin usr/lib lib etc/ssl/certs tmp root var/tmp run home \
	usr/share usr/local
chmod 1777 tmp var/tmp; chmod 700 root

# static busybox (Debian's busybox-static) provides /bin/sh and the usual tools;
# --install -s needs /sbin /usr/bin /usr/sbin to exist already.
cp /bin/busybox bin/busybox
chroot "$out" /bin/busybox --install -s

# musl: the loader is libc itself. Debian calls it libc.so; Alpine ships
# /lib/ld-musl-x86_64.so.1 plus the libc.musl-x86_64.so.1 name that musllinux
# wheels link against.
musl_libc="/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH | sed 's/-gnu$/-musl/')/libc.so"
ldso="ld-musl-$(dpkg-architecture -qDEB_HOST_GNU_CPU).so.1"
cp -L "$musl_libc" "lib/$ldso"
ln -s "$ldso" "lib/libc.musl-$(dpkg-architecture -qDEB_HOST_GNU_CPU).so.1"

# the musl-built libraries (shared objects only), in musl's default search path
cp -a /opt/musl/lib/*.so* usr/lib/
find usr/lib -type f -name '*.so*' -exec strip --strip-unneeded '{}' +

# CPython (already stripped by -Wl,--strip-all at link time)
cp -a /usr/local/. usr/local/
rm -rf usr/local/share/man   # CPython's man page; Alpine's python has none

# CA bundle: Debian's ca-certificates (Mozilla's list), Alpine's paths.
cp -L /etc/ssl/certs/ca-certificates.crt etc/ssl/certs/ca-certificates.crt
ln -s certs/ca-certificates.crt etc/ssl/cert.pem
# time zones (the official alpine image installs tzdata)
cp -a /usr/share/zoneinfo usr/share/zoneinfo
# a few terminfo entries (Alpine's ncurses-terminfo-base keeps them in /etc/terminfo)
for t in ansi dumb linux screen screen-256color tmux tmux-256color vt100 vt102 vt220 xterm xterm-256color xterm-color; do
	f="$(find /usr/share/terminfo /usr/lib/terminfo /lib/terminfo -name "$t" 2>/dev/null | head -n1)"
	[ -n "$f" ] || continue
	d="etc/terminfo/$(basename "$(dirname "$f")")"
	mkdir -p "$d"; cp -L "$f" "$d/"
done

cat > etc/passwd <<'EOT'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/:/sbin/nologin
EOT
cat > etc/group <<'EOT'
root:x:0:root
nogroup:x:65534:
nobody:x:65534:
EOT
echo 'root:*::0:::::' > etc/shadow; chmod 640 etc/shadow
printf '%s\n' 'hosts: files dns' > etc/nsswitch.conf
printf '%s\n' '127.0.0.1 localhost' '::1 localhost ip6-localhost ip6-loopback' > etc/hosts
cat > etc/os-release <<EOT
NAME="basebench musl"
ID=basebench-musl
PRETTY_NAME="basebench musl (musl $(dpkg-query -W -f '${Version}' musl) from Debian $(. /etc/os-release && echo "$VERSION_CODENAME"), busybox)"
EOT

# sanity check inside the new tree
chroot "$out" /bin/sh -c 'export PYTHONDONTWRITEBYTECODE=1; python3 -c "import ssl, zlib, ctypes, sqlite3, lzma, bz2" && pip --version'
du -sh "$out"
