#!/usr/bin/python3
"""Integration test of `epcal serve`: every route, header, 304, HEAD, gzip,
reload after an edit, an invalid edit, the token, 404/400/405, the access
log, limits and shutdown, with an independent parser for the feeds.

Usage: test_http.py EPCAL_BINARY
"""
import datetime
import email.utils
import gzip
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serverlib import Server  # noqa: E402

BINARY = None
TODAY = datetime.datetime.now(datetime.timezone.utc).date()
FEED_TYPE = "text/calendar; charset=utf-8"
T0 = (int(time.time()) // 60) * 60 - 3600  # mtime of the inputs


def day(offset):
    return (TODAY + datetime.timedelta(days=offset)).isoformat()


def http_date(t):
    return email.utils.formatdate(t, usegmt=True)


A_ROWS = [
    ("Alpha Show", 0, 1, "Holiday Special", day(-30)),
    ("Alpha Show", 1, 1, "Pilot", day(-20)),
    ("Alpha Show", 1, 2, "Second", day(-13)),
    ("Alpha Show", 1, 3, "Third", day(-6)),
    ("Alpha Show", 2, 1, "Return", day(1)),
    ("Alpha Show", 2, 2, "Middle", day(8)),
    ("Alpha Show", 2, 3, "Finale", day(15)),
    ("Alpha Show", 3, 1, "Someday", "TBA"),
]
B_ROWS = [
    ("Beta", 1, 1, "Start", day(-2)),
    ("Beta", 1, 2, "Next", day(5)),
    ("Calendar", 1, 1, "Named like the route", day(3)),
    ("Foo Bar", 1, 1, "Space", day(4)),
    ("Foo-Bar", 1, 1, "Hyphen", day(6)),
]


def write_csv(path, rows, mtime):
    with open(path, "w", encoding="utf-8") as f:
        f.write("show,season,episode,title,air_date\n")
        for r in rows:
            f.write(",".join(str(x) for x in r) + "\n")
    os.utime(path, (mtime, mtime))


PASSED = []


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def test(fn):
    """Runs one test, printing its name; any exception fails the run."""
    fn()
    PASSED.append(fn.__name__)
    print(f"ok: {fn.__name__}")
    return fn


def events(body):
    return body.count(b"\r\nBEGIN:VEVENT\r\n")


def parse_with_icalendar(body, want_events, want_name=None):
    """An independent parser must read the feed back, event by event."""
    from icalendar import Calendar
    cal = Calendar.from_ical(body)
    evs = list(cal.walk("VEVENT"))
    check(len(evs) == want_events,
          f"icalendar read {len(evs)} events, expected {want_events}")
    for ev in evs:
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            check(prop in ev, f"event without {prop}")
        check(isinstance(ev.decoded("DTSTART"), datetime.date),
              "DTSTART is not a date")
    if want_name is not None:
        check(str(cal.get("X-WR-CALNAME")) == want_name,
              f"calendar name {cal.get('X-WR-CALNAME')!r}, want {want_name!r}")
    return cal


class Ctx:
    pass


ctx = Ctx()


def setup_data():
    ctx.dir = tempfile.mkdtemp(prefix="epcal-serve-test-")
    write_csv(os.path.join(ctx.dir, "a.csv"), A_ROWS, T0)
    write_csv(os.path.join(ctx.dir, "b.csv"), B_ROWS, T0 - 100)


def split_paths(csvs, cwd):
    """{show: stem} as `epcal generate --split show` names the shows of
    `csvs`: serve must use the very same paths."""
    out = tempfile.mkdtemp(prefix="epcal-serve-split-")
    try:
        subprocess.run([BINARY, "generate", "--split", "show",
                        "--output-dir", out] + list(csvs), cwd=cwd,
                       check=True, timeout=30, capture_output=True)
        import json
        with open(os.path.join(out, "index.json"), encoding="utf-8") as f:
            feeds = json.load(f)["feeds"]
        return {x["show"]: x["path"][:-4] for x in feeds}
    finally:
        shutil.rmtree(out)


def stamps_of(body):
    return set(re.findall(rb"\r\nDTSTAMP:(\d{8}T\d{6}Z)\r\n", body))


def content_stamp_ok(body):
    """DTSTAMP comes from the feed's rows: one value, in 2000-2019, and not
    the inputs' mtime."""
    st = stamps_of(body)
    return (len(st) == 1 and b"2000" <= next(iter(st))[:4] <= b"2019"
            and time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(T0)).encode()
            not in st)


def start(*extra, env=None):
    return Server(BINARY, list(extra) + ["a.csv", "b.csv"], env=env,
                  cwd=ctx.dir)


# --------------------------------------------------------------- the page

