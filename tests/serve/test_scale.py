#!/usr/bin/python3
"""`epcal serve` on a large catalogue: "my shows" feeds (the union of their
shows' events, by an independent parser; one feed for a set in any order;
a bounded number of shows), the page at 10,000 shows (every page under
200 KB, every show reachable through it, its search working without
JavaScript in headless Chromium, ETag/304), a whole catalogue over the feed
limit (streamed, chunked: every event; with --no-stream 413 naming what to
ask for; never 500), and show paths that stay put across restarts with
--state, as split's do.

Usage: test_scale.py EPCAL_BINARY
"""
import html.parser
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serverlib import Server  # noqa: E402

BINARY = None
PASSED = []
PAGE_LIMIT = 200 * 1024


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def test(fn):
    fn()
    PASSED.append(fn.__name__)
    print(f"ok: {fn.__name__}")


def write_catalogue(path, shows, seasons, episodes):
    """Shows in a shuffled order of rows, some names sharing a slug."""
    rng = random.Random(16)
    names = [f"Show {i:05d}" for i in range(shows)]
    names[1] = "Show 00000!"  # the slug of "Show 00000"
    rows = []
    for n, name in enumerate(names):
        for se in range(1, seasons + 1):
            for ep in range(1, episodes + 1):
                day = 1 + (n + se * 7 + ep) % 28
                month = 1 + (n + se) % 12
                rows.append(f"\"{name}\",{se},{ep},Episode {ep},"
                            f"20{20 + se % 10}-{month:02d}-{day:02d}")
    rng.shuffle(rows)
    with open(path, "w", encoding="utf-8") as f:
        f.write("show,season,episode,title,air_date\n")
        f.write("\n".join(rows) + "\n")
    return names


def events_of(body):
    from icalendar import Calendar
    cal = Calendar.from_ical(body)
    return cal, {(str(e["UID"]), str(e["SUMMARY"]),
                  str(e.decoded("DTSTART"))) for e in cal.walk("VEVENT")}


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.shows = []  # plain links to a show's feed
        self.pages = []  # links to pages of the list

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        href = a.get("href", "")
        if tag == "a" and a.get("class") == "plain" and href != \
                "/calendar.ics":
            self.shows.append(href)
        elif tag == "a" and href.startswith("/?"):
            self.pages.append(href.replace("&amp;", "&"))


class Ctx:
    pass


ctx = Ctx()


def t_my_shows():
    s = ctx.small
    stems = ctx.small_stems
    pick = [stems[n] for n in ("Show 00003", "Show 00000", "Show 00000!",
                               "Show 00011", "Show 00007")]
    union = set()
    for stem in pick:
        st, _, body = s.get(f"/{stem}.ics")
        check(st == 200, f"/{stem}.ics -> {st}")
        union |= events_of(body)[1]
    st, h, body = s.get("/calendar.ics?shows=" + ",".join(pick))
    check(st == 200, f"my shows -> {st}: {body[:200]!r}")
    cal, mine = events_of(body)
    check(len(union) == 5 * 3 * 2 and mine == union,
          f"my shows: {len(mine)} events, the shows have {len(union)}")
    check(body.count(b"BEGIN:VEVENT") == len(union), "an event twice")
    check(h["content-disposition"] == 'inline; filename="my-shows.ics"',
          h["content-disposition"])
    # The same set in any order, repeats included: the same feed.
    for order in (pick[::-1], sorted(pick), pick + pick[:2]):
        st, h2, b2 = s.get("/calendar.ics?shows=" + ",".join(order))
        check(st == 200 and b2 == body and h2["etag"] == h["etag"],
              f"order {order} gives another feed")
    st, _, _ = s.get("/calendar.ics?shows=" + ",".join(order),
                     {"If-None-Match": h["etag"]})
    check(st == 304, "my shows: 304")
    # Filters apply to the set.
    st, _, b3 = s.get("/calendar.ics?shows=" + ",".join(pick) +
                      "&premieres_only=true")
    check(st == 200 and len(events_of(b3)[1]) == 5 * 2, "premieres_only")
    # Bounded, and clear about it.
    many = ",".join(stems[f"Show {i:05d}"] for i in range(2, 53))
    st, _, msg = s.get("/calendar.ics?shows=" + many)
    check(st == 400 and b"at most 50" in msg, f"51 shows -> {st} {msg!r}")
    st, _, msg = s.get("/calendar.ics?shows=" + pick[0] + ",no-such-show")
    check(st == 404 and b"no-such-show" in msg, f"unknown show -> {st}")
    for q in ("shows=", "shows=,,"):
        st, _, _ = s.get("/calendar.ics?" + q)
        check(st == 400, f"{q} -> {st}")
    st, _, _ = s.get(f"/{pick[0]}.ics?shows={pick[1]}")
    check(st == 400, "shows= on a show's feed")


