#!/usr/bin/env bash
# Benchmarks `epcal generate` against the libcsv-only floor.
#
#   bench/run.sh                      10k, 100k and 1M rows, 5 runs each
#   BENCH_SIZES="10000 100000" BENCH_RUNS=3 bench/run.sh
#
# Builds epcal (Release) and the floor, generates the inputs into bench/out/
# (git-ignored), then for each size runs the floor and every epcal variant
# one after the other, BENCH_RUNS rounds (so a noisy neighbour hits all of
# them alike), and prints the median wall time, rows/s, input MB/s, peak RSS
# (/usr/bin/time) and the ratio to the floor. Then instructions per row
# under callgrind at 100k rows (skipped when valgrind is missing), with the
# top functions. Needs: cmake, a C compiler, libcsv, libical; GNU time;
# valgrind optional.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out="$here/out"
build="$root/build-bench"
sizes=${BENCH_SIZES:-"10000 100000 1000000"}
runs=${BENCH_RUNS:-5}
mkdir -p "$out"

echo "== build (Release)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
  >/dev/null
cmake --build "$build" -j2 >/dev/null
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -o "$out/gen" \
  "$here/gen.c" "$here/episodes.c"
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -o "$out/floor" "$here/floor.c" -lcsv
cc -O2 -std=c11 -o "$out/fsfloor" "$here/fsfloor.c"
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$root/include" -o "$out/stages" \
  "$here/stages.c" "$build/src/lib/libepcal.a" -lcsv \
  $(pkg-config --libs libical) -lpthread
epcal="$build/src/cli/epcal"

# Same bytes on every run: the unchanged-feed case depends on it.
export SOURCE_DATE_EPOCH=1700000000

have_split=0
if "$epcal" generate --help | grep -q -- '--split'; then
  have_split=1
fi

echo "== machine"
lscpu | grep -E '^(Model name|CPU\(s\))' | sed 's/  */ /g'
echo "Kernel: $(uname -sr)"
echo "libcsv: $(dpkg-query -W -f='${Version}' libcsv3 2>/dev/null || echo '?')," \
  "libical: $(pkg-config --modversion libical 2>/dev/null || echo '?')"

# run NAME CMD...: one timed run; appends "wall_us rss_kb cpu_us" to
# $out/NAME.times (cpu: user + system time of all threads)
run() {
  local name=$1
  shift
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f '%M %U %S' -o "$out/rss.tmp" "$@" >/dev/null
  t1=$(date +%s%N)
  echo "$(((t1 - t0) / 1000)) $(awk '{printf "%d %d", $1, ($2 + $3) * 1e6}' \
    "$out/rss.tmp")" >>"$out/$name.times"
}

# median FILE COLUMN
median() {
  sort -n -k"$2" "$1" | awk -v c="$2" '{v[NR]=$c} END {print v[int((NR+1)/2)]}'
}

# Split directories of earlier runs (removed now, long before this run's
# large split rounds create theirs).
rm -rf "$out"/split-*

printf '\n%-8s %-40s %10s %8s %12s %9s %10s %8s\n' rows program "wall s" \
  "CPU s" rows/s "MB/s in" "peak RSS" "x floor"
for n in $sizes; do
  csv="$out/episodes-$n.csv"
  [ -s "$csv" ] || "$out/gen" "$n" "$csv"
  mb=$(stat -c %s "$csv")
  feed="$out/feed-$n.ics"
  split="$out/split-$n"
  names=(floor plain one regen stdout)
  [ "$have_split" -eq 1 ] && names+=(split splitre fsfloor)
  for v in "${names[@]}"; do rm -f "$out/$v.times"; done
  # A previous feed for the unchanged case (same SOURCE_DATE_EPOCH).
  "$epcal" generate "$csv" -o "$out/prev-$n.ics"
  for ((i = 0; i < runs; i++)); do
    run floor "$out/floor" "$csv"
    rm -f "$feed"
    run plain "$epcal" generate "$csv" -o "$feed"
    rm -f "$feed"
    run one "$epcal" generate --threads 1 "$csv" -o "$feed"
    run regen "$epcal" generate "$csv" -o "$out/prev-$n.ics"
    run stdout "$epcal" generate "$csv"
    if [ "$have_split" -eq 1 ]; then
      # A new directory each round: ext4 creates files slowly right after
      # deleting as many (its allocator skips recently freed inodes), which
      # would measure the file system, not epcal. All go at the end.
      run split "$epcal" generate --split season "$csv" --output-dir "$split.$$.$i"
      run splitre "$epcal" generate --split season "$csv" \
        --output-dir "$split.$$.$i"
      # The file system alone: as many files of the same mean size,
      # created, written and renamed the way split publishes them.
      feeds=$(find "$split.$$.$i" -name 'season-*.ics' | wc -l)
      shows=$(find "$split.$$.$i" -mindepth 1 -type d | wc -l)
      bytes=$(find "$split.$$.$i" -name 'season-*.ics' -printf '%s\n' |
        awk '{t += $1} END {printf "%d", t / NR}')
      run fsfloor "$out/fsfloor" "$split.$$.$i.fs" "$shows" "$feeds" "$bytes"
    fi
  done
  floor_us=$(median "$out/floor.times" 1)
  for v in "${names[@]}"; do
    us=$(median "$out/$v.times" 1)
    rss=$(median "$out/$v.times" 2)
    cpu=$(median "$out/$v.times" 3)
    case $v in
    floor) label="libcsv parse only (floor)" ;;
    plain) label="epcal generate -o FILE" ;;
    one) label="epcal generate -o FILE --threads 1" ;;
    regen) label="epcal generate -o FILE (unchanged)" ;;
    stdout) label="epcal generate > /dev/null" ;;
    split) label="epcal generate --split season" ;;
    splitre) label="  the same again (feeds unchanged)" ;;
    fsfloor) label="file system alone: as many files (fsfloor)" ;;
    esac
    awk -v n="$n" -v us="$us" -v rss="$rss" -v mb="$mb" -v f="$floor_us" \
      -v cpu="$cpu" -v label="$label" 'BEGIN {
        printf "%-8d %-40s %10.3f %8.2f %12.0f %9.1f %7.1f MB %8.2f\n", n,
          label, us / 1e6, cpu / 1e6, n / (us / 1e6), mb / 1e6 / (us / 1e6),
          rss / 1024, us / f
      }'
  done
  rm -rf "$split".$$.*
  awk -v a="$mb" -v b="$(stat -c %s "$out/prev-$n.ics")" \
    'BEGIN { printf "         input %.1f MB, feed %.1f MB\n", a / 1e6, b / 1e6 }'