def t_page():
    st, h, body = ctx.s.get("/")
    check(st == 200, f"/ -> {st}")
    check(h["content-type"] == "text/html; charset=utf-8", h["content-type"])
    html = body.decode()
    for name in ("Alpha Show", "Beta", "Calendar", "Foo Bar", "Foo-Bar"):
        check(f"<td>{name}</td>" in html, f"page lacks {name}")
    stems = ctx.stems
    for path in ("/calendar.ics", "/alpha-show.ics", "/alpha-show/season-0.ics",
                 "/alpha-show/season-1.ics", "/alpha-show/season-2.ics",
                 "/alpha-show/season-3.ics", "/beta/season-1.ics",
                 f"/{stems['Calendar']}.ics", f"/{stems['Foo Bar']}.ics",
                 f"/{stems['Foo-Bar']}.ics"):
        # Without --base-url every link is relative: nothing on the page
        # comes from the client's Host header.
        check(f'class="subscribe" href="{path}"' in html,
              f"no subscribe link {path}")
        if "/season-" not in path:
            check(f'class="plain" href="{path}"' in html,
                  f"no plain link {path}")
    check('download="alpha-show.ics"' in html, "no download link")
    check("dates to be announced" in html, "TBA season not shown as such")
    # Counts and date ranges: Alpha has 7 dated episodes.
    check(re.search(r"<td>Alpha Show</td><td class=\"num\">7</td><td>"
                    + day(-30) + " &ndash; " + day(15), html),
          "Alpha's count or date range is wrong")
    # Coming up: the next episodes from today on, soonest first.
    upcoming = html.split("<h2>Coming up</h2>", 1)[1]
    order = [upcoming.index(t) for t in ("Return", "Named like the route",
                                         "Space", "Next", "Hyphen")]
    check(order == sorted(order), "upcoming episodes out of order")
    check("Third" not in upcoming, "a past episode listed as upcoming")
    # Filters on the page carry into its links.
    st, _, body = ctx.s.get("/?future_days=30&specials=false")
    check(st == 200 and b"/beta.ics?future_days=30&amp;specials=0" in body,
          "page links do not keep the filters")


# ------------------------------------------------------------------ feeds

def t_calendar_headers():
    st, h, body = ctx.s.get("/calendar.ics")
    check(st == 200, f"status {st}")
    check(h["content-type"] == FEED_TYPE, h["content-type"])
    check(h["content-disposition"] == 'inline; filename="calendar.ics"',
          h["content-disposition"])
    check(re.fullmatch(r'"[0-9a-f]{16}-[0-9a-f]+"', h["etag"]),
          f"not a strong ETag: {h['etag']}")
    # The ETag validates; no time would agree between instances.
    check("last-modified" not in h, h.get("last-modified"))
    check(h["cache-control"] == "public, max-age=600", h["cache-control"])
    check(h["vary"] == "Accept-Encoding", h.get("vary"))
    check("content-encoding" not in h, "gzip without Accept-Encoding")
    check(int(h["content-length"]) == len(body), "Content-Length")
    check(events(body) == 12, f"{events(body)} events, expected 12")
    parse_with_icalendar(body, 12, "Episodes")
    # DTSTAMP comes from the feed's rows, not from the inputs' mtime.
    check(content_stamp_ok(body), f"DTSTAMP {stamps_of(body)}")
    ctx.etag_all = h["etag"]


def t_show_and_season_routes():
    st, h, body = ctx.s.get("/alpha-show.ics")
    check(st == 200 and events(body) == 7, f"show: {st} {events(body)}")
    check(h["content-disposition"] == 'inline; filename="alpha-show.ics"', "")
    parse_with_icalendar(body, 7, "Alpha Show")
    st, h, body = ctx.s.get("/alpha-show/season-2.ics")
    check(st == 200 and events(body) == 3, f"season: {st} {events(body)}")
    check(h["content-disposition"]
          == 'inline; filename="alpha-show-season-2.ics"', "")
    parse_with_icalendar(body, 3, "Alpha Show, Season 2")
    check(b"S02E03" in body and b"S01E01" not in body, "wrong season")
    # The static layout's zero-padded name is the same feed.
    st2, h2, body2 = ctx.s.get("/alpha-show/season-02.ics")
    check(st2 == 200 and h2["etag"] == h["etag"] and body2 == body,
          "season-02 differs from season-2")
    st, h, body = ctx.s.get("/alpha-show/season-0.ics")
    parse_with_icalendar(body, 1, "Alpha Show, Specials")
    # A season with no date yet is an empty, valid calendar.
    st, h, body = ctx.s.get("/alpha-show/season-3.ics")
    check(st == 200 and events(body) == 0, "TBA season")
    parse_with_icalendar(body, 0)
    # Slugs never collide with each other nor with /calendar.ics, and
    # are the paths --split gives the same shows.
    check(ctx.stems["Foo Bar"] == "foo-bar" and
          re.fullmatch(r"foo-bar-[0-9a-f]{8}", ctx.stems["Foo-Bar"]) and
          re.fullmatch(r"calendar-[0-9a-f]{8}", ctx.stems["Calendar"]),
          f"split's stems: {ctx.stems}")
    for name in ("Calendar", "Foo Bar", "Foo-Bar"):
        path = f"/{ctx.stems[name]}.ics"
        st, h, body = ctx.s.get(path)
        check(st == 200, f"{path} -> {st}")
        parse_with_icalendar(body, 1, name)