def t_whole_catalogue_streamed():
    """Past --max-feed-events, /calendar.ics is rendered while it is sent
    (chunked): the same events as every show's feed together, one ETag on
    every request, 304 for it; with --no-stream, 413."""
    s = ctx.small
    st, pairs, body = s.raw_request("GET", "/calendar.ics")
    h = {k.lower(): v for k, v in pairs}
    check(st == 200 and h.get("transfer-encoding") == "chunked" and
          "content-length" not in h, f"not streamed: {st} {h}")
    # De-chunk by hand: raw_request gives the bytes as sent.
    data, rest = b"", body
    while True:
        size, _, rest = rest.partition(b"\r\n")
        n = int(size, 16)
        if n == 0:
            break
        data, rest = data + rest[:n], rest[n + 2:]
    _, got = events_of(data)
    union = set()
    for stem in ctx.small_stems.values():
        union |= events_of(s.get(f"/{stem}.ics")[2])[1]
    check(len(got) == 60 * 2 * 3 and got == union,
          f"streamed {len(got)} events, the shows have {len(union)}")
    check(len(stamps(data)) == 1, "one DTSTAMP for the whole stream")
    st2, h2, body2 = s.get("/calendar.ics")
    check(body2 == data and h2["etag"] == h["etag"], "a second stream differs")
    st3, _, _ = s.get("/calendar.ics", {"If-None-Match": h["etag"]})
    check(st3 == 304, f"stream: If-None-Match -> {st3}")
    # A window past the limit streams too; the same window under it renders
    # in memory, with the same events.
    st4, _, win = s.get("/calendar.ics?past_days=36500&future_days=36500")
    check(st4 == 200 and events_of(win)[1] == union, "window stream")
    n = Server(BINARY, ["--no-stream", "--max-feed-events", "100",
                        "small.csv"], cwd=ctx.work)
    try:
        st5, _, msg = n.get("/calendar.ics")
        check(st5 == 413 and b"shows=" in msg and b"100 events" in msg,
              f"--no-stream: {st5} {msg!r}")
    finally:
        n.stop()


def stamps(body):
    return set(re.findall(rb"\r\nDTSTAMP:(\w+)\r\n", body))


def t_page_at_10000_shows():
    s = ctx.big
    n = len(ctx.big_names)
    seen, pages, todo = set(), set(), ["/"]
    sizes = []
    while todo:
        url = todo.pop()
        if url in pages:
            continue
        pages.add(url)
        st, h, body = s.get(url)
        check(st == 200, f"{url} -> {st}")
        sizes.append(len(body))
        check(len(body) < PAGE_LIMIT, f"{url}: {len(body)} bytes")
        p = Links()
        p.feed(body.decode("utf-8"))
        seen.update(p.shows)
        todo.extend(u for u in p.pages if u not in pages)
    check(len(seen) == n, f"{len(seen)} shows reachable of {n}")
    # The shows' links are their feeds, in name order across the pages.
    check(all(re.fullmatch(r"/show-\d{5}(-[0-9a-f]{8})?\.ics", u)
              for u in seen), "odd show links")
    st, h, body = s.get("/?page=3")
    st2, _, body2 = s.get("/?page=3", {"If-None-Match": h["etag"]})
    check(st2 == 304 and body2 == b"", "page: no 304 for its ETag")
    st, _, _ = s.get("/?page=0")
    check(st == 400, "page=0")
    print(f"   {len(pages)} pages, {min(sizes)}-{max(sizes)} bytes each")


