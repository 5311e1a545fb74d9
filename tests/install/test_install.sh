#!/usr/bin/env bash
# Installs this build into a temporary prefix and uses it as a user would:
# every file in its GNUInstallDirs place, a program compiled and linked
# (shared, then static) with nothing but `pkg-config ... epcal`, and the
# installed command, man pages and completion.
#
# Usage: test_install.sh CMAKE BUILD_DIR CC VERSION [EXTRA_CFLAGS...]
set -euo pipefail
cmake=$1 build=$2 cc=$3 version=$4
shift 4
extra=("$@")
here=$(cd "$(dirname "$0")" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/epcal-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }

"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" ||
  { cat "$tmp/install.log"; fail "cmake --install"; }

pc=$(find "$prefix" -name epcal.pc)
[ -n "$pc" ] || fail "no epcal.pc installed"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
[ "$(pkg-config --modversion epcal)" = "$version" ] ||
  fail "pkg-config --modversion: $(pkg-config --modversion epcal)"
libdir=$(pkg-config --variable=libdir epcal)
includedir=$(pkg-config --variable=includedir epcal)
# The .pc found must be this prefix's, not one installed on the system.
case $libdir in "$prefix"/*) ;; *) fail "libdir $libdir is outside $prefix" ;; esac

for f in "$prefix/bin/epcal" "$prefix/libexec/epcal/epcal-serve" \
         "$includedir/epcal/epcal.h" \
         "$libdir/libepcal.a" "$libdir/libepcal.so" "$libdir/libepcal.so.0" \
         "$prefix/share/man/man1/epcal.1" "$prefix/share/man/man5/epcal-csv.5" \
         "$prefix/share/bash-completion/completions/epcal"; do
  [ -e "$f" ] || fail "not installed: ${f#"$prefix"/}"
done
[ "$(readlink "$libdir/libepcal.so.0")" = "libepcal.so.$version" ] ||
  fail "libepcal.so.0 -> $(readlink "$libdir/libepcal.so.0")"

# The shared library exports the public API and nothing else.
if command -v nm >/dev/null; then
  exported=$(nm -D --defined-only "$libdir/libepcal.so" | awk '$2 == "T" {print $3}')
  [ -n "$exported" ] || fail "libepcal.so exports no functions"
  for sym in $exported; do
    grep -q "\b$sym(" "$includedir/epcal/epcal.h" ||
      fail "libepcal.so exports $sym, which epcal.h does not declare"
  done
fi

# Shared: found through pkg-config, loaded from the prefix.
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Wextra -Werror "${extra[@]}" "$here/consumer.c" \
  $(pkg-config --cflags --libs epcal) -o "$tmp/consumer"
out=$(LD_LIBRARY_PATH=$libdir "$tmp/consumer")
[ "$out" = "$version 1 0" ] || fail "shared consumer printed '$out'"
# (ldd's output is captured first: `grep -q` stops reading at the first
# match, and under pipefail the writer's SIGPIPE would fail the pipeline.)
deps=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/consumer")
grep -q "$libdir/libepcal.so.0" <<<"$deps" ||
  fail "consumer is not linked against the installed libepcal.so"

# Static: the archive plus Requires.private and Libs.private.
libs=$(pkg-config --static --libs epcal)
libs=${libs/-lepcal/$libdir/libepcal.a}
# shellcheck disable=SC2046,SC2086
"$cc" -std=c11 -Wall -Wextra -Werror "${extra[@]}" "$here/consumer.c" \
  $(pkg-config --cflags epcal) $libs -o "$tmp/consumer-static"
out=$("$tmp/consumer-static")
[ "$out" = "$version 1 0" ] || fail "static consumer printed '$out'"
deps=$(ldd "$tmp/consumer-static")
if grep -q libepcal <<<"$deps"; then
  fail "static consumer loads libepcal.so"
fi

# The installed command, completion and man pages.
# The installed `epcal serve` finds its server program in the prefix.
help=$("$prefix/bin/epcal" serve --help)
grep -q '^Usage: epcal serve' <<<"$help" ||
  fail "installed 'epcal serve' does not run epcal-serve"
v=$("$prefix/bin/epcal" --version)
[[ $v == "epcal $version"* ]] || fail "installed epcal --version: $v"
bash --norc --noprofile -c \
  "source '$prefix/share/bash-completion/completions/epcal' && complete -p epcal" \
  >/dev/null || fail "installed completion does not load"
if command -v man >/dev/null; then
  MANPATH=$prefix/share/man man -w epcal-csv >/dev/null 2>&1 ||
    fail "man cannot find epcal-csv(5) under the prefix"
fi
echo "ok: installed into a temporary prefix and built against epcal.pc"