def t_not_found():
    for path in ("/nope.ics", "/alpha-show/season-9.ics", "/alpha-show",
                 "/alpha-show/", "/alpha-show/season-x.ics",
                 "/alpha-show/season-2.ics/x", "/calendar", "/index.html",
                 "/ALPHA-SHOW.ics", "/../a.csv", "/a.csv", "/favicon.ico"):
        st, h, body = ctx.s.get(path)
        check(st == 404, f"{path} -> {st}")
        check(h["content-type"].startswith("text/plain"), "404 type")


def t_method_not_allowed():
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        st, h, body = ctx.s.request(method, "/calendar.ics")
        check(st == 405, f"{method} -> {st}")
        check(h.get("allow") == "GET, HEAD", f"Allow: {h.get('allow')}")


def t_head():
    st, h, body = ctx.s.get("/beta.ics")
    sth, hh, bodyh = ctx.s.request("HEAD", "/beta.ics")
    check(sth == 200 and bodyh == b"", "HEAD has a body")
    for k in ("etag", "last-modified", "content-type", "content-length",
              "cache-control", "content-disposition", "vary"):
        check(hh.get(k) == h.get(k), f"HEAD {k}: {hh.get(k)} != {h.get(k)}")
    check(int(hh["content-length"]) == len(body), "HEAD Content-Length")
    st, hh, bodyh = ctx.s.request("HEAD", "/")
    check(st == 200 and bodyh == b"", "HEAD /")


def t_conditional():
    st, h, body = ctx.s.get("/alpha-show.ics")
    etag = h["etag"]
    check("last-modified" not in h, "Last-Modified with content stamps")
    cases = [
        ({"If-None-Match": etag}, 304),
        ({"If-None-Match": f'"other", {etag}'}, 304),
        ({"If-None-Match": "W/" + etag}, 304),
        ({"If-None-Match": "*"}, 304),
        ({"If-None-Match": '"other"'}, 200),
        # No Last-Modified: a date validates nothing.
        ({"If-Modified-Since": http_date(T0 + 86400)}, 200),
        ({"If-Modified-Since": "not a date"}, 200),
        # If-None-Match decides when both are sent (RFC 9110 13.2.2).
        ({"If-None-Match": '"other"',
          "If-Modified-Since": http_date(T0 + 86400)}, 200),
        ({"If-None-Match": etag, "If-Modified-Since": http_date(0)}, 304),
    ]
    for hdrs, want in cases:
        st, h2, b2 = ctx.s.get("/alpha-show.ics", hdrs)
        check(st == want, f"{hdrs} -> {st}, expected {want}")
        if want == 304:
            check(b2 == b"", "304 with a body")
            check(h2["etag"] == etag, "304 without the ETag")
            check(h2["cache-control"] == "public, max-age=600", "304 CC")
            check(h2["vary"] == "Accept-Encoding", "304 Vary")
        else:
            check(b2 == body, "200 body differs")
    st, h2, b2 = ctx.s.request("HEAD", "/alpha-show.ics",
                               {"If-None-Match": etag})
    check(st == 304, "HEAD conditional")


def t_gzip():
    st, h, plain = ctx.s.get("/calendar.ics")
    st, hz, body = ctx.s.get("/calendar.ics", {"Accept-Encoding": "gzip"})
    check(st == 200 and hz.get("content-encoding") == "gzip", "no gzip")
    check(hz["vary"] == "Accept-Encoding", "Vary")
    check(gzip.decompress(body) == plain, "gzip body differs")
    check(len(body) < len(plain), "gzip did not shrink the feed")
    check(hz["etag"] != h["etag"], "gzip variant shares the identity ETag")
    check(hz["content-type"] == FEED_TYPE, "gzip Content-Type")
    for ae in ("gzip, deflate, br", "br;q=1.0, gzip;q=0.5", "*", "x-gzip"):
        st, h2, _ = ctx.s.get("/calendar.ics", {"Accept-Encoding": ae})
        check(h2.get("content-encoding") == "gzip", f"{ae}: no gzip")
    for ae in ("identity", "gzip;q=0", "br", "*;q=0", "gzip;q=0.000"):
        st, h2, b2 = ctx.s.get("/calendar.ics", {"Accept-Encoding": ae})
        check("content-encoding" not in h2 and b2 == plain, f"{ae}: gzip")
    # Either variant's ETag validates.
    for tag in (h["etag"], hz["etag"]):
        st, h2, b2 = ctx.s.get("/calendar.ics", {"Accept-Encoding": "gzip",
                                                 "If-None-Match": tag})
        check(st == 304 and h2["etag"] == hz["etag"], f"gzip 304 for {tag}")


