#!/usr/bin/python3
"""Past one machine: two `epcal serve` instances, each fed its own copy of
one CSV (copied at different times: different mtimes, inodes and paths),
behind Debian's nginx with the reverse-proxy snippet the project ships
(contrib/nginx/epcal-serve-proxy.conf). Every URL must give the same bytes
and ETag whichever instance answers, directly and through nginx, and an
instance must answer 304 to the ETag the other one sent (nginx revalidates
its cache with it).

Usage: test_proxy.py EPCAL_BINARY SNIPPET
Exits 77 (skipped) when nginx is not installed.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serverlib import Server, find_nginx, free_port, get  # noqa: E402,E501

SKIP = 77


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)





def write_data(path):
    """A few shows, two with one slug, dated around a fixed day."""
    rows = []
    for n, show in enumerate(["Orbit", "Café", "Cafe", "The Long Road",
                              "Zebra Crossing"]):
        for season in (1, 2):
            for ep in range(1, 4):
                rows.append(f"{show},{season},{ep},Episode {ep},"
                            f"2026-0{season + n % 3}-{10 + ep:02d}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("show,season,episode,title,air_date\n" + "\n".join(rows) +
                "\n")


# Headers that must agree between instances (Date differs by nature).
SAME = ("etag", "content-type", "content-length", "cache-control",
        "content-disposition", "content-encoding", "vary", "last-modified",
        "transfer-encoding")


def main():
    binary, snippet = (os.path.abspath(a) for a in sys.argv[1:3])
    nginx = find_nginx()
    if nginx is None:
        print("SKIP: nginx is not installed (scripts/install-deps installs "
              "nginx-light)")
        return SKIP
    work = tempfile.mkdtemp(prefix="epcal-proxy-test-")
    os.chmod(work, 0o755)
    servers = []
    proc = None
    try:
        # One CSV, copied twice: the copies differ in path, inode and mtime.
        a_dir, b_dir = os.path.join(work, "a"), os.path.join(work, "b")
        os.makedirs(a_dir)
        os.makedirs(b_dir)
        write_data(os.path.join(a_dir, "shows.csv"))
        os.utime(os.path.join(a_dir, "shows.csv"), (1600000000, 1600000000))
        shutil.copyfile(os.path.join(a_dir, "shows.csv"),
                        os.path.join(b_dir, "episodes.csv"))
        os.utime(os.path.join(b_dir, "episodes.csv"),
                 (1700000000, 1700000000))
        # max-age=1: nginx revalidates within the test, with either one.
        for d, name in ((a_dir, "shows.csv"), (b_dir, "episodes.csv")):
            # --max-feed-events 20: /calendar.ics (30 events) is streamed.
            # Behind a proxy every connection comes from its address.
            servers.append(Server(binary, ["--refresh", "1",
                                           "--per-address-limit", "0",
                                           "--max-feed-events", "20", name],
                                  cwd=d))
        a, b = servers

        st, _, page = a.get("/")
        if st != 200:
            fail(f"/ -> {st}")
        stems = sorted(set(re.findall(rb'href="/([a-z0-9-]+)\.ics"', page)))
        stems = [s.decode() for s in stems if s != b"calendar"]
        if len(stems) != 5:
            fail(f"page lists {stems}")
        urls = ["/", "/?q=caf", "/calendar.ics",
                "/calendar.ics?past_days=30&future_days=60",
                f"/calendar.ics?shows={stems[0]},{stems[1]}",
                f"/calendar.ics?shows={stems[1]},{stems[0]}"]
        for stem in stems:
            urls += [f"/{stem}.ics", f"/{stem}/season-1.ics",
                     f"/{stem}/season-02.ics?premieres_only=true"]

        _, h, _ = get(a.port, "/calendar.ics")
        if h.get("transfer-encoding") != "chunked":
            fail(f"/calendar.ics is not streamed: {h}")
        # Directly: the same answer from both, and each one's ETag is
        # current for the other.
        checks = 0
        for url in urls:
            for ae in ("identity", "gzip"):
                hdrs = {"Accept-Encoding": ae, "Host": "feeds.example"}
                sa, ha, ba = get(a.port, url, hdrs)
                sb, hb, bb = get(b.port, url, hdrs)
                if sa != 200 or sb != 200:
                    fail(f"{url} ({ae}): {sa} {sb}")
                if ba != bb:
                    fail(f"{url} ({ae}): the instances send other bytes")
                for k in SAME:
                    if ha.get(k) != hb.get(k):
                        fail(f"{url} ({ae}): {k} {ha.get(k)!r} != "
                             f"{hb.get(k)!r}")
                for port, etag in ((b.port, ha["etag"]), (a.port, hb["etag"])):
                    st, _, body = get(port, url, dict(
                        hdrs, **{"If-None-Match": etag}))
                    if st != 304 or body:
                        fail(f"{url} ({ae}): the other's ETag -> {st}")
                checks += 1
        # The two orders of one set of shows are one feed.
        _, h1, b1 = get(a.port, urls[4])
        _, h2, b2 = get(b.port, urls[5])
        if b1 != b2 or h1["etag"] != h2["etag"]:
            fail("shows=A,B and shows=B,A differ")

        # Through nginx, with the shipped snippet.
        port = free_port()
        tmp = os.path.join(work, "tmp")
        cache = os.path.join(work, "cache")
        os.makedirs(tmp)
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {work}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream epcal_serve {{
        server 127.0.0.1:{a.port};
        server 127.0.0.1:{b.port};
        keepalive 4;
    }}
    proxy_cache_path {cache} levels=1:2 keys_zone=epcal_serve:1m
                     max_size=10m inactive=1h;
    server {{
        listen 127.0.0.1:{port};
        add_header X-Cache $upstream_cache_status always;
        add_header X-Upstream $upstream_addr always;
        include {snippet};
    }}
}}
""")
        proc = subprocess.Popen([nginx, "-e", os.path.join(work, "error.log"),
                                 "-p", work, "-c", conf],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    log = open(os.path.join(work, "error.log")).read() \
                        if os.path.exists(os.path.join(work, "error.log")) \
                        else ""
                    fail(f"nginx did not start: {log}")
                time.sleep(0.1)

        want = {}
        for url in urls:
            for ae in ("identity", "gzip"):
                _, h, body = get(a.port, url, {"Accept-Encoding": ae,
                                               "Host": f"127.0.0.1:{port}"})
                want[(url, ae)] = (h["etag"], body)
        marks = [len(x.log_text()) for x in servers]
        upstreams, statuses = set(), []
        for round_ in range(4):
            for (url, ae), (etag, body) in want.items():
                st, h, got = get(port, url, {"Accept-Encoding": ae})
                if st != 200 or got != body or h.get("etag") != etag:
                    fail(f"nginx {url} ({ae}), round {round_}: {st}, ETag "
                         f"{h.get('etag')} (want {etag}), "
                         f"{'same' if got == body else 'other'} bytes")
                if h.get("x-upstream"):
                    upstreams.add(h["x-upstream"])
                statuses.append(h.get("x-cache"))
                st, h, got = get(port, url, {"Accept-Encoding": ae,
                                             "If-None-Match": etag})
                if st != 304 or got:
                    fail(f"nginx {url} ({ae}): If-None-Match -> {st}")
            time.sleep(1.1)  # past max-age: the next round revalidates
        if len(upstreams) != 2:
            fail(f"nginx used {upstreams}, not both instances")
        # Expired entries were revalidated (in the background) at whichever
        # instance came next, and both instances answered such a
        # revalidation with 304: to an ETag that either may have sent.
        # (Every answer a client saw was checked above; the direct checks
        # show each instance taking the other's ETags.)
        time.sleep(0.5)
        answers = []
        for x, mark in zip(servers, marks):
            answers.append(re.findall(r'" (\d{3}) \d+ "',
                                      x.log_text()[mark:]))
        if "EXPIRED" in statuses or not all("304" in a for a in answers):
            fail(f"cache statuses {sorted(set(map(str, statuses)))}; "
                 f"instances answered {answers}")
        print(f"ok: two instances agree on {checks} answers; nginx served "
              f"{len(statuses)} with one ETag each, revalidating across "
              "instances")
        print("2 passed, 0 failed")
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for s in servers:
            if s.proc.poll() is None:
                s.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
