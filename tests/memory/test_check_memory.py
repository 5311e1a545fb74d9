#!/usr/bin/python3
"""`epcal check` streams: a generated feed of about 200 MB is checked with a
peak resident set under 32 MB, read from a file (two passes: VTIMEZONEs,
then everything) and from a pipe; a feed whose one content line is 40 MB
long is judged in seconds (a generous bound: the machine is shared), and
the line is reported, not parsed.

  test_check_memory.py EPCAL_BINARY GEN_BINARY

The feed comes from `epcal generate` over rows made by the benchmark's
generator (bench/gen.c), so no big file is kept in the tree. The peak is
the child's ru_maxrss (wait4). Sanitizer builds inflate memory many times
over: with EPCAL_SANITIZED=1 in the environment the runs are checked but
the bound is not.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

BOUND_KB = 32 * 1024
TARGET_BYTES = 200 * 1000 * 1000
SECONDS_FOR_LONG_LINE = 30


def run(argv, stdin=None, timeout=600):
    """Runs argv, returns (exit code, stdout, stderr, peak RSS in KB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(argv, stdin=stdin, stdout=out, stderr=err)
        start = time.monotonic()
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid != 0:
                break
            if time.monotonic() - start > timeout:
                p.kill()
                os.wait4(p.pid, 0)
                sys.exit(f"FAIL: {argv[:2]} took more than {timeout} s")
            time.sleep(0.05)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read(), err.read(), usage.ru_maxrss


def main():
    epcal, gen = sys.argv[1:3]
    sanitized = os.environ.get("EPCAL_SANITIZED") == "1"
    tmp = tempfile.mkdtemp(prefix="epcal-check-mem-")
    failed = False
    try:
        rows = os.path.join(tmp, "rows.csv")
        feed = os.path.join(tmp, "feed.ics")
        # About 550 bytes of feed a row.
        n_rows = TARGET_BYTES // 540
        subprocess.run([gen, str(n_rows), rows], check=True)
        env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
        subprocess.run([epcal, "generate", rows, "-o", feed], check=True,
                       env=env)
        os.remove(rows)
        size = os.path.getsize(feed)
        assert size >= TARGET_BYTES, size
        for how in ("file", "pipe"):
            if how == "file":
                code, out, err, kb = run([epcal, "check", feed])
            else:
                with open(feed, "rb") as f:
                    cat = subprocess.Popen(["cat"], stdin=f,
                                           stdout=subprocess.PIPE)
                    code, out, err, kb = run([epcal, "check", "-"],
                                             stdin=cat.stdout)
                    cat.stdout.close()
                    cat.wait()
            print(f"check from a {how}: {size / 1e6:.0f} MB, exit {code}, "
                  f"peak {kb} KB")
            if code != 0 or out or err:
                print(f"FAIL: a generated feed is not clean:\n"
                      f"{out[:2000].decode(errors='replace')}"
                      f"{err[:2000].decode(errors='replace')}")
                failed = True
            if kb > BOUND_KB and not sanitized:
                print(f"FAIL: peak {kb} KB > {BOUND_KB} KB")
                failed = True
        os.remove(feed)

        # One 40 MB content line, unfolded, in an otherwise good feed.
        long_feed = os.path.join(tmp, "long.ics")
        with open(long_feed, "wb") as f:
            f.write(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
                    b"BEGIN:VEVENT\r\nUID:long@test\r\n"
                    b"DTSTAMP:20231114T221320Z\r\n"
                    b"DTSTART;VALUE=DATE:20220303\r\nDESCRIPTION:")
            chunk = b"abcdefghij" * 100000
            for _ in range(40):
                f.write(chunk)
            f.write(b"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        start = time.monotonic()
        code, out, err, kb = run([epcal, "check", long_feed],
                                 timeout=SECONDS_FOR_LONG_LINE)
        took = time.monotonic() - start
        print(f"a 40 MB line: {took:.2f} s, exit {code}, peak {kb} KB")
        want = [b"long.ics:8: format: line is 40000012 octets long (limit 75) "
                b"[line-length]",
                b"long.ics:8: error: content line of 40000012 octets "
                b"(unfolded): over the 1048576 this check reads, so it was "
                b"not checked [content-line-too-long]"]
        got = [line.replace(long_feed.encode(), b"long.ics")
               for line in out.splitlines()]
        if code != 1 or got != want or err:
            print("FAIL: the long line's verdict:\n" +
                  out.decode(errors="replace") + err.decode(errors="replace"))
            failed = True
        if kb > BOUND_KB and not sanitized:
            print(f"FAIL: peak {kb} KB > {BOUND_KB} KB for a 40 MB line")
            failed = True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failed:
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