def t_not_modified_length():
    # RFC 9110 8.6: a 304 carries no Content-Length, or the one the 200
    # would have: of the variant this request selects, whichever ETag
    # validated it. Read raw, as a client sees the headers and the bytes.
    def lengths(pairs):
        return [v for k, v in pairs if k.lower() == "content-length"]
    variants = {}
    for ae in ("identity", "gzip"):
        st, pairs, body = ctx.s.raw_request("GET", "/calendar.ics",
                                            {"Accept-Encoding": ae})
        check(st == 200 and lengths(pairs) == [str(len(body))],
              f"{ae}: {st}, Content-Length {lengths(pairs)}, {len(body)} "
              "bytes")
        variants[ae] = (dict((k.lower(), v) for k, v in pairs)["etag"],
                        len(body))
    check(variants["identity"][1] != variants["gzip"][1],
          "the variants have one length: the test cannot tell them apart")
    for ae, (_, length) in variants.items():
        for etag, _ in variants.values():
            for method in ("GET", "HEAD"):
                what = f"{method} with {ae} and If-None-Match {etag}"
                st, pairs, rest = ctx.s.raw_request(
                    method, "/calendar.ics",
                    {"Accept-Encoding": ae, "If-None-Match": etag})
                check(st == 304, f"{what} -> {st}")
                check(lengths(pairs) in ([], [str(length)]),
                      f"{what}: Content-Length {lengths(pairs)}, "
                      f"the 200 has {length}")
                check(rest == b"", f"{what}: {len(rest)} bytes of body")


def t_query_filters():
    def count(q):
        st, h, body = ctx.s.get("/calendar.ics" + q)
        check(st == 200, f"{q} -> {st}: {body!r}")
        return events(body)
    check(count("?past_days=7") == 9, "past_days=7")
    check(count("?pastDays=7") == 9, "pastDays=7 (Sonarr)")
    check(count("?future_days=5") == 9, "future_days=5")
    check(count("?past_days=0&future_days=0") == 0, "empty window")
    check(count("?past_days=2&future_days=4") == 4, "window")
    check(count("?premieres_only=true") == 7, "premieres_only")
    check(count("?premieres_only") == 7, "bare premieres_only")
    check(count("?premieres_only=false") == 12, "premieres_only=false")
    check(count("?specials=false") == 11, "specials=false")
    check(count("?specials=true") == 12, "specials=true")
    check(count("?all_day=true&alarm=15") == 12, "all_day/alarm")
    check(count("?alarm=none&asAllDay=false") == 12, "alarm=none")
    _, _, body = ctx.s.get("/calendar.ics?alarm=15")
    check(body.count(b"BEGIN:VALARM\r\n") == 12 and
          b"TRIGGER:-PT15M\r\n" in body, "alarm=15 adds a reminder")
    _, _, body = ctx.s.get("/calendar.ics?alarm=none")
    check(b"BEGIN:VALARM" not in body, "alarm=none adds none")
    st, h, body = ctx.s.get("/alpha-show/season-1.ics?premieres_only=1")
    check(events(body) == 1 and b"S01E01" in body, "season + premieres")
    # Filtered feeds have their own validators.
    _, h1, _ = ctx.s.get("/calendar.ics?past_days=7")
    check(h1["etag"] != ctx.etag_all, "filtered feed shares the ETag")


def t_bad_parameters():
    cases = [
        ("past_days=-1", "past_days"), ("past_days=abc", "past_days"),
        ("past_days=", "past_days"), ("past_days=99999999", "past_days"),
        ("future_days=1.5", "future_days"),
        ("premieres_only=maybe", "premieres_only"),
        ("specials=2", "specials"), ("all_day=sometimes", "all_day"),
        ("alarm=soon", "alarm"), ("alarm=-5", "alarm"),
        ("pastdays=3", "pastdays"), ("colour=blue", "colour"),
        ("past_days=1&past_days=2", "past_days"),
    ]
    for q, name in cases:
        st, h, body = ctx.s.get("/calendar.ics?" + q)
        check(st == 400, f"{q} -> {st}")
        check(name.encode() in body, f"400 for {q} does not name {name}: "
              f"{body!r}")
        check(h["content-type"].startswith("text/plain"), "400 type")
    st, _, body = ctx.s.get("/?colour=blue")
    check(st == 400 and b"colour" in body, "page accepts unknown params")
    st, _, _ = ctx.s.get("/calendar.ics?" + "&".join(
        f"p{i}=1" for i in range(40)))
    check(st == 400, "too many parameters")


def t_access_log():
    ctx.s.get("/beta/season-1.ics?past_days=3", {"User-Agent": "Cal/1.0"})
    check(ctx.s.wait_log(r'"GET /beta/season-1\.ics\?past_days=3 HTTP/1\.1" '
                         r'200 \d+ "-" "Cal/1\.0"'), "no access-log line")
    line = [x for x in ctx.s.log_text().splitlines()
            if "/beta/season-1.ics?past_days=3" in x][-1]
    check(re.fullmatch(r'127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d '
                       r'\+0000\] "GET \S+ HTTP/1\.1" 200 \d+ "-" '
                       r'"Cal/1\.0"', line), f"log format: {line}")
    # Control characters cannot forge a log line.
    ctx.s.get("/x.ics", {"User-Agent": 'evil" 200 9\x01'})
    check(ctx.s.wait_log(r'"evil\\x22 200 9\\x01"'), "unescaped user agent")


