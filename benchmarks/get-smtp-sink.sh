#!/bin/sh
# Postfix's smtp-sink, a C SMTP sink for benchmarks/proxy.py, without installing Postfix: Debian's
# postfix package is downloaded and unpacked into .bench-tools/postfix/ at the repository root.
# Run it as: LD_LIBRARY_PATH=.bench-tools/postfix/usr/lib/postfix .bench-tools/postfix/usr/sbin/smtp-sink
# (as root it also needs -u nobody). Does nothing when it is already there.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.bench-tools/postfix"
sink="$dest/usr/sbin/smtp-sink"

if [ -x "$sink" ]; then
    echo "smtp-sink already at $sink"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# as root, apt downloads as its own user _apt, who must be able to write there
if [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi

if ! (cd "$tmp" && apt-get download postfix); then
    # no package lists yet (a new machine): fetch them once, as root only
    [ "$(id -u)" = 0 ] || { echo "apt-get download postfix failed (run apt-get update as root)" >&2; exit 1; }
    apt-get update -qq
    (cd "$tmp" && apt-get download postfix)
fi

# unpack beside the destination, then rename it into place: an interrupted run leaves no half tree
mkdir -p "$root/.bench-tools"
rm -rf "$dest.partial"
dpkg -x "$tmp"/postfix_*.deb "$dest.partial"
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "smtp-sink unpacked at $sink"
