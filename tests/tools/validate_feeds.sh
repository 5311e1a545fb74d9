#!/usr/bin/env bash
# Every feed the suite pins (golden files) and the feeds made from data/,
# split output included, judged by an external validator that runs several
# independent parsers (libical, ical.js, python-icalendar, vobject,
# calcurse) and an RFC 5545 byte-level lint.
#
# Usage: validate_feeds.sh VALIDATOR EPCAL SOURCE_DIR. Exits 77 (skipped)
# when no validator is configured (-DEPCAL_VALIDATE_ICS=PATH).
set -u
validator=$1 epcal=$2 src=$3
if [ -z "$validator" ] || [ ! -x "$validator" ]; then
  echo "skipped: no validator configured (cmake -DEPCAL_VALIDATE_ICS=PATH)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
feeds=()
for f in "$src"/tests/golden/*/expected.ics; do
  feeds+=("$f")
done
export SOURCE_DATE_EPOCH=1700000000
for csv in "$src"/data/*.csv; do
  out=$tmp/$(basename "$csv" .csv).ics
  "$epcal" generate "$csv" -o "$out" || exit 1
  feeds+=("$out")
done
"$epcal" generate --split season --output-dir "$tmp/split" "$src"/data/*.csv || exit 1
while IFS= read -r f; do feeds+=("$f"); done < <(find "$tmp/split" -name '*.ics' | sort)

passed=0 failed=0
for f in "${feeds[@]}"; do
  if out=$("$validator" --timeout 120 "$f" 2>&1); then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: ${f#"$src"/}"
    printf '%s\n' "$out" | grep -v '^PASS' | head -n 5
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