def t_restart_keeps_bytes():
    paths = ["/calendar.ics", "/alpha-show.ics", "/beta/season-1.ics"]
    before = {p: ctx.s.get(p) for p in paths}
    check(ctx.s.stop() == 0, "exit status after SIGTERM")
    check("stopped" in ctx.s.log_text(), "no stop message")
    ctx.s = start("--refresh", "600")
    for p in paths:
        st, h, body = ctx.s.get(p)
        check(body == before[p][2] and h["etag"] == before[p][1]["etag"],
              f"{p} changed across a restart")


def t_state_keeps_stamps_per_event():
    """--state: a changed episode gets SEQUENCE+1 and a new DTSTAMP; the
    others keep theirs, across reloads and a restart."""
    from icalendar import Calendar
    d = tempfile.mkdtemp(prefix="epcal-serve-state-")
    state = os.path.join(d, "state")
    os.mkdir(state)
    csv = os.path.join(d, "s.csv")
    rows = [("Gamma", 1, n, f"Ep {n}", day(n)) for n in range(1, 5)]
    write_csv(csv, rows, T0)

    def stamps(body):
        cal = Calendar.from_ical(body)
        return {str(e["UID"]): (int(e.get("SEQUENCE", 0)),
                                e.decoded("DTSTAMP"), str(e.decoded("DTSTART")))
                for e in cal.walk("VEVENT")}

    s = Server(BINARY, ["--state", state, "s.csv"], cwd=d)
    try:
        _, _, first = s.get("/calendar.ics")
        before = stamps(first)
        check(len(before) == 4 and all(v[0] == 0 for v in before.values()),
              f"first render: {before}")
        rows[1] = ("Gamma", 1, 2, "Ep 2", day(40))
        write_csv(csv, rows, T0 + 120)
        after = before
        for _ in range(50):
            time.sleep(0.1)
            _, _, body = s.get("/calendar.ics")
            after = stamps(body)
            if after != before:
                break
        changed = [u for u in after if after[u] != before[u]]
        check(len(changed) == 1 and "s01e02" in changed[0], f"changed {changed}")
        u = changed[0]
        check(after[u][0] == 1 and after[u][1] != before[u][1],
              f"changed event: {before[u]} -> {after[u]}")
        check(os.listdir(state), "no state file written")
    finally:
        s.stop()
    s = Server(BINARY, ["--state", state, "s.csv"], cwd=d)
    try:
        _, _, again = s.get("/calendar.ics")
        check(again == body, "a restart with the same state changed the feed")
    finally:
        s.stop()
    shutil.rmtree(d)


def t_event_options():
    """generate's event and feed options apply to every served feed, and a
    bad value is a usage error at start-up."""
    d = tempfile.mkdtemp(prefix="epcal-serve-opts-")
    csv = os.path.join(d, "o.csv")
    with open(csv, "w") as f:
        f.write("show,season,episode,air_date,air_time,title\n"
                "Delta,1,1,2025-01-15,21:00,Timed\n"
                "Delta,1,2,2025-01-22,,All day\n")
    s = Server(BINARY, ["--timezone", "America/New_York", "--alarm", "-PT1H",
                        "--category", "Streaming", "--refresh", "7200",
                        "o.csv"], cwd=d)
    try:
        _, _, body = s.get("/calendar.ics")
        check(b"DTSTART;TZID=America/New_York:20250115T210000\r\n" in body,
              "timed event with --timezone")
        check(b"BEGIN:VTIMEZONE\r\n" in body, "VTIMEZONE")
        check(body.count(b"TRIGGER:-PT1H\r\n") == 2, "--alarm on every event")
        check(b"CATEGORIES:Streaming\r\n" in body, "--category")
        check(b"REFRESH-INTERVAL;VALUE=DURATION:PT2H\r\n" in body,
              "REFRESH-INTERVAL from --refresh")
        _, _, body = s.get("/calendar.ics?alarm=15")
        check(body.count(b"TRIGGER:-PT15M\r\n") == 2 and
              b"TRIGGER:-PT1H" not in body, "?alarm= replaces --alarm")
        _, _, body = s.get("/calendar.ics?all_day=true")
        check(b"TZID" not in body and b"DTSTART;VALUE=DATE:20250115" in body,
              "?all_day=true")
        parse_with_icalendar(body, 2)
    finally:
        s.stop()
    p = subprocess.run([BINARY, "serve", "--color", "notacolour", csv],
                       capture_output=True, timeout=20)
    check(p.returncode == 2 and b"notacolour" in p.stderr,
          f"bad --color: exit {p.returncode}, {p.stderr!r}")
    shutil.rmtree(d)


def t_shared_options():
    """serve reads its options as generate does: --encoding, durations as
    RFC 5545 or as seconds, and messages that start with "epcal:"."""
    d = tempfile.mkdtemp(prefix="epcal-serve-shared-")
    try:
        shared_options_in(d)
    finally:
        shutil.rmtree(d)


