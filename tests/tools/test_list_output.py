#!/usr/bin/python3
"""`epcal list` beyond exact bytes:

- on a terminal (a pseudo-terminal here) rows on or after today are marked
  with '*' and a legend names the day; "today" is local (TZ) and comes from
  SOURCE_DATE_EPOCH; piped, the same table has no marks;
- --format json parses as JSON and --format csv as CSV, and both hold the
  same rows as the table, in the same order.

Usage: test_list_output.py EPCAL INPUT.csv
"""
import csv
import io
import json
import os
import pty
import select
import subprocess
import sys
import time

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


def run_pty(argv, env):
    """Runs argv with standard output on a pseudo-terminal; returns its exit
    code, what it wrote there and its standard error.

    The slave end stays open here until the program has exited, then a
    sentinel is written after its output: everything before the sentinel is
    the program's, and no read depends on how soon the kernel hands over the
    last bytes of a closed terminal."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdout=slave, stderr=subprocess.PIPE, env=env)
    sentinel = b"@@epcal-test-end@@"
    sent = False
    data = b""
    deadline = time.monotonic() + 60
    while sentinel not in data:
        if time.monotonic() > deadline:
            p.kill()
            raise SystemExit(f"FAIL: {argv} did not finish in 60 s")
        if not sent and p.poll() is not None:
            os.write(slave, sentinel + b"\n")
            sent = True
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            data += os.read(master, 4096)
    err = p.stderr.read().decode(errors="replace")
    p.wait(timeout=60)
    os.close(slave)
    os.close(master)
    out = data[:data.index(sentinel)]
    # The terminal turns "\n" into "\r\n".
    return p.returncode, out.replace(b"\r\n", b"\n").decode(), err


def marked_dates(table):
    rows = [l for l in table.splitlines()[1:] if l[:1] in ("*", " ")]
    return [l[2:12] for l in rows if l.startswith("* ")], \
           [l[2:12] for l in rows]


def main():
    epcal, csv_path = sys.argv[1:3]
    base = dict(os.environ, LC_ALL="C.UTF-8")

    # 2023-03-02 12:00 UTC: four rows are on or after that day.
    env = dict(base, SOURCE_DATE_EPOCH="1677758400", TZ="UTC")
    code, out, err = run_pty([epcal, "list", csv_path], env)
    check(code == 0, f"list on a terminal exited {code}: {err}")
    upcoming, all_dates = marked_dates(out)
    check(all_dates == sorted(all_dates) and len(all_dates) == 6,
          f"terminal table rows: {all_dates}")
    check(upcoming == [d for d in all_dates if d >= "2023-03-02"] and
          len(upcoming) == 4, f"marked rows: {upcoming}")
    check("(* upcoming: on or after 2023-03-02)" in out,
          f"no legend in:\n{out}")

    # The same instant is already 2023-03-03 at UTC+14: "today" is local.
    env14 = dict(env, TZ="XYZ-14")
    code14, out14, err14 = run_pty([epcal, "list", csv_path], env14)
    check(code14 == 0, f"list at UTC+14 exited {code14}: {err14}")
    up14, _ = marked_dates(out14)
    check(up14 == ["2023-03-09", "2023-03-16"], f"marked at UTC+14: {up14} in:\n{out14}")

    # Piped: no marks, no legend.
    piped = subprocess.run([epcal, "list", csv_path], env=env,
                           capture_output=True, check=True).stdout.decode()
    check("*" not in piped and "upcoming" not in piped,
          f"marks when piped:\n{piped}")
    table_rows = [l.split()[:2] for l in piped.splitlines()[1:]]

    # Scripts' formats parse, and agree with the table.
    js = json.loads(subprocess.run(
        [epcal, "list", "--format", "json", csv_path], env=env,
        capture_output=True, check=True).stdout)
    rows = list(csv.reader(io.StringIO(subprocess.run(
        [epcal, "list", "--format", "csv", csv_path], env=env,
        capture_output=True, check=True).stdout.decode(), newline="")))
    check(rows[0] == ["date", "code", "show", "season", "episode", "title"],
          f"csv header {rows[0]}")
    check(len(js) == len(rows) - 1 == len(table_rows),
          f"row counts: json {len(js)}, csv {len(rows) - 1}, "
          f"table {len(table_rows)}")
    for obj, row, trow in zip(js, rows[1:], table_rows):
        want = [obj["date"], obj["code"], obj["show"], str(obj["season"]),
                str(obj["episode"]), obj["title"] or ""]
        check(row == want, f"csv {row} != json {want}")
        check(trow == [obj["date"], obj["code"]], f"table {trow} != {want}")
        check(obj["code"] == "S%02dE%02d" % (obj["season"], obj["episode"]),
              f"code {obj['code']}")
    titles = [o["title"] for o in js]
    check("Holiday\nSpecial" in titles and 'Second "Launch", part 2' in titles
          and None in titles, f"titles did not survive: {titles}")

    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("ok: list output")


if __name__ == "__main__":
    main()
