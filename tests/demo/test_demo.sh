#!/usr/bin/env bash
# From a clone to a working `epcal`, as a new user meets it: runs
# scripts/demo in a fresh clone of this repository's HEAD, as a normal user
# (nobody, when run as root) whose HOME is a scratch directory, so that it
# installs into ~/.local; then runs each command the demo printed, verbatim,
# from another directory, in a clean environment whose PATH is the one the
# demo and README document (~/.local/bin before Debian's default PATH).
# Runs the demo twice: the second run must find every feed unchanged.
#
# Usage: tests/demo/test_demo.sh   (the package dependencies installed)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/epcal-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

home=$tmp/home
mkdir -p "$home" "$tmp/elsewhere"
git clone -q "$src" "$tmp/epcal"
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  # The demo must not need root when the dependencies are there.
  chmod 755 "$tmp"
  chown -R nobody:nogroup "$home" "$tmp/epcal" "$tmp/elsewhere"
  as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi
path=$home/.local/bin:/usr/local/bin:/usr/bin:/bin
# A clean environment: what a login shell of a new user would have, except
# that ~/.local/bin is not on PATH yet (the demo must say how to add it).
clean=(env -i HOME="$home" USER=nobody LANG=C.UTF-8 TMPDIR="$tmp"
       PATH=/usr/local/bin:/usr/bin:/bin)

# Run from another directory: the demo works from anywhere.
out1=$(cd "$tmp/elsewhere" &&
       "${as_user[@]}" "${clean[@]}" EPCAL_DEMO_NO_DEPS=1 \
         "$tmp/epcal/scripts/demo" 2>&1) ||
  { echo "$out1"; fail "scripts/demo failed"; }
grep -q "^demo: installed epcal into $home/.local " <<<"$out1" ||
  { echo "$out1"; fail "the demo did not install into ~/.local"; }
[ -x "$home/.local/bin/epcal" ] || fail "no $home/.local/bin/epcal"
grep -q "^wrote out/picard-season-2.ics (10 events)" <<<"$out1" ||
  { echo "$out1"; fail "first run: no 'wrote' line"; }
grep -qF "export PATH=\"$home/.local/bin:\$PATH\"" <<<"$out1" ||
  { echo "$out1"; fail "the demo does not say how to put epcal on PATH"; }

out2=$(cd "$tmp/elsewhere" &&
       "${as_user[@]}" "${clean[@]}" EPCAL_DEMO_NO_DEPS=1 \
         "$tmp/epcal/scripts/demo" 2>&1) ||
  { echo "$out2"; fail "scripts/demo failed the second time"; }
if grep -q "^wrote " <<<"$out2" || ! grep -q "^unchanged out/" <<<"$out2"; then
  echo "$out2"
  fail "second run: the feeds should be unchanged"
fi

# Each command printed after "Try next", verbatim.
mapfile -t cmds < <(sed -n '/^Try next/,$p' <<<"$out2" | sed -n 's/^  //p')
[ ${#cmds[@]} -eq 3 ] || { echo "$out2"; fail "expected three commands"; }
for cmd in "${cmds[@]}"; do
  res=$(cd "$tmp/elsewhere" &&
        "${as_user[@]}" env -i HOME="$home" LANG=C.UTF-8 PATH="$path" \
          bash --norc --noprofile -c "$cmd" 2>&1) ||
    { echo "$res"; fail "'$cmd' failed"; }
  echo "ok: $cmd"
done
grep -q "S02E01" < <(cd "$tmp/elsewhere" && env -i PATH="$path" \
  bash --norc --noprofile -c "${cmds[0]}") || fail "${cmds[0]}: no S02E01"
[ -s "$tmp/epcal/out/feeds/index.json" ] || fail "no out/feeds/index.json"
echo "ok: scripts/demo in a fresh clone, and the three commands it printed"
