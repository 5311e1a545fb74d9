#!/usr/bin/python3
"""Decodes epcal's timed events with independent code and checks the instants.

Usage: check_timezones.py EPCAL [VALIDATE_ICS]

Runs `epcal generate` over a table of timed releases and reads the feed back
several ways, none of them epcal's:

1. python3-icalendar decodes DTSTART/DTEND with TZID (through pytz) and the
   instants are compared in UTC: a 21:00 America/New_York release is 02:00
   UTC the next day in winter and 01:00 UTC in summer.
2. The feed's own VTIMEZONE components are evaluated here (observances,
   RRULEs expanded with python3-dateutil), to prove that a client relying on
   them, not on its own zone database, gets the same instants.
3. With VALIDATE_ICS (an external validator; empty or absent: skipped),
   ical.js decodes every event (`--json`) to the same instants, every parser
   it runs accepts the feed, and khal imports every event (`--with khal`,
   when khal is installed). libical's reading is checked by the unit test
   test_timing.

A wall-clock time that a fall-back change repeats (01:30 in New York on
2024-11-03, in London on 2024-10-27, 01:45 on Lord Howe Island on
2024-04-07, where the change is half an hour) means the first occurrence in
RFC 5545, but libical, ical.js and pytz read the second: epcal writes such a
start in UTC, DTEND too, so that every client agrees. So is a time that a
spring-forward change skips (02:30 on 2024-03-10 in New York: 02:30 EST =
07:30 UTC, the instant RFC 5545 gives it). Other times keep their TZID.

It also checks the shape of the zones: one VTIMEZONE per TZID used, the
plain IANA name as TZID, no TZUNTIL, and observances only for the years the
feed covers. Last, `epcal check` must accept the feed.
"""
import json
import shutil
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile

from dateutil import rrule
from icalendar import Calendar
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc

CSV = """show,season,episode,air_date,title,air_time,timezone,runtime
Night,1,1,2024-01-15,winter,21:00,America/New_York,30
Night,1,2,2024-07-15,summer,21:00,America/New_York,30
Night,1,3,2024-03-10,nonexistent,02:30,America/New_York,60
Night,1,4,2024-11-03,repeated,01:30,America/New_York,45
Night,1,5,2023-03-12,old,12:00,America/New_York,60
Night,1,6,2025-06-01,next year,21:00,America/New_York,60
London,1,1,2024-03-31,gap,01:30,Europe/London,60
London,1,2,2024-10-27,repeated,01:30,Europe/London,60
Sydney,1,1,2024-04-07,repeated,02:30,Australia/Sydney,60
LordHowe,1,1,2024-04-07,repeated,01:45,Australia/Lord_Howe,30
LordHowe,1,2,2024-10-06,half gap,02:15,Australia/Lord_Howe,30
LordHowe,1,3,2024-04-07,before,01:29,Australia/Lord_Howe,30
West,1,1,2024-01-15,default zone,21:00,,60
Zulu,1,1,2024-05-05,utc,12:00Z,,60
Day,1,1,2024-05-06,all day,,,
"""

# title -> (start in UTC, end in UTC, DTSTART with a TZID?, DTEND with one?)
def u(*a):
    return dt.datetime(*a, tzinfo=UTC)

EXPECT = {
    "winter": (u(2024, 1, 16, 2, 0), u(2024, 1, 16, 2, 30), True, True),
    "summer": (u(2024, 7, 16, 1, 0), u(2024, 7, 16, 1, 30), True, True),
    "nonexistent": (u(2024, 3, 10, 7, 30), u(2024, 3, 10, 8, 30), False, False),
    "repeated": None,  # per show, below
    "old": (u(2023, 3, 12, 16, 0), u(2023, 3, 12, 17, 0), True, True),
    "next year": (u(2025, 6, 2, 1, 0), u(2025, 6, 2, 2, 0), True, True),
    "gap": (u(2024, 3, 31, 1, 30), u(2024, 3, 31, 2, 30), False, False),
    # 02:15 is skipped on Lord Howe (+10:30 to +11 at 02:00)
    "half gap": (u(2024, 10, 5, 15, 45), u(2024, 10, 5, 16, 15), False, False),
    # a minute before the repeated half hour: it ends in it (the first
    # time), so its DTEND is in UTC
    "before": (u(2024, 4, 6, 14, 29), u(2024, 4, 6, 14, 59), True, False),
    "default zone": (u(2024, 1, 16, 5, 0), u(2024, 1, 16, 6, 0), True, True),
    "utc": (u(2024, 5, 5, 12, 0), u(2024, 5, 5, 13, 0), False, False),
}
REPEATED = {
    # first occurrence: EDT (UTC-4), BST (UTC+1), AEDT (UTC+11), LHDT
    # (UTC+11)
    "Night": (u(2024, 11, 3, 5, 30), u(2024, 11, 3, 6, 15)),
    "London": (u(2024, 10, 27, 0, 30), u(2024, 10, 27, 1, 30)),
    "Sydney": (u(2024, 4, 6, 15, 30), u(2024, 4, 6, 16, 30)),
    "LordHowe": (u(2024, 4, 6, 14, 45), u(2024, 4, 6, 15, 15)),
}

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