def shared_options_in(d):
    csv = os.path.join(d, "w.csv")
    with open(csv, "wb") as f:
        f.write("show,season,episode,air_date,title\n"
                "Caf\u00e9,1,1,2025-01-15,D\u00e9j\u00e0 vu\n"
                .encode("cp1252"))
    s = Server(BINARY, ["--encoding", "WINDOWS-1252", "--refresh", "PT30M",
                        "--timeout", "PT1M", "w.csv"], cwd=d)
    try:
        status, hdrs, body = s.get("/calendar.ics")
        check(status == 200 and "D\u00e9j\u00e0 vu".encode() in body,
              "--encoding WINDOWS-1252")
        check("max-age=1800" in hdrs.get("cache-control", ""),
              f"--refresh PT30M: {hdrs.get('cache-control')}")
        check(b"REFRESH-INTERVAL;VALUE=DURATION:PT30M\r\n" in body,
              "REFRESH-INTERVAL from --refresh PT30M")
    finally:
        s.stop()
    p = subprocess.run([BINARY, "serve", "--listen", "127.0.0.1:0", csv],
                       capture_output=True, timeout=20)
    check(p.returncode == 1, f"cp1252 bytes without --encoding: exit "
          f"{p.returncode}")
    for args, what in ((["--refresh", "soon"], b"--refresh"),
                       (["--timeout", "P1D"], b"--timeout"),
                       (["--no-such-option"], b"--no-such-option")):
        p = subprocess.run([BINARY, "serve"] + args + [csv],
                           capture_output=True, timeout=20)
        check(p.returncode == 2 and p.stderr.startswith(b"epcal: ") and
              what in p.stderr and
              p.stderr.endswith(b"Try 'epcal serve --help'.\n"),
              f"serve {args}: exit {p.returncode}, {p.stderr!r}")


def t_reload_and_invalid_edit():
    s = ctx.s
    a = os.path.join(ctx.dir, "a.csv")
    _, ha, ba = s.get("/alpha-show.ics")
    _, hb, bb = s.get("/beta.ics")
    # An edit to a.csv: the next request after a second serves it.
    rows = [r if r[3] != "Second" else r[:3] + ("Renamed", r[4])
            for r in A_ROWS]
    write_csv(a, rows, T0 + 60)
    time.sleep(1.2)
    st, ha2, ba2 = s.get("/alpha-show.ics")
    check(b"Renamed" in ba2, "edit not served")
    check(ha2["etag"] != ha["etag"], "ETag did not change")
    check(content_stamp_ok(ba2) and stamps_of(ba2) != stamps_of(ba),
          "DTSTAMP did not move")
    check(s.wait_log(r"reloaded: 5 shows, 12 events"), "no reload log line")
    # Beta's feed did not change: same bytes and ETag.
    st, hb2, bb2 = s.get("/beta.ics")
    check(bb2 == bb and hb2["etag"] == hb["etag"],
          "an unchanged feed changed after another show's edit")
    st, _, _ = s.get("/beta.ics", {"If-None-Match": hb["etag"]})
    check(st == 304, "unchanged feed not 304 after reload")

    # A changed file with an older mtime: still a new feed.
    write_csv(a, [r for r in rows if r[3] != "Finale"], T0 - 500)
    time.sleep(1.2)
    st, ha3, ba3 = s.get("/alpha-show.ics")
    check(events(ba3) == 6, "second edit not served")
    check(ha3["etag"] != ha2["etag"] and stamps_of(ba3) != stamps_of(ba2),
          "second edit kept the ETag or DTSTAMP")

    # An invalid edit: logged with file:line:column, last good data served.
    with open(a, "w", encoding="utf-8") as f:
        f.write("show,season,episode,title,air_date\n")
        f.write(f"Alpha Show,1,1,Pilot,{day(-20)}\n")
        f.write("Alpha Show,1,2,Broken,2024-02-30\n")
    time.sleep(1.2)
    st, ha4, ba4 = s.get("/alpha-show.ics")
    check(st == 200 and ba4 == ba3 and ha4["etag"] == ha3["etag"],
          "invalid edit reached subscribers")
    check(s.wait_log(r"a\.csv:3:\d+: .*still serving the previous data"),
          "invalid edit not logged with file:line:column")
    st, _, body = s.get("/calendar.ics")
    check(st == 200 and events(body) == 11, "all feed after invalid edit")
    # Logged once, not on every request.
    time.sleep(1.2)
    s.get("/alpha-show.ics")
    check(s.log_text().count("still serving the previous data") == 1,
          "the same invalid file was reported more than once")
    # A new, never-cached feed still comes from the last good data.
    st, _, body = s.get("/alpha-show/season-1.ics?premieres_only=true")
    check(st == 200 and b"Broken" not in body and events(body) == 1,
          "new feed rendered from invalid data")

    # Fixed again: served.
    write_csv(a, A_ROWS, T0 + 120)
    time.sleep(1.2)
    st, ha5, ba5 = s.get("/alpha-show.ics")
    check(events(ba5) == 7 and b"Second" in ba5, "fix not served")
    # A deleted input is an error too: the last good data stays.
    os.rename(a, a + ".moved")
    time.sleep(1.2)
    st, ha6, ba6 = s.get("/alpha-show.ics")
    check(st == 200 and ba6 == ba5, "missing input broke the feed")
    check(s.wait_log(r"a\.csv: cannot open: .*still serving"), "not logged")
    os.rename(a + ".moved", a)


