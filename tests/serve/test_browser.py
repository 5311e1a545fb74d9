#!/usr/bin/python3
"""A browser loads the page of `epcal serve` and finds a working subscribe
link for every season: Debian's Chromium, headless, dumps the DOM it built;
each link found there is then fetched as http:// and must be that season's
calendar.

Usage: test_browser.py EPCAL_BINARY DATA_CSV ...
Exits 77 (skipped) when Chromium is not installed.
"""
import csv
import html.parser
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serverlib import Server  # noqa: E402

SKIP = 77


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


class Links(html.parser.HTMLParser):
    """Collects <a class="subscribe" href=...> from the DOM."""

    def __init__(self):
        super().__init__()
        self.subscribe = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("class") == "subscribe":
            self.subscribe.append(a.get("href", ""))


def expected_seasons(paths):
    """(show, season) pairs in the data, read independently of epcal."""
    seen = set()
    for p in paths:
        with open(p, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                seen.add((row["show"], int(row["season"])))
    return seen


def main():
    binary = os.path.abspath(sys.argv[1])
    data = [os.path.abspath(p) for p in sys.argv[2:]]
    chromium = find_chromium()
    if chromium is None:
        print("SKIP: Chromium is not installed (scripts/install-deps "
              "installs the chromium package)")
        return SKIP
    profile = tempfile.mkdtemp(prefix="epcal-browser-test-")
    s = Server(binary, data)
    try:
        url = f"http://127.0.0.1:{s.port}/"
        # As root Chromium needs --no-sandbox; the rest keeps it off any
        # network and away from the user's profile.
        p = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--disable-background-networking",
             "--disable-component-update", "--no-first-run",
             "--disable-sync", "--disable-extensions",
             f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True, timeout=120)
        if p.returncode != 0 or b"</html>" not in p.stdout:
            fail(f"chromium exit {p.returncode}: {p.stderr[-2000:]!r}")
        parser = Links()
        parser.feed(p.stdout.decode("utf-8"))
        # Without --base-url the links are relative to the page (nothing on
        # it comes from the Host header): what the browser resolves.
        prefix = "/"
        season_links = [h for h in parser.subscribe
                        if h.startswith(prefix) and "/season-" in h]
        want = expected_seasons(data)
        if len(season_links) != len(want):
            fail(f"{len(season_links)} season links, {len(want)} seasons "
                 f"in the data: {season_links}")
        from icalendar import Calendar
        found = set()
        for link in season_links:
            path = "/" + link[len(prefix):]
            st, h, body = s.get(path)
            if st != 200 or not h["content-type"].startswith("text/calendar"):
                fail(f"{link}: {st} {h.get('content-type')}")
            name = str(Calendar.from_ical(body).get("X-WR-CALNAME"))
            show, _, season = name.rpartition(", ")
            number = 0 if season == "Specials" else int(season.split()[-1])
            found.add((show, number))
        if found != want:
            fail(f"links lead to {sorted(found)}, expected {sorted(want)}")
        all_links = [h for h in parser.subscribe if h == prefix +
                     "calendar.ics"]
        if len(all_links) != 1:
            fail("no subscribe link for the whole calendar")
        print(f"ok: Chromium found {len(season_links)} working season "
              f"links")
        print("1 passed, 0 failed")
        return 0
    finally:
        if s.stop() != 0:
            fail("epcal serve did not exit cleanly")
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
