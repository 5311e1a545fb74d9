#!/usr/bin/python3
"""`epcal serve` against hostile clients and careless operators: cache
busting, a FIFO or a device at an input path, --state under a flood of
query strings, slowloris, request smuggling with two Content-Lengths, a
spoofed Host, tokens in logs, and a reload that would empty the catalogue.

Loopback only; every wait is bounded. Timing bounds are generous (the
machine is shared): each is far above what the server needs and far below
what the behaviour it guards against costs.

Usage: test_hostile.py EPCAL_BINARY
"""
import datetime
import os
import random
import shutil
import signal
import socket
import statistics
import stat
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serverlib import Server  # noqa: E402

BINARY = None
TODAY = datetime.datetime.now(datetime.timezone.utc).date()
PASSED = []


def day(offset):
    return (TODAY + datetime.timedelta(days=offset)).isoformat()


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def write_csv(path, rows):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write("show,season,episode,title,air_date\n")
        for r in rows:
            f.write(",".join(str(x) for x in r) + "\n")
    os.replace(path + ".tmp", path)


def small_rows():
    return [("Alpha", 1, n, f"Episode {n}", day(n - 10)) for n in range(1, 13)]


class Dir:
    """A temporary directory with a CSV, removed on exit."""

    def __init__(self, rows):
        self.path = tempfile.mkdtemp(prefix="epcal-hostile-")
        self.csv = os.path.join(self.path, "a.csv")
        write_csv(self.csv, rows)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def serve(d, *args, env=None):
    return Server(BINARY, list(args) + ["a.csv"], cwd=d.path, env=env)


def finish(s):
    """SIGTERM: the process must be gone within ten seconds, with exit
    status 0 and no sanitizer report (a ThreadSanitizer build exits 66
    after one)."""
    t = time.time()
    code = s.stop(timeout=15)
    took = time.time() - t
    if took > 1:
        print(f"   SIGTERM to exit: {took:.1f} s")
    check(took < 10, f"SIGTERM took {took:.1f} s")
    check("Sanitizer" not in s.log_text(),
          "sanitizer report:\n" + s.log_text()[-6000:])
    check(code == 0, f"exit status {code} after SIGTERM")
    return code


def timed_get(s, path, source="127.0.0.1", timeout=10):
    """(status, seconds) of one GET on a fresh connection from `source`."""
    t = time.time()
    raw = b""
    try:
        c = socket.create_connection((s.host, s.port), timeout=timeout,
                                     source_address=(source, 0))
    except OSError:
        return 0, time.time() - t
    try:
        c.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close"
                  f"\r\n\r\n".encode())
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            raw += chunk
    except OSError:  # a timeout, or a reset
        pass
    finally:
        c.close()
    status = int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/") else 0
    return status, time.time() - t


def test(fn):
    t = time.time()
    fn()
    PASSED.append(fn.__name__)
    print(f"ok: {fn.__name__} ({time.time() - t:.1f} s)")


# ------------------------------------------------------------ the tests