def t_token():
    token = "s3cret-T0ken+/="
    s = Server(BINARY, ["a.csv", "b.csv"], env={"EPCAL_TOKEN": token},
               cwd=ctx.dir)
    try:
        from urllib.parse import quote
        q = quote(token, safe="")
        for path in ("/", "/calendar.ics", "/beta.ics", "/nope.ics"):
            st, h, _ = s.get(path)
            check(st == 401, f"{path} without token -> {st}")
            check("www-authenticate" in h, "401 without WWW-Authenticate")
            st, _, _ = s.get(path + "?token=wrong")
            check(st == 401, f"{path} wrong token -> {st}")
            st, _, _ = s.get(path + "?token=" + q[:-3])
            check(st == 401, f"{path} token prefix -> {st}")
        st, h, body = s.get("/calendar.ics?token=" + q)
        check(st == 200 and events(body) == 12, f"right token -> {st}")
        check(h["cache-control"].startswith("private"), "private feed cached "
              "publicly")
        st, _, _ = s.get("/nope.ics?token=" + q)
        check(st == 404, "404 with token")
        st, _, body = s.get("/calendar.ics?past_days=x&token=" + q)
        check(st == 400, "400 with token")
        st, _, body = s.get("/calendar.ics",
                            {"Authorization": "Bearer " + token})
        check(st == 200, "Bearer token")
        st, _, body = s.get("/?token=" + q)
        check(st == 200 and ("/beta.ics?token=" + q).encode() in body,
              "page links lack the token")
        check(s.wait_log(r"token=REDACTED"), "token not redacted")
        time.sleep(0.2)
        check(token not in s.log_text() and q not in s.log_text(),
              "the token was logged")
    finally:
        check(s.stop(signal.SIGINT) == 0, "exit status after SIGINT")
    # --token on the command line works the same.
    s = Server(BINARY, ["--token", "abc", "a.csv"], cwd=ctx.dir)
    try:
        check(s.get("/calendar.ics")[0] == 401, "--token ignored")
        check(s.get("/calendar.ics?token=abc")[0] == 200, "--token refused")
    finally:
        s.stop()


def t_limits_and_shutdown():
    # One thread: libmicrohttpd splits the connection limit between threads.
    s = Server(BINARY, ["--threads", "1", "--timeout", "2",
                        "--max-connections", "2", "a.csv"], cwd=ctx.dir)
    try:
        # A client that sends nothing is dropped after the timeout.
        idle = socket.create_connection((s.host, s.port))
        idle.settimeout(5)
        t = time.time()
        check(idle.recv(100) == b"", "idle connection got data")
        check(time.time() - t < 5, "idle connection kept too long")
        idle.close()
        # Two slow clients hold every slot: a third is turned away at
        # once (never answered), and served again once a slot is free.
        # (A slot freed a moment ago may still count until the server has
        # tidied it up: a slow client turned away is replaced.)
        def still_open(c):
            c.settimeout(0.2)
            try:
                return c.recv(1) != b""
            except socket.timeout:
                return True
            except OSError:
                return False
        slow = []
        for _ in range(20):
            if len(slow) == 2:
                break
            c = socket.create_connection((s.host, s.port))
            c.sendall(b"GET /calendar.ics HTTP/1.1\r\n")  # never finished
            if still_open(c):
                slow.append(c)
            else:
                c.close()
                time.sleep(0.2)
        check(len(slow) == 2, "two slow clients could not connect")
        third = socket.create_connection((s.host, s.port))
        third.settimeout(5)
        try:
            third.sendall(b"GET /calendar.ics HTTP/1.1\r\nHost: x\r\n\r\n")
            got = third.recv(100)
        except (ConnectionResetError, BrokenPipeError):
            got = b""
        check(got == b"", f"connection limit ignored: {got!r}")
        third.close()
        for c in slow:
            c.close()
        time.sleep(1.5)
        check(s.get("/calendar.ics")[0] == 200, "server did not recover")
        # Oversized requests are refused, not buffered.
        big = "x" * 40000
        try:
            st, _, _ = s.get("/calendar.ics", {"X-Big": big})
        except (ConnectionResetError, BrokenPipeError,
                ConnectionAbortedError):
            st = 0
        except Exception as e:  # http.client.RemoteDisconnected
            st = 0 if "closed" in str(e).lower() or "disconnect" in str(
                e).lower() else -1
        check(st in (0, 413, 414, 431), f"oversized request -> {st}")
        try:
            st, _, _ = s.get("/" + "a" * 40000 + ".ics")
        except Exception:
            st = 0
        check(st in (0, 413, 414, 431), f"oversized URL -> {st}")
        # A body on GET is refused.
        c = socket.create_connection((s.host, s.port))
        c.settimeout(5)
        c.sendall(b"GET /calendar.ics HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 5\r\n\r\nhello")
        check(c.recv(100).startswith(b"HTTP/1.1 413"), "GET with a body")
        c.close()
        # SIGTERM with an idle keep-alive connection open: prompt exit 0.
        keep = socket.create_connection((s.host, s.port))
        keep.sendall(b"GET /calendar.ics HTTP/1.1\r\nHost: x\r\n\r\n")
        keep.settimeout(5)
        check(keep.recv(20).startswith(b"HTTP/1.1 200"), "keep-alive GET")
        t = time.time()
        code = s.stop()
        check(code == 0, f"exit {code} after SIGTERM")
        check(time.time() - t < 5, "shutdown waited for an idle connection")
        keep.close()
    finally:
        if s.proc.poll() is None:
            s.stop()


