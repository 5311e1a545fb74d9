#!/usr/bin/python3
"""The scale-out path: feeds generated into the static layout
(SHOW-SLUG/season-NN.ics), served by Debian's nginx on loopback with the
configuration snippet the project ships, must reach clients as
text/calendar with an ETag, and answer 304 to a client that has them.

Usage: test_nginx.py EPCAL_BINARY SNIPPET DATA_CSV
Exits 77 (skipped) when nginx is not installed.
"""
import gzip
import os
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





# The feeds the test publishes: (show, season, slug).
FEEDS = [("The Lighthouse Keepers", 1, "the-lighthouse-keepers"),
         ("The Lighthouse Keepers", 2, "the-lighthouse-keepers"),
         ("Orbit, Inc.", 2, "orbit-inc")]
SDE = "1700000000"


def main():
    binary, snippet, data = (os.path.abspath(a) for a in sys.argv[1:4])
    nginx = find_nginx()
    if nginx is None:
        print("SKIP: nginx is not installed (scripts/install-deps installs "
              "nginx-light)")
        return SKIP
    work = tempfile.mkdtemp(prefix="epcal-nginx-test-")
    proc = None
    checks = 0
    try:
        # nginx's workers may run as another user: let them read the feeds.
        os.chmod(work, 0o755)
        root = os.path.join(work, "feeds")
        env = dict(os.environ, SOURCE_DATE_EPOCH=SDE, TZ="UTC")
        for show, season, slug in FEEDS:
            out = os.path.join(root, slug, f"season-{season:02d}.ics")
            os.makedirs(os.path.dirname(out), exist_ok=True)
            # --refresh PT1H: what epcal serve writes for its default
            # (Cache-Control max-age 3600).
            subprocess.run([binary, "generate", "--show", show, "--season",
                            str(season), "--refresh", "PT1H", data, "-o",
                            out], check=True,
                           env=env, timeout=60)
        for d, _, files in os.walk(root):
            os.chmod(d, 0o755)
            for f in files:
                os.chmod(os.path.join(d, f), 0o644)

        port = free_port()
        conf = os.path.join(work, "nginx.conf")
        tmp = os.path.join(work, "tmp")
        os.makedirs(tmp)
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
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
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
                    err = proc.stderr.read().decode() if proc.poll() else ""
                    log = open(os.path.join(work, "error.log")).read() \
                        if os.path.exists(os.path.join(work, "error.log")) \
                        else ""
                    fail(f"nginx did not start: {err} {log}")
                time.sleep(0.1)

        from icalendar import Calendar
        for show, season, slug in FEEDS:
            path = f"/{slug}/season-{season:02d}.ics"
            with open(os.path.join(root, path[1:]), "rb") as f:
                want = f.read()
            st, h, body = get(port, path)
            if st != 200:
                fail(f"{path} -> {st}")
            if h.get("content-type") != "text/calendar; charset=utf-8":
                fail(f"{path}: Content-Type {h.get('content-type')!r}")
            etag = h.get("etag")
            if not etag or not etag.startswith('"'):
                fail(f"{path}: no strong ETag ({etag!r})")
            if "last-modified" not in h:
                fail(f"{path}: no Last-Modified")
            if h.get("cache-control") != "public, max-age=3600":
                fail(f"{path}: Cache-Control {h.get('cache-control')!r}")
            if body != want:
                fail(f"{path}: body differs from the file")
            cal = Calendar.from_ical(body)
            if len(list(cal.walk("VEVENT"))) != want.count(b"BEGIN:VEVENT"):
                fail(f"{path}: icalendar disagrees on the events")
            st, h2, body2 = get(port, path, {"If-None-Match": etag})
            if st != 304 or body2 != b"" or h2.get("etag") != etag:
                fail(f"{path}: If-None-Match -> {st}")
            st, _, _ = get(port, path,
                           {"If-Modified-Since": h["last-modified"]})
            if st != 304:
                fail(f"{path}: If-Modified-Since -> {st}")
            st, _, _ = get(port, path, {"If-None-Match": '"other"'})
            if st != 200:
                fail(f"{path}: a stale ETag -> {st}")
            st, hz, bz = get(port, path, {"Accept-Encoding": "gzip"})
            if hz.get("content-encoding") == "gzip":
                if gzip.decompress(bz) != want:
                    fail(f"{path}: gzip body differs")
                if "Accept-Encoding" not in hz.get("vary", ""):
                    fail(f"{path}: gzip without Vary")
            elif len(want) >= 256:
                fail(f"{path}: not gzipped for a client that accepts it")
            st, hh, bh = get(port, path, method="HEAD")
            if st != 200 or bh != b"" or hh.get("etag") != etag:
                fail(f"{path}: HEAD")
            checks += 1
        st, _, _ = get(port, "/no-such-show/season-01.ics")
        if st != 404:
            fail(f"missing feed -> {st}")

        # The embedded server gives the same bytes at the same path, so
        # subscribers can move between the two without a new URL.
        s = Server(binary, [data], env={"SOURCE_DATE_EPOCH": SDE})
        try:
            for show, season, slug in FEEDS:
                path = f"/{slug}/season-{season:02d}.ics"
                st, h, body = s.get(path)
                with open(os.path.join(root, path[1:]), "rb") as f:
                    if st != 200 or body != f.read():
                        fail(f"epcal serve {path} differs from the file")
        finally:
            if s.stop() != 0:
                fail("epcal serve did not exit cleanly")
        print(f"ok: nginx served {checks} feeds with the shipped snippet")
        print(f"{checks + 2} passed, 0 failed")
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
