#!/usr/bin/python3
"""Decodes epcal's timed events with independent code and checks the instants.

Usage: check_timezones.py EPCAL

Runs `epcal generate` over a table of timed releases and reads the feed back
two ways, neither of them epcal's or libical's:

1. python3-icalendar decodes DTSTART/DTEND with TZID (through pytz) and the
   instants are compared in UTC: a 21:00 America/New_York release is 02:00
   UTC the next day in winter and 01:00 UTC in summer.
2. The feed's own VTIMEZONE components are evaluated here (observances,
   RRULEs expanded with python3-dateutil), to prove that a client relying on
   them, not on its own zone database, gets the same instants. Times that
   a fall-back change repeats are checked this way only: RFC 5545 says they
   mean the first occurrence, while pytz picks the second.

It also checks the shape of the zones: one VTIMEZONE per TZID used, the
plain IANA name as TZID, no TZUNTIL, observances only for the years the feed
covers, and a spring-forward time that does not exist (02:30 on 2024-03-10
in New York) written as the instant RFC 5545 gives it: 02:30 EST = 07:30 UTC,
shown as 03:30 EDT.
"""
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile

from dateutil import rrule
from icalendar import Calendar

UTC = dt.timezone.utc

CSV = """show,season,episode,air_date,title,air_time,timezone,runtime
Night,1,1,2024-01-15,winter,21:00,America/New_York,30
Night,1,2,2024-07-15,summer,21:00,America/New_York,30
Night,1,3,2024-03-10,nonexistent,02:30,America/New_York,60
Night,1,4,2024-11-03,repeated,01:30,America/New_York,45
Night,1,5,2023-03-12,old,12:00,America/New_York,60
Night,1,6,2025-06-01,next year,21:00,America/New_York,60
London,1,1,2024-03-31,gap,01:30,Europe/London,60
Sydney,1,1,2024-04-07,repeated,02:30,Australia/Sydney,60
West,1,1,2024-01-15,default zone,21:00,,60
Zulu,1,1,2024-05-05,utc,12:00Z,,60
Day,1,1,2024-05-06,all day,,,
"""

# title -> (start in UTC, end in UTC, decoded by pytz too?)
def u(*a):
    return dt.datetime(*a, tzinfo=UTC)

EXPECT = {
    "winter": (u(2024, 1, 16, 2, 0), u(2024, 1, 16, 2, 30), True),
    "summer": (u(2024, 7, 16, 1, 0), u(2024, 7, 16, 1, 30), True),
    "nonexistent": (u(2024, 3, 10, 7, 30), u(2024, 3, 10, 8, 30), True),
    "repeated": None,  # per show, below
    "old": (u(2023, 3, 12, 16, 0), u(2023, 3, 12, 17, 0), True),
    "next year": (u(2025, 6, 2, 1, 0), u(2025, 6, 2, 2, 0), True),
    "gap": (u(2024, 3, 31, 1, 30), u(2024, 3, 31, 2, 30), True),
    "default zone": (u(2024, 1, 16, 5, 0), u(2024, 1, 16, 6, 0), True),
    "utc": (u(2024, 5, 5, 12, 0), u(2024, 5, 5, 13, 0), True),
}
REPEATED = {
    # first occurrence: EDT (UTC-4) and AEDT (UTC+11)
    "Night": (u(2024, 11, 3, 5, 30), u(2024, 11, 3, 6, 15)),
    "Sydney": (u(2024, 4, 6, 15, 30), u(2024, 4, 6, 16, 30)),
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


def main():
    binary = sys.argv[1]
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
    data = p.stdout
    check(b"freeassociation" not in data, "libical's TZID prefix leaked")
    check(b"TZUNTIL" not in data, "TZUNTIL is not RFC 5545")
    cal = Calendar.from_ical(data)

    zones = {}
    for comp in cal.walk("VTIMEZONE"):
        tzid = str(comp["TZID"])
        check(tzid not in zones, f"two VTIMEZONEs for {tzid}")
        zones[tzid] = Zone(comp)
    check(set(zones) == {"America/New_York", "Europe/London",
                         "Australia/Sydney", "America/Los_Angeles"},
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
        title = str(ev["SUMMARY"]).split(" \u2013 ", 1)[1]
        show = str(ev["SUMMARY"]).split(" ", 1)[0]
        if title == "all day":
            check(isinstance(ev.decoded("DTSTART"), dt.date) and
                  not isinstance(ev.decoded("DTSTART"), dt.datetime),
                  "the row without a time is not all-day")
            continue
        seen.add(title)
        if title == "repeated":
            want_start, want_end = REPEATED[show]
            by_pytz = False
        else:
            want_start, want_end, by_pytz = EXPECT[title]
        for prop, want in (("DTSTART", want_start), ("DTEND", want_end)):
            own, lib = instant(ev, prop, zones)
            check(own == want,
                  f"{show} {title}: {prop} by VTIMEZONE is {own}, want {want}")
            if by_pytz:
                check(lib == want, f"{show} {title}: {prop} by "
                      f"python3-icalendar is {lib}, want {want}")
    check(seen == set(EXPECT) , f"events seen: {sorted(seen)}")

    ny = [ev for ev in cal.walk("VEVENT") if "nonexistent" in str(ev["SUMMARY"])]
    check(len(ny) == 1 and ny[0]["DTSTART"].to_ical() == b"20240310T033000",
          "02:30 on 2024-03-10 in New York is not written as 03:30 EDT")
    lon = [ev for ev in cal.walk("VEVENT") if ev["SUMMARY"].startswith("London")]
    check(lon[0]["DTSTART"].to_ical() == b"20240331T023000",
          "01:30 on 2024-03-31 in London is not written as 02:30 BST")

    if failures:
        for f in failures:
            print("FAIL:", f)
        return 1
    print(f"ok: {len(seen)} kinds of timed event decoded in UTC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