def t_shutdown_finishes_in_flight():
    # A feed far larger than the socket buffers, read slowly: SIGTERM must
    # wait for it to be sent whole.
    big = os.path.join(ctx.dir, "big.csv")
    write_csv(big, [("Long Runner", 1 + i // 1000, 1 + i % 1000,
                     "An episode title long enough to take some room " * 2,
                     day(i % 3000)) for i in range(40000)], T0)
    s = Server(BINARY, ["big.csv"], cwd=ctx.dir)
    try:
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.connect((s.host, s.port))
        c.settimeout(30)
        c.sendall(b"GET /calendar.ics HTTP/1.1\r\nHost: x\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += c.recv(1024)
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        check(length > 8_000_000, f"feed too small for the test: {length}")
        got = len(head.split(b"\r\n\r\n", 1)[1])
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        check(s.proc.poll() is None, "exited before the response was sent")
        while got < length:
            chunk = c.recv(65536)
            check(chunk, f"connection closed after {got} of {length} bytes")
            got += len(chunk)
        c.close()
        check(s.stop() == 0, "exit status after finishing in-flight work")
    finally:
        if s.proc.poll() is None:
            s.stop()
        os.unlink(big)


def t_startup_errors():
    bad = os.path.join(ctx.dir, "bad.csv")
    with open(bad, "w") as f:
        f.write("show,season,episode,title,air_date\nX,1,1,T,2022-13-01\n")

    def run(args):
        env = dict(os.environ)
        env.pop("EPCAL_TOKEN", None)
        return subprocess.run([BINARY, "serve", "--listen", "127.0.0.1:0"]
                              + args, capture_output=True, cwd=ctx.dir,
                              timeout=20, env=env)
    p = run(["bad.csv"])
    check(p.returncode == 1, f"invalid data -> exit {p.returncode}")
    check(re.match(rb"epcal: bad\.csv:2:\d+: ", p.stderr), p.stderr)
    p = run(["missing.csv"])
    check(p.returncode == 3 and b"missing.csv" in p.stderr, "missing input")
    p = run([])
    check(p.returncode == 2, "no input")
    p = run(["-"])
    check(p.returncode == 2, "standard input")
    p = run(["--threads", "4", "--max-connections", "2", "a.csv"])
    check(p.returncode == 2 and b"--max-connections" in p.stderr, p.stderr)
    p = run(["--refresh", "-3", "a.csv"])
    check(p.returncode == 2 and b"--refresh" in p.stderr, p.stderr)
    p = subprocess.run([BINARY, "serve", "--listen", "nonsense", "a.csv"],
                       capture_output=True, cwd=ctx.dir, timeout=20)
    check(p.returncode == 2 and b"--listen" in p.stderr, p.stderr)
    p = subprocess.run([BINARY, "serve", "--help"], capture_output=True,
                       timeout=20)
    check(p.returncode == 0 and b"Usage: epcal serve" in p.stdout, "--help")


def main():
    global BINARY
    BINARY = os.path.abspath(sys.argv[1])
    setup_data()
    ctx.stems = split_paths(["a.csv", "b.csv"], ctx.dir)
    try:
        ctx.s = start("--refresh", "600")
        try:
            for fn in (t_page, t_calendar_headers, t_show_and_season_routes,
                       t_not_found, t_method_not_allowed, t_head,
                       t_conditional, t_gzip, t_not_modified_length,
                       t_query_filters, t_bad_parameters, t_access_log,
                       t_restart_keeps_bytes, t_reload_and_invalid_edit):
                test(fn)
        finally:
            if ctx.s.proc.poll() is None:
                code = ctx.s.stop()
                check(code == 0, f"exit {code}")
        for fn in (t_state_keeps_stamps_per_event, t_event_options,
                   t_shared_options, t_token,
                   t_limits_and_shutdown,
                   t_shutdown_finishes_in_flight, t_startup_errors):
            test(fn)
    except AssertionError as e:
        print(f"FAIL: {e}")
        print(f"{len(PASSED)} passed, 1 failed")
        if getattr(ctx, "s", None) is not None:
            print("--- server log ---\n" + ctx.s.log_text()[-3000:])
        return 1
    finally:
        shutil.rmtree(ctx.dir, ignore_errors=True)
    print(f"{len(PASSED)} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
