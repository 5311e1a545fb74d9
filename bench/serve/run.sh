#!/usr/bin/env bash
# Load benchmark of `epcal serve` against nginx serving the same bytes:
# wrk on loopback, 200 (full feed) and 304 (If-None-Match), DURATION
# seconds each. Not a test: numbers depend on the machine.
#
#   bench/serve/run.sh [BUILD_DIR]      (default: build)
#
# Needs wrk and nginx (scripts/install-deps installs both).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
epcal=$build/src/cli/epcal
duration=${DURATION:-10}
conns=${CONNECTIONS:-32}
threads=${THREADS:-2}
path=${FEED_PATH:-/show-01.ics}

for tool in wrk nginx; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
    { echo "run.sh: $tool is not installed (scripts/install-deps)"; exit 1; }
done
[ -x "$epcal" ] || { echo "run.sh: build epcal first ($epcal)"; exit 1; }
nginx=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
epcal_pid=""
nginx_pid=""
cleanup() {
  [ -n "$epcal_pid" ] && kill "$epcal_pid" 2>/dev/null && wait "$epcal_pid" 2>/dev/null
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"

python3 "$here/make-data.py" "$work/episodes.csv"
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# The access log (a line per request, as in production) goes to /dev/null:
# a write per request is measured, a disk filling up with it is not.
epcal_addr=127.0.0.1:$(free_port)
"$epcal" serve --listen "$epcal_addr" --threads "$threads" \
  "$work/episodes.csv" 2>/dev/null &
epcal_pid=$!
for _ in $(seq 50); do
  curl -sf -o /dev/null "http://$epcal_addr/" && break
  sleep 0.1
done

# nginx serves the very bytes epcal serves, with the project's snippet.
mkdir -p "$work/feeds$(dirname "$path")" "$work/tmp"
curl -sf "http://$epcal_addr$path" -o "$work/feeds$path"
chmod -R a+rX "$work/feeds"
nginx_port=$(free_port)
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root root;"
cat >"$work/nginx.conf" <<CONF
daemon off;
$user_line
worker_processes $threads;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/feeds;
    include $root/contrib/nginx/epcal-feeds.conf.in;
  }
}
CONF
"$nginx" -e "$work/nginx-error.log" -p "$work" -c "$work/nginx.conf" &
nginx_pid=$!
sleep 0.5

bytes=$(stat -c %s "$work/feeds$path")
echo "feed $path: $bytes bytes; wrk -t2 -c$conns -d${duration}s; epcal --threads $threads, nginx worker_processes $threads"
printf '%-8s %-5s %12s %10s %8s\n' server code requests/s latency errors
run() { # name url etag
  local name=$1 url=$2 etag=$3 code=200 args=()
  if [ -n "$etag" ]; then
    code=304
    args=(-s "$here/if-none-match.lua")
  fi
  local got
  got=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: ${etag:-none}" "$url")
  [ "$got" = "$code" ] || { echo "run.sh: $name answered $got, expected $code"; exit 1; }
  local out
  out=$(ETAG="$etag" wrk -t2 -c"$conns" -d"${duration}s" "${args[@]}" "$url")
  local rps lat errs non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  lat=$(awk '/Latency/ {print $2; exit}' <<<"$out")
  errs=$(awk '/Socket errors/ {gsub(",",""); print $4+$6+$8+$10}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf '%-8s %-5s %12s %10s %8s\n' "$name" "$code" "$rps" "$lat" \
    "$(( ${errs:-0} + ${non2xx:-0} ))"
}
for target in "epcal http://$epcal_addr$path" "nginx http://127.0.0.1:$nginx_port$path"; do
  set -- $target
  etag=$(curl -sI "$2" | awk -F': ' 'tolower($1)=="etag" {print $2}' | tr -d '\r')
  run "$1" "$2" ""
  run "$1" "$2" "$etag"
done