def t_cache_busting_keeps_cached_feeds_fast():
    """Two clients sending cache-busting query strings (each a new render
    of a large catalogue) must not slow a cached feed down: no request
    waits for another request's render."""
    rows = [(f"Show {i // 400:03d}", 1 + (i // 20) % 20, 1 + i % 20,
             f"A title long enough to cost some parsing {i}",
             day(i % 700 - 350)) for i in range(60000)]
    rows += [("Tiny", 1, n, f"Tiny {n}", day(n)) for n in range(1, 6)]
    with Dir(rows) as d:
        s = serve(d)
        try:
            cached = "/tiny/season-1.ics"
            check(s.get(cached)[0] == 200, "cached feed")
            idle = [timed_get(s, cached)[1] for _ in range(20)]
            # How long one render of the whole catalogue takes here.
            _, render = timed_get(s, "/tiny.ics?alarm=1", timeout=60)
            stop = threading.Event()
            busted = [0, 0]

            def bust(k):
                rnd = random.Random(k)
                while not stop.is_set():
                    st, _ = timed_get(s, "/tiny.ics?alarm=%d" %
                                      rnd.randrange(2, 40000), timeout=60)
                    if st == 200:
                        busted[k] += 1
            busters = [threading.Thread(target=bust, args=(k,))
                       for k in range(2)]
            for b in busters:
                b.start()
            time.sleep(max(0.5, render))
            busy = []
            for _ in range(30):
                st, took = timed_get(s, cached)
                check(st == 200, f"cached feed -> {st} under load")
                busy.append(took)
                time.sleep(0.02)
            stop.set()
            for b in busters:
                b.join(timeout=120)
            med_idle = statistics.median(idle) * 1000
            med_busy = statistics.median(busy) * 1000
            print(f"   one render {render * 1000:.0f} ms; cached feed "
                  f"median {med_idle:.1f} ms idle, {med_busy:.1f} ms while "
                  f"{sum(busted)} cache-busting renders ran")
            check(sum(busted) >= 2, "the busting clients got nothing done")
            check(med_busy < 50,
                  f"cached feed median {med_busy:.1f} ms under cache busting "
                  f"(idle {med_idle:.1f} ms, one render {render * 1000:.0f} "
                  f"ms)")
            # A client that asks for the whole catalogue and never reads
            # it: SIGTERM still ends the server within ten seconds.
            stuck = socket.socket()
            stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            stuck.connect((s.host, s.port))
            stuck.sendall(b"GET /calendar.ics HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(max(1.0, 3 * render))
        finally:
            finish(s)


def t_reload_does_not_hold_up_requests():
    """The request that notices a changed input reloads it; meanwhile the
    others are answered from the data they have, at once."""
    rows = [(f"Show {i // 400:03d}", 1 + (i // 20) % 20, 1 + i % 20,
             f"A title long enough to cost some parsing {i}",
             day(i % 700 - 350)) for i in range(150000)]
    with Dir(rows) as d:
        s = serve(d)
        try:
            cached = "/show-000/season-1.ics"
            check(s.get(cached)[0] == 200, "cached feed")
            rows.append(("Show 000", 1, 99, "Added", day(1)))
            write_csv(d.csv, rows)
            time.sleep(1.2)
            done = {}

            def reloader():
                t = time.time()
                done["status"] = timed_get(s, "/show-001.ics", timeout=60)[0]
                done["start"], done["end"] = t, time.time()
            a = threading.Thread(target=reloader)
            a.start()
            time.sleep(0.05)
            during = []
            while a.is_alive() and len(during) < 20:
                t = time.time()
                st, took = timed_get(s, cached)
                check(st == 200, f"cached feed during a reload -> {st}")
                during.append((t, took))
                time.sleep(0.01)
            a.join(timeout=60)
            check(done.get("status") == 200, "the reloading request failed")
            inside = [took for t, took in during if t < done["end"]]
            reload_ms = (done["end"] - done["start"]) * 1000
            print(f"   reload + render {reload_ms:.0f} ms; "
                  f"{len(inside)} requests meanwhile, slowest "
                  f"{max(inside, default=0) * 1000:.1f} ms")
            check(s.wait_log(r"reloaded: .* 150001 events"), "no reload")
            if inside:
                check(statistics.median(inside) < 0.05,
                      f"requests during a reload took "
                      f"{statistics.median(inside) * 1000:.0f} ms")
            else:
                print("   (the reload was too quick to overlap: not timed)")
            check(b"Added" in s.get(cached)[2], "new data not served after")
        finally:
            finish(s)


def t_fifo_and_device_at_input_path():
    """A FIFO or a device at the input path is refused and logged; the
    server keeps answering from the last good data, and SIGTERM still
    ends it within ten seconds."""
    with Dir(small_rows()) as d:
        s = serve(d)
        try:
            st, _, good = s.get("/alpha.ics")
            check(st == 200, "first request")
            os.unlink(d.csv)
            os.mkfifo(d.csv)
            time.sleep(1.2)
            for _ in range(3):
                st, took = timed_get(s, "/alpha.ics", timeout=5)
                check(st == 200 and took < 2,
                      f"with a FIFO at the input: {st} in {took:.1f} s")
            check(s.wait_log(r"a\.csv: a FIFO, not a regular file: refused; "
                             r"still serving the previous data"),
                  "FIFO not logged")
            check(s.get("/alpha.ics")[2] == good, "last good data changed")
            # A device (/dev/zero's numbers, made here, not the real one)
            # behind a symlink.
            os.unlink(d.csv)
            dev = os.path.join(d.path, "zero")
            try:
                os.mknod(dev, 0o600 | stat.S_IFCHR, os.makedev(1, 5))
            except PermissionError:
                dev = None
            if dev is not None:
                os.symlink(dev, d.csv)
                time.sleep(1.2)
                st, took = timed_get(s, "/alpha.ics", timeout=5)
                check(st == 200 and took < 2,
                      f"with a device at the input: {st} in {took:.1f} s")
                check(s.wait_log(r"a\.csv: a character device, not a regular "
                                 r"file: refused"), "device not logged")
            else:
                print("   (not root: no device node made; FIFO only)")
            # Past the size cap (a sparse file: no disk used): refused
            # from its size, never read.
            os.unlink(d.csv)
            with open(d.csv, "wb") as f:
                f.truncate(3 << 30)
            time.sleep(1.2)
            st, took = timed_get(s, "/alpha.ics", timeout=5)
            check(st == 200 and took < 2,
                  f"with a 3 GiB input: {st} in {took:.1f} s")
            check(s.wait_log(r"a\.csv: too large to serve: 3221225472 bytes "
                             r"or more, and all inputs together are limited "
                             r"to 1073741824 bytes; still serving"),
                  "size cap not logged")
        finally:
            finish(s)
        # At start-up too: refused at once (exit 3), never waited on.
        import subprocess
        os.unlink(d.csv)
        os.mkfifo(d.csv)
        p = subprocess.run([BINARY, "serve", "--listen", "127.0.0.1:0",
                            "a.csv"], cwd=d.path, capture_output=True,
                           timeout=20, stdin=subprocess.DEVNULL)
        check(p.returncode == 3 and b"a FIFO, not a regular file" in p.stderr,
              f"FIFO at start-up: exit {p.returncode}, {p.stderr!r}")


def t_state_bounded():
    """--state keeps the plain feeds only: a thousand distinct query
    strings add nothing to it."""
    with Dir(small_rows()) as d:
        state = os.path.join(d.path, "state")
        os.mkdir(state)
        s = serve(d, "--state", state)
        try:
            check(s.get("/alpha.ics")[0] == 200, "plain feed")
            c = None
            import http.client
            c = http.client.HTTPConnection(s.host, s.port, timeout=10)
            for n in range(1000):
                st, _, _ = s.request("GET", f"/alpha.ics?alarm={n}", conn=c)
                check(st == 200, f"alarm={n} -> {st}")
            c.close()
            # index.json (the shows' paths) is one file whatever is asked.
            check(os.path.exists(os.path.join(state, "index.json")),
                  "no index.json of the shows' paths in --state")
            files = [f for f in os.listdir(state) if f != "index.json"]
            size = sum(os.path.getsize(os.path.join(state, f))
                       for f in files)
            print(f"   state after 1,000 distinct queries: {len(files)} "
                  f"files, {size} bytes")
            check(len(files) <= 1 and size < 20000,
                  f"--state grew to {len(files)} files, {size} bytes")
        finally:
            finish(s)


def t_slowloris():
    """300 connections that trickle their headers in: a normal client (at
    another address) still gets its feed at once, and a connection that
    keeps sending a header line now and then is closed at the absolute
    deadline, not kept alive by its trickle."""
    with Dir(small_rows()) as d:
        s = serve(d)
        slow = []
        try:
            for _ in range(300):
                try:
                    c = socket.create_connection((s.host, s.port), timeout=2)
                    c.sendall(b"GET /alpha.ics HTTP/1.1\r\nHost: x\r\n")
                    slow.append(c)
                except OSError:
                    pass  # turned away: that is the point
            time.sleep(0.5)
            for c in slow:
                try:
                    c.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    pass
            worst = 0
            for _ in range(5):
                st, took = timed_get(s, "/alpha.ics", source="127.0.0.2",
                                     timeout=5)
                check(st == 200, f"normal client -> {st}")
                worst = max(worst, took)
            print(f"   normal client beside 300 slow connections: slowest "
                  f"of 5 in {worst * 1000:.0f} ms")
            check(worst < 1, f"normal client waited {worst:.1f} s")
        finally:
            for c in slow:
                c.close()
            finish(s)
    with Dir(small_rows()) as d:
        s = serve(d, "--header-timeout", "2")
        try:
            c = socket.create_connection((s.host, s.port))
            c.settimeout(0.4)
            c.sendall(b"GET /alpha.ics HTTP/1.1\r\nHost: x\r\n")
            t = time.time()
            closed = False
            while time.time() - t < 8 and not closed:
                try:
                    c.sendall(b"X-Trickle: 1\r\n")  # never idle for long
                    closed = c.recv(100) == b""
                except socket.timeout:
                    pass
                except OSError:
                    closed = True
            took = time.time() - t
            c.close()
            check(closed and took < 6,
                  f"trickling connection still open after {took:.1f} s")
            check(s.wait_log(r"closed 1 connection that sent no complete "
                             r"request within 2 s"), "deadline not logged")
            # A prompt client on a fresh connection is unaffected.
            check(s.get("/alpha.ics")[0] == 200, "normal client after")
        finally:
            finish(s)


def t_conflicting_content_length():
    """Two Content-Length headers that disagree: 400, connection closed
    (the bytes after the head are not read as another request)."""
    with Dir(small_rows()) as d:
        s = serve(d)
        try:
            c = socket.create_connection((s.host, s.port), timeout=5)
            smuggled = b"GET /alpha.ics?alarm=5 HTTP/1.1\r\nHost: x\r\n\r\n"
            c.sendall(b"GET /alpha.ics HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: 0\r\nContent-Length: " +
                      str(len(smuggled)).encode() + b"\r\n\r\n" + smuggled)
            raw = b""
            try:
                while True:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    raw += chunk
            except (socket.timeout, ConnectionResetError):
                pass
            c.close()
            check(raw.startswith(b"HTTP/1.1 400"),
                  f"conflicting Content-Length -> {raw[:40]!r}")
            check(raw.count(b"HTTP/1.1 ") == 1, "a smuggled request answered")
            # The same length twice is only redundant.
            st, _, _ = s.raw_request("GET", "/alpha.ics",
                                     {"Content-Length": "0"})
            check(st == 200, f"one Content-Length: 0 -> {st}")
        finally:
            finish(s)


def t_host_header_does_not_make_links():
    with Dir(small_rows()) as d:
        s = serve(d)
        try:
            st, _, body = s.raw_request("GET", "/", {})
            st, _, body = s.get("/", {"Host": "evil.example:666"})
            check(st == 200 and b"evil.example" not in body,
                  "the page's links come from the Host header")
            check(b'href="/alpha.ics"' in body, "relative links")
        finally:
            finish(s)
        s = serve(d, "--base-url", "https://cal.example.org/feeds/")
        try:
            st, _, body = s.get("/", {"Host": "evil.example"})
            check(st == 200 and b"evil.example" not in body,
                  "Host used despite --base-url")
            check(b'href="webcal://cal.example.org/feeds/alpha.ics"' in body,
                  "no webcal link from --base-url")
            check(b'href="https://cal.example.org/feeds/alpha.ics"' in body,
                  "no plain link from --base-url")
            # A season's link on the page is its subscribe link.
            check(b'href="webcal://cal.example.org/feeds/alpha/season-1.ics"'
                  in body, "no season link from --base-url")
        finally:
            finish(s)


def t_token_never_logged():
    token = "Sup3r-s3cret+T0ken/="
    from urllib.parse import quote
    q = quote(token, safe="")
    with Dir(small_rows()) as d:
        s = serve(d, env={"EPCAL_TOKEN": token})
        try:
            st, _, _ = s.get("/alpha.ics?token=" + q,
                             {"Referer": f"http://h/?specials=0&token={q}",
                              "User-Agent": "Cal/1"})
            check(st == 200, f"with token -> {st}")
            st, _, _ = s.get("/alpha.ics",
                             {"Authorization": "Bearer " + token,
                              "Referer": f"http://h/{q}/{token}?x=1"})
            check(st == 200, f"Bearer -> {st}")
            st, _, _ = s.get(f"/{q}.ics",
                             {"Authorization": "Bearer " + token})
            check(st == 404, f"token in the path -> {st}")
            check(s.wait_log(r'\.ics HTTP/1\.1" 404 '), "no request logged")
            time.sleep(0.3)
        finally:
            finish(s)
        log = s.log_text()
        for form in (token, q, q.lower(), "s3cret"):
            check(form not in log, f"the token ({form}) was logged:\n{log}")


def t_reload_never_empties_the_catalogue():
    """A reload that would drop most events (or all) is refused and
    logged; the last good data stays. --allow-shrink accepts it."""
    rows = [("Alpha", 1 + n // 10, 1 + n % 10, f"E{n}", day(n))
            for n in range(40)]
    with Dir(rows) as d:
        s = serve(d)
        try:
            _, _, good = s.get("/calendar.ics")
            check(good.count(b"BEGIN:VEVENT") == 40, "40 events")
            for what, content in (
                    ("truncated", "show,season,episode,title,air_date\n"
                     + "".join(",".join(str(x) for x in r) + "\n"
                               for r in rows[:7])),
                    ("header only", "show,season,episode,title,air_date\n"),
                    ("empty", "")):
                with open(d.csv + ".tmp", "w") as f:
                    f.write(content)
                os.replace(d.csv + ".tmp", d.csv)
                time.sleep(1.2)
                st, _, body = s.get("/calendar.ics")
                check(st == 200 and body == good,
                      f"a {what} CSV replaced the catalogue")
            check(s.wait_log(r"reload refused: it would remove 33 of 40 "
                             r"events.*still serving the previous data"),
                  "refused reload not logged")
            check("reloaded:" not in s.log_text(), "a shrinking reload")
            # Removing a few is an ordinary edit.
            write_csv(d.csv, rows[:35])
            time.sleep(1.2)
            check(s.get("/calendar.ics")[2].count(b"BEGIN:VEVENT") == 35,
                  "a small removal was refused")
        finally:
            finish(s)
        write_csv(d.csv, rows)
        s = serve(d, "--allow-shrink")
        try:
            s.get("/calendar.ics")
            write_csv(d.csv, rows[:3])
            time.sleep(1.2)
            check(s.get("/calendar.ics")[2].count(b"BEGIN:VEVENT") == 3,
                  "--allow-shrink did not accept the reload")
        finally:
            finish(s)


def main():
    global BINARY
    BINARY = os.path.abspath(sys.argv[1])
    only = sys.argv[2:]
    try:
        for fn in (t_conflicting_content_length,
                   t_host_header_does_not_make_links,
                   t_token_never_logged,
                   t_reload_never_empties_the_catalogue,
                   t_state_bounded,
                   t_fifo_and_device_at_input_path,
                   t_slowloris,
                   t_cache_busting_keeps_cached_feeds_fast,
                   t_reload_does_not_hold_up_requests):
            if not only or fn.__name__ in only:
                test(fn)
    except AssertionError as e:
        print(f"FAIL: {e}")
        print(f"{len(PASSED)} passed, 1 failed")
        return 1
    print(f"{len(PASSED)} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
