#!/usr/bin/python3
"""`epcal serve` on a generated million-episode catalogue (10,000 shows x
20 seasons x 5 episodes, make-data.py): start-up and reload time, RSS,
cold and warm latency (p50, p99) for season, show, "my shows" (5 shows)
and windowed feeds, and requests per second for a season feed next to
nginx serving the same bytes as a static file. A benchmark, not a test:
nothing fails on a slow machine.

    bench/serve/scale.py [BUILD_DIR]   (default: build-rel; Release build)

Environment: ROWS_SHOWS (10000), SAMPLES (400 cold requests per kind),
DURATION (10 s per wrk run), CONNECTIONS (32), THREADS (2).
"""
import http.client
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHOWS = int(os.environ.get("ROWS_SHOWS", "10000"))
SEASONS, EPISODES = 20, 5
SAMPLES = int(os.environ.get("SAMPLES", "400"))
DURATION = os.environ.get("DURATION", "10")
CONNS = os.environ.get("CONNECTIONS", "32")
THREADS = os.environ.get("THREADS", "2")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss(pid):
    """(VmRSS, VmHWM) in MB."""
    got = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                got[k] = int(v.split()[0]) / 1024
    return got["VmRSS"], got["VmHWM"]


class Client:
    """One keep-alive connection, timing each request."""

    def __init__(self, port):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path, headers=None):
        t = time.perf_counter()
        self.c.request("GET", path, headers=headers or {})
        r = self.c.getresponse()
        body = r.read()
        return r.status, (time.perf_counter() - t) * 1000, body, r


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def wrk(url, etag=None):
    args = ["wrk", "-t2", f"-c{CONNS}", f"-d{DURATION}s", url]
    env = dict(os.environ)
    if etag:
        args[1:1] = ["-s", os.path.join(HERE, "if-none-match.lua")]
        env["ETAG"] = etag
    out = subprocess.run(args, capture_output=True, text=True, env=env,
                         check=True).stdout
    rps = next(l.split()[1] for l in out.splitlines() if "Requests/sec" in l)
    lat = next(l.split()[1] for l in out.splitlines() if "Latency" in l)
    return float(rps), lat


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                            os.path.join(ROOT, "build-rel"))
    epcal = os.path.join(build, "src", "cli", "epcal")
    work = tempfile.mkdtemp(prefix="epcal-bench-serve-")
    os.chmod(work, 0o755)
    procs = []
    try:
        csv = os.path.join(work, "episodes.csv")
        subprocess.run([sys.executable, os.path.join(HERE, "make-data.py"),
                        csv, str(SHOWS), str(SEASONS), str(EPISODES)],
                       check=True)
        rows = SHOWS * SEASONS * EPISODES
        print(f"data: {rows:,} rows, {SHOWS:,} shows, "
              f"{SHOWS * SEASONS:,} seasons, "
              f"{os.path.getsize(csv) / 1e6:.0f} MB of CSV")
        port = free_port()
        log = open(os.path.join(work, "serve.log"), "w+")
        t0 = time.perf_counter()
        p = subprocess.Popen([epcal, "serve", "--listen", f"127.0.0.1:{port}",
                              "--threads", THREADS,
                              "--per-address-limit", "0", csv],
                             stderr=log, stdout=subprocess.DEVNULL,
                             env=dict(os.environ, TZ="UTC"))
        procs.append(p)
        while True:
            log.seek(0)
            if "serving" in log.read():
                break
            if p.poll() is not None:
                sys.exit("epcal serve did not start")
            time.sleep(0.02)
        start = time.perf_counter() - t0
        r0, h0 = rss(p.pid)
        print(f"start-up (read, copy and index): {start:.2f} s; "
              f"RSS {r0:.1f} MB (peak {h0:.1f})")

        rng = random.Random(1)
        c = Client(port)

        def show():
            return f"show-{rng.randrange(1, SHOWS + 1):02d}"
        kinds = {
            "season": lambda: f"/{show()}/season-{rng.randrange(1, 21)}.ics",
            "show": lambda: f"/{show()}.ics",
            "my shows (5)": lambda: "/calendar.ics?shows=" + ",".join(
                show() for _ in range(5)),
            "show, +-1 year window": lambda: f"/{show()}.ics?past_days="
                                             "365&future_days=365",
        }
        print(f"\nlatency over one keep-alive connection, {SAMPLES} "
              "requests per kind, each a different feed (cold: first "
              "request, rendered; warm: the same again, from the cache):")
        print(f"{'feed':24} {'bytes':>8} {'cold p50':>9} {'cold p99':>9} "
              f"{'warm p50':>9} {'warm p99':>9}")
        for name, make in kinds.items():
            paths = list(dict.fromkeys(make() for _ in range(SAMPLES)))
            cold, warm, sizes = [], [], []
            for path in paths:
                st, ms, body, _ = c.get(path)
                assert st == 200, (path, st)
                cold.append(ms)
                sizes.append(len(body))
            for path in paths:
                st, ms, _, _ = c.get(path)
                warm.append(ms)
            print(f"{name:24} {int(statistics.median(sizes)):>8} "
                  f"{pct(cold, 50):>7.2f}ms {pct(cold, 99):>7.2f}ms "
                  f"{pct(warm, 50):>7.2f}ms {pct(warm, 99):>7.2f}ms")
        for path in ("/calendar.ics?past_days=3&future_days=3",
                     "/calendar.ics?past_days=3&future_days=3",
                     "/calendar.ics"):
            st, ms, body, _ = c.get(path)
            print(f"{path}: {st}, {len(body):,} bytes in {ms:.1f} ms")
            del body
        r, h = rss(p.pid)
        print(f"RSS after streaming the whole catalogue: {r:.1f} MB "
              f"(peak {h:.1f})")
        st, ms, body, _ = c.get("/")
        st2, ms2, body2, _ = c.get("/?q=show-0999")
        print(f"page /: {st}, {len(body):,} bytes, {ms:.1f} ms; "
              f"search: {st2}, {len(body2):,} bytes, {ms2:.1f} ms")
        r1, h1 = rss(p.pid)
        print(f"RSS after {4 * SAMPLES} feeds cached: {r1:.1f} MB "
              f"(peak {h1:.1f})")

        # Reload: a new mtime, then the first request after the next check.
        time.sleep(1.1)
        os.utime(csv)
        t = time.perf_counter()
        st, ms, _, _ = c.get("/show-01/season-1.ics")
        r2, h2 = rss(p.pid)
        print(f"reload (the request that found the change): {ms / 1000:.2f} s;"
              f" RSS {r2:.1f} MB, peak so far {h2:.1f} MB")

        # Throughput of one warm season feed, next to nginx and a file.
        path = "/show-01/season-3.ics"
        st, _, body, resp = c.get(path)
        feeds = os.path.join(work, "feeds")
        os.makedirs(os.path.join(feeds, "show-01"))
        with open(os.path.join(feeds, path[1:]), "wb") as f:
            f.write(body)
        for d, _, files in os.walk(feeds):
            os.chmod(d, 0o755)
            for fn in files:
                os.chmod(os.path.join(d, fn), 0o644)
        nport = free_port()
        tmp = os.path.join(work, "tmp")
        os.makedirs(tmp)
        user = "user root root;" if os.getuid() == 0 else ""
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""daemon off; {user}
worker_processes {THREADS};
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{nport};
    root {feeds};
    include {ROOT}/contrib/nginx/epcal-feeds.conf;
  }}
}}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        n = subprocess.Popen([nginx, "-e", f"{work}/nginx-error.log", "-p",
                              work, "-c", conf])
        procs.append(n)
        time.sleep(0.5)
        ns = http.client.HTTPConnection("127.0.0.1", nport)
        ns.request("GET", path)
        nr = ns.getresponse()
        assert nr.status == 200 and nr.read() == body
        print(f"\nrequests/s, wrk -t2 -c{CONNS} -d{DURATION}s, feed {path} "
              f"({len(body):,} bytes), epcal --threads {THREADS}, nginx "
              f"worker_processes {THREADS}:")
        res = {}
        # 200s only: wrk's parser waits for a body after a 304 that carries
        # the 200's Content-Length (which epcal sends, as RFC 9110 8.6
        # allows), so it cannot time epcal's 304s.
        for name, url in (("epcal", f"http://127.0.0.1:{port}{path}"),
                          ("nginx", f"http://127.0.0.1:{nport}{path}")):
            rps, lat = wrk(url)
            res[name] = rps
            print(f"  {name:6} 200  {rps:>10,.0f}/s  mean latency {lat}")
        print(f"  epcal/nginx: {res['epcal'] / res['nginx']:.0%}")
        r3, h3 = rss(p.pid)
        print(f"\nRSS at the end: {r3:.1f} MB; peak over the run: {h3:.1f} MB")
        return 0
    finally:
        for x in procs:
            if x.poll() is None:
                x.terminate()
                x.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
