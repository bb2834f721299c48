#!/bin/sh
# Make a debootstrap minbase tree look like debian:<suite>-slim: debuerreotype's
# "slimify" tells dpkg to skip docs, man pages, locales, ... and deletes the ones
# already installed. Also the apt settings the official Debian images carry.
set -eu
# optional: a root directory to slim instead of / (e.g. a debootstrap tree)
root="${1:-}"
cat > "$root"/etc/dpkg/dpkg.cfg.d/docker <<'EOT'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOT
cat > "$root"/etc/apt/apt.conf.d/docker-no-languages <<'EOT'
Acquire::Languages "none";
EOT
cat > "$root"/etc/apt/apt.conf.d/docker-autoremove-suggests <<'EOT'
Apt::AutoRemove::SuggestsImportant "false";
EOT
find "$root"/usr/share/doc -mindepth 1 -not -type d -not -name copyright -delete 2>/dev/null || true
find "$root"/usr/share/doc -mindepth 1 -type d -empty -delete 2>/dev/null || true
for d in groff info linda lintian/overrides locale man; do
	rm -rf "$root/usr/share/$d"/*
done
