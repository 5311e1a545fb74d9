#!/usr/bin/python3
"""Round-trips `, ; \\` and line breaks through every metadata field.

Usage: check_escaping.py EPCAL

Every text that epcal writes from an option or a column (calendar name and
description, X-WR-CALNAME, X-WR-CALDESC, categories, templated summary and
description, alarm description, URL and SOURCE) holds a comma, a semicolon,
a backslash and a line break; python3-icalendar, an independent parser, must
decode each to the original (one-line values: the line break as a space; a
URL: percent-encoded). The X- properties matter most: libical 3.0 does not
escape ',' and ';' there.
"""
import os
import subprocess
import sys
import tempfile
from urllib.parse import unquote

from icalendar import Calendar
from icalendar.parser import unescape_char

NASTY = "a, b; c \\ d\ne"
ONE_LINE = NASTY.replace("\n", " ")
CSV = ('show,season,episode,air_date,title,network,air_time,timezone\n'
       '"Show, with; \\ specials",1,2,2024-01-15,"Title, with; \\ and\n'
       'break","Net, work; \\",21:00,Europe/Paris\n')

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


def split_list(raw):
    """Splits a raw multi-valued TEXT (CATEGORIES) at unescaped commas."""
    values, cur, esc = [], "", False
    for ch in raw:
        if esc:
            cur += "\\" + ch
            esc = False
        elif ch == "\\":
            esc = True
        elif ch == ",":
            values.append(cur)
            cur = ""
        else:
            cur += ch
    values.append(cur)
    return [unescape_char(v).replace("\\n", "\n").replace("\\N", "\n")
            for v in values]


def raw_value(data, name):
    """The unfolded raw value of the first content line named `name`."""
    text = data.decode().replace("\r\n ", "")
    for line in text.split("\r\n"):
        head, _, value = line.partition(":")
        if head.split(";")[0] == name:
            return value
    return None


def main():
    binary = sys.argv[1]
    url = "https://example.org/f.ics?q=" + NASTY
    with tempfile.TemporaryDirectory(prefix="epcal-esc-") as d:
        path = os.path.join(d, "in.csv")
        with open(path, "w") as f:
            f.write(CSV)
        p = subprocess.run(
            [binary, "generate", "--calendar-name", "Name " + NASTY,
             "--calendar-description", "Desc " + NASTY,
             "--category", "Cat " + NASTY, "--category", "Plain",
             "--summary", "{show} | {title} | " + NASTY,
             "--description", "{title}\n{network}\n" + NASTY,
             "--alarm", "-PT15M", "--url", url, "--refresh", "P1D",
             "--color", "teal", path],
            capture_output=True, env=dict(os.environ, SOURCE_DATE_EPOCH="0"),
            check=False)
    if p.returncode != 0:
        print("FAIL: epcal exited", p.returncode, p.stderr.decode())
        return 1
    data = p.stdout
    cal = Calendar.from_ical(data)
    check(str(cal["NAME"]) == "Name " + ONE_LINE, f"NAME {cal['NAME']!r}")
    check(str(cal["X-WR-CALNAME"]) == "Name " + ONE_LINE,
          f"X-WR-CALNAME {cal['X-WR-CALNAME']!r}")
    check(str(cal["DESCRIPTION"]) == "Desc " + NASTY,
          f"DESCRIPTION {cal['DESCRIPTION']!r}")
    check(str(cal["X-WR-CALDESC"]) == "Desc " + NASTY,
          f"X-WR-CALDESC {cal['X-WR-CALDESC']!r}")
    for prop in ("URL", "SOURCE"):
        check(unquote(str(cal[prop])) == url, f"{prop} {cal[prop]!r}")
        check(raw_value(data, prop) is not None and
              not any(c in raw_value(data, prop) for c in " \\\n"),
              f"{prop} is not a clean URI")
    check(str(cal["REFRESH-INTERVAL"].to_ical().decode()) == "P1D",
          "REFRESH-INTERVAL")
    check(str(cal["X-PUBLISHED-TTL"]) == "P1D", "X-PUBLISHED-TTL")
    check(str(cal["COLOR"]) == "teal", "COLOR")
    check(str(cal["X-APPLE-CALENDAR-COLOR"]) == "#008080",
          "X-APPLE-CALENDAR-COLOR")

    events = cal.walk("VEVENT")
    check(len(events) == 1, f"{len(events)} events")
    ev = events[0]
    show = "Show, with; \\ specials"
    title = "Title, with; \\ and\nbreak"
    want_summary = f"{show} | {title} | {NASTY}".replace("\n", " ")
    check(str(ev["SUMMARY"]) == want_summary, f"SUMMARY {ev['SUMMARY']!r}")
    check(str(ev["DESCRIPTION"]) == f"{title}\nNet, work; \\\n{NASTY}",
          f"event DESCRIPTION {ev['DESCRIPTION']!r}")
    cats = split_list(raw_value(data, "CATEGORIES"))
    check(cats == ["Net, work; \\", "Cat " + NASTY, "Plain"],
          f"CATEGORIES {cats!r}")
    alarms = ev.walk("VALARM")
    check(len(alarms) == 1 and str(alarms[0]["DESCRIPTION"]) == want_summary,
          "VALARM DESCRIPTION")
    check(alarms[0]["ACTION"] == "DISPLAY", "VALARM ACTION")
    check(alarms[0]["TRIGGER"].to_ical() == b"-PT15M", "VALARM TRIGGER")
    for line in data.split(b"\r\n"):
        check(len(line) <= 75, f"line over 75 octets: {line[:40]!r}")

    if failures:
        for f in failures:
            print("FAIL:", f)
        return 1
    print("ok: every metadata field round-trips")
    return 0


if __name__ == "__main__":
    sys.exit(main())
