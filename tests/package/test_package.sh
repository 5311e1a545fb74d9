#!/usr/bin/env bash
# The Debian package, as a user gets it: `cmake --build BUILD --target
# package` makes epcal_VERSION_ARCH.deb; lintian finds no error in it; it
# installs with `apt-get install ./epcal_*.deb` (its dependencies from
# dpkg-shlibdeps), the installed epcal works (--version, a feed from the
# sample data, `epcal serve`, the man pages), its examples name /usr/bin,
# no service is enabled, and `apt-get remove` takes it all away again.
#
# Needs root (it installs the package). Exits 77 (skipped) when not root,
# or when an epcal package is installed already: that one is left alone.
#
# Usage: tests/package/test_package.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: installing a package needs root"
  exit 77
fi
if dpkg-query -W -f='${Status}' epcal 2>/dev/null | grep -qx 'install ok installed'; then
  echo "skipped: an epcal package is installed already (left alone)"
  exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/epcal-package.XXXXXX")
installed=false
cleanup() {
  if $installed; then
    apt-get remove -y -qq -o DPkg::Lock::Timeout=300 epcal >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
apt=(apt-get -y -qq -o DPkg::Lock::Timeout=300)
export DEBIAN_FRONTEND=noninteractive

rm -f "$build"/epcal_*.deb
cmake --build "$build" --target package >"$tmp/package.log" 2>&1 ||
  { cat "$tmp/package.log"; fail "cmake --build --target package"; }
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
arch=$(dpkg --print-architecture)
deb=$build/epcal_${version}_${arch}.deb
[ -f "$deb" ] || fail "no $deb: $(ls "$build"/*.deb 2>/dev/null)"
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

deps=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libical3 libcsv3 libmicrohttpd12 zlib1g; do
  [[ $deps == *"$lib "* ]] || fail "Depends lacks $lib: $deps"
done
echo "package: Depends: $deps"
files=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/epcal ./usr/libexec/epcal/epcal-serve \
         ./usr/share/man/man1/epcal.1.gz ./usr/share/man/man5/epcal-csv.5.gz \
         ./usr/share/bash-completion/completions/epcal \
         ./usr/share/doc/epcal/copyright ./usr/share/doc/epcal/changelog.gz \
         ./usr/share/doc/epcal/examples/epcal-feeds.service \
         ./usr/share/doc/epcal/examples/epcal-feeds.timer \
         ./usr/share/doc/epcal/examples/epcal-feeds.crontab \
         ./usr/share/doc/epcal/examples/epcal-feeds.conf; do
  grep -qxF "$f" <<<"$files" || fail "the package lacks $f"
done
if grep -q -e '^\./usr/local' -e '^\./etc/systemd' -e '^\./lib/systemd' <<<"$files"; then
  fail "the package installs outside /usr or enables a unit: $files"
fi

if command -v lintian >/dev/null; then
  # Errors fail; warnings and notes are shown.
  # lintian keeps caches (mldbm-elf-*) in $TMPDIR: give it the scratch one.
  mkdir -p "$tmp/lintian"
  TMPDIR=$tmp/lintian lintian --fail-on error --tag-display-limit 0 "$deb" \
    >"$tmp/lintian.log" 2>&1 ||
    { cat "$tmp/lintian.log"; fail "lintian reports errors"; }
  grep -v 'running with root privileges' "$tmp/lintian.log" || true
  echo "package: lintian reports no errors"
else
  fail "lintian is not installed (scripts/install-deps --test)"
fi

"${apt[@]}" install "$deb" >"$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log"; fail "apt-get install $deb"; }
installed=true
[ "$(command -v epcal)" = /usr/bin/epcal ] ||
  fail "epcal on PATH is $(command -v epcal), not /usr/bin/epcal"
v=$(/usr/bin/epcal --version)
[[ $v == "epcal $version"* ]] || fail "epcal --version: $v"
echo "package: installed; $v"
SOURCE_DATE_EPOCH=0 /usr/bin/epcal generate "$src/data/sample-shows.csv" \
  -o "$tmp/sample-shows.ics" || fail "the installed epcal cannot generate"
n=$(grep -c '^BEGIN:VEVENT' "$tmp/sample-shows.ics")
[ "$n" -gt 0 ] || fail "empty feed from the installed epcal"
/usr/bin/epcal check "$tmp/sample-shows.ics" || fail "epcal check"
/usr/bin/epcal serve --help | grep -q '^Usage: epcal serve' ||
  fail "the installed epcal serve does not run"
grep -q '^ExecStart=/usr/bin/epcal generate ' \
  /usr/share/doc/epcal/examples/epcal-feeds.service ||
  fail "the installed unit does not run /usr/bin/epcal"
grep -q ' /usr/bin/epcal generate ' \
  /usr/share/doc/epcal/examples/epcal-feeds.crontab ||
  fail "the installed crontab line does not run /usr/bin/epcal"
if ls /etc/systemd/system/*.wants/epcal* >/dev/null 2>&1; then
  fail "the package enabled a unit"
fi
if command -v man >/dev/null; then
  man -w epcal >/dev/null 2>&1 || fail "man cannot find epcal(1)"
fi
echo "package: the installed epcal wrote sample-shows.ics ($n events)"

"${apt[@]}" remove epcal >"$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log"; fail "apt-get remove epcal"; }
installed=false
for f in /usr/bin/epcal /usr/libexec/epcal /usr/share/man/man1/epcal.1.gz \
         /usr/share/bash-completion/completions/epcal; do
  [ ! -e "$f" ] || fail "$f is still there after apt-get remove"
done
if dpkg-query -W -f='${Status}' epcal 2>/dev/null | grep -qx 'install ok installed'; then
  fail "dpkg still lists epcal as installed"
fi
echo "package: removed cleanly"
