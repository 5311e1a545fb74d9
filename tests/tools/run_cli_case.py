#!/usr/bin/python3
"""Runs one command-line case against the epcal binary and compares what it
printed, byte for byte.

A case is a directory:
  args          the command line after `epcal`, one argument per line; paths
                are relative to the case directory (the working directory)
  expected.out  the exact standard output (default: empty)
  expected.err  the exact standard error (default: empty)
  exit          the expected exit code (default 0)
  stdin         optional: bytes to feed on standard input
  other files   inputs named by args

Standard output is a pipe, so nothing is marked as on a terminal.
SOURCE_DATE_EPOCH and TZ are fixed so that "now" and "today" are stable.
Set EPCAL_UPDATE_EXPECTED=1 to rewrite expected.out and expected.err from
what the binary printed (then review the diff).
"""
import os
import subprocess
import sys


def read(path, default=None):
    if not os.path.exists(path):
        return default
    with open(path, "rb") as f:
        return f.read()


def main():
    binary, case = sys.argv[1:3]
    args = read(os.path.join(case, "args"), b"").decode().splitlines()
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000", TZ="UTC",
               LC_ALL="C.UTF-8")
    p = subprocess.run([binary] + args,
                       input=read(os.path.join(case, "stdin"), b""),
                       capture_output=True, env=env, cwd=case, timeout=120)
    want_code = int(read(os.path.join(case, "exit"), b"0").strip())
    out_path = os.path.join(case, "expected.out")
    err_path = os.path.join(case, "expected.err")
    if os.environ.get("EPCAL_UPDATE_EXPECTED"):
        for path, data in ((out_path, p.stdout), (err_path, p.stderr)):
            if data:
                with open(path, "wb") as f:
                    f.write(data)
            elif os.path.exists(path):
                os.remove(path)
    ok = True
    if p.returncode != want_code:
        print(f"FAIL: exit {p.returncode}, expected {want_code}")
        ok = False
    for label, path, got in (("stdout", out_path, p.stdout),
                             ("stderr", err_path, p.stderr)):
        want = read(path, b"")
        if got != want:
            print(f"FAIL: {label} differs\n--- expected\n{want.decode(errors='replace')}"
                  f"+++ got\n{got.decode(errors='replace')}")
            ok = False
    if not ok:
        sys.exit(1)
    print(f"ok: {os.path.basename(case)}")


if __name__ == "__main__":
    main()