def t_page_search_in_chromium():
    chromium = next((shutil.which(c) for c in ("chromium", "chromium-browser")
                     if shutil.which(c)), None)
    if chromium is None:
        print("   (Chromium is not installed: skipped)")
        return
    s = ctx.big
    target = ctx.big_names[7777]
    profile = tempfile.mkdtemp(prefix="epcal-scale-browser-")
    try:
        for query, want in ((target.replace(" ", "+"), [target]),
                            ("show+0000", ctx.big_names[:10])):
            url = f"http://127.0.0.1:{s.port}/?q={query}"
            p = subprocess.run(
                [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run",
                 "--disable-sync", "--disable-extensions",
                 f"--user-data-dir={profile}", "--dump-dom", url],
                capture_output=True, timeout=120)
            check(p.returncode == 0 and b"</html>" in p.stdout,
                  f"chromium exit {p.returncode}: {p.stderr[-500:]!r}")
            dom = p.stdout.decode("utf-8")
            found = re.findall(r'<tr class="show" id="[^"]+"><td>([^<]+)</td>',
                               dom)
            check(found == want, f"search {query}: {found}")
            check('name="q"' in dom, "no search box")
            # No script at all (and the page's CSP would refuse one): the
            # search is the form's plain GET.
            check("<script" not in dom, "the page has a script")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def t_whole_catalogue_limit():
    s = ctx.big
    st, h, body = s.get("/calendar.ics")
    check(st == 200 and body.count(b"BEGIN:VEVENT") == 200000,
          f"/calendar.ics of 200,000 events -> {st}")
    check(body.endswith(b"END:VCALENDAR\r\n"), "stream cut short")
    st, _, body = s.get("/calendar.ics?past_days=3&future_days=3")
    check(st == 200 and body.count(b"BEGIN:VEVENT") > 0, f"a week -> {st}")


def t_stream_outlives_reload():
    """A stream keeps the data it started with: the input replaced and
    reloaded while /calendar.ics is being sent, the stream still ends with
    every event of the old data (its snapshot stays open until the stream's
    reference goes), and the next request sees the new data."""
    import http.client
    import time
    s = ctx.big
    c = http.client.HTTPConnection(s.host, s.port, timeout=60)
    c.request("GET", "/calendar.ics")
    r = c.getresponse()
    head = r.read(1 << 20)  # the stream is well under way, not finished
    check(r.status == 200 and len(head) == 1 << 20, f"stream -> {r.status}")
    big = os.path.join(ctx.work, "big.csv")
    with open(big, encoding="utf-8") as f:
        text = f.read()
    tmp = big + ".new"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text + '"Late Show",1,1,Pilot,2030-01-01\n')
    os.rename(tmp, big)
    deadline = time.monotonic() + 60
    while "reloaded" not in s.log_text() and time.monotonic() < deadline:
        time.sleep(1.2)  # the inputs are checked at most once a second
        s.get("/late-show.ics")
    check("reloaded" in s.log_text(), "no reload")
    body = head + r.read()
    c.close()
    check(body.count(b"BEGIN:VEVENT") == 200000 and
          body.endswith(b"END:VCALENDAR\r\n") and b"Late Show" not in body,
          f"the stream across a reload: {body.count(b'BEGIN:VEVENT')} events")
    st, _, feed = s.get("/late-show.ics")
    check(st == 200 and b"SUMMARY:Late Show" in feed, f"new data -> {st}")


