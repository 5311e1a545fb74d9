#!/usr/bin/python3
"""The progress line: shown at a terminal when a run lasts over a second,
never when standard error is not a terminal (cron), unless --progress always.

Usage: test_progress.py EPCAL. A terminal is a pseudo-terminal made by
util-linux `script`; the input stalls for 1.5 s in the middle (a shell
pipeline), so the run lasts long enough on any machine without timing it.
"""
import os
import shutil
import subprocess
import sys
import tempfile

EPCAL = os.path.abspath(sys.argv[1])
d = tempfile.mkdtemp(prefix="epcal-progress-")
failed = 0


def check(name, ok, detail=""):
    global failed
    print(("ok: " if ok else "FAIL: ") + name + ("" if ok else f": {detail}"))
    failed += not ok


try:
    csv = os.path.join(d, "in.csv")
    with open(csv, "w") as f:
        f.write("show,season,episode,air_date,title\n")
        for i in range(40000):
            f.write(f"Show,{i // 100 + 1},{i % 100 + 1},2023-01-01,T {i}\n")
    out = os.path.join(d, "out.ics")
    slow = (f"(head -n 5000 '{csv}'; sleep 1.5; tail -n +5001 '{csv}') | "
            f"'{EPCAL}' generate -o '{out}'")

    if shutil.which("script") is None:
        print("skipped: util-linux script is not installed")
    else:
        tty = subprocess.run(["script", "-qec", f"sh -c \"{slow}\"",
                              "/dev/null"], capture_output=True, timeout=120)
        text = tty.stdout.decode(errors="replace")
        check("terminal: progress shown", "rows/s" in text, repr(text[-300:]))
        check("terminal: line cleared at the end", text.endswith("\r\x1b[K"),
              repr(text[-40:]))
        check("terminal: feed written", tty.returncode == 0 and
              os.path.getsize(out) > 0, tty.returncode)

    piped = subprocess.run(["sh", "-c", slow], capture_output=True,
                           timeout=120)
    check("not a terminal: silent", piped.returncode == 0 and
          piped.stderr == b"" and piped.stdout == b"", piped.stderr[-300:])

    forced = subprocess.run(
        ["sh", "-c", slow.replace(" generate ", " generate --progress always ")],
        capture_output=True, timeout=120)
    check("--progress always: shown when piped", b"rows/s" in forced.stderr,
          forced.stderr[-300:])
finally:
    shutil.rmtree(d)

print(f"{5 - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