class Zone:
    """A VTIMEZONE evaluated from its observances."""

    def __init__(self, comp):
        self.onsets = []  # (UTC instant, offset after it)
        self.first_from = None
        for obs in comp.subcomponents:
            if obs.name not in ("STANDARD", "DAYLIGHT"):
                continue
            start = obs.decoded("DTSTART")
            check(start.tzinfo is None, "observance DTSTART is not local time")
            off_from = obs.decoded("TZOFFSETFROM")
            off_to = obs.decoded("TZOFFSETTO")
            local = [start]
            if "RRULE" in obs:
                text = obs["RRULE"].to_ical().decode()
                # UNTIL is UTC; the rule runs in local time before the change.
                def local_until(m):
                    t = dt.datetime.strptime(m.group(1), "%Y%m%dT%H%M%S")
                    return "UNTIL=" + (t + off_from).strftime("%Y%m%dT%H%M%S")
                text = re.sub(r"UNTIL=(\d{8}T\d{6})Z", local_until, text)
                local = list(rrule.rrulestr(text, dtstart=start))
            for t in local:
                self.onsets.append(((t - off_from).replace(tzinfo=UTC), off_to))
            if self.first_from is None or start < self.first_start:
                self.first_start, self.first_from = start, off_from
        self.onsets.sort()

    def offset_at(self, instant):
        off = self.first_from
        for when, to in self.onsets:
            if when <= instant:
                off = to
        return off

    def to_utc(self, local):
        offsets = {o for _, o in self.onsets}
        fits = [o for o in offsets
                if self.offset_at((local - o).replace(tzinfo=UTC)) == o]
        check(fits, f"{local} does not exist in the feed's VTIMEZONE")
        return (local - max(fits)).replace(tzinfo=UTC)  # first occurrence

    def years(self):
        return {w.year for w, _ in self.onsets}


def instant(ev, prop, zones):
    """(by the feed's VTIMEZONE, by python3-icalendar) for a DATE-TIME."""
    value = ev[prop]
    tzid = value.params.get("TZID")
    decoded = ev.decoded(prop)
    if tzid is None:
        check(decoded.tzinfo is not None, f"{prop} is floating")
        return decoded.astimezone(UTC), decoded.astimezone(UTC)
    local = dt.datetime.strptime(value.to_ical().decode(), "%Y%m%dT%H%M%S")
    check(tzid in zones, f"TZID {tzid} has no VTIMEZONE")
    own = zones[tzid].to_utc(local) if tzid in zones else None
    return own, decoded.astimezone(UTC)


def icaljs_instant(value, tzid):
    """A DATE-TIME as ical.js decoded it (validate-ics --json), in UTC."""
    if value.endswith("Z"):
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=UTC)
    local = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S")
    zone = ZoneInfo(tzid)
    a, b = local.replace(tzinfo=zone), local.replace(tzinfo=zone, fold=1)
    # A TZID time must exist exactly once: only then do clients agree.
    check(a.utcoffset() == b.utcoffset() and
          a.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local,
          f"{value} {tzid} is repeated or skipped but written with a TZID")
    return a.astimezone(UTC)


def want_for(summary):
    title = summary.split(" \u2013 ", 1)[1]
    show = summary.split(" ", 1)[0]
    if title == "repeated":
        return title, show, REPEATED[show] + (False, False)
    return title, show, EXPECT.get(title)


