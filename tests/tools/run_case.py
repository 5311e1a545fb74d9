#!/usr/bin/python3
"""Runs one declarative test case against the epcal binary.

A case is a directory:
  args          the command line after `epcal`, one argument per line;
                the word INPUT stands for the case's input.csv, OUTPUT for a
                file in a scratch directory
  args.json     instead of args: a JSON list of the arguments (for
                arguments that hold line breaks)
  input.csv     the input (optional if args does not name INPUT)
  expected.ics  golden: the exact bytes of the feed (CRLF included)
  expected.err  the exact standard error (the scratch directory reads
                SCRATCH); golden: optional, default empty
  exit          the expected exit code (default: golden 0, error 1)
  stdin         optional: bytes to feed on standard input

golden: epcal must exit as expected, write exactly expected.ics (to OUTPUT if named,
else standard output), print nothing on standard error unless
expected.err exists, and the feed must parse with python3-icalendar (an
independent parser) into as many VEVENTs as it has BEGIN:VEVENT lines.

error: epcal must exit with the expected code and print exactly
expected.err; when OUTPUT is named, a pre-existing OUTPUT file must be left
byte for byte as it was and no temporary file may be left beside it.
SOURCE_DATE_EPOCH is fixed so that DTSTAMP is stable.
"""
import os
import shutil
import subprocess
import sys
import tempfile


def read(path, default=None):
    if not os.path.exists(path):
        return default
    with open(path, "rb") as f:
        return f.read()


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def show_diff(label, want, got):
    print(f"--- expected {label}\n{want!r}\n+++ got\n{got!r}")


def check_with_icalendar(data):
    from icalendar import Calendar
    cal = Calendar.from_ical(data)
    events = [c for c in cal.walk("VEVENT")]
    n = data.count(b"\r\nBEGIN:VEVENT\r\n")
    if len(events) != n:
        fail(f"python3-icalendar decoded {len(events)} events, file has {n}")
    for ev in events:
        for prop in ("UID", "DTSTAMP", "DTSTART"):
            if prop not in ev:
                fail(f"python3-icalendar: event without {prop}")
        ev.decoded("DTSTART")


def main():
    kind, binary, case = sys.argv[1:4]
    args_json = read(os.path.join(case, "args.json"))
    if args_json is not None:
        import json
        args = json.loads(args_json.decode())
    else:
        args = read(os.path.join(case, "args"), b"").decode().splitlines()
    scratch = tempfile.mkdtemp(prefix="epcal-case-")
    try:
        out_path = os.path.join(scratch, "feed.ics")
        sentinel = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//old//EN\r\n"
                    b"END:VCALENDAR\r\n")  # a previous feed that must survive
        if kind == "error" and "OUTPUT" in args:
            with open(out_path, "wb") as f:
                f.write(sentinel)
        argv = [binary]
        for a in args:
            if a == "INPUT":
                a = "input.csv"  # relative: messages must not name this machine
            elif a == "OUTPUT":
                a = out_path
            argv.append(a)
        env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000", TZ="UTC")
        stdin = read(os.path.join(case, "stdin"), b"")
        p = subprocess.run(argv, input=stdin, capture_output=True, env=env,
                           cwd=case, timeout=120)
        p.stderr = p.stderr.replace(scratch.encode(), b"SCRATCH")
        want_err = read(os.path.join(case, "expected.err"))
        if kind == "golden":
            want_code = int((read(os.path.join(case, "exit"), b"0")).strip())
            if p.returncode != want_code:
                fail(f"exit {p.returncode}, expected {want_code}; stderr: "
                     f"{p.stderr.decode()}")
            got = read(out_path) if "OUTPUT" in args else p.stdout
            want = read(os.path.join(case, "expected.ics"))
            if os.environ.get("EPCAL_UPDATE_GOLDEN"):
                with open(os.path.join(case, "expected.ics"), "wb") as f:
                    f.write(got)
                want = got
            if got != want:
                show_diff("feed", want, got)
                fail("feed differs from expected.ics")
            if (want_err or b"") != p.stderr:
                show_diff("stderr", want_err or b"", p.stderr)
                fail("unexpected standard error")
            check_with_icalendar(got)
        else:
            want_code = int((read(os.path.join(case, "exit"), b"1")).strip())
            if p.returncode != want_code:
                fail(f"exit {p.returncode}, expected {want_code}; stderr: "
                     f"{p.stderr.decode()}")
            if want_err is not None and p.stderr != want_err:
                show_diff("stderr", want_err, p.stderr)
                fail("standard error differs from expected.err")
            if "OUTPUT" in args:
                if read(out_path) != sentinel:
                    fail("the previous output file was changed")
                # No lock file either: the lock is on the feed itself.
                left = sorted(os.listdir(scratch))
                if left != ["feed.ics"]:
                    fail(f"files left beside the output: {left}")
            elif want_code != 0 and p.stdout:
                fail(f"a failed run wrote to standard output: {p.stdout[:200]!r}")
        print(f"ok: {kind} {os.path.basename(case)}")
    finally:
        shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