done
if [ "$have_split" -eq 0 ]; then
  echo "note: this epcal has no --split option; the --split season row is skipped"
fi
rm -f "$out/rss.tmp"

# Where the time goes: the same input through longer and longer parts of
# the pipeline (libcsv; + reader; + renderer into a sink; + output).
n=100000
csv="$out/episodes-$n.csv"
[ -s "$csv" ] || "$out/gen" "$n" "$csv"
echo
echo "== stages ($n rows, median of $runs)"
for v in floor read render plain; do rm -f "$out/$v.times"; done
for ((i = 0; i < runs; i++)); do
  run floor "$out/floor" "$csv"
  run read "$out/stages" read "$csv"
  run render "$out/stages" render "$csv"
  rm -f "$out/feed-$n.ics"
  run plain "$epcal" generate "$csv" -o "$out/feed-$n.ics"
done
prev=0
for v in floor read render plain; do
  us=$(median "$out/$v.times" 1)
  case $v in
  floor) label="libcsv parse only (floor)" ;;
  read) label="+ reader (episodes, validated)" ;;
  render) label="+ renderer (bytes dropped)" ;;
  plain) label="+ output (epcal generate -o)" ;;
  esac
  awk -v us="$us" -v p="$prev" -v label="$label" 'BEGIN {
    printf "%-34s %8.1f ms  (+%.1f ms)\n", label, us / 1e3, (us - p) / 1e3 }'
  prev=$us
done

if ! command -v valgrind >/dev/null; then
  echo "note: valgrind not found; instructions per row skipped"
  exit 0
fi
n=100000
csv="$out/episodes-$n.csv"
[ -s "$csv" ] || "$out/gen" "$n" "$csv"
echo
echo "== instructions per row (callgrind, $n rows)"
valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.floor" \
  "$out/floor" "$csv" >/dev/null 2>"$out/callgrind.floor.log"
# A plain run: no previous feed to compare with (that is the "unchanged"
# row's job), so remove what an earlier run of this script left.
rm -f "$out/callgrind.ics"
valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.epcal" \
  "$epcal" generate "$csv" -o "$out/callgrind.ics" 2>"$out/callgrind.epcal.log"
valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.read" \
  "$out/stages" read "$csv" >/dev/null 2>"$out/callgrind.read.log"
valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.render" \
  "$out/stages" render "$csv" >/dev/null 2>"$out/callgrind.render.log"
collected() { grep -o 'Collected : [0-9]*' "$1" | grep -o '[0-9]*$'; }
fi_=$(collected "$out/callgrind.floor.log")
ri=$(collected "$out/callgrind.read.log")
di=$(collected "$out/callgrind.render.log")
ei=$(collected "$out/callgrind.epcal.log")
awk -v f="$fi_" -v r="$ri" -v d="$di" -v e="$ei" -v n="$n" 'BEGIN {
  printf "floor %.0f, reader %.0f, reader+renderer %.0f, epcal generate -o %.0f per row\n",
    f / n, r / n, d / n, e / n
  printf "epcal / floor: %.2f\n", e / f }'
echo "top functions in epcal (self):"
callgrind_annotate "$out/callgrind.epcal" 2>/dev/null |
  grep -E '^ *[0-9,]+ \(' | sed -n '2,16p' |
  sed -E 's/\[[^]]*\]$//; s/\.\/[^:]*://'