def check_validator(validator, path, binary):
    """ical.js's instants, every parser's verdict, khal's import."""
    p = subprocess.run([validator, "--json", path], capture_output=True,
                       text=True, check=False)
    check(p.returncode == 0, f"validate-ics --json failed: {p.stderr}")
    n = 0
    for line in p.stdout.splitlines():
        ev = json.loads(line)
        title, show, want = want_for(ev["summary"])
        if want is None:
            continue
        n += 1
        for key, w in (("dtstart", want[0]), ("dtend", want[1])):
            got = icaljs_instant(ev[key], ev[key + "_tzid"])
            check(got == w, f"{show} {title}: {key} by ical.js is {got}, "
                  f"want {w}")
    check(n == len(CSV.splitlines()) - 2, f"ical.js decoded {n} timed events")
    p = subprocess.run([validator, path], capture_output=True, text=True,
                       check=False)
    check(p.returncode == 0, f"validate-ics refuses the feed:\n{p.stdout}")
    if shutil.which("khal") is None:
        print("note: khal not installed; its import is not checked")
        return
    # khal refused a whole feed (0 of 21 events) whose DTEND came before its
    # DTSTART as it read them; its checker prints how many it imported.
    khal_check = os.path.join(os.path.dirname(os.path.realpath(validator)),
                              "khal_check.sh")
    p = subprocess.run(["bash", khal_check, path], capture_output=True,
                       text=True, check=False)
    events = len(CSV.splitlines()) - 1
    check(p.returncode == 0 and f"khal wrote {events} event file" in p.stdout,
          f"khal does not import all {events} events:\n{p.stdout}")


def main():
    binary = sys.argv[1]
    validator = sys.argv[2] if len(sys.argv) > 2 else ""
    with tempfile.TemporaryDirectory(prefix="epcal-tz-") as d:
        path = os.path.join(d, "in.csv")
        with open(path, "w") as f:
            f.write(CSV)
        p = subprocess.run(
            [binary, "generate", "--timezone", "America/Los_Angeles", path],
            capture_output=True, env=dict(os.environ, SOURCE_DATE_EPOCH="0"),
            check=False)
        if p.returncode != 0:
            print("FAIL: epcal exited", p.returncode, p.stderr.decode())
            return 1
        feed = os.path.join(d, "feed.ics")
        with open(feed, "wb") as f:
            f.write(p.stdout)
        c = subprocess.run([binary, "check", feed], capture_output=True,
                           text=True, check=False)
        check(c.returncode == 0 and c.stdout + c.stderr == "",
              f"epcal check refuses the feed: {c.stdout}{c.stderr}")
        if validator:
            check_validator(validator, feed, binary)
        else:
            print("note: no validator given; ical.js and khal not checked")
    data = p.stdout
    check(b"freeassociation" not in data, "libical's TZID prefix leaked")
    check(b"TZUNTIL" not in data, "TZUNTIL is not RFC 5545")
    cal = Calendar.from_ical(data)

    zones = {}
    for comp in cal.walk("VTIMEZONE"):
        tzid = str(comp["TZID"])
        check(tzid not in zones, f"two VTIMEZONEs for {tzid}")
        zones[tzid] = Zone(comp)
    # Sydney's and London's events are written in UTC: no zone for them.
    check(set(zones) == {"America/New_York",
                         "Australia/Lord_Howe", "America/Los_Angeles"},
          f"VTIMEZONEs for {sorted(zones)}")
    # Truncated to the years used (a day on either side may reach into the
    # neighbouring year): New York 2023-2025, the others 2024 only.
    years = {"America/New_York": {2022, 2023, 2024, 2025, 2026}}
    for tzid, z in zones.items():
        allowed = years.get(tzid, {2023, 2024, 2025})
        check(z.years() <= allowed,
              f"{tzid} has observances in {sorted(z.years() - allowed)}")
    check(any(o.year == 2025 for o, _ in zones["America/New_York"].onsets),
          "New York has no 2025 observance although an event is in 2025")

    seen = set()
    for ev in cal.walk("VEVENT"):
        title, show, want = want_for(str(ev["SUMMARY"]))
        if title == "all day":
            check(isinstance(ev.decoded("DTSTART"), dt.date) and
                  not isinstance(ev.decoded("DTSTART"), dt.datetime),
                  "the row without a time is not all-day")
            continue
        seen.add(title)
        want_start, want_end, zoned_start, zoned_end = want
        for prop, w, zoned in (("DTSTART", want_start, zoned_start),
                               ("DTEND", want_end, zoned_end)):
            check(("TZID" in ev[prop].params) == zoned,
                  f"{show} {title}: {prop} {'without' if zoned else 'with'}"
                  " TZID")
            own, lib = instant(ev, prop, zones)
            check(own == w,
                  f"{show} {title}: {prop} by VTIMEZONE is {own}, want {w}")
            check(lib == w, f"{show} {title}: {prop} by "
                  f"python3-icalendar is {lib}, want {w}")
    check(seen == set(EXPECT), f"events seen: {sorted(seen)}")

    if failures:
        for f in failures:
            print("FAIL:", f)
        return 1
    print(f"ok: {len(seen)} kinds of timed event decoded in UTC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