def t_paths_stay_with_state():
    """Café first; then Cafe, in rows before Café's: with --state, serve
    keeps /cafe.ics on Café as split does with its index.json."""
    d = tempfile.mkdtemp(prefix="epcal-scale-state-")
    try:
        csv = os.path.join(d, "s.csv")
        state = os.path.join(d, "state")
        out = os.path.join(d, "split")
        os.mkdir(state)

        def write(rows):
            with open(csv, "w", encoding="utf-8") as f:
                f.write("show,season,episode,title,air_date\n")
                f.write("".join(f"{r},1,1,T,2026-01-0{i + 1}\n"
                                for i, r in enumerate(rows)))

        def split_stems():
            subprocess.run([BINARY, "generate", "--split", "show",
                            "--output-dir", out, csv], check=True,
                           timeout=30, capture_output=True)
            with open(os.path.join(out, "index.json"), encoding="utf-8") as f:
                return {x["show"]: x["path"] for x in json.load(f)["feeds"]}

        def serve_stems(extra):
            s = Server(BINARY, extra + [csv], cwd=d)
            try:
                _, _, page = s.get("/")
                got = {}
                for name, path in re.findall(
                        r'<tr class="show" id="[^"]+"><td>([^<]+)</td>.*?'
                        r'class="plain" href="/([^"?]+)"', page.decode()):
                    got[name] = path
                for name, path in got.items():
                    _, _, body = s.get("/" + path)
                    check(f"X-WR-CALNAME:{name}".encode() in body,
                          f"/{path} is not {name}")
                return got
            finally:
                s.stop()

        write(["Café"])
        first = split_stems()
        check(first == {"Café": "cafe.ics"}, f"split: {first}")
        check(serve_stems(["--state", state]) == first, "serve != split")
        write(["Cafe", "Café"])
        second = split_stems()
        check(second["Café"] == "cafe.ics" and
              re.fullmatch(r"cafe-[0-9a-f]{8}\.ics", second["Cafe"]),
              f"split moved Café: {second}")
        check(serve_stems(["--state", state]) == second,
              "serve with --state does not agree with split")
        # Without the state, the first show met takes the plain slug (and
        # a fresh split agrees).
        fresh = serve_stems([])
        check(fresh["Cafe"] == "cafe.ics", f"without state: {fresh}")
        shutil.rmtree(out)
        check(split_stems() == fresh, "fresh split != serve")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    global BINARY
    BINARY = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="epcal-scale-test-")
    ctx.small = ctx.big = None
    try:
        small = os.path.join(work, "small.csv")
        write_catalogue(small, 60, 2, 3)
        ctx.work = work
        ctx.small = Server(BINARY, ["--max-feed-events", "100", "small.csv"],
                           cwd=work)
        ctx.small_stems = {}
        for p in (1, 2, 3):  # 25 shows a page
            _, _, page = ctx.small.get(f"/?page={p}")
            ctx.small_stems.update({v: k for k, v in re.findall(
                r'<tr class="show" id="([^"]+)"><td>([^<]+)</td>',
                page.decode())})
        check(len(ctx.small_stems) == 60, f"{len(ctx.small_stems)} stems")
        test(t_my_shows)
        test(t_whole_catalogue_streamed)
        ctx.small.stop()

        big = os.path.join(work, "big.csv")
        ctx.big_names = sorted(write_catalogue(big, 10000, 20, 1),
                               key=lambda x: (x.lower(), x))
        ctx.big = Server(BINARY, ["--max-feed-events", "20000", "big.csv"],
                         cwd=work)
        for fn in (t_page_at_10000_shows, t_page_search_in_chromium,
                   t_whole_catalogue_limit, t_stream_outlives_reload):
            test(fn)
        ctx.big.stop()
        test(t_paths_stay_with_state)
    except AssertionError as e:
        print(f"FAIL: {e}")
        print(f"{len(PASSED)} passed, 1 failed")
        for s in (ctx.small, ctx.big):
            if s is not None:
                print("--- server log ---\n" + s.log_text()[-2000:])
        return 1
    finally:
        for s in (ctx.small, ctx.big):
            if s is not None and s.proc.poll() is None:
                s.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(PASSED)} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
